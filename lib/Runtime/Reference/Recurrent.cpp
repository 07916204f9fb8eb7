//===- Recurrent.cpp - Reference embedding, LSTM and RNN ------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Caffe's RNNLayer: see RnnKernel.
//
// Caffe's EmbedLayer: row lookup (forward) and the scatter-add of the
// output gradients into the picked rows (backward); indices get no gradient.
//
// Caffe's LSTMLayer forward (the unrolled net of lstm_layer.cpp with
// LSTMUnit steps): for each t and sequence n
//   a   = W_xc x_t + b_c + W_xc_static x_static + W_hc (cont_t * h_{t-1})
//   i,f,o,g = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o), tanh(a_g)
//   c_t = (cont_t == 0 ? 0 : cont_t * f) * c_{t-1} + i * g
//   h_t = o * tanh(c_t)
// with h_0 = c_0 = 0. The output is h for every step: [T, N, H].
//
// lstm_grad backpropagates through time (the gradients of the unrolled net):
// it reruns the forward in double keeping every step's gates and cell, then
// walks t = T-1 .. 0 carrying dh and dc to the previous step. cont gets no
// gradient.
//
// With dl.lstm's mask (dl-skip-masked-steps), dead steps
// (ops::lstmLiveSteps) are skipped: their output is 0 and so is everything
// that flows through them, forward and backward.
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"
#include "dlc/Ops/Geometry.h"

#include <cmath>
#include <optional>

namespace dlc::rt::ref {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

class EmbedKernel : public RefKernel {
public:
  EmbedKernel(std::string prefix, int64_t m, int64_t n, int64_t k, bool bias)
      : prefix_(std::move(prefix)), m_(m), n_(n), k_(k), bias_(bias) {}
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *w = in[1], *b = bias_ ? in[2] : nullptr;
    float *y = out[0];
    for (int64_t i = 0; i < m_; ++i) {
      float v = x[i];
      if (!(v >= 0.0f && v < float(k_)) || std::floor(v) != v)
        throw Error(prefix_ + "index " + std::to_string(v) + " at position " +
                    std::to_string(i) + " is not an integer in [0, " +
                    std::to_string(k_) + ")");
      int64_t idx = static_cast<int64_t>(v);
      for (int64_t j = 0; j < n_; ++j) {
        double acc = double(w[idx * n_ + j]);
        if (b)
          acc += double(b[j]);
        y[i * n_ + j] = static_cast<float>(acc);
      }
    }
  }

private:
  std::string prefix_;
  int64_t m_, n_, k_;
  bool bias_;
};


/// Gradients of embed for the weight (rows picked by the indices get the
/// sum of their output gradients) and the bias; indices get none.
class EmbedGradKernel : public RefKernel {
public:
  EmbedGradKernel(std::string prefix, int64_t m, int64_t n, int64_t k, bool bias, int outW,
                  int outB)
      : prefix_(std::move(prefix)), m_(m), n_(n), k_(k), bias_(bias), outW_(outW),
        outB_(outB) {}
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *dy = in[bias_ ? 4 : 3];
    if (outW_ >= 0) {
      std::vector<double> dw(k_ * n_, 0.0);
      for (int64_t i = 0; i < m_; ++i) {
        float v = x[i];
        if (!(v >= 0.0f && v < float(k_)) || std::floor(v) != v)
          throw Error(prefix_ + "index " + std::to_string(v) + " at position " +
                      std::to_string(i) + " is not an integer in [0, " +
                      std::to_string(k_) + ")");
        int64_t idx = static_cast<int64_t>(v);
        for (int64_t j = 0; j < n_; ++j)
          dw[idx * n_ + j] += dy[i * n_ + j];
      }
      for (int64_t i = 0; i < k_ * n_; ++i)
        out[outW_][i] = static_cast<float>(dw[i]);
    }
    if (outB_ >= 0)
      sumRows(dy, m_, n_, out[outB_]);
  }

private:
  std::string prefix_;
  int64_t m_, n_, k_;
  bool bias_;
  int outW_, outB_;
};


class LstmKernel : public RefKernel {
public:
  explicit LstmKernel(const ops::RecurrentGeometry &g) : g_(g) {}

  void forward(const float *const *in, float *const *out) override {
    const int64_t t_ = g_.t, n_ = g_.n, i_ = g_.in, is_ = g_.inStatic, h_ = g_.h;
    const bool static_ = g_.xStatic >= 0;
    const float *x = in[0], *cont = in[1];
    const float *xs = static_ ? in[g_.xStatic] : nullptr;
    const float *wxc = in[g_.firstWeight], *bc = in[g_.firstWeight + 1];
    const float *wxs = static_ ? in[g_.wStatic] : nullptr;
    const float *whc = in[static_ ? g_.wStatic + 1 : g_.firstWeight + 2];
    std::vector<uint8_t> live;
    ops::lstmLiveSteps(cont, g_.mask >= 0 ? in[g_.mask] : nullptr, t_, n_, live);
    float *y = out[0];
    int64_t g4 = 4 * h_;
    // Constant per-sequence contribution: b_c + W_xc_static x_static.
    std::vector<double> base(n_ * g4);
    for (int64_t n = 0; n < n_; ++n)
      for (int64_t r = 0; r < g4; ++r) {
        double acc = bc[r];
        if (static_)
          for (int64_t k = 0; k < is_; ++k)
            acc += double(wxs[r * is_ + k]) * double(xs[n * is_ + k]);
        base[n * g4 + r] = acc;
      }
    std::vector<double> h(n_ * h_, 0.0), c(n_ * h_, 0.0), gates(g4);
    for (int64_t t = 0; t < t_; ++t)
      for (int64_t n = 0; n < n_; ++n) {
        double ct = cont[t * n_ + n];
        const float *xt = x + (t * n_ + n) * i_;
        double *hn = &h[n * h_], *cn = &c[n * h_];
        if (!live[size_t(t * n_ + n)]) {
          // A dead step (dl.lstm's mask): output and state 0.
          std::fill(hn, hn + h_, 0.0);
          std::fill(cn, cn + h_, 0.0);
          std::fill(y + (t * n_ + n) * h_, y + (t * n_ + n + 1) * h_, 0.0f);
          continue;
        }
        for (int64_t r = 0; r < g4; ++r) {
          double acc = base[n * g4 + r];
          for (int64_t k = 0; k < i_; ++k)
            acc += double(wxc[r * i_ + k]) * double(xt[k]);
          for (int64_t k = 0; k < h_; ++k)
            acc += double(whc[r * h_ + k]) * (ct * hn[k]);
          gates[r] = acc;
        }
        for (int64_t d = 0; d < h_; ++d) {
          double ig = sigmoid(gates[d]);
          double fg = ct == 0.0 ? 0.0 : ct * sigmoid(gates[h_ + d]);
          double og = sigmoid(gates[2 * h_ + d]);
          double gg = std::tanh(gates[3 * h_ + d]);
          cn[d] = fg * cn[d] + ig * gg;
          hn[d] = og * std::tanh(cn[d]);
          y[(t * n_ + n) * h_ + d] = static_cast<float>(hn[d]);
        }
      }
  }

private:
  ops::RecurrentGeometry g_;
};

/// Gradients of lstm with respect to x, x_static, w_xc, b_c, w_xc_static and
/// w_hc (any subset). Inputs: the forward operands, y, dy.
class LstmGradKernel : public RefKernel {
public:
  LstmGradKernel(const ops::RecurrentGeometry &g, const GradDesc &gd)
      : t_(g.t), n_(g.n), i_(g.in), is_(g.inStatic), h_(g.h), static_(g.xStatic >= 0), g_(g) {
    outX_ = gd.outputOf(0);
    outXs_ = static_ ? gd.outputOf(g.xStatic) : -1;
    outWxc_ = gd.outputOf(g.firstWeight);
    outBc_ = gd.outputOf(g.firstWeight + 1);
    outWxs_ = static_ ? gd.outputOf(g.wStatic) : -1;
    outWhc_ = gd.outputOf(static_ ? g.wStatic + 1 : g.firstWeight + 2);
    dyIdx_ = gd.gradIn(0);
  }

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *cont = in[1];
    const float *xs = static_ ? in[g_.xStatic] : nullptr;
    const float *wxc = in[g_.firstWeight], *bc = in[g_.firstWeight + 1];
    const float *wxs = static_ ? in[g_.wStatic] : nullptr;
    const float *whc = in[static_ ? g_.wStatic + 1 : g_.firstWeight + 2];
    const float *dy = in[dyIdx_];
    // Dead steps (dl.lstm's mask) are constant 0: no work, no gradient.
    std::vector<uint8_t> live;
    ops::lstmLiveSteps(cont, g_.mask >= 0 ? in[g_.mask] : nullptr, t_, n_, live);
    int64_t g4 = 4 * h_, nh = n_ * h_;

    // Forward in double, keeping per step: activated gates [T, N, 4H]
    // (i, f' = sigmoid(a_f) before the cont gate, o, g), c and h [T, N, H].
    std::vector<double> base(n_ * g4);
    for (int64_t n = 0; n < n_; ++n)
      for (int64_t r = 0; r < g4; ++r) {
        double acc = bc[r];
        if (static_)
          for (int64_t k = 0; k < is_; ++k)
            acc += double(wxs[r * is_ + k]) * double(xs[n * is_ + k]);
        base[n * g4 + r] = acc;
      }
    std::vector<double> gates(t_ * n_ * g4), cs(t_ * nh), hs(t_ * nh);
    for (int64_t t = 0; t < t_; ++t)
      for (int64_t n = 0; n < n_; ++n) {
        double ct = cont[t * n_ + n];
        const float *xt = x + (t * n_ + n) * i_;
        const double *hp = t > 0 ? &hs[((t - 1) * n_ + n) * h_] : nullptr;
        const double *cp = t > 0 ? &cs[((t - 1) * n_ + n) * h_] : nullptr;
        double *gt = &gates[(t * n_ + n) * g4];
        if (!live[size_t(t * n_ + n)])
          continue; // gates, c and h stay 0
        for (int64_t r = 0; r < g4; ++r) {
          double acc = base[n * g4 + r];
          for (int64_t k = 0; k < i_; ++k)
            acc += double(wxc[r * i_ + k]) * double(xt[k]);
          if (hp)
            for (int64_t k = 0; k < h_; ++k)
              acc += double(whc[r * h_ + k]) * (ct * hp[k]);
          gt[r] = acc;
        }
        for (int64_t d = 0; d < h_; ++d) {
          gt[d] = sigmoid(gt[d]);
          gt[h_ + d] = sigmoid(gt[h_ + d]);
          gt[2 * h_ + d] = sigmoid(gt[2 * h_ + d]);
          gt[3 * h_ + d] = std::tanh(gt[3 * h_ + d]);
          double fg = ct == 0.0 ? 0.0 : ct * gt[h_ + d];
          double c = fg * (cp ? cp[d] : 0.0) + gt[d] * gt[3 * h_ + d];
          cs[(t * n_ + n) * h_ + d] = c;
          hs[(t * n_ + n) * h_ + d] = gt[2 * h_ + d] * std::tanh(c);
        }
      }

    // Backward through time.
    std::vector<double> dx(outX_ >= 0 ? t_ * n_ * i_ : 0, 0.0);
    std::vector<double> dxs(outXs_ >= 0 ? n_ * is_ : 0, 0.0);
    std::vector<double> dwxc(g4 * i_, 0.0), dbc(g4, 0.0), dwxs(g4 * is_, 0.0),
        dwhc(g4 * h_, 0.0);
    std::vector<double> dh(nh, 0.0), dc(nh, 0.0), dhPrev(nh), da(g4);
    for (int64_t t = t_; t-- > 0;) {
      std::fill(dhPrev.begin(), dhPrev.end(), 0.0);
      for (int64_t n = 0; n < n_; ++n) {
        if (!live[size_t(t * n_ + n)])
          continue; // nothing flows into or out of a dead step
        double ct = cont[t * n_ + n];
        const double *gt = &gates[(t * n_ + n) * g4];
        const double *hp = t > 0 ? &hs[((t - 1) * n_ + n) * h_] : nullptr;
        const double *cp = t > 0 ? &cs[((t - 1) * n_ + n) * h_] : nullptr;
        for (int64_t d = 0; d < h_; ++d) {
          int64_t j = n * h_ + d;
          double ig = gt[d], fr = gt[h_ + d], og = gt[2 * h_ + d], gg = gt[3 * h_ + d];
          double c = cs[(t * n_ + n) * h_ + d], tc = std::tanh(c);
          double dht = dh[j] + double(dy[(t * n_ + n) * h_ + d]);
          double dct = dc[j] + dht * og * (1.0 - tc * tc);
          double cprev = cp ? cp[d] : 0.0;
          da[d] = dct * gg * ig * (1.0 - ig);
          da[h_ + d] = ct == 0.0 ? 0.0 : dct * cprev * ct * fr * (1.0 - fr);
          da[2 * h_ + d] = dht * tc * og * (1.0 - og);
          da[3 * h_ + d] = dct * ig * (1.0 - gg * gg);
          // Carried to step t-1.
          dc[j] = ct == 0.0 ? 0.0 : dct * ct * fr;
        }
        const float *xt = x + (t * n_ + n) * i_;
        for (int64_t r = 0; r < g4; ++r) {
          double a = da[r];
          if (a == 0.0)
            continue;
          dbc[r] += a;
          for (int64_t k = 0; k < i_; ++k) {
            dwxc[r * i_ + k] += a * double(xt[k]);
            if (outX_ >= 0)
              dx[(t * n_ + n) * i_ + k] += a * double(wxc[r * i_ + k]);
          }
          if (static_)
            for (int64_t k = 0; k < is_; ++k) {
              dwxs[r * is_ + k] += a * double(xs[n * is_ + k]);
              if (outXs_ >= 0)
                dxs[n * is_ + k] += a * double(wxs[r * is_ + k]);
            }
          if (hp)
            for (int64_t k = 0; k < h_; ++k) {
              dwhc[r * h_ + k] += a * ct * hp[k];
              dhPrev[n * h_ + k] += a * ct * double(whc[r * h_ + k]);
            }
        }
      }
      dh.swap(dhPrev);
    }
    store(outX_, dx, out);
    store(outXs_, dxs, out);
    store(outWxc_, dwxc, out);
    store(outBc_, dbc, out);
    store(outWxs_, dwxs, out);
    store(outWhc_, dwhc, out);
  }

private:
  static void store(int idx, const std::vector<double> &v, float *const *out) {
    if (idx < 0)
      return;
    for (size_t i = 0; i < v.size(); ++i)
      out[idx][i] = static_cast<float>(v[i]);
  }

  int64_t t_, n_, i_, is_, h_;
  bool static_;
  ops::RecurrentGeometry g_;
  int outX_, outXs_, outWxc_, outBc_, outWxs_, outWhc_;
  size_t dyIdx_;
};

/// Caffe's RNNLayer (the unrolled net of rnn_layer.cpp), h_0 = 0:
///   h_t = tanh(W_hh (cont_t h_{t-1}) + W_xh x_t + b_h [+ W_xh_static x_static])
///   o_t = tanh(W_ho h_t + b_o)
/// Operands: x, cont, [x_static], w_xh, b_h, [w_xh_static], w_hh, w_ho, b_o.
/// The backward kernel (BPTT) reruns the forward in double and walks back,
/// carrying dh into the previous step through W_hh and cont; cont gets no
/// gradient.
class RnnKernel : public RefKernel {
public:
  RnnKernel(int64_t t, int64_t n, int64_t in, int64_t inStatic, int64_t h, bool hasStatic,
            const GradDesc *gd)
      : t_(t), n_(n), i_(in), is_(inStatic), h_(h), static_(hasStatic), backward_(gd) {
    if (!gd)
      return;
    int k = 0;
    // Without x_static the operands are x, cont, w_xh, b_h, w_hh, w_ho, b_o.
    for (int64_t op : gd->wrt)
      out_[static_ ? op : (op < 2 ? op : op < 4 ? op + 1 : op + 2)] = k++;
    dyIdx_ = gd->gradIn(0);
  }

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *cont = in[1], *xs = static_ ? in[2] : nullptr;
    size_t w = static_ ? 3 : 2;
    const float *wxh = in[w], *bh = in[w + 1], *wxs = static_ ? in[w + 2] : nullptr;
    const float *whh = in[w + (static_ ? 3 : 2)], *who = in[w + (static_ ? 4 : 3)];
    const float *bo = in[w + (static_ ? 5 : 4)];
    // Forward in double, keeping every step's h and o.
    std::vector<double> hs(size_t((t_ + 1) * n_ * h_), 0.0), os(size_t(t_ * n_ * h_));
    auto H = [&](int64_t t, int64_t n) { return &hs[size_t(((t + 1) * n_ + n) * h_)]; };
    for (int64_t t = 0; t < t_; ++t)
      for (int64_t n = 0; n < n_; ++n) {
        double c = cont[t * n_ + n];
        const double *hp = H(t - 1, n);
        double *ht = H(t, n);
        for (int64_t j = 0; j < h_; ++j) {
          double a = bh[j];
          for (int64_t k = 0; k < i_; ++k)
            a += double(wxh[j * i_ + k]) * x[(t * n_ + n) * i_ + k];
          for (int64_t k = 0; k < is_; ++k)
            a += double(wxs[j * is_ + k]) * xs[n * is_ + k];
          for (int64_t k = 0; k < h_; ++k)
            a += double(whh[j * h_ + k]) * c * hp[k];
          ht[j] = std::tanh(a);
        }
        for (int64_t j = 0; j < h_; ++j) {
          double a = bo[j];
          for (int64_t k = 0; k < h_; ++k)
            a += double(who[j * h_ + k]) * ht[k];
          os[size_t((t * n_ + n) * h_ + j)] = std::tanh(a);
        }
      }
    if (!backward_) {
      for (size_t i = 0; i < os.size(); ++i)
        out[0][i] = static_cast<float>(os[i]);
      return;
    }
    // Backward through time.
    const float *dy = in[dyIdx_];
    std::vector<double> dx(size_t(t_ * n_ * i_), 0.0), dxs(size_t(n_ * is_), 0.0);
    std::vector<double> dwxh(size_t(h_ * i_), 0.0), dbh(size_t(h_), 0.0);
    std::vector<double> dwxs(size_t(h_ * is_), 0.0), dwhh(size_t(h_ * h_), 0.0);
    std::vector<double> dwho(size_t(h_ * h_), 0.0), dbo(size_t(h_), 0.0);
    std::vector<double> dhNext(size_t(n_ * h_), 0.0), dout(size_t(h_), 0.0), da(size_t(h_), 0.0);
    for (int64_t t = t_ - 1; t >= 0; --t)
      for (int64_t n = 0; n < n_; ++n) {
        double c = cont[t * n_ + n];
        const double *hp = H(t - 1, n), *ht = H(t, n);
        const double *ot = &os[size_t((t * n_ + n) * h_)];
        for (int64_t j = 0; j < h_; ++j) {
          dout[size_t(j)] = double(dy[(t * n_ + n) * h_ + j]) * (1.0 - ot[j] * ot[j]);
          dbo[size_t(j)] += dout[size_t(j)];
          for (int64_t k = 0; k < h_; ++k)
            dwho[size_t(j * h_ + k)] += dout[size_t(j)] * ht[k];
        }
        double *dh = &dhNext[size_t(n * h_)];
        for (int64_t k = 0; k < h_; ++k) {
          double g = dh[k];
          for (int64_t j = 0; j < h_; ++j)
            g += double(who[j * h_ + k]) * dout[size_t(j)];
          da[size_t(k)] = g * (1.0 - ht[k] * ht[k]);
        }
        for (int64_t j = 0; j < h_; ++j) {
          double d = da[size_t(j)];
          dbh[size_t(j)] += d;
          for (int64_t k = 0; k < i_; ++k) {
            dwxh[size_t(j * i_ + k)] += d * x[(t * n_ + n) * i_ + k];
            dx[size_t((t * n_ + n) * i_ + k)] += double(wxh[j * i_ + k]) * d;
          }
          for (int64_t k = 0; k < is_; ++k) {
            dwxs[size_t(j * is_ + k)] += d * xs[n * is_ + k];
            dxs[size_t(n * is_ + k)] += double(wxs[j * is_ + k]) * d;
          }
          for (int64_t k = 0; k < h_; ++k)
            dwhh[size_t(j * h_ + k)] += d * c * hp[k];
        }
        for (int64_t k = 0; k < h_; ++k) {
          double g = 0.0;
          for (int64_t j = 0; j < h_; ++j)
            g += double(whh[j * h_ + k]) * da[size_t(j)];
          dh[k] = c * g;
        }
      }
    const std::vector<double> *grads[] = {&dx, nullptr, &dxs, &dwxh, &dbh,
                                          &dwxs, &dwhh, &dwho, &dbo};
    for (int op = 0; op < 9; ++op)
      if (op != 1 && out_[op] >= 0)
        for (size_t i = 0; i < grads[op]->size(); ++i)
          out[out_[op]][i] = static_cast<float>((*grads[op])[i]);
  }

private:
  int64_t t_, n_, i_, is_, h_;
  bool static_, backward_;
  /// Output index of each operand's gradient in the with-x_static numbering
  /// (x, cont, x_static, w_xh, b_h, w_xh_static, w_hh, w_ho, b_o), or -1.
  int out_[9] = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
  size_t dyIdx_ = 0;
};

std::unique_ptr<Kernel> makeEmbed(const KernelDesc &desc) {
  auto a = attrsOf<ops::EmbedAttrs>(desc);
  return std::make_unique<EmbedKernel>(desc.errorPrefix(), numElements(desc.inputs[0]),
                                       a.num_output, a.input_dim, desc.inputs.size() == 3);
}

std::unique_ptr<Kernel> makeEmbedGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  auto a = attrsOf<ops::EmbedAttrs>(gd.fwd);
  return std::make_unique<EmbedGradKernel>(desc.errorPrefix(), numElements(gd.fwd.inputs[0]),
                                           a.num_output, a.input_dim, gd.numOperands == 3,
                                           gd.outputOf(1), gd.outputOf(2));
}

ops::RecurrentGeometry lstmGeometryOf(const KernelDesc &fwd) {
  ops::RecurrentGeometry g;
  if (Status st = ops::lstmGeometry(attrsOf<ops::LSTMAttrs>(fwd), fwd.inputs, g); st.failed())
    fwd.fail(st.message());
  return g;
}

std::unique_ptr<Kernel> makeLstm(const KernelDesc &desc) {
  return std::make_unique<LstmKernel>(lstmGeometryOf(desc));
}

std::unique_ptr<Kernel> makeLstmGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  return std::make_unique<LstmGradKernel>(lstmGeometryOf(gd.fwd), gd);
}

std::unique_ptr<Kernel> makeRnn(const KernelDesc &desc) {
  std::optional<GradDesc> gd;
  if (desc.isGradient())
    gd = gradDesc(desc);
  const KernelDesc &fwd = gd ? gd->fwd : desc;
  const Shape &x = fwd.inputs[0];
  bool hasStatic = fwd.inputs.size() == 9;
  int64_t inStatic = hasStatic ? countFrom(fwd.inputs[2], 1) : 0;
  return std::make_unique<RnnKernel>(x[0], x[1], countFrom(x, 2), inStatic,
                                     attrsOf<ops::RNNAttrs>(fwd).num_output, hasStatic,
                                     gd ? &*gd : nullptr);
}

} // namespace

DLC_REGISTER_KERNELS(DLC_REF_OP("rnn", makeRnn, makeRnn),
                     DLC_REF_OP("embed", makeEmbed, makeEmbedGrad),
                     DLC_REF_OP("lstm", makeLstm, makeLstmGrad));

} // namespace dlc::rt::ref

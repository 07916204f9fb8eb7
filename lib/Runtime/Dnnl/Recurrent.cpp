//===- Recurrent.cpp - Caffe's RNN and Embed ------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// rnn / rnn_grad (Caffe's RNNLayer) and embed / embed_grad, with the
// semantics of the reference kernels (lib/Runtime/Reference/Recurrent.cpp).
// lstm is in RecurrentLstm.cpp.
//
// rnn, x [T, N, I], cont [T, N], optional x_static [N, Is]; w_xh [H, I],
// b_h [H], w_xh_static [H, Is], w_hh [H, H], w_ho [H, H], b_o [H]:
//   A = X w_xh^T                                    one SGEMM, [T*N, H]
//   per step: A_t += Hp_t w_hh^T (t > 0, Hp_t = cont_t * h_{t-1}),
//             h_t = tanh(A_t + b_h [+ x_static w_xh_static^T])
//   y = tanh(Hs w_ho^T + b_o)                       one SGEMM over all steps
// Backward: the h of every step again; dO = dy (1 - y^2) (y: the forward
// result operand), db_o = column sums, dw_ho = dO^T Hs, D = dO w_ho (one
// SGEMM); t = T-1 .. 0: da_t = (D_t + cont_{t+1} dh_t) (1 - h_t^2) with
// dh_t = da_{t+1} w_hh (one SGEMM per step); then dw_xh = da^T X, dx =
// da w_xh, db_h = column sums, dw_hh = da^T Hp (t >= 1), x_static through
// S = sum_t da_t. Only the wanted gradients are computed (no BPTT when
// only w_ho / b_o are wanted).
//
// embed: y[i] = W[index_i] (+ b), OpenMP over positions; an index that is
// not an integer in [0, input_dim) throws the reference's Error.
// embed_grad: dW is zeroed, then each thread adds dy rows into its own
// slice of dW's columns, walking the positions in order (the result does
// not depend on the number of threads); db = column sums of dy.
//
//===----------------------------------------------------------------------===//

#include "RecurrentUtil.h"
#include "dlc/Ops/Geometry.h"

#include <cmath>

namespace dlc::rt {
namespace dnnlk {
namespace {
using namespace rec;

/// a = tanh(a + b), hp = ctNext * a (one stream of one step).
struct RnnForwardStep {
  float *a;
  const float *b;
  float *hp;
  float ctNext;
  template <bool Full>
  DLC_REC_INLINE void run(int64_t k, int64_t m) const {
    const v16 h = tanhV(load<Full>(a + k, m) + load<Full>(b + k, m));
    store<Full>(a + k, h, m);
    store<Full>(hp + k, ctNext * h, m);
  }
};
DLC_CPU_CLONES void rnnCellForward(int64_t len, const RnnForwardStep &s) { chunks(len, s); }

/// y = tanh(y + b).
struct TanhBias {
  float *y;
  const float *b;
  template <bool Full>
  DLC_REC_INLINE void run(int64_t k, int64_t m) const {
    store<Full>(y + k, tanhV(load<Full>(y + k, m) + load<Full>(b + k, m)), m);
  }
};
DLC_CPU_CLONES void tanhBias(int64_t len, const TanhBias &s) { chunks(len, s); }

/// d = dy (1 - y^2).
struct TanhGrad {
  const float *dy, *y;
  float *d;
  template <bool Full>
  DLC_REC_INLINE void run(int64_t k, int64_t m) const {
    const v16 v = load<Full>(y + k, m);
    store<Full>(d + k, load<Full>(dy + k, m) * (1.f - v * v), m);
  }
};
DLC_CPU_CLONES void tanhGrad(int64_t len, const TanhGrad &s) { chunks(len, s); }

/// d = (d + ctNext * dhn) (1 - h^2): d holds the gradient from the output
/// in, the pre-activation gradient out.
struct RnnBackwardStep {
  float *d;
  const float *h, *dhn;
  float ctNext;
  template <bool Full>
  DLC_REC_INLINE void run(int64_t k, int64_t m) const {
    const v16 v = load<Full>(h + k, m);
    store<Full>(d + k, (load<Full>(d + k, m) + ctNext * load<Full>(dhn + k, m)) * (1.f - v * v),
                m);
  }
};
DLC_CPU_CLONES void rnnCellBackward(int64_t len, const RnnBackwardStep &s) { chunks(len, s); }

// The built-in cells with the signatures of dlc/Ops/RecurrentCells.h: what
// the kernel calls when the module has no generated ones.
void builtinRnnForward(float *a, const float *b, float *hp, float ctNext, int64_t len) {
  rnnCellForward(len, {a, b, hp, ctNext});
}
void builtinRnnBackward(float *d, const float *h, const float *dhn, float ctNext, int64_t len) {
  rnnCellBackward(len, {d, h, dhn, ctNext});
}
void builtinRnnOutput(float *y, const float *b, int64_t len) { tanhBias(len, {y, b}); }
void builtinRnnOutputGrad(const float *dy, const float *y, float *d, int64_t len) {
  tanhGrad(len, {dy, y, d});
}

/// The generated cell `c` the kernel of `desc` names, else `builtin`.
template <typename Fn>
Fn cellOr(const KernelDesc &desc, ops::Cell c, Fn builtin, std::string &impl) {
  Fn f = generatedCell<Fn>(desc, c, impl);
  return f ? f : builtin;
}

/// The shared geometry of a validated rnn description.
ops::RecurrentGeometry rnnGeometry(const KernelDesc &fwd) {
  ops::RecurrentGeometry g;
  check(fwd, ops::rnnGeometry(attrsOf<ops::RNNAttrs>(fwd), fwd.inputs, g));
  return g;
}

/// Positions of the rnn operands: x, cont, [x_static], w_xh, b_h,
/// [w_xh_static], w_hh, w_ho, b_o.
struct RnnOperands {
  int xs = -1, wxh, bh, wxs = -1, whh, who, bo;
  explicit RnnOperands(const ops::RecurrentGeometry &g) {
    xs = g.xStatic;
    wxh = g.firstWeight;
    bh = wxh + 1;
    wxs = g.wStatic;
    whh = g.xStatic >= 0 ? g.wStatic + 1 : bh + 1;
    who = whh + 1;
    bo = who + 1;
  }
};

struct RnnIn {
  const float *x, *cont, *xs = nullptr, *wxh, *bh, *wxs = nullptr, *whh, *who, *bo;
  RnnIn(const float *const *in, const RnnOperands &p) {
    x = in[0];
    cont = in[1];
    if (p.xs >= 0) {
      xs = in[p.xs];
      wxs = in[p.wxs];
    }
    wxh = in[p.wxh];
    bh = in[p.bh];
    whh = in[p.whh];
    who = in[p.who];
    bo = in[p.bo];
  }
};

/// rnn (gd == nullptr) and rnn_grad.
class RnnKernel : public DnnlKernelBase {
public:
  RnnKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc *gd)
      : DnnlKernelBase(desc, ctx), prefix_(desc.errorPrefix()), backward_(gd),
        g_(rnnGeometry(gd ? gd->fwd : desc)), ops_(g_),
        clock_(gd ? std::vector<std::string>{"forward again", "output gradients",
                                             "backpropagation through time", "gradients"}
                  : std::vector<std::string>{"input projection", "recurrence",
                                             "output projection"}) {
    hasStatic_ = g_.xStatic >= 0;
    T_ = g_.t;
    N_ = g_.n;
    I_ = g_.in;
    Is_ = g_.inStatic;
    H_ = g_.h;
    if (hasStatic_)
      base_.resize(size_t(N_ * H_));
    const int64_t TNH = T_ * N_ * H_, NH = N_ * H_;
    A_.resize(size_t(TNH));
    impl_ = gd ? "dlc:rnn-bptt+sgemm" : "dlc:rnn+sgemm";
    cellForward_ = cellOr(desc, ops::Cell::RnnForward, &builtinRnnForward, impl_);
    if (!gd) {
      cellOutput_ = cellOr(desc, ops::Cell::RnnOutput, &builtinRnnOutput, impl_);
      hp_.resize(size_t(NH));
      return;
    }
    cellBackward_ = cellOr(desc, ops::Cell::RnnBackward, &builtinRnnBackward, impl_);
    cellOutputGrad_ = cellOr(desc, ops::Cell::RnnOutputGrad, &builtinRnnOutputGrad, impl_);
    outX_ = gd->outputOf(0);
    outXs_ = hasStatic_ ? gd->outputOf(ops_.xs) : -1;
    outWxh_ = gd->outputOf(ops_.wxh);
    outBh_ = gd->outputOf(ops_.bh);
    outWxs_ = hasStatic_ ? gd->outputOf(ops_.wxs) : -1;
    outWhh_ = gd->outputOf(ops_.whh);
    outWho_ = gd->outputOf(ops_.who);
    outBo_ = gd->outputOf(ops_.bo);
    yIdx_ = gd->resultIn(0);
    dyIdx_ = gd->gradIn(0);
    bptt_ = outX_ >= 0 || outXs_ >= 0 || outWxh_ >= 0 || outBh_ >= 0 || outWxs_ >= 0 ||
            outWhh_ >= 0;
    // Hp of every step (read by dw_hh), dO, D.
    hp_.resize(size_t(bptt_ ? TNH : NH));
    dO_.resize(size_t(TNH));
    if (bptt_) {
      D_.resize(size_t(TNH));
      dhn_.resize(size_t(NH));
    }
    if (outXs_ >= 0 || outWxs_ >= 0)
      S_.resize(size_t(NH));
  }

  std::vector<Phase> phases() const override { return clock_.phases(); }

  void forward(const float *const *in, float *const *out) override {
    RnnIn o(in, ops_);
    clock_.start();
    hidden(o);
    const int64_t TN = T_ * N_, H = H_;
    if (!backward_) {
      float *y = out[0];
      sgemm(prefix_, 'N', 'T', TN, H, H, A_.data(), H, o.who, H, 0.f, y, H);
      forRows(TN, H, [&](int64_t r, int64_t lo, int64_t hi) {
        cellOutput_(y + r * H + lo, o.bo + lo, hi - lo);
      });
      clock_.next(2);
      return;
    }
    clock_.next(0);
    const float *y = in[yIdx_], *dy = in[dyIdx_];
    float *dO = dO_.data();
    forRows(TN, H, [&](int64_t r, int64_t lo, int64_t hi) {
      const int64_t k = r * H + lo;
      cellOutputGrad_(dy + k, y + k, dO + k, hi - lo);
    });
    if (outBo_ >= 0)
      columnSums(dO, TN, H, H, out[outBo_]);
    if (outWho_ >= 0)
      sgemm(prefix_, 'T', 'N', H, H, TN, dO, H, A_.data(), H, 0.f, out[outWho_], H);
    if (bptt_)
      sgemm(prefix_, 'N', 'N', TN, H, H, dO, H, o.who, H, 0.f, D_.data(), H);
    clock_.next(1);
    if (bptt_)
      backwardThroughTime(o);
    clock_.next(2);
    if (bptt_)
      gradients(o, out);
    clock_.next(3);
  }

private:
  /// A_ = h of every step; hp_ = Hp (every step's with BPTT, else the last).
  void hidden(const RnnIn &o) {
    const int64_t T = T_, N = N_, H = H_, NH = N * H;
    const bool keep = bptt_;
    const float *bias = o.bh;
    int64_t bstride = 0;
    if (hasStatic_) {
      float *b = base_.data();
      sgemm(prefix_, 'N', 'T', N, H, Is_, o.xs, Is_, o.wxs, Is_, 0.f, b, H);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t j = 0; j < H; ++j)
          b[n * H + j] += o.bh[j];
      bias = b;
      bstride = H;
    }
    float *A = A_.data(), *Hp = hp_.data();
    sgemm(prefix_, 'N', 'T', T * N, H, I_, o.x, I_, o.wxh, I_, 0.f, A, H);
    if (!backward_)
      clock_.next(0);
    for (int64_t t = 0; t < T; ++t) {
      float *At = A + t * NH;
      if (t > 0)
        sgemm(prefix_, 'N', 'T', N, H, H, keep ? Hp + t * NH : Hp, H, o.whh, H, 1.f, At, H);
      // The last step's Hp is not needed: it goes to row block 0 (unused).
      float *hpOut = keep ? Hp + (t + 1 < T ? t + 1 : 0) * NH : Hp;
      const float *cn = t + 1 < T ? o.cont + (t + 1) * N : nullptr;
      forRows(N, H, [&](int64_t n, int64_t lo, int64_t hi) {
        const int64_t r = n * H + lo;
        cellForward_(At + r, bias + n * bstride + lo, hpOut + r, cn ? cn[n] : 0.f, hi - lo);
      });
    }
    if (!backward_)
      clock_.next(1);
  }

  /// D_ = da (pre-activation gradients of h), t = T-1 .. 0.
  void backwardThroughTime(const RnnIn &o) {
    const int64_t T = T_, N = N_, H = H_, NH = N * H;
    float *D = D_.data(), *dhn = dhn_.data();
    const float *A = A_.data();
    std::fill(dhn_.begin(), dhn_.end(), 0.f);
    for (int64_t t = T; t-- > 0;) {
      float *Dt = D + t * NH;
      const float *cn = t + 1 < T ? o.cont + (t + 1) * N : nullptr;
      forRows(N, H, [&](int64_t n, int64_t lo, int64_t hi) {
        const int64_t r = n * H + lo;
        cellBackward_(Dt + r, A + t * NH + r, dhn + r, cn ? cn[n] : 0.f, hi - lo);
      });
      if (t > 0)
        sgemm(prefix_, 'N', 'N', N, H, H, Dt, H, o.whh, H, 0.f, dhn, H);
    }
  }

  void gradients(const RnnIn &o, float *const *out) {
    const int64_t T = T_, N = N_, H = H_, I = I_, Is = Is_, TN = T * N;
    const float *D = D_.data();
    if (outBh_ >= 0)
      columnSums(D, TN, H, H, out[outBh_]);
    if (outWxh_ >= 0)
      sgemm(prefix_, 'T', 'N', H, I, TN, D, H, o.x, I, 0.f, out[outWxh_], I);
    if (outX_ >= 0)
      sgemm(prefix_, 'N', 'N', TN, I, H, D, H, o.wxh, I, 0.f, out[outX_], I);
    if (outWhh_ >= 0) {
      if (T > 1)
        sgemm(prefix_, 'T', 'N', H, H, (T - 1) * N, D + N * H, H, hp_.data() + N * H, H, 0.f,
              out[outWhh_], H);
      else
        std::fill(out[outWhh_], out[outWhh_] + H * H, 0.f);
    }
    staticInputGradients(prefix_, D, T, N, H, Is, o.xs, o.wxs, S_.data(),
                         outWxs_ >= 0 ? out[outWxs_] : nullptr,
                         outXs_ >= 0 ? out[outXs_] : nullptr);
  }

  std::string prefix_;
  bool backward_;
  ops::RecurrentGeometry g_;
  RnnOperands ops_;
  PhaseClock clock_;
  /// The gate loops: the module's generated functions (dl-codegen-recurrent)
  /// or the built-in ones.
  ops::RnnForwardCell cellForward_ = nullptr;
  ops::RnnBackwardCell cellBackward_ = nullptr;
  ops::RnnOutputCell cellOutput_ = nullptr;
  ops::RnnOutputGradCell cellOutputGrad_ = nullptr;
  bool hasStatic_ = false, bptt_ = false;
  int64_t T_ = 0, N_ = 0, I_ = 0, Is_ = 0, H_ = 0;
  /// A_: h of every step [T*N, H]; base_: bias rows with x_static; hp_:
  /// Hp; dO_, D_: gradients from the output / of the pre-activations.
  Buffer A_, base_, hp_, dO_, D_, dhn_, S_;
  int outX_ = -1, outXs_ = -1, outWxh_ = -1, outBh_ = -1, outWxs_ = -1, outWhh_ = -1,
      outWho_ = -1, outBo_ = -1;
  size_t yIdx_ = 0, dyIdx_ = 0;
};

// ---------------------------------------------------------------------------
// Embed
// ---------------------------------------------------------------------------

/// The row of every position (the reference's check and message).
void embedIndices(const std::string &prefix, const float *x, int64_t m, int64_t k,
                  int64_t *rows) {
  for (int64_t i = 0; i < m; ++i) {
    float v = x[i];
    if (!(v >= 0.0f && v < float(k)) || std::floor(v) != v)
      throw Error(prefix + "index " + std::to_string(v) + " at position " + std::to_string(i) +
                  " is not an integer in [0, " + std::to_string(k) + ")");
    rows[i] = static_cast<int64_t>(v);
  }
}

class EmbedKernel : public DnnlKernelBase {
public:
  EmbedKernel(const KernelDesc &desc, DnnlContext &ctx)
      : DnnlKernelBase(desc, ctx), prefix_(desc.errorPrefix()) {
    auto a = attrsOf<ops::EmbedAttrs>(desc);
    m_ = numElements(desc.inputs[0]);
    n_ = a.num_output;
    k_ = a.input_dim;
    bias_ = desc.inputs.size() == 3;
    rows_.resize(size_t(m_));
    impl_ = "dlc:embed";
  }
  void forward(const float *const *in, float *const *out) override {
    embedIndices(prefix_, in[0], m_, k_, rows_.data());
    const float *w = in[1], *b = bias_ ? in[2] : nullptr;
    float *y = out[0];
    const int64_t n = n_;
    forRows(m_, n, [&](int64_t i, int64_t lo, int64_t hi) {
      const float *src = w + rows_[size_t(i)] * n;
      float *dst = y + i * n;
      if (b)
        for (int64_t j = lo; j < hi; ++j)
          dst[j] = src[j] + b[j];
      else
        std::copy(src + lo, src + hi, dst + lo);
    });
  }

private:
  std::string prefix_;
  int64_t m_, n_, k_;
  bool bias_;
  std::vector<int64_t> rows_;
};

class EmbedGradKernel : public DnnlKernelBase {
public:
  EmbedGradKernel(const KernelDesc &desc, DnnlContext &ctx)
      : DnnlKernelBase(desc, ctx), prefix_(desc.errorPrefix()) {
    GradDesc gd = gradDesc(desc);
    auto a = attrsOf<ops::EmbedAttrs>(gd.fwd);
    m_ = numElements(gd.fwd.inputs[0]);
    n_ = a.num_output;
    k_ = a.input_dim;
    outW_ = gd.outputOf(1);
    outB_ = gd.numOperands == 3 ? gd.outputOf(2) : -1;
    dyIdx_ = gd.gradIn(0);
    rows_.resize(size_t(m_));
    impl_ = "dlc:embed-scatter";
  }
  void forward(const float *const *in, float *const *out) override {
    const float *dy = in[dyIdx_];
    if (outW_ >= 0) {
      embedIndices(prefix_, in[0], m_, k_, rows_.data());
      scatter(dy, out[outW_]);
    }
    if (outB_ >= 0)
      columnSums(dy, m_, n_, n_, out[outB_]);
  }

private:
  /// dw = 0, then dw[row_i] += dy[i] for i in order; thread p owns columns
  /// [p*w, (p+1)*w) (w a multiple of 16) of every row.
  void scatter(const float *dy, float *dw) {
    const int64_t m = m_, n = n_, k = k_;
    const int64_t *rows = rows_.data();
    const bool par = (m + k) * n >= kParallelMin;
#pragma omp parallel if (par)
    {
      const int64_t nt = omp_get_num_threads(), id = omp_get_thread_num();
      const int64_t r0 = k * id / nt, r1 = k * (id + 1) / nt;
      std::fill(dw + r0 * n, dw + r1 * n, 0.f);
      int64_t w = (n + nt - 1) / nt;
      w = (w + 15) / 16 * 16;
      const int64_t c0 = std::min(n, id * w), c1 = std::min(n, c0 + w);
#pragma omp barrier
      if (c0 < c1)
        for (int64_t i = 0; i < m; ++i) {
          float *d = dw + rows[i] * n;
          const float *s = dy + i * n;
#pragma omp simd
          for (int64_t j = c0; j < c1; ++j)
            d[j] += s[j];
        }
    }
  }

  std::string prefix_;
  int64_t m_, n_, k_;
  int outW_, outB_;
  size_t dyIdx_;
  std::vector<int64_t> rows_;
};

std::unique_ptr<Kernel> createRnn(const KernelDesc &desc, DnnlContext &ctx) {
  return std::make_unique<RnnKernel>(desc, ctx, nullptr);
}
std::unique_ptr<Kernel> createRnnGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  return std::make_unique<RnnKernel>(desc, ctx, &gd);
}
std::unique_ptr<Kernel> createEmbed(const KernelDesc &desc, DnnlContext &ctx) {
  return std::make_unique<EmbedKernel>(desc, ctx);
}
std::unique_ptr<Kernel> createEmbedGrad(const KernelDesc &desc, DnnlContext &ctx) {
  return std::make_unique<EmbedGradKernel>(desc, ctx);
}

} // namespace

DLC_REGISTER_KERNELS(DLC_DNNL_KERNEL("rnn", Forward, createRnn, emptyWhyNot),
                     DLC_DNNL_KERNEL("rnn", Backward, createRnnGrad, emptyWhyNot),
                     DLC_DNNL_KERNEL("embed", Forward, createEmbed, emptyWhyNot),
                     DLC_DNNL_KERNEL("embed", Backward, createEmbedGrad, emptyWhyNot));

} // namespace dnnlk
} // namespace dlc::rt

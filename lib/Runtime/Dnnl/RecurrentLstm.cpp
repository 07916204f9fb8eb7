//===- RecurrentLstm.cpp - Caffe's LSTM on SGEMMs and fused gate loops ----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// lstm / lstm_grad (Caffe's LSTMLayer; the semantics are the reference
// kernel's, lib/Runtime/Reference/Recurrent.cpp). x [T, N, I], cont [T, N],
// optional x_static [N, Is]; w_xc [4H, I], b_c [4H], w_xc_static [4H, Is],
// w_hc [4H, H]; gate order i, f, o, g.
//
// Forward:
//   G = X w_xc^T                                   one SGEMM, [T*N, 4H]
//   B = b_c (+ x_static w_xc_static^T per stream)  [1 or N, 4H]
//   per step t: G_t += Hp_t w_hc^T (t > 0; Hp_t = cont_t * h_{t-1}),
//     then one fused loop: i, f, o = sigmoid, g = tanh of G_t + B,
//     c_t = (cont_t == 0 ? 0 : cont_t f) c_{t-1} + i g, h_t = o tanh(c_t),
//     Hp_{t+1} = cont_{t+1} h_t.
// Backward: the activated gates (in G), c and Hp of every step, as the
// forward kernel of the same layer left them when it ran last with these
// operands (LstmSaved), else the forward again; then t = T-1 .. 0: one fused loop turns G_t into the
// pre-activation gradients dG_t (carrying dc to t-1) and one SGEMM gives
// dh_{t-1} = cont_t (dG_t w_hc) (the cont factor is applied by the loop of
// step t-1). The parameter and input gradients are then SGEMMs over all
// T*N rows: dw_hc = dG^T Hp (t >= 1), dw_xc = dG^T X, dx = dG w_xc,
// db_c = column sums of dG; with x_static S = sum_t dG_t, dw_xc_static =
// S^T x_static, dx_static = S w_xc_static. Only the wanted gradients are
// computed. All buffers are allocated at kernel creation.
//
// The gate loops are the module's generated functions when it has them
// (dl-codegen-recurrent, dlc/Ops/RecurrentCells.h: the same formulas),
// else the built-in ones below.
//
// With dl.lstm's mask (dl-skip-masked-steps, docs/recurrent.md), dead steps
// (ops::lstmLiveSteps) get output 0 and no work: no steps after the last
// live one, per step the recurrent SGEMM only on the streams from the first
// to the last live one, no gate loop; backward, their gate gradients are 0.
//
//===----------------------------------------------------------------------===//

#include "RecurrentUtil.h"
#include "dlc/Ops/Geometry.h"

#include <algorithm>

namespace dlc::rt {
namespace dnnlk {
namespace {
using namespace rec;

/// The fused gate step of one stream over hidden units [0, len): `g` points
/// at unit 0 of gate i in the stream's row of G (gate k at g + k*H), `b` at
/// the same place in the bias row. Writes the activated gates back into g,
/// c (may be cprev: in place), h and hp = ctNext * h (may be h).
struct LstmForwardStep {
  int64_t H;
  float *g;
  const float *b;
  float ct;
  const float *cprev;
  float *c, *h, *hp;
  float ctNext;

  template <bool Full>
  DLC_REC_INLINE void run(int64_t k, int64_t m) const {
    float *gi = g + k, *gf = gi + H, *go = gi + 2 * H, *gg = gi + 3 * H;
    const float *bi = b + k, *bf = bi + H, *bo = bi + 2 * H, *bg = bi + 3 * H;
    const v16 i = sigmoidV(load<Full>(gi, m) + load<Full>(bi, m));
    const v16 f = sigmoidV(load<Full>(gf, m) + load<Full>(bf, m));
    const v16 o = sigmoidV(load<Full>(go, m) + load<Full>(bo, m));
    const v16 u = tanhV(load<Full>(gg, m) + load<Full>(bg, m));
    store<Full>(gi, i, m);
    store<Full>(gf, f, m);
    store<Full>(go, o, m);
    store<Full>(gg, u, m);
    const v16 fc = ct == 0.f ? v16{} : ct * f;
    const v16 cv = fc * load<Full>(cprev + k, m) + i * u;
    store<Full>(c + k, cv, m);
    const v16 hv = o * tanhV(cv);
    store<Full>(h + k, hv, m);
    store<Full>(hp + k, ctNext * hv, m);
  }
};

DLC_CPU_CLONES void lstmCellForward(int64_t len, const LstmForwardStep &s) { chunks(len, s); }

/// The backward gate step of one stream at step t: `g` holds the activated
/// gates (layout as LstmForwardStep) and receives the pre-activation
/// gradients; dh = dy + ctNext * dhn (dhn = dG_{t+1} w_hc of this stream);
/// dc carries d(loss)/dc from step t+1 in and to step t-1 out.
struct LstmBackwardStep {
  int64_t H;
  float *g;
  const float *c, *cprev, *dy, *dhn;
  float ctNext;
  float *dc;
  float ct;

  template <bool Full>
  DLC_REC_INLINE void run(int64_t k, int64_t m) const {
    float *gi = g + k, *gf = gi + H, *go = gi + 2 * H, *gg = gi + 3 * H;
    const v16 i = load<Full>(gi, m), f = load<Full>(gf, m);
    const v16 o = load<Full>(go, m), u = load<Full>(gg, m);
    const v16 tc = tanhV(load<Full>(c + k, m));
    const v16 dh = load<Full>(dy + k, m) + ctNext * load<Full>(dhn + k, m);
    const v16 dct = load<Full>(dc + k, m) + dh * o * (1.f - tc * tc);
    const bool reset = ct == 0.f;
    store<Full>(gi, dct * u * i * (1.f - i), m);
    store<Full>(gf, reset ? v16{} : dct * load<Full>(cprev + k, m) * ct * f * (1.f - f), m);
    store<Full>(go, dh * tc * o * (1.f - o), m);
    store<Full>(gg, dct * i * (1.f - u * u), m);
    store<Full>(dc + k, reset ? v16{} : dct * ct * f, m);
  }
};

DLC_CPU_CLONES void lstmCellBackward(int64_t len, const LstmBackwardStep &s) { chunks(len, s); }

/// The shared geometry of a validated lstm description (operand positions
/// with or without x_static and mask).
ops::RecurrentGeometry lstmGeometry(const KernelDesc &fwd) {
  ops::RecurrentGeometry g;
  check(fwd, ops::lstmGeometry(attrsOf<ops::LSTMAttrs>(fwd), fwd.inputs, g));
  return g;
}

/// The operands of lstm in a kernel's inputs.
struct LstmIn {
  const float *x, *cont, *xs = nullptr, *wxc, *bc, *wxs = nullptr, *whc, *mask = nullptr;
  LstmIn(const float *const *in, const ops::RecurrentGeometry &g) {
    x = in[0];
    cont = in[1];
    wxc = in[g.firstWeight];
    bc = in[g.firstWeight + 1];
    if (g.xStatic >= 0) {
      xs = in[g.xStatic];
      wxs = in[g.wStatic];
      whc = in[g.wStatic + 1];
    } else {
      whc = in[g.firstWeight + 2];
    }
    if (g.mask >= 0)
      mask = in[g.mask];
  }
};

/// Fills [p, p + len) with 0.
inline void zero(float *p, int64_t len) { std::fill(p, p + len, 0.f); }

/// What an lstm forward kernel hands to the lstm_grad kernel of its layer
/// (DnnlContext::shared, by layer and sizes): the activated gates, c and Hp
/// of every step, so that the backward does not run the forward again. The
/// forward keeps them only when a backward kernel was created for the
/// layer (consumers > 0). `stamp` identifies the run that wrote them: the
/// operand and result addresses and a sample of their values; the backward
/// uses them only when its own operands give the same stamp, and then
/// consumes them (it turns G into dG in place).
struct LstmSaved {
  Buffer G, C, Hp;
  int consumers = 0;
  bool valid = false;
  uint64_t stamp = 0;
};

/// FNV-1a over the operand addresses and 16 sampled values of x and y.
uint64_t runStamp(const LstmIn &o, const float *y, int64_t xLen, int64_t yLen) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint64_t v) {
    for (int b = 0; b < 8; ++b)
      h = (h ^ ((v >> (8 * b)) & 0xff)) * 1099511628211ull;
  };
  for (const float *p : {o.x, o.cont, o.xs, o.wxc, o.bc, o.wxs, o.whc, o.mask, y})
    mix(uint64_t(reinterpret_cast<uintptr_t>(p)));
  for (auto [p, n] : {std::pair<const float *, int64_t>{o.x, xLen}, {y, yLen}})
    for (int64_t k = 0; k < 16 && n > 0; ++k) {
      uint32_t bits;
      std::memcpy(&bits, p + (k * 7919) % n, sizeof bits);
      mix(bits);
    }
  return h;
}

/// lstm (gd == nullptr) and lstm_grad.
class LstmKernel : public DnnlKernelBase {
public:
  LstmKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc *gd)
      : DnnlKernelBase(desc, ctx), prefix_(desc.errorPrefix()),
        g_(lstmGeometry(gd ? gd->fwd : desc)), backward_(gd),
        clock_(gd ? std::vector<std::string>{"forward steps", "backpropagation through time",
                                             "gradients"}
                  : std::vector<std::string>{"input projection", "recurrence"}) {
    const int64_t T = g_.t, N = g_.n, H = g_.h, NH = N * H, G4 = 4 * H;
    if (g_.xStatic >= 0)
      base_.resize(size_t(N * G4));
    live_.reserve(size_t(T * N));
    first_.assign(size_t(T), 0);
    end_.assign(size_t(T), N);
    zeros_.assign(size_t(NH), 0.f);
    dummy_.resize(size_t(NH));
    saved_ = ctx.shared<LstmSaved>("lstm:" + desc.layer + ":" + std::to_string(T) + "x" +
                                   std::to_string(N) + "x" + std::to_string(g_.in) + "x" +
                                   std::to_string(H) + "x" + std::to_string(g_.inStatic) +
                                   (g_.mask >= 0 ? "m" : ""));
    impl_ = gd ? "dlc:lstm-bptt+sgemm" : "dlc:lstm+sgemm";
    genForward_ = generatedCell<ops::LstmForwardCell>(desc, ops::Cell::LstmForward, impl_);
    if (!gd) {
      G_.resize(size_t(T * N * G4));
      C_.resize(size_t(NH));
      hp_.resize(size_t(NH));
      return;
    }
    genBackward_ = generatedCell<ops::LstmBackwardCell>(desc, ops::Cell::LstmBackward, impl_);
    ++saved_->consumers;
    saved_->G.resize(size_t(T * N * G4));
    saved_->C.resize(size_t(T * NH));
    saved_->Hp.resize(size_t(T * NH));
    dhn_.resize(size_t(NH));
    dc_.resize(size_t(NH));
    const bool s = g_.xStatic >= 0;
    outX_ = gd->outputOf(0);
    outXs_ = s ? gd->outputOf(g_.xStatic) : -1;
    outWxc_ = gd->outputOf(g_.firstWeight);
    outBc_ = gd->outputOf(g_.firstWeight + 1);
    outWxs_ = s ? gd->outputOf(g_.wStatic) : -1;
    outWhc_ = gd->outputOf(s ? g_.wStatic + 1 : g_.firstWeight + 2);
    dyIdx_ = gd->gradIn(0);
    yIdx_ = gd->resultIn(0);
    if (outXs_ >= 0 || outWxs_ >= 0)
      S_.resize(size_t(N * G4));
  }

  void forward(const float *const *in, float *const *out) override {
    LstmIn o(in, g_);
    clock_.start();
    liveSteps(o);
    const int64_t xLen = g_.t * g_.n * g_.in, yLen = g_.t * g_.n * g_.h;
    LstmSaved &sv = *saved_;
    if (!backward_) {
      if (sv.consumers > 0) { // keep every step for the backward
        pass(o, out[0], sv.G.data(), sv.C.data(), sv.Hp.data());
        sv.valid = true;
        sv.stamp = runStamp(o, out[0], xLen, yLen);
      } else {
        pass(o, out[0], G_.data(), C_.data(), hp_.data());
      }
      return;
    }
    const float *y = in[yIdx_];
    if (!(sv.valid && sv.stamp == runStamp(o, y, xLen, yLen)))
      pass(o, nullptr, sv.G.data(), sv.C.data(), sv.Hp.data());
    sv.valid = false; // G becomes dG
    clock_.next(0);
    backwardThroughTime(o, in[dyIdx_]);
    clock_.next(1);
    gradients(o, out);
    clock_.next(2);
  }

  std::vector<Phase> phases() const override { return clock_.phases(); }

private:
  /// live_, tEnd_ and each step's range of streams [first_, end_) that has
  /// every live one, from the mask (all live without one).
  void liveSteps(const LstmIn &o) {
    const int64_t T = g_.t, N = g_.n;
    tEnd_ = T;
    if (!o.mask)
      return;
    ops::lstmLiveSteps(o.cont, o.mask, T, N, live_);
    tEnd_ = 0;
    for (int64_t t = 0; t < T; ++t) {
      int64_t a = N, b = 0;
      for (int64_t n = 0; n < N; ++n)
        if (live_[size_t(t * N + n)]) {
          a = std::min(a, n);
          b = n + 1;
        }
      first_[size_t(t)] = a < b ? a : 0;
      end_[size_t(t)] = a < b ? b : 0;
      if (a < b)
        tEnd_ = t + 1;
    }
  }
  bool live(int64_t t, int64_t n) const { return live_.empty() || live_[size_t(t * g_.n + n)]; }

  /// The bias rows B (b_c, + x_static w_xc_static^T per stream) and their
  /// stride (0: one row for all streams).
  std::pair<const float *, int64_t> biasRows(const LstmIn &o) {
    const int64_t G4 = 4 * g_.h, Is = g_.inStatic;
    if (g_.xStatic < 0)
      return {o.bc, 0};
    float *b = base_.data();
    sgemm(prefix_, 'N', 'T', g_.n, G4, Is, o.xs, Is, o.wxs, Is, 0.f, b, G4);
    for (int64_t n = 0; n < g_.n; ++n)
      for (int64_t r = 0; r < G4; ++r)
        b[n * G4 + r] += o.bc[r];
    return {b, G4};
  }

  /// The forward pass over the steps before tEnd_, h into y (0 from tEnd_
  /// on) unless y is null, the gates into G [T*N, 4H]. C and Hp are [N, H]
  /// (c in place, one Hp) when they are the forward kernel's own buffers,
  /// else [T, N, H]: c and Hp of every step, the activated gates kept in G,
  /// for the backward.
  void pass(const LstmIn &o, float *y, float *G, float *C, float *Hp) {
    const int64_t T = g_.t, N = g_.n, H = g_.h, I = g_.in, NH = N * H, G4 = 4 * H;
    const int64_t tEnd = tEnd_;
    const bool keep = !(!backward_ && C == C_.data());
    const std::pair<const float *, int64_t> rowsOfB = biasRows(o);
    const float *bias = rowsOfB.first;
    const int64_t bstride = rowsOfB.second;
    sgemm(prefix_, 'N', 'T', tEnd * N, G4, I, o.x, I, o.wxc, I, 0.f, G, G4);
    if (!backward_)
      clock_.next(0);
    if (!keep) {
      zero(C, NH);
      zero(Hp, NH);
    }
    if (y)
      zero(y + tEnd * NH, (T - tEnd) * NH);
    for (int64_t t = 0; t < tEnd; ++t) {
      float *Gt = G + t * N * G4;
      const int64_t a = first_[size_t(t)], b = end_[size_t(t)];
      if (t > 0 && a < b)
        sgemm(prefix_, 'N', 'T', b - a, G4, H, (keep ? Hp + t * NH : Hp) + a * H, H, o.whc, H,
              1.f, Gt + a * G4, G4);
      const float *ct = o.cont + t * N;
      const float *cn = t + 1 < T ? o.cont + (t + 1) * N : nullptr;
      float *cOut = keep ? C + t * NH : C;
      const float *cIn = !keep ? C : t > 0 ? C + (t - 1) * NH : zeros_.data();
      float *hOut = y ? y + t * NH : dummy_.data();
      float *hpOut = !keep ? Hp : t + 1 < T ? Hp + (t + 1) * NH : dummy_.data();
      forRows(N, H, [&](int64_t n, int64_t lo, int64_t hi) {
        const int64_t r = n * H + lo;
        if (!live(t, n)) { // a dead step: output and state 0
          zero(cOut + r, hi - lo);
          zero(hOut + r, hi - lo);
          zero(hpOut + r, hi - lo);
          return;
        }
        float *g = Gt + n * G4 + lo;
        const float *bn = bias + n * bstride + lo, ctn = cn ? cn[n] : 0.f;
        if (genForward_)
          genForward_(g, bn, cIn + r, cOut + r, hOut + r, hpOut + r, ct[n], ctn, hi - lo);
        else
          lstmCellForward(hi - lo,
                          {H, g, bn, ct[n], cIn + r, cOut + r, hOut + r, hpOut + r, ctn});
      });
    }
    if (!backward_)
      clock_.next(1);
  }

  /// Turns G_ (activated gates) into dG, t = tEnd_-1 .. 0.
  void backwardThroughTime(const LstmIn &o, const float *dy) {
    const int64_t T = g_.t, N = g_.n, H = g_.h, NH = N * H, G4 = 4 * H;
    float *G = saved_->G.data(), *dhn = dhn_.data(), *dc = dc_.data();
    const float *C = saved_->C.data();
    zero(dhn, NH);
    zero(dc, NH);
    for (int64_t t = tEnd_; t-- > 0;) {
      float *Gt = G + t * N * G4;
      const float *ct = o.cont + t * N;
      const float *cn = t + 1 < T ? o.cont + (t + 1) * N : nullptr;
      const float *cIn = t > 0 ? C + (t - 1) * NH : zeros_.data();
      forRows(N, H, [&](int64_t n, int64_t lo, int64_t hi) {
        const int64_t r = n * H + lo;
        if (!live(t, n)) { // no gradient flows through a dead step
          for (int64_t k = 0; k < 4; ++k)
            zero(Gt + n * G4 + k * H + lo, hi - lo);
          zero(dc + r, hi - lo);
          return;
        }
        float *g = Gt + n * G4 + lo;
        const float ctn = cn ? cn[n] : 0.f;
        if (genBackward_)
          genBackward_(g, C + t * NH + r, cIn + r, dy + t * NH + r, dhn + r, dc + r, ct[n], ctn,
                       hi - lo);
        else
          lstmCellBackward(hi - lo,
                           {H, g, C + t * NH + r, cIn + r, dy + t * NH + r, dhn + r, ctn, dc + r,
                            ct[n]});
      });
      if (t > 0)
        sgemm(prefix_, 'N', 'N', N, H, G4, Gt, G4, o.whc, H, 0.f, dhn, H);
    }
  }

  /// The wanted gradients from dG (in G_; rows from tEnd_ on are 0).
  void gradients(const LstmIn &o, float *const *out) {
    const int64_t T = g_.t, N = g_.n, H = g_.h, I = g_.in, Is = g_.inStatic, G4 = 4 * H;
    const int64_t rows = tEnd_ * N;
    const float *dG = saved_->G.data();
    if (outWhc_ >= 0)
      sgemm(prefix_, 'T', 'N', G4, H, std::max<int64_t>(rows - N, 0), dG + N * G4, G4,
            saved_->Hp.data() + N * H, H, 0.f, out[outWhc_], H);
    if (outWxc_ >= 0)
      sgemm(prefix_, 'T', 'N', G4, I, rows, dG, G4, o.x, I, 0.f, out[outWxc_], I);
    if (outBc_ >= 0)
      columnSums(dG, rows, G4, G4, out[outBc_]);
    if (outX_ >= 0) {
      sgemm(prefix_, 'N', 'N', rows, I, G4, dG, G4, o.wxc, I, 0.f, out[outX_], I);
      zero(out[outX_] + rows * I, (T * N - rows) * I);
    }
    staticInputGradients(prefix_, dG, tEnd_, N, G4, Is, o.xs, o.wxs, S_.data(),
                         outWxs_ >= 0 ? out[outWxs_] : nullptr,
                         outXs_ >= 0 ? out[outXs_] : nullptr);
  }

  std::string prefix_;
  ops::RecurrentGeometry g_;
  /// The module's generated gate functions (dl-codegen-recurrent), else
  /// null: the built-in loops lstmCellForward / lstmCellBackward.
  ops::LstmForwardCell genForward_ = nullptr;
  ops::LstmBackwardCell genBackward_ = nullptr;
  bool backward_;
  PhaseClock clock_;
  /// The forward kernel's own G [T*N, 4H], c and Hp [N, H] (when no
  /// backward kernel wants its steps); base_: bias rows with x_static;
  /// dhn_, dc_, S_: backward only. Every step's G, c and Hp live in saved_.
  Buffer G_, base_, C_, hp_, zeros_, dummy_, dhn_, dc_, S_;
  std::shared_ptr<LstmSaved> saved_;
  /// With a mask: the live steps, the steps with work [0, tEnd_), per step
  /// the streams [first_, end_) around the live ones.
  std::vector<uint8_t> live_;
  std::vector<int64_t> first_, end_;
  int64_t tEnd_ = 0;
  int outX_ = -1, outXs_ = -1, outWxc_ = -1, outBc_ = -1, outWxs_ = -1, outWhc_ = -1;
  size_t dyIdx_ = 0, yIdx_ = 0;
};

std::unique_ptr<Kernel> createLstm(const KernelDesc &desc, DnnlContext &ctx) {
  return std::make_unique<LstmKernel>(desc, ctx, nullptr);
}

std::unique_ptr<Kernel> createLstmGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  return std::make_unique<LstmKernel>(desc, ctx, &gd);
}

} // namespace

DLC_REGISTER_KERNELS(DLC_DNNL_KERNEL("lstm", Forward, createLstm, emptyWhyNot),
                     DLC_DNNL_KERNEL("lstm", Backward, createLstmGrad, emptyWhyNot));

} // namespace dnnlk
} // namespace dlc::rt

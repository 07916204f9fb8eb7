//===- ConvFft.cpp - dlc's FFT convolution (forward and backward) ---------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The "fft" convolution algorithm (stride 1, no dilation, any groups) in all
// three directions, on the plan of dlc/Ops/ConvAlgorithms.h (lib/Ops/Fft.cpp
// has the math and the operand layouts): tiles of the operands are
// transformed (FftTransforms.h: DFT matrix products up to 64 x 64, kissfft
// above) straight into the operands of
// one batched oneDNN matmul (per group and frequency, a real GEMM giving the
// four real products of a complex one), whose result the inverse
// transforms combine and crop. With the input zero-padded (xp):
//   forward           Y[p,k]  = sum_c X[p,c] conj(W[k,c])   (correlation)
//   backward data     DXP[p,c] = sum_k DY[p,k] W[k,c]       (full convolution)
//   backward weights  DW[k,c] = sum_p XP[p,c] conj(DY[p,k]) (first kh x kw)
// The weight transform is cached while the weights are parameters. The
// kernels work on plain NCHW (plainLayoutKernel converts blocked layouts).
//
//===----------------------------------------------------------------------===//

#include "ConvAlgos.h"
#include "FftTransforms.h"

#include <omp.h>

namespace dlc::rt {
namespace dnnlk {
namespace {

/// Calls f(thread, q) for q in [0, count) on `threads` OpenMP threads, in
/// contiguous chunks (neighbouring planes scatter into neighbouring floats).
template <typename F>
void parallelPlanes(int threads, int64_t count, F &&f) {
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t q = 0; q < count; ++q)
    f(omp_get_thread_num(), q);
}

/// [0, n) in segments of `seg` (channels of a group, or all of it), each
/// split into chunks of at most FftTransforms::kBatch.
struct Chunks {
  Chunks(int64_t n, int64_t seg)
      : seg(seg), perSeg((seg + FftTransforms::kBatch - 1) / FftTransforms::kBatch),
        total(n / seg * perSeg) {}
  /// Chunk j: its first index and its size.
  std::pair<int64_t, int> at(int64_t j) const {
    const int64_t s = j / perSeg, k = j % perSeg * FftTransforms::kBatch;
    return {s * seg + k, int(std::min<int64_t>(FftTransforms::kBatch, seg - k))};
  }
  int64_t seg, perSeg, total;
};

/// One direction of an FFT convolution: the plan, the transforms and the
/// batched per-frequency GEMM R = A * B on buffers of exactly the plan's
/// workspace. Per group and frequency A is 2M x Kin (real rows, then
/// imaginary rows), B is Kin x 2N (real columns, then imaginary columns), R
/// is 2M x 2N.
struct FftPass {
  FftPass(const KernelDesc &desc, const ops::ConvProblem &prob, const ConvGeom &g,
          const dnnl::engine &eng)
      : plan(ops::fftPlan(prob)) {
    if (!plan.whyNot.empty())
      fail(desc, "fft does not apply: " + plan.whyNot);
    G = g.g;
    tiles = plan.tilesH * plan.tilesW;
    P = g.n * tiles;
    F = plan.fftH * (plan.fftW / 2 + 1);
    const int64_t cg = g.c / g.g, kg = g.o / g.g;
    switch (prob.direction) {
    case ops::ConvDirection::Forward:
      M = P, Kin = cg, N = kg;
      break;
    case ops::ConvDirection::BackwardData:
      M = P, Kin = kg, N = cg;
      break;
    case ops::ConvDirection::BackwardWeights:
      M = cg, Kin = P, N = kg;
      break;
    }
    a.assign(size_t(aBlock() * G * F), 0.f);
    b.assign(size_t(bBlock() * G * F), 0.f);
    r.assign(size_t(rBlock() * G * F), 0.f);
    const int64_t bytes = int64_t(sizeof(float) * (a.size() + b.size() + r.size()));
    if (bytes != plan.work.workspaceBytes)
      fail(desc, "internal error: the FFT plan's workspace (" +
                     std::to_string(plan.work.workspaceBytes) + " bytes) is not the kernel's (" +
                     std::to_string(bytes) + ")");
    auto aMd = plainDesc({G * F, 2 * M, Kin}), bMd = plainDesc({G * F, Kin, 2 * N}),
         rMd = plainDesc({G * F, 2 * M, 2 * N});
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(aMd, bMd, rMd), eng);
    mm = dnnl::matmul(pd);
    am = dnnl::memory(aMd, eng, a.data());
    bm = dnnl::memory(bMd, eng, b.data());
    rm = dnnl::memory(rMd, eng, r.data());
    threads = std::max(1, omp_get_max_threads());
    fft = std::make_unique<FftTransforms>(plan.fftH, plan.fftW, threads);
  }

  int64_t aBlock() const { return 2 * M * Kin; }
  int64_t bBlock() const { return Kin * 2 * N; }
  int64_t rBlock() const { return 2 * M * 2 * N; }
  std::string name() const {
    std::string s = "dlc:fft " + std::to_string(plan.fftH) + "x" + std::to_string(plan.fftW);
    if (tiles > 1)
      s += " tiles " + std::to_string(plan.tilesH) + "x" + std::to_string(plan.tilesW);
    return s + (FftTransforms::usesDft(plan.fftH, plan.fftW) ? " (dft-gemm)" : " (kissfft)");
  }

  /// Transforms windows of every image's channel planes (`chans` planes of
  /// h x w per image in `src`) into the operand `dst` (A or B, `block`
  /// floats per group and frequency): the window of tile (ty, tx) starts at
  /// (ty * tileH + offH, tx * tileW + offW) and has rows x cols (the rest is
  /// zero). Element (p, channel-in-group ch) is at p * sp + ch * sc, its
  /// imaginary part imOff further. `pInner`: batches of neighbouring p (sp
  /// must be 1), else of neighbouring channels (sc must be 1).
  void windows(const float *src, int64_t chans, int64_t h, int64_t w, int64_t offH, int64_t offW,
               int64_t rows, int64_t cols, float *dst, int64_t block, int64_t sp, int64_t sc,
               int64_t imOff, bool pInner) {
    const int64_t perGroup = chans / G;
    const Chunks ck = pInner ? Chunks(P, P) : Chunks(chans, perGroup);
    parallelPlanes(threads, (pInner ? chans : P) * ck.total, [&](int t, int64_t q) {
      const int64_t o = q / ck.total;
      const auto [start, count] = ck.at(q % ck.total);
      FftWindow in[FftTransforms::kBatch];
      for (int i = 0; i < count; ++i) {
        const int64_t p = pInner ? start + i : o, ch = pInner ? o : start + i;
        const int64_t n = p / tiles, ty = p % tiles / plan.tilesW, tx = p % tiles % plan.tilesW;
        in[i] = FftWindow{src + (n * chans + ch) * h * w, h, w, ty * plan.tileH + offH,
                          tx * plan.tileW + offW, rows, cols};
      }
      const int64_t p = pInner ? start : o, ch = pInner ? o : start;
      fft->forward(t, in, count,
                   dst + (ch / perGroup) * F * block + p * sp + (ch % perGroup) * sc, block,
                   imOff);
    });
  }

  /// Transforms the weights w [K, C/g, kh, kw] into B: element (k, c) of a
  /// group's block at k * sk + c * sc (group-relative), imaginary imOff
  /// further; `kInner`: batches of neighbouring k (sk must be 1), else of
  /// neighbouring c (sc must be 1).
  void weights(const ConvGeom &g, const float *w, int64_t sk, int64_t sc, int64_t imOff,
               bool kInner) {
    const int64_t cg = g.c / g.g, kg = g.o / g.g;
    const int64_t inner = kInner ? kg : cg, outer = kInner ? cg : kg;
    const Chunks ck(inner, inner);
    parallelPlanes(threads, G * outer * ck.total, [&](int t, int64_t q) {
      const int64_t gi = q / (outer * ck.total), rest = q % (outer * ck.total);
      const int64_t o = rest / ck.total;
      const auto [start, count] = ck.at(rest % ck.total);
      FftWindow in[FftTransforms::kBatch];
      for (int i = 0; i < count; ++i) {
        const int64_t k = kInner ? start + i : o, c = kInner ? o : start + i;
        in[i] = FftWindow{w + ((gi * kg + k) * cg + c) * g.kh * g.kw, g.kh, g.kw, 0, 0, g.kh,
                          g.kw};
      }
      const int64_t k = kInner ? start : o, c = kInner ? o : start;
      fft->forward(t, in, count, b.data() + gi * F * bBlock() + k * sk + c * sc, bBlock(),
                   imOff);
    });
  }

  /// The product of row a and column b of group gi's blocks of R.
  FftProduct product(int64_t gi, int64_t ra, int64_t cb, bool conjB) const {
    FftProduct s;
    s.r = r.data() + gi * F * rBlock();
    s.fStride = rBlock();
    s.o00 = ra * 2 * N + cb;
    s.o01 = s.o00 + N;
    s.o10 = (M + ra) * 2 * N + cb;
    s.o11 = s.o10 + N;
    s.conjB = conjB;
    return s;
  }

  /// Inverse transforms of the tiles of R's rows p (images x tiles) and
  /// columns ch (channels in group): rows [rs, rs + tileH) and columns
  /// [cs, cs + tileW) of each go to tile (ty, tx) of plane (n, ch) of dst
  /// (`chans` planes of h x w per image), cropped, plus bias[ch].
  void tilesOut(float *dst, int64_t chans, int64_t h, int64_t w, int64_t rs, int64_t cs,
                const float *bias, bool conjB) {
    const int64_t perGroup = chans / G;
    const Chunks ck(chans, perGroup);
    parallelPlanes(threads, P * ck.total, [&](int t, int64_t q) {
      const int64_t p = q / ck.total;
      const auto [ch, count] = ck.at(q % ck.total);
      const int64_t n = p / tiles, ty = p % tiles / plan.tilesW, tx = p % tiles % plan.tilesW;
      const int64_t rows = std::min(plan.tileH, h - ty * plan.tileH),
                    cols = std::min(plan.tileW, w - tx * plan.tileW);
      fft->inverse(t, product(ch / perGroup, p, ch % perGroup, conjB), count, rs, rows, cs, cols,
                   dst + (n * chans + ch) * h * w + ty * plan.tileH * w + tx * plan.tileW,
                   h * w, w, bias ? bias + ch : nullptr);
    });
  }

  ops::FftPlan plan;
  int64_t G = 1, tiles = 1, P = 0, F = 0, M = 0, Kin = 0, N = 0;
  int threads = 1;
  std::vector<float> a, b, r;
  std::unique_ptr<FftTransforms> fft;
  dnnl::matmul mm;
  dnnl::memory am, bm, rm;
};

/// Forward: y = x (*) w (+ b).
class FftConvKernel : public DnnlKernelBase {
public:
  FftConvKernel(const KernelDesc &desc, DnnlContext &ctx, const ops::ConvProblem &prob)
      : DnnlKernelBase(desc, ctx), g_(convGeometry(desc, false)), pass_(desc, prob, g_, eng_),
        cacheW_(isParam(desc, 1)) {
    impl_ = pass_.name();
  }

  void forward(const float *const *in, float *const *out) override {
    FftPass &s = pass_;
    const int64_t cg = g_.c / g_.g, kg = g_.o / g_.g;
    // A: x windows, (p, c) at p * Cg + c. B: W, (c, k) at c * 2Kg + k; the
    // inverse takes A * conj(B).
    s.windows(in[0], g_.c, g_.h, g_.w, -g_.ph, -g_.pw, s.plan.fftH, s.plan.fftW, s.a.data(),
              s.aBlock(), cg, 1, s.P * cg, false);
    if (!wValid_) {
      s.weights(g_, in[1], 1, 2 * kg, kg, true);
      wValid_ = cacheW_;
    }
    exec(s.mm, {{DNNL_ARG_SRC, s.am}, {DNNL_ARG_WEIGHTS, s.bm}, {DNNL_ARG_DST, s.rm}});
    wait();
    s.tilesOut(out[0], g_.o, g_.oh, g_.ow, 0, 0, g_.hasBias ? in[2] : nullptr, true);
  }

  void paramsChanged() override { wValid_ = false; }

private:
  ConvGeom g_;
  FftPass pass_;
  bool cacheW_, wValid_ = false;
};

/// Backward: any of dx, dW and db (GradDesc); dx and dW have their own
/// plans (and transforms of dy).
class FftConvGradKernel : public DnnlKernelBase {
public:
  FftConvGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd)
      : DnnlKernelBase(desc, ctx), g_(convGeometry(gd.fwd, false)), dyIdx_(gd.gradIn()),
        outDx_(gd.outputOf(0)), outDw_(gd.outputOf(1)), outDb_(gd.outputOf(2)),
        cacheW_(isParam(desc, 1)) {
    if (outDx_ >= 0) {
      data_ = std::make_unique<FftPass>(
          desc, convProblem(gd.fwd, ops::ConvDirection::BackwardData), g_, eng_);
      impl_ = "data:" + data_->name();
    }
    if (outDw_ >= 0) {
      weights_ = std::make_unique<FftPass>(
          desc, convProblem(gd.fwd, ops::ConvDirection::BackwardWeights), g_, eng_);
      impl_ += (impl_.empty() ? "weights:" : " weights:") + weights_->name();
    }
    if (outDb_ >= 0)
      impl_ += std::string(impl_.empty() ? "" : " ") + "bias:dlc-reduction";
  }

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *w = in[1], *dy = in[dyIdx_];
    const int64_t cg = g_.c / g_.g, kg = g_.o / g_.g;
    if (outDx_ >= 0) {
      FftPass &s = *data_;
      // A: dy windows ending kh-1 before the tile, (p, k) at p * Kg + k.
      // B: W, (k, c) at k * 2Cg + c. dx is the tile's last rows/columns.
      s.windows(dy, g_.o, g_.oh, g_.ow, g_.ph - (g_.kh - 1), g_.pw - (g_.kw - 1), s.plan.fftH,
                s.plan.fftW, s.a.data(), s.aBlock(), kg, 1, s.P * kg, false);
      if (!wValid_) {
        s.weights(g_, w, 2 * cg, 1, cg, false);
        wValid_ = cacheW_;
      }
      exec(s.mm, {{DNNL_ARG_SRC, s.am}, {DNNL_ARG_WEIGHTS, s.bm}, {DNNL_ARG_DST, s.rm}});
      wait();
      s.tilesOut(out[outDx_], g_.c, g_.h, g_.w, g_.kh - 1, g_.kw - 1, nullptr, false);
    }
    if (outDw_ >= 0) {
      FftPass &s = *weights_;
      // A: x windows, (c, p) at c * P + p. B: dy tiles (zero beyond the
      // tile), (p, k) at p * 2Kg + k.
      s.windows(x, g_.c, g_.h, g_.w, -g_.ph, -g_.pw, s.plan.fftH, s.plan.fftW, s.a.data(),
                s.aBlock(), 1, s.P, cg * s.P, true);
      s.windows(dy, g_.o, g_.oh, g_.ow, 0, 0, s.plan.tileH, s.plan.tileW, s.b.data(), s.bBlock(),
                2 * kg, 1, kg, false);
      exec(s.mm, {{DNNL_ARG_SRC, s.am}, {DNNL_ARG_WEIGHTS, s.bm}, {DNNL_ARG_DST, s.rm}});
      wait();
      float *dw = out[outDw_];
      const int64_t khw = g_.kh * g_.kw;
      const Chunks ck(kg, kg);
      parallelPlanes(s.threads, g_.g * cg * ck.total, [&](int t, int64_t q) {
        const int64_t gi = q / (cg * ck.total), c = q % (cg * ck.total) / ck.total;
        const auto [k, count] = ck.at(q % ck.total);
        s.fft->inverse(t, s.product(gi, c, k, true), count, 0, g_.kh, 0, g_.kw,
                       dw + ((gi * kg + k) * cg + c) * khw, cg * khw, g_.kw, nullptr);
      });
    }
    if (outDb_ >= 0) {
      float *db = out[outDb_];
      const int64_t O = g_.o, Nn = g_.n, plane = g_.oh * g_.ow;
#pragma omp parallel for
      for (int64_t o = 0; o < O; ++o) {
        double acc = 0;
        for (int64_t n = 0; n < Nn; ++n) {
          const float *row = dy + (n * O + o) * plane;
          float part = 0.f;
          for (int64_t i = 0; i < plane; ++i)
            part += row[i];
          acc += part;
        }
        db[o] = float(acc);
      }
    }
  }

  void paramsChanged() override { wValid_ = false; }

private:
  ConvGeom g_;
  size_t dyIdx_;
  int outDx_, outDw_, outDb_;
  bool cacheW_, wValid_ = false;
  std::unique_ptr<FftPass> data_, weights_;
};

std::unique_ptr<Kernel> makeFftForward(const KernelDesc &desc, DnnlContext &ctx) {
  ops::ConvProblem prob = convProblem(desc, ops::ConvDirection::Forward);
  requireApplicable(desc, prob, "fft");
  return plainLayoutKernel(desc,
                           std::make_unique<FftConvKernel>(plainLayoutDesc(desc), ctx, prob));
}

std::unique_ptr<Kernel> makeFftBackward(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  if (gd.wants(0))
    requireApplicable(desc, convProblem(gd.fwd, ops::ConvDirection::BackwardData), "fft");
  if (gd.wants(1) || gd.wants(2))
    requireApplicable(desc, convProblem(gd.fwd, ops::ConvDirection::BackwardWeights), "fft");
  KernelDesc plain = plainLayoutDesc(desc);
  return plainLayoutKernel(desc,
                           std::make_unique<FftConvGradKernel>(plain, ctx, gradDesc(plain)));
}

static ConvAlgoRegistration reg{{"fft", makeFftForward, makeFftBackward}};

} // namespace
} // namespace dnnlk
} // namespace dlc::rt

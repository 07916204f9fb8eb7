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
// activations (x, y, dy, dx) are read and written in their own layouts,
// plain or channel-blocked (nChw8c / nChw16c), by the transforms directly.
// The batched GEMM runs on chunks of the images x tiles, so that the
// workspace does not grow with the batch (ops::fftChunk).
//
//===----------------------------------------------------------------------===//

#include "ConvAlgos.h"
#include "FftTransforms.h"

#include <omp.h>

#include <map>

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

/// An activation [N, C, H, W], plain or channel-blocked (docs/layouts.md;
/// blocked only when C is a multiple of the block): plane (n, c) starts at
/// plane(n, c), element (h, w) of it is h * ld + w * step further.
struct Act {
  Act(float *p, int64_t c, int64_t h, int64_t w, int block)
      : p(p), c(c), h(h), w(w), b(block > 0 && c % block == 0 ? block : 1),
        ld(w * b), step(b) {}
  float *plane(int64_t n, int64_t ch) const {
    return p + (n * c + ch / b * b) * h * w + ch % b;
  }
  float *p;
  int64_t c, h, w, b, ld, step;
};

/// One direction of an FFT convolution: the plan, the transforms and the
/// batched per-frequency GEMMs R = A * B on buffers of exactly the plan's
/// workspace, over chunks of P (images x tiles; ops::fftChunk). Per group
/// and frequency A is 2M x Kin (real rows, then imaginary rows), B is
/// Kin x 2N (real columns, then imaginary columns), R is 2M x 2N; M (or Kin
/// for backward weights) is the current chunk's size.
struct FftPass {
  FftPass(const KernelDesc &desc, const ops::ConvProblem &prob, const ConvGeom &g,
          const dnnl::engine &eng)
      : plan(ops::fftPlan(prob)), dir(prob.direction), eng(eng) {
    if (!plan.whyNot.empty())
      fail(desc, "fft does not apply: " + plan.whyNot);
    G = g.g;
    tiles = plan.tilesH * plan.tilesW;
    P = g.n * tiles;
    F = plan.fftH * (plan.fftW / 2 + 1);
    chunk = ops::fftChunk(prob, plan);
    cg = g.c / g.g, kg = g.o / g.g;
    setChunk(chunk);
    a.assign(size_t(aBlock() * G * F), 0.f);
    b.assign(size_t(bBlock() * G * F), 0.f);
    r.assign(size_t(rBlock() * G * F), 0.f);
    const int slots = ops::fftScratchSlots();
    threads = std::max(1, std::min(omp_get_max_threads(), slots));
    fft = std::make_unique<FftTransforms>(plan.fftH, plan.fftW, slots);
    const int64_t bytes =
        int64_t(sizeof(float) * (a.size() + b.size() + r.size())) + fft->scratchBytes();
    if (bytes != plan.work.workspaceBytes)
      fail(desc, "internal error: the FFT plan's workspace (" +
                     std::to_string(plan.work.workspaceBytes) + " bytes) is not the kernel's (" +
                     std::to_string(bytes) + ")");
  }

  /// Sizes the GEMM for a chunk of pc entries of P.
  void setChunk(int64_t pc) {
    switch (dir) {
    case ops::ConvDirection::Forward:
      M = pc, Kin = cg, N = kg;
      break;
    case ops::ConvDirection::BackwardData:
      M = pc, Kin = kg, N = cg;
      break;
    case ops::ConvDirection::BackwardWeights:
      M = cg, Kin = pc, N = kg;
      break;
    }
  }
  int64_t aBlock() const { return 2 * M * Kin; }
  int64_t bBlock() const { return Kin * 2 * N; }
  int64_t rBlock() const { return 2 * M * 2 * N; }
  int64_t chunks() const { return (P + chunk - 1) / chunk; }
  /// Sets the chunk j's size; returns its first entry of P.
  int64_t enter(int64_t j) {
    const int64_t p0 = j * chunk;
    setChunk(std::min(chunk, P - p0));
    return p0;
  }
  std::string name() const {
    std::string s = "dlc:fft " + std::to_string(plan.fftH) + "x" + std::to_string(plan.fftW);
    if (tiles > 1)
      s += " tiles " + std::to_string(plan.tilesH) + "x" + std::to_string(plan.tilesW);
    if (chunk < P)
      s += " chunks " + std::to_string(chunks());
    return s + (FftTransforms::usesDft(plan.fftH, plan.fftW) ? " (dft-gemm)" : " (kissfft)");
  }

  struct Mm {
    dnnl::matmul mm;
    dnnl::memory am, bm, rm;
  };
  /// The GEMM R = A * B (+ R when `accumulate`) at the current sizes.
  const Mm &gemm(bool accumulate) {
    const int64_t id = (dir == ops::ConvDirection::BackwardWeights ? Kin : M) * 2 + accumulate;
    auto it = mms.find(id);
    if (it == mms.end()) {
      auto aMd = plainDesc({G * F, 2 * M, Kin}), bMd = plainDesc({G * F, Kin, 2 * N}),
           rMd = plainDesc({G * F, 2 * M, 2 * N});
      dnnl::primitive_attr attr;
      if (accumulate) {
        dnnl::post_ops po;
        po.append_sum(1.f);
        attr.set_post_ops(po);
      }
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(aMd, bMd, rMd), attr, eng);
      Mm m{dnnl::matmul(pd), dnnl::memory(aMd, eng, a.data()), dnnl::memory(bMd, eng, b.data()),
           dnnl::memory(rMd, eng, r.data())};
      it = mms.emplace(id, std::move(m)).first;
    }
    return it->second;
  }

  /// Transforms windows of the planes of `src` for P's entries [p0, p0 + pc)
  /// into the operand `dst` (A or B, `block` floats per group and
  /// frequency): the window of tile (ty, tx) starts at (ty * tileH + offH,
  /// tx * tileW + offW) and has rows x cols (the rest is zero). Element (p -
  /// p0, channel-in-group ch) is at (p - p0) * sp + ch * sc, its imaginary
  /// part imOff further. `pInner`: batches of neighbouring p (sp must be 1),
  /// else of neighbouring channels (sc must be 1).
  void windows(const Act &src, int64_t offH, int64_t offW, int64_t rows, int64_t cols, float *dst,
               int64_t block, int64_t sp, int64_t sc, int64_t imOff, bool pInner, int64_t p0,
               int64_t pc) {
    const int64_t chans = src.c, perGroup = chans / G;
    const Chunks ck = pInner ? Chunks(pc, pc) : Chunks(chans, perGroup);
    parallelPlanes(threads, (pInner ? chans : pc) * ck.total, [&](int t, int64_t q) {
      const int64_t o = q / ck.total;
      const auto [start, count] = ck.at(q % ck.total);
      FftWindow in[FftTransforms::kBatch];
      for (int i = 0; i < count; ++i) {
        const int64_t p = p0 + (pInner ? start + i : o), ch = pInner ? o : start + i;
        const int64_t n = p / tiles, ty = p % tiles / plan.tilesW, tx = p % tiles % plan.tilesW;
        in[i] = FftWindow{src.plane(n, ch), src.h,  src.w, src.ld, src.step,
                          ty * plan.tileH + offH,   tx * plan.tileW + offW, rows, cols};
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
    const int64_t inner = kInner ? kg : cg, outer = kInner ? cg : kg;
    const Chunks ck(inner, inner);
    parallelPlanes(threads, G * outer * ck.total, [&](int t, int64_t q) {
      const int64_t gi = q / (outer * ck.total), rest = q % (outer * ck.total);
      const int64_t o = rest / ck.total;
      const auto [start, count] = ck.at(rest % ck.total);
      FftWindow in[FftTransforms::kBatch];
      for (int i = 0; i < count; ++i) {
        const int64_t k = kInner ? start + i : o, c = kInner ? o : start + i;
        in[i] = FftWindow{w + ((gi * kg + k) * cg + c) * g.kh * g.kw, g.kh, g.kw, g.kw, 1, 0, 0,
                          g.kh, g.kw};
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

  /// Inverse transforms of R's rows p - p0 for P's entries [p0, p0 + pc)
  /// and columns ch (channels in group): rows [rs, rs + tileH) and columns
  /// [cs, cs + tileW) of each go to tile (ty, tx) of plane (n, ch) of dst,
  /// cropped, plus bias[ch].
  void tilesOut(const Act &dst, int64_t rs, int64_t cs, const float *bias, bool conjB, int64_t p0,
                int64_t pc) {
    const int64_t perGroup = dst.c / G;
    const Chunks ck(dst.c, perGroup);
    parallelPlanes(threads, pc * ck.total, [&](int t, int64_t q) {
      const int64_t p = p0 + q / ck.total;
      const auto [ch, count] = ck.at(q % ck.total);
      const int64_t n = p / tiles, ty = p % tiles / plan.tilesW, tx = p % tiles % plan.tilesW;
      const int64_t rows = std::min(plan.tileH, dst.h - ty * plan.tileH),
                    cols = std::min(plan.tileW, dst.w - tx * plan.tileW);
      float *outs[FftTransforms::kBatch];
      for (int i = 0; i < count; ++i)
        outs[i] = dst.plane(n, ch + i) + ty * plan.tileH * dst.ld + tx * plan.tileW * dst.step;
      fft->inverse(t, product(ch / perGroup, p - p0, ch % perGroup, conjB), count, rs, rows, cs,
                   cols, outs, dst.ld, dst.step, bias ? bias + ch : nullptr);
    });
  }

  ops::FftPlan plan;
  ops::ConvDirection dir;
  dnnl::engine eng;
  int64_t G = 1, tiles = 1, P = 0, F = 0, chunk = 1, cg = 1, kg = 1, M = 0, Kin = 0, N = 0;
  int threads = 1;
  std::vector<float> a, b, r;
  std::unique_ptr<FftTransforms> fft;
  std::map<int64_t, Mm> mms; ///< by chunk size * 2 + accumulate
};

/// Forward: y = x (*) w (+ b).
class FftConvKernel : public DnnlKernelBase {
public:
  /// Runs a pass's GEMM (exec and wait are the kernel's).
  void multiply(FftPass &s, bool accumulate) {
    const FftPass::Mm &m = s.gemm(accumulate);
    exec(const_cast<dnnl::matmul &>(m.mm), {{DNNL_ARG_SRC, m.am}, {DNNL_ARG_WEIGHTS, m.bm}, {DNNL_ARG_DST, m.rm}});
    wait();
  }

  FftConvKernel(const KernelDesc &desc, DnnlContext &ctx, const ops::ConvProblem &prob)
      : DnnlKernelBase(desc, ctx), g_(convGeometry(desc, false)), pass_(desc, prob, g_, eng_),
        cacheW_(isParam(desc, 1)), xb_(desc.inBlock(0)), yb_(desc.outBlock(0)) {
    impl_ = pass_.name();
  }

  void forward(const float *const *in, float *const *out) override {
    FftPass &s = pass_;
    const Act x(const_cast<float *>(in[0]), g_.c, g_.h, g_.w, xb_), y(out[0], g_.o, g_.oh, g_.ow, yb_);
    if (!wValid_) { // B: W, (c, k) at c * 2Kg + k; the inverse takes A * conj(B)
      s.weights(g_, in[1], 1, 2 * s.kg, s.kg, true);
      wValid_ = cacheW_;
    }
    for (int64_t j = 0; j < s.chunks(); ++j) {
      const int64_t p0 = s.enter(j);
      // A: x windows, (p, c) at p * Cg + c.
      s.windows(x, -g_.ph, -g_.pw, s.plan.fftH, s.plan.fftW, s.a.data(), s.aBlock(), s.cg, 1,
                s.M * s.cg, false, p0, s.M);
      multiply(s, false);
      s.tilesOut(y, 0, 0, g_.hasBias ? in[2] : nullptr, true, p0, s.M);
    }
  }

  void paramsChanged() override { wValid_ = false; }

private:
  ConvGeom g_;
  FftPass pass_;
  bool cacheW_, wValid_ = false;
  int xb_, yb_;
};

/// Backward: any of dx, dW and db (GradDesc); dx and dW have their own
/// plans (and transforms of dy).
class FftConvGradKernel : public DnnlKernelBase {
public:
  void multiply(FftPass &s, bool accumulate) {
    const FftPass::Mm &m = s.gemm(accumulate);
    exec(const_cast<dnnl::matmul &>(m.mm), {{DNNL_ARG_SRC, m.am}, {DNNL_ARG_WEIGHTS, m.bm}, {DNNL_ARG_DST, m.rm}});
    wait();
  }

  FftConvGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd)
      : DnnlKernelBase(desc, ctx), g_(convGeometry(gd.fwd, false)), dyIdx_(gd.gradIn()),
        outDx_(gd.outputOf(0)), outDw_(gd.outputOf(1)), outDb_(gd.outputOf(2)),
        cacheW_(isParam(desc, 1)), xb_(desc.inBlock(0)), dyb_(desc.inBlock(dyIdx_)),
        dxb_(outDx_ >= 0 ? desc.outBlock(size_t(outDx_)) : 0) {
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
    const Act x(const_cast<float *>(in[0]), g_.c, g_.h, g_.w, xb_),
        dy(const_cast<float *>(in[dyIdx_]), g_.o, g_.oh, g_.ow, dyb_);
    if (outDx_ >= 0) {
      FftPass &s = *data_;
      const Act dx(out[outDx_], g_.c, g_.h, g_.w, dxb_);
      if (!wValid_) { // B: W, (k, c) at k * 2Cg + c
        s.weights(g_, in[1], 2 * s.cg, 1, s.cg, false);
        wValid_ = cacheW_;
      }
      for (int64_t j = 0; j < s.chunks(); ++j) {
        const int64_t p0 = s.enter(j);
        // A: dy windows ending kh-1 before the tile, (p, k) at p * Kg + k.
        // dx is the tile's last rows/columns.
        s.windows(dy, g_.ph - (g_.kh - 1), g_.pw - (g_.kw - 1), s.plan.fftH, s.plan.fftW,
                  s.a.data(), s.aBlock(), s.kg, 1, s.M * s.kg, false, p0, s.M);
        multiply(s, false);
        s.tilesOut(dx, g_.kh - 1, g_.kw - 1, nullptr, false, p0, s.M);
      }
    }
    if (outDw_ >= 0) {
      FftPass &s = *weights_;
      for (int64_t j = 0; j < s.chunks(); ++j) {
        const int64_t p0 = s.enter(j);
        // A: x windows, (c, p) at c * Pc + p. B: dy tiles (zero beyond the
        // tile), (p, k) at p * 2Kg + k. R accumulates over the chunks.
        s.windows(x, -g_.ph, -g_.pw, s.plan.fftH, s.plan.fftW, s.a.data(), s.aBlock(), 1, s.Kin,
                  s.cg * s.Kin, true, p0, s.Kin);
        s.windows(dy, 0, 0, s.plan.tileH, s.plan.tileW, s.b.data(), s.bBlock(), 2 * s.kg, 1,
                  s.kg, false, p0, s.Kin);
        multiply(s, j > 0);
      }
      float *dw = out[outDw_];
      const int64_t khw = g_.kh * g_.kw, cg = s.cg, kg = s.kg;
      const Chunks ck(kg, kg);
      parallelPlanes(s.threads, g_.g * cg * ck.total, [&](int t, int64_t q) {
        const int64_t gi = q / (cg * ck.total), c = q % (cg * ck.total) / ck.total;
        const auto [k, count] = ck.at(q % ck.total);
        float *outs[FftTransforms::kBatch];
        for (int i = 0; i < count; ++i)
          outs[i] = dw + ((gi * kg + k + i) * cg + c) * khw;
        s.fft->inverse(t, s.product(gi, c, k, true), count, 0, g_.kh, 0, g_.kw, outs, g_.kw, 1,
                       nullptr);
      });
    }
    if (outDb_ >= 0)
      biasGrad(dy, out[outDb_]);
  }

  void paramsChanged() override { wValid_ = false; }

private:
  /// db[o] = sum of dy's plane o over the images (double accumulation).
  void biasGrad(const Act &dy, float *db) const {
    const int64_t O = g_.o, Nn = g_.n, plane = g_.oh * g_.ow, bk = dy.b;
#pragma omp parallel for
    for (int64_t ob = 0; ob < O / bk; ++ob) {
      double acc[16] = {};
      for (int64_t n = 0; n < Nn; ++n) {
        const float *row = dy.plane(n, ob * bk);
        float part[16] = {};
        for (int64_t i = 0; i < plane; ++i)
          for (int64_t l = 0; l < bk; ++l)
            part[l] += row[i * bk + l];
        for (int64_t l = 0; l < bk; ++l)
          acc[l] += part[l];
      }
      for (int64_t l = 0; l < bk; ++l)
        db[ob * bk + l] = float(acc[l]);
    }
  }

  ConvGeom g_;
  size_t dyIdx_;
  int outDx_, outDw_, outDb_;
  bool cacheW_, wValid_ = false;
  int xb_, dyb_, dxb_;
  std::unique_ptr<FftPass> data_, weights_;
};

std::unique_ptr<Kernel> makeFftForward(const KernelDesc &desc, DnnlContext &ctx) {
  ops::ConvProblem prob = convProblem(desc, ops::ConvDirection::Forward);
  requireApplicable(desc, prob, "fft");
  return std::make_unique<FftConvKernel>(desc, ctx, prob);
}

std::unique_ptr<Kernel> makeFftBackward(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  if (gd.wants(0))
    requireApplicable(desc, convProblem(gd.fwd, ops::ConvDirection::BackwardData), "fft");
  if (gd.wants(1) || gd.wants(2))
    requireApplicable(desc, convProblem(gd.fwd, ops::ConvDirection::BackwardWeights), "fft");
  return std::make_unique<FftConvGradKernel>(desc, ctx, gd);
}

static ConvAlgoRegistration reg{{"fft", makeFftForward, makeFftBackward}};

} // namespace
} // namespace dnnlk
} // namespace dlc::rt

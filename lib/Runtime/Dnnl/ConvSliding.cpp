//===- ConvSliding.cpp - Direct convolution for few input channels --------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The "sliding" convolution algorithm (forward and backward-weights), as
// planned by ops::slidingPlan (dlc/Ops/ConvAlgorithms.h, which sizes every
// buffer here). With one to four input channels (LeNet's conv1: 1 channel,
// 5x5, 20 outputs) oneDNN's direct kernels fill few vector lanes and
// im2col's GEMMs have a reduction of 25: both ran LeNet's conv1 at about a
// fifth of this machine's SGEMM peak. Here the vector lanes are output
// positions instead: an image is copied into zero-padded planes rowWidth
// floats wide, output position p = oy * rowWidth + ox reads tap (c, ki, kj)
// at p + c * plane + ki * rowWidth + kj, so 16 consecutive positions are one
// vector load per tap (the kw - 1 positions past each output row's end are
// computed and dropped).
//
// - forward: per segment of an image's positions, blocks of 6 output
//   channels x 4 vectors of positions in registers; each tap loads 4 vectors
//   and broadcasts 6 weights into 24 multiply-adds. The block goes to a
//   staging row per channel, then into y's rows with the bias.
// - backward weights: dy's rows are staged wide (0 at the dropped
//   positions); per segment, blocks of 4 channels x 5 taps of 16-lane sums
//   in registers over the segment's positions (4 dy vectors and 5 input
//   vectors a step into 20 multiply-adds), added into the thread's sums;
//   dW and db are the threads' sums added in thread order (deterministic for
//   a thread count), lanes in float64.
//
// The threads take (image, segment) pairs side by side, a contiguous share
// each (the padded image is copied once per image and thread), on their own
// buffers. The loops are GCC vectors of 16 floats compiled per ISA
// (DLC_CPU_CLONES).
//
//===----------------------------------------------------------------------===//

#include "ConvAlgos.h"
#include "CpuClones.h"
#include "VectorRows.h"

#include <algorithm>
#include <cstring>

#include <omp.h>

namespace dlc::rt::dnnlk {
namespace {

using namespace vec;
static_assert(ops::kSlidingLanes == 16, "the kernels' vectors are 16 floats");
constexpr int kVectors = int(ops::kSlidingVectors), kRows = int(ops::kSlidingRows);
constexpr int kGradRows = int(ops::kSlidingGradRows), kTapBlock = int(ops::kSlidingTapBlock);
constexpr int64_t kBlock = ops::kSlidingLanes * ops::kSlidingVectors;

/// The plan and the layer's geometry in the kernels' terms.
struct Geo {
  int64_t n, c, h, w, o, oh, ow, ph, pw;
  int64_t rowWidth, positions, segment, plane, taps, tapsPadded;
  int64_t segments() const { return (positions + segment - 1) / segment; }
};

/// Image x (c planes of h x w) into xp: c zero-padded planes, plane apart.
void padImage(const Geo &g, const float *x, float *xp) {
  for (int64_t c = 0; c < g.c; ++c) {
    float *dst = xp + c * g.plane;
    std::fill(dst, dst + g.plane, 0.f);
    for (int64_t iy = 0; iy < g.h; ++iy)
      std::memcpy(dst + (iy + g.ph) * g.rowWidth + g.pw, x + (c * g.h + iy) * g.w,
                  size_t(g.w) * sizeof(float));
  }
}

/// f(r, oy, lo, hi) for each output row oy that wide positions [p0, p0 + n)
/// reach, with the positions [lo, hi) of it that are real outputs.
template <class F> DLC_VEC_INLINE void forRows(const Geo &g, int64_t p0, int64_t n, F f) {
  const int64_t last = std::min(g.oh, (p0 + n + g.rowWidth - 1) / g.rowWidth);
  for (int64_t oy = p0 / g.rowWidth; oy < last; ++oy) {
    const int64_t lo = std::max(p0, oy * g.rowWidth);
    const int64_t hi = std::min(p0 + n, oy * g.rowWidth + g.ow);
    if (lo < hi)
      f(oy, lo, hi);
  }
}

/// Forward: R output channels x kVectors vectors at position block xp:
/// sum over taps t of w[r * taps + t] * xp[off[t] + position], into y's rows
/// (ldy apart).
template <int R>
DLC_VEC_INLINE void forwardBlock(int64_t taps, const float *w, const int64_t *off,
                                 const float *xp, float *y, int64_t ldy) {
  V16 acc[R][kVectors];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < kVectors; ++v)
      acc[r][v] = V16{};
  for (int64_t t = 0; t < taps; ++t) {
    const float *src = xp + off[t];
    V16 xv[kVectors];
    for (int v = 0; v < kVectors; ++v)
      xv[v] = load(src + v * 16);
    for (int r = 0; r < R; ++r) {
      const float s = w[r * taps + t];
      for (int v = 0; v < kVectors; ++v)
        acc[r][v] += s * xv[v];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < kVectors; ++v)
      store(y + r * ldy + v * 16, acc[r][v]);
}

/// Forward of `rows` (<= kRows) output channels over n wide positions (whole
/// blocks) from xp on: into yw's rows, ldy apart.
DLC_CPU_CLONES
void forwardSegment(int rows, int64_t taps, const float *w, const int64_t *off, const float *xp,
                    int64_t n, float *yw, int64_t ldy) {
  for (int64_t p = 0; p < n; p += kBlock) {
    switch (rows) {
#define DLC_ROWS(R)                                                                              \
  case R:                                                                                        \
    forwardBlock<R>(taps, w, off, xp + p, yw + p, ldy);                                          \
    break;
      DLC_ROWS(1) DLC_ROWS(2) DLC_ROWS(3) DLC_ROWS(4) DLC_ROWS(5) DLC_ROWS(6)
#undef DLC_ROWS
    }
  }
  static_assert(kRows == 6, "forwardSegment's cases");
}

/// yw's `rows` rows (wide positions [p0, p0 + n), ldy apart) into the
/// output planes from y on, plus the bias.
DLC_CPU_CLONES
void writeRows(const Geo &g, int rows, const float *yw, int64_t ldy, int64_t p0, int64_t n,
               const float *bias, float *y) {
  for (int r = 0; r < rows; ++r) {
    const float b = bias ? bias[r] : 0.f;
    float *plane = y + r * g.oh * g.ow;
    const float *src = yw + r * ldy - p0;
    forRows(g, p0, n, [&](int64_t oy, int64_t lo, int64_t hi) {
      copyRow(plane + oy * g.ow + (lo - oy * g.rowWidth), src + lo, hi - lo, b);
    });
  }
}

/// dy's planes of one image, wide positions [p0, p0 + n), into dyw's rows
/// (n apart), 0 where no output is.
DLC_CPU_CLONES
void stageDy(const Geo &g, const float *dy, int64_t p0, int64_t n, float *dyw) {
  for (int64_t o = 0; o < g.o; ++o) {
    float *__restrict row = dyw + o * n - p0;
    const float *plane = dy + o * g.oh * g.ow;
    int64_t next = p0;
    forRows(g, p0, n, [&](int64_t oy, int64_t lo, int64_t hi) {
      zeroRow(row + next, lo - next);
      copyRow(row + lo, plane + oy * g.ow + (lo - oy * g.rowWidth), hi - lo, 0.f);
      next = hi;
    });
    zeroRow(row + next, p0 + n - next);
  }
}

/// Backward weights: R channels x kTapBlock taps of 16-lane sums over n
/// positions, sums[r * lds + j * 16 + lane] += dy[r * ldd + p] * xp[off[j] + p].
template <int R>
DLC_VEC_INLINE void weightBlock(int64_t n, const float *dy, int64_t ldd, const int64_t *off,
                                const float *xp, float *sums, int64_t lds) {
  V16 acc[R][kTapBlock];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < kTapBlock; ++j)
      acc[r][j] = V16{};
  const float *src[kTapBlock];
  for (int j = 0; j < kTapBlock; ++j)
    src[j] = xp + off[j];
  for (int64_t p = 0; p < n; p += 16) {
    V16 d[R];
    for (int r = 0; r < R; ++r)
      d[r] = load(dy + r * ldd + p);
    for (int j = 0; j < kTapBlock; ++j) {
      const V16 xv = load(src[j] + p);
      for (int r = 0; r < R; ++r)
        acc[r][j] += d[r] * xv;
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < kTapBlock; ++j) {
      float *s = sums + r * lds + j * 16;
      store(s, load(s) + acc[r][j]);
    }
}

/// Backward weights of `rows` (<= kGradRows) channels over n positions, all
/// padded taps.
DLC_CPU_CLONES
void weightSegment(int rows, int64_t tapsPadded, int64_t n, const float *dy, int64_t ldd,
                   const int64_t *off, const float *xp, float *sums, int64_t lds) {
  for (int64_t t = 0; t < tapsPadded; t += kTapBlock) {
    switch (rows) {
#define DLC_ROWS(R)                                                                              \
  case R:                                                                                        \
    weightBlock<R>(n, dy, ldd, off + t, xp, sums + t * 16, lds);                                 \
    break;
      DLC_ROWS(1) DLC_ROWS(2) DLC_ROWS(3) DLC_ROWS(4)
#undef DLC_ROWS
    }
  }
  static_assert(kGradRows == 4, "weightSegment's cases");
}

/// sums[o * 16 + lane] += dyw's row o over n positions (the bias gradient).
DLC_CPU_CLONES
void biasSums(int64_t rows, int64_t n, const float *dyw, float *sums) {
  for (int64_t o = 0; o < rows; ++o) {
    V16 acc = load(sums + o * 16);
    for (int64_t p = 0; p < n; p += 16)
      acc += load(dyw + o * n + p);
    store(sums + o * 16, acc);
  }
}

/// What the forward and gradient kernels share: the geometry, the taps'
/// offsets, the threads' buffers and the task loop.
class SlidingBase : public DnnlKernelBase {
protected:
  SlidingBase(const KernelDesc &desc, DnnlContext &ctx, const ops::SlidingPlan &plan)
      : DnnlKernelBase(desc, ctx), memoryLimit_(desc.memoryLimit),
        workspace_(plan.workspaceFloats) {
    const ConvGeom cg = convGeometry(desc.isGradient() ? gradDesc(desc).fwd : desc, false);
    g_ = {cg.n,  cg.c,          cg.h,           cg.w,         cg.o,
          cg.oh, cg.ow,         cg.ph,          cg.pw,        plan.rowWidth,
          plan.positions, plan.segment, plan.planeFloats, plan.taps, plan.tapsPadded};
    hasBias_ = cg.hasBias;
    off_.assign(size_t(g_.tapsPadded), 0); // padded taps read the first element
    for (int64_t c = 0, t = 0; c < g_.c; ++c)
      for (int64_t ki = 0; ki < cg.kh; ++ki)
        for (int64_t kj = 0; kj < cg.kw; ++kj)
          off_[size_t(t++)] = c * g_.plane + ki * g_.rowWidth + kj;
    buffers_.resize(size_t(workspace_) * size_t(threads()));
  }

  /// The threads whose buffers the memory limit holds.
  int threads() const {
    return workspaceThreads(memoryLimit_, workspace_ * int64_t(sizeof(float)));
  }

  /// The threads the tasks run on (no more than tasks), with buffers for
  /// each (grown, never shrunk: the thread count may have risen since the
  /// kernel was made).
  int taskThreads() {
    const int threads = int(std::min<int64_t>(this->threads(), g_.n * g_.segments()));
    buffers_.resize(std::max(buffers_.size(), size_t(workspace_) * size_t(threads)));
    return threads;
  }

  /// body(thread, n, p0, positions, buffer, newImage) for every (image,
  /// segment) task on taskThreads() threads, each taking a contiguous share.
  template <class Body> void forTasks(Body body) {
    const int64_t segments = g_.segments(), tasks = g_.n * segments;
    const int threads = taskThreads();
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
      const int64_t i = omp_get_thread_num(), nt = omp_get_num_threads();
      float *buffer = buffers_.data() + i * workspace_;
      int64_t image = -1;
      for (int64_t task = tasks * i / nt; task < tasks * (i + 1) / nt; ++task) {
        const int64_t n = task / segments, p0 = task % segments * g_.segment;
        body(int(i), n, p0, std::min(g_.segment, g_.positions - p0), buffer, n != image);
        image = n;
      }
    }
  }

  Geo g_;
  bool hasBias_ = false;
  uint64_t memoryLimit_;
  int64_t workspace_;
  std::vector<int64_t> off_;
  std::vector<float> buffers_;
};

class SlidingConvKernel : public SlidingBase {
public:
  SlidingConvKernel(const KernelDesc &desc, DnnlContext &ctx, const ops::SlidingPlan &plan)
      : SlidingBase(desc, ctx, plan) {
    impl_ = "dlc:sliding";
  }

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *w = in[1], *bias = hasBias_ ? in[2] : nullptr;
    float *y = out[0];
    const int64_t inImage = g_.c * g_.h * g_.w, outImage = g_.o * g_.oh * g_.ow;
    forTasks([&](int, int64_t n, int64_t p0, int64_t np, float *buffer, bool newImage) {
      float *xp = buffer, *yw = buffer + g_.c * g_.plane;
      if (newImage)
        padImage(g_, x + n * inImage, xp);
      for (int64_t o = 0; o < g_.o; o += kRows) {
        const int rows = int(std::min<int64_t>(kRows, g_.o - o));
        forwardSegment(rows, g_.taps, w + o * g_.taps, off_.data(), xp + p0, np, yw,
                       g_.segment);
        writeRows(g_, rows, yw, g_.segment, p0, np, bias ? bias + o : nullptr,
                  y + n * outImage + o * g_.oh * g_.ow);
      }
    });
  }
};

/// Operands x, w, [b], y, dy; results dW and/or db (never dx).
class SlidingConvGradKernel : public SlidingBase {
public:
  SlidingConvGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                        const ops::SlidingPlan &plan)
      : SlidingBase(desc, ctx, plan), dyIdx_(gd.gradIn()), outDw_(gd.outputOf(1)),
        outDb_(gd.outputOf(2)) {
    impl_ = std::string("dlc:sliding") + (outDw_ >= 0 ? " weights" : "") +
            (outDb_ >= 0 ? " bias" : "");
  }

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *dy = in[dyIdx_];
    const int64_t inImage = g_.c * g_.h * g_.w, outImage = g_.o * g_.oh * g_.ow;
    const int64_t weightSums = g_.o * g_.tapsPadded * 16;
    // A thread's buffer: the padded image, dy's rows staged, the dW sums
    // (channel, padded tap, lane), the db sums (channel, lane).
    auto sumsOf = [&](int64_t i) {
      return buffers_.data() + i * workspace_ + g_.c * g_.plane + g_.o * g_.segment;
    };
    const int threads = taskThreads();
    for (int i = 0; i < threads; ++i)
      std::fill(sumsOf(i), sumsOf(i) + weightSums + g_.o * 16, 0.f);
    forTasks([&](int i, int64_t n, int64_t p0, int64_t np, float *buffer, bool newImage) {
      float *xp = buffer, *dyw = buffer + g_.c * g_.plane, *sums = sumsOf(i);
      if (newImage && outDw_ >= 0)
        padImage(g_, x + n * inImage, xp);
      stageDy(g_, dy + n * outImage, p0, np, dyw);
      if (outDw_ >= 0)
        for (int64_t o = 0; o < g_.o; o += kGradRows)
          weightSegment(int(std::min<int64_t>(kGradRows, g_.o - o)), g_.tapsPadded, np,
                        dyw + o * np, np, off_.data(), xp + p0, sums + o * g_.tapsPadded * 16,
                        g_.tapsPadded * 16);
      if (outDb_ >= 0)
        biasSums(g_.o, np, dyw, sums + weightSums);
    });
    // The threads' sums in thread order, lanes in float64.
    auto total = [&](int64_t at) {
      double s = 0;
      for (int i = 0; i < threads; ++i)
        for (int l = 0; l < 16; ++l)
          s += double(sumsOf(i)[at + l]);
      return float(s);
    };
    if (outDw_ >= 0) {
      float *dw = out[outDw_];
#pragma omp parallel for schedule(static) if (g_.o * g_.taps > 4096)
      for (int64_t i = 0; i < g_.o * g_.taps; ++i)
        dw[i] = total((i / g_.taps * g_.tapsPadded + i % g_.taps) * 16);
    }
    if (outDb_ >= 0)
      for (int64_t o = 0; o < g_.o; ++o)
        out[outDb_][o] = total(weightSums + o * 16);
  }

private:
  size_t dyIdx_;
  int outDw_, outDb_;
};

std::unique_ptr<Kernel> makeSlidingForward(const KernelDesc &desc, DnnlContext &ctx) {
  ops::ConvProblem prob = convProblem(desc, ops::ConvDirection::Forward);
  requireApplicable(desc, prob, "sliding");
  KernelDesc plain = plainLayoutDesc(desc);
  return plainLayoutKernel(
      desc, std::make_unique<SlidingConvKernel>(plain, ctx, ops::slidingPlan(prob)));
}

std::unique_ptr<Kernel> makeSlidingBackward(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  ops::ConvProblem prob = convProblem(gd.fwd, ops::ConvDirection::BackwardWeights);
  if (gd.wants(0))
    requireApplicable(desc, convProblem(gd.fwd, ops::ConvDirection::BackwardData), "sliding");
  requireApplicable(desc, prob, "sliding");
  KernelDesc plain = plainLayoutDesc(desc);
  return plainLayoutKernel(desc, std::make_unique<SlidingConvGradKernel>(
                                     plain, ctx, gradDesc(plain), ops::slidingPlan(prob)));
}

} // namespace

static ConvAlgoRegistration reg{{"sliding", makeSlidingForward, makeSlidingBackward}};

} // namespace dlc::rt::dnnlk

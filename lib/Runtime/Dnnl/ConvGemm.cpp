//===- ConvGemm.cpp - im2col + SGEMM convolution kernels ------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The "gemm" convolution algorithm in its three directions, as planned by
// ops::gemmPlan (dlc/Ops/ConvAlgorithms.h, which sizes every buffer here):
// the batch is taken a chunk of images at a time (columns and staging
// within 512 KiB, a core's L2 cache) and each group's work is one SGEMM
// (oneDNN's dnnl_sgemm) whose columns are the chunk's output positions side
// by side, not one small GEMM per image as in Caffe: LeNet's conv2 at batch
// 64 is 22 GEMMs of 50 x 192 x 500 instead of 64 of 50 x 64 x 500. With at
// least as many chunks as threads, the threads take chunks side by side
// (a fixed share each), each with its own buffers and a single-threaded
// SGEMM, so that a chunk's columns are written and read in the thread's
// cache; otherwise (a batch smaller than the threads) the chunks run one
// after another, each step on all threads.
//
// - forward: col[(c, ki, kj)][(b, p)] (im2col, OpenMP over the rows,
//   each written front to back), Y[o][(b, p)] = W * col per group, copied into y's images
//   with the bias; with one image per chunk the GEMM writes y directly.
// - backward data: dyT[o][(b, p)] (dy's images side by side), col[g] =
//   W[g]^T * dyT[g], col2im into dx (OpenMP over channels).
// - backward weights: col as forward, dyT as backward data, per thread
//   acc[g] (kdim x O/G) += col[g] * dyT[g]^T over its chunks, dW = the sum
//   of the threads' acc, transposed (in thread order: deterministic for a
//   thread count); db: sums of dy (float64 across planes).
// - 1x1, stride 1, unpadded forward and backward data: per-image GEMMs on x
//   (dx) itself, no workspace.
//
// The kernels work on plain NCHW buffers; blocked activations are converted
// around them (plainLayoutKernel).
//
//===----------------------------------------------------------------------===//

#include "ConvAlgos.h"
#include "CpuClones.h"

#include <algorithm>
#include <cstring>
#include <exception>

#include <omp.h>

namespace dlc::rt::dnnlk {
namespace {

/// The outputs [lo, hi) of a row of `out` whose tap reads input column
/// o * stride + off: those inside [0, width).
struct ValidRange {
  int64_t lo, hi;
  ValidRange(int64_t out, int64_t stride, int64_t off, int64_t width) {
    lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
    hi = width - 1 - off < 0 ? 0 : std::min(out, (width - 1 - off) / stride + 1);
    lo = std::min(lo, hi);
  }
};

/// n rows of `Width` floats (0: `width`, known at run time only), src rows
/// srcStride apart into dst rows dstStride apart (Add: added to them). With
/// a fixed width the compiler makes each row a few vector operations; the
/// general loop spends more on its trip-count checks than on an 8-float row
/// (LeNet's conv2).
template <int Width, bool Add>
inline __attribute__((always_inline)) void blockRows(float *dst, int64_t dstStride,
                                                     const float *src, int64_t srcStride,
                                                     int64_t n, int64_t width) {
  const int64_t wd = Width ? Width : width;
  for (int64_t r = 0; r < n; ++r) {
    float *__restrict d = dst + r * dstStride;
    const float *__restrict s = src + r * srcStride;
    for (int64_t i = 0; i < wd; ++i)
      d[i] = Add ? d[i] + s[i] : s[i];
  }
}
template <bool Add>
inline __attribute__((always_inline)) void block(float *dst, int64_t dstStride, const float *src,
                                                 int64_t srcStride, int64_t n, int64_t width) {
  switch (width) {
  case 8:
    return blockRows<8, Add>(dst, dstStride, src, srcStride, n, width);
  case 16:
    return blockRows<16, Add>(dst, dstStride, src, srcStride, n, width);
  default:
    return blockRows<0, Add>(dst, dstStride, src, srcStride, n, width);
  }
}

/// Whether tap row (ki, kj) reads only inside the input for every output
/// position of a stride-1 row: then an image's columns of the tap are the
/// input block of OH rows x OW floats at (iy0, ix0).
bool tapInside(const ConvGeom &g, int64_t ki, int64_t ix0, const ValidRange &r) {
  const int64_t iy0 = ki * g.dh - g.ph, iyLast = (g.oh - 1) * g.sh + iy0;
  return g.sw == 1 && r.lo == 0 && r.hi == g.ow && iy0 >= 0 && iyLast < g.h;
}

/// Row k = (c, ki, kj) of the columns of images x, x + imageStride, ...
/// (nb of them): col + k * rowStride holds, image after image, OH * OW
/// floats each. A row is written front to back (parallel over rows).
DLC_CPU_CLONES
void im2colRow(const ConvGeom &g, const float *x, int64_t nb, int64_t imageStride, int64_t k,
               float *col, int64_t rowStride) {
  const int64_t c = k / (g.kh * g.kw), ki = k / g.kw % g.kh, kj = k % g.kw;
  const int64_t ix0 = kj * g.dw - g.pw;
  const ValidRange r(g.ow, g.sw, ix0, g.w);
  float *__restrict out = col + k * rowStride;
  if (tapInside(g, ki, ix0, r)) {
    const int64_t iy0 = ki * g.dh - g.ph;
    for (int64_t b = 0; b < nb; ++b)
      block<false>(out + b * g.oh * g.ow, g.ow,
                   x + b * imageStride + (c * g.h + iy0) * g.w + ix0, g.sh * g.w, g.oh, g.ow);
    return;
  }
  for (int64_t b = 0; b < nb; ++b) {
    const float *plane = x + b * imageStride + c * g.h * g.w;
    for (int64_t oy = 0; oy < g.oh; ++oy, out += g.ow) {
      const int64_t iy = oy * g.sh - g.ph + ki * g.dh;
      if (iy < 0 || iy >= g.h) {
        std::fill(out, out + g.ow, 0.f);
        continue;
      }
      const float *__restrict row = plane + iy * g.w + ix0;
      std::fill(out, out + r.lo, 0.f);
      if (g.sw == 1)
        for (int64_t ox = r.lo; ox < r.hi; ++ox)
          out[ox] = row[ox];
      else
        for (int64_t ox = r.lo; ox < r.hi; ++ox)
          out[ox] = row[ox * g.sw];
      std::fill(out + r.hi, out + g.ow, 0.f);
    }
  }
}

/// The adjoint of im2colRow for channel c of every image: its planes of
/// x (images nb, imageStride apart) are overwritten with the sums of their
/// entries of col, tap after tap (each row read front to back).
DLC_CPU_CLONES
void col2imChannel(const ConvGeom &g, const float *col, int64_t rowStride, int64_t c,
                   int64_t nb, int64_t imageStride, float *x) {
  for (int64_t b = 0; b < nb; ++b) {
    float *plane = x + b * imageStride + c * g.h * g.w;
    std::fill(plane, plane + g.h * g.w, 0.f);
  }
  for (int64_t ki = 0; ki < g.kh; ++ki)
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      const float *in = col + ((c * g.kh + ki) * g.kw + kj) * rowStride;
      const int64_t ix0 = kj * g.dw - g.pw;
      const ValidRange r(g.ow, g.sw, ix0, g.w);
      if (tapInside(g, ki, ix0, r)) {
        const int64_t iy0 = ki * g.dh - g.ph;
        for (int64_t b = 0; b < nb; ++b, in += g.oh * g.ow)
          block<true>(x + b * imageStride + (c * g.h + iy0) * g.w + ix0, g.sh * g.w, in, g.ow,
                      g.oh, g.ow);
        continue;
      }
      for (int64_t b = 0; b < nb; ++b) {
        float *plane = x + b * imageStride + c * g.h * g.w;
        for (int64_t oy = 0; oy < g.oh; ++oy, in += g.ow) {
          const int64_t iy = oy * g.sh - g.ph + ki * g.dh;
          if (iy < 0 || iy >= g.h)
            continue;
          float *__restrict row = plane + iy * g.w + ix0;
          if (g.sw == 1)
            for (int64_t ox = r.lo; ox < r.hi; ++ox)
              row[ox] += in[ox];
          else
            for (int64_t ox = r.lo; ox < r.hi; ++ox)
              row[ox * g.sw] += in[ox];
        }
      }
    }
}

/// f(i) for i in [0, n): on the threads when `parallel`, else on this one.
template <class F> void loop(bool parallel, int64_t n, F f) {
  if (!parallel) {
    for (int64_t i = 0; i < n; ++i)
      f(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    f(i);
}

/// One thread's buffers (ops::GemmPlan's sizes) and what it did.
struct Scratch {
  float *col = nullptr, *stage = nullptr, *acc = nullptr;
  bool used = false; ///< backward weights: acc holds a sum
};

/// What the kernels of both kinds share: geometry, buffers, the chunk loop.
class GemmBase : public DnnlKernelBase {
protected:
  GemmBase(const KernelDesc &desc, DnnlContext &ctx)
      : DnnlKernelBase(desc, ctx),
        g_(convGeometry(desc.isGradient() ? gradDesc(desc).fwd : desc, false)),
        memoryLimit_(desc.memoryLimit) {
    og_ = g_.o / g_.g;
    inImage_ = g_.c * g_.h * g_.w;
    pixels_ = g_.oh * g_.ow;
    outImage_ = g_.o * pixels_;
  }

  /// Row-major C = op(A) op(B) + beta C through oneDNN's SGEMM (on one
  /// thread inside a parallel region, on all of them outside).
  void sgemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
             const float *b, int64_t ldb, float beta, float *c, int64_t ldc) const {
    if (dnnl_sgemm(ta, tb, m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc) != dnnl_success)
      throw Error("layer '" + layer_ + "' (" + op_ + "): gemm: oneDNN's SGEMM failed");
  }

  /// Buffers for `slots` threads of plan p (grown, never shrunk).
  void allocate(const ops::GemmPlan &p, int slots) {
    auto grow = [&](std::vector<float> &v, int64_t floats) {
      v.resize(std::max(v.size(), size_t(floats) * size_t(slots)));
    };
    grow(col_, p.colFloats);
    grow(stage_, p.stageFloats);
    grow(acc_, p.accFloats);
  }

  /// The threads whose buffers for plan p the memory limit holds (>= 1).
  int threadsFor(const ops::GemmPlan &p) const {
    return workspaceThreads(memoryLimit_, p.work.workspaceBytes);
  }

  /// body(n0, nb, scratch, parallel) for the chunks of plan p: with at least
  /// as many chunks as threads, the threads take chunks side by side (a
  /// fixed share each: schedule static), each on its own buffers with a
  /// single-threaded SGEMM, so a chunk's columns stay in the thread's
  /// cache; otherwise chunk after chunk, each step on all threads. Returns
  /// the scratch of each slot that ran. The plan's workspace is one
  /// thread's: under a memory limit (the module's tensors leave
  /// desc.memoryLimit, checked against one slot when the algorithm was
  /// chosen) the chunks spread over no more threads than it holds.
  template <class Body> std::vector<Scratch> forChunks(const ops::GemmPlan &p, Body body) {
    const int64_t chunks = (g_.n + p.chunk - 1) / p.chunk;
    const int threads = threadsFor(p);
    const int slots = threads > 1 && chunks >= threads ? threads : 1;
    allocate(p, slots);
    std::vector<Scratch> scratch(static_cast<size_t>(slots));
    for (int s = 0; s < slots; ++s)
      scratch[size_t(s)] = {col_.data() + s * p.colFloats, stage_.data() + s * p.stageFloats,
                            acc_.data() + s * p.accFloats, false};
    auto run = [&](int64_t i, Scratch &sc, bool parallel) {
      const int64_t n0 = i * p.chunk;
      body(n0, std::min(p.chunk, g_.n - n0), sc, parallel);
      sc.used = true;
    };
    if (slots == 1) {
      for (int64_t i = 0; i < chunks; ++i)
        run(i, scratch[0], true);
      return scratch;
    }
    std::exception_ptr error;
#pragma omp parallel num_threads(slots)
    {
      Scratch &sc = scratch[size_t(omp_get_thread_num())];
#pragma omp for schedule(static)
      for (int64_t i = 0; i < chunks; ++i) {
        try {
          run(i, sc, false);
        } catch (...) {
#pragma omp critical(dlc_gemm_error)
          if (!error)
            error = std::current_exception();
        }
      }
    }
    if (error)
      std::rethrow_exception(error);
    return scratch;
  }

  /// col rows (c, ki, kj) of images [n0, n0 + nb), columns (b, p).
  void im2colChunk(const float *x, int64_t n0, int64_t nb, float *col, bool parallel) const {
    const int64_t stride = nb * pixels_;
    loop(parallel, g_.c * g_.kh * g_.kw, [&](int64_t k) {
      im2colRow(g_, x + n0 * inImage_, nb, inImage_, k, col, stride);
    });
  }

  /// dy's images [n0, n0 + nb) side by side, [O, nb * pixels], in stage
  /// (dy itself for one image).
  const float *stageDy(const float *dy, int64_t n0, int64_t nb, float *stage,
                       bool parallel) const {
    if (nb == 1)
      return dy + n0 * outImage_;
    const int64_t P = pixels_, O = g_.o;
    loop(parallel, nb * O, [&](int64_t i) {
      const int64_t b = i / O, o = i % O;
      std::memcpy(stage + (o * nb + b) * P, dy + (n0 + b) * outImage_ + o * P,
                  size_t(P) * sizeof(float));
    });
    return stage;
  }

  ConvGeom g_;
  uint64_t memoryLimit_ = 0;
  int64_t og_ = 0, inImage_ = 0, pixels_ = 0, outImage_ = 0;
  std::vector<float> col_, stage_, acc_;
};

class GemmConvKernel : public GemmBase {
public:
  GemmConvKernel(const KernelDesc &desc, DnnlContext &ctx, const ops::GemmPlan &plan)
      : GemmBase(desc, ctx), plan_(plan) {
    allocate(plan_, threadsFor(plan_));
    impl_ = plan_.noIm2col ? "dlc:gemm 1x1:sgemm" : "dlc:gemm im2col+sgemm";
  }

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *w = in[1], *bias = g_.hasBias ? in[2] : nullptr;
    float *y = out[0];
    const int64_t K = plan_.kdim, P = pixels_, G = g_.g, og = og_, O = g_.o;
    if (plan_.noIm2col) {
      for (int64_t n = 0; n < g_.n; ++n)
        for (int64_t gi = 0; gi < G; ++gi)
          sgemm('N', 'N', og, P, K, w + gi * og * K, K, x + n * inImage_ + gi * K * P, P,
                0.f, y + n * outImage_ + gi * og * P, P);
      if (bias)
        loop(true, g_.n * O, [&](int64_t i) {
          biasRow(bias, y + i / O * outImage_, nullptr, i % O);
        });
      return;
    }
    forChunks(plan_, [&](int64_t n0, int64_t nb, Scratch &sc, bool parallel) {
      const int64_t cols = nb * P;
      im2colChunk(x, n0, nb, sc.col, parallel);
      float *dst = nb == 1 ? y + n0 * outImage_ : sc.stage;
      for (int64_t gi = 0; gi < G; ++gi)
        sgemm('N', 'N', og, cols, K, w + gi * og * K, K, sc.col + gi * K * cols, cols, 0.f,
              dst + gi * og * cols, cols);
      if (nb == 1) {
        if (bias)
          loop(parallel, O, [&](int64_t o) { biasRow(bias, dst, nullptr, o); });
        return;
      }
      loop(parallel, nb * O, [&](int64_t i) {
        const int64_t b = i / O, o = i % O;
        biasRow(bias, y + (n0 + b) * outImage_, sc.stage + (o * nb + b) * P, o);
      });
    });
  }

private:
  /// Row o of an image's output: y = src + bias[o] (src null: y += bias[o]).
  void biasRow(const float *bias, float *y, const float *src, int64_t o) const {
    const int64_t P = pixels_;
    float *row = y + o * P;
    const float bo = bias ? bias[o] : 0.f;
    if (src)
      for (int64_t i = 0; i < P; ++i)
        row[i] = src[i] + bo;
    else if (bias)
      for (int64_t i = 0; i < P; ++i)
        row[i] += bo;
  }

  ops::GemmPlan plan_;
};

/// Operands x, w, [b], y, dy; results the gradients listed in wrt.
class GemmConvGradKernel : public GemmBase {
public:
  GemmConvGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                     const ops::GemmPlan &data, const ops::GemmPlan &weights)
      : GemmBase(desc, ctx), dyIdx_(gd.gradIn()), outDx_(gd.outputOf(0)),
        outDw_(gd.outputOf(1)), outDb_(gd.outputOf(2)), data_(data), weights_(weights) {
    std::string impl;
    if (outDx_ >= 0) {
      allocate(data_, threadsFor(data_));
      impl += data_.noIm2col ? " data:sgemm" : " data:sgemm+col2im";
    }
    if (outDw_ >= 0) {
      allocate(weights_, threadsFor(weights_));
      impl += " weights:im2col+sgemm";
    }
    if (outDb_ >= 0)
      impl += " bias:sum";
    impl_ = "dlc:gemm" + impl;
  }

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *w = in[1], *dy = in[dyIdx_];
    if (outDx_ >= 0)
      backwardData(w, dy, out[outDx_]);
    std::vector<Scratch> sums;
    if (outDw_ >= 0)
      sums = weightSums(x, dy);
    finishWeights(sums, dy, outDw_ >= 0 ? out[outDw_] : nullptr,
                  outDb_ >= 0 ? out[outDb_] : nullptr);
  }

private:
  void backwardData(const float *w, const float *dy, float *dx) {
    const int64_t K = data_.kdim, P = pixels_, G = g_.g, og = og_, C = g_.c;
    if (data_.noIm2col) {
      for (int64_t n = 0; n < g_.n; ++n)
        for (int64_t gi = 0; gi < G; ++gi)
          sgemm('T', 'N', K, P, og, w + gi * og * K, K, dy + n * outImage_ + gi * og * P,
                P, 0.f, dx + n * inImage_ + gi * K * P, P);
      return;
    }
    forChunks(data_, [&](int64_t n0, int64_t nb, Scratch &sc, bool parallel) {
      const int64_t cols = nb * P;
      const float *dyT = stageDy(dy, n0, nb, sc.stage, parallel);
      for (int64_t gi = 0; gi < G; ++gi)
        sgemm('T', 'N', K, cols, og, w + gi * og * K, K, dyT + gi * og * cols, cols, 0.f,
              sc.col + gi * K * cols, cols);
      loop(parallel, C, [&](int64_t c) {
        col2imChannel(g_, sc.col, cols, c, nb, inImage_, dx + n0 * inImage_);
      });
    });
  }

  /// Each slot's sums acc[g] (kdim x O/G) += col[g] * dy[:, g] over its chunks.
  std::vector<Scratch> weightSums(const float *x, const float *dy) {
    const int64_t K = weights_.kdim, P = pixels_, G = g_.g, og = og_;
    return forChunks(weights_, [&](int64_t n0, int64_t nb, Scratch &sc, bool parallel) {
      const int64_t cols = nb * P;
      im2colChunk(x, n0, nb, sc.col, parallel);
      // dy's images side by side, [O, nb * pixels] (dy itself for one image).
      const float *dyT = stageDy(dy, n0, nb, sc.stage, parallel);
      for (int64_t gi = 0; gi < G; ++gi)
        sgemm('N', 'T', K, og, cols, sc.col + gi * K * cols, cols, dyT + gi * og * cols, cols,
              sc.used ? 1.f : 0.f, sc.acc + gi * K * og, og);
    });
  }

  /// In one parallel region (one wake-up of the threads): dW (when dw) =
  /// the sum of the slots' acc, transposed (slot order: deterministic for a
  /// thread count); db (when db) = sums of dy's planes over the images (16
  /// float lanes per plane, float64 across planes).
  void finishWeights(const std::vector<Scratch> &slots, const float *dy, float *dw,
                     float *db) const {
    const int64_t K = weights_.kdim, G = g_.g, og = og_, O = g_.o, N = g_.n, P = pixels_;
#pragma omp parallel
    {
      if (dw) {
#pragma omp for schedule(static) nowait
        for (int64_t i = 0; i < G * og; ++i) {
          const int64_t gi = i / og, o = i % og;
          float *row = dw + (gi * og + o) * K;
          for (int64_t k = 0; k < K; ++k)
            row[k] = 0.f;
          for (const Scratch &sc : slots) {
            if (!sc.used)
              continue;
            const float *a = sc.acc + gi * K * og + o;
            for (int64_t k = 0; k < K; ++k)
              row[k] += a[k * og];
          }
        }
      }
      if (db) {
#pragma omp for schedule(static) nowait
        for (int64_t o = 0; o < O; ++o) {
          double acc = 0;
          for (int64_t n = 0; n < N; ++n) {
            const float *row = dy + n * outImage_ + o * P;
            float lanes[16] = {};
            int64_t i = 0;
            for (; i + 16 <= P; i += 16)
              for (int l = 0; l < 16; ++l)
                lanes[l] += row[i + l];
            float part = 0.f;
            for (; i < P; ++i)
              part += row[i];
            for (float v : lanes)
              part += v;
            acc += part;
          }
          db[o] = float(acc);
        }
      }
    }
  }

  size_t dyIdx_;
  int outDx_, outDw_, outDb_;
  ops::GemmPlan data_, weights_;
};

std::unique_ptr<Kernel> makeGemmForward(const KernelDesc &desc, DnnlContext &ctx) {
  ops::ConvProblem prob = convProblem(desc, ops::ConvDirection::Forward);
  requireApplicable(desc, prob, "gemm");
  KernelDesc plain = plainLayoutDesc(desc);
  return plainLayoutKernel(desc,
                           std::make_unique<GemmConvKernel>(plain, ctx, ops::gemmPlan(prob)));
}

std::unique_ptr<Kernel> makeGemmBackward(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  ops::ConvProblem data = convProblem(gd.fwd, ops::ConvDirection::BackwardData);
  ops::ConvProblem weights = convProblem(gd.fwd, ops::ConvDirection::BackwardWeights);
  if (gd.wants(0))
    requireApplicable(desc, data, "gemm");
  if (gd.wants(1) || gd.wants(2))
    requireApplicable(desc, weights, "gemm");
  KernelDesc plain = plainLayoutDesc(desc);
  return plainLayoutKernel(desc, std::make_unique<GemmConvGradKernel>(
                                     plain, ctx, gradDesc(plain), ops::gemmPlan(data),
                                     ops::gemmPlan(weights)));
}

static ConvAlgoRegistration reg{{"gemm", makeGemmForward, makeGemmBackward}};

} // namespace
} // namespace dlc::rt::dnnlk

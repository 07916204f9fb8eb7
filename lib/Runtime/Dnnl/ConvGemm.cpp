//===- ConvGemm.cpp - im2col + SGEMM convolution kernels ------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The "gemm" convolution algorithm in its three directions, as planned by
// ops::gemmPlan (dlc/Ops/ConvAlgorithms.h, which sizes every buffer here):
// the batch is taken a chunk of images at a time and each group's work is
// one SGEMM (oneDNN's dnnl_sgemm, multithreaded) whose columns are the
// chunk's output positions side by side, not one small GEMM per image as in
// Caffe: LeNet's conv2 at batch 64 is a 50 x 4096 x 500 GEMM instead of 64
// of 50 x 64 x 500.
//
// - forward: col[(c, ki, kj)][(b, p)] (im2col, OpenMP over the rows,
//   each written front to back), Y[o][(b, p)] = W * col per group, copied into y's images
//   with the bias; with one image per chunk the GEMM writes y directly.
// - backward data: dyT[o][(b, p)] (dy's images side by side), col[g] =
//   W[g]^T * dyT[g], col2im into dx (OpenMP over channels).
// - backward weights: col as forward, dy by position [(b, p)][o], acc[g]
//   (kdim x O/G) += col[g] * dy[:, g] over the chunks, dW = acc^T; db: sums
//   of dy (float64 across planes).
// - 1x1, stride 1, unpadded forward and backward data: per-image GEMMs on x
//   (dx) itself, no workspace.
//
// The kernels work on plain NCHW buffers; blocked activations are converted
// around them (plainLayoutKernel).
//
//===----------------------------------------------------------------------===//

#include "ConvAlgos.h"

#include <algorithm>
#include <cstring>

namespace dlc::rt::dnnlk {
namespace {

/// n floats from s to d. Convolution rows are short (8 floats for LeNet's
/// conv2): fixed-size copies the compiler inlines, not a memcpy call each.
inline void copyFloats(float *d, const float *s, int64_t n) {
  for (; n >= 8; n -= 8, d += 8, s += 8)
    std::memcpy(d, s, 8 * sizeof(float));
  if (n & 4) {
    std::memcpy(d, s, 4 * sizeof(float));
    d += 4, s += 4;
  }
  if (n & 2) {
    std::memcpy(d, s, 2 * sizeof(float));
    d += 2, s += 2;
  }
  if (n & 1)
    *d = *s;
}

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

/// Row k = (c, ki, kj) of the columns of images x, x + imageStride, ...
/// (nb of them): col + k * rowStride holds, image after image, OH * OW
/// floats each. A row is written front to back (parallel over rows).
void im2colRow(const ConvGeom &g, const float *x, int64_t nb, int64_t imageStride, int64_t k,
               float *col, int64_t rowStride) {
  const int64_t c = k / (g.kh * g.kw), ki = k / g.kw % g.kh, kj = k % g.kw;
  const int64_t ix0 = kj * g.dw - g.pw;
  const ValidRange r(g.ow, g.sw, ix0, g.w);
  float *out = col + k * rowStride;
  for (int64_t b = 0; b < nb; ++b) {
    const float *plane = x + b * imageStride + c * g.h * g.w;
    for (int64_t oy = 0; oy < g.oh; ++oy, out += g.ow) {
      const int64_t iy = oy * g.sh - g.ph + ki * g.dh;
      if (iy < 0 || iy >= g.h) {
        std::fill(out, out + g.ow, 0.f);
        continue;
      }
      const float *row = plane + iy * g.w + ix0;
      std::fill(out, out + r.lo, 0.f);
      if (g.sw == 1)
        copyFloats(out + r.lo, row + r.lo, r.hi - r.lo);
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
      for (int64_t b = 0; b < nb; ++b) {
        float *plane = x + b * imageStride + c * g.h * g.w;
        for (int64_t oy = 0; oy < g.oh; ++oy, in += g.ow) {
          const int64_t iy = oy * g.sh - g.ph + ki * g.dh;
          if (iy < 0 || iy >= g.h)
            continue;
          float *row = plane + iy * g.w + ix0;
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

/// What the kernels of both kinds share: geometry, plan, buffers, staging.
class GemmBase : public DnnlKernelBase {
protected:
  GemmBase(const KernelDesc &desc, DnnlContext &ctx)
      : DnnlKernelBase(desc, ctx),
        g_(convGeometry(desc.isGradient() ? gradDesc(desc).fwd : desc, false)) {
    og_ = g_.o / g_.g;
    inImage_ = g_.c * g_.h * g_.w;
    pixels_ = g_.oh * g_.ow;
    outImage_ = g_.o * pixels_;
  }

  /// Row-major C = op(A) op(B) + beta C through oneDNN's SGEMM.
  void sgemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
             const float *b, int64_t ldb, float beta, float *c, int64_t ldc) const {
    if (dnnl_sgemm(ta, tb, m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc) != dnnl_success)
      throw Error("layer '" + layer_ + "' (" + op_ + "): gemm: oneDNN's SGEMM failed");
  }

  void allocate(const ops::GemmPlan &p) {
    col_.resize(std::max(col_.size(), size_t(p.colFloats)));
    stage_.resize(std::max(stage_.size(), size_t(p.stageFloats)));
  }

  /// dy's images [n0, n0 + nb) as [O, nb * pixels] (dy itself when nb = 1).
  const float *stageDy(const float *dy, int64_t n0, int64_t nb) {
    if (nb == 1)
      return dy + n0 * outImage_;
    const int64_t P = pixels_, O = g_.o;
    float *s = stage_.data();
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t o = 0; o < O; ++o)
        std::memcpy(s + (o * nb + b) * P, dy + (n0 + b) * outImage_ + o * P,
                    size_t(P) * sizeof(float));
    return s;
  }

  /// col rows (c, ki, kj) of images [n0, n0 + nb), columns (b, p).
  void im2colChunk(const float *x, int64_t n0, int64_t nb) {
    const int64_t rows = g_.c * g_.kh * g_.kw, stride = nb * pixels_;
    float *col = col_.data();
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < rows; ++k)
      im2colRow(g_, x + n0 * inImage_, nb, inImage_, k, col, stride);
  }

  /// dy's images [n0, n0 + nb) as [nb * pixels, O]: one row per position.
  const float *stageDyByPosition(const float *dy, int64_t n0, int64_t nb) {
    const int64_t P = pixels_, O = g_.o;
    float *s = stage_.data();
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < nb; ++b) {
      const float *src = dy + (n0 + b) * outImage_;
      float *dst = s + b * P * O;
      for (int64_t o = 0; o < O; ++o)
        for (int64_t p = 0; p < P; ++p)
          dst[p * O + o] = src[o * P + p];
    }
    return s;
  }

  ConvGeom g_;
  int64_t og_ = 0, inImage_ = 0, pixels_ = 0, outImage_ = 0;
  std::vector<float> col_, stage_;
};

class GemmConvKernel : public GemmBase {
public:
  GemmConvKernel(const KernelDesc &desc, DnnlContext &ctx, const ops::GemmPlan &plan)
      : GemmBase(desc, ctx), plan_(plan) {
    allocate(plan_);
    impl_ = plan_.noIm2col ? "dlc:gemm 1x1:sgemm" : "dlc:gemm im2col+sgemm";
  }

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *w = in[1], *bias = g_.hasBias ? in[2] : nullptr;
    float *y = out[0];
    const int64_t K = plan_.kdim, P = pixels_, G = g_.g, og = og_;
    if (plan_.noIm2col) {
      for (int64_t n = 0; n < g_.n; ++n)
        for (int64_t gi = 0; gi < G; ++gi)
          sgemm('N', 'N', og, P, K, w + gi * og * K, K, x + n * inImage_ + gi * K * P, P,
                0.f, y + n * outImage_ + gi * og * P, P);
      addBias(bias, y, 0, g_.n);
      return;
    }
    for (int64_t n0 = 0; n0 < g_.n; n0 += plan_.chunk) {
      const int64_t nb = std::min(plan_.chunk, g_.n - n0), cols = nb * P;
      im2colChunk(x, n0, nb);
      float *dst = nb == 1 ? y + n0 * outImage_ : stage_.data();
      for (int64_t gi = 0; gi < G; ++gi)
        sgemm('N', 'N', og, cols, K, w + gi * og * K, K, col_.data() + gi * K * cols,
              cols, 0.f, dst + gi * og * cols, cols);
      if (nb == 1) {
        addBias(bias, y, n0, 1);
        continue;
      }
      const int64_t O = g_.o;
      const float *s = stage_.data();
#pragma omp parallel for collapse(2) schedule(static)
      for (int64_t b = 0; b < nb; ++b)
        for (int64_t o = 0; o < O; ++o) {
          const float *src = s + (o * nb + b) * P;
          float *row = y + (n0 + b) * outImage_ + o * P;
          const float bo = bias ? bias[o] : 0.f;
          for (int64_t i = 0; i < P; ++i)
            row[i] = src[i] + bo;
        }
    }
  }

private:
  void addBias(const float *bias, float *y, int64_t n0, int64_t nb) const {
    if (!bias)
      return;
    const int64_t O = g_.o, P = pixels_;
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t b = n0; b < n0 + nb; ++b)
      for (int64_t o = 0; o < O; ++o) {
        float *row = y + b * outImage_ + o * P;
        for (int64_t i = 0; i < P; ++i)
          row[i] += bias[o];
      }
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
      allocate(data_);
      impl += data_.noIm2col ? " data:sgemm" : " data:sgemm+col2im";
    }
    if (outDw_ >= 0) {
      allocate(weights_);
      acc_.resize(size_t(weights_.accFloats));
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
    if (outDw_ >= 0)
      backwardWeights(x, dy, out[outDw_]);
    if (outDb_ >= 0)
      biasGrad(dy, out[outDb_]);
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
    for (int64_t n0 = 0; n0 < g_.n; n0 += data_.chunk) {
      const int64_t nb = std::min(data_.chunk, g_.n - n0), cols = nb * P;
      const float *dyT = stageDy(dy, n0, nb);
      float *col = col_.data();
      for (int64_t gi = 0; gi < G; ++gi)
        sgemm('T', 'N', K, cols, og, w + gi * og * K, K, dyT + gi * og * cols, cols, 0.f,
              col + gi * K * cols, cols);
#pragma omp parallel for schedule(static)
      for (int64_t c = 0; c < C; ++c)
        col2imChannel(g_, col, cols, c, nb, inImage_, dx + n0 * inImage_);
    }
  }

  void backwardWeights(const float *x, const float *dy, float *dw) {
    const int64_t K = weights_.kdim, P = pixels_, G = g_.g, og = og_, O = g_.o;
    float *acc = acc_.data(); // [G][K][O/G]
    for (int64_t n0 = 0; n0 < g_.n; n0 += weights_.chunk) {
      const int64_t nb = std::min(weights_.chunk, g_.n - n0), cols = nb * P;
      im2colChunk(x, n0, nb);
      const float *dyP = stageDyByPosition(dy, n0, nb);
      for (int64_t gi = 0; gi < G; ++gi)
        sgemm('N', 'N', K, og, cols, col_.data() + gi * K * cols, cols, dyP + gi * og, O,
              n0 == 0 ? 0.f : 1.f, acc + gi * K * og, og);
    }
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t gi = 0; gi < G; ++gi)
      for (int64_t o = 0; o < og; ++o)
        for (int64_t k = 0; k < K; ++k)
          dw[(gi * og + o) * K + k] = acc[(gi * K + k) * og + o];
  }

  /// db[o] = sum of dy's plane o over the images (16 float lanes per plane,
  /// float64 across planes).
  void biasGrad(const float *dy, float *db) const {
    const int64_t O = g_.o, N = g_.n, P = pixels_;
#pragma omp parallel for schedule(static)
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

  size_t dyIdx_;
  int outDx_, outDw_, outDb_;
  ops::GemmPlan data_, weights_;
  std::vector<float> acc_;
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

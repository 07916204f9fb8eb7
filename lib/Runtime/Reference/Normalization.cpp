//===- Normalization.cpp - Reference softmax, batch norm, scale, bias -----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// softmax, batch_norm, mvn, scale and bias with Caffe's semantics, and their
// gradients (Caffe's Backward_cpu formulas; softmax reads the top data).
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include <algorithm>
#include <cmath>

namespace dlc::rt::ref {
namespace {

class SoftmaxKernel : public RefKernel {
public:
  SoftmaxKernel(int64_t outer, int64_t channels, int64_t inner)
      : outer_(outer), channels_(channels), inner_(inner) {}
  void forward(const float *const *in, float *const *out) override {
    std::vector<double> e(channels_);
    for (int64_t o = 0; o < outer_; ++o)
      for (int64_t i = 0; i < inner_; ++i) {
        const float *x = in[0] + o * channels_ * inner_ + i;
        float *y = out[0] + o * channels_ * inner_ + i;
        double m = -INFINITY;
        for (int64_t c = 0; c < channels_; ++c)
          m = std::max(m, double(x[c * inner_]));
        double sum = 0.0;
        for (int64_t c = 0; c < channels_; ++c)
          sum += e[c] = std::exp(double(x[c * inner_]) - m);
        for (int64_t c = 0; c < channels_; ++c)
          y[c * inner_] = static_cast<float>(e[c] / sum);
      }
  }

private:
  int64_t outer_, channels_, inner_;
};

class BatchNormKernel : public RefKernel {
public:
  BatchNormKernel(int64_t num, int64_t channels, int64_t spatial, bool global, double eps)
      : num_(num), channels_(channels), spatial_(spatial), global_(global), eps_(eps) {}
  bool supportsInPlace() const override { return true; }
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0];
    float *y = out[0];
    std::vector<double> mean(channels_, 0.0), var(channels_, 0.0);
    if (global_) {
      double factor = in[3][0] == 0.0f ? 0.0 : 1.0 / double(in[3][0]);
      for (int64_t c = 0; c < channels_; ++c) {
        mean[c] = double(in[1][c]) * factor;
        var[c] = double(in[2][c]) * factor;
      }
    } else {
      double count = double(num_) * double(spatial_);
      for (int64_t c = 0; c < channels_; ++c) {
        double s = 0.0;
        for (int64_t n = 0; n < num_; ++n)
          for (int64_t i = 0; i < spatial_; ++i)
            s += x[(n * channels_ + c) * spatial_ + i];
        mean[c] = count > 0 ? s / count : 0.0;
        double v = 0.0;
        for (int64_t n = 0; n < num_; ++n)
          for (int64_t i = 0; i < spatial_; ++i) {
            double d = x[(n * channels_ + c) * spatial_ + i] - mean[c];
            v += d * d;
          }
        var[c] = count > 0 ? v / count : 0.0;
      }
    }
    for (int64_t n = 0; n < num_; ++n)
      for (int64_t c = 0; c < channels_; ++c) {
        double inv = 1.0 / std::sqrt(var[c] + eps_);
        for (int64_t i = 0; i < spatial_; ++i) {
          int64_t idx = (n * channels_ + c) * spatial_ + i;
          y[idx] = static_cast<float>((double(x[idx]) - mean[c]) * inv);
        }
      }
  }

private:
  int64_t num_, channels_, spatial_;
  bool global_;
  double eps_;
};

/// y = x * scale[d] + bias[d] over [outer, dim, inner]; either may be absent.
class ScaleBiasKernel : public RefKernel {
public:
  ScaleBiasKernel(int64_t outer, int64_t dim, int64_t inner, int scaleIdx, int biasIdx)
      : outer_(outer), dim_(dim), inner_(inner), scaleIdx_(scaleIdx), biasIdx_(biasIdx) {}
  bool supportsInPlace() const override { return true; }
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0];
    const float *s = scaleIdx_ >= 0 ? in[scaleIdx_] : nullptr;
    const float *b = biasIdx_ >= 0 ? in[biasIdx_] : nullptr;
    float *y = out[0];
    for (int64_t o = 0; o < outer_; ++o)
      for (int64_t d = 0; d < dim_; ++d) {
        double sv = s ? double(s[d]) : 1.0, bv = b ? double(b[d]) : 0.0;
        for (int64_t i = 0; i < inner_; ++i) {
          int64_t idx = (o * dim_ + d) * inner_ + i;
          y[idx] = static_cast<float>(double(x[idx]) * sv + bv);
        }
      }
  }

private:
  int64_t outer_, dim_, inner_;
  int scaleIdx_, biasIdx_;
};

/// Gradient of softmax: dx = y * (dy - sum_c dy * y) along the axis.
class SoftmaxGradKernel : public RefKernel {
public:
  SoftmaxGradKernel(int64_t outer, int64_t channels, int64_t inner)
      : outer_(outer), channels_(channels), inner_(inner) {}
  void forward(const float *const *in, float *const *out) override {
    for (int64_t o = 0; o < outer_; ++o)
      for (int64_t i = 0; i < inner_; ++i) {
        int64_t base = o * channels_ * inner_ + i;
        const float *y = in[1] + base, *dy = in[2] + base;
        float *dx = out[0] + base;
        double dot = 0.0;
        for (int64_t c = 0; c < channels_; ++c)
          dot += double(dy[c * inner_]) * double(y[c * inner_]);
        for (int64_t c = 0; c < channels_; ++c)
          dx[c * inner_] = static_cast<float>(double(y[c * inner_]) *
                                              (double(dy[c * inner_]) - dot));
      }
  }

private:
  int64_t outer_, channels_, inner_;
};

/// Gradient of batch_norm with respect to x. Inputs: x, mean, variance,
/// scale_factor, y, dy.
/// Global statistics: dx = dy / sqrt(variance / scale_factor + eps) (factor
/// 0 -> variance 0, as in forward).
/// Batch statistics (Caffe's BatchNormLayer::Backward_cpu), per channel over
/// batch and spatial positions, with xhat the normalized input:
///   dx = (dy - mean(dy) - xhat * mean(dy * xhat)) / sqrt(var + eps).
class BatchNormGradKernel : public RefKernel {
public:
  BatchNormGradKernel(int64_t num, int64_t channels, int64_t spatial, bool global,
                      double eps)
      : num_(num), channels_(channels), spatial_(spatial), global_(global), eps_(eps) {}
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *dy = in[5];
    float *dx = out[0];
    double count = double(num_) * double(spatial_);
    for (int64_t c = 0; c < channels_; ++c) {
      auto at = [&](int64_t n, int64_t i) { return (n * channels_ + c) * spatial_ + i; };
      double mean = 0.0, var = 0.0;
      if (global_) {
        double factor = in[3][0] == 0.0f ? 0.0 : 1.0 / double(in[3][0]);
        mean = double(in[1][c]) * factor;
        var = double(in[2][c]) * factor;
      } else if (count > 0) {
        for (int64_t n = 0; n < num_; ++n)
          for (int64_t i = 0; i < spatial_; ++i)
            mean += x[at(n, i)];
        mean /= count;
        for (int64_t n = 0; n < num_; ++n)
          for (int64_t i = 0; i < spatial_; ++i) {
            double d = x[at(n, i)] - mean;
            var += d * d;
          }
        var /= count;
      }
      double inv = 1.0 / std::sqrt(var + eps_);
      if (global_) {
        for (int64_t n = 0; n < num_; ++n)
          for (int64_t i = 0; i < spatial_; ++i)
            dx[at(n, i)] = static_cast<float>(double(dy[at(n, i)]) * inv);
        continue;
      }
      double meanDy = 0.0, meanDyXhat = 0.0;
      for (int64_t n = 0; n < num_; ++n)
        for (int64_t i = 0; i < spatial_; ++i) {
          double d = dy[at(n, i)], xhat = (double(x[at(n, i)]) - mean) * inv;
          meanDy += d;
          meanDyXhat += d * xhat;
        }
      if (count > 0) {
        meanDy /= count;
        meanDyXhat /= count;
      }
      for (int64_t n = 0; n < num_; ++n)
        for (int64_t i = 0; i < spatial_; ++i) {
          double xhat = (double(x[at(n, i)]) - mean) * inv;
          dx[at(n, i)] = static_cast<float>(
              (double(dy[at(n, i)]) - meanDy - xhat * meanDyXhat) * inv);
        }
    }
  }

private:
  int64_t num_, channels_, spatial_;
  bool global_;
  double eps_;
};

/// Gradient of y = x * scale[d] + bias[d] over [outer, dim, inner] (scale
/// and bias ops). dx = dy * scale, dscale[d] = sum dy * x, dbias[d] = sum dy.
class ScaleBiasGradKernel : public RefKernel {
public:
  ScaleBiasGradKernel(int64_t outer, int64_t dim, int64_t inner, int scaleIdx, int dyIdx,
                      int outX, int outS, int outB)
      : outer_(outer), dim_(dim), inner_(inner), scaleIdx_(scaleIdx), dyIdx_(dyIdx),
        outX_(outX), outS_(outS), outB_(outB) {}
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *dy = in[dyIdx_];
    const float *s = scaleIdx_ >= 0 ? in[scaleIdx_] : nullptr;
    std::vector<double> ds(dim_, 0.0), db(dim_, 0.0);
    for (int64_t o = 0; o < outer_; ++o)
      for (int64_t d = 0; d < dim_; ++d) {
        double sv = s ? double(s[d]) : 1.0;
        for (int64_t i = 0; i < inner_; ++i) {
          int64_t idx = (o * dim_ + d) * inner_ + i;
          double g = dy[idx];
          if (outX_ >= 0)
            out[outX_][idx] = static_cast<float>(g * sv);
          ds[d] += g * double(x[idx]);
          db[d] += g;
        }
      }
    for (int64_t d = 0; d < dim_; ++d) {
      if (outS_ >= 0)
        out[outS_][d] = static_cast<float>(ds[d]);
      if (outB_ >= 0)
        out[outB_][d] = static_cast<float>(db[d]);
    }
  }

private:
  int64_t outer_, dim_, inner_;
  int scaleIdx_, dyIdx_, outX_, outS_, outB_;
};

/// Caffe's MVNLayer over `num` groups of `dim` values: y = x - mean, and
/// with normalize_variance y /= sqrt(E[(x - mean)^2]) + eps. Its gradient is
/// Caffe's Backward_cpu: dx = dy - mean(dy) without variance normalization,
/// else (dy - (sum(dy) + y sum(y dy)) / dim) / (sqrt(var) + eps).
class MvnKernel : public RefKernel {
public:
  MvnKernel(int64_t num, int64_t dim, bool variance, double eps, bool backward)
      : num_(num), dim_(dim), variance_(variance), eps_(eps), backward_(backward) {}
  void forward(const float *const *in, float *const *out) override {
    std::vector<double> y(static_cast<size_t>(dim_));
    for (int64_t g = 0; g < num_; ++g) {
      const float *x = in[0] + g * dim_;
      double mean = 0.0, var = 0.0;
      for (int64_t i = 0; i < dim_; ++i)
        mean += x[i];
      mean /= double(dim_);
      for (int64_t i = 0; i < dim_; ++i) {
        y[size_t(i)] = double(x[i]) - mean;
        var += y[size_t(i)] * y[size_t(i)];
      }
      double denom = variance_ ? std::sqrt(var / double(dim_)) + eps_ : 1.0;
      for (int64_t i = 0; i < dim_; ++i)
        y[size_t(i)] /= denom;
      float *dst = out[0] + g * dim_;
      if (!backward_) {
        for (int64_t i = 0; i < dim_; ++i)
          dst[i] = static_cast<float>(y[size_t(i)]);
        continue;
      }
      const float *dy = in[2] + g * dim_; // inputs: x, y, dy
      double sumDy = 0.0, sumYDy = 0.0;
      for (int64_t i = 0; i < dim_; ++i) {
        sumDy += dy[i];
        sumYDy += y[size_t(i)] * dy[i];
      }
      for (int64_t i = 0; i < dim_; ++i) {
        double d = variance_ ? (dy[i] - (sumDy + y[size_t(i)] * sumYDy) / double(dim_)) / denom
                             : dy[i] - sumDy / double(dim_);
        dst[i] = static_cast<float>(d);
      }
    }
  }

private:
  int64_t num_, dim_;
  bool variance_;
  double eps_;
  bool backward_;
};

std::unique_ptr<Kernel> makeMvn(const KernelDesc &desc) {
  const KernelDesc &fwd = desc.isGradient() ? gradDesc(desc).fwd : desc;
  auto a = attrsOf<ops::MVNAttrs>(fwd);
  int64_t num = 0, dim = 0;
  check(desc, ops::mvnGeometry(a, fwd.inputs[0], num, dim));
  return std::make_unique<MvnKernel>(num, dim, a.normalize_variance, a.eps, desc.isGradient());
}

/// [outer, dim, inner] of the scale / bias operand `idx` over x.
ops::Broadcast broadcast(const KernelDesc &desc, size_t idx, int64_t axis, int64_t numAxes) {
  ops::Broadcast b;
  check(desc, ops::broadcastGeometry(desc.inputs[0], desc.inputs[idx], axis, numAxes, b));
  return b;
}

ops::AxisSplit softmaxSplit(const KernelDesc &desc) {
  ops::AxisSplit s;
  check(desc, ops::splitAxis(desc.inputs[0], attrsOf<ops::SoftmaxAttrs>(desc).axis, "softmax", s));
  return s;
}

std::unique_ptr<Kernel> makeSoftmax(const KernelDesc &desc) {
  ops::AxisSplit s = softmaxSplit(desc);
  return std::make_unique<SoftmaxKernel>(s.outer, s.channels, s.inner);
}

std::unique_ptr<Kernel> makeSoftmaxGrad(const KernelDesc &desc) {
  ops::AxisSplit s = softmaxSplit(gradDesc(desc).fwd);
  return std::make_unique<SoftmaxGradKernel>(s.outer, s.channels, s.inner);
}

/// num, channels (axis 1), spatial of a batch_norm input.
struct BatchNormDims {
  int64_t num, channels, spatial;
};
BatchNormDims batchNormDims(const Shape &x) {
  int64_t channels = x.size() == 1 ? 1 : x[1];
  int64_t spatial = 1;
  for (size_t i = 2; i < x.size(); ++i)
    spatial *= x[i];
  return {x[0], channels, spatial};
}

std::unique_ptr<Kernel> makeBatchNorm(const KernelDesc &desc) {
  auto a = attrsOf<ops::BatchNormAttrs>(desc);
  BatchNormDims d = batchNormDims(desc.inputs[0]);
  return std::make_unique<BatchNormKernel>(d.num, d.channels, d.spatial, a.use_global_stats,
                                           a.eps);
}

std::unique_ptr<Kernel> makeBatchNormGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  auto a = attrsOf<ops::BatchNormAttrs>(gd.fwd);
  BatchNormDims d = batchNormDims(gd.fwd.inputs[0]);
  return std::make_unique<BatchNormGradKernel>(d.num, d.channels, d.spatial,
                                               a.use_global_stats, a.eps);
}

std::unique_ptr<Kernel> makeScale(const KernelDesc &desc) {
  auto a = attrsOf<ops::ScaleAttrs>(desc);
  ops::Broadcast b = broadcast(desc, 1, a.axis, a.num_axes);
  return std::make_unique<ScaleBiasKernel>(b.outer, b.dim, b.inner, 1,
                                           desc.inputs.size() == 3 ? 2 : -1);
}

std::unique_ptr<Kernel> makeScaleGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  auto a = attrsOf<ops::ScaleAttrs>(gd.fwd);
  ops::Broadcast b = broadcast(gd.fwd, 1, a.axis, a.num_axes);
  return std::make_unique<ScaleBiasGradKernel>(b.outer, b.dim, b.inner, 1, int(gd.gradIn(0)),
                                               gd.outputOf(0), gd.outputOf(1), gd.outputOf(2));
}

std::unique_ptr<Kernel> makeBias(const KernelDesc &desc) {
  auto a = attrsOf<ops::BiasAttrs>(desc);
  ops::Broadcast b = broadcast(desc, 1, a.axis, a.num_axes);
  return std::make_unique<ScaleBiasKernel>(b.outer, b.dim, b.inner, -1, 1);
}

std::unique_ptr<Kernel> makeBiasGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  auto a = attrsOf<ops::BiasAttrs>(gd.fwd);
  ops::Broadcast b = broadcast(gd.fwd, 1, a.axis, a.num_axes);
  return std::make_unique<ScaleBiasGradKernel>(b.outer, b.dim, b.inner, -1, int(gd.gradIn(0)),
                                               gd.outputOf(0), -1, gd.outputOf(1));
}

} // namespace

DLC_REGISTER_KERNELS(DLC_REF_OP("softmax", makeSoftmax, makeSoftmaxGrad),
                     DLC_REF_OP("batch_norm", makeBatchNorm, makeBatchNormGrad),
                     DLC_REF_OP("mvn", makeMvn, makeMvn),
                     DLC_REF_OP("scale", makeScale, makeScaleGrad),
                     DLC_REF_OP("bias", makeBias, makeBiasGrad));

} // namespace dlc::rt::ref

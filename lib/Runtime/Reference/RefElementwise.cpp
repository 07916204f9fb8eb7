//===- RefElementwise.cpp - Reference activations and normalizations ------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// relu, sigmoid, tanh, abs_val, bnll, elu, power, dropout, prelu, softmax,
// batch_norm, scale, bias and eltwise, with Caffe's semantics, and their
// gradients (Caffe's Backward_cpu formulas; where Caffe reads the top data -
// sigmoid, tanh, elu, softmax - so do we, from the forward result operand).
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include "dlc/Runtime/Reference/DropoutMask.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace dlc::rt::ref {
namespace {

enum class UnaryOp { Relu, Sigmoid, Tanh, AbsVal, Bnll, Elu, Power, Identity };

class UnaryKernel : public RefKernel {
public:
  UnaryKernel(UnaryOp op, int64_t count, double a, double b, double c)
      : op_(op), count_(count), a_(a), b_(b), c_(c) {}

  bool supportsInPlace() const override { return true; }

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0];
    float *y = out[0];
    if (op_ == UnaryOp::Identity) {
      if (x != y)
        std::copy(x, x + count_, y);
      return;
    }
    for (int64_t i = 0; i < count_; ++i)
      y[i] = static_cast<float>(apply(x[i]));
  }

private:
  double apply(double x) const {
    switch (op_) {
    case UnaryOp::Relu: // a = negative_slope
      return std::max(x, 0.0) + a_ * std::min(x, 0.0);
    case UnaryOp::Sigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case UnaryOp::Tanh:
      return std::tanh(x);
    case UnaryOp::AbsVal:
      return std::fabs(x);
    case UnaryOp::Bnll:
      return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    case UnaryOp::Elu: // a = alpha
      return x > 0 ? x : a_ * (std::exp(x) - 1.0);
    case UnaryOp::Power: // a = power, b = scale, c = shift
      return a_ == 1.0 ? c_ + b_ * x : std::pow(c_ + b_ * x, a_);
    case UnaryOp::Identity:
      return x;
    }
    return x;
  }

  UnaryOp op_;
  int64_t count_;
  double a_, b_, c_;
};

/// Train-mode dropout: y = x * keep * 1/(1 - ratio), the mask from
/// DropoutMask.h (regenerated from `seed` on every run).
class DropoutKernel : public RefKernel {
public:
  DropoutKernel(int64_t count, double ratio, uint64_t seed)
      : count_(count), ratio_(ratio), seed_(seed) {}
  bool supportsInPlace() const override { return true; }
  void forward(const float *const *in, float *const *out) override {
    std::vector<uint8_t> keep = dropoutMask(seed_, ratio_, count_);
    double scale = dropoutScale(ratio_);
    for (int64_t i = 0; i < count_; ++i)
      out[0][i] = keep[i] ? static_cast<float>(double(in[0][i]) * scale) : 0.0f;
  }

private:
  int64_t count_;
  double ratio_;
  uint64_t seed_;
};

/// Gradient of the unary ops. Inputs: x, y, dy.
class UnaryGradKernel : public RefKernel {
public:
  UnaryGradKernel(UnaryOp op, int64_t count, double a, double b, double c)
      : op_(op), count_(count), a_(a), b_(b), c_(c) {}
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *y = in[1], *dy = in[2];
    float *dx = out[0];
    for (int64_t i = 0; i < count_; ++i)
      dx[i] = static_cast<float>(double(dy[i]) * derivative(x[i], y[i]));
  }

private:
  double derivative(double x, double y) const {
    switch (op_) {
    case UnaryOp::Relu: // Caffe: (x > 0) + negative_slope * (x <= 0)
      return x > 0 ? 1.0 : a_;
    case UnaryOp::Sigmoid:
      return y * (1.0 - y);
    case UnaryOp::Tanh:
      return 1.0 - y * y;
    case UnaryOp::AbsVal: // caffe_cpu_sign
      return double((0.0 < x) - (x < 0.0));
    case UnaryOp::Bnll: { // Caffe: e / (e + 1), e = exp(min(x, 50))
      double e = std::exp(std::min(x, 50.0));
      return e / (e + 1.0);
    }
    case UnaryOp::Elu: // Caffe: (x > 0) + (alpha + y) * (x <= 0)
      return x > 0 ? 1.0 : a_ + y;
    case UnaryOp::Power: { // power * scale * (shift + scale x)^(power - 1)
      double diffScale = a_ * b_;
      if (diffScale == 0.0)
        return 0.0;
      if (a_ == 1.0)
        return b_;
      if (a_ == 2.0)
        return diffScale * (c_ + b_ * x);
      return diffScale * std::pow(c_ + b_ * x, a_ - 1.0);
    }
    case UnaryOp::Identity:
      return 1.0;
    }
    return 1.0;
  }

  UnaryOp op_;
  int64_t count_;
  double a_, b_, c_;
};

/// Gradient of train-mode dropout: dx = dy * keep / (1 - ratio), with the
/// forward's mask.
class DropoutGradKernel : public RefKernel {
public:
  DropoutGradKernel(int64_t count, double ratio, uint64_t seed)
      : count_(count), ratio_(ratio), seed_(seed) {}
  void forward(const float *const *in, float *const *out) override {
    std::vector<uint8_t> keep = dropoutMask(seed_, ratio_, count_);
    double scale = dropoutScale(ratio_);
    for (int64_t i = 0; i < count_; ++i)
      out[0][i] = keep[i] ? static_cast<float>(double(in[2][i]) * scale) : 0.0f;
  }

private:
  int64_t count_;
  double ratio_;
  uint64_t seed_;
};

class PreluKernel : public RefKernel {
public:
  PreluKernel(int64_t outer, int64_t channels, int64_t inner, bool shared)
      : outer_(outer), channels_(channels), inner_(inner), shared_(shared) {}
  bool supportsInPlace() const override { return true; }
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *slope = in[1];
    float *y = out[0];
    for (int64_t o = 0; o < outer_; ++o)
      for (int64_t c = 0; c < channels_; ++c) {
        double s = slope[shared_ ? 0 : c];
        for (int64_t i = 0; i < inner_; ++i) {
          int64_t idx = (o * channels_ + c) * inner_ + i;
          double v = x[idx];
          y[idx] = static_cast<float>(std::max(v, 0.0) + s * std::min(v, 0.0));
        }
      }
  }

private:
  int64_t outer_, channels_, inner_;
  bool shared_;
};

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

enum class EltOp { Prod, Sum, Max };

class EltwiseKernel : public RefKernel {
public:
  EltwiseKernel(EltOp op, int64_t count, std::vector<double> coeff)
      : op_(op), count_(count), coeff_(std::move(coeff)) {}
  void forward(const float *const *in, float *const *out) override {
    size_t n = coeff_.size();
    for (int64_t i = 0; i < count_; ++i) {
      double acc = 0.0;
      switch (op_) {
      case EltOp::Prod:
        acc = 1.0;
        for (size_t k = 0; k < n; ++k)
          acc *= double(in[k][i]);
        break;
      case EltOp::Sum:
        acc = 0.0;
        for (size_t k = 0; k < n; ++k)
          acc += coeff_[k] * double(in[k][i]);
        break;
      case EltOp::Max:
        acc = in[0][i];
        for (size_t k = 1; k < n; ++k)
          acc = std::max(acc, double(in[k][i]));
        break;
      }
      out[0][i] = static_cast<float>(acc);
    }
  }

private:
  EltOp op_;
  int64_t count_;
  std::vector<double> coeff_; // one per input (1s for prod/max)
};

/// Gradient of prelu. Inputs: x, slope, y, dy. dx = dy * (x > 0 ? 1 : slope),
/// dslope[c] = sum dy * x * (x <= 0) (over everything when shared).
class PreluGradKernel : public RefKernel {
public:
  PreluGradKernel(int64_t outer, int64_t channels, int64_t inner, bool shared, int outX,
                  int outS)
      : outer_(outer), channels_(channels), inner_(inner), shared_(shared), outX_(outX),
        outS_(outS) {}
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *slope = in[1], *dy = in[3];
    std::vector<double> ds(shared_ ? 1 : channels_, 0.0);
    for (int64_t o = 0; o < outer_; ++o)
      for (int64_t c = 0; c < channels_; ++c) {
        double s = slope[shared_ ? 0 : c];
        double &acc = ds[shared_ ? 0 : c];
        for (int64_t i = 0; i < inner_; ++i) {
          int64_t idx = (o * channels_ + c) * inner_ + i;
          double v = x[idx], d = dy[idx];
          if (outX_ >= 0)
            out[outX_][idx] = static_cast<float>(v > 0 ? d : d * s);
          if (v <= 0)
            acc += d * v;
        }
      }
    if (outS_ >= 0)
      for (size_t c = 0; c < ds.size(); ++c)
        out[outS_][c] = static_cast<float>(ds[c]);
  }

private:
  int64_t outer_, channels_, inner_;
  bool shared_;
  int outX_, outS_;
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

/// Gradient of eltwise. sum: dx_k = coeff_k dy; prod: dx_k = dy * prod of
/// the other inputs (Caffe's stable_prod_grad); max: dy goes to the first
/// input holding the maximum (Caffe's mask: a later input wins only when
/// strictly greater).
class EltwiseGradKernel : public RefKernel {
public:
  EltwiseGradKernel(EltOp op, int64_t count, std::vector<double> coeff,
                    std::vector<int64_t> wrt)
      : op_(op), count_(count), coeff_(std::move(coeff)), wrt_(std::move(wrt)) {}
  void forward(const float *const *in, float *const *out) override {
    size_t n = coeff_.size();
    const float *dy = in[n + 1];
    for (int64_t i = 0; i < count_; ++i) {
      size_t arg = 0;
      if (op_ == EltOp::Max) {
        float m = in[0][i];
        for (size_t k = 1; k < n; ++k)
          if (in[k][i] > m) {
            m = in[k][i];
            arg = k;
          }
      }
      for (size_t o = 0; o < wrt_.size(); ++o) {
        size_t k = static_cast<size_t>(wrt_[o]);
        double g = 0.0;
        switch (op_) {
        case EltOp::Sum:
          g = coeff_[k] * double(dy[i]);
          break;
        case EltOp::Prod: {
          double p = 1.0;
          for (size_t j = 0; j < n; ++j)
            if (j != k)
              p *= double(in[j][i]);
          g = p * double(dy[i]);
          break;
        }
        case EltOp::Max:
          g = arg == k ? double(dy[i]) : 0.0;
          break;
        }
        out[o][i] = static_cast<float>(g);
      }
    }
  }

private:
  EltOp op_;
  int64_t count_;
  std::vector<double> coeff_;
  std::vector<int64_t> wrt_;
};

/// Shared by scale and bias: the operand `idx` must have the shape of
/// x.shape[axis : axis + rank]. Returns {outer, dim, inner}.
std::array<int64_t, 3> broadcastAxes(const KernelDesc &desc, size_t idx,
                                     const std::string &what) {
  const Shape &x = desc.inputs[0];
  const Shape &p = desc.inputs[idx];
  int64_t rank = x.size();
  int64_t numAxes = desc.attrs.getInt("num_axes", 1);
  if (numAxes < -1)
    fail(desc, "num_axes must be -1 or non-negative, got " + std::to_string(numAxes));
  // A scalar operand applies to everything (Caffe uses axis 0 for it).
  int64_t axis =
      p.empty() ? 0 : canonicalAxis(desc, desc.attrs.getInt("axis", 1), rank, "axis");
  int64_t pr = p.size();
  if (axis + pr > rank ||
      !std::equal(p.begin(), p.end(), x.begin() + axis))
    fail(desc, what + " has shape " + shapeToString(p) +
                   ", which is not a sub-shape of the input " + shapeToString(x) +
                   " starting at axis " + std::to_string(axis));
  bool isParam = idx < desc.isParam.size() && desc.isParam[idx];
  if (isParam && !p.empty()) {
    int64_t want = numAxes == -1 ? rank - axis : numAxes;
    if (pr != want)
      fail(desc, what + " has " + std::to_string(pr) + " axes, but num_axes implies " +
                     std::to_string(want));
  }
  return {countRange(x, 0, axis), countRange(x, axis, axis + pr),
          countRange(x, axis + pr, rank)};
}

} // namespace

std::unique_ptr<Kernel> makeUnary(const KernelDesc &desc) {
  checkArity(desc, 1, 1, 1);
  checkOutputs(desc, {desc.inputs[0]});
  int64_t count = numElements(desc.inputs[0]);
  const Attrs &a = desc.attrs;
  const std::string &op = desc.op;
  if (op == "relu")
    return std::make_unique<UnaryKernel>(UnaryOp::Relu, count,
                                         a.getFloat("negative_slope", 0.0), 0, 0);
  if (op == "sigmoid")
    return std::make_unique<UnaryKernel>(UnaryOp::Sigmoid, count, 0, 0, 0);
  if (op == "tanh")
    return std::make_unique<UnaryKernel>(UnaryOp::Tanh, count, 0, 0, 0);
  if (op == "abs_val")
    return std::make_unique<UnaryKernel>(UnaryOp::AbsVal, count, 0, 0, 0);
  if (op == "bnll")
    return std::make_unique<UnaryKernel>(UnaryOp::Bnll, count, 0, 0, 0);
  if (op == "elu")
    return std::make_unique<UnaryKernel>(UnaryOp::Elu, count, a.getFloat("alpha", 1.0), 0,
                                         0);
  if (op == "power")
    return std::make_unique<UnaryKernel>(UnaryOp::Power, count, a.getFloat("power", 1.0),
                                         a.getFloat("scale", 1.0), a.getFloat("shift", 0.0));
  if (op == "dropout") {
    double ratio = a.getFloat("ratio", 0.5);
    if (!(ratio >= 0.0 && ratio < 1.0))
      fail(desc, "ratio must be in [0, 1), got " + std::to_string(ratio));
    if (a.getBool("train", false))
      return std::make_unique<DropoutKernel>(count, ratio,
                                             static_cast<uint64_t>(a.getInt("seed", 0)));
    return std::make_unique<UnaryKernel>(UnaryOp::Identity, count, 0, 0, 0);
  }
  fail(desc, "not an elementwise op");
}

std::unique_ptr<Kernel> makePrelu(const KernelDesc &desc) {
  checkArity(desc, 2, 2, 1);
  checkMinRank(desc, 0, 2, "input");
  const Shape &x = desc.inputs[0];
  bool shared = desc.attrs.getBool("channel_shared", false);
  checkInput(desc, 1, shared ? Shape{1} : Shape{x[1]}, "slope");
  checkOutputs(desc, {x});
  return std::make_unique<PreluKernel>(x[0], x[1], countRange(x, 2, x.size()), shared);
}

std::unique_ptr<Kernel> makeSoftmax(const KernelDesc &desc) {
  checkArity(desc, 1, 1, 1);
  const Shape &x = desc.inputs[0];
  int64_t axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), x.size(), "axis");
  checkOutputs(desc, {x});
  return std::make_unique<SoftmaxKernel>(countRange(x, 0, axis), x[axis],
                                         countRange(x, axis + 1, x.size()));
}

std::unique_ptr<Kernel> makeBatchNorm(const KernelDesc &desc) {
  checkArity(desc, 4, 4, 1);
  checkMinRank(desc, 0, 1, "input");
  const Shape &x = desc.inputs[0];
  int64_t channels = x.size() == 1 ? 1 : x[1];
  checkInput(desc, 1, {channels}, "mean");
  checkInput(desc, 2, {channels}, "variance");
  checkInput(desc, 3, {1}, "scale_factor");
  bool global = requireInt(desc, "use_global_stats") != 0;
  double eps = desc.attrs.getFloat("eps", 1e-5);
  if (eps < 0)
    fail(desc, "eps must be non-negative");
  checkOutputs(desc, {x});
  int64_t spatial = x.size() <= 2 ? 1 : countRange(x, 2, x.size());
  return std::make_unique<BatchNormKernel>(x[0], channels, spatial, global, eps);
}

std::unique_ptr<Kernel> makeScale(const KernelDesc &desc) {
  checkArity(desc, 2, 3, 1);
  auto [outer, dim, inner] = broadcastAxes(desc, 1, "scale");
  if (desc.inputs.size() == 3 && desc.inputs[2] != desc.inputs[1])
    fail(desc, "bias has shape " + shapeToString(desc.inputs[2]) +
                   ", expected the scale's shape " + shapeToString(desc.inputs[1]));
  checkOutputs(desc, {desc.inputs[0]});
  return std::make_unique<ScaleBiasKernel>(outer, dim, inner, 1,
                                           desc.inputs.size() == 3 ? 2 : -1);
}

std::unique_ptr<Kernel> makeBias(const KernelDesc &desc) {
  checkArity(desc, 2, 2, 1);
  auto [outer, dim, inner] = broadcastAxes(desc, 1, "bias");
  checkOutputs(desc, {desc.inputs[0]});
  return std::make_unique<ScaleBiasKernel>(outer, dim, inner, -1, 1);
}

std::unique_ptr<Kernel> makeEltwise(const KernelDesc &desc) {
  checkArity(desc, 2, SIZE_MAX, 1);
  const Shape &x = desc.inputs[0];
  for (size_t i = 1; i < desc.inputs.size(); ++i)
    checkInput(desc, i, x, "input " + std::to_string(i));
  std::string op = desc.attrs.getString("operation", "sum");
  std::vector<double> coeff = desc.attrs.getFloats("coeff");
  EltOp kind;
  if (op == "prod")
    kind = EltOp::Prod;
  else if (op == "sum")
    kind = EltOp::Sum;
  else if (op == "max")
    kind = EltOp::Max;
  else
    fail(desc, "attribute 'operation' has unknown value '" + op +
                   "' (expected prod, sum or max)");
  if (!coeff.empty() && kind == EltOp::Prod)
    fail(desc, "coeff is only allowed with operation sum");
  if (!coeff.empty() && coeff.size() != desc.inputs.size())
    fail(desc, "coeff has " + std::to_string(coeff.size()) + " entries for " +
                   std::to_string(desc.inputs.size()) + " inputs");
  if (coeff.empty() || kind != EltOp::Sum)
    coeff.assign(desc.inputs.size(), 1.0);
  checkOutputs(desc, {x});
  return std::make_unique<EltwiseKernel>(kind, numElements(x), std::move(coeff));
}

} // namespace dlc::rt::ref

namespace dlc::rt::ref {

std::unique_ptr<Kernel> makeUnaryGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeUnary);
  const KernelDesc &f = gd.fwd;
  const Attrs &a = f.attrs;
  int64_t count = numElements(f.inputs[0]);
  const std::string &op = f.op;
  if (op == "relu")
    return std::make_unique<UnaryGradKernel>(UnaryOp::Relu, count,
                                             a.getFloat("negative_slope", 0.0), 0, 0);
  if (op == "sigmoid")
    return std::make_unique<UnaryGradKernel>(UnaryOp::Sigmoid, count, 0, 0, 0);
  if (op == "tanh")
    return std::make_unique<UnaryGradKernel>(UnaryOp::Tanh, count, 0, 0, 0);
  if (op == "abs_val")
    return std::make_unique<UnaryGradKernel>(UnaryOp::AbsVal, count, 0, 0, 0);
  if (op == "bnll")
    return std::make_unique<UnaryGradKernel>(UnaryOp::Bnll, count, 0, 0, 0);
  if (op == "elu")
    return std::make_unique<UnaryGradKernel>(UnaryOp::Elu, count, a.getFloat("alpha", 1.0),
                                             0, 0);
  if (op == "power")
    return std::make_unique<UnaryGradKernel>(UnaryOp::Power, count,
                                             a.getFloat("power", 1.0),
                                             a.getFloat("scale", 1.0),
                                             a.getFloat("shift", 0.0));
  if (op == "dropout") {
    if (a.getBool("train", false))
      return std::make_unique<DropoutGradKernel>(
          count, a.getFloat("ratio", 0.5), static_cast<uint64_t>(a.getInt("seed", 0)));
    return std::make_unique<UnaryGradKernel>(UnaryOp::Identity, count, 0, 0, 0);
  }
  fail(desc, "not an elementwise op");
}

std::unique_ptr<Kernel> makePreluGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makePrelu);
  const Shape &x = gd.fwd.inputs[0];
  return std::make_unique<PreluGradKernel>(x[0], x[1], countRange(x, 2, x.size()),
                                           gd.fwd.attrs.getBool("channel_shared", false),
                                           gd.outputOf(0), gd.outputOf(1));
}

std::unique_ptr<Kernel> makeSoftmaxGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeSoftmax);
  const Shape &x = gd.fwd.inputs[0];
  int64_t axis = canonicalAxis(gd.fwd, gd.fwd.attrs.getInt("axis", 1), x.size(), "axis");
  return std::make_unique<SoftmaxGradKernel>(countRange(x, 0, axis), x[axis],
                                             countRange(x, axis + 1, x.size()));
}

std::unique_ptr<Kernel> makeBatchNormGrad(const KernelDesc &desc) {
  // mean, variance and scale_factor are statistics, not trained by gradients.
  GradDesc gd = readGrad(desc, makeBatchNorm, /*noGrad=*/{1, 2, 3});
  const Shape &x = gd.fwd.inputs[0];
  int64_t channels = x.size() == 1 ? 1 : x[1];
  int64_t spatial = x.size() <= 2 ? 1 : countRange(x, 2, x.size());
  return std::make_unique<BatchNormGradKernel>(
      x[0], channels, spatial, gd.fwd.attrs.getInt("use_global_stats", 1) != 0,
      gd.fwd.attrs.getFloat("eps", 1e-5));
}

std::unique_ptr<Kernel> makeScaleGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeScale);
  auto [outer, dim, inner] = broadcastAxes(gd.fwd, 1, "scale");
  return std::make_unique<ScaleBiasGradKernel>(outer, dim, inner, 1,
                                               int(gd.gradIn(0)), gd.outputOf(0),
                                               gd.outputOf(1), gd.outputOf(2));
}

std::unique_ptr<Kernel> makeBiasGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeBias);
  auto [outer, dim, inner] = broadcastAxes(gd.fwd, 1, "bias");
  return std::make_unique<ScaleBiasGradKernel>(outer, dim, inner, -1, int(gd.gradIn(0)),
                                               gd.outputOf(0), -1, gd.outputOf(1));
}

std::unique_ptr<Kernel> makeEltwiseGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeEltwise);
  const KernelDesc &f = gd.fwd;
  std::string op = f.attrs.getString("operation", "sum");
  EltOp kind = op == "prod" ? EltOp::Prod : op == "max" ? EltOp::Max : EltOp::Sum;
  std::vector<double> coeff = f.attrs.getFloats("coeff");
  if (coeff.empty() || kind != EltOp::Sum)
    coeff.assign(f.inputs.size(), 1.0);
  return std::make_unique<EltwiseGradKernel>(kind, numElements(f.inputs[0]),
                                             std::move(coeff), gd.wrt);
}

} // namespace dlc::rt::ref

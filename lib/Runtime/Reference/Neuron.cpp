//===- Neuron.cpp - Reference activations, dropout, PReLU -----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// relu, sigmoid, tanh, abs_val, bnll, elu, power, exp, log, threshold, clip,
// swish, dropout and prelu with Caffe's semantics, and their gradients
// (Caffe's Backward_cpu formulas; where Caffe reads the top data - sigmoid,
// tanh, elu, exp, swish - so do we, from the forward result operand;
// threshold has none). Each op maps to a UnaryOp and its parameters
// read from the op's typed attributes.
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include "dlc/Runtime/Reference/DropoutMask.h"

#include <algorithm>
#include <cmath>

namespace dlc::rt::ref {
namespace {

enum class UnaryOp {
  Relu,
  Sigmoid,
  Tanh,
  AbsVal,
  Bnll,
  Elu,
  Power,
  Exp,
  Log,
  Threshold,
  Clip,
  Swish,
  Identity
};

double sigmoidOf(double x) { return 1.0 / (1.0 + std::exp(-x)); }

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
    case UnaryOp::Exp: // a = inner scale, b = outer scale
      return b_ * std::exp(a_ * x);
    case UnaryOp::Log: // a = scale, b = shift, c = 1 / log(base)
      return std::log(b_ + a_ * x) * c_;
    case UnaryOp::Threshold: // a = threshold
      return x > a_ ? 1.0 : 0.0;
    case UnaryOp::Clip: // a = min, b = max
      return std::max(a_, std::min(x, b_));
    case UnaryOp::Swish: // a = beta
      return x * sigmoidOf(a_ * x);
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
/// DropoutMask.h (regenerated from `seed` on every run). Its gradient is the
/// same with dy (input 2 of the backward kernel) for x.
class DropoutKernel : public RefKernel {
public:
  DropoutKernel(int64_t count, double ratio, uint64_t seed, bool backward)
      : count_(count), ratio_(ratio), base_(seed), seed_(seed), backward_(backward) {}
  bool supportsInPlace() const override { return !backward_; }
  void setStep(uint64_t step) override {
    // splitmix64 of the step, mixed into the layer's seed.
    uint64_t z = step + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    seed_ = step == 0 ? base_ : base_ ^ (z ^ (z >> 31));
  }
  void forward(const float *const *in, float *const *out) override {
    std::vector<uint8_t> keep = dropoutMask(seed_, ratio_, count_);
    double scale = dropoutScale(ratio_);
    const float *x = in[backward_ ? 2 : 0];
    for (int64_t i = 0; i < count_; ++i)
      out[0][i] = keep[i] ? static_cast<float>(double(x[i]) * scale) : 0.0f;
  }

private:
  int64_t count_;
  double ratio_;
  uint64_t base_, seed_;
  bool backward_;
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
    case UnaryOp::Exp: // Caffe: top * inner_scale
      return y * a_;
    case UnaryOp::Log: // Caffe: scale / log(base) / (shift + scale x)
      return a_ * c_ / (b_ + a_ * x);
    case UnaryOp::Threshold: // no gradient (not registered)
      return 0.0;
    case UnaryOp::Clip: // Caffe: 1 inside [min, max], bounds included
      return x >= a_ && x <= b_ ? 1.0 : 0.0;
    case UnaryOp::Swish: { // Caffe: beta y + sigmoid(beta x) (1 - beta y)
      double s = sigmoidOf(a_ * x);
      return a_ * y + s * (1.0 - a_ * y);
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

/// One element-wise op: its UnaryOp and parameters (a, b, c).
struct UnaryParams {
  UnaryOp op;
  double a = 0, b = 0, c = 0;
};
using ParamsOf = UnaryParams (*)(const KernelDesc &);

UnaryParams relu(const KernelDesc &d) {
  return {UnaryOp::Relu, attrsOf<ops::ReLUAttrs>(d).negative_slope};
}
UnaryParams sigmoid(const KernelDesc &) { return {UnaryOp::Sigmoid}; }
UnaryParams tanh(const KernelDesc &) { return {UnaryOp::Tanh}; }
UnaryParams absVal(const KernelDesc &) { return {UnaryOp::AbsVal}; }
UnaryParams bnll(const KernelDesc &) { return {UnaryOp::Bnll}; }
UnaryParams elu(const KernelDesc &d) { return {UnaryOp::Elu, attrsOf<ops::ELUAttrs>(d).alpha}; }
UnaryParams power(const KernelDesc &d) {
  auto a = attrsOf<ops::PowerAttrs>(d);
  return {UnaryOp::Power, a.power, a.scale, a.shift};
}
/// ln(base), base -1 meaning e (Caffe's ExpLayer / LogLayer).
double logBase(double base) { return base == -1.0 ? 1.0 : std::log(base); }
UnaryParams exp(const KernelDesc &d) {
  auto a = attrsOf<ops::ExpAttrs>(d);
  double outer = a.shift == 0.0 ? 1.0 : std::exp(logBase(a.base) * a.shift);
  return {UnaryOp::Exp, logBase(a.base) * a.scale, outer};
}
UnaryParams log(const KernelDesc &d) {
  auto a = attrsOf<ops::LogAttrs>(d);
  return {UnaryOp::Log, a.scale, a.shift, 1.0 / logBase(a.base)};
}
UnaryParams threshold(const KernelDesc &d) {
  return {UnaryOp::Threshold, attrsOf<ops::ThresholdAttrs>(d).threshold};
}
UnaryParams clip(const KernelDesc &d) {
  auto a = attrsOf<ops::ClipAttrs>(d);
  return {UnaryOp::Clip, a.min, a.max};
}
UnaryParams swish(const KernelDesc &d) { return {UnaryOp::Swish, attrsOf<ops::SwishAttrs>(d).beta}; }

template <ParamsOf P>
std::unique_ptr<Kernel> makeUnary(const KernelDesc &desc) {
  UnaryParams p = P(desc);
  return std::make_unique<UnaryKernel>(p.op, numElements(desc.inputs[0]), p.a, p.b, p.c);
}

template <ParamsOf P>
std::unique_ptr<Kernel> makeUnaryGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  UnaryParams p = P(gd.fwd);
  return std::make_unique<UnaryGradKernel>(p.op, numElements(gd.fwd.inputs[0]), p.a, p.b, p.c);
}

std::unique_ptr<Kernel> makeDropout(const KernelDesc &desc) {
  auto a = attrsOf<ops::DropoutAttrs>(desc);
  int64_t count = numElements(desc.inputs[0]);
  if (a.train)
    return std::make_unique<DropoutKernel>(count, a.ratio, static_cast<uint64_t>(a.seed), false);
  return std::make_unique<UnaryKernel>(UnaryOp::Identity, count, 0, 0, 0);
}

std::unique_ptr<Kernel> makeDropoutGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  auto a = attrsOf<ops::DropoutAttrs>(gd.fwd);
  int64_t count = numElements(gd.fwd.inputs[0]);
  if (a.train)
    return std::make_unique<DropoutKernel>(count, a.ratio, static_cast<uint64_t>(a.seed), true);
  return std::make_unique<UnaryGradKernel>(UnaryOp::Identity, count, 0, 0, 0);
}

std::unique_ptr<Kernel> makePrelu(const KernelDesc &desc) {
  const Shape &x = desc.inputs[0];
  return std::make_unique<PreluKernel>(x[0], x[1], countFrom(x, 2),
                                       attrsOf<ops::PReLUAttrs>(desc).channel_shared);
}

std::unique_ptr<Kernel> makePreluGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  const Shape &x = gd.fwd.inputs[0];
  return std::make_unique<PreluGradKernel>(x[0], x[1], countFrom(x, 2),
                                           attrsOf<ops::PReLUAttrs>(gd.fwd).channel_shared,
                                           gd.outputOf(0), gd.outputOf(1));
}

} // namespace

/// The elementwise ops: makeUnary / makeUnaryGrad with their UnaryOp.
#define DLC_REF_UNARY(op, fn) DLC_REF_OP(op, makeUnary<fn>, makeUnaryGrad<fn>)
DLC_REGISTER_KERNELS(DLC_REF_UNARY("relu", relu), DLC_REF_UNARY("sigmoid", sigmoid),
                     DLC_REF_UNARY("tanh", tanh), DLC_REF_UNARY("abs_val", absVal),
                     DLC_REF_UNARY("bnll", bnll), DLC_REF_UNARY("elu", elu),
                     DLC_REF_UNARY("power", power), DLC_REF_UNARY("exp", exp),
                     DLC_REF_UNARY("log", log), DLC_REF_UNARY("clip", clip),
                     DLC_REF_UNARY("swish", swish),
                     DLC_REF_KERNEL("threshold", Forward, makeUnary<threshold>),
                     DLC_REF_OP("dropout", makeDropout, makeDropoutGrad),
                     DLC_REF_OP("prelu", makePrelu, makePreluGrad));
#undef DLC_REF_UNARY

} // namespace dlc::rt::ref

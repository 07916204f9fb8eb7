//===- Neuron.cpp - oneDNN activations ------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// relu, sigmoid, tanh, elu, abs_val, bnll, swish, clip: one oneDNN eltwise
// primitive each (in place), and eltwise_backward for their gradients
// (sigmoid, tanh and elu with alpha >= 0 from y, as Caffe); exp and log:
// Caffe's chains of eltwise_linear and exp / log, their gradients
// eltwise_backward then eltwise_linear. Each op maps to an Activation read
// from its typed attributes. power: eltwise_linear then eltwise_pow in place
// on dst, or Caffe's constant when power * scale == 0; its gradient,
// threshold, prelu and dropout have no kernel here (the reference runs).
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

#include <cmath>
#include <map>
#include <optional>

namespace dlc::rt {
namespace dnnlk {

dnnl::eltwise_forward::primitive_desc eltwisePd(const EltwiseStep &s, const dnnl::memory::desc &md,
                                                const dnnl::engine &eng, dnnl::prop_kind prop) {
  return dnnl::eltwise_forward::primitive_desc(
      dnnl::eltwise_forward::desc(prop, s.alg, md, s.alpha, s.beta), eng);
}

std::unique_ptr<Kernel> eltwiseChain(const KernelDesc &desc, DnnlContext &ctx,
                                     const std::vector<EltwiseStep> &steps) {
  auto md = plainDesc({numElements(desc.outputs[0])});
  auto k = std::make_unique<ChainKernel>(desc, ctx, md);
  for (const EltwiseStep &s : steps)
    k->append<dnnl::eltwise_forward>(eltwisePd(s, md, ctx.engine));
  return k;
}

namespace {

using A = dnnl::algorithm;
using Step = EltwiseStep;

/// An activation in oneDNN's terms: its forward chain of eltwise steps and
/// its gradient: an eltwise_backward step reading y where `useDst`, else x
/// or, with a `pre` step, pre(x) (computed into a scratch buffer); then the
/// `post` steps in place on dx.
struct Activation {
  std::vector<Step> forward;
  Step backward;
  bool useDst = false;
  std::optional<Step> pre = std::nullopt;
  std::vector<Step> post = {};
};
using ActivationOf = Activation (*)(const KernelDesc &fwd);

// Caffe: y = max(x, 0) + negative_slope * min(x, 0), dx = dy for x > 0,
// negative_slope * dy otherwise; oneDNN's relu is the same.
Activation relu(const KernelDesc &d) {
  float slope = float(attrsOf<ops::ReLUAttrs>(d).negative_slope);
  return {{{A::eltwise_relu, slope}}, {A::eltwise_relu, slope}};
}
Activation sigmoid(const KernelDesc &) {
  return {{{A::eltwise_logistic}}, {A::eltwise_logistic_use_dst_for_bwd}, true};
}
Activation tanh(const KernelDesc &) {
  return {{{A::eltwise_tanh}}, {A::eltwise_tanh_use_dst_for_bwd}, true};
}
// Caffe: dx = dy for x > 0, dy * (y + alpha) otherwise. From y only when
// alpha >= 0 (oneDNN's condition: then y > 0 exactly when x > 0).
Activation elu(const KernelDesc &d) {
  float alpha = float(attrsOf<ops::ELUAttrs>(d).alpha);
  if (alpha >= 0.f)
    return {{{A::eltwise_elu, alpha}}, {A::eltwise_elu_use_dst_for_bwd, alpha}, true};
  return {{{A::eltwise_elu, alpha}}, {A::eltwise_elu, alpha}};
}
Activation absVal(const KernelDesc &) { return {{{A::eltwise_abs}}, {A::eltwise_abs}}; }
// Caffe's BNLL is log(1 + e^x), oneDNN's soft_relu; its derivative
// sigmoid(x) is soft_relu's backward.
Activation bnll(const KernelDesc &) {
  return {{{A::eltwise_soft_relu}}, {A::eltwise_soft_relu}};
}

/// ln(base), base -1 meaning e (Caffe's ExpLayer / LogLayer).
double logBase(double base) { return base == -1.0 ? 1.0 : std::log(base); }

// Caffe's ExpLayer: y = outer * exp(inner * x), inner = ln(base) * scale,
// outer = base^shift: eltwise_linear (inner != 1), exp, eltwise_linear
// (outer != 1), Caffe's sequence of steps. dx = dy * y * inner: exp's
// backward from y (dy * y), then eltwise_linear (Caffe: caffe_mul, caffe_scal).
Activation exp(const KernelDesc &d) {
  auto a = attrsOf<ops::ExpAttrs>(d);
  double inner = logBase(a.base) * a.scale;
  double outer = a.shift == 0.0 ? 1.0 : std::exp(logBase(a.base) * a.shift);
  Activation act{{}, {A::eltwise_exp_use_dst_for_bwd}, true};
  if (inner != 1.0) {
    act.forward.push_back({A::eltwise_linear, float(inner)});
    act.post.push_back({A::eltwise_linear, float(inner)});
  }
  act.forward.push_back({A::eltwise_exp});
  if (outer != 1.0)
    act.forward.push_back({A::eltwise_linear, float(outer)});
  return act;
}

// Caffe's LogLayer: y = ln(shift + scale * x) / ln(base): eltwise_linear
// (unless scale 1, shift 0), log, eltwise_linear (base other than e).
// dx = dy * scale / ln(base) / (shift + scale * x): log's backward (dy / t)
// on t = shift + scale * x, then eltwise_linear.
Activation log(const KernelDesc &d) {
  auto a = attrsOf<ops::LogAttrs>(d);
  double baseScale = 1.0 / logBase(a.base);
  Activation act{{}, {A::eltwise_log}};
  if (a.scale != 1.0 || a.shift != 0.0) {
    act.pre = Step{A::eltwise_linear, float(a.scale), float(a.shift)};
    act.forward.push_back(*act.pre);
  }
  act.forward.push_back({A::eltwise_log});
  if (baseScale != 1.0)
    act.forward.push_back({A::eltwise_linear, float(baseScale)});
  if (a.scale * baseScale != 1.0)
    act.post.push_back({A::eltwise_linear, float(a.scale * baseScale)});
  return act;
}

/// The smallest float >= v / the largest float <= v.
float floatAtLeast(double v) {
  float f = float(v);
  return double(f) < v ? std::nextafter(f, INFINITY) : f;
}
float floatAtMost(double v) {
  float f = float(v);
  return double(f) > v ? std::nextafter(f, -INFINITY) : f;
}

// Caffe's ClipLayer: y = max(min, min(x, max)), oneDNN's clip with the
// bounds rounded to the nearest float (the float results are then the
// same). Caffe's gradient passes dy where min <= x <= max, both bounds
// included; oneDNN's clip backward passes it where alpha < x <= beta: alpha
// is the float just below the least float >= min, beta the greatest float
// <= max, the same set of floats (clipGradWhyNot: not for min -inf).
Activation clip(const KernelDesc &d) {
  auto a = attrsOf<ops::ClipAttrs>(d);
  float lo = std::nextafter(floatAtLeast(a.min), -INFINITY);
  return {{{A::eltwise_clip, float(a.min), float(a.max)}},
          {A::eltwise_clip, lo, floatAtMost(a.max)}};
}

// Caffe's SwishLayer: y = x * sigmoid(beta x), dx = dy * (beta y +
// sigmoid(beta x) (1 - beta y)), oneDNN's swish (alpha = beta) forward and
// backward (from x: sigmoid(beta x) (1 + beta x (1 - sigmoid(beta x))), the
// same derivative).
Activation swish(const KernelDesc &d) {
  float beta = float(attrsOf<ops::SwishAttrs>(d).beta);
  return {{{A::eltwise_swish, beta}}, {A::eltwise_swish, beta}};
}

/// Caffe's Power layer when power*scale == 0 or ClipLayer when min > max:
/// a constant output.
class ConstantKernel : public Kernel {
public:
  ConstantKernel(int64_t n, float value) : n_(n), value_(value) {}
  void forward(const float *const *, float *const *out) override {
    std::fill(out[0], out[0] + n_, value_);
  }
  bool supportsInPlace() const override { return true; }
  std::string implName() const override { return "onednn-kernels:fill"; }

private:
  int64_t n_;
  float value_;
};

template <ActivationOf F>
std::unique_ptr<Kernel> createActivation(const KernelDesc &desc, DnnlContext &ctx) {
  return eltwiseChain(desc, ctx, F(desc).forward);
}

/// Operands x, y, dy; output dx = f'(x) dy: an Activation's backward.
class ActivationGradKernel : public DnnlKernelBase {
public:
  ActivationGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                       const Activation &act)
      : DnnlKernelBase(desc, ctx), dataArg_(act.useDst ? DNNL_ARG_DST : DNNL_ARG_SRC),
        dataIdx_(act.useDst ? gd.resultIn() : 0), dyIdx_(gd.gradIn()) {
    auto md = plainDesc({numElements(gd.fwd.inputs[0])});
    data_ = handleMem(md, eng_);
    dy_ = handleMem(md, eng_);
    dx_ = handleMem(md, eng_);
    if (act.pre) {
      auto pd = eltwisePd(*act.pre, md, eng_);
      pre_ = dnnl::eltwise_forward(pd);
      impl_ = implOf(pd) + "+";
      t_ = dnnl::memory(md, eng_);
    }
    const Step &s = act.backward;
    auto fpd = eltwisePd(s, md, eng_, dnnl::prop_kind::forward_training);
    dnnl::eltwise_backward::primitive_desc bpd(
        dnnl::eltwise_backward::desc(s.alg, md, md, s.alpha, s.beta), eng_, fpd);
    backward_ = dnnl::eltwise_backward(bpd);
    impl_ += implOf(bpd);
    for (const Step &p : act.post) {
      auto pd = eltwisePd(p, md, eng_);
      post_.emplace_back(pd);
      impl_ += "+" + implOf(pd);
    }
  }

  void forward(const float *const *in, float *const *out) override {
    bind(data_, in[dataIdx_]);
    bind(dy_, in[dyIdx_]);
    bind(dx_, out[0]);
    if (pre_)
      exec(*pre_, {{DNNL_ARG_SRC, data_}, {DNNL_ARG_DST, t_}});
    exec(backward_, {{dataArg_, pre_ ? t_ : data_}, {DNNL_ARG_DIFF_DST, dy_},
                     {DNNL_ARG_DIFF_SRC, dx_}});
    for (auto &p : post_)
      exec(p, {{DNNL_ARG_SRC, dx_}, {DNNL_ARG_DST, dx_}});
    wait();
  }

private:
  int dataArg_;
  size_t dataIdx_, dyIdx_;
  std::optional<dnnl::eltwise_forward> pre_;
  dnnl::eltwise_backward backward_;
  std::vector<dnnl::eltwise_forward> post_;
  dnnl::memory data_, t_, dy_, dx_;
};

template <ActivationOf F>
std::unique_ptr<Kernel> createActivationGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  return std::make_unique<ActivationGradKernel>(desc, ctx, gd, F(gd.fwd));
}

/// Caffe's ClipLayer outputs min everywhere when min > max; oneDNN's clip
/// needs min <= max.
std::unique_ptr<Kernel> createClip(const KernelDesc &desc, DnnlContext &ctx) {
  auto a = attrsOf<ops::ClipAttrs>(desc);
  if (a.min > a.max)
    return std::make_unique<ConstantKernel>(numElements(desc.inputs[0]), float(a.min));
  return createActivation<clip>(desc, ctx);
}

std::string clipWhyNot(const KernelDesc &fwd) {
  auto a = attrsOf<ops::ClipAttrs>(fwd);
  if (std::isnan(a.min) || std::isnan(a.max))
    return "clip with a NaN bound has no oneDNN kernel";
  return "";
}

std::string clipGradWhyNot(const KernelDesc &fwd) {
  if (std::string why = clipWhyNot(fwd); !why.empty())
    return why;
  auto a = attrsOf<ops::ClipAttrs>(fwd);
  if (a.min > a.max)
    return "clip with min > max has no oneDNN backward kernel (oneDNN's clip needs "
           "min <= max)";
  if (a.min == -INFINITY)
    return "clip with min -inf has no oneDNN backward kernel (oneDNN's clip backward "
           "excludes its lower bound; Caffe's includes it)";
  return "";
}

/// Caffe's Power layer: (shift + scale * x)^power.
std::unique_ptr<Kernel> createPower(const KernelDesc &desc, DnnlContext &ctx) {
  auto a = attrsOf<ops::PowerAttrs>(desc);
  if (a.power * a.scale == 0.0) {
    // Caffe: constant 1 for power 0, shift^power for scale 0.
    float v = a.power == 0.0 ? 1.f : float(std::pow(a.shift, a.power));
    return std::make_unique<ConstantKernel>(numElements(desc.inputs[0]), v);
  }
  std::vector<Step> chain;
  if (a.scale != 1.0 || a.shift != 0.0 || a.power == 1.0)
    chain.push_back({A::eltwise_linear, float(a.scale), float(a.shift)});
  if (a.power != 1.0)
    chain.push_back({A::eltwise_pow, 1.f, float(a.power)});
  return eltwiseChain(desc, ctx, chain);
}

} // namespace

std::string activationSteps(const KernelDesc &desc, std::vector<EltwiseStep> &steps) {
  static const std::map<std::string, ActivationOf> kActivations = {
      {"relu", relu}, {"sigmoid", sigmoid}, {"tanh", tanh},   {"elu", elu},
      {"abs_val", absVal}, {"bnll", bnll}, {"exp", exp}, {"log", log}, {"swish", swish}};
  if (auto it = kActivations.find(desc.op); it != kActivations.end()) {
    std::vector<Step> f = it->second(desc).forward;
    steps.insert(steps.end(), f.begin(), f.end());
    return "";
  }
  if (desc.op == "clip") {
    if (std::string why = clipWhyNot(desc); !why.empty())
      return why;
    auto a = attrsOf<ops::ClipAttrs>(desc);
    steps.push_back(a.min > a.max ? Step{A::eltwise_linear, 0.f, float(a.min)}
                                  : clip(desc).forward[0]);
    return "";
  }
  if (desc.op == "power") {
    auto a = attrsOf<ops::PowerAttrs>(desc);
    if (a.power * a.scale == 0.0) {
      float v = a.power == 0.0 ? 1.f : float(std::pow(a.shift, a.power));
      steps.push_back({A::eltwise_linear, 0.f, v});
      return "";
    }
    if (a.scale != 1.0 || a.shift != 0.0 || a.power == 1.0)
      steps.push_back({A::eltwise_linear, float(a.scale), float(a.shift)});
    if (a.power != 1.0)
      steps.push_back({A::eltwise_pow, 1.f, float(a.power)});
    return "";
  }
  if (desc.op == "dropout" && !attrsOf<ops::DropoutAttrs>(desc).train)
    return ""; // identity at inference
  return desc.op + " has no oneDNN eltwise form";
}

#define DLC_DNNL_ACTIVATION(op, f)                                                         \
  DLC_DNNL_KERNEL(op, Forward, createActivation<f>, emptyWhyNot),                          \
      DLC_DNNL_KERNEL(op, Backward, createActivationGrad<f>, emptyWhyNot)

DLC_REGISTER_KERNELS(DLC_DNNL_ACTIVATION("relu", relu), DLC_DNNL_ACTIVATION("sigmoid", sigmoid),
                     DLC_DNNL_ACTIVATION("tanh", tanh), DLC_DNNL_ACTIVATION("elu", elu),
                     DLC_DNNL_ACTIVATION("abs_val", absVal), DLC_DNNL_ACTIVATION("bnll", bnll),
                     DLC_DNNL_ACTIVATION("exp", exp), DLC_DNNL_ACTIVATION("log", log),
                     DLC_DNNL_ACTIVATION("swish", swish),
                     DLC_DNNL_KERNEL("clip", Forward, createClip, whyNot<clipWhyNot>),
                     DLC_DNNL_KERNEL("clip", Backward, createActivationGrad<clip>,
                                     whyNot<clipGradWhyNot>),
                     DLC_DNNL_KERNEL("power", Forward, createPower, emptyWhyNot));

#undef DLC_DNNL_ACTIVATION

} // namespace dnnlk
} // namespace dlc::rt

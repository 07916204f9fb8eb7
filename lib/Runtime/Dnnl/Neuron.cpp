//===- Neuron.cpp - oneDNN activations ------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// relu, sigmoid, tanh, elu, abs_val, bnll: one oneDNN eltwise primitive each
// (in place), and eltwise_backward for their gradients (sigmoid, tanh and elu
// with alpha >= 0 from y, as Caffe). Each op maps to an Activation read from
// its typed attributes. power: eltwise_linear then eltwise_pow in place on
// dst, or Caffe's constant when power * scale == 0; its gradient, prelu and
// dropout have no kernel here (the reference runs).
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

#include <cmath>

namespace dlc::rt {
namespace dnnlk {
namespace {

using A = dnnl::algorithm;

/// One oneDNN eltwise step: the algorithm and its alpha, beta.
struct Step {
  A alg;
  float alpha = 0.f, beta = 0.f;
};

/// The chain of eltwise primitives of `steps` (in place after the first).
std::unique_ptr<Kernel> eltwiseChain(const KernelDesc &desc, DnnlContext &ctx,
                                     const std::vector<Step> &steps) {
  auto md = plainDesc(desc.inputs[0]);
  auto k = std::make_unique<ChainKernel>(desc, ctx, md);
  for (const Step &s : steps)
    k->append<dnnl::eltwise_forward>(dnnl::eltwise_forward::primitive_desc(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, s.alg, md, s.alpha,
                                    s.beta),
        ctx.engine));
  return k;
}

/// Caffe's Power layer when power*scale == 0: a constant output.
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

/// An activation in oneDNN's terms: its forward step and the backward step,
/// which reads y where `useDst`, else x.
struct Activation {
  Step forward, backward;
  bool useDst = false;
};
using ActivationOf = Activation (*)(const KernelDesc &fwd);

// Caffe: y = max(x, 0) + negative_slope * min(x, 0), dx = dy for x > 0,
// negative_slope * dy otherwise; oneDNN's relu is the same.
Activation relu(const KernelDesc &d) {
  float slope = float(attrsOf<ops::ReLUAttrs>(d).negative_slope);
  return {{A::eltwise_relu, slope}, {A::eltwise_relu, slope}};
}
Activation sigmoid(const KernelDesc &) {
  return {{A::eltwise_logistic}, {A::eltwise_logistic_use_dst_for_bwd}, true};
}
Activation tanh(const KernelDesc &) {
  return {{A::eltwise_tanh}, {A::eltwise_tanh_use_dst_for_bwd}, true};
}
// Caffe: dx = dy for x > 0, dy * (y + alpha) otherwise. From y only when
// alpha >= 0 (oneDNN's condition: then y > 0 exactly when x > 0).
Activation elu(const KernelDesc &d) {
  float alpha = float(attrsOf<ops::ELUAttrs>(d).alpha);
  if (alpha >= 0.f)
    return {{A::eltwise_elu, alpha}, {A::eltwise_elu_use_dst_for_bwd, alpha}, true};
  return {{A::eltwise_elu, alpha}, {A::eltwise_elu, alpha}};
}
Activation absVal(const KernelDesc &) { return {{A::eltwise_abs}, {A::eltwise_abs}}; }
// Caffe's BNLL is log(1 + e^x), oneDNN's soft_relu; its derivative
// sigmoid(x) is soft_relu's backward.
Activation bnll(const KernelDesc &) {
  return {{A::eltwise_soft_relu}, {A::eltwise_soft_relu}};
}

template <ActivationOf F>
std::unique_ptr<Kernel> createActivation(const KernelDesc &desc, DnnlContext &ctx) {
  return eltwiseChain(desc, ctx, {F(desc).forward});
}

/// Operands x, y, dy; output dx = f'(x) dy (through y where useDst).
template <ActivationOf F>
std::unique_ptr<Kernel> createActivationGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  Activation act = F(gd.fwd);
  const Step &s = act.backward;
  auto md = plainDesc(gd.fwd.inputs[0]);
  dnnl::eltwise_forward::primitive_desc fpd(
      dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, s.alg, md, s.alpha, s.beta),
      ctx.engine);
  dnnl::eltwise_backward::primitive_desc bpd(
      dnnl::eltwise_backward::desc(s.alg, md, md, s.alpha, s.beta), ctx.engine, fpd);
  return std::make_unique<UnaryGradKernel>(
      desc, ctx, md, dnnl::eltwise_backward(bpd), bpd, act.useDst ? DNNL_ARG_DST : DNNL_ARG_SRC,
      act.useDst ? gd.resultIn() : 0, gd.gradIn());
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

#define DLC_DNNL_ACTIVATION(op, f)                                                         \
  DLC_DNNL_KERNEL(op, Forward, createActivation<f>, emptyWhyNot),                          \
      DLC_DNNL_KERNEL(op, Backward, createActivationGrad<f>, emptyWhyNot)

DLC_REGISTER_KERNELS(DLC_DNNL_ACTIVATION("relu", relu), DLC_DNNL_ACTIVATION("sigmoid", sigmoid),
                     DLC_DNNL_ACTIVATION("tanh", tanh), DLC_DNNL_ACTIVATION("elu", elu),
                     DLC_DNNL_ACTIVATION("abs_val", absVal), DLC_DNNL_ACTIVATION("bnll", bnll),
                     DLC_DNNL_KERNEL("power", Forward, createPower, emptyWhyNot));

#undef DLC_DNNL_ACTIVATION

} // namespace dnnlk
} // namespace dlc::rt

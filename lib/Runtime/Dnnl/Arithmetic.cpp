//===- Arithmetic.cpp - oneDNN eltwise and reduction ----------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// eltwise: sum (oneDNN sum with the coefficients as scales) or prod / max (a
// chain of binary mul / max) over the operands viewed as 1-D. Backward of
// sum: dx_i = coeff_i * dy (eltwise_linear); prod and max have no backward
// kernel here (eltwiseGradWhyNot: the reference runs). reduction: oneDNN's
// reduction (forward only: oneDNN has no backward of a reduction; the
// reference runs the gradient).
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

#include <optional>

namespace dlc::rt {
namespace dnnlk {
namespace {

/// Caffe's sum coefficients, one per operand (1 when not given).
std::vector<float> sumCoefficients(const ops::EltwiseAttrs &a, size_t operands) {
  std::vector<float> c(operands, 1.f);
  for (size_t i = 0; i < a.coeff.size(); ++i)
    c[i] = float(a.coeff[i]);
  return c;
}

/// The operands and results as one dense 1-D tensor.
dnnl::memory::desc flatDesc(const KernelDesc &fwd) {
  return plainDesc({numElements(fwd.outputs[0])});
}

/// y = x_0 (op) x_1 (op) ... accumulated in place on y.
class EltwiseChainKernel : public DnnlKernelBase {
public:
  EltwiseChainKernel(const KernelDesc &desc, DnnlContext &ctx, dnnl::algorithm alg)
      : DnnlKernelBase(desc, ctx), n_(desc.inputs.size()) {
    auto md = flatDesc(desc);
    dnnl::binary::primitive_desc pd(dnnl::binary::desc(alg, md, md, md), eng_);
    prim_ = dnnl::binary(pd);
    impl_ = implOf(pd);
    a_ = handleMem(md, eng_);
    b_ = handleMem(md, eng_);
    dst_ = handleMem(md, eng_);
  }
  void forward(const float *const *in, float *const *out) override {
    bind(dst_, out[0]);
    for (size_t i = 1; i < n_; ++i) {
      bind(b_, in[i]);
      if (i == 1) {
        bind(a_, in[0]);
        exec(prim_, {{DNNL_ARG_SRC_0, a_}, {DNNL_ARG_SRC_1, b_}, {DNNL_ARG_DST, dst_}});
      } else {
        exec(prim_, {{DNNL_ARG_SRC_0, dst_}, {DNNL_ARG_SRC_1, b_}, {DNNL_ARG_DST, dst_}});
      }
    }
    wait();
  }
  bool supportsInPlace() const override { return true; }

private:
  size_t n_;
  dnnl::binary prim_;
  dnnl::memory a_, b_, dst_;
};

/// Eltwise sum: operands x_0..x_{n-1}, y, dy; dx_i = coeff_i * dy.
class EltwiseSumGradKernel : public DnnlKernelBase {
public:
  EltwiseSumGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                       const std::vector<float> &coeff)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIn()) {
    auto md = flatDesc(gd.fwd);
    for (int64_t i : gd.wrt) {
      dnnl::eltwise_forward::primitive_desc pd(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::eltwise_linear, md, coeff[size_t(i)], 0.f),
          eng_);
      prims_.emplace_back(pd);
      if (impl_.empty())
        impl_ = implOf(pd);
    }
    dy_ = handleMem(md, eng_);
    dx_ = handleMem(md, eng_);
  }

  void forward(const float *const *in, float *const *out) override {
    bind(dy_, in[dyIdx_]);
    for (size_t k = 0; k < prims_.size(); ++k) {
      bind(dx_, out[k]);
      exec(prims_[k], {{DNNL_ARG_SRC, dy_}, {DNNL_ARG_DST, dx_}});
    }
    wait();
  }

private:
  size_t dyIdx_;
  std::vector<dnnl::eltwise_forward> prims_;
  dnnl::memory dy_, dx_;
};

std::unique_ptr<Kernel> createEltwise(const KernelDesc &desc, DnnlContext &ctx) {
  auto a = attrsOf<ops::EltwiseAttrs>(desc);
  if (a.operation == "sum") {
    auto md = flatDesc(desc);
    std::vector<dnnl::memory::desc> mds(desc.inputs.size(), md);
    dnnl::sum::primitive_desc pd(md, sumCoefficients(a, desc.inputs.size()), mds, ctx.engine);
    return std::make_unique<MultiSrcKernel>(desc, ctx, dnnl::sum(pd), pd, mds, md,
                                            /*inPlace=*/true);
  }
  return std::make_unique<EltwiseChainKernel>(desc, ctx,
                                              a.operation == "prod" ? dnnl::algorithm::binary_mul
                                                                    : dnnl::algorithm::binary_max);
}

std::string eltwiseGradWhyNot(const KernelDesc &fwd) {
  std::string op = attrsOf<ops::EltwiseAttrs>(fwd).operation;
  return op == "sum" ? "" : "eltwise " + op + " has no oneDNN backward kernel";
}

std::unique_ptr<Kernel> createEltwiseGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  return std::make_unique<EltwiseSumGradKernel>(
      desc, ctx, gd, sumCoefficients(attrsOf<ops::EltwiseAttrs>(gd.fwd), gd.numOperands));
}

/// Caffe's ReductionLayer on x viewed as [num, dim]: for asum / sumsq an
/// eltwise abs / square from x into a scratch buffer, then oneDNN's
/// reduction_sum to [num, 1] with coeff (coeff / dim for mean, as Caffe) as
/// an eltwise_linear post-op.
class ReductionKernel : public DnnlKernelBase {
public:
  ReductionKernel(const KernelDesc &desc, DnnlContext &ctx, int64_t num, int64_t dim,
                  const std::optional<EltwiseStep> &pre, float coeff)
      : DnnlKernelBase(desc, ctx) {
    auto src = plainDesc({num, dim}), dst = plainDesc({num, 1});
    x_ = handleMem(src, eng_);
    y_ = handleMem(dst, eng_);
    if (pre) {
      auto pd = eltwisePd(*pre, src, eng_);
      pre_ = dnnl::eltwise_forward(pd);
      impl_ = implOf(pd) + "+";
      t_ = dnnl::memory(src, eng_);
    }
    dnnl::primitive_attr attr;
    if (coeff != 1.f) {
      dnnl::post_ops po;
      po.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, coeff, 0.f);
      attr.set_post_ops(po);
    }
    dnnl::reduction::primitive_desc pd(
        dnnl::reduction::desc(dnnl::algorithm::reduction_sum, src, dst, 0.f, 0.f), attr, eng_);
    reduce_ = dnnl::reduction(pd);
    impl_ += implOf(pd);
  }

  void forward(const float *const *in, float *const *out) override {
    bind(x_, in[0]);
    bind(y_, out[0]);
    if (pre_)
      exec(*pre_, {{DNNL_ARG_SRC, x_}, {DNNL_ARG_DST, t_}});
    exec(reduce_, {{DNNL_ARG_SRC, pre_ ? t_ : x_}, {DNNL_ARG_DST, y_}});
    wait();
  }

private:
  std::optional<dnnl::eltwise_forward> pre_;
  dnnl::reduction reduce_;
  dnnl::memory x_, t_, y_;
};

/// Reduction: a ReductionKernel, or, when every reduced axis has size 1
/// (dim 1: oneDNN's reduction needs a reduced dimension), an eltwise chain
/// (abs / square, linear).
std::unique_ptr<Kernel> createReduction(const KernelDesc &desc, DnnlContext &ctx) {
  using A = dnnl::algorithm;
  auto a = attrsOf<ops::ReductionAttrs>(desc);
  int64_t num = numElements(desc.outputs[0]), dim = numElements(desc.inputs[0]) / num;
  float coeff = float(a.operation == "mean" ? a.coeff / double(dim) : a.coeff);
  std::optional<EltwiseStep> pre;
  if (a.operation == "asum" || a.operation == "sumsq")
    pre = EltwiseStep{a.operation == "asum" ? A::eltwise_abs : A::eltwise_square};
  if (dim > 1)
    return std::make_unique<ReductionKernel>(desc, ctx, num, dim, pre, coeff);
  std::vector<EltwiseStep> steps;
  if (pre)
    steps.push_back(*pre);
  if (coeff != 1.f || steps.empty())
    steps.push_back({A::eltwise_linear, coeff});
  return eltwiseChain(desc, ctx, steps);
}

} // namespace

DLC_REGISTER_KERNELS(DLC_DNNL_KERNEL("eltwise", Forward, createEltwise, emptyWhyNot),
                     DLC_DNNL_KERNEL("eltwise", Backward, createEltwiseGrad,
                                     whyNot<eltwiseGradWhyNot>),
                     DLC_DNNL_KERNEL("reduction", Forward, createReduction, emptyWhyNot));

} // namespace dnnlk
} // namespace dlc::rt

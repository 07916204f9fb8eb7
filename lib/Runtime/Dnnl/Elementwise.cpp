//===- Elementwise.cpp - oneDNN activation, softmax, norm, binary kernels -===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// relu/sigmoid/tanh/elu/abs_val/bnll/power (oneDNN eltwise), softmax,
// batch_norm (global statistics prepared once per parameter change), scale
// and bias (broadcast binary), eltwise (sum with coefficients, prod, max) and
// concat.
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

#include <algorithm>
#include <cmath>

namespace dlc::rt {
namespace dnnlk {
namespace {

// ---------------------------------------------------------------------------
// Activations: a chain of eltwise primitives, the first src -> dst, the rest
// in place on dst (power = linear then pow).
// ---------------------------------------------------------------------------
class ActivationKernel : public DnnlKernelBase {
public:
  ActivationKernel(const KernelDesc &desc, DnnlContext &ctx,
                   const std::vector<std::pair<dnnl::algorithm, std::pair<float, float>>> &chain)
      : DnnlKernelBase(desc, ctx) {
    auto md = plainDesc(desc.inputs[0]);
    for (const auto &[alg, ab] : chain) {
      dnnl::eltwise_forward::desc ed(dnnl::prop_kind::forward_inference, alg, md, ab.first,
                                     ab.second);
      dnnl::eltwise_forward::primitive_desc pd(ed, eng_);
      prims_.emplace_back(pd);
      impl_ += (impl_.empty() ? "" : "+") + implOf(pd);
    }
    src_ = handleMem(md, eng_);
    dst_ = handleMem(md, eng_);
  }

  void forward(const float *const *in, float *const *out) override {
    bind(src_, in[0]);
    bind(dst_, out[0]);
    for (size_t i = 0; i < prims_.size(); ++i)
      exec(prims_[i], {{DNNL_ARG_SRC, i == 0 ? src_ : dst_}, {DNNL_ARG_DST, dst_}});
    wait();
  }
  bool supportsInPlace() const override { return true; }

private:
  std::vector<dnnl::eltwise_forward> prims_;
  dnnl::memory src_, dst_;
};

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

// ---------------------------------------------------------------------------
// Softmax over one axis of [outer, C, inner].
// ---------------------------------------------------------------------------
class SoftmaxKernel : public DnnlKernelBase {
public:
  SoftmaxKernel(const KernelDesc &desc, DnnlContext &ctx, const Shape &view)
      : DnnlKernelBase(desc, ctx) {
    auto md = plainDesc(view);
    dnnl::softmax_forward::primitive_desc pd(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, md, 1), eng_);
    prim_ = dnnl::softmax_forward(pd);
    impl_ = implOf(pd);
    src_ = handleMem(md, eng_);
    dst_ = handleMem(md, eng_);
  }
  void forward(const float *const *in, float *const *out) override {
    bind(src_, in[0]);
    bind(dst_, out[0]);
    exec(prim_, {{DNNL_ARG_SRC, src_}, {DNNL_ARG_DST, dst_}});
    wait();
  }
  bool supportsInPlace() const override { return true; }

private:
  dnnl::softmax_forward prim_;
  dnnl::memory src_, dst_;
};

// ---------------------------------------------------------------------------
// BatchNorm: x viewed as [N, C, S, 1].
// ---------------------------------------------------------------------------
class BatchNormKernel : public DnnlKernelBase {
public:
  BatchNormKernel(const KernelDesc &desc, DnnlContext &ctx, const Shape &view, bool global,
                  float eps)
      : DnnlKernelBase(desc, ctx), global_(global), c_(view[1]) {
    auto md = plainDesc(view);
    auto flags = global ? dnnl::normalization_flags::use_global_stats
                        : dnnl::normalization_flags::none;
    // Batch statistics need forward_training to expose mean/variance.
    auto prop = global ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
    dnnl::batch_normalization_forward::primitive_desc pd(
        dnnl::batch_normalization_forward::desc(prop, md, eps, flags), eng_);
    prim_ = dnnl::batch_normalization_forward(pd);
    impl_ = implOf(pd);
    src_ = handleMem(md, eng_);
    dst_ = handleMem(md, eng_);
    mean_ = dnnl::memory(pd.mean_desc(), eng_);
    var_ = dnnl::memory(pd.variance_desc(), eng_);
    cache_ = isParam(desc, 1) && isParam(desc, 2) && isParam(desc, 3);
  }

  void forward(const float *const *in, float *const *out) override {
    if (global_ && !statsValid_) {
      // Caffe: stats = blob / scale_factor, 0 when the factor is 0.
      float sf = in[3][0];
      float f = sf == 0.f ? 0.f : 1.f / sf;
      auto *m = static_cast<float *>(mean_.get_data_handle());
      auto *v = static_cast<float *>(var_.get_data_handle());
      for (int64_t c = 0; c < c_; ++c) {
        m[c] = in[1][c] * f;
        v[c] = in[2][c] * f;
      }
      statsValid_ = cache_;
    }
    bind(src_, in[0]);
    bind(dst_, out[0]);
    exec(prim_, {{DNNL_ARG_SRC, src_},
                 {DNNL_ARG_DST, dst_},
                 {DNNL_ARG_MEAN, mean_},
                 {DNNL_ARG_VARIANCE, var_}});
    wait();
  }
  bool supportsInPlace() const override { return true; }
  void paramsChanged() override { statsValid_ = false; }

private:
  bool global_;
  int64_t c_;
  bool cache_ = false, statsValid_ = false;
  dnnl::batch_normalization_forward prim_;
  dnnl::memory src_, dst_, mean_, var_;
};

// ---------------------------------------------------------------------------
// Scale / Bias: x as [outer, S, inner] (op) [1, S, 1], optional bias post-op.
// ---------------------------------------------------------------------------
class BroadcastKernel : public DnnlKernelBase {
public:
  BroadcastKernel(const KernelDesc &desc, DnnlContext &ctx, dnnl::algorithm alg,
                  const Shape &view, int64_t S, bool biasPostOp)
      : DnnlKernelBase(desc, ctx), biasPostOp_(biasPostOp) {
    auto md = plainDesc(view);
    auto pmd = plainDesc({1, S, 1});
    dnnl::primitive_attr attr;
    if (biasPostOp) {
      dnnl::post_ops po;
      po.append_binary(dnnl::algorithm::binary_add, pmd);
      attr.set_post_ops(po);
    }
    dnnl::binary::primitive_desc pd(dnnl::binary::desc(alg, md, pmd, md), attr, eng_);
    prim_ = dnnl::binary(pd);
    impl_ = implOf(pd);
    src_ = handleMem(md, eng_);
    dst_ = handleMem(md, eng_);
    p_ = handleMem(pmd, eng_);
    b_ = handleMem(pmd, eng_);
  }
  void forward(const float *const *in, float *const *out) override {
    bind(src_, in[0]);
    bind(dst_, out[0]);
    bind(p_, in[1]);
    Args args{{DNNL_ARG_SRC_0, src_}, {DNNL_ARG_SRC_1, p_}, {DNNL_ARG_DST, dst_}};
    if (biasPostOp_) {
      bind(b_, in[2]);
      args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] = b_;
    }
    exec(prim_, args);
    wait();
  }
  bool supportsInPlace() const override { return true; }

private:
  bool biasPostOp_;
  dnnl::binary prim_;
  dnnl::memory src_, dst_, p_, b_;
};

// ---------------------------------------------------------------------------
// Eltwise: sum (oneDNN sum with scales) or a chain of binary mul/max.
// ---------------------------------------------------------------------------
class EltwiseSumKernel : public DnnlKernelBase {
public:
  EltwiseSumKernel(const KernelDesc &desc, DnnlContext &ctx, const std::vector<float> &coeff)
      : DnnlKernelBase(desc, ctx) {
    auto md = plainDesc({numElements(desc.outputs[0])});
    std::vector<dnnl::memory::desc> mds(coeff.size(), md);
    dnnl::sum::primitive_desc pd(md, coeff, mds, eng_);
    prim_ = dnnl::sum(pd);
    impl_ = implOf(pd);
    for (size_t i = 0; i < coeff.size(); ++i)
      srcs_.push_back(handleMem(md, eng_));
    dst_ = handleMem(md, eng_);
  }
  void forward(const float *const *in, float *const *out) override {
    Args args;
    for (size_t i = 0; i < srcs_.size(); ++i) {
      bind(srcs_[i], in[i]);
      args[DNNL_ARG_MULTIPLE_SRC + int(i)] = srcs_[i];
    }
    bind(dst_, out[0]);
    args[DNNL_ARG_DST] = dst_;
    exec(prim_, args);
    wait();
  }
  bool supportsInPlace() const override { return true; }

private:
  dnnl::sum prim_;
  std::vector<dnnl::memory> srcs_;
  dnnl::memory dst_;
};

class EltwiseChainKernel : public DnnlKernelBase {
public:
  EltwiseChainKernel(const KernelDesc &desc, DnnlContext &ctx, dnnl::algorithm alg)
      : DnnlKernelBase(desc, ctx), n_(desc.inputs.size()) {
    auto md = plainDesc({numElements(desc.outputs[0])});
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

// ---------------------------------------------------------------------------
// Concat.
// ---------------------------------------------------------------------------
class ConcatKernel : public DnnlKernelBase {
public:
  ConcatKernel(const KernelDesc &desc, DnnlContext &ctx, int axis)
      : DnnlKernelBase(desc, ctx) {
    std::vector<dnnl::memory::desc> mds;
    for (const Shape &s : desc.inputs)
      mds.push_back(plainDesc(s));
    auto dmd = plainDesc(desc.outputs[0]);
    dnnl::concat::primitive_desc pd(dmd, axis, mds, eng_);
    prim_ = dnnl::concat(pd);
    impl_ = implOf(pd);
    for (auto &md : mds)
      srcs_.push_back(handleMem(md, eng_));
    dst_ = handleMem(dmd, eng_);
  }
  void forward(const float *const *in, float *const *out) override {
    Args args;
    for (size_t i = 0; i < srcs_.size(); ++i) {
      bind(srcs_[i], in[i]);
      args[DNNL_ARG_MULTIPLE_SRC + int(i)] = srcs_[i];
    }
    bind(dst_, out[0]);
    args[DNNL_ARG_DST] = dst_;
    exec(prim_, args);
    wait();
  }

private:
  dnnl::concat prim_;
  std::vector<dnnl::memory> srcs_;
  dnnl::memory dst_;
};

} // namespace

std::unique_ptr<Kernel> createActivation(const KernelDesc &desc, DnnlContext &ctx) {
  checkArity(desc, 1, 1, 1);
  checkNonEmpty(desc);
  checkOutputShape(desc, desc.inputs[0]);
  using A = dnnl::algorithm;
  std::vector<std::pair<A, std::pair<float, float>>> chain;
  const std::string &op = desc.op;
  const Attrs &a = desc.attrs;
  if (op == "relu") {
    chain.push_back({A::eltwise_relu, {float(a.getFloat("negative_slope", 0.0)), 0.f}});
  } else if (op == "sigmoid") {
    chain.push_back({A::eltwise_logistic, {0.f, 0.f}});
  } else if (op == "tanh") {
    chain.push_back({A::eltwise_tanh, {0.f, 0.f}});
  } else if (op == "elu") {
    chain.push_back({A::eltwise_elu, {float(a.getFloat("alpha", 1.0)), 0.f}});
  } else if (op == "abs_val") {
    chain.push_back({A::eltwise_abs, {0.f, 0.f}});
  } else if (op == "bnll") {
    // Caffe's BNLL is log(1 + e^x), oneDNN's soft_relu.
    chain.push_back({A::eltwise_soft_relu, {0.f, 0.f}});
  } else if (op == "power") {
    double power = a.getFloat("power", 1.0), scale = a.getFloat("scale", 1.0),
           shift = a.getFloat("shift", 0.0);
    if (power * scale == 0.0) {
      // Caffe: constant 1 for power 0, shift^power for scale 0.
      float v = power == 0.0 ? 1.f : float(std::pow(shift, power));
      return std::make_unique<ConstantKernel>(numElements(desc.inputs[0]), v);
    }
    if (scale != 1.0 || shift != 0.0 || power == 1.0)
      chain.push_back({A::eltwise_linear, {float(scale), float(shift)}});
    if (power != 1.0)
      chain.push_back({A::eltwise_pow, {1.f, float(power)}});
  } else {
    return nullptr;
  }
  return std::make_unique<ActivationKernel>(desc, ctx, chain);
}

std::unique_ptr<Kernel> createSoftmax(const KernelDesc &desc, DnnlContext &ctx) {
  checkArity(desc, 1, 1, 1);
  checkNonEmpty(desc);
  const Shape &x = desc.inputs[0];
  checkOutputShape(desc, x);
  int64_t rank = int64_t(x.size());
  if (rank < 1)
    fail(desc, "softmax needs an input of rank >= 1");
  int64_t axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), rank);
  Shape view{prod(x, 0, axis), x[axis], prod(x, axis + 1, rank)};
  return std::make_unique<SoftmaxKernel>(desc, ctx, view);
}

std::unique_ptr<Kernel> createBatchNorm(const KernelDesc &desc, DnnlContext &ctx) {
  checkArity(desc, 4, 4, 1);
  checkNonEmpty(desc);
  const Shape &x = desc.inputs[0];
  checkOutputShape(desc, x);
  if (x.empty())
    fail(desc, "batch_norm needs an input of rank >= 1");
  int64_t C = x.size() == 1 ? 1 : x[1];
  for (int i = 1; i <= 2; ++i)
    if (numElements(desc.inputs[i]) != C)
      fail(desc, std::string(i == 1 ? "mean" : "variance") + " must have " +
                     std::to_string(C) + " elements, got " + shapeToString(desc.inputs[i]));
  if (numElements(desc.inputs[3]) != 1)
    fail(desc, "scale_factor must have 1 element, got " + shapeToString(desc.inputs[3]));
  bool global = desc.attrs.getBool("use_global_stats", true);
  double eps = desc.attrs.getFloat("eps", 1e-5);
  if (!(eps >= 0))
    fail(desc, "eps must be >= 0");
  Shape view{x[0], C, x.size() <= 2 ? 1 : prod(x, 2, int64_t(x.size())), 1};
  return std::make_unique<BatchNormKernel>(desc, ctx, view, global, float(eps));
}

std::unique_ptr<Kernel> createScaleBias(const KernelDesc &desc, DnnlContext &ctx) {
  bool isScale = desc.op == "scale";
  if (isScale)
    checkArity(desc, 2, 3, 1);
  else
    checkArity(desc, 2, 2, 1);
  checkNonEmpty(desc);
  const Shape &x = desc.inputs[0];
  checkOutputShape(desc, x);
  int64_t rank = int64_t(x.size());
  const Shape &p = desc.inputs[1];
  int64_t numAxes = desc.attrs.getInt("num_axes", 1);
  if (numAxes < -1)
    fail(desc, "num_axes must be >= -1");
  // As Caffe's Scale/Bias Reshape: a rank-0 operand is a scalar (axis
  // ignored); otherwise it must equal x.shape[axis : axis + operand rank].
  int64_t span = int64_t(p.size());
  int64_t axis = 0;
  if (span > 0) {
    axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), rank);
    if (axis + span > rank || Shape(x.begin() + axis, x.begin() + axis + span) != p)
      fail(desc, std::string(isScale ? "scale" : "bias") + " shape " + shapeToString(p) +
                     " does not match input " + shapeToString(x) + " at axis " +
                     std::to_string(axis));
  }
  int64_t S = prod(x, axis, axis + span);
  Shape view{prod(x, 0, axis), S, prod(x, axis + span, rank)};
  bool hasBias = isScale && desc.inputs.size() == 3;
  if (hasBias && numElements(desc.inputs[2]) != S)
    fail(desc, "bias must have " + std::to_string(S) + " elements, got " +
                   shapeToString(desc.inputs[2]));
  return std::make_unique<BroadcastKernel>(
      desc, ctx, isScale ? dnnl::algorithm::binary_mul : dnnl::algorithm::binary_add, view, S,
      hasBias);
}

std::unique_ptr<Kernel> createEltwise(const KernelDesc &desc, DnnlContext &ctx) {
  checkArity(desc, 2, SIZE_MAX, 1);
  checkNonEmpty(desc);
  for (size_t i = 1; i < desc.inputs.size(); ++i)
    if (desc.inputs[i] != desc.inputs[0])
      fail(desc, "operand #" + std::to_string(i) + " has shape " +
                     shapeToString(desc.inputs[i]) + ", expected " +
                     shapeToString(desc.inputs[0]));
  checkOutputShape(desc, desc.inputs[0]);
  std::string op = desc.attrs.getString("operation", "sum");
  std::vector<double> coeff = desc.attrs.getFloats("coeff", {});
  if (op == "sum") {
    if (!coeff.empty() && coeff.size() != desc.inputs.size())
      fail(desc, "coeff has " + std::to_string(coeff.size()) + " entries for " +
                     std::to_string(desc.inputs.size()) + " operands");
    std::vector<float> c(desc.inputs.size(), 1.f);
    for (size_t i = 0; i < coeff.size(); ++i)
      c[i] = float(coeff[i]);
    return std::make_unique<EltwiseSumKernel>(desc, ctx, c);
  }
  if (op != "prod" && op != "max")
    fail(desc, "unknown eltwise operation '" + op + "'");
  if (!coeff.empty())
    fail(desc, "coeff is only allowed for operation sum");
  return std::make_unique<EltwiseChainKernel>(
      desc, ctx, op == "prod" ? dnnl::algorithm::binary_mul : dnnl::algorithm::binary_max);
}

std::unique_ptr<Kernel> createConcat(const KernelDesc &desc, DnnlContext &ctx) {
  checkArity(desc, 1, SIZE_MAX, 1);
  checkNonEmpty(desc);
  const Shape &x0 = desc.inputs[0];
  int64_t rank = int64_t(x0.size());
  if (rank < 1)
    fail(desc, "concat needs operands of rank >= 1");
  int64_t axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), rank);
  Shape out = x0;
  for (size_t i = 1; i < desc.inputs.size(); ++i) {
    const Shape &s = desc.inputs[i];
    bool ok = int64_t(s.size()) == rank;
    for (int64_t d = 0; ok && d < rank; ++d)
      ok = d == axis || s[d] == x0[d];
    if (!ok)
      fail(desc, "operand #" + std::to_string(i) + " shape " + shapeToString(s) +
                     " is incompatible with " + shapeToString(x0) + " along axis " +
                     std::to_string(axis));
    out[axis] += s[axis];
  }
  checkOutputShape(desc, out);
  return std::make_unique<ConcatKernel>(desc, ctx, int(axis));
}

} // namespace dnnlk
} // namespace dlc::rt

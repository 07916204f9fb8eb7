//===- ElementwiseGrad.cpp - oneDNN activation/softmax/norm backward ------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Backward kernels of the element-wise family:
//   relu/sigmoid/tanh/elu/abs_val/bnll  oneDNN eltwise_backward (sigmoid,
//                                       tanh and elu with alpha >= 0 from y)
//   softmax                             softmax_backward (from y)
//   batch_norm                          batch_normalization_backward
//   scale / bias                        binary mul for dx, OpenMP reductions
//                                       for the parameter gradients
//   eltwise (sum)                       dx_i = coeff_i * dy (eltwise_linear)
//   concat                              reorders of dy's sub-blocks
// power, prelu, eltwise prod/max: no kernel here (nullptr: the reference
// runs).
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

#include <algorithm>
#include <cstring>

namespace dlc::rt {
namespace dnnlk {
namespace {

/// Operands x, y, dy; output dx = f'(x) dy (through y where useDst).
class ActivationGradKernel : public DnnlKernelBase {
public:
  ActivationGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                       dnnl::algorithm alg, float alpha, bool useDst)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIdx()), dataIdx_(useDst ? gd.resultIdx() : 0),
        useDst_(useDst) {
    auto md = plainDesc(gd.fwd.inputs[0]);
    dnnl::eltwise_forward::primitive_desc fpd(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, alg, md, alpha, 0.f),
        eng_);
    dnnl::eltwise_backward::primitive_desc bpd(
        dnnl::eltwise_backward::desc(alg, md, md, alpha, 0.f), eng_, fpd);
    prim_ = dnnl::eltwise_backward(bpd);
    impl_ = implOf(bpd);
    data_ = handleMem(md, eng_);
    dy_ = handleMem(md, eng_);
    dx_ = handleMem(md, eng_);
  }

  void forward(const float *const *in, float *const *out) override {
    bind(data_, in[dataIdx_]);
    bind(dy_, in[dyIdx_]);
    bind(dx_, out[0]);
    exec(prim_, {{useDst_ ? DNNL_ARG_DST : DNNL_ARG_SRC, data_},
                 {DNNL_ARG_DIFF_DST, dy_},
                 {DNNL_ARG_DIFF_SRC, dx_}});
    wait();
  }

private:
  size_t dyIdx_, dataIdx_;
  bool useDst_;
  dnnl::eltwise_backward prim_;
  dnnl::memory data_, dy_, dx_;
};

/// Operands x, y, dy; output dx = y * (dy - sum_axis(dy * y)).
class SoftmaxGradKernel : public DnnlKernelBase {
public:
  SoftmaxGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                    const Shape &view)
      : DnnlKernelBase(desc, ctx), yIdx_(gd.resultIdx()), dyIdx_(gd.gradIdx()) {
    auto md = plainDesc(view);
    dnnl::softmax_forward::primitive_desc fpd(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, md, 1), eng_);
    dnnl::softmax_backward::primitive_desc bpd(dnnl::softmax_backward::desc(md, md, 1), eng_,
                                               fpd);
    prim_ = dnnl::softmax_backward(bpd);
    impl_ = implOf(bpd);
    y_ = handleMem(md, eng_);
    dy_ = handleMem(md, eng_);
    dx_ = handleMem(md, eng_);
  }

  void forward(const float *const *in, float *const *out) override {
    bind(y_, in[yIdx_]);
    bind(dy_, in[dyIdx_]);
    bind(dx_, out[0]);
    exec(prim_, {{DNNL_ARG_DST, y_}, {DNNL_ARG_DIFF_DST, dy_}, {DNNL_ARG_DIFF_SRC, dx_}});
    wait();
  }

private:
  size_t yIdx_, dyIdx_;
  dnnl::softmax_backward prim_;
  dnnl::memory y_, dy_, dx_;
};

/// Operands x, mean, variance, scale_factor, y, dy; output dx.
/// Global statistics: dx = dy / sqrt(var + eps) with var = blob / factor
/// (prepared once per parameter change, as the forward). Batch statistics:
/// the full backward through the batch mean and variance, which oneDNN takes
/// as inputs: the kernel recomputes them with a forward_training pass into a
/// scratch output (one extra forward per backward).
class BatchNormGradKernel : public DnnlKernelBase {
public:
  BatchNormGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                      const Shape &view, bool global, float eps)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIdx()), global_(global), c_(view[1]) {
    auto md = plainDesc(view);
    auto flags = global ? dnnl::normalization_flags::use_global_stats
                        : dnnl::normalization_flags::none;
    dnnl::batch_normalization_forward::primitive_desc fpd(
        dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, md, eps,
                                                flags),
        eng_);
    dnnl::batch_normalization_backward::primitive_desc bpd(
        dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward_data, md, md, eps,
                                                 flags),
        eng_, fpd);
    bwd_ = dnnl::batch_normalization_backward(bpd);
    impl_ = implOf(bpd);
    mean_ = dnnl::memory(fpd.mean_desc(), eng_);
    var_ = dnnl::memory(fpd.variance_desc(), eng_);
    x_ = handleMem(md, eng_);
    dy_ = handleMem(md, eng_);
    dx_ = handleMem(md, eng_);
    if (!global) {
      fwd_ = dnnl::batch_normalization_forward(fpd);
      impl_ = implOf(fpd) + "+" + impl_;
      yScratch_ = dnnl::memory(fpd.dst_desc(), eng_);
    }
    cache_ = isParam(desc, 1) && isParam(desc, 2) && isParam(desc, 3);
  }

  void forward(const float *const *in, float *const *out) override {
    bind(x_, in[0]);
    if (global_) {
      if (!statsValid_) {
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
    } else {
      exec(fwd_, {{DNNL_ARG_SRC, x_},
                  {DNNL_ARG_DST, yScratch_},
                  {DNNL_ARG_MEAN, mean_},
                  {DNNL_ARG_VARIANCE, var_}});
    }
    bind(dy_, in[dyIdx_]);
    bind(dx_, out[0]);
    exec(bwd_, {{DNNL_ARG_SRC, x_},
                {DNNL_ARG_MEAN, mean_},
                {DNNL_ARG_VARIANCE, var_},
                {DNNL_ARG_DIFF_DST, dy_},
                {DNNL_ARG_DIFF_SRC, dx_}});
    wait();
  }
  void paramsChanged() override { statsValid_ = false; }

private:
  size_t dyIdx_;
  bool global_;
  int64_t c_;
  bool cache_ = false, statsValid_ = false;
  dnnl::batch_normalization_forward fwd_;
  dnnl::batch_normalization_backward bwd_;
  dnnl::memory mean_, var_, x_, dy_, dx_, yScratch_;
};

/// Scale: operands x, s, [b], y, dy on the [outer, S, inner] view;
/// dx = dy * s (broadcast), ds = sum(dy * x), db = sum(dy) over outer and
/// inner. Bias: operands x, b, y, dy; dx = dy, db = sum(dy).
class ScaleBiasGradKernel : public DnnlKernelBase {
public:
  ScaleBiasGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                      bool isScale, const Shape &view)
      : DnnlKernelBase(desc, ctx), isScale_(isScale), dyIdx_(gd.gradIdx()),
        outDx_(gd.outputOf(0)), outDp_(gd.outputOf(1)), outDb_(gd.outputOf(2)),
        outer_(view[0]), S_(view[1]), inner_(view[2]) {
    if (outDx_ >= 0 && isScale) {
      auto md = plainDesc(view);
      auto pmd = plainDesc({1, S_, 1});
      dnnl::binary::primitive_desc pd(
          dnnl::binary::desc(dnnl::algorithm::binary_mul, md, pmd, md), eng_);
      mul_ = dnnl::binary(pd);
      impl_ = "data:" + implOf(pd) + " ";
      dy_ = handleMem(md, eng_);
      s_ = handleMem(pmd, eng_);
      dx_ = handleMem(md, eng_);
    }
    impl_ += "onednn-kernels:omp-reduction";
    if (outDp_ >= 0 || outDb_ >= 0)
      partial_.resize(size_t(outer_ * S_) * 2);
  }

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *dy = in[dyIdx_];
    if (outDx_ >= 0) {
      if (isScale_) {
        bind(dy_, dy);
        bind(s_, in[1]);
        bind(dx_, out[outDx_]);
        exec(mul_, {{DNNL_ARG_SRC_0, dy_}, {DNNL_ARG_SRC_1, s_}, {DNNL_ARG_DST, dx_}});
      } else if (out[outDx_] != dy) {
        std::memcpy(out[outDx_], dy, size_t(outer_ * S_ * inner_) * sizeof(float));
      }
    }
    // Bias: operand 1 is the bias. Scale: operand 1 the scale, 2 the bias.
    int outScale = isScale_ ? outDp_ : -1;
    int outBias = isScale_ ? outDb_ : outDp_;
    if (outScale >= 0 || outBias >= 0) {
      const int64_t O = outer_, S = S_, I = inner_;
      const bool doScale = outScale >= 0, doBias = outBias >= 0;
      double *part = partial_.data();
      // Per (outer, channel) partial sums, then a sum over outer.
#pragma omp parallel for
      for (int64_t os = 0; os < O * S; ++os) {
        const float *d = dy + os * I, *xs = x + os * I;
        double ps = 0, pb = 0;
        if (doScale)
          for (int64_t i = 0; i < I; ++i)
            ps += double(d[i]) * double(xs[i]);
        if (doBias)
          for (int64_t i = 0; i < I; ++i)
            pb += double(d[i]);
        part[2 * os] = ps;
        part[2 * os + 1] = pb;
      }
      float *ds = doScale ? out[outScale] : nullptr;
      float *db = doBias ? out[outBias] : nullptr;
#pragma omp parallel for
      for (int64_t s = 0; s < S; ++s) {
        double as = 0, ab = 0;
        for (int64_t o = 0; o < O; ++o) {
          as += part[2 * (o * S + s)];
          ab += part[2 * (o * S + s) + 1];
        }
        if (ds)
          ds[s] = float(as);
        if (db)
          db[s] = float(ab);
      }
    }
    wait();
  }

private:
  bool isScale_;
  size_t dyIdx_;
  int outDx_, outDp_, outDb_;
  int64_t outer_, S_, inner_;
  std::vector<double> partial_;
  dnnl::binary mul_;
  dnnl::memory dy_, s_, dx_;
};

/// Eltwise sum: operands x_0..x_{n-1}, y, dy; dx_i = coeff_i * dy.
class EltwiseSumGradKernel : public DnnlKernelBase {
public:
  EltwiseSumGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                       const std::vector<float> &coeff)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIdx()) {
    auto md = plainDesc({numElements(gd.fwd.outputs[0])});
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

/// Concat: operands x_0..x_{n-1}, y, dy; dx_i = dy's block of x_i along axis.
class ConcatGradKernel : public DnnlKernelBase {
public:
  ConcatGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd, int64_t axis)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIdx()) {
    const Shape &y = gd.fwd.outputs[0];
    auto ymd = plainDesc(y);
    std::vector<int64_t> offsets(gd.numOperands, 0);
    for (size_t i = 1; i < gd.numOperands; ++i)
      offsets[i] = offsets[i - 1] + gd.fwd.inputs[i - 1][size_t(axis)];
    for (int64_t i : gd.wrt) {
      const Shape &xs = gd.fwd.inputs[size_t(i)];
      dims sub(xs.begin(), xs.end()), off(y.size(), 0);
      off[size_t(axis)] = offsets[size_t(i)];
      auto smd = ymd.submemory_desc(sub, off);
      auto xmd = plainDesc(xs);
      srcs_.push_back(handleMem(smd, eng_));
      dsts_.push_back(handleMem(xmd, eng_));
      dnnl::reorder::primitive_desc pd(eng_, smd, eng_, xmd);
      prims_.emplace_back(pd);
      if (impl_.empty())
        impl_ = implOf(pd);
    }
  }

  void forward(const float *const *in, float *const *out) override {
    for (size_t k = 0; k < prims_.size(); ++k) {
      bind(srcs_[k], in[dyIdx_]);
      bind(dsts_[k], out[k]);
      exec(prims_[k], {{DNNL_ARG_FROM, srcs_[k]}, {DNNL_ARG_TO, dsts_[k]}});
    }
    wait();
  }

private:
  size_t dyIdx_;
  std::vector<dnnl::reorder> prims_;
  std::vector<dnnl::memory> srcs_, dsts_;
};

} // namespace

std::unique_ptr<Kernel> createActivationGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = parseGrad(desc);
  checkArity(gd.fwd, 1, 1, 1);
  checkNonEmpty(gd.fwd);
  checkOutputShape(gd.fwd, gd.fwd.inputs[0]);
  using A = dnnl::algorithm;
  const std::string &op = gd.fwd.op;
  const Attrs &a = desc.attrs;
  if (op == "relu") {
    // Caffe: dx = dy for x > 0, negative_slope * dy otherwise; oneDNN the same.
    float slope = float(a.getFloat("negative_slope", 0.0));
    return std::make_unique<ActivationGradKernel>(desc, ctx, gd, A::eltwise_relu, slope, false);
  }
  if (op == "sigmoid")
    return std::make_unique<ActivationGradKernel>(desc, ctx, gd,
                                                  A::eltwise_logistic_use_dst_for_bwd, 0.f, true);
  if (op == "tanh")
    return std::make_unique<ActivationGradKernel>(desc, ctx, gd, A::eltwise_tanh_use_dst_for_bwd,
                                                  0.f, true);
  if (op == "elu") {
    // Caffe: dx = dy for x > 0, dy * (y + alpha) otherwise. From y only when
    // alpha >= 0 (oneDNN's condition: then y > 0 exactly when x > 0).
    float alpha = float(a.getFloat("alpha", 1.0));
    if (alpha >= 0.f)
      return std::make_unique<ActivationGradKernel>(desc, ctx, gd, A::eltwise_elu_use_dst_for_bwd,
                                                    alpha, true);
    return std::make_unique<ActivationGradKernel>(desc, ctx, gd, A::eltwise_elu, alpha, false);
  }
  if (op == "abs_val")
    return std::make_unique<ActivationGradKernel>(desc, ctx, gd, A::eltwise_abs, 0.f, false);
  if (op == "bnll") // d/dx log(1 + e^x) = sigmoid(x): oneDNN's soft_relu backward
    return std::make_unique<ActivationGradKernel>(desc, ctx, gd, A::eltwise_soft_relu, 0.f,
                                                  false);
  return nullptr;
}

std::unique_ptr<Kernel> createSoftmaxGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = parseGrad(desc);
  checkArity(gd.fwd, 1, 1, 1);
  checkNonEmpty(gd.fwd);
  const Shape &x = gd.fwd.inputs[0];
  checkOutputShape(gd.fwd, x);
  int64_t rank = int64_t(x.size());
  if (rank < 1)
    fail(desc, "softmax needs an input of rank >= 1");
  int64_t axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), rank);
  Shape view{prod(x, 0, axis), x[size_t(axis)], prod(x, axis + 1, rank)};
  return std::make_unique<SoftmaxGradKernel>(desc, ctx, gd, view);
}

std::unique_ptr<Kernel> createBatchNormGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = parseGrad(desc);
  const KernelDesc &f = gd.fwd;
  checkArity(f, 4, 4, 1);
  checkNonEmpty(f);
  const Shape &x = f.inputs[0];
  checkOutputShape(f, x);
  if (x.empty())
    fail(desc, "batch_norm needs an input of rank >= 1");
  int64_t C = x.size() == 1 ? 1 : x[1];
  for (int i = 1; i <= 2; ++i)
    if (numElements(f.inputs[size_t(i)]) != C)
      fail(desc, std::string(i == 1 ? "mean" : "variance") + " must have " +
                     std::to_string(C) + " elements, got " + shapeToString(f.inputs[size_t(i)]));
  if (numElements(f.inputs[3]) != 1)
    fail(desc, "scale_factor must have 1 element, got " + shapeToString(f.inputs[3]));
  // Only the data gradient: the statistics blobs are not trainable.
  if (gd.wrt != std::vector<int64_t>{0})
    return nullptr;
  bool global = desc.attrs.getBool("use_global_stats", true);
  double eps = desc.attrs.getFloat("eps", 1e-5);
  if (!(eps >= 0))
    fail(desc, "eps must be >= 0");
  Shape view{x[0], C, x.size() <= 2 ? 1 : prod(x, 2, int64_t(x.size())), 1};
  return std::make_unique<BatchNormGradKernel>(desc, ctx, gd, view, global, float(eps));
}

std::unique_ptr<Kernel> createScaleBiasGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = parseGrad(desc);
  const KernelDesc &f = gd.fwd;
  bool isScale = f.op == "scale";
  checkArity(f, 2, isScale ? 3 : 2, 1);
  checkNonEmpty(f);
  const Shape &x = f.inputs[0];
  checkOutputShape(f, x);
  int64_t rank = int64_t(x.size());
  const Shape &p = f.inputs[1];
  int64_t numAxes = desc.attrs.getInt("num_axes", 1);
  if (numAxes < -1)
    fail(desc, "num_axes must be >= -1");
  int64_t span = int64_t(p.size());
  int64_t axis = 0;
  if (span > 0) {
    axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), rank);
    if (axis + span > rank ||
        Shape(x.begin() + axis, x.begin() + axis + span) != p)
      fail(desc, std::string(isScale ? "scale" : "bias") + " shape " + shapeToString(p) +
                     " does not match input " + shapeToString(x) + " at axis " +
                     std::to_string(axis));
  }
  int64_t S = prod(x, axis, axis + span);
  Shape view{prod(x, 0, axis), S, prod(x, axis + span, rank)};
  if (isScale && f.inputs.size() == 3 && numElements(f.inputs[2]) != S)
    fail(desc, "bias must have " + std::to_string(S) + " elements, got " +
                   shapeToString(f.inputs[2]));
  return std::make_unique<ScaleBiasGradKernel>(desc, ctx, gd, isScale, view);
}

std::unique_ptr<Kernel> createEltwiseGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = parseGrad(desc);
  const KernelDesc &f = gd.fwd;
  checkArity(f, 2, SIZE_MAX, 1);
  checkNonEmpty(f);
  for (size_t i = 1; i < f.inputs.size(); ++i)
    if (f.inputs[i] != f.inputs[0])
      fail(desc, "operand #" + std::to_string(i) + " has shape " + shapeToString(f.inputs[i]) +
                     ", expected " + shapeToString(f.inputs[0]));
  checkOutputShape(f, f.inputs[0]);
  std::string op = desc.attrs.getString("operation", "sum");
  std::vector<double> coeff = desc.attrs.getFloats("coeff", {});
  if (op != "sum" && op != "prod" && op != "max")
    fail(desc, "unknown eltwise operation '" + op + "'");
  if (op != "sum") {
    if (!coeff.empty())
      fail(desc, "coeff is only allowed for operation sum");
    return nullptr; // prod / max: the reference kernel
  }
  if (!coeff.empty() && coeff.size() != f.inputs.size())
    fail(desc, "coeff has " + std::to_string(coeff.size()) + " entries for " +
                   std::to_string(f.inputs.size()) + " operands");
  std::vector<float> c(f.inputs.size(), 1.f);
  for (size_t i = 0; i < coeff.size(); ++i)
    c[i] = float(coeff[i]);
  return std::make_unique<EltwiseSumGradKernel>(desc, ctx, gd, c);
}

std::unique_ptr<Kernel> createConcatGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = parseGrad(desc);
  const KernelDesc &f = gd.fwd;
  checkArity(f, 1, SIZE_MAX, 1);
  checkNonEmpty(f);
  const Shape &x0 = f.inputs[0];
  int64_t rank = int64_t(x0.size());
  if (rank < 1)
    fail(desc, "concat needs operands of rank >= 1");
  int64_t axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), rank);
  Shape outShape = x0;
  for (size_t i = 1; i < f.inputs.size(); ++i) {
    const Shape &s = f.inputs[i];
    bool ok = int64_t(s.size()) == rank;
    for (int64_t d = 0; ok && d < rank; ++d)
      ok = d == axis || s[size_t(d)] == x0[size_t(d)];
    if (!ok)
      fail(desc, "operand #" + std::to_string(i) + " shape " + shapeToString(s) +
                     " is incompatible with " + shapeToString(x0) + " along axis " +
                     std::to_string(axis));
    outShape[size_t(axis)] += s[size_t(axis)];
  }
  checkOutputShape(f, outShape);
  return std::make_unique<ConcatGradKernel>(desc, ctx, gd, axis);
}

} // namespace dnnlk
} // namespace dlc::rt

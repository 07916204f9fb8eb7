//===- Arithmetic.cpp - Reference element-wise combination ----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// eltwise (prod, sum with coefficients, max), reduction and argmax with
// Caffe's semantics, and the gradients of the first two.
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace dlc::rt::ref {
namespace {

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

/// Caffe's ReductionLayer: each of `num` groups of `dim` values reduced with
/// sum, asum, sumsq or mean, times coeff; the gradient is dy * coeff (/ dim
/// for mean) times 1, sign(x) or 2x.
class ReductionKernel : public RefKernel {
public:
  ReductionKernel(std::string op, int64_t num, int64_t dim, double coeff, bool backward)
      : op_(std::move(op)), num_(num), dim_(dim), backward_(backward),
        coeff_(op_ == "mean" && dim > 0 ? coeff / double(dim) : coeff) {}
  void forward(const float *const *in, float *const *out) override {
    for (int64_t g = 0; g < num_; ++g) {
      const float *x = in[0] + g * dim_;
      if (backward_) {
        double d = double(in[2][g]) * coeff_; // inputs: x, y, dy
        for (int64_t i = 0; i < dim_; ++i) {
          double f = op_ == "asum" ? double((0.0f < x[i]) - (x[i] < 0.0f))
                     : op_ == "sumsq" ? 2.0 * double(x[i])
                                      : 1.0;
          out[0][g * dim_ + i] = static_cast<float>(d * f);
        }
        continue;
      }
      double acc = 0.0;
      for (int64_t i = 0; i < dim_; ++i)
        acc += op_ == "asum" ? std::fabs(double(x[i]))
               : op_ == "sumsq" ? double(x[i]) * double(x[i])
                                : double(x[i]);
      out[0][g] = static_cast<float>(acc * coeff_);
    }
  }

private:
  std::string op_;
  int64_t num_, dim_;
  bool backward_;
  double coeff_;
};

std::unique_ptr<Kernel> makeReduction(const KernelDesc &desc) {
  const KernelDesc &fwd = desc.isGradient() ? gradDesc(desc).fwd : desc;
  auto a = attrsOf<ops::ReductionAttrs>(fwd);
  const Shape &x = fwd.inputs[0];
  int64_t num = numElements(fwd.outputs[0]);
  int64_t dim = num == 0 ? 0 : numElements(x) / num;
  return std::make_unique<ReductionKernel>(a.operation, num, dim, a.coeff, desc.isGradient());
}

/// Caffe's ArgMaxLayer: per group, the top_k (value, index) pairs in
/// descending order (ties: the larger index first, as std::greater on the
/// pairs); indices, values, or (without an axis and with out_max_val) both.
class ArgMaxKernel : public RefKernel {
public:
  ArgMaxKernel(int64_t num, int64_t dim, int64_t stride, int64_t topK, bool values, bool both)
      : num_(num), dim_(dim), stride_(stride), topK_(topK), values_(values), both_(both) {}
  void forward(const float *const *in, float *const *out) override {
    std::vector<std::pair<float, int64_t>> v(static_cast<size_t>(dim_));
    for (int64_t i = 0; i < num_; ++i) {
      auto at = [&](int64_t j, int64_t size) {
        return (i / stride_ * size + j) * stride_ + i % stride_;
      };
      for (int64_t j = 0; j < dim_; ++j)
        v[size_t(j)] = {in[0][at(j, dim_)], j};
      std::partial_sort(v.begin(), v.begin() + topK_, v.end(),
                        std::greater<std::pair<float, int64_t>>());
      for (int64_t j = 0; j < topK_; ++j) {
        if (both_) {
          out[0][2 * i * topK_ + j] = float(v[size_t(j)].second);
          out[0][2 * i * topK_ + topK_ + j] = v[size_t(j)].first;
        } else {
          out[0][at(j, topK_)] = values_ ? v[size_t(j)].first : float(v[size_t(j)].second);
        }
      }
    }
  }

private:
  int64_t num_, dim_, stride_, topK_;
  bool values_, both_;
};

std::unique_ptr<Kernel> makeArgMax(const KernelDesc &desc) {
  auto a = attrsOf<ops::ArgMaxAttrs>(desc);
  const Shape &x = desc.inputs[0];
  int64_t axis;
  Shape out;
  check(desc, ops::argMaxGeometry(a, x, axis, out));
  int64_t count = numElements(x);
  int64_t dim = axis >= 0 ? x[size_t(axis)] : (x[0] == 0 ? 0 : count / x[0]);
  int64_t stride = 1;
  if (axis >= 0)
    for (size_t i = size_t(axis) + 1; i < x.size(); ++i)
      stride *= x[i];
  return std::make_unique<ArgMaxKernel>(dim == 0 ? 0 : count / dim, dim, stride, a.top_k,
                                        a.out_max_val, a.out_max_val && axis < 0);
}

EltOp eltOp(const std::string &op) {
  return op == "prod" ? EltOp::Prod : op == "max" ? EltOp::Max : EltOp::Sum;
}

/// One coefficient per input (1 unless a weighted sum).
std::vector<double> coefficients(const ops::EltwiseAttrs &a, size_t n) {
  if (a.coeff.empty() || a.operation != "sum")
    return std::vector<double>(n, 1.0);
  return a.coeff;
}

std::unique_ptr<Kernel> makeEltwise(const KernelDesc &desc) {
  auto a = attrsOf<ops::EltwiseAttrs>(desc);
  return std::make_unique<EltwiseKernel>(eltOp(a.operation), numElements(desc.inputs[0]),
                                         coefficients(a, desc.inputs.size()));
}

std::unique_ptr<Kernel> makeEltwiseGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  auto a = attrsOf<ops::EltwiseAttrs>(gd.fwd);
  return std::make_unique<EltwiseGradKernel>(eltOp(a.operation), numElements(gd.fwd.inputs[0]),
                                             coefficients(a, gd.fwd.inputs.size()), gd.wrt);
}

} // namespace

DLC_REGISTER_KERNELS(DLC_REF_OP("eltwise", makeEltwise, makeEltwiseGrad),
                     DLC_REF_OP("reduction", makeReduction, makeReduction),
                     DLC_REF_KERNEL("argmax", Forward, makeArgMax));

} // namespace dlc::rt::ref

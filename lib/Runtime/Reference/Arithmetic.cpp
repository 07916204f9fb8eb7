//===- Arithmetic.cpp - Reference element-wise combination ----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// eltwise (prod, sum with coefficients, max) with Caffe's semantics, and
// its gradient.
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include <algorithm>

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

DLC_REGISTER_KERNELS(DLC_REF_KERNEL("eltwise", Forward, makeEltwise),
                     DLC_REF_KERNEL("eltwise", Backward, makeEltwiseGrad));

} // namespace dlc::rt::ref

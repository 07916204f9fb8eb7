//===- RefCommon.h - Shared helpers of the reference kernels ----*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Private to lib/Runtime/Reference: validation helpers (every message starts
// with "layer '<layer>' (<op>): ") and the per-op factory functions.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_RUNTIME_REFERENCE_REFCOMMON_H
#define DLC_LIB_RUNTIME_REFERENCE_REFCOMMON_H

#include "dlc/Runtime/Kernel.h"

#include <string>
#include <vector>

namespace dlc::rt::ref {

/// "layer '<layer>' (<op>): "
std::string errorPrefix(const KernelDesc &desc);
/// Throws Error(errorPrefix(desc) + msg).
[[noreturn]] void fail(const KernelDesc &desc, const std::string &msg);

/// Checks minIn <= #inputs <= maxIn and #outputs == nOut.
void checkArity(const KernelDesc &desc, size_t minIn, size_t maxIn, size_t nOut);
/// Checks that the result shapes are exactly `expected`.
void checkOutputs(const KernelDesc &desc, const std::vector<Shape> &expected);
/// Checks inputs[i] == expected; `what` names the operand in the message.
void checkInput(const KernelDesc &desc, size_t i, const Shape &expected,
                const std::string &what);
/// Checks that the rank of inputs[i] is at least / exactly `rank`.
void checkMinRank(const KernelDesc &desc, size_t i, size_t rank, const std::string &what);
void checkRank(const KernelDesc &desc, size_t i, size_t rank, const std::string &what);
/// Caffe's CanonicalAxisIndex: axis in [-rank, rank) -> [0, rank).
int64_t canonicalAxis(const KernelDesc &desc, int64_t axis, int64_t rank,
                      const std::string &attr);
/// Product of shape[begin:end].
int64_t countRange(const Shape &shape, int64_t begin, int64_t end);

/// A required integer attribute.
int64_t requireInt(const KernelDesc &desc, const std::string &name);
/// A per-spatial-axis attribute with `nd` entries; `def` (>= 0) fills it when
/// absent, def < 0 makes it required.
std::vector<int64_t> spatialAttr(const KernelDesc &desc, const std::string &name,
                                 size_t nd, int64_t def);
/// Loss-style normalizer, Caffe's LossLayer::GetNormalizer (at least 1).
double lossNormalizer(const KernelDesc &desc, const std::string &mode, int64_t outer,
                      int64_t inner, int64_t valid);
/// Checks that the (single) result of a loss/accuracy op is a scalar.
void checkScalarOutput(const KernelDesc &desc);

/// Base of every reference kernel.
class RefKernel : public Kernel {
public:
  std::string implName() const override { return "ref"; }
};

// Factories, one per op (RefConv.cpp, RefPool.cpp, RefElementwise.cpp,
// RefShape.cpp, RefRecurrent.cpp, RefLoss.cpp).
using Factory = std::unique_ptr<Kernel> (*)(const KernelDesc &);
std::unique_ptr<Kernel> makeConvolution(const KernelDesc &);
std::unique_ptr<Kernel> makeDeconvolution(const KernelDesc &);
std::unique_ptr<Kernel> makeInnerProduct(const KernelDesc &);
std::unique_ptr<Kernel> makeEmbed(const KernelDesc &);
std::unique_ptr<Kernel> makePooling(const KernelDesc &);
std::unique_ptr<Kernel> makeLrn(const KernelDesc &);
std::unique_ptr<Kernel> makeUnary(const KernelDesc &); // relu sigmoid tanh abs_val bnll elu power dropout
std::unique_ptr<Kernel> makePrelu(const KernelDesc &);
std::unique_ptr<Kernel> makeSoftmax(const KernelDesc &);
std::unique_ptr<Kernel> makeBatchNorm(const KernelDesc &);
std::unique_ptr<Kernel> makeScale(const KernelDesc &);
std::unique_ptr<Kernel> makeBias(const KernelDesc &);
std::unique_ptr<Kernel> makeEltwise(const KernelDesc &);
std::unique_ptr<Kernel> makeConcat(const KernelDesc &);
std::unique_ptr<Kernel> makeSlice(const KernelDesc &);
std::unique_ptr<Kernel> makeCrop(const KernelDesc &);
std::unique_ptr<Kernel> makeFlatten(const KernelDesc &);
std::unique_ptr<Kernel> makeReshape(const KernelDesc &);
std::unique_ptr<Kernel> makeSilence(const KernelDesc &);
std::unique_ptr<Kernel> makeLstm(const KernelDesc &);
std::unique_ptr<Kernel> makeSoftmaxWithLoss(const KernelDesc &);
std::unique_ptr<Kernel> makeEuclideanLoss(const KernelDesc &);
std::unique_ptr<Kernel> makeSigmoidCrossEntropyLoss(const KernelDesc &);
std::unique_ptr<Kernel> makeContrastiveLoss(const KernelDesc &);
std::unique_ptr<Kernel> makeAccuracy(const KernelDesc &);

/// A validated `<op>_grad` description (docs/autodiff.md). Its inputs are the
/// forward operands, the forward results, then one gradient per forward
/// result; its outputs are the gradients of the `wrt` operands, in order.
struct GradDesc {
  KernelDesc fwd;           ///< the forward op: op name, attrs, operands, results
  std::vector<int64_t> wrt; ///< forward operand indices, strictly ascending
  size_t numOperands = 0, numResults = 0;
  /// Output index of the gradient of operand i, or -1 when i is not in wrt.
  int outputOf(int64_t i) const;
  bool wants(int64_t i) const { return outputOf(i) >= 0; }
  /// Index in the kernel's inputs of forward result r / of its gradient.
  size_t resultIn(size_t r) const { return numOperands + r; }
  size_t gradIn(size_t r) const { return numOperands + numResults + r; }
};

/// Validates `desc` (op "<fwd>_grad") and returns its parts: the input count
/// (one forward result, or (#inputs - 1) / 2 for slice), the forward
/// description (checked by the forward `factory`; its messages are re-prefixed
/// with the gradient op's), the gradient shapes (equal to the results'), `wrt`
/// (required, non-empty, strictly ascending, operand indices not in `noGrad`)
/// and the output shapes (equal to the wrt operands').
GradDesc readGrad(const KernelDesc &desc, Factory factory,
                  const std::vector<int64_t> &noGrad = {});

// Gradient factories (`<op>_grad`), next to their forward kernels.
std::unique_ptr<Kernel> makeConvolutionGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeDeconvolutionGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeInnerProductGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeEmbedGrad(const KernelDesc &);
std::unique_ptr<Kernel> makePoolingGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeLrnGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeUnaryGrad(const KernelDesc &); // relu ... power, dropout
std::unique_ptr<Kernel> makePreluGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeSoftmaxGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeBatchNormGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeScaleGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeBiasGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeEltwiseGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeConcatGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeSliceGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeCropGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeFlattenGrad(const KernelDesc &); // flatten, reshape
std::unique_ptr<Kernel> makeLstmGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeSoftmaxWithLossGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeEuclideanLossGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeSigmoidCrossEntropyLossGrad(const KernelDesc &);
std::unique_ptr<Kernel> makeContrastiveLossGrad(const KernelDesc &);

} // namespace dlc::rt::ref

#endif // DLC_LIB_RUNTIME_REFERENCE_REFCOMMON_H

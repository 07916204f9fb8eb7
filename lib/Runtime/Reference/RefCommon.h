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

} // namespace dlc::rt::ref

#endif // DLC_LIB_RUNTIME_REFERENCE_REFCOMMON_H

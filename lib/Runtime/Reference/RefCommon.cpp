//===- RefCommon.cpp - Reference kernel registry and helpers --------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include <algorithm>
#include <map>

namespace dlc::rt {
namespace ref {

std::string errorPrefix(const KernelDesc &desc) {
  return "layer '" + desc.layer + "' (" + desc.op + "): ";
}

void fail(const KernelDesc &desc, const std::string &msg) {
  throw Error(errorPrefix(desc) + msg);
}

void checkArity(const KernelDesc &desc, size_t minIn, size_t maxIn, size_t nOut) {
  size_t n = desc.inputs.size();
  if (n < minIn || n > maxIn) {
    std::string want = minIn == maxIn ? std::to_string(minIn)
                       : maxIn == SIZE_MAX
                           ? "at least " + std::to_string(minIn)
                           : std::to_string(minIn) + " to " + std::to_string(maxIn);
    fail(desc, "expected " + want + " input(s), got " + std::to_string(n));
  }
  if (desc.outputs.size() != nOut)
    fail(desc, "expected " + std::to_string(nOut) + " output(s), got " +
                   std::to_string(desc.outputs.size()));
  if (!desc.isParam.empty() && desc.isParam.size() != desc.inputs.size())
    fail(desc, "isParam has " + std::to_string(desc.isParam.size()) + " entries for " +
                   std::to_string(desc.inputs.size()) + " inputs");
  for (size_t i = 0; i < desc.inputs.size(); ++i)
    for (int64_t d : desc.inputs[i])
      if (d < 0)
        fail(desc, "input " + std::to_string(i) + " has a negative dimension (" +
                       shapeToString(desc.inputs[i]) + ")");
}

void checkOutputs(const KernelDesc &desc, const std::vector<Shape> &expected) {
  if (desc.outputs.size() != expected.size())
    fail(desc, "expected " + std::to_string(expected.size()) + " output(s), got " +
                   std::to_string(desc.outputs.size()));
  for (size_t i = 0; i < expected.size(); ++i)
    if (desc.outputs[i] != expected[i])
      fail(desc, "output " + std::to_string(i) + " has shape " +
                     shapeToString(desc.outputs[i]) + ", expected " +
                     shapeToString(expected[i]));
}

void checkInput(const KernelDesc &desc, size_t i, const Shape &expected,
                const std::string &what) {
  if (desc.inputs[i] != expected)
    fail(desc, what + " has shape " + shapeToString(desc.inputs[i]) + ", expected " +
                   shapeToString(expected));
}

void checkMinRank(const KernelDesc &desc, size_t i, size_t rank, const std::string &what) {
  if (desc.inputs[i].size() < rank)
    fail(desc, what + " must have at least " + std::to_string(rank) + " axes, got " +
                   shapeToString(desc.inputs[i]));
}

void checkRank(const KernelDesc &desc, size_t i, size_t rank, const std::string &what) {
  if (desc.inputs[i].size() != rank)
    fail(desc, what + " must have " + std::to_string(rank) + " axes, got " +
                   shapeToString(desc.inputs[i]));
}

int64_t canonicalAxis(const KernelDesc &desc, int64_t axis, int64_t rank,
                      const std::string &attr) {
  if (axis < -rank || axis >= rank)
    fail(desc, "attribute '" + attr + "' = " + std::to_string(axis) +
                   " is out of range for a rank-" + std::to_string(rank) + " input");
  return axis < 0 ? axis + rank : axis;
}

int64_t countRange(const Shape &shape, int64_t begin, int64_t end) {
  int64_t n = 1;
  for (int64_t i = begin; i < end; ++i)
    n *= shape[i];
  return n;
}

int64_t requireInt(const KernelDesc &desc, const std::string &name) {
  if (!desc.attrs.has(name))
    fail(desc, "missing attribute '" + name + "'");
  return desc.attrs.getInt(name, 0);
}

std::vector<int64_t> spatialAttr(const KernelDesc &desc, const std::string &name,
                                 size_t nd, int64_t def) {
  if (!desc.attrs.has(name)) {
    if (def < 0)
      fail(desc, "missing attribute '" + name + "'");
    return std::vector<int64_t>(nd, def);
  }
  std::vector<int64_t> v = desc.attrs.getInts(name);
  if (v.size() != nd)
    fail(desc, "attribute '" + name + "' has " + std::to_string(v.size()) +
                   " entries, expected one per spatial axis (" + std::to_string(nd) + ")");
  return v;
}

double lossNormalizer(const KernelDesc &desc, const std::string &mode, int64_t outer,
                      int64_t inner, int64_t valid) {
  double n;
  if (mode == "full")
    n = double(outer) * double(inner);
  else if (mode == "valid")
    n = double(valid);
  else if (mode == "batch_size")
    n = double(outer);
  else if (mode == "none")
    n = 1.0;
  else
    fail(desc, "attribute 'normalization' has unknown value '" + mode +
                   "' (expected full, valid, batch_size or none)");
  return std::max(1.0, n);
}

void checkScalarOutput(const KernelDesc &desc) {
  const Shape &s = desc.outputs[0];
  if (!(s.empty() || (s.size() == 1 && s[0] == 1)))
    fail(desc, "output 0 has shape " + shapeToString(s) + ", expected scalar");
}

} // namespace ref

namespace {
const std::map<std::string, ref::Factory> &registry() {
  using namespace ref;
  static const std::map<std::string, Factory> r = {
      {"convolution", makeConvolution},
      {"deconvolution", makeDeconvolution},
      {"inner_product", makeInnerProduct},
      {"embed", makeEmbed},
      {"pooling", makePooling},
      {"lrn", makeLrn},
      {"relu", makeUnary},
      {"sigmoid", makeUnary},
      {"tanh", makeUnary},
      {"abs_val", makeUnary},
      {"bnll", makeUnary},
      {"elu", makeUnary},
      {"power", makeUnary},
      {"dropout", makeUnary},
      {"prelu", makePrelu},
      {"softmax", makeSoftmax},
      {"batch_norm", makeBatchNorm},
      {"scale", makeScale},
      {"bias", makeBias},
      {"eltwise", makeEltwise},
      {"concat", makeConcat},
      {"slice", makeSlice},
      {"crop", makeCrop},
      {"flatten", makeFlatten},
      {"reshape", makeReshape},
      {"silence", makeSilence},
      {"lstm", makeLstm},
      {"softmax_with_loss", makeSoftmaxWithLoss},
      {"euclidean_loss", makeEuclideanLoss},
      {"sigmoid_cross_entropy_loss", makeSigmoidCrossEntropyLoss},
      {"contrastive_loss", makeContrastiveLoss},
      {"accuracy", makeAccuracy},
  };
  return r;
}
} // namespace

bool hasReferenceKernel(const std::string &op) { return registry().count(op) != 0; }

std::unique_ptr<Kernel> createReferenceKernel(const KernelDesc &desc) {
  auto it = registry().find(desc.op);
  if (it == registry().end())
    ref::fail(desc, "no reference kernel for op '" + desc.op + "'");
  std::string prefix = ref::errorPrefix(desc);
  try {
    return it->second(desc);
  } catch (const Error &e) {
    // Attribute getters throw without the layer name: add it.
    std::string msg = e.what();
    if (msg.compare(0, prefix.size(), prefix) == 0)
      throw;
    throw Error(prefix + msg);
  }
}

} // namespace dlc::rt

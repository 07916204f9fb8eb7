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

int GradDesc::outputOf(int64_t i) const {
  for (size_t k = 0; k < wrt.size(); ++k)
    if (wrt[k] == i)
      return static_cast<int>(k);
  return -1;
}

GradDesc readGrad(const KernelDesc &desc, Factory factory,
                  const std::vector<int64_t> &noGrad) {
  static const std::string suffix = "_grad";
  if (desc.op.size() <= suffix.size() ||
      desc.op.compare(desc.op.size() - suffix.size(), suffix.size(), suffix) != 0)
    fail(desc, "not a gradient op (expected '<op>_grad')");
  GradDesc g;
  std::string fwdOp = desc.op.substr(0, desc.op.size() - suffix.size());
  size_t total = desc.inputs.size();
  if (fwdOp == "slice") {
    if (total < 3 || total % 2 == 0)
      fail(desc, "expected 1 + 2k inputs (x, k slices, k slice gradients), got " +
                     std::to_string(total));
    g.numOperands = 1;
    g.numResults = (total - 1) / 2;
  } else {
    if (total < 3)
      fail(desc, "expected the forward operands, the forward result and its gradient "
                 "(at least 3 inputs), got " +
                     std::to_string(total));
    g.numOperands = total - 2;
    g.numResults = 1;
  }
  if (!desc.isParam.empty() && desc.isParam.size() != total)
    fail(desc, "isParam has " + std::to_string(desc.isParam.size()) + " entries for " +
                   std::to_string(total) + " inputs");

  g.fwd.op = fwdOp;
  g.fwd.layer = desc.layer;
  g.fwd.attrs = desc.attrs;
  g.fwd.inputs.assign(desc.inputs.begin(), desc.inputs.begin() + g.numOperands);
  g.fwd.outputs.assign(desc.inputs.begin() + g.numOperands,
                       desc.inputs.begin() + g.numOperands + g.numResults);
  if (!desc.isParam.empty())
    g.fwd.isParam.assign(desc.isParam.begin(), desc.isParam.begin() + g.numOperands);

  // The forward description must be valid; report its errors as ours.
  std::string fwdPrefix = errorPrefix(g.fwd), prefix = errorPrefix(desc);
  try {
    (void)factory(g.fwd);
  } catch (const Error &e) {
    std::string msg = e.what();
    if (msg.compare(0, fwdPrefix.size(), fwdPrefix) == 0)
      msg = msg.substr(fwdPrefix.size());
    // Input/output counts of the forward op are the operand/result counts.
    throw Error(prefix + "forward: " + msg);
  }

  for (size_t r = 0; r < g.numResults; ++r)
    if (desc.inputs[g.gradIn(r)] != desc.inputs[g.resultIn(r)])
      fail(desc, "gradient of result " + std::to_string(r) + " (input " +
                     std::to_string(g.gradIn(r)) + ") has shape " +
                     shapeToString(desc.inputs[g.gradIn(r)]) + ", expected the result's " +
                     shapeToString(desc.inputs[g.resultIn(r)]));

  if (!desc.attrs.has("wrt"))
    fail(desc, "missing attribute 'wrt'");
  g.wrt = desc.attrs.getInts("wrt");
  if (g.wrt.empty())
    fail(desc, "attribute 'wrt' is empty");
  for (size_t k = 0; k < g.wrt.size(); ++k) {
    int64_t i = g.wrt[k];
    if (i < 0 || i >= int64_t(g.numOperands))
      fail(desc, "wrt entry " + std::to_string(i) + " is not a forward operand index (0.." +
                     std::to_string(g.numOperands - 1) + ")");
    if (k > 0 && i <= g.wrt[k - 1])
      fail(desc, "attribute 'wrt' must be strictly ascending");
    if (std::find(noGrad.begin(), noGrad.end(), i) != noGrad.end())
      fail(desc, "operand " + std::to_string(i) + " has no gradient (wrt must not include it)");
  }
  if (desc.outputs.size() != g.wrt.size())
    fail(desc, "expected " + std::to_string(g.wrt.size()) + " output(s) (one per wrt entry), got " +
                   std::to_string(desc.outputs.size()));
  for (size_t k = 0; k < g.wrt.size(); ++k)
    if (desc.outputs[k] != desc.inputs[g.wrt[k]])
      fail(desc, "output " + std::to_string(k) + " has shape " +
                     shapeToString(desc.outputs[k]) + ", expected the shape of operand " +
                     std::to_string(g.wrt[k]) + " (" +
                     shapeToString(desc.inputs[g.wrt[k]]) + ")");
  return g;
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
      // Gradients (docs/autodiff.md).
      {"convolution_grad", makeConvolutionGrad},
      {"deconvolution_grad", makeDeconvolutionGrad},
      {"inner_product_grad", makeInnerProductGrad},
      {"embed_grad", makeEmbedGrad},
      {"pooling_grad", makePoolingGrad},
      {"lrn_grad", makeLrnGrad},
      {"relu_grad", makeUnaryGrad},
      {"sigmoid_grad", makeUnaryGrad},
      {"tanh_grad", makeUnaryGrad},
      {"abs_val_grad", makeUnaryGrad},
      {"bnll_grad", makeUnaryGrad},
      {"elu_grad", makeUnaryGrad},
      {"power_grad", makeUnaryGrad},
      {"dropout_grad", makeUnaryGrad},
      {"prelu_grad", makePreluGrad},
      {"softmax_grad", makeSoftmaxGrad},
      {"batch_norm_grad", makeBatchNormGrad},
      {"scale_grad", makeScaleGrad},
      {"bias_grad", makeBiasGrad},
      {"eltwise_grad", makeEltwiseGrad},
      {"concat_grad", makeConcatGrad},
      {"slice_grad", makeSliceGrad},
      {"crop_grad", makeCropGrad},
      {"flatten_grad", makeFlattenGrad},
      {"reshape_grad", makeFlattenGrad},
      {"lstm_grad", makeLstmGrad},
      {"softmax_with_loss_grad", makeSoftmaxWithLossGrad},
      {"euclidean_loss_grad", makeEuclideanLossGrad},
      {"sigmoid_cross_entropy_loss_grad", makeSigmoidCrossEntropyLossGrad},
      {"contrastive_loss_grad", makeContrastiveLossGrad},
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

//===- Dnnl.cpp - oneDNN kernel factory and shared helpers ----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

#include <set>

namespace dlc::rt {
namespace dnnlk {

void fail(const KernelDesc &desc, const std::string &msg) {
  throw Error("layer '" + desc.layer + "' (" + desc.op + "): " + msg);
}

static dims toDims(const Shape &shape) {
  if (shape.empty())
    return {1};
  return dims(shape.begin(), shape.end());
}

dnnl::memory::desc plainDesc(const Shape &shape) {
  dims d = toDims(shape);
  dims strides(d.size());
  int64_t s = 1;
  for (size_t i = d.size(); i-- > 0;) {
    strides[i] = s;
    s *= d[i];
  }
  return dnnl::memory::desc(d, dt::f32, strides);
}

dnnl::memory::desc anyDesc(const Shape &shape) {
  return dnnl::memory::desc(toDims(shape), dt::f32, tag::any);
}

void checkArity(const KernelDesc &desc, size_t minIn, size_t maxIn, size_t outputs) {
  if (desc.inputs.size() < minIn || desc.inputs.size() > maxIn) {
    std::string want = minIn == maxIn ? std::to_string(minIn)
                                      : std::to_string(minIn) + ".." +
                                            (maxIn == SIZE_MAX ? std::string("n")
                                                               : std::to_string(maxIn));
    fail(desc, "expected " + want + " operands, got " + std::to_string(desc.inputs.size()));
  }
  if (desc.outputs.size() != outputs)
    fail(desc, "expected " + std::to_string(outputs) + " results, got " +
                   std::to_string(desc.outputs.size()));
  if (!desc.isParam.empty() && desc.isParam.size() != desc.inputs.size())
    fail(desc, "isParam has " + std::to_string(desc.isParam.size()) + " entries for " +
                   std::to_string(desc.inputs.size()) + " operands");
}

void checkNonEmpty(const KernelDesc &desc) {
  auto check = [&](const Shape &s, const char *what, size_t i) {
    for (int64_t d : s)
      if (d <= 0)
        fail(desc, std::string(what) + " #" + std::to_string(i) + " has non-positive shape " +
                       shapeToString(s));
  };
  for (size_t i = 0; i < desc.inputs.size(); ++i)
    check(desc.inputs[i], "operand", i);
  for (size_t i = 0; i < desc.outputs.size(); ++i)
    check(desc.outputs[i], "result", i);
}

void checkOutputShape(const KernelDesc &desc, const Shape &expected, size_t idx) {
  if (desc.outputs.at(idx) != expected)
    fail(desc, "result shape " + shapeToString(desc.outputs[idx]) + " does not match the " +
                   "expected " + shapeToString(expected));
}

int64_t canonicalAxis(const KernelDesc &desc, int64_t axis, int64_t rank, const char *what) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    fail(desc, std::string(what) + " " + std::to_string(axis) + " out of range for rank " +
                   std::to_string(rank));
  return a;
}

std::vector<int64_t> spatialAttr(const KernelDesc &desc, const std::string &name, size_t n,
                                 int64_t def, bool required) {
  std::vector<int64_t> v = desc.attrs.getInts(name, {});
  if (v.empty()) {
    if (required)
      fail(desc, "missing attribute '" + name + "'");
    return std::vector<int64_t>(n, def);
  }
  if (v.size() == 1 && n > 1)
    return std::vector<int64_t>(n, v[0]);
  if (v.size() != n)
    fail(desc, "attribute '" + name + "' has " + std::to_string(v.size()) +
                   " entries, expected " + std::to_string(n));
  return v;
}

bool isParam(const KernelDesc &desc, size_t i) {
  return i < desc.isParam.size() && desc.isParam[i];
}

int64_t prod(const Shape &shape, int64_t from, int64_t to) {
  int64_t p = 1;
  for (int64_t i = from; i < to; ++i)
    p *= shape[i];
  return p;
}

std::string implOf(const dnnl::primitive_desc_base &pd) {
  return std::string("onednn:") + pd.impl_info_str();
}

void DnnlKernelBase::exec(dnnl::primitive &p, const Args &args) {
  try {
    p.execute(strm_, args);
  } catch (const dnnl::error &e) {
    throw Error("layer '" + layer_ + "' (" + op_ + "): oneDNN execution failed: " + e.what());
  }
}

void DnnlKernelBase::wait() {
  try {
    strm_.wait();
  } catch (const dnnl::error &e) {
    throw Error("layer '" + layer_ + "' (" + op_ + "): oneDNN stream failed: " + e.what());
  }
}

Port::Port(const dnnl::engine &eng, const dnnl::memory::desc &user,
           const dnnl::memory::desc &prim, bool input)
    : primMd_(prim), input_(input) {
  user_ = handleMem(user, eng);
  reorder_ = prim != user;
  mem_ = reorder_ ? dnnl::memory(prim, eng) : user_;
  if (reorder_)
    r_ = input ? dnnl::reorder(user_, mem_) : dnnl::reorder(mem_, user_);
}

void DnnlKernelBase::pull(Port &port, const float *p) {
  bind(port.user_, p);
  if (port.reorder_)
    exec(port.r_, {{DNNL_ARG_FROM, port.user_}, {DNNL_ARG_TO, port.mem_}});
}

void DnnlKernelBase::pullCached(Port &port, const float *p, bool &valid, bool cache) {
  if (!port.reorder_) {
    bind(port.user_, p);
    return;
  }
  if (valid)
    return;
  pull(port, p);
  valid = cache;
}

void DnnlKernelBase::bindOut(Port &port, float *p) { bind(port.user_, p); }

void DnnlKernelBase::push(Port &port) {
  if (port.reorder_)
    exec(port.r_, {{DNNL_ARG_FROM, port.mem_}, {DNNL_ARG_TO, port.user_}});
}

int GradDesc::outputOf(int64_t i) const {
  for (size_t k = 0; k < wrt.size(); ++k)
    if (wrt[k] == i)
      return int(k);
  return -1;
}

GradDesc parseGrad(const KernelDesc &desc, size_t numResults) {
  static const std::string suffix = "_grad";
  GradDesc g;
  const std::string &op = desc.op;
  if (op.size() <= suffix.size() || op.compare(op.size() - suffix.size(), suffix.size(), suffix))
    fail(desc, "not a gradient op");
  if (desc.inputs.size() < 2 * numResults + 1)
    fail(desc, "expected the forward operands, " + std::to_string(numResults) +
                   " forward result(s) and as many gradients, got " +
                   std::to_string(desc.inputs.size()) + " operands");
  if (!desc.isParam.empty() && desc.isParam.size() != desc.inputs.size())
    fail(desc, "isParam has " + std::to_string(desc.isParam.size()) + " entries for " +
                   std::to_string(desc.inputs.size()) + " operands");
  g.numResults = numResults;
  g.numOperands = desc.inputs.size() - 2 * numResults;
  if (!desc.attrs.has("wrt"))
    fail(desc, "missing attribute 'wrt'");
  g.wrt = desc.attrs.getInts("wrt", {});
  if (g.wrt.empty())
    fail(desc, "'wrt' is empty");
  for (size_t k = 0; k < g.wrt.size(); ++k) {
    if (g.wrt[k] < 0 || g.wrt[k] >= int64_t(g.numOperands))
      fail(desc, "'wrt' index " + std::to_string(g.wrt[k]) + " out of range for " +
                     std::to_string(g.numOperands) + " forward operands");
    if (k > 0 && g.wrt[k] <= g.wrt[k - 1])
      fail(desc, "'wrt' must be strictly ascending");
  }
  if (desc.outputs.size() != g.wrt.size())
    fail(desc, "expected " + std::to_string(g.wrt.size()) + " results (one per 'wrt' entry), got " +
                   std::to_string(desc.outputs.size()));
  for (size_t k = 0; k < g.wrt.size(); ++k)
    if (desc.outputs[k] != desc.inputs[size_t(g.wrt[k])])
      fail(desc, "result #" + std::to_string(k) + " has shape " + shapeToString(desc.outputs[k]) +
                     ", expected the shape of operand #" + std::to_string(g.wrt[k]) + " " +
                     shapeToString(desc.inputs[size_t(g.wrt[k])]));
  for (size_t r = 0; r < numResults; ++r)
    if (desc.inputs[g.gradIdx(r)] != desc.inputs[g.resultIdx(r)])
      fail(desc, "gradient #" + std::to_string(r) + " has shape " +
                     shapeToString(desc.inputs[g.gradIdx(r)]) + ", expected " +
                     shapeToString(desc.inputs[g.resultIdx(r)]));
  g.fwd.op = op.substr(0, op.size() - suffix.size());
  g.fwd.layer = desc.layer;
  g.fwd.attrs = desc.attrs;
  g.fwd.inputs.assign(desc.inputs.begin(), desc.inputs.begin() + g.numOperands);
  g.fwd.outputs.assign(desc.inputs.begin() + g.numOperands,
                       desc.inputs.begin() + g.numOperands + numResults);
  if (!desc.isParam.empty())
    g.fwd.isParam.assign(desc.isParam.begin(), desc.isParam.begin() + g.numOperands);
  return g;
}

} // namespace dnnlk

using namespace dnnlk;

std::shared_ptr<DnnlContext> createDnnlContext() {
  try {
    return std::make_shared<DnnlContext>();
  } catch (const dnnl::error &e) {
    throw Error(std::string("cannot create the oneDNN CPU engine: ") + e.what());
  }
}

static const std::set<std::string> &dnnlOps() {
  static const std::set<std::string> ops = {
      "convolution", "deconvolution", "inner_product", "pooling", "lrn",
      "relu",        "sigmoid",       "tanh",          "elu",     "abs_val",
      "bnll",        "power",         "softmax",       "batch_norm", "scale",
      "bias",        "eltwise",       "concat",
      // Backward kernels (docs/autodiff.md).
      "convolution_grad", "deconvolution_grad", "inner_product_grad", "pooling_grad",
      "lrn_grad", "relu_grad", "sigmoid_grad", "tanh_grad", "elu_grad", "abs_val_grad",
      "bnll_grad", "softmax_grad", "batch_norm_grad", "scale_grad", "bias_grad",
      "eltwise_grad", "concat_grad"};
  return ops;
}

static std::unique_ptr<Kernel> createGradKernel(const KernelDesc &desc, DnnlContext &ctx) {
  const std::string &op = desc.op;
  if (op == "convolution_grad")
    return createConvolutionGrad(desc, ctx);
  if (op == "deconvolution_grad")
    return createDeconvolutionGrad(desc, ctx);
  if (op == "inner_product_grad")
    return createInnerProductGrad(desc, ctx);
  if (op == "pooling_grad")
    return createPoolingGrad(desc, ctx);
  if (op == "lrn_grad")
    return createLrnGrad(desc, ctx);
  if (op == "softmax_grad")
    return createSoftmaxGrad(desc, ctx);
  if (op == "batch_norm_grad")
    return createBatchNormGrad(desc, ctx);
  if (op == "scale_grad" || op == "bias_grad")
    return createScaleBiasGrad(desc, ctx);
  if (op == "eltwise_grad")
    return createEltwiseGrad(desc, ctx);
  if (op == "concat_grad")
    return createConcatGrad(desc, ctx);
  return createActivationGrad(desc, ctx);
}

/// Errors of the forward description's checks name the forward op: report
/// them as the gradient op's ("layer 'l' (conv_grad): forward: ...").
static std::unique_ptr<Kernel> createGrad(const KernelDesc &desc, DnnlContext &ctx) {
  try {
    return createGradKernel(desc, ctx);
  } catch (const Error &e) {
    std::string msg = e.what();
    std::string fwdPrefix = "layer '" + desc.layer + "' (" +
                            desc.op.substr(0, desc.op.size() - 5) + "): ";
    if (msg.compare(0, fwdPrefix.size(), fwdPrefix) == 0)
      fail(desc, "forward: " + msg.substr(fwdPrefix.size()));
    throw;
  }
}

bool hasDnnlKernel(const std::string &op) { return dnnlOps().count(op) != 0; }

std::unique_ptr<Kernel> createDnnlKernel(const KernelDesc &desc, DnnlContext &ctx) {
  if (!hasDnnlKernel(desc.op))
    return nullptr;
  try {
    const std::string &op = desc.op;
    if (op.size() > 5 && op.compare(op.size() - 5, 5, "_grad") == 0)
      return createGrad(desc, ctx);
    if (op == "convolution")
      return createConvolution(desc, ctx);
    if (op == "deconvolution")
      return createDeconvolution(desc, ctx);
    if (op == "inner_product")
      return createInnerProduct(desc, ctx);
    if (op == "pooling")
      return createPooling(desc, ctx);
    if (op == "lrn")
      return createLrn(desc, ctx);
    if (op == "softmax")
      return createSoftmax(desc, ctx);
    if (op == "batch_norm")
      return createBatchNorm(desc, ctx);
    if (op == "scale" || op == "bias")
      return createScaleBias(desc, ctx);
    if (op == "eltwise")
      return createEltwise(desc, ctx);
    if (op == "concat")
      return createConcat(desc, ctx);
    return createActivation(desc, ctx);
  } catch (const Unsupported &) {
    return nullptr;
  } catch (const Error &e) {
    // Attribute getters do not know the layer: name it.
    std::string msg = e.what();
    if (msg.find("layer '") == std::string::npos)
      fail(desc, msg);
    throw;
  } catch (const dnnl::error &e) {
    if (e.status == dnnl_unimplemented)
      return nullptr;
    fail(desc, std::string("oneDNN rejected the configuration: ") + e.what());
  }
}

} // namespace dlc::rt

// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Verification and Caffe shape inference of the dl ops. Every rule follows the
// Reshape()/LayerSetUp() of the corresponding Caffe layer; errors are phrased
// in Caffe's terms (parameter names of caffe.proto).

#include "dlc/Dialect/DL/IR/DLOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

#include <string>

using namespace mlir;
using namespace mlir::dl;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {
using Shape = SmallVector<int64_t, 4>;
constexpr int64_t kAny = ShapedType::kDynamic;

/// The static shape of `v`'s type, if it is a ranked tensor with a static
/// shape (shape rules are only evaluated on fully known shapes).
std::optional<Shape> staticShape(Value v) {
  if (!v)
    return std::nullopt;
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape())
    return std::nullopt;
  return Shape(t.getShape().begin(), t.getShape().end());
}

std::string fmtShape(ArrayRef<int64_t> s) {
  std::string r = "[";
  for (auto [i, d] : llvm::enumerate(s)) {
    if (i)
      r += ", ";
    r += d == kAny ? std::string("?") : std::to_string(d);
  }
  return r + "]";
}

std::string fmtX(ArrayRef<int64_t> s) {
  std::string r;
  for (auto [i, d] : llvm::enumerate(s)) {
    if (i)
      r += "x";
    r += std::to_string(d);
  }
  return r;
}

int64_t product(ArrayRef<int64_t> s) {
  int64_t p = 1;
  for (int64_t d : s)
    p *= d;
  return p;
}

/// Caffe's Blob::CanonicalAxisIndex: axis in [-rank, rank).
bool canonicalAxis(int64_t axis, int64_t rank, int64_t &out) {
  if (axis < -rank || axis >= rank)
    return false;
  out = axis < 0 ? axis + rank : axis;
  return true;
}

/// Caffe's Blob::LegacyShape: dims past the rank read as 1.
int64_t legacyDim(ArrayRef<int64_t> s, int64_t i) {
  return i < (int64_t)s.size() ? s[i] : 1;
}

Type f32(MLIRContext *ctx) { return Float32Type::get(ctx); }

/// Accumulates inferred result types and reports errors at the location.
struct Inference {
  MLIRContext *ctx;
  std::optional<Location> loc;
  SmallVectorImpl<Type> &types;

  template <typename... Args>
  LogicalResult error(Args &&...args) {
    return emitOptionalError(loc, std::forward<Args>(args)...);
  }
  LogicalResult unranked() {
    types.push_back(UnrankedTensorType::get(f32(ctx)));
    return success();
  }
  LogicalResult shaped(ArrayRef<int64_t> s) {
    types.push_back(RankedTensorType::get(s, f32(ctx)));
    return success();
  }
  LogicalResult scalar() { return shaped({}); }
  /// Result of the same type as `v` (element-wise ops).
  LogicalResult same(Value v) {
    if (auto t = dyn_cast<TensorType>(v.getType()))
      types.push_back(t);
    else
      types.push_back(UnrankedTensorType::get(f32(ctx)));
    return success();
  }
  /// Checks that `v`, if statically shaped, has shape `expected` (entries
  /// kAny match anything).
  LogicalResult expect(Value v, ArrayRef<int64_t> expected, StringRef what,
                       StringRef why = "") {
    auto s = staticShape(v);
    if (!s)
      return success();
    bool ok = s->size() == expected.size();
    for (size_t i = 0; ok && i < expected.size(); ++i)
      ok = expected[i] == kAny || expected[i] == (*s)[i];
    if (ok)
      return success();
    return error(what, " shape ", fmtShape(*s), " does not match expected ",
                 fmtShape(expected), why);
  }
};

/// Checks the attribute dictionary against the op's ODS constraints (types
/// of the attributes, required ones present) before the getters are used.
template <typename AdaptorT>
LogicalResult checkAttributes(MLIRContext *ctx, std::optional<Location> loc,
                              AdaptorT &adaptor) {
  if (loc)
    return adaptor.verify(*loc);
  ScopedDiagnosticHandler silence(ctx, [](Diagnostic &) { return success(); });
  return adaptor.verify(UnknownLoc::get(ctx));
}

LogicalResult checkOneOf(Inference &I, StringRef attr, StringRef value,
                         ArrayRef<StringRef> allowed) {
  if (llvm::is_contained(allowed, value))
    return success();
  std::string list;
  for (auto [i, a] : llvm::enumerate(allowed))
    list += (i ? ", " : "") + std::string("\"") + a.str() + "\"";
  return I.error(attr, " must be one of ", list, ", got \"", value, "\"");
}

/// One value per spatial axis, or empty (then every entry is `dflt`).
LogicalResult spatialVector(Inference &I, StringRef name,
                            ArrayRef<int64_t> values, size_t numSpatial,
                            int64_t dflt, int64_t minValue,
                            SmallVectorImpl<int64_t> &out) {
  if (values.empty()) {
    out.assign(numSpatial, dflt);
    return success();
  }
  if (values.size() != numSpatial)
    return I.error(name, " must have ", numSpatial,
                   " entries (one per spatial axis), got ", values.size());
  for (int64_t v : values)
    if (v < minValue)
      return I.error(name, minValue > 0 ? " must be positive, got "
                                        : " must be non-negative, got ",
                     v);
  out.assign(values.begin(), values.end());
  return success();
}

/// Checks that every operand shape is known; if not the caller returns
/// unranked results.
bool allStatic(ValueRange values) {
  return llvm::all_of(values, [](Value v) { return staticShape(v).has_value(); });
}

//===----------------------------------------------------------------------===//
// Convolution and deconvolution (base_conv_layer.cpp, conv_layer.cpp,
// deconv_layer.cpp)
//===----------------------------------------------------------------------===//

LogicalResult inferConvLike(Inference &I, bool deconv, Value input,
                            Value weight, Value bias, int64_t numOutput,
                            ArrayRef<int64_t> kernelAttr,
                            ArrayRef<int64_t> strideAttr,
                            ArrayRef<int64_t> padAttr,
                            ArrayRef<int64_t> dilationAttr, int64_t group) {
  std::string opName = deconv ? "deconvolution" : "convolution";
  if (numOutput <= 0)
    return I.error("num_output must be positive, got ", numOutput);
  if (group <= 0)
    return I.error("group must be positive, got ", group);
  if (numOutput % group != 0)
    return I.error("num_output ", numOutput, " not divisible by group ",
                   group);
  size_t ns = kernelAttr.size();
  if (ns == 0)
    return I.error("kernel must have one entry per spatial axis, got none");
  SmallVector<int64_t> kernel, stride, pad, dilation;
  if (failed(spatialVector(I, "kernel", kernelAttr, ns, 1, 1, kernel)) ||
      failed(spatialVector(I, "stride", strideAttr, ns, 1, 1, stride)) ||
      failed(spatialVector(I, "pad", padAttr, ns, 0, 0, pad)) ||
      failed(spatialVector(I, "dilation", dilationAttr, ns, 1, 1, dilation)))
    return failure();

  auto in = staticShape(input);
  int64_t channels = kAny;
  if (in) {
    if (in->size() != ns + 2)
      return I.error(opName, " input rank ", in->size(), " does not match ",
                     ns, " spatial axes of the kernel (expected rank ",
                     ns + 2, ")");
    channels = (*in)[1];
    if (channels % group != 0)
      return I.error("group ", group, " does not divide input channels ",
                     channels);
  }
  // Weight blob: conv [num_output, C/group, k...]; deconv
  // [C, num_output/group, k...].
  Shape wExpected;
  if (deconv)
    wExpected = {channels, numOutput / group};
  else
    wExpected = {numOutput, channels == kAny ? kAny : channels / group};
  wExpected.append(kernel.begin(), kernel.end());
  if (failed(I.expect(weight, wExpected, opName + " weight",
                      deconv ? " (channels, num_output/group, kernel...)"
                             : " (num_output, channels/group, kernel...)")))
    return failure();
  if (bias && failed(I.expect(bias, {numOutput}, opName + " bias",
                              " (num_output)")))
    return failure();
  if (!in)
    return I.unranked();

  Shape out = {(*in)[0], numOutput};
  SmallVector<int64_t> extents, padded;
  for (size_t i = 0; i < ns; ++i) {
    extents.push_back(dilation[i] * (kernel[i] - 1) + 1);
    padded.push_back((*in)[i + 2] + 2 * pad[i]);
  }
  for (size_t i = 0; i < ns; ++i) {
    int64_t o;
    if (deconv) {
      o = stride[i] * ((*in)[i + 2] - 1) + extents[i] - 2 * pad[i];
      if (o <= 0)
        return I.error("deconvolution output size ", o,
                       " is not positive at spatial axis ", i,
                       " (input ", (*in)[i + 2], ", kernel (dilated) ",
                       extents[i], ", stride ", stride[i], ", pad ", pad[i],
                       ")");
    } else {
      if (extents[i] > padded[i])
        return I.error("kernel (dilated) ", fmtX(extents),
                       " is larger than padded input ", fmtX(padded));
      o = (padded[i] - extents[i]) / stride[i] + 1;
    }
    out.push_back(o);
  }
  return I.shaped(out);
}

//===----------------------------------------------------------------------===//
// Scale / Bias broadcasting (scale_layer.cpp, bias_layer.cpp)
//===----------------------------------------------------------------------===//

LogicalResult checkBroadcastOperand(Inference &I, StringRef what, Value x,
                                    Value operand, int64_t axis,
                                    int64_t numAxes) {
  if (numAxes < -1)
    return I.error("num_axes must be non-negative, or -1 to extend to the end "
                   "of the input, got ",
                   numAxes);
  auto xs = staticShape(x);
  auto ps = staticShape(operand);
  if (!xs || !ps)
    return success();
  int64_t rank = xs->size();
  int64_t a = 0;
  // Caffe: a scalar (0-axis) operand ignores axis. With num_axes 0 the
  // learned scalar may also be stored as [1] (what the importer creates).
  if (ps->empty() || (numAxes == 0 && ps->size() == 1 && (*ps)[0] == 1))
    return success();
  if (!canonicalAxis(axis, rank, a))
    return I.error(what, " axis ", axis, " out of range for rank ", rank);
  if (a + (int64_t)ps->size() > rank)
    return I.error(what, " shape ", fmtShape(*ps),
                   " extends past the input shape ", fmtShape(*xs),
                   " when applied from axis ", a);
  for (size_t i = 0; i < ps->size(); ++i)
    if ((*ps)[i] != (*xs)[a + i])
      return I.error(what, " shape ", fmtShape(*ps),
                     " does not match input shape ", fmtShape(*xs),
                     " at axis ", a + i);
  return success();
}

//===----------------------------------------------------------------------===//
// Losses (loss_layer.cpp: bottom[0] and bottom[1] share the first dimension)
//===----------------------------------------------------------------------===//

LogicalResult checkSameNum(Inference &I, StringRef what, Value a, Value b) {
  auto as = staticShape(a), bs = staticShape(b);
  if (!as || !bs)
    return success();
  if (as->empty() || bs->empty())
    return I.error(what, " inputs must have at least one axis");
  if ((*as)[0] != (*bs)[0])
    return I.error(what, ": the data and label should have the same first "
                         "dimension, got ",
                   fmtShape(*as), " and ", fmtShape(*bs));
  return success();
}

/// outer * inner of `logits` around `axis` must equal the label count
/// (softmax_loss_layer.cpp, accuracy_layer.cpp).
LogicalResult checkLabelCount(Inference &I, StringRef what, Value logits,
                              Value label, int64_t axis, int64_t &axisOut) {
  auto ls = staticShape(logits), lb = staticShape(label);
  axisOut = -1;
  if (!ls)
    return success();
  int64_t rank = ls->size();
  if (!canonicalAxis(axis, rank, axisOut))
    return I.error(what, " axis ", axis, " out of range for rank ", rank);
  if (!lb)
    return success();
  int64_t outer = product(ArrayRef<int64_t>(*ls).take_front(axisOut));
  int64_t inner = product(ArrayRef<int64_t>(*ls).drop_front(axisOut + 1));
  if (outer * inner != product(*lb))
    return I.error(what, ": number of labels ", product(*lb), " (label shape ",
                   fmtShape(*lb), ") must match outer * inner = ",
                   outer * inner, " of logits ", fmtShape(*ls), " at axis ",
                   axisOut);
  return success();
}

const StringRef kNormalizations[] = {"full", "valid", "batch_size", "none"};

} // namespace

//===----------------------------------------------------------------------===//
// Shared verification entry points
//===----------------------------------------------------------------------===//

bool mlir::dl::detail::areCompatibleResultTypes(TypeRange inferred,
                                                TypeRange actual) {
  if (inferred.size() != actual.size())
    return false;
  for (auto [a, b] : llvm::zip(inferred, actual)) {
    auto ta = dyn_cast<TensorType>(a), tb = dyn_cast<TensorType>(b);
    if (!ta || !tb || ta.getElementType() != tb.getElementType())
      return false;
    if (!ta.hasRank() || !tb.hasRank())
      continue;
    if (failed(verifyCompatibleShape(ta, tb)))
      return false;
  }
  return true;
}

LogicalResult mlir::dl::detail::inferResultTypes(Operation *op,
                                                 SmallVectorImpl<Type> &types) {
  types.clear();
  if (auto slice = dyn_cast<SliceOp>(op)) {
    types.assign(op->getResultTypes().begin(), op->getResultTypes().end());
    return SliceOp::refineReturnTypes(
        op->getContext(), op->getLoc(), op->getOperands(),
        op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
        op->getRegions(), types);
  }
  auto iface = dyn_cast<InferTypeOpInterface>(op);
  if (!iface)
    return op->emitError("'")
           << op->getName() << "' does not implement type inference";
  return iface.inferReturnTypes(op->getContext(), op->getLoc(),
                                op->getOperands(), op->getRawDictionaryAttrs(),
                                op->getPropertiesStorage(), op->getRegions(),
                                types);
}

LogicalResult mlir::dl::detail::verifyResultTypesByInference(Operation *op) {
  SmallVector<Type> inferred;
  if (failed(inferResultTypes(op, inferred)))
    return failure();
  if (!areCompatibleResultTypes(inferred, op->getResultTypes())) {
    auto diag = op->emitOpError("result type(s) ");
    llvm::interleaveComma(op->getResultTypes(), diag);
    diag << " incompatible with the inferred type(s) ";
    llvm::interleaveComma(inferred, diag);
    return diag;
  }
  return success();
}

LogicalResult mlir::dl::inferAndSetResultTypes(Operation *op) {
  if (!isa<InferTypeOpInterface>(op)) {
    if (op->getName().isRegistered() && isa<ParamOp>(op))
      return op->getName().verifyInvariants(op);
    return op->emitError("'") << op->getName()
                              << "' does not implement type inference";
  }
  // Verify the op with unranked results (checks attribute types and values
  // and the shape rules on the current operands), then set the inferred
  // types. The old types are restored on failure.
  SmallVector<Type> old(op->getResultTypes());
  Type unranked = UnrankedTensorType::get(Float32Type::get(op->getContext()));
  for (OpResult r : op->getResults())
    r.setType(unranked);
  SmallVector<Type> types;
  if (failed(op->getName().verifyInvariants(op)) ||
      failed(detail::inferResultTypes(op, types)) ||
      types.size() != op->getNumResults()) {
    for (auto [r, t] : llvm::zip(op->getResults(), old))
      r.setType(t);
    return failure();
  }
  for (auto [r, t] : llvm::zip(op->getResults(), types))
    r.setType(t);
  return success();
}

//===----------------------------------------------------------------------===//
// dl.param
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  static const llvm::StringLiteral types[] = {
      "constant", "gaussian", "xavier", "msra", "uniform", "positive_unitball",
      "bilinear"};
  static const llvm::StringLiteral norms[] = {"fan_in", "fan_out", "average"};
  DictionaryAttr filler = getFiller();
  auto type = filler.getAs<StringAttr>("type");
  if (!type)
    return emitOpError("filler must have a string 'type'");
  if (!llvm::is_contained(types, type.getValue()))
    return emitOpError("filler type \"")
           << type.getValue()
           << "\" is not one of constant, gaussian, xavier, msra, uniform, "
              "positive_unitball, bilinear";
  std::optional<double> minV, maxV;
  for (NamedAttribute entry : filler) {
    StringRef key = entry.getName().getValue();
    Attribute value = entry.getValue();
    if (key == "type")
      continue;
    if (key == "variance_norm") {
      auto s = dyn_cast<StringAttr>(value);
      if (!s || !llvm::is_contained(norms, s.getValue()))
        return emitOpError("filler variance_norm must be one of \"fan_in\", "
                           "\"fan_out\", \"average\"");
      continue;
    }
    if (key == "sparse") {
      if (!isa<IntegerAttr>(value))
        return emitOpError("filler sparse must be an integer");
      continue;
    }
    if (key == "value" || key == "min" || key == "max" || key == "mean" ||
        key == "std") {
      double v;
      if (auto f = dyn_cast<FloatAttr>(value))
        v = f.getValueAsDouble();
      else if (auto i = dyn_cast<IntegerAttr>(value))
        v = (double)i.getInt();
      else
        return emitOpError("filler ") << key << " must be a number";
      if (key == "min")
        minV = v;
      if (key == "max")
        maxV = v;
      if (key == "std" && v < 0)
        return emitOpError("filler std must be non-negative");
      continue;
    }
    return emitOpError("unknown filler key '") << key << "'";
  }
  if (type.getValue() == "uniform" && minV.value_or(0) > maxV.value_or(1))
    return emitOpError("uniform filler needs min <= max");
  return success();
}

//===----------------------------------------------------------------------===//
// Vision ops
//===----------------------------------------------------------------------===//

#define DL_INFER_BEGIN()                                                       \
  Inference I{context, location, inferredReturnTypes};                         \
  if (failed(checkAttributes(context, location, adaptor)))                     \
    return failure();

LogicalResult ConvolutionOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  return inferConvLike(I, /*deconv=*/false, adaptor.getInput(),
                       adaptor.getWeight(), adaptor.getBias(),
                       (int64_t)adaptor.getNumOutput(), adaptor.getKernel(),
                       adaptor.getStride(), adaptor.getPad(),
                       adaptor.getDilation(), (int64_t)adaptor.getGroup());
}

LogicalResult DeconvolutionOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  return inferConvLike(I, /*deconv=*/true, adaptor.getInput(),
                       adaptor.getWeight(), adaptor.getBias(),
                       (int64_t)adaptor.getNumOutput(), adaptor.getKernel(),
                       adaptor.getStride(), adaptor.getPad(),
                       adaptor.getDilation(), (int64_t)adaptor.getGroup());
}

LogicalResult InnerProductOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  int64_t numOutput = adaptor.getNumOutput();
  bool transpose = adaptor.getTranspose();
  if (numOutput <= 0)
    return I.error("num_output must be positive, got ", numOutput);
  auto in = staticShape(adaptor.getInput());
  int64_t k = kAny, axis = 0, rawAxis = adaptor.getAxis();
  if (in) {
    if (!canonicalAxis(rawAxis, in->size(), axis))
      return I.error("inner_product axis ", rawAxis, " out of range for rank ",
                     in->size());
    k = product(ArrayRef<int64_t>(*in).drop_front(axis));
  }
  if (auto w = staticShape(adaptor.getWeight())) {
    Shape expected = transpose ? Shape{k, numOutput} : Shape{numOutput, k};
    bool ok = w->size() == 2 && (expected[0] == kAny || expected[0] == (*w)[0]) &&
              (expected[1] == kAny || expected[1] == (*w)[1]);
    if (!ok)
      return I.error("inner_product weight shape ", fmtShape(*w),
                     " does not match num_output ", numOutput,
                     " and input size ", k == kAny ? std::string("?")
                                                   : std::to_string(k),
                     " (axis ", rawAxis, ")",
                     transpose ? " with transpose" : "");
  }
  if (adaptor.getBias() &&
      failed(I.expect(adaptor.getBias(), {numOutput}, "inner_product bias",
                      " (num_output)")))
    return failure();
  if (!in)
    return I.unranked();
  Shape out(in->begin(), in->begin() + axis);
  out.push_back(numOutput);
  return I.shaped(out);
}

LogicalResult PoolingOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  StringRef pool = adaptor.getPool();
  if (failed(checkOneOf(I, "pool", pool, {"max", "ave", "stochastic"})) ||
      failed(checkOneOf(I, "round_mode", adaptor.getRoundMode(),
                        {"ceil", "floor"})))
    return failure();
  bool global = adaptor.getGlobalPooling();
  SmallVector<int64_t> kernel, stride, pad;
  if (global) {
    // The kernel is the input's spatial size; it may be given as empty or
    // as [0, 0] ("unspecified", what the importer writes), nothing else.
    if (!llvm::all_of(adaptor.getKernel(), [](int64_t k) { return k == 0; }) ||
        (adaptor.getKernel().size() != 0 && adaptor.getKernel().size() != 2))
      return I.error("with global_pooling the kernel size cannot be "
                     "specified (kernel must be empty or [0, 0])");
  } else {
    if (adaptor.getKernel().size() != 2)
      return I.error("pooling kernel must have 2 entries (kernel_h, "
                     "kernel_w), got ",
                     adaptor.getKernel().size());
    if (failed(spatialVector(I, "kernel", adaptor.getKernel(), 2, 1, 1,
                             kernel)))
      return failure();
  }
  if (failed(spatialVector(I, "stride", adaptor.getStride(), 2, 1, 1,
                           stride)) ||
      failed(spatialVector(I, "pad", adaptor.getPad(), 2, 0, 0, pad)))
    return failure();
  if (global && (pad[0] != 0 || pad[1] != 0 || stride[0] != 1 ||
                 stride[1] != 1))
    return I.error("with global_pooling only pad = 0 and stride = 1 are "
                   "allowed");
  if (pad[0] != 0 || pad[1] != 0) {
    if (pool == "stochastic")
      return I.error("padding is implemented only for average and max "
                     "pooling");
    if (!global && (pad[0] >= kernel[0] || pad[1] >= kernel[1]))
      return I.error("pad ", fmtX(pad), " must be smaller than kernel ",
                     fmtX(kernel));
  }
  auto in = staticShape(adaptor.getInput());
  if (!in)
    return I.unranked();
  if (in->size() != 4)
    return I.error("pooling input must have 4 axes (num, channels, height, "
                   "width), got rank ",
                   in->size());
  if (global)
    return I.shaped({(*in)[0], (*in)[1], 1, 1});
  bool ceil = adaptor.getRoundMode() == "ceil";
  SmallVector<int64_t> padded = {(*in)[2] + 2 * pad[0], (*in)[3] + 2 * pad[1]};
  if (kernel[0] > padded[0] || kernel[1] > padded[1])
    return I.error("kernel ", fmtX(kernel), " is larger than padded input ",
                   fmtX(padded));
  Shape out = {(*in)[0], (*in)[1]};
  for (int i = 0; i < 2; ++i) {
    int64_t span = padded[i] - kernel[i];
    int64_t o = (ceil ? (span + stride[i] - 1) / stride[i] : span / stride[i]) + 1;
    // Caffe: make sure the last pooling window starts inside the image.
    if ((pad[0] != 0 || pad[1] != 0) && (o - 1) * stride[i] >= (*in)[2 + i] + pad[i])
      --o;
    out.push_back(o);
  }
  return I.shaped(out);
}

LogicalResult LRNOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  if (failed(checkOneOf(I, "norm_region", adaptor.getNormRegion(),
                        {"across_channels", "within_channel"})))
    return failure();
  int64_t size = adaptor.getLocalSize();
  if (size <= 0 || size % 2 != 1)
    return I.error("LRN only supports odd positive values for local_size, "
                   "got ",
                   size);
  if (auto in = staticShape(adaptor.getInput()); in && in->size() != 4)
    return I.error("lrn input must have 4 axes (num, channels, height, "
                   "width), got rank ",
                   in->size());
  return I.same(adaptor.getInput());
}

//===----------------------------------------------------------------------===//
// Neuron ops
//===----------------------------------------------------------------------===//

#define DL_SAME_SHAPE_OP(OP)                                                   \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *context, std::optional<Location> location, Adaptor adaptor, \
      SmallVectorImpl<Type> &inferredReturnTypes) {                            \
    DL_INFER_BEGIN();                                                          \
    return I.same(adaptor.getX());                                             \
  }
DL_SAME_SHAPE_OP(ReLUOp)
DL_SAME_SHAPE_OP(SigmoidOp)
DL_SAME_SHAPE_OP(TanHOp)
DL_SAME_SHAPE_OP(AbsValOp)
DL_SAME_SHAPE_OP(BNLLOp)
DL_SAME_SHAPE_OP(ELUOp)
DL_SAME_SHAPE_OP(PowerOp)
#undef DL_SAME_SHAPE_OP

LogicalResult DropoutOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  double ratio = adaptor.getRatio().convertToDouble();
  if (!(ratio >= 0.0 && ratio < 1.0))
    return I.error("dropout_ratio must be in [0, 1), got ", ratio);
  return I.same(adaptor.getX());
}

LogicalResult PReLUOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  auto xs = staticShape(adaptor.getX());
  auto ss = staticShape(adaptor.getSlope());
  if (xs && xs->size() < 2)
    return I.error("prelu input must have at least 2 axes, got rank ",
                   xs->size());
  if (ss) {
    if (adaptor.getChannelShared()) {
      if (ss->size() > 1 || product(*ss) != 1)
        return I.error("prelu slope shape ", fmtShape(*ss),
                       " must be [1] (or a scalar) with channel_shared");
    } else if (failed(I.expect(adaptor.getSlope(),
                               {xs ? (*xs)[1] : kAny}, "prelu slope",
                               " (channels)"))) {
      return failure();
    }
  }
  return I.same(adaptor.getX());
}

LogicalResult SoftmaxOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  int64_t axis = adaptor.getAxis(), a;
  if (auto xs = staticShape(adaptor.getX());
      xs && !canonicalAxis(axis, xs->size(), a))
    return I.error("softmax axis ", axis, " out of range for rank ",
                   xs->size());
  return I.same(adaptor.getX());
}

LogicalResult BatchNormOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  auto xs = staticShape(adaptor.getX());
  int64_t c = kAny;
  if (xs)
    c = xs->size() > 1 ? (*xs)[1] : 1;
  if (failed(I.expect(adaptor.getMean(), {c}, "batch_norm mean",
                      " (channels)")) ||
      failed(I.expect(adaptor.getVariance(), {c}, "batch_norm variance",
                      " (channels)")) ||
      failed(I.expect(adaptor.getScaleFactor(), {1},
                      "batch_norm scale_factor")))
    return failure();
  return I.same(adaptor.getX());
}

LogicalResult ScaleOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  if (failed(checkBroadcastOperand(I, "scale", adaptor.getX(),
                                   adaptor.getScale(), adaptor.getAxis(),
                                   adaptor.getNumAxes())))
    return failure();
  if (Value bias = adaptor.getBias()) {
    auto ss = staticShape(adaptor.getScale());
    if (ss && failed(I.expect(bias, *ss, "scale bias", " (the scale's shape)")))
      return failure();
  }
  return I.same(adaptor.getX());
}

LogicalResult BiasOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  if (failed(checkBroadcastOperand(I, "bias", adaptor.getX(),
                                   adaptor.getBias(), adaptor.getAxis(),
                                   adaptor.getNumAxes())))
    return failure();
  return I.same(adaptor.getX());
}

//===----------------------------------------------------------------------===//
// Structural ops
//===----------------------------------------------------------------------===//

StringRef EltwiseOp::getOperationKind() {
  if (auto s = (*this)->getAttrOfType<StringAttr>("operation"))
    return s.getValue();
  return "sum";
}

LogicalResult EltwiseOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  // `operation` is not an ODS argument (see DLOps.td); check it here.
  StringRef operation = "sum";
  if (DictionaryAttr attrs = adaptor.getAttributes()) {
    if (Attribute a = attrs.get("operation")) {
      auto s = dyn_cast<StringAttr>(a);
      if (!s)
        return I.error("eltwise operation must be a string attribute");
      operation = s.getValue();
    }
  }
  if (failed(checkOneOf(I, "eltwise operation", operation,
                        {"prod", "sum", "max"})))
    return failure();
  ValueRange inputs = adaptor.getInputs();
  if (inputs.size() < 2)
    return I.error("eltwise needs at least 2 inputs, got ", inputs.size());
  ArrayRef<double> coeff = adaptor.getCoeff();
  if (!coeff.empty() && operation != "sum")
    return I.error("eltwise only takes coefficients for summation");
  if (!coeff.empty() && coeff.size() != inputs.size())
    return I.error("eltwise takes one coefficient per input: got ",
                   coeff.size(), " coefficients for ", inputs.size(),
                   " inputs");
  if (!allStatic(inputs))
    return I.unranked();
  Shape first = *staticShape(inputs[0]);
  for (Value v : inputs.drop_front())
    if (*staticShape(v) != first)
      return I.error("eltwise operands must have identical shapes, got ",
                     fmtShape(first), " and ", fmtShape(*staticShape(v)));
  return I.shaped(first);
}

LogicalResult ConcatOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return I.error("concat needs at least 1 input");
  if (!allStatic(inputs))
    return I.unranked();
  Shape out = *staticShape(inputs[0]);
  int64_t rank = out.size(), rawAxis = adaptor.getAxis(), axis;
  if (!canonicalAxis(rawAxis, rank, axis))
    return I.error("concat axis ", rawAxis, " out of range for rank ", rank);
  for (auto [i, v] : llvm::enumerate(inputs.drop_front())) {
    Shape s = *staticShape(v);
    if ((int64_t)s.size() != rank)
      return I.error("concat inputs must have the same rank: input ", i + 1,
                     " ", fmtShape(s), " vs input 0 ", fmtShape(out));
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && s[d] != out[d])
        return I.error("concat input ", i + 1, " shape ", fmtShape(s),
                       " does not match input 0 shape ",
                       fmtShape(*staticShape(inputs[0])),
                       " outside the concat axis ", axis);
    out[axis] += s[axis];
  }
  return I.shaped(out);
}

namespace {
LogicalResult inferSlice(Inference &I, SliceOp::Adaptor adaptor,
                         size_t numResults) {
  ArrayRef<int64_t> points = adaptor.getSlicePoints();
  if (!points.empty() && points.size() + 1 != numResults)
    return I.error("slice with ", points.size(), " slice_points has ",
                   points.size() + 1, " outputs, got ", numResults);
  if (numResults == 0)
    return I.error("slice needs at least one output");
  auto xs = staticShape(adaptor.getX());
  if (!xs) {
    for (size_t i = 0; i < numResults; ++i)
      (void)I.unranked();
    return success();
  }
  int64_t rank = xs->size(), rawAxis = adaptor.getAxis(), axis;
  if (!canonicalAxis(rawAxis, rank, axis))
    return I.error("slice axis ", rawAxis, " out of range for rank ", rank);
  int64_t dim = (*xs)[axis];
  SmallVector<int64_t> sizes;
  if (points.empty()) {
    if (dim % (int64_t)numResults != 0)
      return I.error("slice axis ", axis, " dimension ", dim,
                     " is not divisible into ", numResults, " equal parts");
    sizes.assign(numResults, dim / numResults);
  } else {
    int64_t prev = 0;
    for (int64_t p : points) {
      if (p <= prev || p >= dim)
        return I.error("slice points must be strictly increasing and inside "
                       "(0, ",
                       dim, "), got ", fmtShape(points));
      sizes.push_back(p - prev);
      prev = p;
    }
    sizes.push_back(dim - prev);
  }
  for (int64_t s : sizes) {
    Shape out = *xs;
    out[axis] = s;
    (void)I.shaped(out);
  }
  return success();
}
} // namespace

LogicalResult SliceOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  Adaptor adaptor(operands, attributes, properties, regions);
  DL_INFER_BEGIN();
  if (adaptor.getSlicePoints().empty())
    return I.error("slice with empty slice_points splits into as many equal "
                   "parts as it has results; the count is not inferable "
                   "from operands (use refineReturnTypes)");
  return inferSlice(I, adaptor, adaptor.getSlicePoints().size() + 1);
}

LogicalResult SliceOp::refineReturnTypes(
    MLIRContext *context, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &returnTypes) {
  Adaptor adaptor(operands, attributes, properties, regions);
  SmallVector<Type> inferredReturnTypes;
  DL_INFER_BEGIN();
  if (failed(inferSlice(I, adaptor, returnTypes.size())))
    return failure();
  if (!isCompatibleReturnTypes(inferredReturnTypes, returnTypes))
    return I.error("'dl.slice' op inferred types are incompatible with its "
                   "result types");
  returnTypes.assign(inferredReturnTypes.begin(), inferredReturnTypes.end());
  return success();
}

bool SliceOp::isCompatibleReturnTypes(TypeRange l, TypeRange r) {
  return detail::areCompatibleResultTypes(l, r);
}

LogicalResult SliceOp::verify() {
  return detail::verifyResultTypesByInference(getOperation());
}

LogicalResult CropOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  ArrayRef<int64_t> offset = adaptor.getOffset();
  for (int64_t o : offset)
    if (o < 0)
      return I.error("crop offset must be non-negative, got ", o);
  auto xs = staticShape(adaptor.getX());
  auto rs = staticShape(adaptor.getReference());
  if (!xs || !rs)
    return I.unranked();
  int64_t rank = xs->size(), rawAxis = adaptor.getAxis(), axis;
  if ((int64_t)rs->size() != rank)
    return I.error("crop input ", fmtShape(*xs), " and reference ",
                   fmtShape(*rs), " must have the same rank");
  if (!canonicalAxis(rawAxis, rank, axis))
    return I.error("crop axis ", rawAxis, " out of range for rank ", rank);
  if (offset.size() > 1 && (int64_t)offset.size() != rank - axis)
    return I.error("crop needs 0, 1 or ", rank - axis,
                   " offsets (one per axis from ", axis, "), got ",
                   offset.size());
  Shape out = *xs;
  for (int64_t i = axis; i < rank; ++i) {
    int64_t off = offset.empty() ? 0
                  : offset.size() == 1 ? offset[0]
                                       : offset[i - axis];
    if ((*xs)[i] - off < (*rs)[i])
      return I.error("crop: input size ", (*xs)[i], " at axis ", i,
                     " minus offset ", off, " is smaller than the reference "
                     "size ",
                     (*rs)[i]);
    out[i] = (*rs)[i];
  }
  return I.shaped(out);
}

LogicalResult FlattenOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  auto xs = staticShape(adaptor.getX());
  if (!xs)
    return I.unranked();
  int64_t rank = xs->size(), start, end;
  if (!canonicalAxis(adaptor.getAxis(), rank, start))
    return I.error("flatten axis ", (int64_t)adaptor.getAxis(),
                   " out of range for rank ", rank);
  if (!canonicalAxis(adaptor.getEndAxis(), rank, end))
    return I.error("flatten end_axis ", (int64_t)adaptor.getEndAxis(),
                   " out of range for rank ", rank);
  if (end < start)
    return I.error("flatten end_axis ", end, " is before axis ", start);
  ArrayRef<int64_t> s(*xs);
  Shape out(s.take_front(start));
  out.push_back(product(s.slice(start, end - start + 1)));
  out.append(s.begin() + end + 1, s.end());
  return I.shaped(out);
}

LogicalResult ReshapeOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  ArrayRef<int64_t> shape = adaptor.getShape();
  int64_t inferredAxis = -1, constantCount = 1;
  SmallVector<int64_t> copyAxes;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (d == 0) {
      copyAxes.push_back(i);
    } else if (d == -1) {
      if (inferredAxis != -1)
        return I.error("new shape contains multiple -1 dims; at most a single "
                       "(1) value of -1 may be specified");
      inferredAxis = i;
    } else if (d < -1) {
      return I.error("reshape dimension ", d,
                     " is invalid (use 0 to copy, -1 to infer)");
    } else {
      constantCount *= d;
    }
  }
  int64_t numAxesAttr = adaptor.getNumAxes();
  if (numAxesAttr < -1)
    return I.error("reshape num_axes must be >= 0, or -1 for all, got ",
                   numAxesAttr);
  auto xs = staticShape(adaptor.getX());
  if (!xs)
    return I.unranked();
  int64_t rank = xs->size(), inputStart = adaptor.getAxis();
  int64_t start = inputStart >= 0 ? inputStart : rank + inputStart + 1;
  if (start < 0 || start > rank)
    return I.error("reshape axis ", inputStart, " out of range for rank ",
                   rank);
  int64_t end = numAxesAttr == -1 ? rank : start + numAxesAttr;
  if (end > rank)
    return I.error("reshape end_axis = axis + num_axes = ", end,
                   " is out of range for rank ", rank);
  ArrayRef<int64_t> s(*xs);
  Shape out(s.take_front(start));
  out.append(shape.begin(), shape.end());
  out.append(s.begin() + end, s.end());
  for (int64_t c : copyAxes) {
    if (start + c >= rank)
      return I.error("new shape contains a 0, but there was no "
                     "corresponding bottom axis to copy");
    out[start + c] = s[start + c];
  }
  int64_t count = product(s);
  if (inferredAxis >= 0) {
    int64_t explicitCount = constantCount * product(s.take_front(start)) *
                            product(s.drop_front(end));
    for (int64_t c : copyAxes)
      explicitCount *= out[start + c];
    if (explicitCount == 0 || count % explicitCount != 0)
      return I.error("bottom count (", count,
                     ") must be divisible by the product of the specified "
                     "dimensions (",
                     explicitCount, ")");
    out[start + inferredAxis] = count / explicitCount;
  }
  if (product(out) != count)
    return I.error("reshape output count ", product(out), " (shape ",
                   fmtShape(out), ") must match input count ", count);
  return I.shaped(out);
}

LogicalResult EmbedOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  int64_t n = adaptor.getNumOutput(), k = adaptor.getInputDim();
  if (n <= 0)
    return I.error("embed num_output must be positive, got ", n);
  if (k <= 0)
    return I.error("embed input_dim must be positive, got ", k);
  if (failed(I.expect(adaptor.getWeight(), {k, n}, "embed weight",
                      " (input_dim, num_output)")) ||
      (adaptor.getBias() && failed(I.expect(adaptor.getBias(), {n},
                                            "embed bias", " (num_output)"))))
    return failure();
  auto xs = staticShape(adaptor.getIndices());
  if (!xs)
    return I.unranked();
  Shape out = *xs;
  out.push_back(n);
  return I.shaped(out);
}

LogicalResult LSTMOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  int64_t h = adaptor.getNumOutput();
  if (h <= 0)
    return I.error("lstm num_output must be positive, got ", h);
  if (adaptor.getExposeHidden())
    return I.error("lstm expose_hidden (extra h0/c0 inputs and hT/cT "
                   "outputs) is not supported");
  if (!adaptor.getXStatic() != !adaptor.getWXcStatic())
    return I.error("lstm x_static and w_xc_static must be given together");
  auto xs = staticShape(adaptor.getX());
  if (xs && xs->size() < 2)
    return I.error("lstm x must have at least 2 axes (#timesteps, #streams, "
                   "...), got rank ",
                   xs->size());
  int64_t t = xs ? (*xs)[0] : kAny, n = xs ? (*xs)[1] : kAny;
  int64_t in = xs ? product(ArrayRef<int64_t>(*xs).drop_front(2)) : kAny;
  if (failed(I.expect(adaptor.getCont(), {t, n}, "lstm cont",
                      " (#timesteps, #streams)")) ||
      failed(I.expect(adaptor.getWXc(), {4 * h, in}, "lstm w_xc",
                      " (4 * num_output, input size)")) ||
      failed(I.expect(adaptor.getBC(), {4 * h}, "lstm b_c",
                      " (4 * num_output)")) ||
      failed(I.expect(adaptor.getWHc(), {4 * h, h}, "lstm w_hc",
                      " (4 * num_output, num_output)")))
    return failure();
  if (Value xStatic = adaptor.getXStatic()) {
    auto ss = staticShape(xStatic);
    if (ss && ss->empty())
      return I.error("lstm x_static must have at least 1 axis");
    if (ss && n != kAny && (*ss)[0] != n)
      return I.error("lstm x_static shape ", fmtShape(*ss),
                     " must have #streams ", n, " as its first dimension");
    int64_t sin = ss ? product(ArrayRef<int64_t>(*ss).drop_front(1)) : kAny;
    if (failed(I.expect(adaptor.getWXcStatic(), {4 * h, sin},
                        "lstm w_xc_static",
                        " (4 * num_output, static input size)")))
      return failure();
  }
  if (!xs)
    return I.unranked();
  return I.shaped({t, n, h});
}

LogicalResult SilenceOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  if (adaptor.getInputs().empty())
    return I.error("silence needs at least 1 input");
  return success();
}

//===----------------------------------------------------------------------===//
// Losses and accuracy
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxWithLossOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  int64_t axis;
  if (failed(checkOneOf(I, "normalization", adaptor.getNormalization(),
                        kNormalizations)) ||
      failed(checkSameNum(I, "softmax_with_loss", adaptor.getLogits(),
                          adaptor.getLabel())) ||
      failed(checkLabelCount(I, "softmax_with_loss", adaptor.getLogits(),
                             adaptor.getLabel(), adaptor.getAxis(), axis)))
    return failure();
  return I.scalar();
}

LogicalResult EuclideanLossOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  if (failed(checkSameNum(I, "euclidean_loss", adaptor.getA(),
                          adaptor.getB())))
    return failure();
  auto as = staticShape(adaptor.getA()), bs = staticShape(adaptor.getB());
  if (as && bs && product(*as) != product(*bs))
    return I.error("euclidean_loss inputs must have the same count, got ",
                   fmtShape(*as), " and ", fmtShape(*bs));
  return I.scalar();
}

LogicalResult SigmoidCrossEntropyLossOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  if (failed(checkOneOf(I, "normalization", adaptor.getNormalization(),
                        kNormalizations)) ||
      failed(checkSameNum(I, "sigmoid_cross_entropy_loss", adaptor.getX(),
                          adaptor.getTarget())))
    return failure();
  auto xs = staticShape(adaptor.getX()), ts = staticShape(adaptor.getTarget());
  if (xs && ts && product(*xs) != product(*ts))
    return I.error("sigmoid_cross_entropy_loss inputs must have the same "
                   "count, got ",
                   fmtShape(*xs), " and ", fmtShape(*ts));
  return I.scalar();
}

LogicalResult ContrastiveLossOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  if (failed(checkSameNum(I, "contrastive_loss", adaptor.getA(),
                          adaptor.getB())))
    return failure();
  auto as = staticShape(adaptor.getA()), bs = staticShape(adaptor.getB());
  auto ss = staticShape(adaptor.getSimilar());
  auto checkPair = [&](StringRef name, const std::optional<Shape> &s) {
    if (s && (s->size() < 2 || s->size() > 4 || legacyDim(*s, 2) != 1 ||
              legacyDim(*s, 3) != 1))
      return I.error("contrastive_loss ", name, " shape ", fmtShape(*s),
                     " must be [N, C] or [N, C, 1, 1]");
    return success();
  };
  if (failed(checkPair("a", as)) || failed(checkPair("b", bs)))
    return failure();
  if (as && bs && (*as)[1] != (*bs)[1])
    return I.error("contrastive_loss a and b must have the same channels, "
                   "got ",
                   fmtShape(*as), " and ", fmtShape(*bs));
  if (ss) {
    if (ss->empty() || ss->size() > 4 || legacyDim(*ss, 1) != 1 ||
        legacyDim(*ss, 2) != 1 || legacyDim(*ss, 3) != 1)
      return I.error("contrastive_loss similar shape ", fmtShape(*ss),
                     " must be [N] or [N, 1, 1, 1]");
    if (as && (*ss)[0] != (*as)[0])
      return I.error("contrastive_loss similar shape ", fmtShape(*ss),
                     " must have the batch size ", (*as)[0]);
  }
  return I.scalar();
}

LogicalResult AccuracyOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  DL_INFER_BEGIN();
  int64_t topK = adaptor.getTopK(), axis;
  if (topK <= 0)
    return I.error("accuracy top_k must be positive, got ", topK);
  if (failed(checkLabelCount(I, "accuracy", adaptor.getLogits(),
                             adaptor.getLabel(), adaptor.getAxis(), axis)))
    return failure();
  auto ls = staticShape(adaptor.getLogits()), lb = staticShape(adaptor.getLabel());
  if (ls && lb && product(*lb) > 0 && topK > product(*ls) / product(*lb))
    return I.error("accuracy top_k ", topK,
                   " must be less than or equal to the number of classes ",
                   product(*ls) / product(*lb));
  return I.scalar();
}

#define GET_OP_CLASSES
#include "dlc/Dialect/DL/IR/DLOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

static LogicalResult verifyBackwardOp(Operation *op, StringRef forward, int64_t numForward,
                                      ArrayRef<int64_t> wrt) {
  int64_t n = op->getNumOperands();
  if (forward.empty() || forward.starts_with("dl.") || forward == "param")
    return op->emitOpError() << "forward must name a dl op without the prefix, got '"
                             << forward << "'";
  if (numForward < 1 || numForward > n || (n - numForward) % 2 != 0)
    return op->emitOpError() << "expects the " << numForward
                             << " forward operands, the forward results and one gradient "
                                "per result; got "
                             << n << " operands";
  int64_t numResults = (n - numForward) / 2;
  for (int64_t r = 0; r < numResults; ++r)
    if (op->getOperand(numForward + r).getType() !=
        op->getOperand(numForward + numResults + r).getType())
      return op->emitOpError() << "gradient of forward result " << r
                               << " must have the result's type";
  if (wrt.empty())
    return op->emitOpError("wrt must name at least one forward operand");
  if (int64_t(wrt.size()) != int64_t(op->getNumResults()))
    return op->emitOpError() << "has " << op->getNumResults() << " results for " << wrt.size()
                             << " wrt entries";
  for (auto [i, w] : llvm::enumerate(wrt)) {
    if (w < 0 || w >= numForward || (i > 0 && wrt[i - 1] >= w))
      return op->emitOpError() << "wrt must be ascending forward operand indices in [0, "
                               << numForward << ")";
    if (op->getResult(i).getType() != op->getOperand(w).getType())
      return op->emitOpError() << "gradient " << i << " must have the type of forward operand "
                               << w;
  }
  return success();
}

LogicalResult BackwardDataOp::verify() {
  return verifyBackwardOp(*this, getForward(), getNumForwardOperands(), getWrt());
}

LogicalResult BackwardWeightsOp::verify() {
  return verifyBackwardOp(*this, getForward(), getNumForwardOperands(), getWrt());
}

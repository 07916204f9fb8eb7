// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Verification and type inference of the dl ops. The shape rule of every
// layer op lives in the op library (lib/Ops, shared with the runtime): this
// file converts between MLIR values/attributes and the library's shapes and
// attribute maps, and verifies dl.param and the backward ops.

#include "dlc/Dialect/DL/IR/DLOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

#include "llvm/ADT/STLExtras.h"

#include <string>

using namespace mlir;
using namespace mlir::dl;
namespace ops = dlc::ops;

//===----------------------------------------------------------------------===//
// The bridge to the op library
//===----------------------------------------------------------------------===//

LogicalResult mlir::dl::toAttrMap(DictionaryAttr attrs, ops::AttrMap &out, std::string *bad) {
  if (!attrs)
    return success();
  for (NamedAttribute na : attrs) {
    StringRef n = na.getName().getValue();
    if (n.starts_with("dl.") || n == "operandSegmentSizes")
      continue;
    Attribute a = na.getValue();
    if (auto b = dyn_cast<BoolAttr>(a))
      out.set(n.str(), int64_t(b.getValue() ? 1 : 0));
    else if (auto i = dyn_cast<IntegerAttr>(a))
      out.set(n.str(), int64_t(i.getValue().getSExtValue()));
    else if (auto f = dyn_cast<FloatAttr>(a))
      out.set(n.str(), f.getValueAsDouble());
    else if (auto s = dyn_cast<StringAttr>(a))
      out.set(n.str(), s.getValue().str());
    else if (auto v = dyn_cast<DenseI64ArrayAttr>(a))
      out.set(n.str(), std::vector<int64_t>(v.asArrayRef().begin(), v.asArrayRef().end()));
    else if (auto v = dyn_cast<DenseF64ArrayAttr>(a))
      out.set(n.str(), std::vector<double>(v.asArrayRef().begin(), v.asArrayRef().end()));
    else {
      if (bad)
        *bad = n.str();
      return failure();
    }
  }
  return success();
}

const ops::OpSchema *mlir::dl::getOpSchema(Operation *op) {
  StringRef name = op->getName().getStringRef();
  if (!name.consume_front("dl."))
    return nullptr;
  return ops::lookupOp(std::string_view(name.data(), name.size()));
}

static std::optional<std::vector<int32_t>> segmentsOf(DictionaryAttr attrs) {
  if (!attrs)
    return std::nullopt;
  auto seg = attrs.getAs<DenseI32ArrayAttr>("operandSegmentSizes");
  if (!seg)
    return std::nullopt;
  return std::vector<int32_t>(seg.asArrayRef().begin(), seg.asArrayRef().end());
}

std::optional<ops::Role> mlir::dl::getOperandRole(Operation *op, unsigned index) {
  const ops::OpSchema *schema = getOpSchema(op);
  if (!schema)
    return std::nullopt;
  auto segments = segmentsOf(op->getRawDictionaryAttrs());
  ops::Role role;
  if (ops::operandRole(*schema, op->getNumOperands(), index, role,
                       segments ? &*segments : nullptr)
          .failed())
    return std::nullopt;
  return role;
}

std::optional<ops::Shape> mlir::dl::shapeOf(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t)
    return std::nullopt;
  ops::Shape s;
  for (int64_t d : t.getShape())
    s.push_back(ShapedType::isDynamic(d) ? ops::kAnyDim : d);
  return s;
}

static LogicalResult runRule(StringRef opName, MLIRContext *context,
                             std::optional<Location> location, ValueRange operands,
                             DictionaryAttr attributes, int numResults,
                             SmallVectorImpl<Type> &types) {
  StringRef bare = opName;
  bare.consume_front("dl.");
  const ops::OpSchema *schema = ops::lookupOp(std::string_view(bare.data(), bare.size()));
  if (!schema)
    return emitOptionalError(location, "'", opName, "' has no shape rule in the op library");
  ops::AttrMap attrs;
  std::string bad;
  if (failed(toAttrMap(attributes, attrs, &bad)))
    return emitOptionalError(location, "attribute '", bad,
                             "' has a kind the runtime cannot represent");
  std::vector<std::optional<ops::Shape>> shapes;
  for (Value v : operands)
    shapes.push_back(shapeOf(v));
  auto segments = segmentsOf(attributes);
  std::vector<std::optional<ops::Shape>> results;
  dlc::Status st = ops::inferShapes(*schema, attrs, shapes, numResults, results,
                                    segments ? &*segments : nullptr);
  if (st.failed())
    return emitOptionalError(location, st.message());
  Type f32 = Float32Type::get(context);
  types.clear();
  for (const auto &r : results) {
    if (!r) {
      types.push_back(UnrankedTensorType::get(f32));
      continue;
    }
    SmallVector<int64_t> dims;
    for (int64_t d : *r)
      dims.push_back(d == ops::kAnyDim ? ShapedType::kDynamic : d);
    types.push_back(RankedTensorType::get(dims, f32));
  }
  return success();
}

LogicalResult mlir::dl::detail::inferLayerResultTypes(StringRef opName, MLIRContext *context,
                                            std::optional<Location> location,
                                            ValueRange operands, DictionaryAttr attributes,
                                            int numResults, SmallVectorImpl<Type> &types) {
  return runRule(opName, context, location, operands, attributes, numResults, types);
}

LogicalResult mlir::dl::detail::refineLayerResultTypes(StringRef opName, MLIRContext *context,
                                             std::optional<Location> location,
                                             ValueRange operands, DictionaryAttr attributes,
                                             SmallVectorImpl<Type> &types) {
  SmallVector<Type> inferred;
  if (failed(runRule(opName, context, location, operands, attributes, int(types.size()),
                     inferred)))
    return failure();
  if (!mlir::dl::detail::areCompatibleResultTypes(inferred, types))
    return emitOptionalError(location, "'", opName,
                             "' op inferred types are incompatible with its result types");
  types.assign(inferred.begin(), inferred.end());
  return success();
}

//===----------------------------------------------------------------------===//
// Shared verification entry points
//===----------------------------------------------------------------------===//

bool mlir::dl::detail::areCompatibleResultTypes(TypeRange inferred, TypeRange actual) {
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

LogicalResult mlir::dl::detail::inferResultTypes(Operation *op, SmallVectorImpl<Type> &types) {
  types.clear();
  auto iface = dyn_cast<InferTypeOpInterface>(op);
  if (!iface)
    return op->emitError("'") << op->getName() << "' does not implement type inference";
  const ops::OpSchema *schema = getOpSchema(op);
  if (schema && schema->numResults < 0) {
    // Variadic results: refine the existing ones.
    types.assign(op->getResultTypes().begin(), op->getResultTypes().end());
    return iface.refineReturnTypes(op->getContext(), op->getLoc(), op->getOperands(),
                                   op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
                                   op->getRegions(), types);
  }
  return iface.inferReturnTypes(op->getContext(), op->getLoc(), op->getOperands(),
                                op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
                                op->getRegions(), types);
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
    return op->emitError("'") << op->getName() << "' does not implement type inference";
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
      failed(mlir::dl::detail::inferResultTypes(op, types)) || types.size() != op->getNumResults()) {
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
  static const llvm::StringLiteral types[] = {"constant", "gaussian", "xavier", "msra",
                                              "uniform", "positive_unitball", "bilinear"};
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
    if (key == "value" || key == "min" || key == "max" || key == "mean" || key == "std") {
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
  if (auto value = getValueAttr())
    if (cast<ShapedType>(value.getType()).getShape() != getType().getShape())
      return emitOpError("value has shape ")
             << value.getType() << ", the param is " << getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Layer ops with extra declarations
//===----------------------------------------------------------------------===//

StringRef EltwiseOp::getOperationKind() {
  if (auto s = (*this)->getAttrOfType<StringAttr>("operation"))
    return s.getValue();
  return "sum";
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

//===----------------------------------------------------------------------===//
// dl.fused
//===----------------------------------------------------------------------===//

LogicalResult FusedOp::verify() {
  Block &block = getBlock();
  if (block.getNumArguments() != getNumOperands())
    return emitOpError() << "region has " << block.getNumArguments() << " arguments for "
                         << getNumOperands() << " operands";
  for (auto [arg, operand] : llvm::zip(block.getArguments(), getOperands()))
    if (arg.getType() != operand.getType())
      return emitOpError() << "region argument " << arg.getArgNumber() << " has type "
                           << arg.getType() << ", its operand " << operand.getType();
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield)
    return emitOpError("region must end with dl.yield");
  if (yield.getNumOperands() != getNumResults())
    return emitOpError() << "yields " << yield.getNumOperands() << " values for "
                         << getNumResults() << " results";
  for (auto [v, r] : llvm::zip(yield.getOperands(), getResults()))
    if (v.getType() != r.getType())
      return emitOpError() << "result " << r.getResultNumber() << " has type " << r.getType()
                           << ", the region yields " << v.getType();
  for (Operation &op : block.without_terminator())
    if (!getOpSchema(&op) && !isa<BackwardDataOp, BackwardWeightsOp>(op))
      return op.emitOpError("cannot be fused: only dl layer ops and their backward ops run "
                            "inside dl.fused");
  return success();
}

std::optional<unsigned> mlir::dl::inPlaceOperand(Operation *op) {
  auto sameType = [&](Value v) { return v.getType() == op->getResult(0).getType(); };
  if (op->getNumResults() != 1 || op->getNumOperands() == 0)
    return std::nullopt;
  if (op->hasTrait<OpTrait::Pointwise>())
    return 0u;
  if (auto e = dyn_cast<EltwiseOp>(op))
    return e.getOperationKind() == "sum" && sameType(op->getOperand(0))
               ? std::optional<unsigned>(0u)
               : std::nullopt;
  auto fused = dyn_cast<FusedOp>(op);
  if (!fused)
    return std::nullopt;
  Block &block = fused.getBlock();
  // A gradient body (docs/fusion.md) reads its operands after writing
  // values of their shape: none may be overwritten.
  for (Operation &inner : block.without_terminator())
    if (isa<BackwardDataOp, BackwardWeightsOp>(inner))
      return std::nullopt;
  bool allPointwise = true;
  for (Operation &inner : block.without_terminator()) {
    allPointwise = allPointwise && inner.hasTrait<OpTrait::Pointwise>();
    auto e = dyn_cast<EltwiseOp>(inner);
    if (!e || e.getOperationKind() != "sum")
      continue;
    // The first block argument the sum adds (the other operand is the chain).
    for (Value v : inner.getOperands())
      if (auto arg = dyn_cast<BlockArgument>(v); arg && sameType(arg))
        return arg.getArgNumber();
  }
  if (allPointwise && sameType(op->getOperand(0)))
    return 0u;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Run-time sizes
//===----------------------------------------------------------------------===//

int64_t mlir::dl::dynamicSizeBound(Operation *root) {
  int64_t bound = 0;
  // In program order, so that a `?` operand (a filter of a filter's result)
  // counts with the bound found so far.
  root->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (!op->hasTrait<OpTrait::DataDependentShape>())
      return;
    for (OpResult r : op->getResults()) {
      auto rt = dyn_cast<RankedTensorType>(r.getType());
      if (!rt || r.getResultNumber() >= op->getNumOperands())
        continue;
      auto ot = dyn_cast<RankedTensorType>(op->getOperand(r.getResultNumber()).getType());
      if (!ot || ot.getRank() != rt.getRank())
        continue;
      for (int64_t d = 0; d < rt.getRank(); ++d)
        if (rt.isDynamicDim(d))
          bound = std::max(bound, ot.isDynamicDim(d) ? bound : ot.getDimSize(d));
    }
  });
  return bound;
}

SmallVector<int64_t> mlir::dl::maxShape(RankedTensorType type, int64_t bound) {
  SmallVector<int64_t> shape;
  for (int64_t d : type.getShape())
    shape.push_back(ShapedType::isDynamic(d) ? bound : d);
  return shape;
}

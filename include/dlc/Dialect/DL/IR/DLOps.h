// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Ops of the `dl` dialect, their traits, and the bridge to the op library
// (lib/Ops) whose shape rules and operand roles they use.

#ifndef DLC_DIALECT_DL_IR_DLOPS_H
#define DLC_DIALECT_DL_IR_DLOPS_H

#include "dlc/Dialect/DL/IR/DLDialect.h"
#include "dlc/Ops/OpSchema.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::dl::OpTrait {
/// DL_Loss: a loss layer; dl-autodiff seeds the gradient at its result.
template <typename ConcreteType>
class IsLoss : public ::mlir::OpTrait::TraitBase<ConcreteType, IsLoss> {};
/// DL_NoGradient: the layer has no backward pass.
template <typename ConcreteType>
class NoGradient : public ::mlir::OpTrait::TraitBase<ConcreteType, NoGradient> {};
/// DL_DataDependentShape: the results' leading size depends on operand values.
template <typename ConcreteType>
class DataDependentShape : public ::mlir::OpTrait::TraitBase<ConcreteType, DataDependentShape> {};
/// DL_Pointwise: element-wise unary op.
template <typename ConcreteType>
class Pointwise : public ::mlir::OpTrait::TraitBase<ConcreteType, Pointwise> {};
/// DL_JointBackward: one backward op computes every gradient (dl-autodiff).
template <typename ConcreteType>
class JointBackward : public ::mlir::OpTrait::TraitBase<ConcreteType, JointBackward> {};
} // namespace mlir::dl::OpTrait

namespace mlir::dl::detail {
/// Result-type compatibility used by every dl op: same count, and for each
/// pair either side unranked, or f32 tensors with compatible shapes.
bool areCompatibleResultTypes(TypeRange inferred, TypeRange actual);
/// Verifier shared by every layer op: runs the op's shape rule (reporting
/// Caffe-style errors at the op) and checks the declared result types are
/// compatible with the inferred ones.
llvm::LogicalResult verifyResultTypesByInference(Operation *op);
/// Infers the result types of a dl op from its current operands and
/// attributes (emitting errors at the op's location on failure).
llvm::LogicalResult inferResultTypes(Operation *op, llvm::SmallVectorImpl<Type> &types);
/// Checks the attribute dictionary against the op's ODS constraints
/// (attribute types, required ones present) before the shape rule reads it.
template <typename AdaptorT>
llvm::LogicalResult checkAttributes(MLIRContext *ctx, std::optional<Location> loc,
                                    AdaptorT &adaptor) {
  if (loc)
    return adaptor.verify(*loc);
  ScopedDiagnosticHandler silence(ctx, [](Diagnostic &) { return success(); });
  return adaptor.verify(UnknownLoc::get(ctx));
}
/// The layer op `opName`'s shape rule (lib/Ops) on `operands` (unranked or
/// dynamically shaped operands count as unknown) and `attributes`;
/// `numResults` is the number of results when known (-1 otherwise).
llvm::LogicalResult inferLayerResultTypes(StringRef opName, MLIRContext *context,
                                          std::optional<Location> location,
                                          ValueRange operands, DictionaryAttr attributes,
                                          int numResults, llvm::SmallVectorImpl<Type> &types);
/// The same for a layer op with a variadic number of results: refines the
/// existing `types` (their count is the op's result count).
llvm::LogicalResult refineLayerResultTypes(StringRef opName, MLIRContext *context,
                                           std::optional<Location> location,
                                           ValueRange operands, DictionaryAttr attributes,
                                           llvm::SmallVectorImpl<Type> &types);
} // namespace mlir::dl::detail

#define GET_OP_CLASSES
#include "dlc/Dialect/DL/IR/DLOps.h.inc"

namespace mlir::dl {
/// Recomputes the result types of `op` (an op implementing
/// InferTypeOpInterface, e.g. any dl op but dl.param) from its current
/// operand types and attributes, and sets them in place. The op is verified
/// first (attribute types/values, then Caffe's shape rules); on failure an
/// error is emitted at op->getLoc(), the result types are left unchanged and
/// failure is returned. For dl.param (no inference) it only verifies the op.
llvm::LogicalResult inferAndSetResultTypes(Operation *op);

/// Registers the dl dialect (and nothing else) in `registry`.
void registerDLDialect(DialectRegistry &registry);

/// The op library's description of layer op `op` (nullptr for dl.param, the
/// backward ops and ops of other dialects).
const dlc::ops::OpSchema *getOpSchema(Operation *op);
/// The declared role of operand `index` of layer op `op` (DLDialect.td,
/// "Operand roles"); std::nullopt when `op` is not a layer op.
std::optional<dlc::ops::Role> getOperandRole(Operation *op, unsigned index);
/// The shape of `v`'s type if it is ranked, with `?` dimensions (sizes known
/// only at run time, docs/dialect.md) as dlc::ops::kAnyDim.
std::optional<dlc::ops::Shape> shapeOf(Value v);
/// The attributes of `attrs` as the op library and the runtime see them:
/// integers, reals, booleans (as 0/1), strings and i64/f64 arrays; `dl.*`
/// discardable attributes and operandSegmentSizes are left out. Fails (with
/// the attribute's name in `bad`) on any other attribute kind.
llvm::LogicalResult toAttrMap(DictionaryAttr attrs, dlc::ops::AttrMap &out, std::string *bad = nullptr);

/// The operand whose buffer `op`'s result 0 may overwrite when that operand
/// is not read afterwards (dl-plan-buffers, docs/memory.md): operand 0 of a
/// pointwise op (DL_Pointwise) and of an Eltwise SUM; for a dl.fused op, the
/// blob its body adds with a sum (the sum post-op accumulates into it) or,
/// for a body of pointwise ops only, operand 0. std::nullopt otherwise, and
/// for every dl.fused op with backward ops inside (a gradient body).
std::optional<unsigned> inPlaceOperand(Operation *op);

/// Storage layouts (docs/layouts.md). `dl.layouts` on an op: one layout
/// name (dlc::ops::layoutName: "plain", "nChw8c", "nChw16c") per result, set
/// by dl-propagate-layouts where a result is not plain; absent: all plain.
inline constexpr llvm::StringLiteral kLayoutsAttrName = "dl.layouts";
/// `dl.layout` on a function: the blocked layout dl-propagate-layouts chose
/// for it (absent: every blob plain).
inline constexpr llvm::StringLiteral kLayoutAttrName = "dl.layout";
/// The channel block `v` is stored with (0: plain): its defining op's
/// `dl.layouts` entry; a block argument of a dl.fused region has the layout
/// of the fused op's operand; function arguments are plain.
int getLayout(Value v);
/// The channel block of each result of `op`.
SmallVector<int> getResultLayouts(Operation *op);
/// Sets `dl.layouts` from `blocks` (one per result), or removes it when
/// every result is plain.
void setResultLayouts(Operation *op, ArrayRef<int> blocks);

/// Run-time sizes (docs/dialect.md): the largest value a `?` dimension of a
/// value in `root` can take. A DL_DataDependentShape op's result holds at
/// most what the same dimension of the corresponding operand holds, and
/// every other `?` is one of those sizes passed through (the op library
/// refuses anything else), so this is the largest such operand dimension;
/// 0 when `root` has none.
int64_t dynamicSizeBound(Operation *root);
/// `type`'s shape with every `?` replaced by `bound`.
SmallVector<int64_t> maxShape(RankedTensorType type, int64_t bound);
} // namespace mlir::dl

#endif // DLC_DIALECT_DL_IR_DLOPS_H

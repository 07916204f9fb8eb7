//===- LayoutRules.h - Which layouts each op reads and writes ---*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The rules of dl-propagate-layouts (docs/layouts.md), as a function of one
// op and the layouts of its operands, so that the pass and `dlc compile
// --explain` (which says why each reorder is there) share one definition.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_DIALECT_DL_TRANSFORMS_LAYOUTRULES_H
#define DLC_DIALECT_DL_TRANSFORMS_LAYOUTRULES_H

#include "dlc/Ops/OpSchema.h"

#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace mlir::dl {

/// The layout class of `op`: its op definition's (OpSchema::layout); a
/// backward op's is its forward op's; a dl.fused op is Any when every layer
/// of its body is, ChannelBlocked when every layer is Any or ChannelBlocked,
/// else Plain. Every other op (dl.param, dl.reorder, ...) is Plain.
dlc::ops::LayoutClass getLayoutClass(Operation *op);

/// What `op` does with its operands' layouts under channel block `block`.
struct LayoutDecision {
  /// The layout each operand must be read in (where it differs from the
  /// operand's layout, a dl.reorder goes before the op).
  SmallVector<int> operands;
  /// The layout of each result.
  SmallVector<int> results;
  /// Why an operand must change layout, e.g. "inner_product reads the plain
  /// layout only"; "" when none must.
  std::string reason;
  /// Operands a channel-blocked kernel reads in the plain layout (rank-4
  /// data it reorders itself, inside the kernel).
  SmallVector<unsigned> plainReads;
  /// dl.fused: the layout of each value computed in its body.
  llvm::DenseMap<Value, int> body;
};

/// The decision for `op` whose operands have the layouts `operandLayouts`
/// (channel blocks, 0 = plain).
LayoutDecision decideLayouts(Operation *op, ArrayRef<int> operandLayouts, int block);

/// The layer an op belongs to (its NameLoc), else its op name without "dl.".
std::string layerNameOf(Operation *op);
/// The Caffe blob name of a value: its top, param or input name.
std::string blobNameOf(Value v);
/// What `op` is in messages: "convolution", "relu backward data",
/// "fused kernel".
std::string opKindOf(Operation *op);

} // namespace mlir::dl

#endif // DLC_DIALECT_DL_TRANSFORMS_LAYOUTRULES_H

//===- PropagateLayouts.cpp - Choose each blob's storage layout ----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// dl-propagate-layouts (docs/layouts.md): walks each network function in
// program order and gives every result a storage layout by the rules of
// LayoutRules.h, starting from plain graph inputs and parameters: blocked
// layouts flow through chains of ops that accept them (convolution,
// pooling, BatchNorm, element-wise ops, ...), and a `dl.reorder` goes right
// before the first op that needs a value in another layout, shared by every
// later op that needs the same. Layouts are recorded as `dl.layouts` on the
// ops; the function gets `dl.layout` (the block used).
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DL/Transforms/Passes.h"

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Dialect/DL/Transforms/LayoutRules.h"
#include "dlc/Ops/Layout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::dl {
#define GEN_PASS_DEF_DLPROPAGATELAYOUTS
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;

namespace {

/// The role a reorder takes from the op it is made for, so that it runs in
/// the same entry (forward or gradient) and shows in the same timing column.
StringAttr roleFor(Operation *consumer) {
  Builder b(consumer->getContext());
  if (isa<dl::BackwardDataOp>(consumer))
    return b.getStringAttr("backward_data");
  if (isa<dl::BackwardWeightsOp>(consumer))
    return b.getStringAttr("backward_weights");
  return consumer->getAttrOfType<StringAttr>("dl.role");
}

struct PropagateLayouts : public mlir::dl::impl::DLPropagateLayoutsBase<PropagateLayouts> {
  using DLPropagateLayoutsBase::DLPropagateLayoutsBase;

  void runOnOperation() override {
    if (!dlc::ops::isValidBlock(int(block))) {
      mlir::emitError(getOperation().getLoc())
          << "dl-propagate-layouts: block must be 0 (plain), 8 or 16, got " << int(block);
      return signalPassFailure();
    }
    if (block == 0)
      return;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal()) {
        propagate(func);
        func->setAttr(mlir::dl::kLayoutAttrName,
                      StringAttr::get(&getContext(), dlc::ops::layoutName(int(block))));
      }
  }

  /// One reorder per (value, layout), made before its first reader. A
  /// forward op does not read one made for the backward graph (it would not
  /// run in the forward entry); the backward graph reads forward ones.
  llvm::DenseMap<std::pair<Value, int>, Operation *> reorders;

  Value reorder(Value v, int layout, Operation *consumer) {
    StringAttr role = roleFor(consumer);
    std::pair<Value, int> key{v, layout};
    if (auto it = reorders.find(key);
        it != reorders.end() && (role || !it->second->hasAttr("dl.role")))
      return it->second->getResult(0);
    OpBuilder b(consumer);
    Location child = consumer->getLoc();
    if (auto n = dyn_cast<NameLoc>(child))
      child = n.getChildLoc();
    Location loc =
        NameLoc::get(b.getStringAttr(mlir::dl::layerNameOf(consumer) + ":reorder"), child);
    auto r = b.create<dl::ReorderOp>(loc, v.getType(), v);
    // Spelled out even for "plain", so the IR shows both sides.
    r->setAttr(mlir::dl::kLayoutsAttrName,
               b.getStrArrayAttr({dlc::ops::layoutName(layout)}));
    r->setAttr("dl.tops",
               b.getStrArrayAttr({mlir::dl::blobNameOf(v) + ":" + dlc::ops::layoutName(layout)}));
    if (role)
      r->setAttr("dl.role", role);
    reorders[key] = r;
    return r;
  }

  void propagate(func::FuncOp func) {
    reorders.clear();
    Block &body = func.getBody().front();
    SmallVector<Operation *> ops;
    for (Operation &op : body.without_terminator())
      ops.push_back(&op);
    for (Operation *op : ops) {
      if (!isa_and_nonnull<dl::DLDialect>(op->getDialect()) || isa<dl::ReorderOp>(op))
        continue;
      if (isa<dl::ParamOp>(op)) {
        mlir::dl::setResultLayouts(op, SmallVector<int>(op->getNumResults(), 0));
        continue;
      }
      SmallVector<int> given;
      for (Value v : op->getOperands())
        given.push_back(mlir::dl::getLayout(v));
      mlir::dl::LayoutDecision d = mlir::dl::decideLayouts(op, given, int(block));
      for (unsigned i = 0; i < op->getNumOperands(); ++i)
        if (d.operands[i] != given[i])
          op->setOperand(i, reorder(op->getOperand(i), d.operands[i], op));
      mlir::dl::setResultLayouts(op, d.results);
      if (auto fused = dyn_cast<dl::FusedOp>(op))
        for (Operation &inner : fused.getBlock().without_terminator()) {
          SmallVector<int> blocks;
          for (Value r : inner.getResults())
            blocks.push_back(d.body.lookup(r));
          mlir::dl::setResultLayouts(&inner, blocks);
        }
    }
  }
};

} // namespace

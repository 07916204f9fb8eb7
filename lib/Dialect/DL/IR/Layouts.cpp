//===- Layouts.cpp - Storage layouts in the IR ----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Reading and writing `dl.layouts` (docs/layouts.md): the channel block of
// each value, as dl-propagate-layouts chose it and the module writer stores
// it.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Ops/Layout.h"

using namespace mlir;

SmallVector<int> mlir::dl::getResultLayouts(Operation *op) {
  SmallVector<int> blocks(op->getNumResults(), 0);
  auto array = op->getAttrOfType<ArrayAttr>(kLayoutsAttrName);
  if (!array)
    return blocks;
  for (auto [i, a] : llvm::enumerate(array)) {
    auto name = dyn_cast<StringAttr>(a);
    int block = 0;
    if (i < blocks.size() && name &&
        dlc::ops::parseLayout(std::string_view(name.getValue()), block))
      blocks[i] = block;
  }
  return blocks;
}

int mlir::dl::getLayout(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    Operation *owner = arg.getOwner()->getParentOp();
    if (auto fused = dyn_cast_or_null<FusedOp>(owner))
      return getLayout(fused->getOperand(arg.getArgNumber()));
    return 0;
  }
  auto r = cast<OpResult>(v);
  return getResultLayouts(r.getOwner())[r.getResultNumber()];
}

void mlir::dl::setResultLayouts(Operation *op, ArrayRef<int> blocks) {
  if (llvm::all_of(blocks, [](int b) { return b == 0; })) {
    op->removeAttr(kLayoutsAttrName);
    return;
  }
  SmallVector<Attribute> names;
  for (int b : blocks)
    names.push_back(StringAttr::get(op->getContext(), dlc::ops::layoutName(b)));
  op->setAttr(kLayoutsAttrName, ArrayAttr::get(op->getContext(), names));
}

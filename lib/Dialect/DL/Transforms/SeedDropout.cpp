//===- SeedDropout.cpp - Per-layer dropout mask seeds ---------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DL/Transforms/Passes.h"

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::dl {
#define GEN_PASS_DEF_DLSEEDDROPOUT
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;

namespace {

struct SeedDropout : public mlir::dl::impl::DLSeedDropoutBase<SeedDropout> {
  using DLSeedDropoutBase::DLSeedDropoutBase;

  void runOnOperation() override {
    Builder b(&getContext());
    getOperation().walk([&](dl::DropoutOp op) {
      if (!op.getTrain())
        return;
      uint64_t h = 1469598103934665603ull ^ uint64_t(seed); // FNV-1a over the layer name
      if (auto name = dyn_cast<NameLoc>(op->getLoc()))
        for (char c : name.getName().getValue())
          h = (h ^ uint8_t(c)) * 1099511628211ull;
      op->setAttr("seed", b.getI64IntegerAttr(int64_t(h >> 1)));
    });
  }
};

} // namespace

//===- SkipMaskedSteps.cpp - Give LSTMs the mask of their padded steps -----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A padded batch of sequences multiplies the LSTM's output by a [T, N] mask
// that is 0 on the padding (models/lstm-imdb.prototxt): Caffe computes the
// padded steps and the product discards them. When every reader of the
// LSTM's output is such a product, the output of a dead step (mask 0 there
// and on the rest of its sequence) is never read, so the pass hands the mask
// to the LSTM, whose kernels then skip those steps (dl.lstm's `mask`,
// docs/recurrent.md).
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DL/Transforms/Passes.h"

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::dl {
#define GEN_PASS_DEF_DLSKIPMASKEDSTEPS
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;

namespace {

/// The [T, N] per-step scale that `user` multiplies `h` ([T, N, H]) by, or
/// null when `user` is anything else.
Value stepScaleOf(Operation *user, Value h) {
  auto s = dyn_cast<dl::ScaleOp>(user);
  if (!s || s.getX() != h)
    return {};
  auto ht = dyn_cast<RankedTensorType>(h.getType());
  auto st = dyn_cast<RankedTensorType>(s.getScale().getType());
  if (!ht || !st || ht.getRank() < 2 || st.getRank() != 2)
    return {};
  const int64_t given = s.getAxisAttr().getInt();
  const int64_t axis = given < 0 ? given + ht.getRank() : given;
  if (axis != 0 || st.getShape() != ht.getShape().take_front(2))
    return {};
  // A learned scale's gradient reads h at every step, dead ones included.
  if (s.getScale().getDefiningOp<dl::ParamOp>())
    return {};
  return s.getScale();
}

struct SkipMaskedSteps : public mlir::dl::impl::DLSkipMaskedStepsBase<SkipMaskedSteps> {
  void runOnOperation() override {
    getOperation().walk([&](func::FuncOp f) {
      // With force_backward every input gets a gradient, the mask's too,
      // which reads h at the dead steps.
      if (auto fb = f->getAttrOfType<BoolAttr>("dl.force_backward"); fb && fb.getValue())
        return;
      f.walk([&](dl::LSTMOp op) {
        if (op.getMask())
          return;
        Value h = op.getOutput(), mask;
        if (h.use_empty())
          return;
        for (Operation *user : h.getUsers()) {
          Value m = stepScaleOf(user, h);
          if (!m || (mask && m != mask))
            return;
          mask = m;
        }
        // The mask must be computed before the LSTM runs.
        if (Operation *def = mask.getDefiningOp(); def && !def->isBeforeInBlock(op))
          return;
        op.getMaskMutable().assign(mask);
      });
    });
  }
};

} // namespace

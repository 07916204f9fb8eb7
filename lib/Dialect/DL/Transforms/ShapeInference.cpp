// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// dl-shape-inference: propagates static shapes from a network function's
// argument types through its dl ops with Caffe's rules.

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Dialect/DL/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::dl {
#define GEN_PASS_DEF_DLSHAPEINFERENCE
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;
using namespace mlir::dl;

LogicalResult mlir::dl::inferShapes(func::FuncOp func) {
  if (func.isExternal())
    return success();
  // Pre-order walk: in each block the ops are visited in program order, so
  // every op sees the already refined types of its operands.
  WalkResult walk = func.walk<WalkOrder::PreOrder>([](Operation *op) {
    if (!isa<DLDialect>(op->getDialect()) || isa<ParamOp>(op))
      return WalkResult::advance();
    if (failed(inferAndSetResultTypes(op)))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();

  // The function returns what its func.return ops return.
  std::optional<SmallVector<Type>> results;
  for (Block &block : func.getBody()) {
    auto ret = dyn_cast<func::ReturnOp>(block.getTerminator());
    if (!ret)
      continue;
    SmallVector<Type> types(ret.getOperandTypes());
    if (results && *results != types)
      return ret.emitOpError("returns types that differ from another "
                             "func.return of the same function after shape "
                             "inference");
    results = types;
  }
  if (results)
    func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(),
                                   *results));
  return success();
}

namespace {
struct DLShapeInferencePass
    : public mlir::dl::impl::DLShapeInferenceBase<DLShapeInferencePass> {
  void runOnOperation() override {
    // A module pass (not a func pass) so that it can be added directly to a
    // module-level PassManager; functions are independent of each other.
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (failed(inferShapes(func)))
        return signalPassFailure();
  }
};
} // namespace

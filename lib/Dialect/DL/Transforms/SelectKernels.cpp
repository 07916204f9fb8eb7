//===- SelectKernels.cpp - Choose each op's runtime implementation -------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Annotates every dl op with `dl.impl`, the implementation the runtime must
// instantiate: "ref" (the reference interpreter) or "auto" (the optimized
// library's own choice). The algorithm of each convolution direction is
// chosen afterwards by dl-select-conv-algorithms (SelectConvAlgorithms.cpp).
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DL/Transforms/Passes.h"

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::dl {
#define GEN_PASS_DEF_DLSELECTKERNELS
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;

namespace {

struct SelectKernels : public mlir::dl::impl::DLSelectKernelsBase<SelectKernels> {
  using DLSelectKernelsBase::DLSelectKernelsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (impl != "auto" && impl != "ref") {
      module.emitError() << "dl-select-kernels: impl must be 'auto' or 'ref', got '" << impl << "'";
      return signalPassFailure();
    }
    OpBuilder b(module.getContext());
    StringAttr choice = b.getStringAttr(impl);
    module.walk([&](Operation *op) {
      if (op->getDialect() == nullptr || op->getDialect()->getNamespace() != "dl" ||
          isa<dl::ParamOp, dl::FusedOp, dl::YieldOp>(op))
        return;
      op->setAttr("dl.impl", choice);
    });
  }
};

} // namespace

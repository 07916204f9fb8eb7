//===- SelectKernels.cpp - Choose each op's runtime implementation -------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Annotates every dl op with `dl.impl`, the implementation the runtime must
// instantiate: "ref" (the reference interpreter), "auto" (the optimized
// library's own choice), or, for convolutions, an algorithm: "direct",
// "gemm" (im2col + GEMM) or "winograd". Winograd is only legal for 3x3,
// stride-1, undilated, ungrouped convolutions; a layer that does not qualify
// keeps "auto" and gets a warning naming the layer.
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

bool allEqual(ArrayRef<int64_t> v, int64_t x) {
  return llvm::all_of(v, [&](int64_t e) { return e == x; });
}

/// Why `op` (a dl.convolution) cannot use Winograd, or "" if it can.
std::string winogradObstacle(Operation *op) {
  auto kernel = op->getAttrOfType<DenseI64ArrayAttr>("kernel");
  auto stride = op->getAttrOfType<DenseI64ArrayAttr>("stride");
  auto dilation = op->getAttrOfType<DenseI64ArrayAttr>("dilation");
  auto group = op->getAttrOfType<IntegerAttr>("group");
  if (!kernel || kernel.size() != 2 || !allEqual(kernel.asArrayRef(), 3))
    return "the kernel is not 3x3";
  if (stride && !allEqual(stride.asArrayRef(), 1))
    return "the stride is not 1";
  if (dilation && !allEqual(dilation.asArrayRef(), 1))
    return "the convolution is dilated";
  if (group && group.getInt() != 1)
    return "the convolution is grouped";
  return "";
}

struct SelectKernels : public mlir::dl::impl::DLSelectKernelsBase<SelectKernels> {
  using DLSelectKernelsBase::DLSelectKernelsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (impl != "auto" && impl != "ref") {
      module.emitError() << "dl-select-kernels: impl must be 'auto' or 'ref', got '" << impl << "'";
      return signalPassFailure();
    }
    if (convAlgorithm != "auto" && convAlgorithm != "direct" && convAlgorithm != "gemm" &&
        convAlgorithm != "winograd") {
      module.emitError() << "dl-select-kernels: conv-algorithm must be auto, direct, gemm or "
                          "winograd, got '"
                       << convAlgorithm << "'";
      return signalPassFailure();
    }
    OpBuilder b(module.getContext());
    module.walk([&](Operation *op) {
      if (op->getDialect() == nullptr || op->getDialect()->getNamespace() != "dl" ||
          isa<dl::ParamOp, dl::FusedOp, dl::YieldOp>(op))
        return;
      std::string choice = impl;
      // A convolution's backward ops use the same algorithm as the forward.
      auto forward = op->getAttrOfType<StringAttr>("forward");
      bool isConv = op->getName().getStringRef() == "dl.convolution" ||
                    (forward && forward.getValue() == "convolution" &&
                     isa<dl::BackwardDataOp, dl::BackwardWeightsOp>(op));
      if (impl == "auto" && isConv) {
        choice = convAlgorithm;
        if (choice == "winograd") {
          std::string why = winogradObstacle(op);
          if (!why.empty()) {
            // Reported once per layer, at its forward op.
            std::string layer;
            if (auto name = dyn_cast<NameLoc>(op->getLoc()))
              layer = " to layer '" + name.getName().str() + "'";
            if (isa<dl::ConvolutionOp>(op))
              op->emitWarning() << "Winograd does not apply" << layer << " (" << why
                              << "); using the default algorithm";
            choice = "auto";
          }
        }
      }
      op->setAttr("dl.impl", b.getStringAttr(choice));
    });
  }
};

} // namespace

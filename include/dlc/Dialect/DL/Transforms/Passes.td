// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Passes on the dl dialect.

#ifndef DLC_DIALECT_DL_TRANSFORMS_PASSES_TD
#define DLC_DIALECT_DL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def DLShapeInference : Pass<"dl-shape-inference", "::mlir::ModuleOp"> {
  let summary = "Propagate static shapes through a dl graph with Caffe's rules";
  let description = [{
    For every `func.func` of the module: starting from the function's
    argument types, visits the ops of the function in order and recomputes the result types of every dl op from
    its operands (Caffe's Reshape rules, `mlir::dl::inferAndSetResultTypes`),
    then sets the function's result types from its `func.return`. Changing the
    batch size in the signature and re-running the pass updates every shape.
    Fails with the op's diagnostic on inconsistent shapes or bad parameters.
  }];
  let dependentDialects = ["::mlir::dl::DLDialect", "::mlir::func::FuncDialect"];
}

#endif // DLC_DIALECT_DL_TRANSFORMS_PASSES_TD

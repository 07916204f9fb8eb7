// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// dl-opt: mlir-opt-style driver for the dl dialect and its passes.

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Dialect/DL/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses(); // canonicalize, cse, ...
  mlir::dl::registerDLPipelines(); // the dl passes and dl-compile

  mlir::DialectRegistry registry;
  registry.insert<mlir::dl::DLDialect, mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "dl optimizer driver\n", registry));
}

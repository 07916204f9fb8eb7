// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Passes on the dl dialect.

#ifndef DLC_DIALECT_DL_TRANSFORMS_PASSES_H
#define DLC_DIALECT_DL_TRANSFORMS_PASSES_H

#include "dlc/Dialect/DL/IR/DLDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace mlir::dl {

#define GEN_PASS_DECL
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"

/// Runs Caffe shape inference over `func` (what dl-shape-inference does per
/// function). Emits the failing op's diagnostic and returns failure on
/// inconsistent shapes.
llvm::LogicalResult inferShapes(func::FuncOp func);

#define GEN_PASS_REGISTRATION
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"

} // namespace mlir::dl

#endif // DLC_DIALECT_DL_TRANSFORMS_PASSES_H

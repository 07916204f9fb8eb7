// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Ops of the `dl` dialect and the entry point for Caffe shape inference.

#ifndef DLC_DIALECT_DL_IR_DLOPS_H
#define DLC_DIALECT_DL_IR_DLOPS_H

#include "dlc/Dialect/DL/IR/DLDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::dl::detail {
/// Result-type compatibility used by every dl op: same count, and for each
/// pair either side unranked, or f32 tensors with compatible shapes.
bool areCompatibleResultTypes(TypeRange inferred, TypeRange actual);
/// Verifier shared by every dl op with type inference: runs the Caffe shape
/// rules (reporting Caffe-style errors at the op) and checks the declared
/// result types are compatible with the inferred ones.
llvm::LogicalResult verifyResultTypesByInference(Operation *op);
/// Infers the result types of a dl op from its current operands and
/// attributes (emitting errors at the op's location on failure).
llvm::LogicalResult inferResultTypes(Operation *op,
                                     llvm::SmallVectorImpl<Type> &types);
} // namespace mlir::dl::detail

#define GET_OP_CLASSES
#include "dlc/Dialect/DL/IR/DLOps.h.inc"

namespace mlir::dl {
/// Recomputes the result types of `op` (an op implementing
/// InferTypeOpInterface, e.g. any dl op but dl.param) from its current
/// operand types and attributes, and sets them in place. The op is verified
/// first (attribute types/values, then Caffe's shape rules); on failure an
/// error is emitted at op->getLoc(), the result types are left unchanged and
/// failure is returned. For dl.param (no inference) it only verifies the op.
llvm::LogicalResult inferAndSetResultTypes(Operation *op);

/// Registers the dl dialect (and nothing else) in `registry`.
void registerDLDialect(DialectRegistry &registry);
} // namespace mlir::dl

#endif // DLC_DIALECT_DL_IR_DLOPS_H

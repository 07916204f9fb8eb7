//===- Fusion.h - Shared pieces of dl-fuse-ops ------------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What the forward fusions (FuseOps.cpp) and the gradient fusion of
// BatchNorm + Scale (+ ReLU) (FuseBatchNormGrad.cpp) share: the chain
// rules they both use and the outlining of a chain into a dl.fused op
// (docs/fusion.md).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_DIALECT_DL_TRANSFORMS_FUSION_H
#define DLC_LIB_DIALECT_DL_TRANSFORMS_FUSION_H

#include "dlc/Dialect/DL/IR/DLOps.h"

#include "mlir/IR/Block.h"
#include "mlir/IR/Location.h"

namespace mlir::dl::fusion {

/// A learned per-channel Scale (operand 1 a param of shape [C] at axis 1,
/// its bias absent or a param).
bool isChannelScale(Operation *op);

/// The location of a fused op made of `chain`: the first op's position,
/// named "layer1+layer2+..." after the ops' layers.
Location chainLocation(ArrayRef<Operation *> chain);

/// Replaces `chain` (ops of one block in program order, each but the last
/// read only by later ops of the chain) by one dl.fused op at the position
/// of its last op, yielding the last op's result; returns it.
FusedOp outline(ArrayRef<Operation *> chain);

/// The gradient fusion (option `batch-norm-grad`): every BatchNorm (global
/// statistics) -> Scale -> [ReLU] chain of `block` whose intermediate blobs
/// only the chain and its backward ops read becomes one forward dl.fused op
/// and one backward dl.fused op that recomputes the intermediates.
void fuseBatchNormGradients(Block &block);

} // namespace mlir::dl::fusion

#endif // DLC_LIB_DIALECT_DL_TRANSFORMS_FUSION_H

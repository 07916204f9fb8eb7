//===- FuseOps.cpp - Group layers that run as one kernel ------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Finds chains that start at an anchor (a convolution, deconvolution, inner
// product, or an Eltwise SUM) and continue through ops that a library
// primitive can apply to the anchor's output as it is written:
//
//   anchor -> [batch_norm (global statistics)] -> [scale (learned, per channel)]
//          -> [eltwise SUM with one other blob]  -> pointwise ops (DL_Pointwise)
//
// (BatchNorm and Scale only right after a convolution-like anchor, at most
// one sum) - or, where none starts, element-wise chains (a pointwise op, an
// Eltwise or a per-channel Scale/Bias, then pointwise ops: generated code,
// docs/codegen.md) - and moves each chain into a `dl.fused` op
// (docs/fusion.md). A
// value inside a chain must have exactly one use, the next op of the chain:
// a blob that something else reads (a backward op, a second consumer, the
// function's results) ends the chain before it, so every fusion is exact for
// forward and backward alike. The fused op takes the place of the chain's
// last op; its location is the first layer's, named "l1+l2+...".
//
// In gradient modules a BatchNorm -> Scale -> [ReLU] chain whose blobs only
// its own backward ops read fuses first, forward and backward, with the
// backward op recomputing those blobs (FuseBatchNormGrad.cpp).
//
//===----------------------------------------------------------------------===//

#include "Fusion.h"

#include "dlc/Dialect/DL/Transforms/Passes.h"

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::dl {
#define GEN_PASS_DEF_DLFUSEOPS
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;

static bool isParam(Value v) { return v.getDefiningOp<dl::ParamOp>() != nullptr; }

bool mlir::dl::fusion::isChannelScale(Operation *op) {
  auto s = dyn_cast<dl::ScaleOp>(op);
  if (!s || s.getAxis() != 1 || s.getNumAxes() != 1 || !isParam(s.getScale()))
    return false;
  return !s.getBias() || isParam(s.getBias());
}

static StringRef layerOf(Operation *op) {
  if (auto n = dyn_cast<NameLoc>(op->getLoc()))
    return n.getName().getValue();
  return op->getName().getStringRef();
}

Location mlir::dl::fusion::chainLocation(ArrayRef<Operation *> chain) {
  std::string name;
  for (Operation *op : chain)
    name += (name.empty() ? "" : "+") + layerOf(op).str();
  Location first = chain.front()->getLoc();
  if (auto n = dyn_cast<NameLoc>(first))
    first = n.getChildLoc();
  return NameLoc::get(StringAttr::get(first->getContext(), name), first);
}

dl::FusedOp mlir::dl::fusion::outline(ArrayRef<Operation *> chain) {
  Operation *last = chain.back();
  llvm::SetVector<Operation *> inside(chain.begin(), chain.end());
  SmallVector<Value> inputs;
  for (Operation *op : chain)
    for (Value v : op->getOperands())
      if (!inside.contains(v.getDefiningOp()) && !llvm::is_contained(inputs, v))
        inputs.push_back(v);

  OpBuilder b(last);
  auto fused = b.create<dl::FusedOp>(chainLocation(chain), last->getResultTypes(), inputs);
  if (auto tops = last->getAttr("dl.tops"))
    fused->setAttr("dl.tops", tops);
  Block *body = b.createBlock(&fused.getBody());
  IRMapping map;
  for (Value v : inputs)
    map.map(v, body->addArgument(v.getType(), v.getLoc()));
  b.setInsertionPointToStart(body);
  for (Operation *op : chain)
    b.clone(*op, map);
  b.create<dl::YieldOp>(last->getLoc(), map.lookup(last->getResult(0)));
  last->getResult(0).replaceAllUsesWith(fused.getResult(0));
  for (Operation *op : llvm::reverse(chain))
    op->erase();
  return fused;
}

namespace {

using mlir::dl::fusion::isChannelScale;

/// The Eltwise is a plain sum of two blobs (coefficients absent or 1).
bool isPlainSum(Operation *op) {
  auto e = dyn_cast<dl::EltwiseOp>(op);
  if (!e || e.getOperationKind() != "sum" || e->getNumOperands() != 2)
    return false;
  return llvm::all_of(e.getCoeff(), [](double c) { return c == 1.0; });
}

/// A learned per-channel Scale or Bias (its parameters params of shape [C]
/// at axis 1): the start of an element-wise chain.
bool isChannelAffine(Operation *op) {
  if (auto b = dyn_cast<dl::BiasOp>(op))
    return b.getAxis() == 1 && b.getNumAxes() == 1 && isParam(b.getBias());
  return isChannelScale(op);
}

struct FuseOps : public mlir::dl::impl::DLFuseOpsBase<FuseOps> {
  using DLFuseOpsBase::DLFuseOpsBase;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal()) {
        if (fuseBatchNormGrad)
          mlir::dl::fusion::fuseBatchNormGradients(func.getBody().front());
        fuse(func.getBody().front());
      }
  }

  /// The op reading `v` when that is its only use, in the same block.
  static Operation *soleUser(Value v, Block &block) {
    if (!v.hasOneUse())
      return nullptr;
    Operation *user = *v.getUsers().begin();
    return user->getBlock() == &block ? user : nullptr;
  }

  static bool skipped(Operation *op) {
    // Ops of the backward graph (gradient sums carry dl.role) and ops a
    // previous round already fused stay as they are.
    return op->hasAttr("dl.role") || isa<dl::FusedOp>(op) || op->getNumResults() != 1;
  }

  /// Layers per fused op at most: a longer chain becomes several fused ops.
  /// Code generation's time grows faster than linearly with a chain's
  /// length (a chain of 4000 ReLUs took 27 s to compile), and real nets
  /// fuse a handful of layers.
  static constexpr size_t kMaxFusedLayers = 32;

  /// The chain starting at `anchor`.
  SmallVector<Operation *> chainFrom(Operation *anchor, Block &block) {
    SmallVector<Operation *> chain{anchor};
    const bool convLike = isa<dl::ConvolutionOp, dl::DeconvolutionOp, dl::InnerProductOp>(anchor);
    if (!convLike && !(fuseEltwise && isPlainSum(anchor)))
      return {};
    bool affineAllowed = convLike && foldBatchNorm, sumSeen = !convLike;
    Value cur = anchor->getResult(0);
    while (Operation *user = soleUser(cur, block)) {
      if (skipped(user) || chain.size() == kMaxFusedLayers)
        break;
      OpOperand &use = *cur.getUses().begin();
      if (affineAllowed && isa<dl::BatchNormOp>(user) && use.getOperandNumber() == 0 &&
          cast<dl::BatchNormOp>(user).getUseGlobalStats() &&
          !isa<dl::ScaleOp>(chain.back())) {
        // BatchNorm with stored statistics right after the anchor.
      } else if (affineAllowed && isChannelScale(user) && use.getOperandNumber() == 0) {
        affineAllowed = false; // nothing affine after the Scale
      } else if (fuseEltwise && !sumSeen && isPlainSum(user) &&
                 user->getOperand(0) != user->getOperand(1)) {
        sumSeen = true;
        affineAllowed = false;
      } else if (fuseActivations && user->hasTrait<dl::OpTrait::Pointwise>() &&
                 use.getOperandNumber() == 0) {
        affineAllowed = false;
        sumSeen = true; // the sum post-op comes before the activations
      } else {
        break;
      }
      chain.push_back(user);
      cur = user->getResult(0);
    }
    return chain.size() > 1 ? chain : SmallVector<Operation *>{};
  }

  /// An element-wise chain (option pointwise-chains, docs/codegen.md): a
  /// pointwise op, an Eltwise of any operation and input count, or a
  /// per-channel Scale / Bias, then pointwise ops; at least two layers.
  /// Tried where no anchor above starts a chain.
  SmallVector<Operation *> elementwiseChainFrom(Operation *anchor, Block &block) {
    if (!pointwiseChains ||
        !(anchor->hasTrait<dl::OpTrait::Pointwise>() ||
          (fuseEltwise && isa<dl::EltwiseOp>(anchor)) || isChannelAffine(anchor)))
      return {};
    SmallVector<Operation *> chain{anchor};
    Value cur = anchor->getResult(0);
    while (Operation *user = soleUser(cur, block)) {
      if (skipped(user) || chain.size() == kMaxFusedLayers ||
          !user->hasTrait<dl::OpTrait::Pointwise>() ||
          cur.getUses().begin()->getOperandNumber() != 0)
        break;
      chain.push_back(user);
      cur = user->getResult(0);
    }
    return chain.size() > 1 ? chain : SmallVector<Operation *>{};
  }

  void fuse(Block &block) {
    // In program order; a chain erases ops further down, which are then
    // skipped.
    SmallVector<Operation *> ops = llvm::to_vector(llvm::map_range(
        block.getOperations(), [](Operation &op) { return &op; }));
    llvm::DenseSet<Operation *> erased;
    for (Operation *op : ops) {
      if (erased.contains(op) || skipped(op))
        continue;
      SmallVector<Operation *> chain = chainFrom(op, block);
      if (chain.empty())
        chain = elementwiseChainFrom(op, block);
      if (chain.empty())
        continue;
      erased.insert(chain.begin(), chain.end());
      mlir::dl::fusion::outline(chain);
    }
  }
};

} // namespace

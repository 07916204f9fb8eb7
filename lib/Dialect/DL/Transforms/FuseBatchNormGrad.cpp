//===- FuseBatchNormGrad.cpp - BatchNorm + Scale (+ ReLU) in gradients ----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// dl-fuse-ops, option batch-norm-grad (docs/fusion.md, "Gradient modules").
// In a gradient module the backward ops read the forward blobs, so the
// forward fusions (one use per value inside a chain) find almost nothing.
// For the chain
//
//   %b = dl.batch_norm %c, %m, %v, %f      (global statistics)
//   %s = dl.scale %b, %g[, %beta]          (learned, per channel)
//  [%r = dl.relu %s]
//
// whose intermediate blobs (%b, and %s when the ReLU follows) are read only
// by the next op of the chain and by the chain's own backward ops, the
// forward ops become one dl.fused op, and the backward ops one dl.fused op
// at the position of the last of them that recomputes the intermediates
// from the chain's input and parameters (the same ops on the same values,
// so the gradient is unchanged) and yields the gradients read outside:
//
//   %dg, %dbeta, %dc = dl.fused(%c, %m, %v, %f, %g, %beta, %r, %dy)
//       {dl.role = "backward_data", dl.tops = [...]} {
//     %b' = dl.batch_norm ...; %s' = dl.scale %b', ...      (recomputed)
//     <the backward ops, in program order, on %b' and %s'>
//     dl.yield %dg, %dbeta, %dc
//   }
//
//===----------------------------------------------------------------------===//

#include "Fusion.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;

namespace {

bool isBackward(Operation *op) { return isa<dl::BackwardDataOp, dl::BackwardWeightsOp>(op); }

/// `bwd` is a backward op of `fwd`: it names fwd's op as its forward op, and
/// its forward operands and forward results are exactly fwd's.
bool isBackwardOf(Operation *bwd, Operation *fwd) {
  if (!isBackward(bwd) || bwd->getBlock() != fwd->getBlock())
    return false;
  auto forward = bwd->getAttrOfType<StringAttr>("forward");
  auto numForward = bwd->getAttrOfType<IntegerAttr>("num_forward_operands");
  StringRef name = fwd->getName().getStringRef();
  name.consume_front("dl.");
  const unsigned n = fwd->getNumOperands(), results = fwd->getNumResults();
  if (!forward || forward.getValue() != name || !numForward || numForward.getInt() != n ||
      bwd->getNumOperands() != n + 2 * results)
    return false;
  for (unsigned i = 0; i < n; ++i)
    if (bwd->getOperand(i) != fwd->getOperand(i))
      return false;
  for (unsigned r = 0; r < results; ++r)
    if (bwd->getOperand(n + r) != fwd->getResult(r))
      return false;
  return true;
}

/// An op the chain may contain: a layer op of the forward graph.
bool isForwardLayer(Operation *op, Block &block) {
  return op->getBlock() == &block && !op->hasAttr("dl.role") && op->getNumResults() == 1;
}

struct Chain {
  SmallVector<Operation *> forward;  ///< batch_norm, scale, [relu]
  SmallVector<Operation *> backward; ///< their backward ops, in program order
  SmallVector<Value> yielded;        ///< backward results read outside them, in order
};

/// The chain of `forward` when its intermediate blobs are read only by the
/// chain and its backward ops, and something outside reads a gradient.
std::optional<Chain> complete(ArrayRef<Operation *> forward, Block &block) {
  Chain c;
  c.forward.assign(forward.begin(), forward.end());
  llvm::SetVector<Operation *> backward;
  for (Operation *op : forward)
    for (Operation *user : op->getResult(0).getUsers())
      if (isBackwardOf(user, op))
        backward.insert(user);
  if (backward.empty())
    return std::nullopt;
  for (size_t i = 0; i + 1 < forward.size(); ++i)
    for (OpOperand &use : forward[i]->getResult(0).getUses())
      if (!backward.contains(use.getOwner()) &&
          !(use.getOwner() == forward[i + 1] && use.getOperandNumber() == 0))
        return std::nullopt;
  c.backward = backward.takeVector();
  llvm::sort(c.backward, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  // The fused op takes the place of the last backward op: every gradient
  // read outside must be read after it.
  Operation *last = c.backward.back();
  for (Operation *op : c.backward)
    for (Value r : op->getResults()) {
      bool outside = false;
      for (Operation *user : r.getUsers()) {
        if (llvm::is_contained(c.backward, user))
          continue;
        if (user->getBlock() != &block || !last->isBeforeInBlock(user))
          return std::nullopt;
        outside = true;
      }
      if (outside)
        c.yielded.push_back(r);
    }
  if (c.yielded.empty())
    return std::nullopt;
  return c;
}

/// The chain starting at `op`, if it is a BatchNorm with global statistics
/// that qualifies; with the ReLU when one can be included.
std::optional<Chain> match(Operation *op, Block &block) {
  auto bn = dyn_cast<dl::BatchNormOp>(op);
  if (!bn || !isForwardLayer(op, block) || !bn.getUseGlobalStats())
    return std::nullopt;
  // The forward reader of a value (backward ops aside): its only one.
  auto soleLayer = [&](Value v) -> OpOperand * {
    OpOperand *found = nullptr;
    for (OpOperand &use : v.getUses()) {
      if (isBackward(use.getOwner()))
        continue;
      if (found)
        return nullptr;
      found = &use;
    }
    return found;
  };
  OpOperand *scaleUse = soleLayer(bn.getResult());
  if (!scaleUse || scaleUse->getOperandNumber() != 0 ||
      !isForwardLayer(scaleUse->getOwner(), block) ||
      !mlir::dl::fusion::isChannelScale(scaleUse->getOwner()))
    return std::nullopt;
  Operation *scale = scaleUse->getOwner();
  if (OpOperand *reluUse = soleLayer(scale->getResult(0));
      reluUse && isa<dl::ReLUOp>(reluUse->getOwner()) &&
      isForwardLayer(reluUse->getOwner(), block))
    if (auto c = complete({op, scale, reluUse->getOwner()}, block))
      return c;
  return complete({op, scale}, block);
}

std::string layerName(Operation *op) {
  if (auto n = dyn_cast<NameLoc>(op->getLoc()))
    return n.getName().str();
  StringRef name = op->getName().getStringRef();
  name.consume_front("dl.");
  return name.str();
}

/// Replaces the chain's backward ops by one dl.fused op that recomputes
/// the intermediates, then its forward ops by one dl.fused op.
void rewrite(const Chain &c) {
  ArrayRef<Operation *> recompute = ArrayRef(c.forward).drop_back();
  llvm::SmallPtrSet<Operation *, 8> backward(c.backward.begin(), c.backward.end());
  llvm::SmallPtrSet<Operation *, 8> computed(backward.begin(), backward.end());
  computed.insert(recompute.begin(), recompute.end());
  // Operands: those of the recomputed ops (the chain's input, statistics
  // and Scale parameters), then the other values the backward ops read
  // (the chain's result, the incoming gradient), in order of first use.
  SmallVector<Operation *> readers(recompute.begin(), recompute.end());
  readers.append(c.backward.begin(), c.backward.end());
  SmallVector<Value> inputs;
  for (Operation *op : readers)
    for (Value v : op->getOperands())
      if (!computed.contains(v.getDefiningOp()) && !llvm::is_contained(inputs, v))
        inputs.push_back(v);

  Operation *last = c.backward.back();
  OpBuilder b(last);
  SmallVector<Type> types;
  SmallVector<Attribute> tops;
  for (Value v : c.yielded) {
    types.push_back(v.getType());
    auto r = cast<OpResult>(v);
    if (auto t = r.getOwner()->getAttrOfType<ArrayAttr>("dl.tops");
        t && r.getResultNumber() < t.size())
      tops.push_back(t[r.getResultNumber()]);
  }
  Location loc = mlir::dl::fusion::chainLocation(c.forward);
  auto fused = b.create<dl::FusedOp>(loc, types, inputs);
  fused->setAttr("dl.role", b.getStringAttr("backward_data"));
  if (tops.size() == c.yielded.size())
    fused->setAttr("dl.tops", b.getArrayAttr(tops));
  Block *body = b.createBlock(&fused.getBody());
  IRMapping map;
  for (Value v : inputs)
    map.map(v, body->addArgument(v.getType(), v.getLoc()));
  b.setInsertionPointToStart(body);
  for (Operation *op : recompute) {
    Operation *clone = b.clone(*op, map);
    // The recomputed blob is not the forward one: its own tensor name, so
    // the forward blob keeps its name in the module (ModuleEmitter names an
    // in-place top after its last writer).
    const std::string layer = layerName(op);
    SmallVector<Attribute> names;
    auto old = op->getAttrOfType<ArrayAttr>("dl.tops");
    for (unsigned i = 0; i < op->getNumResults(); ++i) {
      std::string base = old && i < old.size() && isa<StringAttr>(old[i])
                             ? cast<StringAttr>(old[i]).str() + "@" + layer
                             : layer;
      names.push_back(b.getStringAttr(base + ":recomputed"));
    }
    clone->setAttr("dl.tops", b.getArrayAttr(names));
  }
  for (Operation *op : c.backward)
    b.clone(*op, map);
  SmallVector<Value> results;
  for (Value v : c.yielded)
    results.push_back(map.lookup(v));
  b.create<dl::YieldOp>(last->getLoc(), results);

  for (auto [i, v] : llvm::enumerate(c.yielded))
    Value(v).replaceUsesWithIf(fused.getResult(i), [&](OpOperand &u) {
      return !backward.contains(u.getOwner());
    });
  for (Operation *op : llvm::reverse(c.backward))
    op->erase();
  mlir::dl::fusion::outline(c.forward);
}

} // namespace

void mlir::dl::fusion::fuseBatchNormGradients(Block &block) {
  SmallVector<Operation *> ops = llvm::to_vector(
      llvm::map_range(block.getOperations(), [](Operation &op) { return &op; }));
  llvm::DenseSet<Operation *> erased;
  for (Operation *op : ops) {
    if (erased.contains(op))
      continue;
    std::optional<Chain> c = match(op, block);
    if (!c)
      continue;
    erased.insert(c->forward.begin(), c->forward.end());
    erased.insert(c->backward.begin(), c->backward.end());
    rewrite(*c);
  }
}

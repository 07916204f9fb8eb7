//===- PlanBuffers.cpp - Share activation memory by liveness --------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Assigns every activation (op result) a byte offset in one arena so that
// tensors whose lifetimes do not overlap share memory. A tensor lives from
// the op that defines it to its last use; a net output lives to the end.
// Graph inputs get their own, never shared, slots. Offsets are 64-byte
// aligned. Greedy first-fit in definition order, which is optimal for chains
// and close to it for the DAGs of CNNs.
//
// Results: `dl.offsets` (one per result) on each op, `dl.offset` on each
// function argument, and `dl.arena_bytes` on the function.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DL/Transforms/Passes.h"

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <limits>

namespace mlir::dl {
#define GEN_PASS_DEF_DLPLANBUFFERS
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;

namespace {

constexpr int64_t kAlign = 64;

struct Slot {
  int64_t offset, size, begin, end;
};

struct PlanBuffers : public mlir::dl::impl::DLPlanBuffersBase<PlanBuffers> {
  using DLPlanBuffersBase::DLPlanBuffersBase;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && failed(plan(func)))
        return signalPassFailure();
  }

  LogicalResult plan(func::FuncOp func) {
    Block &body = func.getBody().front();
    OpBuilder b(func.getContext());

    llvm::DenseMap<Operation *, int64_t> position;
    int64_t pos = 0;
    for (Operation &op : body)
      position[&op] = pos++;
    const int64_t forever = std::numeric_limits<int64_t>::max();

    // A value with a run-time size (docs/dialect.md) gets room for its
    // largest shape.
    const int64_t bound = mlir::dl::dynamicSizeBound(func);
    auto bytesOf = [&](Value v) -> FailureOr<int64_t> {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      if (!t || (!t.hasStaticShape() && isa<BlockArgument>(v)))
        return failure();
      int64_t bytes = 4;
      for (int64_t d : mlir::dl::maxShape(t, bound))
        bytes *= d;
      return (bytes + kAlign - 1) / kAlign * kAlign;
    };
    auto lastUse = [&](Value v) {
      int64_t end = -1;
      for (Operation *user : v.getUsers())
        end = std::max(end, isa<func::ReturnOp>(user) ? forever : position[user]);
      return end;
    };

    std::vector<Slot> slots;
    llvm::DenseMap<Value, size_t> slotOf; // op results -> their slot
    int64_t arena = 0, naive = 0, inPlaceCount = 0;
    auto place = [&](int64_t size, int64_t begin, int64_t end) {
      // Lowest offset whose [offset, offset+size) overlaps no live slot.
      std::vector<std::pair<int64_t, int64_t>> busy;
      for (const Slot &s : slots)
        if (!(s.end < begin || end < s.begin))
          busy.push_back({s.offset, s.offset + s.size});
      std::sort(busy.begin(), busy.end());
      int64_t offset = 0;
      for (auto [lo, hi] : busy) {
        if (offset + size <= lo)
          break;
        offset = std::max(offset, hi);
      }
      slots.push_back({offset, size, begin, end});
      arena = std::max(arena, offset + size);
      return offset;
    };

    for (BlockArgument arg : body.getArguments()) {
      auto size = bytesOf(arg);
      if (failed(size)) {
        return func.emitError("dl-plan-buffers: function argument of unknown shape");
      }
      naive += *size;
      func.setArgAttr(arg.getArgNumber(), "dl.offset", b.getI64IntegerAttr(place(*size, -1, forever)));
    }
    for (Operation &op : body) {
      if (op.getNumResults() == 0 || op.getName().getStringRef() == "dl.param")
        continue;
      SmallVector<int64_t> offsets;
      for (Value r : op.getResults()) {
        auto size = bytesOf(r);
        if (failed(size)) {
          return op.emitError(
              "dl-plan-buffers: result of unknown shape; run dl-shape-inference first");
        }
        int64_t begin = position[&op];
        int64_t end = std::max(begin, lastUse(r));
        naive += *size;
        // In place: the result takes the slot of an operand the op may
        // overwrite (mlir::dl::inPlaceOperand) when nothing reads that
        // operand afterwards.
        if (auto in = cast<OpResult>(r).getResultNumber() == 0 ? mlir::dl::inPlaceOperand(&op) : std::nullopt;
            in && inPlace) {
          Value v = op.getOperand(*in);
          auto it = slotOf.find(v);
          if (it != slotOf.end() && lastUse(v) == begin && slots[it->second].size == *size &&
              cast<ShapedType>(r.getType()).hasStaticShape()) {
            slots.push_back({slots[it->second].offset, *size, begin, end});
            slotOf[r] = slots.size() - 1;
            offsets.push_back(slots.back().offset);
            ++inPlaceCount;
            continue;
          }
        }
        offsets.push_back(place(*size, begin, end));
        slotOf[r] = slots.size() - 1;
      }
      op.setAttr("dl.offsets", b.getDenseI64ArrayAttr(offsets));
    }
    func->setAttr("dl.arena_bytes", b.getI64IntegerAttr(arena));
    // What every activation in a buffer of its own would take, and how many
    // results were placed over an operand.
    func->setAttr("dl.naive_bytes", b.getI64IntegerAttr(naive));
    func->setAttr("dl.in_place", b.getI64IntegerAttr(inPlaceCount));
    return success();
  }
};

} // namespace

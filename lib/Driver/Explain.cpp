//===- Explain.cpp - What dlc compile did to a net ------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// `dlc compile --explain`: a report of the compiled IR for the user: which
// layers were fused into which kernels, which layers run alone, the memory
// plan (planned arena against every blob in its own buffer, in-place
// results), the layouts (blocked blobs, every reorder left and why) and the
// convolution algorithms (ExplainConv.cpp).
// Read from the IR the pipeline produced, so it describes exactly what the
// module will run.
//
//===----------------------------------------------------------------------===//

#include "Explain.h"

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Dialect/DL/Transforms/LayoutRules.h"
#include "dlc/Ops/Layout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <map>

using namespace mlir;

namespace dlc::driver {
namespace {

std::string layerOf(Operation *op) {
  if (auto n = dyn_cast<NameLoc>(op->getLoc()))
    return n.getName().str();
  return op->getName().getStringRef().str();
}

/// What a fused kernel runs: "inner_product + relu"; for a gradient body
/// (docs/fusion.md) "batch_norm + scale + relu backward; recomputes
/// batch_norm + scale". `held` counts the ops of the unfused graph it holds
/// (not the recomputed ones).
std::string describeFused(dl::FusedOp f, int &held) {
  std::string ops, recomputed;
  SmallVector<std::string> backward; // forward ops, in order of their backward ops
  for (Operation &inner : f.getBlock().without_terminator()) {
    std::string name = inner.getName().getStringRef().drop_front(3).str();
    if (auto fwd = inner.getAttrOfType<StringAttr>("forward");
        fwd && isa<dl::BackwardDataOp, dl::BackwardWeightsOp>(inner)) {
      if (!llvm::is_contained(backward, fwd.str()))
        backward.push_back(fwd.str());
      ++held;
      continue;
    }
    // Forward ops in a gradient body recompute blobs of the forward graph.
    const bool recompute = f->hasAttr("dl.role");
    std::string &list = recompute ? recomputed : ops;
    list += (list.empty() ? "" : " + ") + name;
    held += recompute ? 0 : 1;
  }
  if (backward.empty())
    return ops;
  std::string layers;
  for (const std::string &b : llvm::reverse(backward))
    layers += (layers.empty() ? "" : " + ") + b;
  return layers + " backward" + (recomputed.empty() ? "" : "; recomputes " + recomputed);
}

double mib(int64_t bytes) { return double(bytes) / (1024.0 * 1024.0); }

/// "layer (op)" of a kernel.
std::string kernelOf(Operation *op) {
  return dl::layerNameOf(op) + " (" + dl::opKindOf(op) + ")";
}

/// The layouts dl-propagate-layouts chose (docs/layouts.md): how many blobs
/// are blocked, every reorder left and why its readers need it, and the
/// blocked kernels that read a plain operand themselves.
void explainLayouts(func::FuncOp func, llvm::raw_ostream &os, StringRef option) {
  std::string how = option.empty() ? "" : " (--layout " + option.str() + ")";
  int block = 0;
  if (auto name = func->getAttrOfType<StringAttr>(dl::kLayoutAttrName))
    dlc::ops::parseLayout(std::string_view(name.getValue()), block);
  if (block == 0) {
    os << "  layouts: plain" << how
       << ": every blob in Caffe's plain row-major layout; oneDNN kernels reorder to their "
          "blocked layouts inside the kernel\n";
    return;
  }
  int blocked = 0, blobs = 0;
  SmallVector<dl::ReorderOp> reorders;
  func.walk([&](Operation *op) {
    if (isa<dl::ParamOp, dl::FusedOp>(op) || !isa_and_nonnull<dl::DLDialect>(op->getDialect()))
      return;
    if (auto r = dyn_cast<dl::ReorderOp>(op))
      reorders.push_back(r);
    for (Value v : op->getResults()) {
      ++blobs;
      blocked += dl::getLayout(v) != 0;
    }
  });
  os << "  layouts: " << dlc::ops::layoutName(block) << how << ": " << blocked << " of " << blobs
     << " blobs blocked, " << blobs - blocked << " plain; " << reorders.size()
     << (reorders.size() == 1 ? " reorder" : " reorders") << " left\n";
  // Why each reader needs the reorder: its rule, applied to the layouts it
  // would have read without the reorders.
  auto reason = [&](Operation *reader) {
    SmallVector<int> before;
    for (Value v : reader->getOperands()) {
      auto r = v.getDefiningOp<dl::ReorderOp>();
      before.push_back(dl::getLayout(r ? r->getOperand(0) : v));
    }
    std::string why = dl::decideLayouts(reader, before, block).reason;
    return why.empty() ? std::string("reads it in that layout") : why;
  };
  for (dl::ReorderOp r : reorders) {
    Value from = r->getOperand(0);
    Operation *producer = from.getDefiningOp();
    os << "    reorder " << dl::layerNameOf(r) << ": '" << dl::blobNameOf(from) << "' (from "
       << (producer ? "layer " + dl::layerNameOf(producer) : std::string("the graph input"))
       << ") " << dlc::ops::layoutName(dl::getLayout(from)) << " -> "
       << dlc::ops::layoutName(dl::getLayout(r.getResult())) << "\n";
    // Readers in program order (all are in the function's block).
    SmallVector<Operation *> readers(r->getUsers().begin(), r->getUsers().end());
    llvm::sort(readers, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
    readers.erase(std::unique(readers.begin(), readers.end()), readers.end());
    for (Operation *user : readers)
      os << "      for " << kernelOf(user) << ": " << reason(user) << "\n";
  }
  for (Operation &op : func.getBody().front()) {
    if (isa<dl::ParamOp, dl::ReorderOp>(op) || !isa_and_nonnull<dl::DLDialect>(op.getDialect()))
      continue;
    SmallVector<int> layouts;
    for (Value v : op.getOperands())
      layouts.push_back(dl::getLayout(v));
    for (unsigned i : dl::decideLayouts(&op, layouts, block).plainReads)
      os << "    " << kernelOf(&op) << " reads '" << dl::blobNameOf(op.getOperand(i))
         << "' plain and reorders it inside the kernel\n";
  }
  os << "    weights stay plain: the kernels reorder them once, at load (cached)\n";
}

} // namespace

void explainModule(ModuleOp module, llvm::raw_ostream &os, StringRef layoutOption) {
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    os << "explain: net '" << func.getSymName() << "'\n";
    std::vector<std::pair<std::string, std::string>> fused;
    std::map<std::string, int> alone;
    int layers = 0, fusedLayers = 0;
    for (Operation &op : func.getBody().front()) {
      if (isa<dl::ParamOp, func::ReturnOp>(op))
        continue;
      if (auto f = dyn_cast<dl::FusedOp>(op)) {
        int held = 0;
        fused.emplace_back(layerOf(&op), describeFused(f, held));
        layers += held, fusedLayers += held;
        continue;
      }
      ++layers;
      StringRef name = op.getName().getStringRef();
      if (auto fwd = op.getAttrOfType<StringAttr>("forward"))
        alone[(fwd.getValue() + (name == "dl.backward_data" ? " (backward data)"
                                                            : " (backward weights)"))
                  .str()]++;
      else
        alone[name.drop_front(3).str()]++;
    }
    os << "  kernels: " << fused.size() + (layers - fusedLayers) << " for " << layers
       << " ops (" << fused.size() << " fused kernels holding " << fusedLayers << " ops)\n";
    if (fused.empty())
      os << "  fused kernels: none (dlc compile --no-fuse, or nothing fusible)\n";
    else
      os << "  fused kernels:\n";
    for (auto &[name, ops] : fused)
      os << "    " << name << "  [" << ops << "]\n";
    if (!alone.empty()) {
      os << "  ops running alone:";
      for (auto &[op, n] : alone)
        os << " " << op << " x" << n;
      os << "\n";
    }
    auto arena = func->getAttrOfType<IntegerAttr>("dl.arena_bytes");
    auto naive = func->getAttrOfType<IntegerAttr>("dl.naive_bytes");
    auto inPlace = func->getAttrOfType<IntegerAttr>("dl.in_place");
    if (arena && naive) {
      int64_t a = arena.getInt(), n = naive.getInt();
      os << "  memory plan: activations " << llvm::format("%.2f", mib(a)) << " MiB (every blob in "
         << "its own buffer: " << llvm::format("%.2f", mib(n)) << " MiB, "
         << llvm::format("%.0f", n ? 100.0 * (1.0 - double(a) / double(n)) : 0.0)
         << "% saved), " << (inPlace ? inPlace.getInt() : 0) << " results in place\n";
    } else {
      os << "  memory plan: none (dlc compile --no-mem-plan): every blob in its own buffer\n";
    }
    explainLayouts(func, os, layoutOption);
    explainConvAlgorithms(func, os);
  }
}

} // namespace dlc::driver

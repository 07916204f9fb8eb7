//===- Explain.cpp - What dlc compile did to a net ------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// `dlc compile --explain`: a report of the compiled IR for the user: which
// layers were fused into which kernels, which layers run alone, the memory
// plan (planned arena against every blob in its own buffer, in-place
// results) and the layouts. Read from the IR the pipeline produced, so it
// describes exactly what the module will run.
//
//===----------------------------------------------------------------------===//

#include "Explain.h"

#include "dlc/Dialect/DL/IR/DLOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"

#include <map>

using namespace mlir;

namespace dlc::driver {
namespace {

std::string layerOf(Operation *op) {
  if (auto n = dyn_cast<NameLoc>(op->getLoc()))
    return n.getName().str();
  return op->getName().getStringRef().str();
}

double mib(int64_t bytes) { return double(bytes) / (1024.0 * 1024.0); }

} // namespace

void explainModule(ModuleOp module, llvm::raw_ostream &os) {
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
        std::string ops;
        for (Operation &inner : f.getBlock().without_terminator()) {
          ops += (ops.empty() ? "" : " + ") + inner.getName().getStringRef().drop_front(3).str();
          ++layers, ++fusedLayers;
        }
        fused.emplace_back(layerOf(&op), ops);
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
    os << "  layouts: every blob in Caffe's plain row-major layout; oneDNN kernels reorder "
          "to their blocked layouts inside the kernel\n";
  }
}

} // namespace dlc::driver

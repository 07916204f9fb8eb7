//===- ExplainConv.cpp - The convolution algorithms of dlc compile --------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The "convolution algorithms" section of `dlc compile --explain`: for every
// direction of every 2-D convolution layer, the algorithm
// dl-select-conv-algorithms chose and why, and every candidate with its
// time, workspace and measured error, or why it does not apply. Read from
// the `dl.conv_selection` attributes the pass leaves on the ops.
//
//===----------------------------------------------------------------------===//

#include "Explain.h"

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Dialect/DL/Transforms/LayoutRules.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Format.h"

#include <map>

using namespace mlir;

namespace dlc::driver {
namespace {

/// One direction of a layer: its op and the pass's decision.
struct Selection {
  std::string direction;
  DictionaryAttr decision;
};

int directionRank(StringRef d) {
  return d == "forward" ? 0 : d == "backward-data" ? 1 : 2;
}

std::string str(DictionaryAttr d, StringRef key) {
  auto s = d.getAs<StringAttr>(key);
  return s ? s.str() : std::string();
}

double num(DictionaryAttr d, StringRef key, double otherwise) {
  if (auto f = d.getAs<FloatAttr>(key))
    return f.getValueAsDouble();
  if (auto i = d.getAs<IntegerAttr>(key))
    return double(i.getInt());
  return otherwise;
}

std::string formatted(const char *fmt, double v) {
  std::string s;
  llvm::raw_string_ostream(s) << llvm::format(fmt, v);
  return s;
}

void pad(llvm::raw_ostream &os, const std::string &s, size_t width, bool right) {
  if (right && s.size() < width)
    os.indent(width - s.size());
  os << s;
  if (!right && s.size() < width)
    os.indent(width - s.size());
}

void printSelection(const std::string &layer, const Selection &s, llvm::raw_ostream &os) {
  std::string chosen = str(s.decision, "algorithm");
  os << "    " << layer << " " << s.direction << " -> " << chosen << ": "
     << str(s.decision, "reason") << "\n";
  auto cands = s.decision.getAs<ArrayAttr>("candidates");
  if (!cands)
    return;
  os << "        algorithm        time ms  source   workspace  max error\n";
  for (Attribute a : cands) {
    auto c = dyn_cast<DictionaryAttr>(a);
    if (!c)
      continue;
    std::string name = str(c, "algorithm"), why = str(c, "why_not");
    double seconds = num(c, "seconds", -1), err = num(c, "max_error", -1);
    os << "      " << (name == chosen ? "* " : "  ");
    pad(os, name, 15, false);
    if (!why.empty() && num(c, "workspace", 0) == 0) {
      // Does not apply: no time, no workspace.
      os << "        -                   -          -  " << why << "\n";
      continue;
    }
    pad(os, seconds >= 0 ? formatted("%.3f", seconds * 1e3) : "-", 9, true);
    os << "  ";
    pad(os, seconds >= 0 ? str(c, "source") : "", 7, false);
    pad(os, formatted("%.2f MiB", num(c, "workspace", 0) / (1024.0 * 1024.0)), 11, true);
    pad(os, err >= 0 ? formatted("%.1e", err) : "-", 11, true);
    if (!why.empty())
      os << "  " << why;
    os << "\n";
  }
}

} // namespace

void explainConvAlgorithms(func::FuncOp func, llvm::raw_ostream &os) {
  // Layers in the order of their first op, directions in a fixed order.
  SmallVector<std::string> layers;
  std::map<std::string, SmallVector<Selection, 3>> byLayer;
  std::map<std::string, int> count;
  int total = 0;
  func.walk([&](Operation *op) {
    auto d = op->getAttrOfType<DictionaryAttr>("dl.conv_selection");
    if (!d)
      return;
    std::string layer = mlir::dl::layerNameOf(op);
    std::string dir = isa<mlir::dl::BackwardDataOp>(op)      ? "backward-data"
                      : isa<mlir::dl::BackwardWeightsOp>(op) ? "backward-weights"
                                                             : "forward";
    if (!byLayer.count(layer))
      layers.push_back(layer);
    byLayer[layer].push_back({dir, d});
    ++count[str(d, "algorithm")];
    ++total;
  });
  if (total == 0) {
    os << "  convolution algorithms: none chosen (no 2-D convolution, or --impl ref)\n";
    return;
  }
  os << "  convolution algorithms: " << total << (total == 1 ? " convolution" : " convolutions")
     << " in " << layers.size() << (layers.size() == 1 ? " layer" : " layers") << ":";
  for (auto &[algo, n] : count)
    os << " " << algo << " x" << n;
  if (auto m = func->getParentOfType<ModuleOp>())
    if (auto o = m->getAttrOfType<StringAttr>("dl.conv_oracle"))
      os << "\n    chosen by: " << o.getValue();
  os << "\n    (times: model = cost model, table = --conv-cost-table, measured = timed by "
        "--tune, cache = tuning cache; max error: against direct, when measured)\n";
  for (const std::string &layer : layers) {
    SmallVector<Selection, 3> &sels = byLayer[layer];
    llvm::stable_sort(sels, [](const Selection &a, const Selection &b) {
      return directionRank(a.direction) < directionRank(b.direction);
    });
    for (const Selection &s : sels)
      printSelection(layer, s, os);
  }
}

} // namespace dlc::driver

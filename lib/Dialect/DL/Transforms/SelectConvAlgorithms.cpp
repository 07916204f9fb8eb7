//===- SelectConvAlgorithms.cpp - Choose each convolution's algorithm -----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Chooses the algorithm of every direction of every 2-D convolution layer
// (forward, backward data, backward weights) from the catalog of
// include/dlc/Ops/ConvAlgorithms.h: an algorithm forced by `conv-algorithm`
// (for the net, a layer or one direction of a layer), else the fastest
// applicable one by a cost oracle (a fixed table, the tuner's measurements,
// or the analytic cost model). Sets `dl.impl` to the algorithm and records
// the decision and every candidate as `dl.conv_selection` (read by dlc
// compile --explain; the module emitter ignores it). Runs after
// dl-select-kernels, which sets `dl.impl` on every op.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DL/Transforms/Passes.h"

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Dialect/DL/Transforms/LayoutRules.h"
#include "dlc/Ops/ConvAlgorithms.h"
#include "dlc/Ops/Ops.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"

#include <map>
#include <set>

namespace mlir::dl {
#define GEN_PASS_DEF_DLSELECTCONVALGORITHMS
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;
namespace ops = dlc::ops;

namespace {

/// One algorithm request of the `conv-algorithm` spec.
struct Request {
  std::string algorithm; ///< canonical name or "auto"
  std::string text;      ///< the entry as written (for messages)
};

/// The parsed `conv-algorithm` option.
struct Spec {
  std::optional<Request> net;      ///< ALGO
  std::optional<Request> fallback; ///< fallback=auto|ALGO
  std::map<std::string, Request> layers;
  std::map<std::pair<std::string, ops::ConvDirection>, Request> directions;
};

std::string knownAlgorithms() { return "auto, " + ops::convAlgorithmNames(); }

/// Parses `text`; on error returns the message.
std::string parseSpec(StringRef text, Spec &spec) {
  SmallVector<StringRef> items;
  text.split(items, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (StringRef raw : items) {
    StringRef item = raw.trim();
    if (item.empty())
      continue;
    auto [key, value] = item.split('=');
    bool keyed = item.contains('=');
    StringRef algoName = keyed ? value.trim() : item;
    key = key.trim();
    if ((keyed && (key.empty() || algoName.empty() || algoName.contains('='))) ||
        (!keyed && algoName.contains('/')))
      return "conv-algorithm entry '" + item.str() +
             "' is not ALGO, LAYER=ALGO, LAYER/DIRECTION=ALGO or fallback=ALGO";
    Request r;
    r.text = item.str();
    if (algoName == "auto") {
      r.algorithm = "auto";
    } else if (const ops::ConvAlgorithmInfo *a = ops::findConvAlgorithm(algoName.str())) {
      r.algorithm = std::string(a->name);
    } else {
      return "unknown convolution algorithm '" + algoName.str() + "' in conv-algorithm entry '" +
             item.str() + "' (known: " + knownAlgorithms() + ")";
    }
    if (!keyed) {
      if (spec.net && spec.net->algorithm != r.algorithm)
        return "conv-algorithm names two algorithms for the whole net ('" + spec.net->text +
               "' and '" + r.text + "')";
      spec.net = r;
    } else if (key == "fallback") {
      spec.fallback = r;
    } else if (key.contains('/')) {
      auto [layer, dir] = key.rsplit('/');
      std::optional<ops::ConvDirection> d = ops::parseConvDirection(dir.str());
      if (layer.empty() || !d)
        return "conv-algorithm entry '" + item.str() + "': unknown direction '" + dir.str() +
               "' (forward, backward-data or backward-weights)";
      spec.directions[{layer.str(), *d}] = r;
    } else {
      spec.layers[key.str()] = r;
    }
  }
  return "";
}

/// Parses "gemm=GFLOPS,vector=GFLOPS,bandwidth=GBS,onednn-winograd=0|1".
std::string parseRates(StringRef text, ops::MachineRates &rates) {
  SmallVector<StringRef> items;
  text.split(items, ',', -1, false);
  for (StringRef raw : items) {
    auto [key, value] = raw.trim().split('=');
    key = key.trim();
    value = value.trim();
    double v = 0;
    if (value.getAsDouble(v) || !(v >= 0))
      return "rates entry '" + raw.trim().str() + "' is not NAME=NUMBER";
    if (key == "gemm")
      rates.gemmGflops = v;
    else if (key == "vector")
      rates.vectorGflops = v;
    else if (key == "bandwidth")
      rates.bandwidthGBs = v;
    else if (key == "call")
      rates.callSeconds = v * 1e-6;
    else if (key == "direct-efficiency")
      rates.directEfficiency = v;
    else if (key == "onednn-winograd")
      rates.onednnWinograd = v != 0;
    else
      return "rates entry '" + raw.trim().str() +
             "': unknown rate (gemm, vector, bandwidth, call, direct-efficiency, "
             "onednn-winograd)";
    if (v <= 0 && key != "onednn-winograd" && key != "call")
      return "rates entry '" + raw.trim().str() + "' must be positive";
  }
  if (!text.trim().empty())
    rates.source = "rates option";
  return "";
}

/// A direction of a convolution layer in the module.
struct Site {
  Operation *op;
  ops::ConvProblem problem;
};

/// The problem `op` computes, or nullopt if `op` is not a direction of a
/// 2-D convolution (or its shapes are unknown). `isConv` is set for every
/// direction of a convolution, whatever its rank.
std::optional<ops::ConvProblem> problemOf(Operation *op, bool &isConv) {
  isConv = false;
  std::optional<ops::ConvDirection> dir;
  if (isa<dl::ConvolutionOp>(op)) {
    dir = ops::ConvDirection::Forward;
  } else if (isa<dl::BackwardDataOp, dl::BackwardWeightsOp>(op)) {
    auto fwd = op->getAttrOfType<StringAttr>("forward");
    if (!fwd || fwd.getValue() != "convolution")
      return std::nullopt;
    dir = isa<dl::BackwardDataOp>(op) ? ops::ConvDirection::BackwardData
                                      : ops::ConvDirection::BackwardWeights;
  } else {
    return std::nullopt;
  }
  isConv = true;
  ops::AttrMap attrs;
  ops::ConvolutionAttrs a;
  std::optional<ops::Shape> in = dl::shapeOf(op->getOperand(0));
  if (failed(dl::toAttrMap(op->getAttrDictionary(), attrs)) ||
      ops::ConvolutionAttrs::read(attrs, a).failed() || !in || in->size() != 4)
    return std::nullopt;
  // A dynamic batch (dlc compile --batch 0) is costed as one image.
  if ((*in)[0] == ops::kAnyDim)
    (*in)[0] = 1;
  if (llvm::is_contained(*in, ops::kAnyDim))
    return std::nullopt;
  ops::ConvProblem p;
  if (ops::convGeometry(a, *in, p.geometry).failed() || p.geometry.numSpatial() != 2)
    return std::nullopt;
  p.direction = *dir;
  p.layer = dl::layerNameOf(op);
  p.block = dl::getLayout(op->getOperand(0));
  if (*dir == ops::ConvDirection::Forward)
    if (auto fused = dyn_cast<dl::FusedOp>(op->getParentOp())) {
      for (Operation *next = op->getNextNode(); next && next != fused.getBlock().getTerminator();
           next = next->getNextNode())
        ++p.fusedPostOps;
    }
  return p;
}

std::string ms(double seconds) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%.3f ms", seconds * 1e3);
  return s;
}

std::string mib(int64_t bytes) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%.2f MiB", double(bytes) / (1024.0 * 1024.0));
  return s;
}

/// How a time's source reads in a reason.
std::string sourceWords(StringRef source) {
  if (source == "model")
    return "cost model";
  if (source == "table")
    return "cost table";
  if (source == "measured")
    return "measurement";
  if (source == "cache")
    return "tuning cache";
  return source.str();
}

/// The fastest timed candidate (ties: catalog order), or "direct" when none
/// has a time; `reason` says why.
const ops::ConvCandidate &fastest(const std::vector<ops::ConvCandidate> &cands,
                                  std::string &reason) {
  const ops::ConvCandidate *best = nullptr, *direct = nullptr, *second = nullptr;
  for (const ops::ConvCandidate &c : cands) {
    if (c.algorithm == "direct")
      direct = &c;
    if (!c.whyNot.empty() || c.seconds < 0)
      continue;
    if (!best || c.seconds < best->seconds) {
      second = best;
      best = &c;
    } else if (!second || c.seconds < second->seconds) {
      second = &c;
    }
  }
  if (!best) {
    reason = "no candidate has a time; direct by default";
    return *direct;
  }
  reason = "fastest by " + sourceWords(best->source) + ": " + ms(best->seconds);
  if (best->algorithm != "direct" && direct && direct->whyNot.empty() && direct->seconds >= 0)
    reason += " vs direct " + ms(direct->seconds);
  else if (second)
    reason += " (next: " + second->algorithm + " " + ms(second->seconds) + ")";
  else
    reason += " (the only candidate with a time)";
  return *best;
}

struct SelectConvAlgorithms
    : public mlir::dl::impl::DLSelectConvAlgorithmsBase<SelectConvAlgorithms> {
  using DLSelectConvAlgorithmsBase::DLSelectConvAlgorithmsBase;
  SelectConvAlgorithms(const mlir::dl::DLSelectConvAlgorithmsOptions &options,
                       std::shared_ptr<ops::ConvCostOracle> oracle)
      : DLSelectConvAlgorithmsBase(options), givenOracle(std::move(oracle)) {}

  /// From createDLSelectConvAlgorithms(options, oracle) (dlc compile).
  std::shared_ptr<ops::ConvCostOracle> givenOracle;

  void runOnOperation() override;
  /// The request that applies to `p`, and its kind; nullptr for none.
  const Request *requestFor(const Spec &spec, const ops::ConvProblem &p, bool &whole) const;
};

const Request *SelectConvAlgorithms::requestFor(const Spec &spec, const ops::ConvProblem &p,
                                                bool &whole) const {
  whole = false;
  auto d = spec.directions.find({p.layer, p.direction});
  if (d != spec.directions.end())
    return &d->second;
  auto l = spec.layers.find(p.layer);
  if (l != spec.layers.end())
    return &l->second;
  whole = true;
  return spec.net ? &*spec.net : nullptr;
}

void SelectConvAlgorithms::runOnOperation() {
  ModuleOp module = getOperation();
  auto fail = [&](const std::string &msg) {
    module.emitError() << "dl-select-conv-algorithms: " << msg;
    signalPassFailure();
  };
  Spec spec;
  if (std::string e = parseSpec(convAlgorithm, spec); !e.empty())
    return fail(e);
  if (workspaceLimit < 0)
    return fail("workspace-limit must be >= 0 bytes (0: no limit), got " +
                std::to_string(int64_t(workspaceLimit)));

  // The oracle: the cost table, else the one handed over in C++, else the
  // cost model at the given rates.
  std::shared_ptr<ops::ConvCostOracle> oracle;
  if (!costTable.empty()) {
    std::string error;
    oracle = ops::createTableOracle(costTable, error);
    if (!oracle)
      return fail(error);
  } else if (givenOracle) {
    oracle = givenOracle;
  } else {
    ops::MachineRates machine;
    if (std::string e = parseRates(rates, machine); !e.empty())
      return fail(e);
    oracle = ops::createCostModelOracle(machine);
  }

  // Every direction of every 2-D convolution, in program order (ops the
  // reference implementation runs are not selected).
  std::vector<Site> sites;
  std::set<std::string> convLayers, otherLayers;
  std::map<std::string, std::set<ops::ConvDirection>> directionsOf;
  module.walk([&](Operation *op) {
    if (isa<dl::DeconvolutionOp>(op)) {
      otherLayers.insert(dl::layerNameOf(op));
      return;
    }
    bool isConv = false;
    std::optional<ops::ConvProblem> p = problemOf(op, isConv);
    if (!p) {
      if (isConv)
        otherLayers.insert(dl::layerNameOf(op));
      return;
    }
    convLayers.insert(p->layer);
    directionsOf[p->layer].insert(p->direction);
    auto impl = op->getAttrOfType<StringAttr>("dl.impl");
    if (impl && impl.getValue() == "ref")
      return;
    sites.push_back({op, std::move(*p)});
  });

  // Spec entries must name layers (and directions) of this module.
  auto checkLayer = [&](const std::string &layer, const Request &r,
                        std::optional<ops::ConvDirection> dir) -> bool {
    if (!convLayers.count(layer)) {
      std::string msg = "conv-algorithm entry '" + r.text + "': ";
      if (otherLayers.count(layer))
        msg += "layer '" + layer + "' is not a 2-D convolution (algorithms are chosen for 2-D "
                                   "convolutions only)";
      else
        msg += "no convolution layer '" + layer + "' in the net (2-D convolution layers: " +
               (convLayers.empty() ? std::string("none")
                                   : llvm::join(convLayers.begin(), convLayers.end(), ", ")) +
               ")";
      fail(msg);
      return false;
    }
    if (dir && !directionsOf[layer].count(*dir)) {
      std::string have;
      for (ops::ConvDirection d : directionsOf[layer])
        have += (have.empty() ? "" : ", ") + std::string(ops::convDirectionName(d));
      fail("conv-algorithm entry '" + r.text + "': layer '" + layer + "' has no " +
           ops::convDirectionName(*dir) + " convolution in this module (it has: " + have + ")");
      return false;
    }
    return true;
  };
  bool specOk = true;
  for (auto &[layer, r] : spec.layers)
    specOk &= checkLayer(layer, r, std::nullopt);
  for (auto &[key, r] : spec.directions)
    specOk &= checkLayer(key.first, r, key.second);
  if (!specOk)
    return;

  Builder b(module.getContext());
  const int64_t limit = workspaceLimit;
  bool failedAny = false;
  SmallVector<std::string> wholeFailures; // layers the whole-net algorithm fails
  for (Site &site : sites) {
    Operation *op = site.op;
    const ops::ConvProblem &p = site.problem;
    const char *dirName = ops::convDirectionName(p.direction);
    std::vector<ops::ConvCandidate> cands = ops::convCandidates(p, oracle->rates());
    std::set<std::string> overLimit;
    for (ops::ConvCandidate &c : cands)
      if (limit > 0 && c.whyNot.empty() && c.work.workspaceBytes > limit) {
        c.whyNot = "needs " + std::to_string(c.work.workspaceBytes) + " bytes of workspace (" +
                   mib(c.work.workspaceBytes) + "), over the limit of " + std::to_string(limit) +
                   " bytes";
        overLimit.insert(c.algorithm);
      }
    if (std::string e = oracle->evaluate(p, cands); !e.empty()) {
      op->emitError() << e; // the oracle names the layer and direction
      failedAny = true;
      continue;
    }
    auto find = [&](StringRef name) -> const ops::ConvCandidate & {
      for (const ops::ConvCandidate &c : cands)
        if (c.algorithm == name)
          return c;
      llvm_unreachable("every algorithm is a candidate");
    };

    bool whole = false;
    const Request *req = requestFor(spec, p, whole);
    std::string algorithm, reason, source;
    if (req && req->algorithm != "auto") {
      const ops::ConvCandidate &c = find(req->algorithm);
      if (c.whyNot.empty()) {
        algorithm = c.algorithm;
        reason = "forced by --conv-algo " + req->text;
        source = "forced";
      } else if (whole && spec.fallback) {
        // The whole-net algorithm does not apply here: the fallback does.
        std::string lead = req->algorithm + " does not apply (" + c.whyNot + "); fallback=";
        if (spec.fallback->algorithm == "auto") {
          const ops::ConvCandidate &best = fastest(cands, reason);
          algorithm = best.algorithm;
          reason = lead + "auto: " + reason;
          source = best.source.empty() ? "default" : best.source;
        } else {
          const ops::ConvCandidate &f = find(spec.fallback->algorithm);
          if (!f.whyNot.empty()) {
            op->emitError() << "layer '" << p.layer << "' (" << dirName << "): neither "
                            << req->algorithm << " (" << c.whyNot << ") nor the fallback "
                            << f.algorithm << " (" << f.whyNot << ") applies";
            failedAny = true;
            continue;
          }
          algorithm = f.algorithm;
          reason = lead + f.algorithm;
          source = "forced";
        }
      } else {
        op->emitError() << "layer '" << p.layer << "' (" << dirName << "): cannot use "
                        << req->algorithm << " (forced by --conv-algo " << req->text
                        << "): " << c.whyNot;
        if (whole && !llvm::is_contained(wholeFailures, p.layer))
          wholeFailures.push_back(p.layer);
        failedAny = true;
        continue;
      }
    } else {
      const ops::ConvCandidate &best = fastest(cands, reason);
      algorithm = best.algorithm;
      source = best.source.empty() ? "default" : best.source;
    }

    SmallVector<Attribute> list;
    for (const ops::ConvCandidate &c : cands) {
      SmallVector<NamedAttribute> fields = {
          b.getNamedAttr("algorithm", b.getStringAttr(c.algorithm)),
          b.getNamedAttr("seconds", b.getF64FloatAttr(c.whyNot.empty() ? c.seconds : -1.0)),
          b.getNamedAttr("workspace", b.getI64IntegerAttr(
                                          overLimit.count(c.algorithm) || c.whyNot.empty()
                                              ? c.work.workspaceBytes
                                              : 0)),
          b.getNamedAttr("max_error", b.getF64FloatAttr(c.maxError)),
          b.getNamedAttr("source", b.getStringAttr(c.source)),
          b.getNamedAttr("why_not", b.getStringAttr(c.whyNot))};
      list.push_back(b.getDictionaryAttr(fields));
    }
    op->setAttr("dl.impl", b.getStringAttr(algorithm));
    op->setAttr("dl.conv_selection",
                b.getDictionaryAttr({b.getNamedAttr("algorithm", b.getStringAttr(algorithm)),
                                     b.getNamedAttr("reason", b.getStringAttr(reason)),
                                     b.getNamedAttr("source", b.getStringAttr(source)),
                                     b.getNamedAttr("candidates", b.getArrayAttr(list))}));
  }
  if (!sites.empty())
    module->setAttr("dl.conv_oracle", b.getStringAttr(oracle->describe()));
  if (!wholeFailures.empty())
    module.emitError() << "--conv-algo " << spec.net->text << " does not apply to "
                       << (wholeFailures.size() == 1 ? "layer " : "layers ")
                       << llvm::join(wholeFailures, ", ")
                       << "; add fallback=auto (or fallback=ALGO) to --conv-algo to choose "
                          "another algorithm there";
  if (failedAny)
    signalPassFailure();
}

} // namespace

std::unique_ptr<Pass>
mlir::dl::createDLSelectConvAlgorithms(const DLSelectConvAlgorithmsOptions &options,
                                       std::shared_ptr<dlc::ops::ConvCostOracle> oracle) {
  return std::make_unique<SelectConvAlgorithms>(options, std::move(oracle));
}

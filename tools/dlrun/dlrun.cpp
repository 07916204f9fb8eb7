//===- dlrun.cpp - Run, time and check a compiled dlc module ---------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// dlrun model.dlcm [options]
//
// Loads a .dlcm module, fills its inputs (from .npy files or with random data
// under the seed), runs it and reports. --bench times it like `caffe time`,
// --check compares every blob with the reference implementation.
//
// A module compiled with `dlc compile --gradient` has two entries: forward
// (the FORWARD kernels) and gradient (forward + backward, no weight update).
// --entry forward|gradient|both (default: both when the module has a
// gradient, else forward) selects what runs: a plain run and --check use the
// gradient entry when it is selected (so gradient blobs are computed and
// compared), --bench times each selected entry separately.
//
// Exit codes (dlc/Support/ExitCodes.h, shared with dlc): 0 success; 1 user
// error (bad arguments, unreadable or invalid module or .npy, kernel creation
// error); 3 --check found a blob beyond the tolerance; 70 internal error.
//
// Links neither MLIR nor LLVM (checked by test/tools/dlrun-deps.test).
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Npy.h"
#include "dlc/Support/ExitCodes.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <set>

#include <omp.h>
#include <sys/stat.h>

using namespace dlc::rt;
using dlc::kExitCheckFailed;
using dlc::kExitInternal;
using dlc::kExitOk;
constexpr int kExitUser = dlc::kExitUserError;
using json = nlohmann::json;

namespace {

/// A user-facing error: printed as "dlrun: error: <msg>", exit code 1.
struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::string module;
  bool bench = false;
  int iterations = 50;
  int warmup = 5;
  int threads = 0;
  std::optional<uint64_t> seed;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::string dumpDir;
  bool check = false;
  double tolerance = 1e-3;
  std::string checkMode = "per-kernel";
  bool perLayer = true;
  std::string jsonPath;
  std::string impl = "auto";
  bool quiet = false;
  std::string entry; ///< "forward", "gradient", "both"; empty: the module's default
};

/// Which entries a run covers.
struct Entries {
  bool forward = true, gradient = false;
  /// The entry a plain run and --check use: the widest one selected.
  Entry main() const { return gradient ? Entry::Gradient : Entry::Forward; }
};

std::pair<std::string, std::string> splitAssign(const std::string &s) {
  auto eq = s.find('=');
  if (eq == std::string::npos)
    return {"", s};
  return {s.substr(0, eq), s.substr(eq + 1)};
}

std::string sanitize(const std::string &name) {
  std::string s;
  for (char c : name)
    s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
          c == '@')
             ? c
             : '_';
  return s.empty() ? "_" : s;
}

json statsJson(const Stats &s) {
  return {{"median_ms", s.median}, {"min_ms", s.min},       {"max_ms", s.max},
          {"mean_ms", s.mean},     {"stddev_ms", s.stddev}, {"count", s.count}};
}

/// JSON cannot hold inf/nan: use null for them.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json summary(const Executor &ex, int t) {
  const std::vector<float> plain = ex.read(ex.tensorName(t)); // Caffe's layout
  const float *p = plain.data();
  int64_t n = ex.tensorElements(t);
  double mn = std::numeric_limits<double>::infinity(), mx = -mn, sum = 0;
  int64_t argmax = -1;
  for (int64_t i = 0; i < n; ++i) {
    mn = std::min(mn, double(p[i]));
    if (argmax < 0 || p[i] > mx) {
      mx = p[i];
      argmax = i;
    }
    sum += p[i];
  }
  json j = {{"name", ex.tensorName(t)}, {"shape", ex.tensorShape(t)}, {"elements", n}};
  if (n > 0) {
    j["min"] = number(mn);
    j["max"] = number(mx);
    j["mean"] = number(sum / double(n));
    j["argmax"] = argmax;
  }
  return j;
}

/// Width of the "algorithm" column (the convolution algorithms chosen per
/// direction, docs/convolution.md), 0 when no layer has one.
int algorithmWidth(const std::vector<LayerTiming> &layers) {
  size_t w = 0;
  for (const LayerTiming &l : layers)
    w = std::max(w, l.algorithms.size());
  return w ? int(std::max<size_t>(w, 9) + 2) : 0;
}

/// The parts a layer's kernels time themselves (LayerTiming::phases), one
/// indented line each under the layer's row.
void printPhases(const LayerTiming &l) {
  for (const LayerTiming::Phase &p : l.phases)
    std::printf("      %s: median %.4f ms, min %.4f, max %.4f\n", p.name.c_str(), p.stats.median,
                p.stats.min, p.stats.max);
}

void printForwardTiming(const BenchResult &r) {
  if (!r.layers.empty()) {
    std::printf("Per-layer forward time (ms; %d runs in a separate timed pass, %d thread%s):\n",
                r.iterations, r.threads, r.threads == 1 ? "" : "s");
    size_t wl = 5, wo = 2, wi = 4;
    for (const LayerTiming &l : r.layers) {
      wl = std::max(wl, l.layer.size());
      wo = std::max(wo, l.op.size());
      wi = std::max(wi, l.impl.size());
    }
    const int wa = algorithmWidth(r.layers);
    std::printf("  %-*s  %-*s  %10s  %10s  %10s  %6s  %-*s%s\n", int(wl), "layer", int(wo), "op",
                "median", "min", "max", "%", wa, wa ? "algorithm" : "", "impl");
    for (const LayerTiming &l : r.layers) {
      double pct = r.sumLayerMedians > 0 ? 100.0 * l.stats.median / r.sumLayerMedians : 0;
      std::printf("  %-*s  %-*s  %10.4f  %10.4f  %10.4f  %6.2f  %-*s%s\n", int(wl), l.layer.c_str(),
                  int(wo), l.op.c_str(), l.stats.median, l.stats.min, l.stats.max, pct, wa,
                  l.algorithms.c_str(), l.impl.c_str());
      printPhases(l);
    }
  }
  std::printf("Network forward (%d runs after %d warmup, %d thread%s): median %.4f ms, min %.4f ms, "
              "max %.4f ms, mean %.4f ms, stddev %.4f ms\n",
              r.iterations, r.warmup, r.threads, r.threads == 1 ? "" : "s", r.total.median,
              r.total.min, r.total.max, r.total.mean, r.total.stddev);
  if (!r.layers.empty())
    std::printf("Reconciliation: sum of per-layer medians %.4f ms vs network median %.4f ms "
                "(ratio %.3f)\n",
                r.sumLayerMedians, r.total.median, r.ratio);
}

void printEntry(const char *what, const BenchResult &r) {
  std::printf("Network %s%d runs after %d warmup, %d thread%s): median %.4f ms, min %.4f ms, "
              "max %.4f ms, mean %.4f ms, stddev %.4f ms\n",
              what, r.iterations, r.warmup, r.threads, r.threads == 1 ? "" : "s", r.total.median,
              r.total.min, r.total.max, r.total.mean, r.total.stddev);
}

std::string ms(const Stats &s) {
  if (s.count == 0)
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", s.median);
  return buf;
}

/// Timing of a module with a gradient: one table of per-layer medians by role
/// (from the gradient entry's per-layer pass when it was timed, else from the
/// forward entry's), then each entry's end-to-end figures and reconciliation.
void printGradientTiming(const BenchResult *fwd, const BenchResult *grad) {
  const BenchResult *table = grad ? grad : fwd;
  if (!table->layers.empty()) {
    std::printf("Per-layer time (ms, medians; %s entry, %d runs in a separate timed pass, "
                "%d thread%s):\n",
                entryName(table->entry), table->iterations, table->threads,
                table->threads == 1 ? "" : "s");
    size_t wl = 5, wo = 2, wi = 4;
    for (const LayerTiming &l : table->layers) {
      wl = std::max(wl, l.layer.size());
      wo = std::max(wo, l.op.size());
      wi = std::max(wi, l.impl.size());
    }
    const int wa = algorithmWidth(table->layers);
    std::printf("  %-*s  %-*s  %10s  %12s  %15s  %6s  %-*s%s\n", int(wl), "layer", int(wo), "op",
                "fwd ms", "bwd-data ms", "bwd-weights ms", "%", wa, wa ? "algorithm" : "", "impl");
    for (const LayerTiming &l : table->layers) {
      double sum = l.forward.median + l.backwardData.median + l.backwardWeights.median;
      double pct = table->sumLayerMedians > 0 ? 100.0 * sum / table->sumLayerMedians : 0;
      std::printf("  %-*s  %-*s  %10s  %12s  %15s  %6.2f  %-*s%s\n", int(wl), l.layer.c_str(),
                  int(wo), l.op.c_str(), ms(l.forward).c_str(), ms(l.backwardData).c_str(),
                  ms(l.backwardWeights).c_str(), pct, wa, l.algorithms.c_str(), l.impl.c_str());
      printPhases(l);
    }
    if (grad) {
      double f = 0, d = 0, w = 0;
      for (const LayerTiming &l : grad->layers) {
        f += l.forward.median;
        d += l.backwardData.median;
        w += l.backwardWeights.median;
      }
      std::printf("  %-*s  %-*s  %10.4f  %12.4f  %15.4f  %6.2f\n", int(wl), "total", int(wo), "",
                  f, d, w, grad->sumLayerMedians > 0 ? 100.0 : 0.0);
    }
  }
  if (fwd)
    printEntry("forward (", *fwd);
  if (grad)
    printEntry("gradient (forward + backward; ", *grad);
  if (fwd && !fwd->layers.empty())
    std::printf("Reconciliation, forward entry: sum of per-layer forward medians %.4f ms vs "
                "network forward median %.4f ms (ratio %.3f)\n",
                fwd->sumLayerMedians, fwd->total.median, fwd->ratio);
  if (grad && !grad->layers.empty())
    std::printf("Reconciliation, gradient entry: sum of per-layer medians (fwd + bwd-data + "
                "bwd-weights) %.4f ms vs network gradient median %.4f ms (ratio %.3f)\n",
                grad->sumLayerMedians, grad->total.median, grad->ratio);
}

json layerJson(const LayerTiming &l, bool withRoles) {
  json j = {{"layer", l.layer}, {"op", l.op}, {"impl", l.impl}, {"stats", statsJson(l.stats)}};
  if (!l.algorithms.empty())
    j["algorithms"] = l.algorithms;
  if (!l.phases.empty()) {
    json phases = json::array();
    for (const LayerTiming::Phase &p : l.phases)
      phases.push_back({{"name", p.name}, {"stats", statsJson(p.stats)}});
    j["phases"] = phases;
  }
  if (withRoles) {
    auto role = [](const Stats &s) { return s.count ? statsJson(s) : json(nullptr); };
    j["forward"] = role(l.forward);
    j["backward_data"] = role(l.backwardData);
    j["backward_weights"] = role(l.backwardWeights);
  }
  return j;
}

/// One dlrun invocation: the loaded module and executor, the entries it runs
/// and the JSON report it builds. Each stage below is one of dlrun's jobs.
struct Session {
  const Options &o;
  std::shared_ptr<const LoadedModule> module;
  ExecutorOptions eo;
  std::unique_ptr<Executor> ex;
  Entries entries;
  json report;
  /// Blob values captured right after their kernel ran (--dump-blobs).
  std::vector<std::vector<float>> dumps;

  explicit Session(const Options &options) : o(options) {}
  Entry mainEntry() const { return entries.main(); }
};

void load(Session &s) {
  const Options &o = s.o;
  LoadedModule loaded;
  std::string error;
  if (!readModule(o.module, loaded, error))
    throw UserError(error);
  s.module = std::make_shared<const LoadedModule>(std::move(loaded));
  s.eo.threads = o.threads;
  s.eo.seed = o.seed;
  s.eo.mode = o.impl == "ref" ? ExecMode::Reference : ExecMode::Optimized;
  s.ex = std::make_unique<Executor>(s.module, s.eo);
  Executor &ex = *s.ex;
  if (o.entry.empty()) {
    s.entries.gradient = ex.hasGradient();
  } else {
    s.entries.forward = o.entry != "gradient";
    s.entries.gradient = o.entry != "forward";
    if (s.entries.gradient && !ex.hasGradient())
      throw UserError(o.module + ": error: --entry " + o.entry +
                      ": module has no gradient; compile with dlc compile --gradient");
  }
  s.report["module"] = o.module;
  s.report["name"] = ex.moduleName();
  s.report["producer"] = ex.producer();
  s.report["seed"] = ex.seed();
  s.report["threads"] = omp_get_max_threads();
  s.report["impl"] = o.impl;
  s.report["has_gradient"] = ex.hasGradient();
  s.report["entry"] = o.entry.empty() ? (s.entries.gradient ? "both" : "forward") : o.entry;
}

/// The graph input `name` (or the only one when empty); `what` names the option.
int inputNamed(const Executor &ex, std::string name, const std::string &spec) {
  if (name.empty()) {
    if (ex.inputs().size() != 1)
      throw UserError("--input " + spec + ": the module has " + std::to_string(ex.inputs().size()) +
                      " inputs; use --input <name>=<file.npy>");
    name = ex.tensorName(ex.inputs()[0]);
  }
  int t = ex.tensorIndex(name);
  if (t < 0 || std::find(ex.inputs().begin(), ex.inputs().end(), t) == ex.inputs().end()) {
    std::string names;
    for (int i : ex.inputs())
      names += (names.empty() ? "" : ", ") + ex.tensorName(i);
    throw UserError("--input: '" + name + "' is not an input of the module (inputs: " +
                    (names.empty() ? "none" : names) + ")");
  }
  return t;
}

/// --input files first, then random data (by each input's role) for the rest.
void setInputs(Session &s) {
  Executor &ex = *s.ex;
  std::vector<std::string> given;
  json inputsJson = json::array();
  std::string error;
  for (const std::string &spec : s.o.inputs) {
    auto [name, path] = splitAssign(spec);
    int t = inputNamed(ex, name, spec);
    name = ex.tensorName(t);
    if (std::find(given.begin(), given.end(), name) != given.end())
      throw UserError("--input: '" + name + "' given twice");
    NpyArray arr;
    if (!readNpy(path, arr, error))
      throw UserError(error);
    if (arr.shape != ex.tensorShape(t))
      throw UserError(path + ": error: shape " + shapeToString(arr.shape) +
                      " does not match input '" + name + "' of shape " +
                      shapeToString(ex.tensorShape(t)));
    ex.setInput(name, arr.data);
    given.push_back(name);
    inputsJson.push_back({{"name", name}, {"source", path}});
  }
  for (const InputFill &f : fillDefaultInputs(ex, ex.seed(), given)) {
    inputsJson.push_back({{"name", f.name}, {"source", "random"}, {"fill", f.how}});
    if (!s.o.quiet)
      std::printf("input '%s': random %s (seed %llu)\n", f.name.c_str(), f.how.c_str(),
                  static_cast<unsigned long long>(ex.seed()));
  }
  s.report["inputs"] = inputsJson;
}

/// The --output targets, checked before anything runs.
std::vector<std::pair<int, std::string>> outputTargets(const Session &s) {
  const Executor &ex = *s.ex;
  std::vector<std::pair<int, std::string>> targets;
  for (const std::string &spec : s.o.outputs) {
    auto [name, path] = splitAssign(spec);
    if (name.empty()) {
      if (ex.outputs().size() != 1)
        throw UserError("--output " + spec + ": the module has " +
                        std::to_string(ex.outputs().size()) +
                        " outputs; use --output <name>=<file.npy>");
      name = ex.tensorName(ex.outputs()[0]);
    }
    int t = ex.tensorIndex(name);
    if (t < 0)
      throw UserError("--output: no tensor named '" + name + "' in the module");
    if (std::string fused = ex.fusedInto(t); !fused.empty())
      throw UserError("--output: '" + name + "' is computed inside the fused kernel '" + fused +
                      "' and not kept; compile with dlc compile --no-fuse to read it");
    if (!ex.computedBy(s.mainEntry(), t))
      throw UserError("--output: '" + name +
                      "' is computed by the gradient entry, which --entry forward does not run");
    targets.emplace_back(t, path);
  }
  return targets;
}

void prepareDumpDir(const std::string &dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (::mkdir(dir.c_str(), 0777) != 0)
      throw UserError(dir + ": error: cannot create directory: " + std::strerror(errno));
  } else if (!S_ISDIR(st.st_mode)) {
    throw UserError(dir + ": error: not a directory");
  }
}

/// One run of the main entry. Blob dumps are taken right after each
/// producing kernel, so arena reuse later in the run cannot overwrite them.
void runOnce(Session &s) {
  Executor &ex = *s.ex;
  if (s.o.dumpDir.empty()) {
    ex.run(s.mainEntry());
    return;
  }
  s.dumps.resize(size_t(ex.numTensors()));
  ex.run(s.mainEntry(), [&](int k) {
    for (int out : ex.kernelOutputs(k))
      s.dumps[out] = ex.read(ex.tensorName(out)); // in Caffe's plain layout
  });
}

/// The value of tensor t after the run (its dump when one was taken), in
/// Caffe's plain layout.
std::vector<float> valueAfterRun(const Session &s, int t) {
  if (!s.dumps.empty() && !s.dumps[t].empty())
    return s.dumps[t];
  return s.ex->read(s.ex->tensorName(t));
}

void writeDumps(const Session &s) {
  const Executor &ex = *s.ex;
  std::set<std::string> used;
  std::string error;
  for (int t = 0; t < ex.numTensors(); ++t) {
    bool isInput = ex.tensorKind(t) == TensorKind::Input;
    if (std::string fused = ex.fusedInto(t); !fused.empty()) {
      if (ex.kernelInfo(ex.fusedKernel(t)).role != KernelRole::Forward) {
        std::fprintf(stderr,
                     "dlrun: note: blob '%s' is recomputed inside the fused backward kernel "
                     "'%s' and not kept; it exists only in fused modules\n",
                     ex.tensorName(t).c_str(), fused.c_str());
        continue;
      }
      std::fprintf(stderr,
                   "dlrun: note: blob '%s' is computed inside the fused kernel '%s' and not "
                   "kept, so it is not dumped (compile with dlc compile --no-fuse to dump it)\n",
                   ex.tensorName(t).c_str(), fused.c_str());
      continue;
    }
    if (!isInput &&
        (ex.tensorKind(t) != TensorKind::Activation || !ex.computedBy(s.mainEntry(), t)))
      continue;
    std::string file = sanitize(ex.tensorName(t));
    while (!used.insert(file).second)
      file += "_";
    const float *p = isInput ? ex.tensorData(t) : s.dumps[t].data();
    if (!writeNpy(s.o.dumpDir + "/" + file + ".npy", ex.tensorShape(t), p, error))
      throw UserError(error);
  }
}

/// Which implementation each kernel got, and why a preferred backend was
/// passed over.
json kernelsJson(const Executor &ex) {
  json kernels = json::array();
  for (int k = 0; k < ex.numKernels(); ++k) {
    const KernelInfo &info = ex.kernelInfo(k);
    kernels.push_back({{"layer", info.layer},
                       {"op", info.op},
                       {"impl", info.impl},
                       {"backend", info.backend},
                       {"requested_impl", info.requestedImpl},
                       {"fell_back", info.fellBack},
                       {"fallback_reason", info.fallbackReason},
                       {"role", roleName(info.role)}});
  }
  return kernels;
}

void reportOutputs(Session &s) {
  const Executor &ex = *s.ex;
  json outs = json::array();
  for (int t : ex.outputs()) {
    if (!ex.computedBy(s.mainEntry(), t))
      continue; // a gradient output of an entry that did not run
    json j = summary(ex, t);
    outs.push_back(j);
    if (s.o.quiet)
      continue;
    std::printf("output '%s' %s", ex.tensorName(t).c_str(),
                shapeToString(ex.tensorShape(t)).c_str());
    if (ex.tensorElements(t) > 0)
      std::printf(": min %g, max %g, mean %g, argmax %lld",
                  j["min"].is_null() ? NAN : j["min"].get<double>(),
                  j["max"].is_null() ? NAN : j["max"].get<double>(),
                  j["mean"].is_null() ? NAN : j["mean"].get<double>(),
                  static_cast<long long>(j["argmax"].get<int64_t>()));
    std::printf("\n");
  }
  s.report["outputs"] = outs;
}

/// --check: every blob against the reference implementation.
int check(Session &s) {
  ExecutorOptions ro = s.eo;
  ro.mode = ExecMode::Reference;
  Executor ref(s.module, ro);
  CheckResult cr = checkAgainstReference(
      *s.ex, ref, s.o.tolerance, s.mainEntry(),
      s.o.checkMode == "end-to-end" ? CheckMode::EndToEnd : CheckMode::PerKernel);
  size_t wn = 4;
  for (const BlobCheck &b : cr.blobs)
    wn = std::max(wn, b.name.size());
  std::printf("Check against the reference implementation (%s, tolerance %g, relative error "
              "|a-b| / max(|b|, 1e-2 * max|b|); FFT and Winograd blobs also pass within their "
              "algorithm's bound on max abs, docs/convolution.md)%s:\n",
              checkModeName(cr.mode), cr.tolerance,
              cr.entry == Entry::Gradient ? ", gradient entry: forward and gradient blobs" : "");
  std::printf("  %-*s  %12s  %12s  %s\n", int(wn), "blob", "max abs", "max rel", "result");
  json blobs = json::array();
  for (const BlobCheck &b : cr.blobs) {
    std::string result = b.pass ? "ok" : "FAIL";
    if (!b.algorithm.empty() && (b.maxRel > cr.tolerance || !b.pass)) {
      char buf[160];
      std::snprintf(buf, sizeof buf, " (%s: bound max abs <= %g * max|b| = %.4g)",
                    b.algorithm.c_str(), b.algorithmBound, b.algorithmBound * b.scale);
      result += buf;
    }
    std::printf("  %-*s  %12.4g  %12.4g  %s\n", int(wn), b.name.c_str(), b.maxAbs, b.maxRel,
                result.c_str());
    blobs.push_back({{"name", b.name},
                     {"layer", b.layer},
                     {"elements", b.elements},
                     {"max_abs", number(b.maxAbs)},
                     {"max_rel", number(b.maxRel)},
                     {"worst_index", b.worstIndex},
                     {"role", roleName(b.role)},
                     {"pass", b.pass}});
    if (!b.algorithm.empty()) {
      blobs.back()["algorithm"] = b.algorithm;
      blobs.back()["algorithm_bound"] = b.algorithmBound;
      blobs.back()["max_abs_bound"] = number(b.algorithmBound * b.scale);
    }
  }
  std::printf("check: %s (%d of %zu blobs beyond tolerance)\n", cr.pass ? "PASSED" : "FAILED",
              cr.failures, cr.blobs.size());
  s.report["check"] = {{"entry", entryName(cr.entry)},
                       {"mode", checkModeName(cr.mode)},
                       {"tolerance", cr.tolerance},
                       {"pass", cr.pass},
                       {"blobs", blobs}};
  return cr.pass ? kExitOk : kExitCheckFailed;
}

/// Kernels a preferred backend did not take, with the reason.
void printFallbacks(const Executor &ex, const Entries &entries) {
  const int K = ex.numKernels(entries.main());
  bool any = false;
  for (int k = 0; k < K; ++k) {
    const KernelInfo &info = ex.kernelInfo(k);
    if (!info.fellBack)
      continue;
    if (!any)
      std::printf("Kernels on a fallback backend:\n");
    any = true;
    std::printf("  %s (%s): %s -> %s\n", info.layer.c_str(), info.op.c_str(),
                info.fallbackReason.c_str(), info.backend.c_str());
  }
}

/// --bench: each selected entry, printed and recorded.
void bench(Session &s) {
  Executor &ex = *s.ex;
  const Options &o = s.o;
  std::optional<BenchResult> fwd, grad;
  if (s.entries.forward)
    fwd = ex.bench(Entry::Forward, o.warmup, o.iterations, o.perLayer);
  if (s.entries.gradient)
    grad = ex.bench(Entry::Gradient, o.warmup, o.iterations, o.perLayer);
  const BenchResult &any = fwd ? *fwd : *grad;
  if (!ex.hasGradient())
    printForwardTiming(*fwd);
  else
    printGradientTiming(fwd ? &*fwd : nullptr, grad ? &*grad : nullptr);
  printFallbacks(ex, s.entries);
  const MemoryReport mem = ex.memory();
  auto mib = [](uint64_t b) { return double(b) / (1024.0 * 1024.0); };
  const uint64_t activations = mem.arena + mem.unplanned;
  std::printf("Memory: params %.2f MiB, activations %.2f MiB planned (every blob in its own "
              "buffer: %.2f MiB, %.0f%% saved; %d kernels in place), executor scratch %.2f MiB, "
              "peak RSS %.1f MiB\n",
              mib(mem.params), mib(activations), mib(mem.naive),
              mem.naive ? 100.0 * (1.0 - double(activations) / double(mem.naive)) : 0.0,
              mem.inPlace, mib(mem.scratch), mib(mem.peakRss));

  json j = {{"warmup", any.warmup},
            {"iterations", any.iterations},
            {"threads", any.threads},
            {"entries", json::array()}};
  if (fwd)
    j["entries"].push_back("forward");
  if (grad)
    j["entries"].push_back("gradient");
  // bench.total and bench.layers[].stats: the forward entry, as for modules
  // without a gradient. Per layer, forward / backward_data / backward_weights
  // come from the gradient entry's per-layer pass when it was timed.
  if (fwd) {
    j["total"] = statsJson(fwd->total);
    j["sum_layer_medians_ms"] = fwd->sumLayerMedians;
    j["ratio"] = fwd->ratio;
  }
  if (grad) {
    json g = statsJson(grad->total);
    g["sum_layer_medians_ms"] = grad->sumLayerMedians;
    g["ratio"] = grad->ratio;
    j["gradient"] = g;
  }
  json layers = json::array();
  if (grad) {
    for (const LayerTiming &l : grad->layers) {
      json lj = layerJson(l, true);
      lj.erase("stats");
      lj["gradient_stats"] = statsJson(l.stats);
      if (fwd)
        for (const LayerTiming &f : fwd->layers)
          if (f.layer == l.layer)
            lj["stats"] = statsJson(f.stats);
      layers.push_back(lj);
    }
  } else {
    for (const LayerTiming &l : fwd->layers)
      layers.push_back(layerJson(l, ex.hasGradient()));
  }
  j["layers"] = layers;
  j["memory"] = {{"params_bytes", mem.params},       {"arena_bytes", mem.arena},
                 {"unplanned_bytes", mem.unplanned}, {"naive_bytes", mem.naive},
                 {"scratch_bytes", mem.scratch},     {"in_place_kernels", mem.inPlace},
                 {"peak_rss_bytes", mem.peakRss}};
  s.report["bench"] = j;
}

void writeReport(const Session &s) {
  std::ofstream out(s.o.jsonPath);
  if (!out)
    throw UserError(s.o.jsonPath + ": error: cannot open for writing: " + std::strerror(errno));
  out << s.report.dump(2) << "\n";
  if (!out)
    throw UserError(s.o.jsonPath + ": error: write failed");
}

int runTool(const Options &o) {
  Session s(o);
  load(s);
  setInputs(s);
  std::vector<std::pair<int, std::string>> outputFiles = outputTargets(s);
  if (!o.dumpDir.empty())
    prepareDumpDir(o.dumpDir);
  runOnce(s);
  if (!o.dumpDir.empty())
    writeDumps(s);
  s.report["kernels"] = kernelsJson(*s.ex);
  reportOutputs(s);
  std::string error;
  for (auto &[t, path] : outputFiles)
    if (!writeNpy(path, s.ex->tensorShape(t), valueAfterRun(s, t).data(), error))
      throw UserError(error);
  int rc = o.check ? check(s) : kExitOk;
  if (o.bench)
    bench(s);
  if (!o.jsonPath.empty())
    writeReport(s);
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  CLI::App app{"dlrun: run, time and check a compiled dlc module (.dlcm)"};
  app.add_option("module", o.module, "Compiled module (.dlcm)")->required();
  app.add_flag("--bench", o.bench,
               "Time the network (end-to-end and per layer; each entry separately)");
  app.add_option("--iterations", o.iterations, "Timed runs for --bench (default 50)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--warmup", o.warmup, "Untimed runs before timing (default 5)")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--threads", o.threads, "OpenMP threads (default: OpenMP's default)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--seed", o.seed,
                 "Seed for random inputs and filler-initialised params (default: the module's)");
  app.add_option("--input", o.inputs, "[name=]file.npy: value of a graph input (repeatable)");
  app.add_option("--output", o.outputs,
                 "[name=]file.npy: write a tensor (default: the only net output) (repeatable)");
  app.add_option("--dump-blobs", o.dumpDir, "Write every input and blob as DIR/<name>.npy");
  app.add_flag("--check", o.check,
               "Compare every blob with the reference implementation (with the gradient entry: "
               "every forward and gradient blob)");
  app.add_option("--check-mode", o.checkMode,
                 "per-kernel (default: each reference kernel reads the optimized inputs) or "
                 "end-to-end (the reference runs the whole net on its own values)")
      ->check(CLI::IsMember({"per-kernel", "end-to-end"}));
  app.add_option("--tolerance", o.tolerance, "Relative tolerance for --check (default 1e-3)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--per-layer,!--no-per-layer", o.perLayer, "Per-layer timing with --bench (default on)");
  app.add_option("--json", o.jsonPath, "Write a JSON report");
  app.add_option("--impl", o.impl, "auto: the module's implementations; ref: reference kernels only")
      ->check(CLI::IsMember({"auto", "ref"}));
  app.add_flag("--quiet,-q", o.quiet, "Print only timing and check tables");
  app.add_option("--entry", o.entry,
                 "forward | gradient | both: what to run, check and time (default: both when the "
                 "module has a gradient, else forward)")
      ->check(CLI::IsMember({"forward", "gradient", "both"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    app.exit(e);
    return kExitUser;
  }
  if (app.count("--tolerance") && !o.check) {
    std::fprintf(stderr, "dlrun: error: --tolerance needs --check\n");
    return kExitUser;
  }
  try {
    return runTool(o);
  } catch (const UserError &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "dlrun: %s%s\n", std::strstr(e.what(), ": error: ") ? "" : "error: ", e.what());
    return kExitUser;
  } catch (const Error &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "dlrun: %s%s\n", std::strstr(e.what(), ": error: ") ? "" : "error: ", e.what());
    return kExitUser;
  } catch (const std::bad_alloc &) {
    std::fflush(stdout);
    std::fprintf(stderr, "dlrun: error: out of memory\n");
    return kExitInternal;
  } catch (const std::exception &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "dlrun: internal error: %s\n", e.what());
    return kExitInternal;
  } catch (...) {
    std::fflush(stdout);
    std::fprintf(stderr, "dlrun: internal error: unknown exception\n");
    return kExitInternal;
  }
}

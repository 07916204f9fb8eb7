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
// Exit codes: 0 success; 1 user error (bad arguments, unreadable or invalid
// module or .npy, kernel creation error); 3 --check found a blob beyond the
// tolerance; 70 internal error (unexpected exception).
//
// Links neither MLIR nor LLVM (checked by test/tools/dlrun-deps.test).
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Npy.h"

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
using json = nlohmann::json;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUser = 1;
constexpr int kExitCheckFailed = 3;
constexpr int kExitInternal = 70;

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
  const float *p = ex.tensorData(t);
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
    std::printf("  %-*s  %-*s  %10s  %10s  %10s  %6s  %s\n", int(wl), "layer", int(wo), "op",
                "median", "min", "max", "%", "impl");
    for (const LayerTiming &l : r.layers) {
      double pct = r.sumLayerMedians > 0 ? 100.0 * l.stats.median / r.sumLayerMedians : 0;
      std::printf("  %-*s  %-*s  %10.4f  %10.4f  %10.4f  %6.2f  %s\n", int(wl), l.layer.c_str(),
                  int(wo), l.op.c_str(), l.stats.median, l.stats.min, l.stats.max, pct,
                  l.impl.c_str());
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
    std::printf("  %-*s  %-*s  %10s  %12s  %15s  %6s  %s\n", int(wl), "layer", int(wo), "op",
                "fwd ms", "bwd-data ms", "bwd-weights ms", "%", "impl");
    for (const LayerTiming &l : table->layers) {
      double sum = l.forward.median + l.backwardData.median + l.backwardWeights.median;
      double pct = table->sumLayerMedians > 0 ? 100.0 * sum / table->sumLayerMedians : 0;
      std::printf("  %-*s  %-*s  %10s  %12s  %15s  %6.2f  %s\n", int(wl), l.layer.c_str(), int(wo),
                  l.op.c_str(), ms(l.forward).c_str(), ms(l.backwardData).c_str(),
                  ms(l.backwardWeights).c_str(), pct, l.impl.c_str());
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
  if (withRoles) {
    auto role = [](const Stats &s) { return s.count ? statsJson(s) : json(nullptr); };
    j["forward"] = role(l.forward);
    j["backward_data"] = role(l.backwardData);
    j["backward_weights"] = role(l.backwardWeights);
  }
  return j;
}

int runTool(const Options &o) {
  json report;
  LoadedModule loaded;
  std::string error;
  if (!readModule(o.module, loaded, error))
    throw UserError(error);
  auto module = std::make_shared<const LoadedModule>(std::move(loaded));
  const auto &m = module->header;

  ExecutorOptions eo;
  eo.threads = o.threads;
  eo.seed = o.seed;
  eo.mode = o.impl == "ref" ? ExecMode::Reference : ExecMode::Optimized;
  Executor ex(module, eo);
  const uint64_t seed = ex.seed();

  Entries entries;
  if (o.entry.empty()) {
    entries.gradient = ex.hasGradient();
  } else {
    entries.forward = o.entry != "gradient";
    entries.gradient = o.entry != "forward";
    if (entries.gradient && !ex.hasGradient())
      throw UserError(o.module + ": error: --entry " + o.entry +
                      ": module has no gradient; compile with dlc compile --gradient");
  }
  const Entry mainEntry = entries.main();
  const int mainKernels = ex.numKernels(mainEntry);
  auto producedByMain = [&](int t) {
    if (m.tensors(t).kind() != dlc::module::Tensor::ACTIVATION)
      return true;
    for (int k = 0; k < mainKernels; ++k)
      for (int out : m.kernels(k).outputs())
        if (out == t)
          return true;
    return false;
  };

  report["module"] = o.module;
  report["name"] = m.name();
  report["producer"] = m.producer();
  report["seed"] = seed;
  report["threads"] = omp_get_max_threads();
  report["impl"] = o.impl;
  report["has_gradient"] = ex.hasGradient();
  report["entry"] = o.entry.empty() ? (entries.gradient ? "both" : "forward") : o.entry;

  // Inputs: files first, then random data for the rest.
  std::vector<std::string> given;
  json inputsJson = json::array();
  for (const std::string &spec : o.inputs) {
    auto [name, path] = splitAssign(spec);
    if (name.empty()) {
      if (ex.inputs().size() != 1)
        throw UserError("--input " + spec + ": the module has " +
                        std::to_string(ex.inputs().size()) +
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
    if (std::find(given.begin(), given.end(), name) != given.end())
      throw UserError("--input: '" + name + "' given twice");
    NpyArray arr;
    if (!readNpy(path, arr, error))
      throw UserError(error);
    if (arr.shape != ex.tensorShape(t))
      throw UserError(path + ": error: shape " + shapeToString(arr.shape) + " does not match input '" +
                      name + "' of shape " + shapeToString(ex.tensorShape(t)));
    ex.setInput(name, arr.data);
    given.push_back(name);
    inputsJson.push_back({{"name", name}, {"source", path}});
  }
  for (const InputFill &f : fillDefaultInputs(ex, seed, given)) {
    inputsJson.push_back({{"name", f.name}, {"source", "random"}, {"fill", f.how}});
    if (!o.quiet)
      std::printf("input '%s': random %s (seed %llu)\n", f.name.c_str(), f.how.c_str(),
                  static_cast<unsigned long long>(seed));
  }
  report["inputs"] = inputsJson;

  // Output targets.
  std::vector<std::pair<int, std::string>> outputFiles;
  for (const std::string &spec : o.outputs) {
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
    if (!producedByMain(t))
      throw UserError("--output: '" + name +
                      "' is computed by the gradient entry, which --entry forward does not run");
    outputFiles.emplace_back(t, path);
  }
  if (!o.dumpDir.empty()) {
    struct stat st;
    if (::stat(o.dumpDir.c_str(), &st) != 0) {
      if (::mkdir(o.dumpDir.c_str(), 0777) != 0)
        throw UserError(o.dumpDir + ": error: cannot create directory: " + std::strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
      throw UserError(o.dumpDir + ": error: not a directory");
    }
  }

  // One run. Blob dumps are taken right after each producing kernel, so arena
  // reuse later in the run cannot overwrite them.
  std::vector<std::vector<float>> dumps;
  if (!o.dumpDir.empty()) {
    dumps.resize(size_t(ex.numTensors()));
    ex.run(mainEntry, [&](int k) {
      for (int out : m.kernels(k).outputs()) {
        const float *p = ex.tensorData(out);
        dumps[out].assign(p, p + ex.tensorElements(out));
      }
    });
    std::set<std::string> used;
    for (int t = 0; t < ex.numTensors(); ++t) {
      bool isInput = std::find(ex.inputs().begin(), ex.inputs().end(), t) != ex.inputs().end();
      const float *p = isInput ? ex.tensorData(t) : dumps[t].data();
      if (!isInput && (m.tensors(t).kind() != dlc::module::Tensor::ACTIVATION || !producedByMain(t)))
        continue;
      std::string file = sanitize(ex.tensorName(t));
      while (!used.insert(file).second)
        file += "_";
      if (!writeNpy(o.dumpDir + "/" + file + ".npy", ex.tensorShape(t), p, error))
        throw UserError(error);
    }
  } else {
    ex.run(mainEntry);
  }

  json kernels = json::array();
  for (int k = 0; k < ex.numKernels(); ++k) {
    const KernelInfo &info = ex.kernelInfo(k);
    kernels.push_back({{"layer", info.layer},
                       {"op", info.op},
                       {"impl", info.impl},
                       {"requested_impl", info.requestedImpl},
                       {"fell_back", info.fellBack},
                       {"role", roleName(info.role)}});
  }
  report["kernels"] = kernels;
  json outs = json::array();
  for (int t : ex.outputs()) {
    if (!producedByMain(t))
      continue; // a gradient output of an entry that did not run
    json s = summary(ex, t);
    outs.push_back(s);
    if (!o.quiet) {
      std::printf("output '%s' %s", ex.tensorName(t).c_str(),
                  shapeToString(ex.tensorShape(t)).c_str());
      if (ex.tensorElements(t) > 0)
        std::printf(": min %g, max %g, mean %g, argmax %lld",
                    s["min"].is_null() ? NAN : s["min"].get<double>(),
                    s["max"].is_null() ? NAN : s["max"].get<double>(),
                    s["mean"].is_null() ? NAN : s["mean"].get<double>(),
                    static_cast<long long>(s["argmax"].get<int64_t>()));
      std::printf("\n");
    }
  }
  report["outputs"] = outs;
  for (auto &[t, path] : outputFiles) {
    const float *p = dumps.empty() ? ex.tensorData(t) : (dumps[t].empty() ? ex.tensorData(t) : dumps[t].data());
    if (!writeNpy(path, ex.tensorShape(t), p, error))
      throw UserError(error);
  }

  int rc = kExitOk;
  if (o.check) {
    ExecutorOptions ro = eo;
    ro.mode = ExecMode::Reference;
    Executor ref(module, ro);
    CheckResult cr = checkAgainstReference(
        ex, ref, o.tolerance, mainEntry,
        o.checkMode == "end-to-end" ? CheckMode::EndToEnd : CheckMode::PerKernel);
    size_t wn = 4;
    for (const BlobCheck &b : cr.blobs)
      wn = std::max(wn, b.name.size());
    std::printf("Check against the reference implementation (%s, tolerance %g, relative error "
                "|a-b| / max(|b|, 1e-2 * max|b|))%s:\n",
                checkModeName(cr.mode), cr.tolerance,
                cr.entry == Entry::Gradient ? ", gradient entry: forward and gradient blobs" : "");
    std::printf("  %-*s  %12s  %12s  %s\n", int(wn), "blob", "max abs", "max rel", "result");
    json blobs = json::array();
    for (const BlobCheck &b : cr.blobs) {
      std::printf("  %-*s  %12.4g  %12.4g  %s\n", int(wn), b.name.c_str(), b.maxAbs, b.maxRel,
                  b.pass ? "ok" : "FAIL");
      blobs.push_back({{"name", b.name},
                       {"layer", b.layer},
                       {"elements", b.elements},
                       {"max_abs", number(b.maxAbs)},
                       {"max_rel", number(b.maxRel)},
                       {"worst_index", b.worstIndex},
                       {"role", roleName(b.role)},
                       {"pass", b.pass}});
    }
    std::printf("check: %s (%d of %zu blobs beyond tolerance)\n", cr.pass ? "PASSED" : "FAILED",
                cr.failures, cr.blobs.size());
    report["check"] = {{"entry", entryName(cr.entry)},
                       {"mode", checkModeName(cr.mode)},
                       {"tolerance", cr.tolerance},
                       {"pass", cr.pass},
                       {"blobs", blobs}};
    if (!cr.pass)
      rc = kExitCheckFailed;
  }

  if (o.bench) {
    std::optional<BenchResult> fwd, grad;
    if (entries.forward)
      fwd = ex.bench(Entry::Forward, o.warmup, o.iterations, o.perLayer);
    if (entries.gradient)
      grad = ex.bench(Entry::Gradient, o.warmup, o.iterations, o.perLayer);
    const BenchResult &any = fwd ? *fwd : *grad;
    if (!ex.hasGradient())
      printForwardTiming(*fwd);
    else
      printGradientTiming(fwd ? &*fwd : nullptr, grad ? &*grad : nullptr);

    json bench = {{"warmup", any.warmup},
                  {"iterations", any.iterations},
                  {"threads", any.threads},
                  {"entries", json::array()}};
    if (fwd)
      bench["entries"].push_back("forward");
    if (grad)
      bench["entries"].push_back("gradient");
    // bench.total and bench.layers[].stats: the forward entry, as for modules
    // without a gradient. Per layer, forward / backward_data / backward_weights
    // come from the gradient entry's per-layer pass when it was timed.
    if (fwd) {
      bench["total"] = statsJson(fwd->total);
      bench["sum_layer_medians_ms"] = fwd->sumLayerMedians;
      bench["ratio"] = fwd->ratio;
    }
    if (grad) {
      json g = statsJson(grad->total);
      g["sum_layer_medians_ms"] = grad->sumLayerMedians;
      g["ratio"] = grad->ratio;
      bench["gradient"] = g;
    }
    json layers = json::array();
    const bool roles = ex.hasGradient();
    if (grad) {
      for (const LayerTiming &l : grad->layers) {
        json j = layerJson(l, true);
        j.erase("stats");
        j["gradient_stats"] = statsJson(l.stats);
        if (fwd)
          for (const LayerTiming &f : fwd->layers)
            if (f.layer == l.layer)
              j["stats"] = statsJson(f.stats);
        layers.push_back(j);
      }
    } else {
      for (const LayerTiming &l : fwd->layers)
        layers.push_back(layerJson(l, roles));
    }
    bench["layers"] = layers;
    report["bench"] = bench;
  }

  if (!o.jsonPath.empty()) {
    std::ofstream out(o.jsonPath);
    if (!out)
      throw UserError(o.jsonPath + ": error: cannot open for writing: " + std::strerror(errno));
    out << report.dump(2) << "\n";
    if (!out)
      throw UserError(o.jsonPath + ": error: write failed");
  }
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

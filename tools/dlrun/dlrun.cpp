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

#include "BenchReport.h"
#include "Distributed.h"
#include "Train.h"

#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Npy.h"
#include "dlc/Support/AtomicFile.h"
#include "dlc/Support/ExitCodes.h"
#include "dlc/Tuning/Tuner.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
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
using dlrun::BenchSettings;
using dlrun::benchAndReport;

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
  double minTime = 0, warmupTime = 0; ///< seconds (--min-time, --warmup-time)
  double cvWarnPercent = 100.0 * kNoisyCv;
  int threads = 0;                    ///< the current run's (one of threadList)
  std::vector<int> threadList;        ///< --threads N[,N...]; empty: OpenMP's default
  std::string csvPath;
  std::vector<std::string> compare;   ///< --compare a.json b.json ...
  bool calibrate = false;
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
  std::string maxMemory; ///< --max-memory: a size ("512M", "2G", bytes); empty: the machine's
  bool allThreads = false; ///< --all-threads: no kernel runs on one thread
  bool train = false;    ///< --train (docs/training.md); --iterations then counts iterations
  dlrun::TrainSettings trainSettings;
  dlrun::DistributedSettings dist; ///< --distributed (docs/distributed.md)
};

/// A size with an optional binary unit: "4096", "512K", "512M", "2G",
/// "1T" (also "2GiB", "2GB": every unit is a power of 1024).
uint64_t parseSize(const std::string &flag, const std::string &text) {
  const UserError bad(flag + ": '" + text + "' is not a size (bytes, or a number with K, M, G or T)");
  size_t end = 0;
  double v = 0;
  try {
    v = std::stod(text, &end);
  } catch (const std::exception &) {
    throw bad;
  }
  std::string unit = text.substr(end);
  if (unit.size() > 1 && (unit.substr(1) == "iB" || unit.substr(1) == "B"))
    unit.resize(1);
  static const std::string kUnits = "KMGT";
  double scale = 1;
  if (unit.size() == 1 && kUnits.find(char(std::toupper(unit[0]))) != std::string::npos)
    scale = std::pow(1024.0, double(kUnits.find(char(std::toupper(unit[0]))) + 1));
  else if (!unit.empty() && unit != "B")
    throw bad;
  if (!(v >= 1) || v * scale >= 1.8e19)
    throw bad;
  return uint64_t(v * scale);
}

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
  if (o.allThreads)
    s.eo.serialMacs = s.eo.serialBytes = 0;
  if (!o.maxMemory.empty())
    s.eo.memoryLimit = parseSize("--max-memory", o.maxMemory);
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
  if (!ex.compileCommand().empty())
    s.report["compile_command"] = ex.compileCommand();
  s.report["machine"] = dlrun::machineJson();
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
    if (!dlrun::shardInput(arr, ex.tensorShape(t)))
      throw UserError(path + ": error: shape " + shapeToString(arr.shape) +
                      " does not match input '" + name + "' of shape " +
                      shapeToString(ex.tensorShape(t)));
    ex.setInput(name, arr.data);
    given.push_back(name);
    inputsJson.push_back({{"name", name}, {"source", path}, {"shape", arr.shape}});
  }
  // Training reads the inputs its data layers feed.
  if (s.o.train && s.o.trainSettings.dataLayers)
    for (const dlc::module::DataLayer &d : ex.module().header.data_layers())
      for (int t : d.tops())
        if (t >= 0)
          given.push_back(ex.tensorName(t));
  for (const InputFill &f : fillDefaultInputs(ex, ex.seed(), given)) {
    inputsJson.push_back({{"name", f.name},
                          {"source", "random"},
                          {"fill", f.how},
                          {"shape", ex.tensorShape(ex.tensorIndex(f.name))}});
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

/// --bench: each selected entry, printed and recorded.
void bench(Session &s) {
  const Options &o = s.o;
  BenchSettings set;
  set.options.warmup = o.warmup;
  set.options.warmupSeconds = o.warmupTime;
  set.options.iterations = o.iterations;
  set.options.minSeconds = o.minTime;
  set.options.perLayer = o.perLayer;
  set.forward = s.entries.forward;
  set.gradient = s.entries.gradient;
  set.progress = !o.quiet;
  set.noisyCv = o.cvWarnPercent / 100.0;
  // The roofline column: this machine's rates at this thread count, when
  // dlrun --calibrate (or dlc compile's cost model) measured them.
  dlc::tuning::TunerOptions to;
  to.threads = omp_get_max_threads();
  dlc::ops::MachineRates rates;
  if (dlc::tuning::cachedMachineRates(to, rates)) {
    set.haveRates = true;
    set.peakGflops = rates.gemmGflops;
    set.bandwidthGBs = rates.bandwidthGBs;
  } else if (!o.quiet) {
    std::printf("(no measured rates for %d thread%s on this machine: run dlrun --calibrate for "
                "the roofline column)\n",
                to.threads, to.threads == 1 ? "" : "s");
  }
  s.report["bench"] = benchAndReport(*s.ex, set);
}

/// One run of the module at o.threads; the JSON report.
int runModule(const Options &o, json &report) {
  Session s(o);
  load(s);
  dlrun::checkSameModule(*s.ex);
  setInputs(s);
  std::vector<std::pair<int, std::string>> outputFiles = outputTargets(s);
  if (o.train)
    s.report["train"] = dlrun::train(*s.ex, o.trainSettings);
  if (!o.dumpDir.empty())
    prepareDumpDir(o.dumpDir);
  runOnce(s);
  // The gradients of the ranks' batches, averaged: those of the combined batch.
  if (dlrun::communicator() && s.entries.gradient)
    averageGradients(*s.ex, *dlrun::communicator(), dlrun::paramGradients(*s.ex));
  if (!o.dumpDir.empty())
    writeDumps(s);
  s.report["kernels"] = kernelsJson(*s.ex);
  reportOutputs(s);
  std::string error;
  for (auto &[t, path] : outputFiles)
    if (dlrun::isRoot() &&
        !writeNpy(path, s.ex->tensorShape(t), valueAfterRun(s, t).data(), error))
      throw UserError(error);
  int rc = o.check ? check(s) : kExitOk;
  if (o.bench && dlrun::communicator())
    s.report["bench_distributed"] =
        dlrun::benchDistributed(*s.ex, o.dist, o.warmup, o.iterations, o.quiet);
  else if (o.bench)
    bench(s);
  report = std::move(s.report);
  return rc;
}

void writeJson(const std::string &path, const json &report) {
  if (dlc::Status s = dlc::writeFileAtomically(path, report.dump(2) + "\n"); s.failed())
    throw UserError(s.message());
}

/// --calibrate: this machine's rates at each thread count, measured and cached.
int calibrate(const Options &o) {
  std::vector<int> counts = o.threadList;
  if (counts.empty())
    counts.push_back(omp_get_max_threads());
  for (int n : counts) {
    dlc::tuning::TunerOptions to;
    to.threads = n;
    std::string warning;
    dlc::ops::MachineRates r = dlc::tuning::calibrateMachineRates(to, warning);
    if (!warning.empty())
      std::fprintf(stderr, "dlrun: warning: %s\n", warning.c_str());
    std::printf("Machine rates, %d thread%s (%s, %s): SGEMM %.1f GFLOP/s, vector %.1f GFLOP/s, "
                "memory bandwidth %.1f GB/s (%s)\n",
                n, n == 1 ? "" : "s", dlc::tuning::isaName().c_str(),
                dlc::tuning::onednnVersion().c_str(), r.gemmGflops, r.vectorGflops,
                r.bandwidthGBs, r.source.c_str());
  }
  return kExitOk;
}

/// Runs the module once per --threads count (a sweep reports the scaling)
/// and writes the JSON and CSV reports.
int runTool(Options o) {
  // The report files' errors (unreadable, not a report) are the user's.
  auto userErrors = [](auto &&f) {
    try {
      return f();
    } catch (const std::runtime_error &e) {
      throw UserError(e.what());
    }
  };
  if (!o.compare.empty())
    return userErrors([&] { return dlrun::compareReports(o.compare); });
  if (o.calibrate)
    return calibrate(o);
  if (o.module.empty())
    throw UserError("a module is required (or --compare, --calibrate)");
  std::vector<int> counts = o.threadList;
  if (counts.empty())
    counts.push_back(0);
  json report;
  std::vector<json> runs;
  int rc = kExitOk;
  for (int n : counts) {
    o.threads = n;
    if (counts.size() > 1 && !o.quiet)
      std::printf("=== %d thread%s ===\n", n, n == 1 ? "" : "s");
    json r;
    rc = std::max(rc, runModule(o, r));
    if (counts.size() == 1) {
      report = std::move(r);
      break;
    }
    if (runs.empty())
      report = r; // module, machine, outputs of the first run
    runs.push_back({{"threads", n}, {"bench", r.value("bench", json())}});
  }
  if (counts.size() > 1) {
    report.erase("bench");
    report["threads"] = counts;
    report["runs"] = runs;
    if (o.bench)
      dlrun::printScaling(runs);
  }
  if (!dlrun::isRoot())
    return rc; // rank 0 writes the reports
  if (!o.jsonPath.empty())
    writeJson(o.jsonPath, report);
  if (!o.csvPath.empty())
    userErrors([&] {
      dlrun::writeCsv(o.csvPath, report);
      return 0;
    });
  return rc;
}

} // namespace

/// "dlrun: error: <what>" (<what> as is when it names its file), with the
/// rank when several run.
static void printError(const char *what) {
  dlc::rt::Communicator *c = dlrun::communicator();
  std::string rank = c && c->size() > 1 && std::strncmp(what, "rank ", 5) != 0
                         ? "rank " + std::to_string(c->rank()) + ": "
                         : "";
  std::fprintf(stderr, "dlrun: %s%s%s\n", std::strstr(what, ": error: ") ? "" : "error: ",
               rank.c_str(), what);
}

int main(int argc, char **argv) {
  Options o;
  CLI::App app{"dlrun: run, time and check a compiled dlc module (.dlcm)"};
  app.add_option("module", o.module, "Compiled module (.dlcm)");
  app.add_flag("--bench", o.bench,
               "Time the network (end-to-end and per layer; each entry separately)");
  app.add_option("--iterations", o.iterations, "Timed runs for --bench (default 50)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--warmup", o.warmup, "Untimed runs before timing (default 5)")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--threads", o.threadList,
                 "OpenMP threads (default: OpenMP's default); several (--threads 1,2) run the "
                 "module once per count and report the scaling")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096));
  app.add_option("--min-time", o.minTime,
                 "--bench: time for at least this many seconds (and --iterations runs)")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--warmup-time", o.warmupTime,
                 "--bench: warm up for at least this many seconds (and --warmup runs)")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_flag("--all-threads", o.allThreads,
               "Run every kernel on all threads (default: kernels below 1M multiply-adds and "
               "512 KiB of operands run on one; docs/performance.md)");
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
  app.add_option("--cv-warn", o.cvWarnPercent,
                 "--bench: warn when an entry's coefficient of variation is above this many "
                 "percent (default 5)")
      ->check(CLI::Range(0.0, 1000.0));
  app.add_option("--json", o.jsonPath, "Write a JSON report");
  app.add_option("--csv", o.csvPath,
                 "Write the report as CSV (network and per-layer rows; '#' lines describe the "
                 "machine and the module)");
  app.add_option("--compare", o.compare,
                 "Compare dlrun JSON reports (--bench --json) side by side: a.json b.json ...")
      ->expected(2, 1000);
  app.add_flag("--calibrate", o.calibrate,
               "Measure this machine's SGEMM, vector and memory rates (per --threads count) and "
               "cache them for the roofline column of --bench");
  app.add_option("--max-memory", o.maxMemory,
                 "Refuse a module whose weights and activations need more (e.g. 512M, 4G; "
                 "default: this machine's memory)");
  app.add_option("--impl", o.impl, "auto: the module's implementations; ref: reference kernels only")
      ->check(CLI::IsMember({"auto", "ref"}));
  app.add_flag("--quiet,-q", o.quiet, "Print only timing and check tables");
  app.add_option("--entry", o.entry,
                 "forward | gradient | both: what to run, check and time (default: both when the "
                 "module has a gradient, else forward)")
      ->check(CLI::IsMember({"forward", "gradient", "both"}));
  dlrun::addTrainOptions(app, o.train, o.trainSettings);
  dlrun::addDistributedOptions(app, o.dist);
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
  if (o.module.empty() && o.compare.empty() && !o.calibrate) {
    std::fprintf(stderr, "dlrun: error: module is required\n");
    return kExitUser;
  }
  if ((app.count("--min-time") || app.count("--warmup-time") || app.count("--csv") ||
       app.count("--cv-warn")) &&
      !o.bench) {
    std::fprintf(stderr,
                 "dlrun: error: --min-time, --warmup-time, --cv-warn and --csv need --bench\n");
    return kExitUser;
  }
  std::string trainError = dlrun::checkTrainOptions(
      app, o.train, o.bench || o.check || o.threadList.size() > 1, o.iterations, o.quiet,
      o.module, o.trainSettings);
  if (!trainError.empty()) {
    std::fprintf(stderr, "dlrun: error: %s\n", trainError.c_str());
    return kExitUser;
  }
  if (std::string e = dlrun::checkDistributedOptions(app, o.dist, o.check,
                                                     o.threadList.size() > 1, !o.dumpDir.empty());
      !e.empty()) {
    std::fprintf(stderr, "dlrun: error: %s\n", e.c_str());
    return kExitUser;
  }
  if (app.count("--tolerance") && !o.check) {
    std::fprintf(stderr, "dlrun: error: --tolerance needs --check\n");
    return kExitUser;
  }
  try {
    if (dlrun::startDistributed(o.dist)) {
      o.trainSettings.comm = dlrun::communicator();
      o.trainSettings.sync = dlrun::syncOptions(o.dist);
      if (!dlrun::isRoot())
        o.quiet = o.trainSettings.quiet = true;
    }
    return runTool(o);
  } catch (const UserError &e) {
    std::fflush(stdout);
    printError(e.what());
    return dlrun::endWithError(kExitUser);
  } catch (const dlrun::RanksAgreedError &e) {
    std::fflush(stdout);
    printError(e.what());
    return dlrun::endTogether(kExitUser);
  } catch (const Error &e) {
    std::fflush(stdout);
    printError(e.what());
    return dlrun::endWithError(kExitUser);
  } catch (const std::bad_alloc &) {
    std::fflush(stdout);
    std::fprintf(stderr, "dlrun: error: out of memory\n");
    return dlrun::endWithError(kExitInternal);
  } catch (const std::exception &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "dlrun: internal error: %s\n", e.what());
    return dlrun::endWithError(kExitInternal);
  } catch (...) {
    std::fflush(stdout);
    std::fprintf(stderr, "dlrun: internal error: unknown exception\n");
    return dlrun::endWithError(kExitInternal);
  }
}

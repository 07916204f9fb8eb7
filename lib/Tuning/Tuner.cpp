//===- Tuner.cpp - Tuning oracle and its persistent cache ----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The cache is one JSON file (docs/convolution.md):
//
//   {"format": "dlc-tuning-cache", "version": 1,
//    "machines": {"<isa> t<threads> onednn <version>": {rates}},
//    "entries": {"<problem shape key> f32 t<threads>":
//                 {"isa": ..., "onednn": ..., "tuner": 1,
//                  "candidates": {"direct": {"ms": 1.2, "max_error": 3e-7},
//                                 "fft": {"why_not": "..."}, ...}}}}
//
// An entry measured on another ISA, oneDNN version or tuner version is
// stale: reported, ignored and replaced, never trusted. A file of another
// format version is ignored as a whole (and rewritten).
//
//===----------------------------------------------------------------------===//
#include "dlc/Tuning/Tuner.h"
#include "dlc/Support/AtomicFile.h"

#include "Measure.h"

#include <nlohmann/json.hpp>
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <sstream>

namespace dlc::tuning {

namespace {

using json = nlohmann::json;
constexpr int kFormatVersion = 1;
/// Bumped when the kernels or the timing method change what a measurement
/// means; older entries are then stale (2: gemm batched over images; 3: its
/// chunks side by side on the threads; 4: the sliding algorithm, which they
/// lack).
constexpr int kTunerVersion = 4;
/// Bumped when the machine rates gain or change a measurement (2: the
/// calibration; 3: its narrow probe; 4: its few-channel probe; 5: the plain
/// layout too); older rates are measured again, timed entries are kept.
constexpr int kRatesVersion = 5;

std::string fmtMs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g ms", s * 1e3);
  return buf;
}

int threadsOf(const TunerOptions &o) { return o.threads > 0 ? o.threads : omp_get_max_threads(); }

/// The cache file, loaded once and written back after every change.
class Cache {
public:
  explicit Cache(std::string path) : path_(std::move(path)) {}

  /// "" or why the file could not be read.
  std::string load() {
    std::ifstream in(path_);
    if (!in)
      return ""; // no cache yet
    json j;
    try {
      in >> j;
    } catch (const std::exception &e) {
      return "tuning cache '" + path_ + "' is not valid JSON (" + e.what() +
             "); delete it or pass another --tuning-cache";
    }
    if (!j.is_object() || j.value("format", "") != "dlc-tuning-cache") {
      return "'" + path_ + "' is not a dlc tuning cache";
    }
    if (j.value("version", 0) != kFormatVersion) {
      note_ = "tuning cache '" + path_ + "' has format version " +
              std::to_string(j.value("version", 0)) + " (this dlc writes " +
              std::to_string(kFormatVersion) + "): ignored and rewritten";
      return "";
    }
    data_ = std::move(j);
    return "";
  }

  json &root() {
    if (data_.is_null())
      data_ = json{{"format", "dlc-tuning-cache"}, {"version", kFormatVersion},
                   {"machines", json::object()}, {"entries", json::object()}};
    return data_;
  }

  /// "" or why it could not be written.
  std::string save() {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path p(path_);
    if (p.has_parent_path())
      fs::create_directories(p.parent_path(), ec);
    if (dlc::Status s = dlc::writeFileAtomically(path_, root().dump(1) + "\n"); s.failed())
      return "cannot write tuning cache '" + path_ + "': " + s.message();
    return "";
  }

  const std::string &note() const { return note_; }
  const std::string &path() const { return path_; }

private:
  std::string path_, note_;
  json data_;
};

std::string machineKey(const TunerOptions &o) {
  return isaName() + " t" + std::to_string(threadsOf(o)) + " onednn " + onednnVersion();
}

json ratesJson(const ops::MachineRates &r) {
  json cal = json::array();
  for (const ops::ConvCalibration &c : r.calibration)
    cal.push_back(json{{"algorithm", c.algorithm},
                       {"direction", ops::convDirectionName(c.direction)},
                       {"channels", c.channels},
                       {"factor", c.factor},
                       {"narrow", c.narrow},
                       {"plain", c.plain}});
  return json{{"gemm_gflops", r.gemmGflops},       {"vector_gflops", r.vectorGflops},
              {"bandwidth_gbs", r.bandwidthGBs},   {"call_seconds", r.callSeconds},
              {"direct_efficiency", r.directEfficiency}, {"onednn_winograd", r.onednnWinograd},
              {"calibration", std::move(cal)},     {"tuner", kTunerVersion},
              {"rates", kRatesVersion}};
}

bool ratesFrom(const json &j, ops::MachineRates &r) {
  if (!j.is_object() || j.value("tuner", 0) != kTunerVersion ||
      j.value("rates", 1) != kRatesVersion)
    return false;
  r.gemmGflops = j.value("gemm_gflops", r.gemmGflops);
  r.vectorGflops = j.value("vector_gflops", r.vectorGflops);
  r.bandwidthGBs = j.value("bandwidth_gbs", r.bandwidthGBs);
  r.callSeconds = j.value("call_seconds", r.callSeconds);
  r.directEfficiency = j.value("direct_efficiency", r.directEfficiency);
  r.onednnWinograd = j.value("onednn_winograd", false);
  r.calibration.clear();
  if (j.contains("calibration") && j["calibration"].is_array()) {
    for (const json &c : j["calibration"]) {
      if (!c.is_object())
        return false;
      auto d = ops::parseConvDirection(c.value("direction", std::string()));
      if (!d)
        return false;
      r.calibration.push_back({c.value("algorithm", std::string()), *d,
                               c.value("channels", 0.0), c.value("factor", 0.0),
                               c.value("narrow", false), c.value("plain", false)});
    }
  }
  return r.gemmGflops > 0 && r.vectorGflops > 0 && r.bandwidthGBs > 0;
}

/// Sets the thread count for the duration of a measurement.
struct ThreadScope {
  explicit ThreadScope(int n) : saved_(omp_get_max_threads()) {
    if (n > 0)
      omp_set_num_threads(n);
  }
  ~ThreadScope() { omp_set_num_threads(saved_); }
  int saved_;
};

ops::MachineRates ratesWithCache(Cache &cache, const TunerOptions &o, std::string &warning) {
  json &machines = cache.root()["machines"];
  const std::string key = machineKey(o);
  ops::MachineRates r;
  if (machines.contains(key) && ratesFrom(machines[key], r)) {
    r.source = "measured on this machine, cached in " + cache.path();
    return r;
  }
  {
    ThreadScope threads(threadsOf(o));
    r = measureMachineRates();
  }
  r.source = "measured on this machine now";
  machines[key] = ratesJson(r);
  warning = cache.save();
  return r;
}

class TuningOracle : public ops::ConvCostOracle {
public:
  TuningOracle(TunerOptions o, std::unique_ptr<Cache> cache, ops::MachineRates rates)
      : o_(std::move(o)), cache_(std::move(cache)), rates_(std::move(rates)),
        model_(ops::createCostModelOracle(rates_)) {}

  std::string evaluate(const ops::ConvProblem &p,
                       std::vector<ops::ConvCandidate> &cs) override {
    // The model first: every candidate has an estimate to fall back on.
    model_->evaluate(p, cs);
    if (!o_.tune && !o_.measureErrors)
      return "";
    const std::string key = p.shapeKey() + " f32 t" + std::to_string(threadsOf(o_));
    json &entries = cache_->root()["entries"];
    std::string stale;
    if (entries.contains(key)) {
      const json &e = entries[key];
      if (e.value("isa", "") == isaName() && e.value("onednn", "") == onednnVersion() &&
          e.value("tuner", 0) == kTunerVersion && (!o_.tune || e.value("timed", false))) {
        applyCached(e, cs);
        return "";
      }
      stale = "stale cache entry (" + e.value("isa", std::string("?")) + ", oneDNN " +
              e.value("onednn", std::string("?")) + ", tuner " +
              std::to_string(e.value("tuner", 0)) + ") ignored";
    }
    if (o_.requireCache)
      return "layer '" + p.layer + "' " + ops::convDirectionName(p.direction) +
             " is not in the tuning cache '" + cache_->path() + "'" +
             (stale.empty() ? "" : " (" + stale + ")") + " and --require-cache is set";
    if (o_.tune && o_.budgetSeconds > 0 && spent_ >= o_.budgetSeconds) {
      for (ops::ConvCandidate &c : cs)
        if (c.whyNot.empty())
          c.source = "model (tuning budget spent)";
      return "";
    }
    measure(p, cs, stale);
    json e{{"isa", isaName()}, {"onednn", onednnVersion()}, {"tuner", kTunerVersion},
           {"timed", o_.tune}, {"layer", p.layer}};
    json &jc = e["candidates"] = json::object();
    for (const ops::ConvCandidate &c : cs) {
      if (!c.whyNot.empty()) {
        jc[c.algorithm] = json{{"why_not", c.whyNot}};
        continue;
      }
      json one{{"max_error", c.maxError}};
      if (o_.tune)
        one["ms"] = c.seconds * 1e3;
      jc[c.algorithm] = one;
    }
    entries[key] = std::move(e);
    std::string warn = cache_->save();
    if (!warn.empty() && o_.progress)
      o_.progress("warning: " + warn);
    return "";
  }

  std::string describe() const override {
    std::string s = o_.tune ? "measured on this machine (" + isaName() + ", " +
                                  std::to_string(threadsOf(o_)) + " threads, oneDNN " +
                                  onednnVersion() + "), cache " + cache_->path()
                            : model_->describe();
    if (!cache_->note().empty())
      s += "; " + cache_->note();
    return s;
  }
  const ops::MachineRates &rates() const override { return rates_; }

private:
  void applyCached(const json &e, std::vector<ops::ConvCandidate> &cs) {
    const json &jc = e["candidates"];
    for (ops::ConvCandidate &c : cs) {
      if (!c.whyNot.empty() || !jc.contains(c.algorithm))
        continue;
      const json &one = jc[c.algorithm];
      if (one.contains("why_not")) {
        c.whyNot = one["why_not"].get<std::string>();
        c.seconds = -1;
        continue;
      }
      if (o_.tune && one.contains("ms")) {
        c.seconds = one["ms"].get<double>() * 1e-3;
        c.source = "cache";
      }
      c.maxError = one.value("max_error", -1.0);
    }
  }

  void measure(const ops::ConvProblem &p, std::vector<ops::ConvCandidate> &cs,
               const std::string &stale) {
    ThreadScope threads(threadsOf(o_));
    const double t0 = now();
    ProblemBench bench(p);
    ++count_;
    std::string line = "[" + std::to_string(count_) + "] " + p.layer + " " +
                       ops::convDirectionName(p.direction) + ":";
    if (!stale.empty())
      line += " (" + stale + ")";
    for (ops::ConvCandidate &c : cs) {
      if (!c.whyNot.empty())
        continue;
      try {
        if (o_.tune) {
          c.seconds = bench.time(c.algorithm, 0.25);
          c.source = "measured";
          line += " " + c.algorithm + " " + fmtMs(c.seconds);
        }
        c.maxError = c.algorithm == "direct" ? 0.0 : bench.maxError(c.algorithm);
      } catch (const std::exception &e) {
        c.whyNot = std::string("its kernel cannot run here: ") + e.what();
        c.seconds = -1;
      } catch (...) {
        c.whyNot = "its kernel cannot run here";
        c.seconds = -1;
      }
    }
    spent_ += now() - t0;
    if (o_.progress && o_.tune)
      o_.progress(line);
  }

  TunerOptions o_;
  std::unique_ptr<Cache> cache_;
  ops::MachineRates rates_;
  std::unique_ptr<ops::ConvCostOracle> model_;
  double spent_ = 0;
  int count_ = 0;
};

} // namespace

std::string defaultCachePath() {
  if (const char *p = std::getenv("DLC_TUNING_CACHE"); p && *p)
    return p;
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::string(x) + "/dlc/tuning.json";
  if (const char *h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.cache/dlc/tuning.json";
  return ".dlc-tuning.json";
}

bool cachedMachineRates(const TunerOptions &options, ops::MachineRates &rates) {
  Cache cache(options.cachePath.empty() ? defaultCachePath() : options.cachePath);
  if (!cache.load().empty())
    return false;
  json &machines = cache.root()["machines"];
  const std::string key = machineKey(options);
  if (!machines.contains(key) || !ratesFrom(machines[key], rates))
    return false;
  rates.source = "measured on this machine, cached in " + cache.path();
  return true;
}

ops::MachineRates calibrateMachineRates(const TunerOptions &options, std::string &warning) {
  Cache cache(options.cachePath.empty() ? defaultCachePath() : options.cachePath);
  warning = cache.load();
  json &machines = cache.root()["machines"];
  if (machines.is_object())
    machines.erase(machineKey(options));
  std::string w2;
  ops::MachineRates r = ratesWithCache(cache, options, w2);
  if (warning.empty())
    warning = w2;
  return r;
}

ops::MachineRates machineRates(const TunerOptions &options, std::string &warning) {
  Cache cache(options.cachePath.empty() ? defaultCachePath() : options.cachePath);
  warning = cache.load();
  std::string w2;
  ops::MachineRates r = ratesWithCache(cache, options, w2);
  if (warning.empty())
    warning = w2;
  return r;
}

std::shared_ptr<ops::ConvCostOracle> createOracle(const TunerOptions &options,
                                                  std::string &error) {
  auto cache =
      std::make_unique<Cache>(options.cachePath.empty() ? defaultCachePath() : options.cachePath);
  error = cache->load();
  if (!error.empty())
    return nullptr;
  std::string warning;
  ops::MachineRates rates = ratesWithCache(*cache, options, warning);
  if (!warning.empty() && options.progress)
    options.progress("warning: " + warning);
  return std::make_shared<TuningOracle>(options, std::move(cache), std::move(rates));
}

} // namespace dlc::tuning

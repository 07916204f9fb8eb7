//===- Bench.cpp - Timing entries and layers --------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "ExecutorImpl.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <map>

#include <omp.h>

using namespace dlc::rt;

namespace {
double msSince(std::chrono::steady_clock::time_point t0, std::chrono::steady_clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}
} // namespace

//===----------------------------------------------------------------------===//
// Timing
//===----------------------------------------------------------------------===//

Stats Stats::of(std::vector<double> v) {
  Stats s;
  s.count = int(v.size());
  if (v.empty())
    return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
  double sum = 0;
  for (double x : v)
    sum += x;
  s.mean = sum / double(n);
  double var = 0;
  for (double x : v)
    var += (x - s.mean) * (x - s.mean);
  s.stddev = std::sqrt(var / double(n));
  s.cv = s.mean > 0 ? s.stddev / s.mean : 0;
  auto percentile = [&](double q) {
    const double pos = q * double(n - 1);
    const size_t lo = size_t(pos), hi = std::min(lo + 1, n - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
  };
  s.p90 = percentile(0.90);
  s.p99 = percentile(0.99);
  return s;
}

BenchResult Executor::bench(Entry entry, const BenchOptions &o) {
  if (o.warmup < 0 || o.iterations < 1 || o.warmupSeconds < 0 || o.minSeconds < 0 ||
      o.maxIterations < o.iterations)
    throw Error("bench needs warmup >= 0, iterations >= 1, times >= 0 and at most "
                "maxIterations runs");
  const int K = numKernels(entry); // throws for a missing gradient entry
  using clock = std::chrono::steady_clock;
  auto progress = [&](const char *pass, int done, int planned) {
    if (o.progress)
      o.progress(pass, done, planned);
  };
  BenchResult r;
  r.entry = entry;
  r.threads = omp_get_max_threads();
  // Runs until both the count and the time are reached (at most
  // maxIterations); returns the count.
  auto repeat = [&](const char *pass, int count, double seconds, auto &&body) {
    const clock::time_point start = clock::now();
    int done = 0;
    while (done < o.maxIterations &&
           (done < count || std::chrono::duration<double>(clock::now() - start).count() < seconds)) {
      body();
      progress(pass, ++done, count);
    }
    return done;
  };
  r.warmup = repeat("warmup", o.warmup, o.warmupSeconds, [&] { run(entry); });
  std::vector<double> totals;
  totals.reserve(size_t(o.iterations));
  r.iterations = repeat("timing", o.iterations, o.minSeconds, [&] {
    auto t0 = clock::now();
    run(entry);
    totals.push_back(msSince(t0, clock::now()));
  });
  const int iterations = r.iterations;
  r.total = Stats::of(std::move(totals));
  if (!o.perLayer)
    return r;

  // Layers in order of first appearance; op from the forward kernels, impls
  // deduplicated.
  Impl &I = *impl_;
  std::vector<int> layerOf(static_cast<size_t>(K));
  std::map<std::string, int> layerIndex;
  struct Names {
    std::vector<std::string> fwdOps, bwdOps, impls, algorithms;
  };
  std::vector<Names> names;
  auto addUnique = [](std::vector<std::string> &v, const std::string &x) {
    if (std::find(v.begin(), v.end(), x) == v.end())
      v.push_back(x);
  };
  for (int k = 0; k < K; ++k) {
    const KernelInfo &info = I.infos[k];
    std::string name = info.layer.empty() ? info.op + "#" + std::to_string(k) : info.layer;
    auto [it, inserted] = layerIndex.emplace(name, int(r.layers.size()));
    if (inserted) {
      LayerTiming lt;
      lt.layer = name;
      r.layers.push_back(lt);
      names.emplace_back();
    }
    Names &n = names[it->second];
    if (info.role == KernelRole::Forward)
      n.fwdOps.push_back(info.op);
    else
      addUnique(n.bwdOps, info.op);
    addUnique(n.impls, info.impl);
    if (!info.convAlgorithm.empty()) {
      static const char *const roleTag[] = {"fwd:", "data:", "weights:"};
      addUnique(n.algorithms, roleTag[size_t(info.role)] + info.convAlgorithm);
    }
    layerOf[k] = it->second;
    LayerTiming &lt = r.layers[size_t(it->second)];
    double *macs[] = {&lt.macsForward, &lt.macsBackwardData, &lt.macsBackwardWeights};
    double *bytes[] = {&lt.bytesForward, &lt.bytesBackwardData, &lt.bytesBackwardWeights};
    *macs[size_t(info.role)] += info.macs;
    *bytes[size_t(info.role)] += info.bytes;
    uint64_t *workspace[] = {&lt.workspaceForward, &lt.workspaceBackwardData,
                             &lt.workspaceBackwardWeights};
    *workspace[size_t(info.role)] += info.workspace;
  }
  auto join = [](const std::vector<std::string> &v) {
    std::string s;
    for (const std::string &x : v)
      s += (s.empty() ? "" : "+") + x;
    return s;
  };
  for (size_t l = 0; l < r.layers.size(); ++l) {
    r.layers[l].op = join(names[l].fwdOps.empty() ? names[l].bwdOps : names[l].fwdOps);
    r.layers[l].impl = join(names[l].impls);
    for (const std::string &a : names[l].algorithms)
      r.layers[l].algorithms += (r.layers[l].algorithms.empty() ? "" : " ") + a;
  }

  // samples[l][role]: per run, the sum over the layer's kernels of that role;
  // slot 3 is the sum over all of them.
  const size_t L = r.layers.size();
  std::vector<std::array<bool, 3>> hasRole(L, {false, false, false});
  for (int k = 0; k < K; ++k)
    hasRole[size_t(layerOf[k])][size_t(I.infos[k].role)] = true;
  std::vector<std::array<std::vector<double>, 4>> samples(L);
  // Kernel::phases: per layer, "<role>: <part>" -> per-run samples.
  static const char *const roleNames[] = {"forward", "backward-data", "backward-weights"};
  std::vector<std::vector<std::pair<std::string, std::vector<double>>>> phaseSamples(L);
  std::vector<std::map<std::string, double>> phaseRun(L);
  std::vector<std::array<double, 4>> perRun(L);
  std::vector<clock::time_point> stamps(static_cast<size_t>(K) + 1);
  for (int i = 0; i < iterations; ++i) {
    progress("per-layer", i + 1, iterations);
    for (auto &p : perRun)
      p.fill(0.0);
    I.stageInputs();
    stamps[0] = clock::now();
    for (int k = 0; k < K; ++k) {
      I.runStep(size_t(k));
      stamps[size_t(k) + 1] = clock::now();
    }
    for (auto &m : phaseRun)
      m.clear();
    for (int k = 0; k < K; ++k) {
      double ms = msSince(stamps[size_t(k)], stamps[size_t(k) + 1]);
      const size_t l = size_t(layerOf[k]);
      perRun[l][size_t(I.infos[k].role)] += ms;
      perRun[l][3] += ms;
      for (const Kernel::Phase &p : I.steps[size_t(k)].kernel->phases()) {
        std::string name = std::string(roleNames[size_t(I.infos[k].role)]) + ": " + p.name;
        auto &v = phaseSamples[l];
        if (std::none_of(v.begin(), v.end(), [&](const auto &e) { return e.first == name; }))
          v.emplace_back(name, std::vector<double>());
        phaseRun[l][name] += p.ms;
      }
    }
    for (size_t l = 0; l < L; ++l)
      for (auto &[name, v] : phaseSamples[l])
        v.push_back(phaseRun[l][name]);
    for (size_t l = 0; l < L; ++l)
      for (size_t j = 0; j < 4; ++j)
        if (j == 3 || hasRole[l][j])
          samples[l][j].push_back(perRun[l][j]);
  }
  for (size_t l = 0; l < L; ++l) {
    LayerTiming &lt = r.layers[l];
    lt.forward = Stats::of(std::move(samples[l][0]));
    lt.backwardData = Stats::of(std::move(samples[l][1]));
    lt.backwardWeights = Stats::of(std::move(samples[l][2]));
    lt.stats = Stats::of(std::move(samples[l][3]));
    for (auto &[name, v] : phaseSamples[l])
      lt.phases.push_back({name, Stats::of(std::move(v))});
    r.sumLayerMedians += lt.forward.median + lt.backwardData.median + lt.backwardWeights.median;
  }
  r.ratio = r.total.median > 0 ? r.sumLayerMedians / r.total.median : 0;
  return r;
}

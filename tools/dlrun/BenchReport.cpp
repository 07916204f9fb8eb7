//===- BenchReport.cpp - dlrun --bench: timing tables and the report ------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "BenchReport.h"

#include <algorithm>
#include <numeric>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>

#include <unistd.h>

using namespace dlc::rt;

namespace dlrun {
namespace {

json statsJson(const Stats &s) {
  return {{"median_ms", s.median}, {"min_ms", s.min}, {"max_ms", s.max},
          {"mean_ms", s.mean},     {"stddev_ms", s.stddev}, {"p90_ms", s.p90},
          {"p99_ms", s.p99},       {"cv", s.cv},      {"count", s.count}};
}

/// GFLOP/s of `macs` multiply-adds (2 flops each) in `ms`; GB/s of `bytes`.
double gflops(double macs, double ms) { return macs > 0 && ms > 0 ? 2.0 * macs / (ms * 1e6) : 0; }
double gbs(double bytes, double ms) { return bytes > 0 && ms > 0 ? bytes / (ms * 1e6) : 0; }

/// Where a layer stands against this machine's roofline: attainable
/// GFLOP/s = min(peak, arithmetic intensity x bandwidth); a layer without
/// multiply-adds against the bandwidth alone.
struct Roof {
  std::string bound; ///< "compute", "memory"; "" without rates or data
  double fraction = 0;
};

Roof roofOf(const BenchSettings &s, double macs, double bytes, double ms) {
  Roof r;
  if (!s.haveRates || ms <= 0 || (macs <= 0 && bytes <= 0))
    return r;
  if (macs <= 0) {
    r.bound = "memory";
    r.fraction = gbs(bytes, ms) / s.bandwidthGBs;
    return r;
  }
  const double intensity = bytes > 0 ? 2.0 * macs / bytes : 1e30;
  const double memoryRoof = intensity * s.bandwidthGBs;
  r.bound = memoryRoof < s.peakGflops ? "memory" : "compute";
  r.fraction = gflops(macs, ms) / std::min(s.peakGflops, memoryRoof);
  return r;
}

std::string roofCell(const Roof &r) {
  if (r.bound.empty())
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%% %s", 100.0 * r.fraction,
                r.bound == "compute" ? "cmp" : "mem");
  return buf;
}

std::string gflopsCell(double macs, double ms) {
  if (macs <= 0 || ms <= 0)
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", gflops(macs, ms));
  return buf;
}

std::string ms(const Stats &s) {
  if (s.count == 0)
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", s.median);
  return buf;
}

/// One role of a layer: its timing, work and roofline.
json roleJson(const BenchSettings &set, const Stats &s, double macs, double bytes,
              uint64_t workspace) {
  if (s.count == 0)
    return nullptr;
  json j = statsJson(s);
  j["multiply_adds"] = macs;
  j["bytes"] = bytes;
  j["workspace_bytes"] = workspace;
  j["gflops"] = gflops(macs, s.median);
  j["gbs"] = gbs(bytes, s.median);
  Roof r = roofOf(set, macs, bytes, s.median);
  if (!r.bound.empty())
    j["roofline"] = {{"bound", r.bound}, {"fraction", r.fraction}};
  return j;
}

double layerMacs(const LayerTiming &l) {
  return l.macsForward + l.macsBackwardData + l.macsBackwardWeights;
}
double layerBytes(const LayerTiming &l) {
  return l.bytesForward + l.bytesBackwardData + l.bytesBackwardWeights;
}
double layerMedians(const LayerTiming &l) {
  return l.forward.median + l.backwardData.median + l.backwardWeights.median;
}

json layerJson(const BenchSettings &set, const LayerTiming &l, bool withRoles) {
  json j = {{"layer", l.layer},
            {"op", l.op},
            {"impl", l.impl},
            {"stats", statsJson(l.stats)},
            {"workspace_bytes",
             l.workspaceForward + l.workspaceBackwardData + l.workspaceBackwardWeights}};
  if (!l.algorithms.empty())
    j["algorithms"] = l.algorithms;
  if (!l.phases.empty()) {
    json phases = json::array();
    for (const LayerTiming::Phase &p : l.phases)
      phases.push_back({{"name", p.name}, {"stats", statsJson(p.stats)}});
    j["phases"] = phases;
  }
  j["forward"] = roleJson(set, l.forward, l.macsForward, l.bytesForward, l.workspaceForward);
  if (withRoles) {
    j["backward_data"] = roleJson(set, l.backwardData, l.macsBackwardData, l.bytesBackwardData,
                                  l.workspaceBackwardData);
    j["backward_weights"] = roleJson(set, l.backwardWeights, l.macsBackwardWeights,
                                     l.bytesBackwardWeights, l.workspaceBackwardWeights);
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

struct Widths {
  int layer = 5, op = 2;
};
Widths widthsOf(const std::vector<LayerTiming> &layers) {
  Widths w;
  for (const LayerTiming &l : layers) {
    w.layer = std::max(w.layer, int(l.layer.size()));
    w.op = std::max(w.op, int(l.op.size()));
  }
  return w;
}

void printNetwork(const char *what, const BenchResult &r) {
  const Stats &t = r.total;
  std::printf("Network %s%d runs after %d warmup, %d thread%s): median %.4f ms, min %.4f ms, "
              "max %.4f ms, mean %.4f ms, stddev %.4f ms, p90 %.4f ms, p99 %.4f ms, CV %.1f%%\n",
              what, r.iterations, r.warmup, r.threads, r.threads == 1 ? "" : "s", t.median, t.min,
              t.max, t.mean, t.stddev, t.p90, t.p99, 100.0 * t.cv);
}

void printForwardTiming(const BenchSettings &set, const BenchResult &r) {
  if (!r.layers.empty()) {
    std::printf("Per-layer forward time (ms; %d runs in a separate timed pass, %d thread%s):\n",
                r.iterations, r.threads, r.threads == 1 ? "" : "s");
    const Widths w = widthsOf(r.layers);
    const int wa = algorithmWidth(r.layers);
    std::printf("  %-*s  %-*s  %10s  %10s  %10s  %10s  %6s  %8s  %8s  %-*s%s\n", w.layer, "layer",
                w.op, "op", "median", "p90", "min", "max", "%", "GFLOP/s", "roofline", wa,
                wa ? "algorithm" : "", "impl");
    for (const LayerTiming &l : r.layers) {
      double pct = r.sumLayerMedians > 0 ? 100.0 * l.stats.median / r.sumLayerMedians : 0;
      std::printf("  %-*s  %-*s  %10.4f  %10.4f  %10.4f  %10.4f  %6.2f  %8s  %8s  %-*s%s\n",
                  w.layer, l.layer.c_str(), w.op, l.op.c_str(), l.stats.median, l.stats.p90,
                  l.stats.min, l.stats.max, pct, gflopsCell(l.macsForward, l.stats.median).c_str(),
                  roofCell(roofOf(set, l.macsForward, l.bytesForward, l.stats.median)).c_str(), wa,
                  l.algorithms.c_str(), l.impl.c_str());
      printPhases(l);
    }
  }
  printNetwork("forward (", r);
  if (!r.layers.empty())
    std::printf("Reconciliation: sum of per-layer medians %.4f ms vs network median %.4f ms "
                "(ratio %.3f)\n",
                r.sumLayerMedians, r.total.median, r.ratio);
}

/// Timing of a module with a gradient: one table of per-layer medians by role
/// (from the gradient entry's per-layer pass when it was timed, else from the
/// forward entry's), then each entry's end-to-end figures and reconciliation.
void printGradientTiming(const BenchSettings &set, const BenchResult *fwd,
                         const BenchResult *grad) {
  const BenchResult *table = grad ? grad : fwd;
  if (!table->layers.empty()) {
    std::printf("Per-layer time (ms, medians; %s entry, %d runs in a separate timed pass, "
                "%d thread%s):\n",
                entryName(table->entry), table->iterations, table->threads,
                table->threads == 1 ? "" : "s");
    const Widths w = widthsOf(table->layers);
    const int wa = algorithmWidth(table->layers);
    std::printf("  %-*s  %-*s  %10s  %12s  %15s  %6s  %8s  %8s  %-*s%s\n", w.layer, "layer", w.op,
                "op", "fwd ms", "bwd-data ms", "bwd-weights ms", "%", "GFLOP/s", "roofline", wa,
                wa ? "algorithm" : "", "impl");
    for (const LayerTiming &l : table->layers) {
      const double sum = layerMedians(l);
      double pct = table->sumLayerMedians > 0 ? 100.0 * sum / table->sumLayerMedians : 0;
      std::printf("  %-*s  %-*s  %10s  %12s  %15s  %6.2f  %8s  %8s  %-*s%s\n", w.layer,
                  l.layer.c_str(), w.op, l.op.c_str(), ms(l.forward).c_str(),
                  ms(l.backwardData).c_str(), ms(l.backwardWeights).c_str(), pct,
                  gflopsCell(layerMacs(l), sum).c_str(),
                  roofCell(roofOf(set, layerMacs(l), layerBytes(l), sum)).c_str(), wa,
                  l.algorithms.c_str(), l.impl.c_str());
      printPhases(l);
    }
    if (grad) {
      double f = 0, d = 0, wt = 0, macs = 0;
      for (const LayerTiming &l : grad->layers) {
        f += l.forward.median;
        d += l.backwardData.median;
        wt += l.backwardWeights.median;
        macs += layerMacs(l);
      }
      std::printf("  %-*s  %-*s  %10.4f  %12.4f  %15.4f  %6.2f  %8s\n", w.layer, "total", w.op, "",
                  f, d, wt, grad->sumLayerMedians > 0 ? 100.0 : 0.0,
                  gflopsCell(macs, f + d + wt).c_str());
    }
  }
  if (fwd)
    printNetwork("forward (", *fwd);
  if (grad)
    printNetwork("gradient (forward + backward; ", *grad);
  if (fwd && !fwd->layers.empty())
    std::printf("Reconciliation, forward entry: sum of per-layer forward medians %.4f ms vs "
                "network forward median %.4f ms (ratio %.3f)\n",
                fwd->sumLayerMedians, fwd->total.median, fwd->ratio);
  if (grad && !grad->layers.empty())
    std::printf("Reconciliation, gradient entry: sum of per-layer medians (fwd + bwd-data + "
                "bwd-weights) %.4f ms vs network gradient median %.4f ms (ratio %.3f)\n",
                grad->sumLayerMedians, grad->total.median, grad->ratio);
}

/// Kernels a preferred backend did not take, with the reason.
void printFallbacks(const Executor &ex, Entry main) {
  const int K = ex.numKernels(main);
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

/// A warning on stderr for an entry whose end-to-end times vary by more
/// than kNoisyCv, with what usually causes it.
void warnIfNoisy(const BenchResult &r, double threshold) {
  if (r.total.cv <= threshold)
    return;
  std::fflush(stdout);
  const double load = loadAverage();
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  std::fprintf(stderr,
               "dlrun: warning: %s timing is noisy: CV %.1f%% over %d runs (above %.0f%%; median "
               "%.4f ms, p99 %.4f ms). Usual causes: other load on the machine (load average "
               "%.2f on %ld CPUs), more threads than free cores (%d thread%s; try --threads), "
               "spinning OpenMP threads of another process (OMP_WAIT_POLICY=PASSIVE for it), "
               "too few runs (--iterations, --min-time).\n",
               entryName(r.entry), 100.0 * r.total.cv, r.total.count, 100.0 * threshold,
               r.total.median, r.total.p99, load, cpus, r.threads, r.threads == 1 ? "" : "s");
}

json memoryJson(const Executor &ex) {
  const MemoryReport mem = ex.memory();
  const uint64_t known = mem.params + mem.arena + mem.unplanned + mem.scratch + mem.workspace;
  const uint64_t other = mem.peakRss > known ? mem.peakRss - known : 0;
  auto mib = [](uint64_t b) { return double(b) / (1024.0 * 1024.0); };
  const uint64_t activations = mem.arena + mem.unplanned;
  std::printf("Memory: params %.2f MiB, activations %.2f MiB planned (every blob in its own "
              "buffer: %.2f MiB, %.0f%% saved; %d kernels in place), executor scratch %.2f MiB, "
              "kernel workspaces %.2f MiB, peak RSS %.1f MiB; of the activations, parameter "
              "gradients %.2f MiB; beyond these, %.1f MiB of the peak RSS is transient "
              "workspaces, code and the runtime\n",
              mib(mem.params), mib(activations), mib(mem.naive),
              mem.naive ? 100.0 * (1.0 - double(activations) / double(mem.naive)) : 0.0,
              mem.inPlace, mib(mem.scratch), mib(mem.workspace), mib(mem.peakRss),
              mib(mem.gradients), mib(other));
  // The kernels keeping workspace, largest first; the five largest printed.
  std::vector<int> order(size_t(ex.numKernels(ex.hasGradient() ? Entry::Gradient : Entry::Forward)));
  std::iota(order.begin(), order.end(), 0);
  order.erase(std::remove_if(order.begin(), order.end(),
                             [&](int k) { return ex.kernelInfo(k).workspace == 0; }),
              order.end());
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return ex.kernelInfo(a).workspace > ex.kernelInfo(b).workspace;
  });
  json workspaces = json::array();
  for (size_t i = 0; i < order.size(); ++i) {
    const KernelInfo &info = ex.kernelInfo(order[i]);
    if (i < 5 && info.workspace >= 64 * 1024)
      std::printf("  workspace %.2f MiB: %s (%s, %s)\n", mib(info.workspace), info.layer.c_str(),
                  info.op.c_str(), info.impl.c_str());
    workspaces.push_back({{"kernel", order[i]},
                          {"layer", info.layer},
                          {"op", info.op},
                          {"impl", info.impl},
                          {"bytes", info.workspace}});
  }
  return {{"params_bytes", mem.params},       {"arena_bytes", mem.arena},
          {"unplanned_bytes", mem.unplanned}, {"naive_bytes", mem.naive},
          {"gradients_bytes", mem.gradients}, {"scratch_bytes", mem.scratch},
          {"workspace_bytes", mem.workspace}, {"workspaces", workspaces},
          {"in_place_kernels", mem.inPlace},  {"peak_rss_bytes", mem.peakRss},
          {"other_bytes", other}};
}

json entryJson(const BenchResult &r, double threshold) {
  json j = statsJson(r.total);
  j["warmup"] = r.warmup;
  j["iterations"] = r.iterations;
  j["sum_layer_medians_ms"] = r.sumLayerMedians;
  j["ratio"] = r.ratio;
  j["noisy"] = r.total.cv > threshold;
  return j;
}

} // namespace

double loadAverage() {
  std::ifstream in("/proc/loadavg");
  double v = -1;
  in >> v;
  return in ? v : -1;
}

json benchAndReport(Executor &ex, const BenchSettings &set) {
  BenchOptions o = set.options;
  const bool progress = set.progress && isatty(2);
  std::optional<BenchResult> fwd, grad;
  for (Entry e : {Entry::Forward, Entry::Gradient}) {
    if (!(e == Entry::Forward ? set.forward : set.gradient))
      continue;
    if (progress)
      o.progress = [e](const char *pass, int done, int planned) {
        std::fprintf(stderr, "\r\033[K%s: %s %d/%d", entryName(e), pass, done, planned);
        std::fflush(stderr);
      };
    (e == Entry::Forward ? fwd : grad) = ex.bench(e, o);
    if (progress)
      std::fprintf(stderr, "\r\033[K");
  }
  if (!ex.hasGradient())
    printForwardTiming(set, *fwd);
  else
    printGradientTiming(set, fwd ? &*fwd : nullptr, grad ? &*grad : nullptr);
  printFallbacks(ex, grad ? Entry::Gradient : Entry::Forward);
  const BenchResult &any = fwd ? *fwd : *grad;
  json j = {{"warmup", any.warmup},
            {"iterations", any.iterations},
            {"threads", any.threads},
            {"min_time_s", set.options.minSeconds},
            {"warmup_time_s", set.options.warmupSeconds},
            {"cv_warn", set.noisyCv},
            {"entries", json::array()}};
  if (set.haveRates)
    j["rates"] = {{"sgemm_gflops", set.peakGflops}, {"bandwidth_gbs", set.bandwidthGBs}};
  // bench.total and bench.layers[].stats: the forward entry, as for modules
  // without a gradient. Per layer, forward / backward_data / backward_weights
  // come from the gradient entry's per-layer pass when it was timed.
  if (fwd) {
    j["entries"].push_back("forward");
    j["total"] = entryJson(*fwd, set.noisyCv);
    j["sum_layer_medians_ms"] = fwd->sumLayerMedians;
    j["ratio"] = fwd->ratio;
  }
  if (grad) {
    j["entries"].push_back("gradient");
    j["gradient"] = entryJson(*grad, set.noisyCv);
  }
  json layers = json::array();
  if (grad) {
    for (const LayerTiming &l : grad->layers) {
      json lj = layerJson(set, l, true);
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
      layers.push_back(layerJson(set, l, ex.hasGradient()));
  }
  j["layers"] = layers;
  j["memory"] = memoryJson(ex);
  for (const BenchResult *r : {fwd ? &*fwd : nullptr, grad ? &*grad : nullptr})
    if (r)
      warnIfNoisy(*r, set.noisyCv);
  return j;
}

} // namespace dlrun

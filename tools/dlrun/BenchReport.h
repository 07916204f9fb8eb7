//===- BenchReport.h - dlrun's timing tables, reports and comparisons -*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The --bench side of dlrun (docs/benchmarking.md): time the selected entries,
// print the per-layer table (medians by role, achieved GFLOP/s, the roofline
// against this machine's measured rates), the network figures (median, p90,
// p99, CV, with a warning when the run is noisy) and the memory report; the
// same figures as JSON (the report's "bench" object) and CSV (written from
// the JSON, so both carry the same numbers); --compare of JSON reports.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TOOLS_DLRUN_BENCHREPORT_H
#define DLC_TOOLS_DLRUN_BENCHREPORT_H

#include "dlc/Runtime/Executor.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace dlrun {

using json = nlohmann::json;

struct BenchSettings {
  dlc::rt::BenchOptions options; ///< counts, times, per-layer
  bool forward = true, gradient = false;
  /// A progress line on stderr while timing (stderr is a terminal).
  bool progress = false;
  /// Warn when an entry's coefficient of variation is above this (--cv-warn).
  double noisyCv = dlc::rt::kNoisyCv;
  /// This machine's rates for the roofline column (from the tuning cache,
  /// measured once); unset when they could not be had.
  bool haveRates = false;
  double peakGflops = 0, bandwidthGBs = 0;
};

/// Times the selected entries, prints the tables, the warnings and the
/// memory report; returns the report's "bench" object.
json benchAndReport(dlc::rt::Executor &ex, const BenchSettings &settings);

/// The first field of /proc/loadavg, or -1.
double loadAverage();

/// The machine and the libraries (the report's "machine" object): CPU
/// model, cores, the ISA oneDNN dispatches to, OpenMP threads, oneDNN's
/// version, the load average.
json machineJson();

/// Writes `report` (dlrun's JSON report, one or several under "runs") as
/// CSV: '#' lines with the machine, module and settings, then one row per
/// network entry and per layer and role. Throws std::runtime_error.
void writeCsv(const std::string &path, const json &report);

/// dlrun --compare: the reports side by side (per network entry and per
/// layer, medians and ratios to the first). Returns the exit code.
int compareReports(const std::vector<std::string> &paths);

/// After a thread sweep (--threads 1,2,...): each entry's median per thread
/// count, the speedup over the first and the scaling efficiency.
void printScaling(const std::vector<json> &runs);

} // namespace dlrun

#endif // DLC_TOOLS_DLRUN_BENCHREPORT_H

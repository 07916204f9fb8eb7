//===- Tuner.h - Measured convolution algorithm costs -----------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The measuring side of convolution algorithm selection (docs/convolution.md):
// this machine's rates for the cost model, measured once and stored, and the
// tuning oracle of `dlc compile --tune`, which times every applicable
// algorithm's runtime kernel on the real shapes and keeps the results in a
// persistent, versioned JSON cache.
//
// Built with exceptions (it runs the runtime's kernels); everything declared
// here is no-throw, so the MLIR-side driver can call it.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TUNING_TUNER_H
#define DLC_TUNING_TUNER_H

#include "dlc/Ops/ConvAlgorithms.h"

#include <functional>
#include <memory>
#include <string>

namespace dlc::tuning {

struct TunerOptions {
  /// Time every applicable candidate (dlc compile --tune); otherwise the
  /// oracle is the cost model at this machine's measured rates.
  bool tune = false;
  /// Total seconds of timing (--tune-budget); 0: no limit. Problems left
  /// when it runs out get the cost model's estimate.
  double budgetSeconds = 0;
  /// The cache file; "" for defaultCachePath().
  std::string cachePath;
  /// Fail when a problem is not in the cache (reproducible CI builds).
  bool requireCache = false;
  /// Run every applicable candidate once against direct on random data and
  /// report its max error (dlc compile --explain).
  bool measureErrors = false;
  /// Threads the kernels are timed with (0: OpenMP's default), as dlrun
  /// will run them; part of the cache key.
  int threads = 0;
  /// Receives progress lines ("[3/20] conv2 forward: fft 1.92 ms").
  std::function<void(const std::string &)> progress;
};

/// $DLC_TUNING_CACHE, else $XDG_CACHE_HOME/dlc/tuning.json, else
/// ~/.cache/dlc/tuning.json.
std::string defaultCachePath();

/// This machine's rates: from the cache when present and current, else
/// measured (well under a second) and stored. On failure (an unwritable
/// cache) the measured rates are still returned and `warning` says why.
ops::MachineRates machineRates(const TunerOptions &options, std::string &warning);

/// The rates the cache holds for this machine and options.threads, without
/// measuring: false when it has none (or cannot be read).
bool cachedMachineRates(const TunerOptions &options, ops::MachineRates &rates);

/// Measures this machine's rates now and stores them in the cache,
/// replacing what it held (dlrun --calibrate). `warning` as machineRates.
ops::MachineRates calibrateMachineRates(const TunerOptions &options, std::string &warning);

/// The oracle for `options`: with tune, measured times (cache first); else
/// the cost model at this machine's rates (with measured errors when asked).
/// nullptr and `error` set when the cache cannot be read.
std::shared_ptr<ops::ConvCostOracle> createOracle(const TunerOptions &options,
                                                  std::string &error);

/// "avx512_core" etc.: the ISA oneDNN dispatches to, and its version.
std::string isaName();
std::string onednnVersion();

} // namespace dlc::tuning

#endif // DLC_TUNING_TUNER_H

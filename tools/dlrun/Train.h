//===- Train.h - dlrun --train ----------------------------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The training side of dlrun (docs/training.md): runs a module compiled with
// `dlc compile --solver` for the solver's max_iter iterations (or
// --iterations), prints Caffe's display lines every `display` iterations,
// writes one JSON record per display to --log-json, and snapshots
// (.caffemodel + .solverstate) every `snapshot` iterations and at the end.
// Ctrl-C snapshots after the current iteration and stops.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TOOLS_DLRUN_TRAIN_H
#define DLC_TOOLS_DLRUN_TRAIN_H

#include "dlc/Runtime/Executor.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace dlrun {

struct TrainSettings {
  std::string module;                ///< the module's path (the default snapshot prefix)
  std::optional<int64_t> iterations; ///< --iterations: instead of the solver's max_iter
  std::string logJson;               ///< --log-json FILE ("" = none)
  std::string resume;                ///< --resume FILE.solverstate
  std::string weights;               ///< --weights FILE.caffemodel (fine-tuning)
  std::string snapshotPrefix;        ///< --snapshot-prefix: instead of the solver's
  bool quiet = false;
};

/// Trains; returns the report's "train" object. Throws dlc::rt::Error.
nlohmann::json train(dlc::rt::Executor &ex, const TrainSettings &settings);

} // namespace dlrun

#endif // DLC_TOOLS_DLRUN_TRAIN_H

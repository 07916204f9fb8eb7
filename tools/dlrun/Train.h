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

#include "dlc/Runtime/Distributed.h"
#include "dlc/Runtime/Executor.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace dlrun {

struct TrainSettings {
  std::string module;                ///< the module's path (the default snapshot prefix)
  std::optional<int64_t> iterations; ///< --iterations: instead of the solver's max_iter
  std::optional<double> epochs;      ///< --epochs: passes over the training data
  std::string logJson;               ///< --log-json FILE ("" = none)
  std::string resume;                ///< --resume FILE.solverstate
  std::string weights;               ///< --weights FILE.caffemodel (fine-tuning)
  std::string snapshotPrefix;        ///< --snapshot-prefix: instead of the solver's
  /// Read the nets' data layers (else: --input files and random data).
  bool dataLayers = true;
  bool quiet = false;
  /// Data-parallel (--distributed): this rank's communicator, or null.
  dlc::rt::Communicator *comm = nullptr;
  dlc::rt::SyncOptions sync;
};

/// The --train options (--log-json, --epochs, --resume, ...).
void addTrainOptions(CLI::App &app, bool &train, TrainSettings &settings);

/// Completes `settings` after parsing (--iterations counts training
/// iterations with --train); the message for options that do not go
/// together, or "".
std::string checkTrainOptions(const CLI::App &app, bool train, bool otherWork, int iterations,
                              bool quiet, const std::string &module, TrainSettings &settings);

/// Trains; returns the report's "train" object. Throws dlc::rt::Error.
nlohmann::json train(dlc::rt::Executor &ex, const TrainSettings &settings);

} // namespace dlrun

#endif // DLC_TOOLS_DLRUN_TRAIN_H

//===- Driver.h - dlc command implementations -------------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The `dlc` subcommands, callable from the command-line front end without
// MLIR headers (the front end is built with exceptions for CLI11; everything
// MLIR-facing is built without, like MLIR itself).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_DRIVER_DRIVER_H
#define DLC_DRIVER_DRIVER_H

#include "dlc/Support/ExitCodes.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dlc::driver {

// The commands return the exit codes every dlc tool shares.
using dlc::kExitInternal;
using dlc::kExitOk;
using dlc::kExitUsage;
using dlc::kExitUserError;

/// How to read a net (shared by import and compile).
struct NetOptions {
  std::string input;              ///< prototxt path
  std::string phase;              ///< "", "train" or "test"
  int level = 0;
  std::vector<std::string> stages;
  std::vector<std::string> inputShapes; ///< "name=1x3x224x224"
  std::optional<int64_t> batch;
  /// Weights whose layer gives no filler get xavier instead of constant 0.
  bool randomWeights = false;
  /// "none" or "auto" (attach SoftmaxWithLoss to a net without a loss).
  std::string loss = "none";
};

struct ImportOptions {
  NetOptions net;
  std::string output = "-";
  bool debugInfo = false;   ///< print locations (layer name, file:line:col)
};

/// `dlc import`: prototxt -> dl dialect IR text.
int runImport(const ImportOptions &options);

struct CompileOptions {
  NetOptions net;
  /// A Caffe solver (docs/training.md): compiles the train net it names, with
  /// the gradient entry, and stores the solver for `dlrun --train`. Instead
  /// of net.input.
  std::string solver;
  std::string output;             ///< .dlcm path (or IR text with --emit=mlir)
  /// "dlcm" (default), "mlir" (IR after the whole pipeline) or
  /// "mlir-after=<pass>" (IR after that pass, e.g. dl-plan-buffers).
  std::string emit = "dlcm";
  bool printIRAfterAll = false;   ///< --mlir-print-ir-after-all (to stderr)
  bool debugInfo = false;
  uint64_t seed = 1;              ///< filler seed stored in the module
  /// --seed was given (otherwise a solver's random_seed, when set, is the seed).
  bool seedGiven = false;
  std::string weights;            ///< .caffemodel (binary NetParameter) or .npz
  std::string commandLine;        ///< the dlc invocation, stored in the module
  /// Convolution algorithms (docs/convolution.md): "auto" (chosen per layer
  /// and direction), or comma-separated ALGO, LAYER=ALGO,
  /// LAYER/DIRECTION=ALGO and fallback=auto|ALGO entries.
  std::string convAlgorithm = "auto";
  /// Time every applicable algorithm on the real shapes (--tune) instead of
  /// the cost model; at most tuneBudget seconds of timing (0: no limit).
  bool tune = false;
  double tuneBudget = 0;
  /// The tuning cache ("" = the user's cache directory); requireCache fails
  /// when a convolution is not in it.
  std::string tuningCache;
  bool requireCache = false;
  /// Fixed times instead of the model ("LAYER/DIRECTION/ALGO=MS,...").
  std::string costTable;
  /// Largest workspace an algorithm may use, in bytes (0: no limit).
  int64_t workspaceLimit = 0;
  /// Threads the convolutions are timed with (0: OpenMP's default).
  int tuneThreads = 0;
  /// Kernel implementation: auto (optimized where available) or ref.
  std::string impl = "auto";
  bool planBuffers = true;        ///< share activation memory by liveness
  bool fuse = true;               ///< dl-fuse-ops (docs/fusion.md)
  /// Print what the pipeline did (fused kernels, memory plan, layouts).
  bool explain = false;
  /// Also emit the gradient entry (dl-autodiff; docs/autodiff.md).
  bool gradient = false;
  /// Native code for element-wise fused ops (docs/codegen.md).
  bool codegen = true;
  /// The CPU that code is for (LLVM name, e.g. x86-64-v3); "": this machine's.
  std::string cpu;
  /// Storage layout of activations (docs/layouts.md): auto (nChw16c when the
  /// target CPU has AVX-512, else nChw8c), plain, nChw8c or nChw16c.
  std::string layout = "auto";
};

/// `dlc compile`: prototxt -> .dlcm module for dlrun.
int runCompile(const CompileOptions &options);

/// One-time process setup (stack traces on crashes, fatal-error handler that
/// exits with kExitInternal).
void initProcess(const char *argv0);

} // namespace dlc::driver

#endif // DLC_DRIVER_DRIVER_H

//===- Measure.h - Running convolution kernels for the tuner ----*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_TUNING_MEASURE_H
#define DLC_LIB_TUNING_MEASURE_H

#include "dlc/Ops/ConvAlgorithms.h"

#include <memory>
#include <string>
#include <vector>

namespace dlc::tuning {

/// One problem's kernels on shared random inputs: the runtime kernel of each
/// algorithm for the problem's direction, built from the same description
/// dlrun will build (throws dlc::rt::Error / NotApplicable like the runtime).
class ProblemBench {
public:
  explicit ProblemBench(const ops::ConvProblem &p);
  ~ProblemBench();
  /// Median seconds of `algorithm` over a few runs after a warm-up, at most
  /// about `maxSeconds` in all.
  double time(const std::string &algorithm, double maxSeconds);
  /// Max |out - direct's out| / max |direct's out| over all outputs.
  double maxError(const std::string &algorithm);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Measures this machine's rates (SGEMM, vector arithmetic, bandwidth,
/// direct convolution efficiency, oneDNN Winograd availability).
ops::MachineRates measureMachineRates();

/// Seconds since an arbitrary epoch (steady clock).
double now();

} // namespace dlc::tuning

#endif // DLC_LIB_TUNING_MEASURE_H

//===- SolverLoader.h - Load and check a Caffe solver -----------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Reads a Caffe solver (solver.prototxt, SolverParameter in text format),
// checks it as Caffe's Solver and SGDSolver constructors do (and what they
// would only find at the first iteration, such as an unknown lr_policy),
// reporting every problem with a file:line:col position, and resolves the
// nets it names: the train net and one test net per test_iter (docs/
// training.md). No MLIR here; the driver compiles the nets.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CAFFE_SOLVERLOADER_H
#define DLC_CAFFE_SOLVERLOADER_H

#include "dlc/Caffe/NetLoader.h"

#include <optional>
#include <string>
#include <vector>

namespace dlc::caffe_fe {

/// One net a solver names.
struct SolverNet {
  /// The solver field it comes from: net, net_param, train_net,
  /// train_net_param, test_net or test_net_param.
  std::string field;
  /// The net file, resolved (see loadSolverFile); empty for an inline net.
  std::string path;
  /// An inline net: the solver's text with everything outside the net's
  /// braces blanked, so that the net's diagnostics point into the solver.
  std::string inlineText;
  SourceLoc loc;         ///< the field in the solver file
  caffe::NetState state; ///< phase TRAIN or TEST, merged with train_state / test_state
};

struct LoadedSolver {
  std::string file;
  /// As written, except `type`, which is always set (from the legacy
  /// `solver_type` when only that is given).
  caffe::SolverParameter param;
  SolverNet train;
  std::vector<SolverNet> tests; ///< one per test_iter, in Caffe's order
};

/// The most test nets a solver may have (each is compiled into the module).
constexpr int kMaxTestNets = 64;

/// Caffe's solver types (SolverParameter.type) and learning-rate policies
/// (lr_policy), as Caffe spells them.
const std::vector<std::string> &solverTypeNames();
const std::vector<std::string> &lrPolicyNames();

/// Loads a solver. Net files are looked for as Caffe would (the path as
/// given, from the current directory), then relative to the solver's
/// directory, then by file name in the solver's directory (zoo solvers name
/// their nets from Caffe's root, "examples/mnist/lenet_train_test.prototxt").
/// On failure returns std::nullopt with every error in `diags`.
std::optional<LoadedSolver> loadSolverFile(const std::string &path,
                                           std::vector<Diagnostic> &diags);
std::optional<LoadedSolver> loadSolverFromString(const std::string &text,
                                                 const std::string &filename,
                                                 std::vector<Diagnostic> &diags);

/// Loads one of the solver's nets with its NetState (`options`' phase,
/// level and stages are replaced by it).
std::optional<LoadedNet> loadSolverNet(const SolverNet &net, LoadOptions options,
                                       std::vector<Diagnostic> &diags);

} // namespace dlc::caffe_fe

#endif // DLC_CAFFE_SOLVERLOADER_H

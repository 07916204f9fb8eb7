//===- FuzzSolver.cpp - Fuzz target: the solver reader --------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What `dlc compile --solver` does before compiling a net: the solver's text
// parser and checks (loadSolverFromString), net path resolution, and the
// loading of inline nets (train_net_param, net_param, test_net_param) from
// the solver's own text: parse, upgrade, phase rules, inputs, structure.
// Net files the solver names are only looked up, never read, and no data
// layer's data is opened.
//
//===----------------------------------------------------------------------===//

#include "dlc/Caffe/SolverLoader.h"

#include <cstdint>
#include <string>
#include <vector>

using namespace dlc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  std::vector<caffe_fe::Diagnostic> diags;
  auto solver = caffe_fe::loadSolverFromString(text, "fuzz-solver.prototxt", diags);
  for (const auto &d : diags)
    (void)caffe_fe::formatDiagnostic(d);
  if (!solver)
    return 0;
  caffe_fe::LoadOptions options;
  auto load = [&](const caffe_fe::SolverNet &net) {
    if (net.inlineText.empty())
      return;
    std::vector<caffe_fe::Diagnostic> netDiags;
    auto loaded = caffe_fe::loadSolverNet(net, options, netDiags);
    for (const auto &d : netDiags)
      (void)caffe_fe::formatDiagnostic(d);
  };
  load(solver->train);
  for (const caffe_fe::SolverNet &test : solver->tests)
    load(test);
  return 0;
}

//===- SolverCheck.cpp - Validate a module's solver -----------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The compiler checks a solver against Caffe's rules with positions in the
// solver file (lib/Caffe/SolverLoader.cpp); this check is the runtime's: a
// module from anywhere must not drive the update into undefined behaviour
// (a negative iter_size, a NaN rate, a step size of 0 dividing).
//
//===----------------------------------------------------------------------===//

#include "dlc/Ops/SolverUpdate.h"
#include "dlc/Runtime/Module.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace pb = dlc::module;

bool dlc::rt::validateDataLayers(const pb::Module &m, std::string &error) {
  std::vector<bool> fed(size_t(m.tensors_size()), false);
  for (int i = 0; i < m.data_layers_size(); ++i) {
    const pb::DataLayer &d = m.data_layers(i);
    if (d.tops_size() == 0 || d.caffe_layer().empty()) {
      error = "data layer #" + std::to_string(i) + ": no layer or no tops";
      return false;
    }
    for (int t : d.tops()) {
      if (t == -1)
        continue;
      if (t < 0 || t >= m.tensors_size() || m.tensors(t).kind() != pb::Tensor::INPUT ||
          fed[size_t(t)]) {
        error = "data layer #" + std::to_string(i) + ": top " + std::to_string(t) +
                " is not a graph input, or is fed twice";
        return false;
      }
      fed[size_t(t)] = true;
    }
  }
  return true;
}

bool dlc::rt::validateSolver(const pb::Module &m, std::string &error) {
  const pb::Solver &s = m.solver();
  auto fail = [&](const std::string &what) {
    error = "solver: " + what;
    return false;
  };
  if (m.test_nets_size() > 0 && !m.has_solver())
    return fail("test nets without a solver");
  if (m.kernels_size() == 0 ||
      m.kernels(m.kernels_size() - 1).role() == pb::Kernel::FORWARD)
    return fail("the module has no gradient entry to train with");
  if (!pb::Solver::Type_IsValid(s.type()))
    return fail("invalid solver type");
  if (!pb::Solver::LrPolicy_IsValid(s.lr_policy()))
    return fail("invalid lr_policy");
  if (!pb::Solver::Regularization_IsValid(s.regularization()))
    return fail("invalid regularization");
  if (!s.gen_update().empty()) {
    const std::string want = dlc::ops::updateSymbol(dlc::ops::SolverType(s.type()),
                                                    s.regularization() == pb::Solver::L1);
    if (s.gen_update() != want)
      return fail("gen_update '" + s.gen_update() + "' is not the update of this solver ('" +
                  want + "')");
    const auto &symbols = m.native_code().symbols();
    if (std::find(symbols.begin(), symbols.end(), want) == symbols.end())
      return fail("gen_update '" + want + "' is not a symbol of the module's native code");
  }
  auto finite = [](double v) { return std::isfinite(v); };
  for (double v : {s.base_lr(), s.gamma(), s.power(), s.momentum(), s.momentum2(), s.delta(),
                   s.rms_decay(), s.weight_decay(), s.clip_gradients()})
    if (!finite(v))
      return fail("a value is not finite");
  if (s.base_lr() < 0 || s.weight_decay() < 0)
    return fail("base_lr and weight_decay must be >= 0");
  if (s.delta() <= 0)
    return fail("delta must be positive");
  // Any iteration count fits: the update never loops over it.
  constexpr int64_t kMaxCount = int64_t(1) << 40;
  if (s.iter_size() < 1 || s.iter_size() > kMaxCount)
    return fail("iter_size must lie in [1, 2^40]");
  if (s.average_loss() < 1 || s.average_loss() > (int64_t(1) << 24))
    return fail("average_loss must lie in [1, 2^24]");
  for (int64_t v : {s.max_iter(), s.display(), s.snapshot(), s.stepsize()})
    if (v < 0 || v > kMaxCount)
      return fail("an iteration count is negative or above 2^40");
  if (s.lr_policy() == pb::Solver::STEP && s.stepsize() == 0)
    return fail("lr_policy step needs a positive stepsize");
  if (s.lr_policy() == pb::Solver::POLY && s.max_iter() == 0)
    return fail("lr_policy poly needs a positive max_iter");
  if (s.test_interval() < 0 || s.test_interval() > kMaxCount)
    return fail("test_interval must lie in [0, 2^40]");
  for (int i = 0; i < m.test_nets_size(); ++i) {
    const pb::TestNet &t = m.test_nets(i);
    std::string net = "test net #" + std::to_string(i) + ": ";
    if (t.iterations() < 1 || t.iterations() > kMaxCount)
      return fail(net + "test_iter must lie in [1, 2^40]");
    pb::Module nested;
    if (t.module().size() > size_t(INT32_MAX) || !nested.ParseFromString(t.module()))
      return fail(net + "cannot parse its module");
    if (nested.has_solver() || nested.test_nets_size() > 0)
      return fail(net + "a test net has no solver and no test nets of its own");
    std::string why;
    if (!validateModule(nested, 0, why))
      return fail(net + why);
  }
  for (int i = 0; i < s.stepvalue_size(); ++i)
    if (s.stepvalue(i) < 0 || s.stepvalue(i) > kMaxCount ||
        (i > 0 && s.stepvalue(i) <= s.stepvalue(i - 1)))
      return fail("stepvalue must be increasing counts");
  return true;
}

//===- Update.cpp - Learning rates and the solvers' update ----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Caffe computes an update in up to nine passes over each parameter (clip,
// normalize, regularize, then the solver's caffe_* calls); here every solver
// is one loop per parameter that reads the gradient, the weight and the
// history once and writes the weight and the history once. Clipping needs
// the global norm first: one more (read-only) pass over the gradients.
// The loop is the function dlc compile generated for the module's solver
// (dl-codegen-update, dlc/Ops/SolverUpdate.h) when the module has one;
// the built-in loops below compute the same floats in the same order.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Training.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace pb = dlc::module;
namespace ops = dlc::ops;

static_assert(int(pb::Solver::SGD) == int(ops::SolverType::Sgd) &&
                  int(pb::Solver::NESTEROV) == int(ops::SolverType::Nesterov) &&
                  int(pb::Solver::ADAGRAD) == int(ops::SolverType::AdaGrad) &&
                  int(pb::Solver::RMSPROP) == int(ops::SolverType::RmsProp) &&
                  int(pb::Solver::ADADELTA) == int(ops::SolverType::AdaDelta) &&
                  int(pb::Solver::ADAM) == int(ops::SolverType::Adam),
              "dlcm.proto Solver.Type follows dlc/Ops/SolverUpdate.h");

namespace dlc::rt {

int64_t learningRateStep(const pb::Solver &s, int64_t iter) {
  switch (s.lr_policy()) {
  case pb::Solver::STEP:
    return iter / s.stepsize();
  case pb::Solver::MULTISTEP:
    return std::upper_bound(s.stepvalue().begin(), s.stepvalue().end(), iter) -
           s.stepvalue().begin();
  default:
    return 0;
  }
}

double learningRate(const pb::Solver &s, int64_t iter) {
  double base = s.base_lr(), it = double(iter);
  switch (s.lr_policy()) {
  case pb::Solver::FIXED:
    return base;
  case pb::Solver::STEP:
  case pb::Solver::MULTISTEP:
    return base * std::pow(s.gamma(), double(learningRateStep(s, iter)));
  case pb::Solver::EXP:
    return base * std::pow(s.gamma(), it);
  case pb::Solver::INV:
    return base * std::pow(1 + s.gamma() * it, -s.power());
  case pb::Solver::POLY:
    return base * std::pow(1 - it / double(s.max_iter()), s.power());
  case pb::Solver::SIGMOID:
    return base * (1 / (1 + std::exp(-s.gamma() * (it - double(s.stepsize())))));
  }
  return base;
}

SolverUpdate::SolverUpdate(const pb::Solver &solver, const std::vector<int64_t> &counts)
    : solver_(solver), counts_(counts) {
  slots_ = ops::updateHistorySlots(ops::SolverType(solver.type()));
  for (int s = 0; s < slots_; ++s)
    for (int64_t n : counts)
      history_[s].emplace_back(size_t(n), 0.0f);
}

namespace {

/// The built-in loop of solver type T over one parameter; `k` the
/// coefficients of dlc/Ops/SolverUpdate.h, as the generated function reads
/// them.
template <pb::Solver::Type T>
void updateLoop(float *__restrict w, const float *__restrict grad, float *__restrict h,
                float *__restrict h2, int64_t n, const float *k, bool l1) {
  const float m = k[ops::kMomentum], m2 = k[ops::kMomentum2], d = k[ops::kDelta],
              r = k[ops::kRate], gscale = k[ops::kGradScale], decay = k[ops::kDecay],
              rmsDecay = k[ops::kRmsDecay];
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    float wi = w[i];
    float g = grad[i] * gscale;
    if (l1)
      g += decay * float((0 < wi) - (wi < 0));
    else
      g += decay * wi;
    if constexpr (T == pb::Solver::SGD) {
      float hi = m * h[i] + r * g;
      h[i] = hi;
      w[i] = wi - hi;
    } else if constexpr (T == pb::Solver::NESTEROV) {
      float prev = h[i];
      float hi = m * prev + r * g;
      h[i] = hi;
      w[i] = wi - ((1 + m) * hi - m * prev);
    } else if constexpr (T == pb::Solver::ADAGRAD) {
      float hi = h[i] + g * g;
      h[i] = hi;
      w[i] = wi - r * (g / (std::sqrt(hi) + d));
    } else if constexpr (T == pb::Solver::RMSPROP) {
      float hi = rmsDecay * h[i] + (1 - rmsDecay) * (g * g);
      h[i] = hi;
      w[i] = wi - r * (g / (std::sqrt(hi) + d));
    } else if constexpr (T == pb::Solver::ADADELTA) {
      float hi = m * h[i] + (1 - m) * (g * g);
      float u = g * std::sqrt((h2[i] + d) / (hi + d));
      h[i] = hi;
      h2[i] = m * h2[i] + (1 - m) * (u * u);
      w[i] = wi - r * u;
    } else {
      float hi = m * h[i] + (1 - m) * g;
      float vi = m2 * h2[i] + (1 - m2) * (g * g);
      h[i] = hi;
      h2[i] = vi;
      w[i] = wi - r * (hi / (std::sqrt(vi) + d));
    }
  }
}

} // namespace

double SolverUpdate::apply(const std::vector<UpdateParam> &params, int64_t iter) {
  if (params.size() != counts_.size())
    throw Error("solver update: " + std::to_string(params.size()) + " params given, " +
                std::to_string(counts_.size()) + " expected");
  for (size_t p = 0; p < params.size(); ++p)
    if (params[p].count != counts_[p])
      throw Error("solver update: param #" + std::to_string(p) + " has " +
                  std::to_string(params[p].count) + " elements, " +
                  std::to_string(counts_[p]) + " expected");
  double rate = learningRate(solver_, iter);
  // ClipGradients, on the summed gradients (before Normalize), as Caffe.
  double clipScale = 1;
  norm_ = 0;
  if (solver_.clip_gradients() >= 0) {
    double sumsq = 0;
    for (const UpdateParam &p : params) {
      const float *g = p.grad;
      int64_t n = p.count;
#pragma omp parallel for reduction(+ : sumsq) schedule(static) if (n > 32768)
      for (int64_t i = 0; i < n; ++i)
        sumsq += double(g[i]) * double(g[i]);
    }
    norm_ = std::sqrt(sumsq);
    if (norm_ > solver_.clip_gradients())
      clipScale = solver_.clip_gradients() / norm_;
  }
  double correction = 1;
  if (solver_.type() == pb::Solver::ADAM) {
    double t = double(iter + 1);
    correction = std::sqrt(1 - std::pow(solver_.momentum2(), t)) /
                 (1 - std::pow(solver_.momentum(), t));
  }
  // The coefficients of each parameter (dlc/Ops/SolverUpdate.h).
  std::vector<std::array<float, ops::kNumUpdateCoefficients>> coef(params.size());
  for (size_t p = 0; p < params.size(); ++p) {
    float *k = coef[p].data();
    k[ops::kGradScale] = float(clipScale / double(solver_.iter_size()));
    k[ops::kDecay] = float(solver_.weight_decay() * params[p].decayMult);
    k[ops::kRate] = float(rate * params[p].lrMult * correction);
    k[ops::kMomentum] = float(solver_.momentum());
    k[ops::kMomentum2] = float(solver_.momentum2());
    k[ops::kDelta] = float(solver_.delta());
    k[ops::kRmsDecay] = float(solver_.rms_decay());
  }
  auto hist = [&](int slot, size_t p) {
    return slot < slots_ ? history_[slot][p].data() : nullptr;
  };
  if (generated_) {
    // Chunks of 16K elements (64 KiB of each array) of every parameter, in
    // one parallel loop when there are several (each element's update is
    // its own: the floats do not depend on the split).
    constexpr int64_t kChunk = 16384;
    std::vector<std::pair<size_t, int64_t>> chunks; // (param, first element)
    for (size_t p = 0; p < params.size(); ++p)
      for (int64_t i = 0; i < params[p].count; i += kChunk)
        chunks.emplace_back(p, i);
    const int64_t numChunks = int64_t(chunks.size());
    ops::UpdateFunction fn = generated_;
#pragma omp parallel for schedule(static) if (numChunks > 1)
    for (int64_t q = 0; q < numChunks; ++q) {
      const auto [p, i] = chunks[size_t(q)];
      const UpdateParam &prm = params[p];
      fn(prm.data, prm.grad, hist(0, p), hist(1, p), coef[p].data(), i,
         std::min(prm.count, i + kChunk));
    }
    return rate;
  }
  // One loop per solver type, in the order of Solver.Type (validated).
  using Loop = void (*)(float *, const float *, float *, float *, int64_t, const float *, bool);
  static constexpr Loop kLoops[] = {
      updateLoop<pb::Solver::SGD>,     updateLoop<pb::Solver::NESTEROV>,
      updateLoop<pb::Solver::ADAGRAD>, updateLoop<pb::Solver::RMSPROP>,
      updateLoop<pb::Solver::ADADELTA>, updateLoop<pb::Solver::ADAM>};
  for (size_t p = 0; p < params.size(); ++p)
    kLoops[solver_.type()](params[p].data, params[p].grad, hist(0, p), hist(1, p),
                           params[p].count, coef[p].data(),
                           solver_.regularization() == pb::Solver::L1);
  return rate;
}

} // namespace dlc::rt

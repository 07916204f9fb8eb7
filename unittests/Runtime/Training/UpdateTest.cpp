//===- UpdateTest.cpp - Solver updates against Caffe's formulas -----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The reference below is Caffe's SGDSolver family transcribed step by step
// (ClipGradients, Normalize, Regularize, ComputeUpdateValue, Net::Update,
// GetLearningRate with its stateful current_step_), in float64. dlc's fused
// float32 update must follow it over several iterations with fresh
// gradients each time: the built-in loops, and the update function the
// compiler generates for this machine (dl-codegen-update), which must also
// give exactly the built-in loops' floats.
//
//===----------------------------------------------------------------------===//

#include "dlc/Conversion/Codegen.h"
#include "dlc/Ops/SolverUpdate.h"
#include "dlc/Runtime/Generated.h"
#include "dlc/Runtime/Training.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>

namespace pb = dlc::module;
using dlc::rt::learningRate;
using dlc::rt::SolverUpdate;
using dlc::rt::UpdateParam;

namespace {

/// Caffe's SGDSolver::GetLearningRate, with its state.
struct CaffeRate {
  int currentStep = 0;
  double operator()(const pb::Solver &s, int64_t iter) {
    double base = s.base_lr();
    switch (s.lr_policy()) {
    case pb::Solver::FIXED:
      return base;
    case pb::Solver::STEP:
      currentStep = int(iter / s.stepsize());
      return base * std::pow(s.gamma(), currentStep);
    case pb::Solver::EXP:
      return base * std::pow(s.gamma(), double(iter));
    case pb::Solver::INV:
      return base * std::pow(1 + s.gamma() * double(iter), -s.power());
    case pb::Solver::MULTISTEP:
      if (currentStep < s.stepvalue_size() && iter >= s.stepvalue(currentStep))
        ++currentStep;
      return base * std::pow(s.gamma(), currentStep);
    case pb::Solver::POLY:
      return base * std::pow(1 - double(iter) / double(s.max_iter()), s.power());
    case pb::Solver::SIGMOID:
      return base * (1 / (1 + std::exp(-s.gamma() * (double(iter) - double(s.stepsize())))));
    }
    return 0;
  }
};

struct RefParam {
  std::vector<double> data, diff, h, h2;
  double lrMult = 1, decayMult = 1;
};

/// One Caffe iteration on `params` (diff = Σ of iter_size gradients).
void caffeApplyUpdate(const pb::Solver &s, std::vector<RefParam> &params, int64_t iter,
                      CaffeRate &rate) {
  double lr = rate(s, iter);
  // ClipGradients.
  if (s.clip_gradients() >= 0) {
    double sumsq = 0;
    for (RefParam &p : params)
      for (double d : p.diff)
        sumsq += d * d;
    double norm = std::sqrt(sumsq);
    if (norm > s.clip_gradients())
      for (RefParam &p : params)
        for (double &d : p.diff)
          d *= s.clip_gradients() / norm;
  }
  for (RefParam &p : params) {
    size_t n = p.data.size();
    // Normalize.
    if (s.iter_size() > 1)
      for (double &d : p.diff)
        d /= double(s.iter_size());
    // Regularize.
    double decay = s.weight_decay() * p.decayMult;
    if (decay != 0)
      for (size_t i = 0; i < n; ++i)
        p.diff[i] += decay * (s.regularization() == pb::Solver::L2
                                  ? p.data[i]
                                  : double((0 < p.data[i]) - (p.data[i] < 0)));
    // ComputeUpdateValue.
    double local = lr * p.lrMult, m = s.momentum(), d = s.delta();
    for (size_t i = 0; i < n; ++i) {
      double &g = p.diff[i];
      switch (s.type()) {
      case pb::Solver::SGD:
        p.h[i] = local * g + m * p.h[i];
        g = p.h[i];
        break;
      case pb::Solver::NESTEROV: {
        double saved = p.h[i];
        p.h[i] = local * g + m * p.h[i];
        g = (1 + m) * p.h[i] - m * saved;
        break;
      }
      case pb::Solver::ADAGRAD:
        p.h[i] += g * g;
        g = local * g / (std::sqrt(p.h[i]) + d);
        break;
      case pb::Solver::RMSPROP:
        p.h[i] = (1 - s.rms_decay()) * g * g + s.rms_decay() * p.h[i];
        g = local * g / (std::sqrt(p.h[i]) + d);
        break;
      case pb::Solver::ADADELTA: {
        p.h[i] = (1 - m) * g * g + m * p.h[i];
        double update = std::sqrt((p.h2[i] + d) / (p.h[i] + d));
        g = g * update;
        p.h2[i] = (1 - m) * g * g + m * p.h2[i];
        g = local * g;
        break;
      }
      case pb::Solver::ADAM: {
        double b1 = m, b2 = s.momentum2();
        double t = double(iter + 1);
        double correction = std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
        p.h[i] = (1 - b1) * g + b1 * p.h[i];
        p.h2[i] = (1 - b2) * g * g + b2 * p.h2[i];
        g = local * correction * (p.h[i] / (std::sqrt(p.h2[i]) + d));
        break;
      }
      }
    }
    // Net::Update.
    for (size_t i = 0; i < n; ++i)
      p.data[i] -= p.diff[i];
  }
}

pb::Solver solverOf(pb::Solver::Type type) {
  pb::Solver s;
  s.set_type(type);
  s.set_base_lr(type == pb::Solver::ADADELTA ? 1.0 : 0.05);
  s.set_lr_policy(pb::Solver::STEP);
  s.set_gamma(0.5);
  s.set_stepsize(2);
  if (type == pb::Solver::SGD || type == pb::Solver::NESTEROV)
    s.set_momentum(0.9);
  if (type == pb::Solver::ADADELTA)
    s.set_momentum(0.95);
  if (type == pb::Solver::ADAM)
    s.set_momentum(0.9);
  s.set_delta(type == pb::Solver::ADADELTA ? 1e-6 : 1e-8);
  s.set_rms_decay(0.98);
  s.set_weight_decay(0.01);
  return s;
}

/// The update function generated for this machine for the type and
/// regularization of `s` (compiled once per kind), or null with a test
/// failure.
dlc::ops::UpdateFunction generatedUpdate(const pb::Solver &s) {
  static std::map<std::pair<int, bool>, std::shared_ptr<const dlc::rt::NativeCode>> compiled;
  const bool l1 = s.regularization() == pb::Solver::L1;
  auto type = dlc::ops::SolverType(s.type());
  std::shared_ptr<const dlc::rt::NativeCode> &code = compiled[{int(type), l1}];
  if (!code) {
    dlc::codegen::NativeObject object;
    std::string error;
    if (!dlc::codegen::compileSolverUpdate(dlc::ops::kSolverTypeNames[int(type)], l1, "", object,
                                           error)) {
      ADD_FAILURE() << "code generation failed: " << error;
      return nullptr;
    }
    code = dlc::rt::loadNativeCode(object.object, object.cpu, object.features, object.symbols);
  }
  auto fn = reinterpret_cast<dlc::ops::UpdateFunction>(
      code->function(dlc::ops::updateSymbol(type, l1)));
  EXPECT_NE(fn, nullptr);
  return fn;
}

enum class Impl { BuiltIn, Generated };
const Impl kImpls[] = {Impl::BuiltIn, Impl::Generated};
const char *implName(Impl i) { return i == Impl::BuiltIn ? "built-in" : "generated"; }

/// Runs `iters` iterations of dlc's update (`impl`) and of the reference on
/// the same random params and gradients; returns the largest relative
/// difference of the weights and of the history.
double compareWithCaffe(const pb::Solver &s, int iters, Impl impl = Impl::BuiltIn,
                        uint64_t seed = 7) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal(0, 1);
  const std::vector<int64_t> counts = {37, 5, 130};
  const double lrMults[] = {1, 2, 0.5}, decayMults[] = {1, 0, 3};
  std::vector<RefParam> ref(counts.size());
  std::vector<std::vector<float>> data(counts.size()), grad(counts.size());
  for (size_t p = 0; p < counts.size(); ++p) {
    ref[p].lrMult = lrMults[p];
    ref[p].decayMult = decayMults[p];
    for (int64_t i = 0; i < counts[p]; ++i) {
      float w = float(normal(gen) * 0.5);
      data[p].push_back(w);
      ref[p].data.push_back(w);
    }
    ref[p].h.assign(size_t(counts[p]), 0.0);
    ref[p].h2.assign(size_t(counts[p]), 0.0);
    grad[p].resize(size_t(counts[p]));
  }
  SolverUpdate update(s, counts);
  if (impl == Impl::Generated)
    update.setGenerated(generatedUpdate(s));
  CaffeRate rate;
  double worst = 0;
  for (int it = 0; it < iters; ++it) {
    std::vector<UpdateParam> params;
    for (size_t p = 0; p < counts.size(); ++p) {
      ref[p].diff.clear();
      for (float &g : grad[p]) {
        g = float(normal(gen) * double(s.iter_size()));
        ref[p].diff.push_back(g);
      }
      params.push_back({data[p].data(), grad[p].data(), counts[p], lrMults[p], decayMults[p]});
    }
    double got = update.apply(params, it);
    double want = rate(s, it);
    EXPECT_NEAR(got, want, 1e-12 * std::abs(want)) << "iteration " << it;
    caffeApplyUpdate(s, ref, it, rate);
    for (size_t p = 0; p < counts.size(); ++p)
      for (size_t i = 0; i < data[p].size(); ++i) {
        auto rel = [](double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(b)); };
        worst = std::max(worst, rel(data[p][i], ref[p].data[i]));
        worst = std::max(worst, rel(update.history(0, int(p))[i], ref[p].h[i]));
        if (update.historySlots() > 1)
          worst = std::max(worst, rel(update.history(1, int(p))[i], ref[p].h2[i]));
      }
  }
  return worst;
}

const pb::Solver::Type kTypes[] = {pb::Solver::SGD,     pb::Solver::NESTEROV,
                                   pb::Solver::ADAGRAD, pb::Solver::RMSPROP,
                                   pb::Solver::ADADELTA, pb::Solver::ADAM};

} // namespace

TEST(SolverUpdate, EveryTypeFollowsCaffe) {
  for (Impl impl : kImpls)
    for (pb::Solver::Type type : kTypes) {
      pb::Solver s = solverOf(type);
      EXPECT_LT(compareWithCaffe(s, 6, impl), 2e-5)
          << pb::Solver::Type_Name(type) << " " << implName(impl);
    }
}

TEST(SolverUpdate, L1Regularization) {
  for (Impl impl : kImpls)
    for (pb::Solver::Type type : kTypes) {
      pb::Solver s = solverOf(type);
      s.set_regularization(pb::Solver::L1);
      s.set_weight_decay(0.05);
      EXPECT_LT(compareWithCaffe(s, 5, impl), 2e-5)
          << pb::Solver::Type_Name(type) << " " << implName(impl);
    }
}

TEST(SolverUpdate, GradientClipping) {
  for (Impl impl : kImpls)
    for (pb::Solver::Type type : kTypes) {
      pb::Solver s = solverOf(type);
      s.set_clip_gradients(0.5); // far below the norm of ~170 random gradients
      EXPECT_LT(compareWithCaffe(s, 5, impl), 2e-5)
          << pb::Solver::Type_Name(type) << " " << implName(impl);
    }
  // The norm is reported, and a large threshold leaves the update alone.
  pb::Solver s = solverOf(pb::Solver::SGD);
  s.set_clip_gradients(1e9);
  std::vector<float> w = {1, 2}, g = {3, 4};
  SolverUpdate u(s, {2});
  u.apply({{w.data(), g.data(), 2, 1, 1}}, 0);
  EXPECT_NEAR(u.gradientNorm(), 5.0, 1e-12);
}

TEST(SolverUpdate, IterSizeNormalizes) {
  for (Impl impl : kImpls)
    for (pb::Solver::Type type : kTypes) {
      pb::Solver s = solverOf(type);
      s.set_iter_size(3);
      s.set_clip_gradients(2.0); // clipping acts on the sum, before the division
      EXPECT_LT(compareWithCaffe(s, 5, impl), 2e-5)
          << pb::Solver::Type_Name(type) << " " << implName(impl);
    }
}

TEST(SolverUpdate, NoMomentumNoDecayIsPlainGradientDescent) {
  pb::Solver s;
  s.set_base_lr(0.1);
  std::vector<float> w = {1, -2, 3}, g = {0.5f, 1, -1};
  SolverUpdate u(s, {3});
  u.apply({{w.data(), g.data(), 3, 2, 1}}, 0);
  EXPECT_FLOAT_EQ(w[0], 1 - 0.1f * 2 * 0.5f);
  EXPECT_FLOAT_EQ(w[1], -2 - 0.1f * 2 * 1);
  EXPECT_FLOAT_EQ(w[2], 3 + 0.1f * 2 * 1);
}

// The generated function computes the built-in loops' floats exactly, for
// every type and regularization, over sizes that reach the unrolled, the
// single-vector and the scalar loops and, above 16K elements, several
// chunks run in parallel; special values (zeros for L1's sign, a
// denormal, a large gradient) included.
TEST(SolverUpdate, GeneratedEqualsBuiltInBitForBit) {
  std::mt19937_64 gen(11);
  std::normal_distribution<float> normal(0, 1);
  const std::vector<int64_t> counts = {1, 7, 17, 131, 40000};
  for (bool l1 : {false, true})
    for (pb::Solver::Type type : kTypes) {
      pb::Solver s = solverOf(type);
      if (l1)
        s.set_regularization(pb::Solver::L1);
      SolverUpdate builtIn(s, counts), generated(s, counts);
      generated.setGenerated(generatedUpdate(s));
      ASSERT_TRUE(generated.generated());
      std::vector<std::vector<float>> w1, w2, g;
      for (int64_t n : counts) {
        std::vector<float> w(static_cast<size_t>(n));
        for (float &v : w)
          v = normal(gen);
        w[0] = 0;
        if (n > 2)
          w[2] = 1e-40f;
        w1.push_back(w);
        w2.push_back(w);
        g.emplace_back(size_t(n));
      }
      for (int it = 0; it < 4; ++it) {
        std::vector<UpdateParam> p1, p2;
        for (size_t p = 0; p < counts.size(); ++p) {
          for (float &v : g[p])
            v = normal(gen);
          if (counts[p] > 3)
            g[p][3] = 1e20f;
          p1.push_back({w1[p].data(), g[p].data(), counts[p], 1.5, 0.5});
          p2.push_back({w2[p].data(), g[p].data(), counts[p], 1.5, 0.5});
        }
        builtIn.apply(p1, it);
        generated.apply(p2, it);
      }
      const std::string what = pb::Solver::Type_Name(type) + (l1 ? " L1" : " L2");
      for (size_t p = 0; p < counts.size(); ++p) {
        size_t bytes = size_t(counts[p]) * sizeof(float);
        EXPECT_EQ(std::memcmp(w1[p].data(), w2[p].data(), bytes), 0) << what << " weights " << p;
        for (int slot = 0; slot < builtIn.historySlots(); ++slot)
          EXPECT_EQ(std::memcmp(builtIn.history(slot, int(p)).data(),
                                generated.history(slot, int(p)).data(), bytes),
                    0)
              << what << " history " << slot << " of param " << p;
      }
    }
}

TEST(SolverUpdate, RejectsMismatchedParams) {
  pb::Solver s;
  SolverUpdate u(s, {3});
  std::vector<float> w(4), g(4);
  EXPECT_THROW(u.apply({{w.data(), g.data(), 4, 1, 1}}, 0), dlc::rt::Error);
  EXPECT_THROW(u.apply({}, 0), dlc::rt::Error);
}

TEST(LearningRate, EveryPolicyFollowsCaffe) {
  pb::Solver s;
  s.set_base_lr(0.01);
  s.set_gamma(0.9);
  s.set_power(0.75);
  s.set_stepsize(7);
  s.set_max_iter(40);
  for (int v : {5, 6, 20, 33})
    s.add_stepvalue(v);
  for (int policy = pb::Solver::LrPolicy_MIN; policy <= pb::Solver::LrPolicy_MAX; ++policy) {
    s.set_lr_policy(static_cast<pb::Solver::LrPolicy>(policy));
    if (policy == pb::Solver::INV)
      s.set_gamma(1e-2);
    CaffeRate caffe;
    for (int64_t it = 0; it < 40; ++it) {
      double want = caffe(s, it);
      EXPECT_NEAR(learningRate(s, it), want, 1e-15)
          << pb::Solver::LrPolicy_Name(s.lr_policy()) << " iteration " << it;
      if (policy == pb::Solver::STEP || policy == pb::Solver::MULTISTEP) {
        EXPECT_EQ(dlc::rt::learningRateStep(s, it), caffe.currentStep) << it;
      }
    }
    s.set_gamma(0.9);
  }
  // Spot values, worked by hand.
  s.set_lr_policy(pb::Solver::STEP);
  EXPECT_NEAR(learningRate(s, 14), 0.01 * 0.81, 1e-15);
  s.set_lr_policy(pb::Solver::POLY);
  EXPECT_NEAR(learningRate(s, 20), 0.01 * std::pow(0.5, 0.75), 1e-15);
  s.set_lr_policy(pb::Solver::SIGMOID);
  EXPECT_NEAR(learningRate(s, 7), 0.005, 1e-15);
}

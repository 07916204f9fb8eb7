//===- FusedTestUtil.h - Building and checking fused kernels -===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Fused kernels (op "fused", docs/fusion.md) built by hand: the kernel that
// createKernel picks from {"onednn", "ref"} (the oneDNN fused kernel of
// lib/Runtime/Dnnl/Fused.cpp where it applies, else a composed kernel) is
// run on random (fixed-seed) data and compared with the reference
// composition (createFusedKernel with backends {"ref"}). Shared by
// Fused*Test.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_UNITTESTS_RUNTIME_DNNL_FUSEDTESTUTIL_H
#define DLC_UNITTESTS_RUNTIME_DNNL_FUSEDTESTUTIL_H

#include "DnnlTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <sstream>

using namespace dlc::rt;
using namespace dlc::rt::dnnltest;

namespace dlc::rt::fusedtest {

inline std::mt19937 &rng() {
  static std::mt19937 r(20240917u);
  return r;
}

inline std::vector<float> randomData(const Shape &s, float lo = -1.f, float hi = 1.f) {
  return randomValues(rng(), s, lo, hi);
}

inline bool startsWith(const std::string &s, const std::string &prefix) { return s.rfind(prefix, 0) == 0; }

// ---------------------------------------------------------------------------
// Building fused descriptions
// ---------------------------------------------------------------------------

/// Builds a fused KernelDesc: inputs first, then steps (each reads values by
/// index; its output shapes come from the op's shape rule), then finish().
class FusedBuilder {
public:
  explicit FusedBuilder(const std::string &layer = "fused_test") {
    d_.op = "fused";
    d_.layer = layer;
  }
  /// A fused kernel input; returns its value index.
  int input(const Shape &s, bool param = false) {
    EXPECT_TRUE(d_.body.empty()) << "inputs come before the steps";
    d_.inputs.push_back(s);
    d_.isParam.push_back(param);
    values_.push_back(s);
    return int(values_.size()) - 1;
  }
  /// Appends a step reading `args`; returns the value index of its first
  /// output.
  int step(const std::string &op, Attrs attrs, std::vector<int> args) {
    FusedStep s;
    s.desc.op = op;
    s.desc.layer = op + std::to_string(d_.body.size());
    s.desc.attrs = std::move(attrs);
    for (int a : args) {
      s.desc.inputs.push_back(values_.at(size_t(a)));
      s.desc.isParam.push_back(size_t(a) < d_.inputs.size() && d_.isParam[size_t(a)]);
    }
    s.args = std::move(args);
    s.desc.outputs = inferKernelOutputs(s.desc);
    const int first = int(values_.size());
    values_.insert(values_.end(), s.desc.outputs.begin(), s.desc.outputs.end());
    d_.body.push_back(std::move(s));
    return first;
  }
  /// The description with output o = value results[o].
  KernelDesc finish(const std::vector<int> &results) {
    KernelDesc d = d_;
    d.results = results;
    for (int v : results)
      d.outputs.push_back(values_.at(size_t(v)));
    return d;
  }
  const Shape &shape(int v) const { return values_.at(size_t(v)); }

private:
  KernelDesc d_;
  std::vector<Shape> values_;
};

inline Attrs convAttrs(int64_t o, int64_t k, int64_t s = 1, int64_t p = 0, int64_t g = 1,
                int64_t dil = 1) {
  Attrs a;
  a.set("num_output", o);
  a.set("kernel", std::vector<int64_t>{k, k});
  a.set("stride", std::vector<int64_t>{s, s});
  a.set("pad", std::vector<int64_t>{p, p});
  a.set("dilation", std::vector<int64_t>{dil, dil});
  a.set("group", g);
  return a;
}

inline Attrs reluAttrs(double slope = 0.0) {
  Attrs a;
  a.set("negative_slope", slope);
  return a;
}

inline Attrs bnAttrs(bool global = true, double eps = 1e-5) {
  Attrs a;
  a.set("use_global_stats", int64_t(global));
  a.set("eps", eps);
  return a;
}

inline Attrs scaleAttrs(int64_t axis = 1) {
  Attrs a;
  a.set("axis", axis);
  a.set("num_axes", int64_t(1));
  return a;
}

inline Attrs sumAttrs(std::vector<double> coeff = {}, const std::string &op = "sum") {
  Attrs a;
  a.set("operation", op);
  if (!coeff.empty())
    a.set("coeff", std::move(coeff));
  return a;
}

inline Attrs ipAttrs(int64_t n, int64_t axis = 1, bool transpose = false) {
  Attrs a;
  a.set("num_output", n);
  a.set("axis", axis);
  a.set("transpose", int64_t(transpose));
  return a;
}

inline Attrs powerAttrs(double power, double scale, double shift) {
  Attrs a;
  a.set("power", power);
  a.set("scale", scale);
  a.set("shift", shift);
  return a;
}

inline Attrs clipAttrs(double lo, double hi) {
  Attrs a;
  a.set("min", lo);
  a.set("max", hi);
  return a;
}

/// Random inputs for `d`: uniform [-1, 1) unless `ranges` gives [lo, hi)
/// for an input index, or `fixed` its values.
inline std::vector<std::vector<float>>
randomInputs(const KernelDesc &d, const std::map<int, std::pair<float, float>> &ranges = {},
             const std::map<int, std::vector<float>> &fixed = {}) {
  std::vector<std::vector<float>> in;
  for (size_t i = 0; i < d.inputs.size(); ++i) {
    if (auto f = fixed.find(int(i)); f != fixed.end()) {
      EXPECT_EQ(int64_t(f->second.size()), numElements(d.inputs[i])) << "input " << i;
      in.push_back(f->second);
    } else if (auto r = ranges.find(int(i)); r != ranges.end()) {
      in.push_back(randomData(d.inputs[i], r->second.first, r->second.second));
    } else {
      in.push_back(randomData(d.inputs[i]));
    }
  }
  return in;
}

/// The largest per-channel factor |gamma / sqrt(var / f + eps)| of a
/// BatchNorm (inputs mean, var, f) and optional Scale gamma: the folded
/// weights' gain, by which the rounding errors of the fold grow.
inline double foldGain(const std::vector<float> *var, float f, double eps, const std::vector<float> *gamma,
                size_t channels) {
  double gain = 0;
  for (size_t c = 0; c < channels; ++c) {
    double s = 1.0;
    if (var)
      s = 1.0 / std::sqrt(double((*var)[c]) * (f == 0.f ? 0.0 : 1.0 / f) + eps);
    if (gamma)
      s *= std::fabs((*gamma)[c]);
    gain = std::max(gain, s);
  }
  return std::max(1.0, gain);
}

enum class Expect { OnednnFused, Composed };

/// Creates `d`'s kernel from {"onednn", "ref"} and the reference composition
/// (backends {"ref"}), checks which kernel was chosen, runs both on `in` and
/// compares every output (the chosen kernel twice: its cached state is
/// reused). Returns the chosen kernel.
inline KernelChoice compareFused(const KernelDesc &d, const std::vector<std::vector<float>> &in,
                          double reduction, Expect expect, BackendContexts &contexts) {
  KernelChoice ref = createFusedKernel(d, {"ref"}, contexts);
  EXPECT_EQ(ref.backend, "ref");
  EXPECT_TRUE(startsWith(ref.kernel->implName(), "composed(")) << ref.kernel->implName();
  KernelChoice dn = createKernel(d, {"onednn", "ref"}, contexts);
  const std::string impl = dn.kernel->implName();
  if (expect == Expect::OnednnFused) {
    EXPECT_EQ(dn.backend, "onednn") << dn.notes;
    EXPECT_TRUE(startsWith(impl, "fused:")) << impl << "; notes: " << dn.notes;
    EXPECT_TRUE(dn.notes.empty()) << dn.notes;
  } else {
    EXPECT_TRUE(startsWith(impl, "composed(")) << impl;
  }
  std::vector<int64_t> names(d.outputs.size());
  for (size_t i = 0; i < names.size(); ++i)
    names[i] = int64_t(i);
  auto want = expectSame(*dn.kernel, *ref.kernel, d, in, reduction, "output", names);
  // In place as the executor plans it (Kernel::inPlaceInput): output 0 over
  // that input, when no other step argument reads it.
  const int ip = dn.kernel->inPlaceInput();
  if (ip >= 0) {
    EXPECT_LT(size_t(ip), d.inputs.size());
    int uses = 0;
    for (const FusedStep &s : d.body)
      uses += int(std::count(s.args.begin(), s.args.end(), ip));
    if (size_t(ip) < d.inputs.size() && uses == 1 &&
        numElements(d.inputs[size_t(ip)]) == numElements(d.outputs[0]) && d.outputs.size() == 1) {
      auto in2 = in;
      std::vector<const float *> p;
      for (const auto &v : in2)
        p.push_back(v.data());
      float *o[1] = {in2[size_t(ip)].data()};
      dn.kernel->forward(p.data(), o);
      EXPECT_TRUE(closeTo(in2[size_t(ip)], want[0], reduction))
          << impl << " in place over input " << ip;
    }
  }
  return dn;
}

inline KernelChoice compareFused(const KernelDesc &d, const std::vector<std::vector<float>> &in,
                          double reduction, Expect expect) {
  BackendContexts contexts;
  return compareFused(d, in, reduction, expect, contexts);
}

/// Runs the steps of `d` one by one with reference kernels (what the
/// reference composition must do) and returns the fused outputs.
inline std::vector<std::vector<float>> runStepsByHand(const KernelDesc &d,
                                               const std::vector<std::vector<float>> &in) {
  std::vector<std::vector<float>> values = in;
  for (const FusedStep &s : d.body) {
    auto k = createReferenceKernel(s.desc);
    std::vector<std::vector<float>> args;
    for (int a : s.args)
      args.push_back(values.at(size_t(a)));
    auto out = run(*k, s.desc, args);
    values.insert(values.end(), out.begin(), out.end());
  }
  std::vector<std::vector<float>> out;
  for (int v : d.results)
    out.push_back(values.at(size_t(v)));
  return out;
}

} // namespace dlc::rt::fusedtest

#endif // DLC_UNITTESTS_RUNTIME_DNNL_FUSEDTESTUTIL_H

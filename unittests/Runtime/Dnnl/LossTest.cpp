//===- LossTest.cpp - oneDNN-backend softmax_with_loss --------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The optimized softmax_with_loss and softmax_with_loss_grad kernels
// (lib/Runtime/Dnnl/Loss.cpp) against the float64 reference kernels: classes
// contiguous (inner = 1: axis 1 of [N, C], axis 2 of [4, 3, 7]) and strided
// (inner > 1: axis 1 of [2, 5, 3, 4], blocks of 16 positions and a partial
// one), ignore_label (in and out of the class range, every label ignored),
// every normalization, loss_weight != 1, logits of magnitude 80, 10000
// classes; the same bits with 1 and 2 OpenMP threads; the reference's Error
// for a bad label.
//
// Tolerance: loss |got - ref| <= kTol |ref|; gradient, element-wise,
// |got - ref| <= kTol (|ref| + 1e-3 max |ref|), kTol = 1e-5. The kernels
// compute e^(x - max) in float32 (Cephes expf, a few 1e-7 relative, plus
// the rounding of x - max: |x - max| * 6e-8, at most 6e-6 for the
// |x - max| <= 100 of these tests) and every sum, the loss and the
// p - 1 of the label in float64 (log1p(others / e_label), -others / sum, so
// no cancellation), so the observed errors are ~1e-7; e^(x - max) below
// e^-87.3 (flushed to e^-87.3 by expV; the reference gets denormals or 0)
// stays far below 1e-8 max |ref|. A wrong normalizer, loss_weight, a missed
// ignore_label or a class off by one is 1e-2 or more away: the tests check
// this on their own data (sensitivity checks).
//
//===----------------------------------------------------------------------===//

#include "DnnlTestUtil.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <sstream>

using namespace dlc::rt;
using namespace dlc::rt::dnnltest;

namespace {

constexpr double kTol = 1e-5;
/// A deliberately wrong setting must move the reference at least this much.
constexpr double kSensitive = 1e-2;

std::mt19937 &rng() {
  static std::mt19937 r(20240611u);
  return r;
}

struct LossCase {
  LossCase(Shape logits, int64_t axis = 1, std::optional<int64_t> ignore = std::nullopt)
      : logits(std::move(logits)), axis(axis), ignore(ignore) {}
  Shape logits;
  int64_t axis;
  std::optional<int64_t> ignore;
  std::string norm = "valid";
  double weight = 1.0;
  float range = 4.f; ///< logits uniform in [-range, range)
};

std::string describe(const LossCase &c) {
  std::ostringstream os;
  os << shapeToString(c.logits) << " axis " << c.axis << " " << c.norm << " weight " << c.weight;
  if (c.ignore)
    os << " ignore " << *c.ignore;
  os << " range " << c.range;
  return os.str();
}

/// [outer, channels, inner] of the logits.
void split(const LossCase &c, int64_t &outer, int64_t &channels, int64_t &inner) {
  int64_t a = c.axis < 0 ? c.axis + int64_t(c.logits.size()) : c.axis;
  outer = inner = 1;
  for (int64_t i = 0; i < a; ++i)
    outer *= c.logits[size_t(i)];
  channels = c.logits[size_t(a)];
  for (size_t i = size_t(a) + 1; i < c.logits.size(); ++i)
    inner *= c.logits[i];
}

KernelDesc lossDesc(const LossCase &c) {
  Attrs a;
  a.set("axis", c.axis);
  a.set("normalization", c.norm);
  a.set("loss_weight", c.weight);
  if (c.ignore)
    a.set("ignore_label", *c.ignore);
  // The label: logits' shape without the axis (same first dimension).
  int64_t ax = c.axis < 0 ? c.axis + int64_t(c.logits.size()) : c.axis;
  Shape label;
  for (size_t i = 0; i < c.logits.size(); ++i)
    if (int64_t(i) != ax)
      label.push_back(c.logits[i]);
  if (ax == 0)
    label.insert(label.begin(), 1); // (not used here)
  return makeDesc("softmax_with_loss", a, {c.logits, label}, {Shape{}});
}

/// Logits and labels: classes uniform over [0, C); with an ignore_label,
/// about every fifth position carries it (position 1 always does).
std::vector<std::vector<float>> lossInputs(const LossCase &c) {
  int64_t outer, C, inner;
  split(c, outer, C, inner);
  auto x = randomValues(rng(), c.logits, -c.range, c.range);
  std::vector<float> label(size_t(outer * inner));
  std::uniform_int_distribution<int64_t> cls(0, C - 1);
  std::uniform_int_distribution<int> fifth(0, 4);
  for (size_t i = 0; i < label.size(); ++i) {
    label[i] = float(cls(rng()));
    if (c.ignore && (i == 1 || fifth(rng()) == 0))
      label[i] = float(*c.ignore);
  }
  return {x, label};
}

/// |got - ref| <= kTol |ref| for the scalar loss (NaN fails).
::testing::AssertionResult lossClose(float got, float ref) {
  double err = std::fabs(double(got) - double(ref));
  if (err <= kTol * std::fabs(double(ref)))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "loss " << got << " vs reference " << ref
                                       << " (relative error " << err / std::fabs(double(ref))
                                       << ")";
}

/// |got - ref| <= kTol (|ref| + 1e-3 max |ref|) element-wise (NaN fails).
::testing::AssertionResult gradClose(const std::vector<float> &got,
                                     const std::vector<float> &ref) {
  if (got.size() != ref.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " vs " << ref.size();
  double mag = 0;
  for (float v : ref)
    mag = std::max(mag, std::fabs(double(v)));
  size_t bad = 0, first = 0;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double err = std::fabs(double(got[i]) - double(ref[i]));
    double tol = kTol * (std::fabs(double(ref[i])) + 1e-3 * mag);
    if (!(err <= tol)) {
      if (!bad++)
        first = i;
    }
    if (std::isnan(err))
      worst = INFINITY;
    else
      worst = std::max(worst, err / std::max(1e-30, std::fabs(double(ref[i])) + 1e-3 * mag));
  }
  if (!bad)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << got.size() << " gradient elements off; worst scaled error "
         << worst << "; first at " << first << ": got " << got[first] << ", ref " << ref[first];
}

/// The optimized kernel of `d` (a dlc kernel of the oneDNN backend).
std::unique_ptr<Kernel> optimized(const KernelDesc &d) {
  std::unique_ptr<Kernel> k = createDnnlKernel(d, ctx());
  EXPECT_TRUE(k) << "no oneDNN-backend kernel for " << d.op;
  if (k) {
    EXPECT_EQ(k->implName().rfind("dlc:softmax-loss", 0), 0u) << k->implName();
  }
  return k;
}

/// The loss of the reference kernel of `d` on `in`.
float refLoss(const KernelDesc &d, const std::vector<std::vector<float>> &in) {
  return run(*createReferenceKernel(d), d, in)[0][0];
}

/// Forward and backward against the reference; a second run bitwise
/// equal. Returns the optimized loss and gradient.
std::pair<float, std::vector<float>> compareCase(const LossCase &c,
                                                 const std::vector<std::vector<float>> &in) {
  SCOPED_TRACE(describe(c));
  KernelDesc d = lossDesc(c);
  auto k = optimized(d);
  if (!k)
    return {NAN, {}};
  float want = refLoss(d, in);
  auto got = run(*k, d, in);
  EXPECT_TRUE(std::isfinite(got[0][0])) << got[0][0];
  EXPECT_TRUE(lossClose(got[0][0], want)) << "forward";
  EXPECT_EQ(run(*k, d, in), got) << "forward: second run differs";

  KernelDesc g = gradOf(d);
  auto gin = gradInputs(rng(), d, in); // y from the reference, dloss in [-1, 1)
  gin[3][0] = 0.75f;                   // (a dloss far from 0)
  auto gk = optimized(g);
  if (!gk)
    return {got[0][0], {}};
  auto gwant = run(*createReferenceKernel(g), g, gin);
  auto ggot = run(*gk, g, gin);
  EXPECT_TRUE(gradClose(ggot[0], gwant[0])) << "backward";
  for (float v : ggot[0])
    if (!std::isfinite(v)) {
      ADD_FAILURE() << "non-finite gradient " << v;
      break;
    }
  EXPECT_EQ(run(*gk, g, gin), ggot) << "backward: second run differs";
  return {got[0][0], ggot[0]};
}

void compareCase(const LossCase &c) { compareCase(c, lossInputs(c)); }

// ---------------------------------------------------------------------------

TEST(SoftmaxWithLossDnnl, ContiguousClasses) {
  // Class counts below, at and above the 16 lanes, partial last chunks.
  for (Shape s : {Shape{8, 5}, Shape{7, 16}, Shape{9, 37}, Shape{64, 129}, Shape{300, 33}})
    compareCase({s, 1});
  // Axis 2 of [4, 3, 7]: 12 positions of 7 classes; also axis -1.
  compareCase({{4, 3, 7}, 2});
  compareCase({{4, 3, 7}, -1});
  // Axis 1 with trailing axes of size 1 (inner = 1).
  compareCase({{6, 21, 1, 1}, 1});
}

TEST(SoftmaxWithLossDnnl, StridedClasses) {
  // inner = 12: one partial block of positions.
  compareCase({{2, 5, 3, 4}, 1});
  // inner = 40: blocks of 16, 16, 8; inner = 32: full blocks only.
  compareCase({{3, 7, 40}, 1});
  compareCase({{2, 19, 4, 8}, 1});
  // A larger outer; two classes with an ignore_label.
  compareCase({{33, 4, 17}, 1});
  compareCase({{5, 2, 3}, 1, 1});
}

TEST(SoftmaxWithLossDnnl, IgnoreLabel) {
  for (LossCase c : {LossCase{{40, 9}, 1, 2}, LossCase{{40, 9}, 1, 255},
                     LossCase{{3, 9, 20}, 1, 4}, LossCase{{3, 9, 20}, 1, -1}})
    for (const char *norm : {"valid", "full"}) {
      c.norm = norm;
      compareCase(c);
    }
  // Every label ignored: loss 0 (normalizer clamped to 1), gradient 0.
  for (Shape s : {Shape{6, 11}, Shape{2, 11, 5}}) {
    LossCase c{s, 1, 3};
    auto in = lossInputs(c);
    std::fill(in[1].begin(), in[1].end(), 3.f);
    auto [loss, grad] = compareCase(c, in);
    EXPECT_EQ(loss, 0.f);
    for (float v : grad)
      ASSERT_EQ(v, 0.f);
  }
}

TEST(SoftmaxWithLossDnnl, NormalizationsAndWeight) {
  for (const char *norm : {"full", "valid", "batch_size", "none"})
    for (double weight : {1.0, 2.5, -0.3})
      for (LossCase c : {LossCase{{24, 13}, 1, 5}, LossCase{{4, 13, 6}, 1, 5}}) {
        c.norm = norm;
        c.weight = weight;
        compareCase(c);
      }
}

TEST(SoftmaxWithLossDnnl, LargeLogits) {
  // Logits in [-80, 80): e^(x - max) spans e^0 .. e^-160 (float underflow
  // below e^-103); the loss of a position reaches ~160 (no clamp) and p of a
  // label can be 1 within float precision (the p - 1 of the gradient from
  // the other classes' sum, not from p).
  for (LossCase c : {LossCase{{64, 100}, 1}, LossCase{{4, 100, 24}, 1}, LossCase{{16, 10000}, 1}}) {
    c.range = 80.f;
    compareCase(c);
  }
  // A label probability below FLT_MIN: the loss is clamped to -log(FLT_MIN)
  // (x_label - max = -150 at every position).
  LossCase c{{4, 3, 5}, 2};
  auto in = lossInputs(c);
  for (size_t p = 0; p < 12; ++p) {
    for (size_t k = 0; k < 5; ++k)
      in[0][p * 5 + k] = 75.f;
    in[0][p * 5 + size_t(in[1][p])] = -75.f;
  }
  auto [loss, grad] = compareCase(c, in);
  EXPECT_NEAR(loss, -std::log(double(FLT_MIN)), 1e-4);
}

TEST(SoftmaxWithLossDnnl, TenThousandClasses) {
  compareCase({{6, 10000}, 1});
  compareCase({{2, 3, 10000}, 2, 7});
  // Strided with many classes.
  compareCase({{2, 10000, 3}, 1});
}

/// A wrong normalizer, loss_weight, a missed ignore_label or shifted labels
/// change the reference by more than kSensitive relative: the comparisons
/// above can fail.
TEST(SoftmaxWithLossDnnl, TestsAreSensitive) {
  LossCase c{{40, 9}, 1, 2};
  auto in = lossInputs(c);
  KernelDesc d = lossDesc(c);
  auto k = optimized(d);
  ASSERT_TRUE(k);
  const float got = run(*k, d, in)[0][0];
  EXPECT_TRUE(lossClose(got, refLoss(d, in)));
  auto rel = [&](float other) { return std::fabs(double(other) - got) / std::fabs(double(got)); };
  for (const char *norm : {"full", "batch_size", "none"}) {
    LossCase w = c;
    w.norm = norm;
    EXPECT_GT(rel(refLoss(lossDesc(w), in)), kSensitive) << "normalization " << norm;
    EXPECT_FALSE(lossClose(got, refLoss(lossDesc(w), in))) << norm;
  }
  LossCase w = c;
  w.weight = 1.01;
  EXPECT_GT(rel(refLoss(lossDesc(w), in)), 0.5 * kSensitive) << "loss_weight";
  w = c;
  w.ignore.reset();
  w.norm = "full"; // (ignored positions counted and their loss added)
  LossCase full = c;
  full.norm = "full";
  EXPECT_GT(std::fabs(double(refLoss(lossDesc(w), in)) - refLoss(lossDesc(full), in)) /
                std::fabs(double(refLoss(lossDesc(full), in))),
            kSensitive)
      << "ignore_label";
  auto shifted = in;
  for (float &l : shifted[1])
    if (l != 2.f)
      l = float((int(l) + 1) % 9 == 2 ? 3 : (int(l) + 1) % 9);
  EXPECT_GT(rel(refLoss(d, shifted)), kSensitive) << "labels shifted";

  // The gradient: a wrong normalizer or a class off by one moves it.
  KernelDesc g = gradOf(d);
  auto gin = gradInputs(rng(), d, in);
  auto gk = optimized(g);
  ASSERT_TRUE(gk);
  auto ggot = run(*gk, g, gin)[0];
  EXPECT_TRUE(gradClose(ggot, run(*createReferenceKernel(g), g, gin)[0]));
  LossCase wf = c;
  wf.norm = "full";
  KernelDesc gf = gradOf(lossDesc(wf));
  EXPECT_FALSE(gradClose(ggot, run(*createReferenceKernel(gf), gf, gin)[0])) << "normalizer";
  auto gshift = gin;
  gshift[1] = shifted[1];
  EXPECT_FALSE(gradClose(ggot, run(*createReferenceKernel(g), g, gshift)[0])) << "labels";
}

TEST(SoftmaxWithLossDnnl, ResultDoesNotDependOnThreads) {
  for (LossCase c : {LossCase{{512, 300}, 1, 0}, LossCase{{8, 50, 40}, 1, 0},
                     LossCase{{9000, 3}, 1, 0}}) {
    SCOPED_TRACE(describe(c));
    auto in = lossInputs(c);
    KernelDesc d = lossDesc(c), g = gradOf(d);
    auto gin = gradInputs(rng(), d, in);
    auto k = optimized(d), gk = optimized(g);
    ASSERT_TRUE(k && gk);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    auto one = run(*k, d, in);
    auto gone = run(*gk, g, gin);
    omp_set_num_threads(2);
    auto two = run(*k, d, in);
    auto gtwo = run(*gk, g, gin);
    omp_set_num_threads(3);
    auto three = run(*k, d, in);
    auto gthree = run(*gk, g, gin);
    omp_set_num_threads(saved);
    EXPECT_EQ(one, two);
    EXPECT_EQ(one, three);
    EXPECT_EQ(gone, gtwo);
    EXPECT_EQ(gone, gthree);
    EXPECT_TRUE(lossClose(one[0][0], refLoss(d, in)));
  }
}

TEST(SoftmaxWithLossDnnl, BadLabelThrowsTheReferenceError) {
  for (LossCase c : {LossCase{{64, 70}, 1, 255}, LossCase{{4, 70, 20}, 1, 255}})
    for (float bad : {70.f, -1.f, 1e20f, NAN, INFINITY, -3.5f}) {
      SCOPED_TRACE(describe(c) + " label " + std::to_string(bad));
      auto in = lossInputs(c);
      // Two bad labels: the first in position order is reported, whichever
      // thread meets it first.
      in[1][37] = bad;
      in[1][in[1].size() - 2] = 71.f;
      KernelDesc d = lossDesc(c), g = gradOf(d);
      auto gin = gradInputs(rng(), d, lossInputs(c));
      gin[1] = in[1];
      for (const KernelDesc *k : {&d, &g}) {
        auto dn = optimized(*k);
        ASSERT_TRUE(dn);
        std::string got = errorOf(*dn, *k, k == &d ? in : gin);
        std::string want = errorOf(*createReferenceKernel(*k), *k, k == &d ? in : gin);
        EXPECT_FALSE(want.empty());
        EXPECT_EQ(got, want) << k->op;
        const bool range = bad == 70.f || bad == -1.f || bad == -3.5f;
        EXPECT_NE(got.find(range ? "at position 37 is out of range [0, 70)"
                                 : "is not a valid class index"),
                  std::string::npos)
            << got;
      }
    }
}

/// Rough timing against the reference (not run by default):
/// --gtest_also_run_disabled_tests --gtest_filter='*LossTiming*'.
TEST(SoftmaxWithLossDnnl, DISABLED_LossTiming) {
  for (LossCase c : {LossCase{{32, 128, 10000}, 2}, LossCase{{8, 21, 128, 128}, 1}}) {
    auto in = lossInputs(c);
    KernelDesc d = lossDesc(c), g = gradOf(d);
    auto gin = gradInputs(rng(), d, in);
    // Outputs allocated (and touched) once, outside the timed runs.
    auto time = [](Kernel &k, const KernelDesc &kd, const std::vector<std::vector<float>> &x) {
      std::vector<float> y(size_t(numElements(kd.outputs[0])), 0.f);
      std::vector<const float *> ip;
      for (const auto &v : x)
        ip.push_back(v.data());
      float *op[1] = {y.data()};
      k.forward(ip.data(), op);
      double best = 1e30;
      for (int r = 0; r < 5; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        k.forward(ip.data(), op);
        best = std::min(best, std::chrono::duration<double, std::milli>(
                                  std::chrono::steady_clock::now() - t0)
                                  .count());
      }
      return best;
    };
    auto k = optimized(d), gk = optimized(g);
    ASSERT_TRUE(k && gk);
    double tf = time(*k, d, in), tb = time(*gk, g, gin);
    double rf = time(*createReferenceKernel(d), d, in);
    double rb = time(*createReferenceKernel(g), g, gin);
    std::printf("softmax_with_loss %s, %d threads: forward %.1f ms (reference %.1f ms), "
                "backward %.1f ms (reference %.1f ms)\n",
                describe(c).c_str(), omp_get_max_threads(), tf, rf, tb, rb);
  }
}

TEST(SoftmaxWithLossDnnl, ChosenOverTheReference) {
  BackendContexts contexts;
  KernelDesc d = lossDesc({{32, 128, 100}, 2});
  for (const KernelDesc &k : {d, gradOf(d)}) {
    KernelChoice c = createKernel(k, {"onednn", "ref"}, contexts);
    EXPECT_EQ(c.backend, "onednn") << k.op << ": " << c.notes;
  }
}

} // namespace

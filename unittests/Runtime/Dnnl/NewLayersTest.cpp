//===- NewLayersTest.cpp - oneDNN exp, log, clip, swish, reduction --------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The oneDNN kernels of exp, log, clip and swish (forward and backward) and
// of reduction (forward) against the reference kernels, on random shapes
// and data (fixed seed) for several parameter settings; and the valid
// configurations they decline, with the reason the registry records.
//
//===----------------------------------------------------------------------===//

#include "DnnlTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

using namespace dlc::rt;
using namespace dlc::rt::dnnltest;

namespace {

std::mt19937 &rng() {
  static std::mt19937 r(7305521u);
  return r;
}

/// A random shape of rank 1 to 4, dimensions 1 to 9.
Shape randomShape() {
  std::uniform_int_distribution<int> rank(1, 4), dim(1, 9);
  Shape s(size_t(rank(rng())));
  for (int64_t &d : s)
    d = dim(rng());
  return s;
}

Attrs attrs(std::initializer_list<std::pair<const char *, double>> kv) {
  Attrs a;
  for (auto &[k, v] : kv)
    a.set(k, v);
  return a;
}

std::string describe(const std::string &op, const Attrs &a, const Shape &x) {
  std::ostringstream os;
  os << op << " " << shapeToString(x);
  for (const auto &[k, v] : a.all())
    if (const double *d = std::get_if<double>(&v))
      os << " " << k << "=" << *d;
  return os.str();
}

/// An element-wise op's parameters and the range of its random inputs.
struct UnaryCase {
  std::string op;
  Attrs attrs;
  float lo, hi;
};

/// Forward and backward of every case on three random shapes; the oneDNN
/// kernels must be oneDNN's (not a fallback). `edit` may overwrite some of
/// the random inputs (values on the bounds).
void checkUnary(const std::vector<UnaryCase> &cases,
                void (*edit)(const Attrs &, std::vector<float> &) = nullptr) {
  for (const UnaryCase &c : cases)
    for (int i = 0; i < 3; ++i) {
      Shape x = randomShape();
      SCOPED_TRACE(describe(c.op, c.attrs, x));
      KernelDesc f = makeDesc(c.op, c.attrs, {x}, {x});
      std::vector<float> xs = randomValues(rng(), x, c.lo, c.hi);
      if (edit)
        edit(c.attrs, xs);
      EXPECT_EQ(compareWithRef(f, {xs}, 1).rfind("onednn", 0), 0u);
      EXPECT_EQ(compareGrad(f, {0}, gradInputs(rng(), f, {xs}), 1).rfind("onednn:", 0), 0u);
    }
}

TEST(DnnlExp, MatchesReference) {
  checkUnary({
      {"exp", {}, -3, 3}, // e^x: one primitive
      {"exp", attrs({{"base", 2.0}, {"scale", 0.5}}), -4, 4},
      {"exp", attrs({{"base", -1.0}, {"scale", -1.5}, {"shift", 0.7}}), -2, 2},
      {"exp", attrs({{"base", 10.0}, {"scale", 0.3}, {"shift", -1.0}}), -3, 3},
      {"exp", attrs({{"base", 0.5}, {"shift", 2.0}}), -3, 3},
      {"exp", attrs({{"scale", 0.0}, {"shift", 1.5}}), -3, 3},
  });
}

TEST(DnnlLog, MatchesReference) {
  // Inputs keep shift + scale * x in [0.5, 8].
  checkUnary({
      {"log", {}, 0.5f, 6},
      {"log", attrs({{"base", 2.0}, {"scale", 2.0}, {"shift", 1.0}}), -0.25f, 3},
      {"log", attrs({{"base", 10.0}, {"scale", -1.0}, {"shift", 3.0}}), -2, 2.5f},
      {"log", attrs({{"base", -1.0}, {"scale", 0.5}}), 1, 8},
      {"log", attrs({{"base", 0.5}, {"shift", 1.0}}), -0.5f, 4},
  });
}

TEST(DnnlSwish, MatchesReference) {
  checkUnary({
      {"swish", {}, -6, 6},
      {"swish", attrs({{"beta", 0.5}}), -6, 6},
      {"swish", attrs({{"beta", 2.5}}), -3, 3},
      {"swish", attrs({{"beta", -1.25}}), -4, 4},
  });
}

/// Puts min, max and their float neighbours among the first inputs.
void onClipBounds(const Attrs &a, std::vector<float> &x) {
  double lo = a.getFloat("min", 0), hi = a.getFloat("max", 0);
  std::vector<float> special;
  for (double b : {lo, hi}) {
    float f = float(b);
    special.insert(special.end(), {f, std::nextafter(f, -INFINITY), std::nextafter(f, INFINITY)});
  }
  for (size_t i = 0; i < x.size(); ++i)
    if (i % 3 == 0)
      x[i] = special[(i / 3) % special.size()];
}

TEST(DnnlClip, MatchesReferenceOnTheBounds) {
  checkUnary(
      {
          {"clip", attrs({{"min", -0.5}, {"max", 0.5}}), -1, 1},
          {"clip", attrs({{"min", 0.0}, {"max", 1.0}}), -0.5f, 1.5f},
          // Bounds that are not floats: float(0.1) > 0.1, float(0.3) > 0.3.
          {"clip", attrs({{"min", 0.1}, {"max", 0.3}}), -1, 1},
          {"clip", attrs({{"min", -0.3}, {"max", -0.1}}), -1, 1},
          {"clip", attrs({{"min", 0.25}, {"max", 0.25}}), -1, 1},
          {"clip", attrs({{"min", -1e39}, {"max", INFINITY}}), -1e30f, 1e30f},
      },
      onClipBounds);
}

TEST(DnnlClip, MinAboveMaxIsCaffesConstant) {
  // Caffe: max(min, min(x, max)) = min everywhere; oneDNN's clip needs
  // min <= max, so the forward is a fill and the backward the reference's.
  KernelDesc f = makeDesc("clip", attrs({{"min", 0.5}, {"max", -0.5}}), {{3, 4}}, {{3, 4}});
  EXPECT_EQ(compareWithRef(f, {randomValues(rng(), {3, 4})}, 1), "onednn-kernels:fill");
  EXPECT_NE(fallbackNotes(gradOf(f)).find(
                "onednn: clip with min > max has no oneDNN backward kernel"),
            std::string::npos);
}

// ---------------------------------------------------------------------------
// Reduction
// ---------------------------------------------------------------------------
KernelDesc reductionDesc(const std::string &op, const Shape &x, int64_t axis, double coeff) {
  Attrs a;
  a.set("operation", op);
  a.set("axis", axis);
  a.set("coeff", coeff);
  int64_t k = axis < 0 ? axis + int64_t(x.size()) : axis;
  return makeDesc("reduction", a, {x}, {Shape(x.begin(), x.begin() + k)});
}

TEST(DnnlReduction, MatchesReference) {
  for (const std::string op : {"sum", "asum", "sumsq", "mean"})
    for (double coeff : {1.0, 0.5, -2.0})
      for (int i = 0; i < 4; ++i) {
        Shape x = randomShape();
        int64_t rank = int64_t(x.size());
        // Axis 0, the last axis (as -1 or rank - 1) and one in between.
        for (int64_t axis : {int64_t(0), i % 2 ? int64_t(-1) : rank - 1, rank / 2}) {
          KernelDesc d = reductionDesc(op, x, axis, coeff);
          SCOPED_TRACE(op + " " + shapeToString(x) + " axis " + std::to_string(axis) +
                       " coeff " + std::to_string(coeff));
          double dim = double(numElements(x) / numElements(d.outputs[0]));
          EXPECT_EQ(compareWithRef(d, {randomValues(rng(), x, -2, 2)}, dim).rfind("onednn:", 0),
                    0u);
        }
      }
}

TEST(DnnlReduction, LargeAndSizeOneGroups) {
  using Cases = std::vector<std::pair<Shape, int64_t>>;
  for (const std::string op : {"sum", "asum", "sumsq", "mean"}) {
    SCOPED_TRACE(op);
    // Thousands of values per group; one group.
    for (auto [x, axis] : Cases{{{7, 3000}, 1}, {{40, 50, 3}, 0}}) {
      KernelDesc d = reductionDesc(op, x, axis, 0.75);
      double dim = double(numElements(x) / numElements(d.outputs[0]));
      compareWithRef(d, {randomValues(rng(), x)}, dim);
    }
    // Only axes of size 1 reduced (oneDNN's reduction needs a reduced
    // dimension: an eltwise chain, which runs in place).
    for (double coeff : {1.0, -1.5})
      for (auto [x, axis] : Cases{{{4, 3, 1, 1}, 2}, {{1}, 0}, {{5, 1}, -1}}) {
        KernelDesc d = reductionDesc(op, x, axis, coeff);
        SCOPED_TRACE(shapeToString(x) + " coeff " + std::to_string(coeff));
        EXPECT_EQ(compareWithRef(d, {randomValues(rng(), x)}, 1).rfind("onednn:", 0), 0u);
        EXPECT_TRUE(createDnnlKernel(d, ctx())->supportsInPlace());
      }
  }
}

// ---------------------------------------------------------------------------
// Declined configurations fall back to the reference with their reason.
// ---------------------------------------------------------------------------
bool notesSay(const KernelDesc &d, const std::string &why) {
  std::string notes = fallbackNotes(d);
  bool found = notes.find(why) != std::string::npos;
  EXPECT_TRUE(found) << d.op << ": notes '" << notes << "' do not say '" << why << "'";
  return found;
}

TEST(DnnlNewLayersFallback, DeclinedConfigurationsSayWhy) {
  Shape x{2, 3};
  // oneDNN's clip backward excludes its lower bound: exact only from the
  // float below the least float >= min, which min = -inf does not have.
  KernelDesc minInf = makeDesc("clip", attrs({{"min", -INFINITY}, {"max", 1.0}}), {x}, {x});
  EXPECT_EQ(compareWithRef(minInf, {randomValues(rng(), x)}, 1).rfind("onednn:", 0), 0u);
  notesSay(gradOf(minInf), "onednn: clip with min -inf has no oneDNN backward kernel");
  KernelDesc nanBound = makeDesc("clip", attrs({{"min", 0.0}, {"max", NAN}}), {x}, {x});
  notesSay(nanBound, "onednn: clip with a NaN bound has no oneDNN kernel");
  notesSay(gradOf(nanBound), "onednn: clip with a NaN bound has no oneDNN kernel");
  // oneDNN has no backward of a reduction.
  EXPECT_FALSE(hasDnnlKernel("reduction_grad"));
  notesSay(gradOf(reductionDesc("asum", {3, 4}, 1, 2.0)), "onednn: no kernel for reduction_grad");
  // threshold: no oneDNN kernel (and no gradient anywhere).
  notesSay(makeDesc("threshold", attrs({{"threshold", 0.5}}), {x}, {x}),
           "onednn: no kernel for threshold");
  // Tensors without elements.
  for (const std::string op : {"exp", "log", "swish"}) {
    KernelDesc empty = makeDesc(op, {}, {{0, 3}}, {{0, 3}});
    notesSay(empty, "input 0 (0x3) has no elements");
    notesSay(gradOf(empty), "has no elements");
  }
  notesSay(reductionDesc("sum", {2, 0}, 1, 1.0), "has no elements");
}

} // namespace

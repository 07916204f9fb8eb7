//===- ElementwiseTest.cpp - activations, softmax, normalizations --------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "RefTestUtil.h"

using namespace dlc::rt;
using namespace dlc::rt::test;

namespace {
Data unary(const std::string &op, const Data &x, Attrs a = {}) {
  Shape s = {int64_t(x.size())};
  return run1(makeDesc(op, {s}, {s}, std::move(a)), {x});
}
} // namespace

TEST(Unary, Activations) {
  Data x = {-2, -0.5f, 0, 1.5f};
  expectNear(unary("relu", x), {0, 0, 0, 1.5});
  Attrs leaky;
  leaky.set("negative_slope", 0.1);
  expectNear(unary("relu", x, leaky), {-0.2, -0.05, 0, 1.5});
  std::vector<double> sig, th, bnll, elu;
  for (float v : x) {
    sig.push_back(1 / (1 + std::exp(-double(v))));
    th.push_back(std::tanh(double(v)));
    bnll.push_back(std::log(1 + std::exp(double(v))));
    elu.push_back(v > 0 ? v : 0.5 * (std::exp(double(v)) - 1));
  }
  expectNear(unary("sigmoid", x), sig);
  expectNear(unary("tanh", x), th);
  expectNear(unary("abs_val", x), {2, 0.5, 0, 1.5});
  expectNear(unary("bnll", x), bnll);
  Attrs ea;
  ea.set("alpha", 0.5);
  expectNear(unary("elu", x, ea), elu);
  // elu's default alpha is 1.
  expectNear(unary("elu", {-1}), {std::exp(-1.0) - 1});
  // bnll must not overflow for large inputs.
  expectNear(unary("bnll", {100, -100}), {100, 0});
}

TEST(Unary, Power) {
  Attrs a;
  a.set("power", 2.0);
  a.set("scale", 0.5);
  a.set("shift", 1.0);
  expectNear(unary("power", {-2, 0, 2}, a), {0, 1, 4});
  expectNear(unary("power", {3, -1}), {3, -1}); // defaults: identity
  Attrs z;
  z.set("power", 0.0);
  expectNear(unary("power", {5, -7}, z), {1, 1});
}

TEST(Unary, DropoutIsIdentityAtTestTime) {
  Attrs a;
  a.set("ratio", 0.3);
  expectNear(unary("dropout", {1, -2, 3}, a), {1, -2, 3});
  a.set("ratio", 1.0);
  expectCreateError(makeDesc("dropout", {{3}}, {{3}}, a), "ratio must be in [0, 1)");
}

TEST(Unary, InPlace) {
  auto k = createReferenceKernel(makeDesc("relu", {{3}}, {{3}}));
  ASSERT_TRUE(k->supportsInPlace());
  Data x = {-1, 2, -3};
  const float *in[] = {x.data()};
  float *out[] = {x.data()};
  k->forward(in, out);
  expectNear(x, {0, 2, 0});
}

TEST(Prelu, PerChannelAndShared) {
  auto d = makeDesc("prelu", {{1, 2, 2}, {2}}, {{1, 2, 2}});
  expectNear(run1(d, {{-1, 2, -3, 4}, {0.5f, 0.25f}}), {-0.5, 2, -0.75, 4});
  Attrs a;
  a.set("channel_shared", int64_t(1));
  auto s = makeDesc("prelu", {{1, 2, 2}, {1}}, {{1, 2, 2}}, a);
  expectNear(run1(s, {{-1, 2, -3, 4}, {0.1f}}), {-0.1, 2, -0.3, 4});
  expectCreateError(makeDesc("prelu", {{1, 2, 2}, {1}}, {{1, 2, 2}}), "slope");
}

TEST(Softmax, AxisAndStability) {
  // Default axis 1 over [2, 3] rows.
  Data x = {1, 2, 3, 1000, 1000, 1000};
  double e = std::exp(1.0), s = e + e * e + e * e * e;
  expectNear(run1(makeDesc("softmax", {{2, 3}}, {{2, 3}}), {x}),
             {e / s, e * e / s, e * e * e / s, 1 / 3.0, 1 / 3.0, 1 / 3.0});
  // axis 0 on [2, 2]: columns.
  Attrs a;
  a.set("axis", int64_t(0));
  Data y = run1(makeDesc("softmax", {{2, 2}}, {{2, 2}}, a), {{0, 5, 0, 5}});
  expectNear(y, {0.5, 0.5, 0.5, 0.5});
  // Spatial: [1, 2, 2] softmax over axis 1 with inner 2.
  expectNear(run1(makeDesc("softmax", {{1, 2, 2}}, {{1, 2, 2}}), {{0, 1, 0, 1}}),
             {0.5, 0.5, 0.5, 0.5});
}

TEST(BatchNorm, GlobalStatsWithScaleFactor) {
  Attrs a;
  a.set("use_global_stats", int64_t(1));
  a.set("eps", 0.0);
  auto d = makeDesc("batch_norm", {{1, 2, 1, 2}, {2}, {2}, {1}}, {{1, 2, 1, 2}}, a);
  // stats = blobs / 2: mean [1, 2], var [4, 1].
  expectNear(run1(d, {{1, 2, 3, 4}, {2, 4}, {8, 2}, {2}}), {0, 0.5, 1, 2});
  // scale_factor 0 -> stats 0; default eps 1e-5.
  Attrs b;
  b.set("use_global_stats", int64_t(1));
  auto d0 = makeDesc("batch_norm", {{1, 2, 1, 2}, {2}, {2}, {1}}, {{1, 2, 1, 2}}, b);
  double inv = 1 / std::sqrt(1e-5);
  expectNear(run1(d0, {{1, 2, 3, 4}, {2, 4}, {8, 2}, {0}}), {inv, 2 * inv, 3 * inv, 4 * inv});
}

TEST(BatchNorm, BatchStatistics) {
  Attrs a;
  a.set("use_global_stats", int64_t(0));
  // One channel over N=2 and 2 positions: mean 4, biased variance 5.
  auto d = makeDesc("batch_norm", {{2, 1, 1, 2}, {1}, {1}, {1}}, {{2, 1, 1, 2}}, a);
  double s = std::sqrt(5 + 1e-5);
  expectNear(run1(d, {{1, 3, 5, 7}, {100}, {100}, {1}}), {-3 / s, -1 / s, 1 / s, 3 / s});
}

TEST(BatchNorm, Errors) {
  // use_global_stats defaults to true (the op definition's default; the
  // importer always sets Caffe's phase-dependent value explicitly).
  Attrs a;
  a.set("use_global_stats", int64_t(1));
  Data x = {1, 2, 3, 4}, stats = {0.5, -1}, var = {4, 9};
  EXPECT_EQ(run1(makeDesc("batch_norm", {{1, 2, 1, 2}, {2}, {2}, {1}}, {{1, 2, 1, 2}}),
                 {x, stats, var, {1}}),
            run1(makeDesc("batch_norm", {{1, 2, 1, 2}, {2}, {2}, {1}}, {{1, 2, 1, 2}}, a),
                 {x, stats, var, {1}}));
  expectCreateError(makeDesc("batch_norm", {{1, 2, 1, 2}, {3}, {2}, {1}}, {{1, 2, 1, 2}}, a),
                    "batch_norm mean shape [3]");
}

TEST(Scale, PerChannelWithBias) {
  auto d = makeDesc("scale", {{2, 3}, {3}, {3}}, {{2, 3}});
  expectNear(run1(d, {iota(6), {1, 2, 3}, {0, 0, 1}}), {1, 4, 10, 4, 10, 19});
  // Spatial inner dims: [1, 2, 2] scaled per channel (axis 1).
  auto s = makeDesc("scale", {{1, 2, 2}, {2}}, {{1, 2, 2}});
  expectNear(run1(s, {iota(4), {10, -1}}), {10, 20, -3, -4});
}

TEST(Scale, AxisNumAxesAndScalar) {
  // axis 0, num_axes 2 on [2, 2, 2]: scale has shape [2, 2].
  Attrs a;
  a.set("axis", int64_t(0));
  a.set("num_axes", int64_t(2));
  auto d = makeDesc("scale", {{2, 2, 2}, {2, 2}}, {{2, 2, 2}}, a);
  d.isParam = {false, true};
  expectNear(run1(d, {iota(8), {1, 0, -1, 2}}), {1, 2, 0, 0, -5, -6, 14, 16});
  // Scalar scale (num_axes 0).
  Attrs z;
  z.set("num_axes", int64_t(0));
  auto sc = makeDesc("scale", {{2, 2}, {}}, {{2, 2}}, z);
  sc.isParam = {false, true};
  expectNear(run1(sc, {iota(4), {3}}), {3, 6, 9, 12});
  // The operand's own shape decides the broadcast (num_axes only shapes the
  // learned parameter the importer creates): [2] from axis 0 scales rows.
  auto rows = makeDesc("scale", {{2, 2, 2}, {2}}, {{2, 2, 2}}, a);
  rows.isParam = {false, true};
  expectNear(run1(rows, {iota(8), {1, -1}}), {1, 2, 3, 4, -5, -6, -7, -8});
  expectCreateError(makeDesc("scale", {{2, 3}, {2}}, {{2, 3}}),
                    "scale shape [2] does not match input shape [2, 3]");
}

TEST(Bias, AddsAlongAxis) {
  auto d = makeDesc("bias", {{2, 2}, {2}}, {{2, 2}});
  expectNear(run1(d, {iota(4), {10, 20}}), {11, 22, 13, 24});
  Attrs a;
  a.set("axis", int64_t(0));
  auto d0 = makeDesc("bias", {{2, 2}, {2}}, {{2, 2}}, a);
  expectNear(run1(d0, {iota(4), {10, 20}}), {11, 12, 23, 24});
}

TEST(Eltwise, SumProdMax) {
  Data a = {1, -2, 3}, b = {4, 5, -6}, c = {0.5f, 0.5f, 0.5f};
  expectNear(run1(makeDesc("eltwise", {{3}, {3}, {3}}, {{3}}), {a, b, c}), {5.5, 3.5, -2.5});
  Attrs co;
  co.set("coeff", std::vector<double>{1, -1});
  expectNear(run1(makeDesc("eltwise", {{3}, {3}}, {{3}}, co), {a, b}), {-3, -7, 9});
  Attrs p;
  p.set("operation", std::string("prod"));
  expectNear(run1(makeDesc("eltwise", {{3}, {3}, {3}}, {{3}}, p), {a, b, c}), {2, -5, -9});
  Attrs m;
  m.set("operation", std::string("max"));
  expectNear(run1(makeDesc("eltwise", {{3}, {3}}, {{3}}, m), {a, b}), {4, 5, 3});
}

TEST(Eltwise, Errors) {
  expectCreateError(makeDesc("eltwise", {{3}, {4}}, {{3}}), "eltwise operands must have identical shapes");
  Attrs co;
  co.set("coeff", std::vector<double>{1, 2, 3});
  expectCreateError(makeDesc("eltwise", {{3}, {3}}, {{3}}, co), "coeff");
  co.set("operation", std::string("prod"));
  expectCreateError(makeDesc("eltwise", {{3}, {3}}, {{3}}, co), "coeff");
  expectCreateError(makeDesc("eltwise", {{3}}, {{3}}), "at least 2");
}

namespace {
Attrs floats(std::initializer_list<std::pair<const char *, double>> kv) {
  Attrs a;
  for (auto &[k, v] : kv)
    a.set(k, v);
  return a;
}
} // namespace

TEST(Exp, BaseScaleShift) {
  const double e = std::exp(1.0);
  expectNear(run1(makeDesc("exp", {{3}}, {{3}}), {{0, 1, -1}}), {1, e, 1 / e});
  // 2^(1 + 3x).
  auto d = makeDesc("exp", {{2}}, {{2}}, floats({{"base", 2}, {"scale", 3}, {"shift", 1}}));
  expectNear(run1(d, {{0, 1}}), {2, 16});
  // Base e with a shift: e^(shift + x).
  auto s = makeDesc("exp", {{1}}, {{1}}, floats({{"shift", 2}}));
  expectNear(run1(s, {{1}}), {std::exp(3.0)}, 1e-5);
  expectCreateError(makeDesc("exp", {{1}}, {{1}}, floats({{"base", -2}})),
                    "exp base must be strictly positive (or -1 for e), got -2");
}

TEST(Log, BaseScaleShift) {
  expectNear(run1(makeDesc("log", {{2}}, {{2}}), {{1, float(std::exp(1.0))}}), {0, 1});
  // log10(1 + 2x).
  auto d = makeDesc("log", {{2}}, {{2}}, floats({{"base", 10}, {"scale", 2}, {"shift", 1}}));
  expectNear(run1(d, {{0, 4.5f}}), {0, 1});
  expectCreateError(makeDesc("log", {{1}}, {{1}}, floats({{"base", 0}})),
                    "log base must be strictly positive");
}

TEST(Threshold, StrictlyGreater) {
  auto d = makeDesc("threshold", {{3}}, {{3}}, floats({{"threshold", 0.5}}));
  expectNear(run1(d, {{0.2f, 0.5f, 0.7f}}), {0, 0, 1});
  expectNear(run1(makeDesc("threshold", {{2}}, {{2}}), {{-1, 1}}), {0, 1});
}

TEST(Clip, Bounds) {
  auto d = makeDesc("clip", {{3}}, {{3}}, floats({{"min", -1}, {"max", 2}}));
  expectNear(run1(d, {{-3, 0.5f, 5}}), {-1, 0.5, 2});
  expectCreateError(makeDesc("clip", {{3}}, {{3}}, floats({{"min", -1}})),
                    "missing attribute 'max'");
}

TEST(Swish, Beta) {
  auto d = makeDesc("swish", {{2}}, {{2}});
  expectNear(run1(d, {{0, 2}}), {0, 2 / (1 + std::exp(-2.0))});
  auto b = makeDesc("swish", {{1}}, {{1}}, floats({{"beta", 2}}));
  expectNear(run1(b, {{1}}), {1 / (1 + std::exp(-2.0))});
}

TEST(Mvn, MeanAndVariancePerPlane) {
  // [1, 2, 1, 2]: planes {1, 3} and {2, 6}; mean 2 / 4, std 1 / 2.
  auto d = makeDesc("mvn", {{1, 2, 1, 2}}, {{1, 2, 1, 2}});
  expectNear(run1(d, {{1, 3, 2, 6}}), {-1, 1, -1, 1}, 1e-6);
  Attrs m;
  m.set("normalize_variance", int64_t(0));
  expectNear(run1(makeDesc("mvn", {{1, 2, 1, 2}}, {{1, 2, 1, 2}}, m), {{1, 3, 2, 6}}),
             {-1, 1, -2, 2});
  // Across channels: one group of 4, mean 3, var (4 + 0 + 1 + 9) / 4 = 3.5.
  Attrs c;
  c.set("across_channels", int64_t(1));
  double sd = std::sqrt(3.5);
  expectNear(run1(makeDesc("mvn", {{1, 2, 1, 2}}, {{1, 2, 1, 2}}, c), {{1, 3, 2, 6}}),
             {-2 / sd, 0, -1 / sd, 3 / sd}, 1e-6);
  expectCreateError(makeDesc("mvn", {{1, 1, 1, 1, 2}}, {{1, 1, 1, 1, 2}}), "1 to 4 axes");
}

TEST(Reduction, OperationsAxisCoeff) {
  Data x = {1, -2, 3, -4, 5, -6};
  auto red = [&](const std::string &op, int64_t axis, double coeff, Shape out) {
    Attrs a;
    a.set("operation", op);
    a.set("axis", axis);
    a.set("coeff", coeff);
    return run1(makeDesc("reduction", {{2, 3}}, {out}, a), {x});
  };
  expectNear(red("sum", 0, 1, {}), {-3});
  expectNear(red("sum", 1, 2, {2}), {4, -10});
  expectNear(red("asum", 1, 1, {2}), {6, 15});
  expectNear(red("sumsq", -1, 1, {2}), {14, 77});
  expectNear(red("mean", 1, 3, {2}), {2, -5});
  Attrs bad;
  bad.set("operation", std::string("max"));
  expectCreateError(makeDesc("reduction", {{2, 3}}, {{}}, bad),
                    "reduction operation must be one of \"sum\", \"asum\", \"sumsq\", \"mean\"");
}

TEST(ArgMax, TopKValuesAxisAndTies) {
  // Without axis: per item over the flattened values, [N, 1, top_k].
  Attrs a;
  a.set("top_k", int64_t(2));
  auto d = makeDesc("argmax", {{2, 3}}, {{2, 1, 2}}, a);
  expectNear(run1(d, {{0.1f, 0.9f, 0.5f, 3, 2, 1}}), {1, 2, 0, 1});
  // out_max_val: indices then values, [N, 2, top_k].
  a.set("out_max_val", int64_t(1));
  auto v = makeDesc("argmax", {{2, 3}}, {{2, 2, 2}}, a);
  expectNear(run1(v, {{0.1f, 0.9f, 0.5f, 3, 2, 1}}), {1, 2, 0.9, 0.5, 0, 1, 3, 2});
  // Along axis 0 of [3, 2]: top value per column.
  Attrs x;
  x.set("axis", int64_t(0));
  x.set("out_max_val", int64_t(1));
  auto ax = makeDesc("argmax", {{3, 2}}, {{1, 2}}, x);
  expectNear(run1(ax, {{1, 6, 5, 2, 3, 4}}), {5, 6});
  // Ties: the larger index first (std::greater on (value, index)).
  auto t = makeDesc("argmax", {{1, 3}}, {{1, 1, 1}});
  expectNear(run1(t, {{2, 7, 7}}), {2});
  Attrs big;
  big.set("top_k", int64_t(4));
  expectCreateError(makeDesc("argmax", {{2, 3}}, {{2, 1, 4}}, big), "argmax top_k 4");
}

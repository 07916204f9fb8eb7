//===- GradElementwiseTest.cpp - Gradients of activations and normalizations ===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "GradTestUtil.h"

#include "dlc/Runtime/Reference/DropoutMask.h"

using namespace dlc::rt;
using namespace dlc::rt::test;

namespace {
KernelDesc unary(const std::string &op, Attrs a = {}) {
  return makeDesc(op, {{2, 3, 4}}, {{2, 3, 4}}, std::move(a));
}
} // namespace

TEST(UnaryGrad, Relu) {
  checkGradients(unary("relu"), {awayFromZero(24, 1)}, {0});
  Attrs a;
  a.set("negative_slope", 0.1);
  checkGradients(unary("relu", a), {awayFromZero(24, 2)}, {0});
  // Caffe: the gradient at exactly 0 is the negative side's.
  auto g = runGrad(makeDesc("relu", {{3}}, {{3}}, a), {{-1, 0, 2}}, {0}, {{1, 1, 1}});
  expectNear(g[0], {0.1, 0.1, 1});
}

TEST(UnaryGrad, SmoothActivations) {
  for (const char *op : {"sigmoid", "tanh", "bnll"}) {
    SCOPED_TRACE(op);
    checkGradients(unary(op), {randomData(24, 3, -3, 3)}, {0});
  }
  Attrs a;
  a.set("alpha", 0.7);
  checkGradients(unary("elu", a), {awayFromZero(24, 4, 0.05f)}, {0});
  // bnll saturates above Caffe's threshold (50): the slope is 1.
  auto g = runGrad(makeDesc("bnll", {{2}}, {{2}}), {{60, -60}}, {0}, {{1, 1}});
  expectNear(g[0], {1, 0}, 1e-6);
}

TEST(UnaryGrad, AbsVal) {
  checkGradients(unary("abs_val"), {awayFromZero(24, 5)}, {0});
  auto g = runGrad(makeDesc("abs_val", {{3}}, {{3}}), {{-2, 0, 3}}, {0}, {{1, 1, 1}});
  expectNear(g[0], {-1, 0, 1});
}

TEST(UnaryGrad, Power) {
  struct P {
    double power, scale, shift;
  };
  for (P p : {P{2, 0.5, 1}, P{3, 1.5, 0}, P{0.5, 1, 2}, P{1, 2, -1}, P{-1.5, 0.8, 2.5}}) {
    SCOPED_TRACE("power " + std::to_string(p.power));
    Attrs a;
    a.set("power", p.power);
    a.set("scale", p.scale);
    a.set("shift", p.shift);
    checkGradients(unary("power", a), {randomData(24, 6)}, {0});
  }
  Attrs z;
  z.set("power", 0.0);
  GradOptions zero;
  zero.allowZero = true; // y = 1: the gradient is 0 everywhere
  checkGradients(unary("power", z), {randomData(24, 7)}, {0}, zero);
  auto g = runGrad(makeDesc("power", {{2}}, {{2}}, z), {{1, 2}}, {0}, {{1, 1}});
  expectNear(g[0], {0, 0});
}

TEST(UnaryGrad, DropoutTestModeIsIdentity) {
  Attrs a;
  a.set("ratio", 0.4);
  checkGradients(unary("dropout", a), {randomData(24, 8)}, {0});
  Data dy = randomData(24, 9);
  expectNearData(runGrad(unary("dropout", a), {randomData(24, 10)}, {0}, {dy})[0], dy, 0);
}

TEST(UnaryGrad, DropoutTrainModeUsesTheForwardMask) {
  Attrs a;
  a.set("ratio", 0.3);
  a.set("train", int64_t(1));
  a.set("seed", int64_t(1234));
  auto d = makeDesc("dropout", {{4000}}, {{4000}}, a);
  Data x = awayFromZero(4000, 11);
  Data y = run1(d, {x});
  // Deterministic: the same seed gives the same output.
  EXPECT_EQ(run1(d, {x}), y);
  std::vector<uint8_t> keep = dropoutMask(1234, 0.3, 4000);
  int64_t kept = 0;
  for (int64_t i = 0; i < 4000; ++i) {
    ASSERT_NEAR(y[i], keep[i] ? x[i] / 0.7 : 0.0, 1e-6) << i;
    kept += keep[i];
  }
  // About 70% survive.
  EXPECT_NEAR(double(kept) / 4000.0, 0.7, 0.03);
  // The gradient applies the same mask and scale.
  Data dy = randomData(4000, 12);
  Data dx = runGrad(d, {x}, {0}, {dy})[0];
  for (int64_t i = 0; i < 4000; ++i)
    ASSERT_NEAR(dx[i], keep[i] ? dy[i] / 0.7 : 0.0, 1e-6) << i;
  checkGradients(makeDesc("dropout", {{2, 3, 4}}, {{2, 3, 4}}, a), {randomData(24, 13)}, {0});
  // Another seed draws another mask.
  Attrs b = a;
  b.set("seed", int64_t(1235));
  EXPECT_NE(run1(makeDesc("dropout", {{4000}}, {{4000}}, b), {x}), y);
}

TEST(DropoutMask, DocumentedStream) {
  // u_i = (x_i >> 11) * 2^-53 of std::mt19937_64(seed); keep = u >= ratio.
  std::mt19937_64 gen(99);
  std::vector<uint8_t> keep = dropoutMask(99, 0.5, 64);
  for (int i = 0; i < 64; ++i) {
    double u = double(gen() >> 11) / 9007199254740992.0;
    EXPECT_EQ(keep[i], u >= 0.5 ? 1 : 0) << i;
  }
  // ratio 0 keeps everything; the scale is 1 / (1 - ratio).
  std::vector<uint8_t> all = dropoutMask(5, 0.0, 100);
  EXPECT_EQ(std::count(all.begin(), all.end(), 1), 100);
  EXPECT_DOUBLE_EQ(dropoutScale(0.25), 1.0 / 0.75);
}

TEST(PreluGrad, ChannelwiseAndShared) {
  auto d = makeDesc("prelu", {{2, 3, 2, 2}, {3}}, {{2, 3, 2, 2}});
  std::vector<Data> in = {awayFromZero(24, 21), {0.25f, -0.5f, 1.5f}};
  checkGradients(d, in, {0, 1});
  checkGradients(d, in, {1});
  Attrs a;
  a.set("channel_shared", int64_t(1));
  auto s = makeDesc("prelu", {{2, 3, 2}, {1}}, {{2, 3, 2}}, a);
  checkGradients(s, {awayFromZero(12, 22), {0.3f}}, {0, 1});
}

TEST(SoftmaxGrad, Axes) {
  for (int64_t axis : {0, 1, -1}) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    Attrs a;
    a.set("axis", axis);
    auto d = makeDesc("softmax", {{3, 4, 2}}, {{3, 4, 2}}, a);
    checkGradients(d, {randomData(24, 30 + unsigned(axis + 1), -2, 2)}, {0});
  }
}

TEST(BatchNormGrad, GlobalStatistics) {
  Attrs a;
  a.set("use_global_stats", int64_t(1));
  a.set("eps", 1e-3);
  auto d = makeDesc("batch_norm", {{2, 3, 2, 2}, {3}, {3}, {1}}, {{2, 3, 2, 2}}, a);
  // Stored statistics are sums scaled by scale_factor (here 2).
  std::vector<Data> in = {randomData(24, 41), {0.2f, -0.4f, 1.0f}, {1.0f, 0.5f, 2.0f}, {2.0f}};
  checkGradients(d, in, {0});
  Data dy = randomData(24, 42);
  Data dx = runGrad(d, in, {0}, {dy})[0];
  for (int64_t i = 0; i < 24; ++i) {
    int64_t c = (i / 4) % 3;
    EXPECT_NEAR(dx[i], dy[i] / std::sqrt(in[2][c] / 2.0 + 1e-3), 1e-6) << i;
  }
  // scale_factor 0: the statistics are 0, dx = dy / sqrt(eps).
  in[3] = {0.0f};
  Data dx0 = runGrad(d, in, {0}, {dy})[0];
  for (int64_t i = 0; i < 24; ++i)
    EXPECT_NEAR(dx0[i], dy[i] / std::sqrt(1e-3), 1e-4) << i;
}

TEST(BatchNormGrad, BatchStatistics) {
  Attrs a;
  a.set("use_global_stats", int64_t(0));
  auto d = makeDesc("batch_norm", {{3, 2, 2, 3}, {2}, {2}, {1}}, {{3, 2, 2, 3}}, a);
  std::vector<Data> in = {randomData(36, 43, -2, 2), {0, 0}, {1, 1}, {1}};
  checkGradients(d, in, {0});
  // 2-D input (spatial size 1).
  auto f = makeDesc("batch_norm", {{5, 3}, {3}, {3}, {1}}, {{5, 3}}, a);
  checkGradients(f, {randomData(15, 44), {0, 0, 0}, {1, 1, 1}, {1}}, {0});
  // The gradient of a normalized output sums to 0 over each channel.
  Data dx = runGrad(d, in, {0}, {randomData(36, 45)})[0];
  for (int64_t c = 0; c < 2; ++c) {
    double s = 0;
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t i = 0; i < 6; ++i)
        s += dx[(n * 2 + c) * 6 + i];
    EXPECT_NEAR(s, 0.0, 1e-5);
  }
}

TEST(ScaleGrad, ParamsAxisNumAxesAndSecondBottom) {
  auto d = makeDesc("scale", {{2, 3, 4}, {3}, {3}}, {{2, 3, 4}});
  d.isParam = {false, true, true};
  checkGradients(d, {randomData(24, 51), randomData(3, 52), randomData(3, 53)}, {0, 1, 2});
  checkGradients(d, {randomData(24, 54), randomData(3, 55), randomData(3, 56)}, {1, 2});
  Attrs a;
  a.set("axis", int64_t(0));
  a.set("num_axes", int64_t(2));
  auto e = makeDesc("scale", {{2, 3, 4}, {2, 3}}, {{2, 3, 4}}, a);
  e.isParam = {false, true};
  checkGradients(e, {randomData(24, 57), randomData(6, 58)}, {0, 1});
  // Second bottom: the scale is an activation [2, 3] broadcast over axis 2.
  Attrs b;
  b.set("axis", int64_t(0));
  auto s = makeDesc("scale", {{2, 3, 4}, {2, 3}}, {{2, 3, 4}}, b);
  checkGradients(s, {randomData(24, 59), randomData(6, 60)}, {0, 1});
  // A scalar scale.
  Attrs z;
  z.set("num_axes", int64_t(0));
  auto c = makeDesc("scale", {{2, 3}, {}}, {{2, 3}}, z);
  checkGradients(c, {randomData(6, 61), {1.5f}}, {0, 1});
}

TEST(BiasGrad, AxisAndNumAxes) {
  auto d = makeDesc("bias", {{2, 3, 4}, {3}}, {{2, 3, 4}});
  checkGradients(d, {randomData(24, 71), randomData(3, 72)}, {0, 1});
  Attrs a;
  a.set("axis", int64_t(1));
  a.set("num_axes", int64_t(2));
  auto e = makeDesc("bias", {{2, 3, 4}, {3, 4}}, {{2, 3, 4}}, a);
  e.isParam = {false, true};
  checkGradients(e, {randomData(24, 73), randomData(12, 74)}, {1});
}

TEST(EltwiseGrad, SumWithCoeff) {
  Attrs a;
  a.set("operation", std::string("sum"));
  a.set("coeff", std::vector<double>{0.5, -2.0, 1.5});
  auto d = makeDesc("eltwise", {{2, 5}, {2, 5}, {2, 5}}, {{2, 5}}, a);
  std::vector<Data> in = {randomData(10, 81), randomData(10, 82), randomData(10, 83)};
  checkGradients(d, in, {0, 1, 2});
  checkGradients(d, in, {1});
  Data dy = randomData(10, 84);
  Data g = runGrad(d, in, {1}, {dy})[0];
  for (int i = 0; i < 10; ++i)
    EXPECT_FLOAT_EQ(g[i], -2.0f * dy[i]);
}

TEST(EltwiseGrad, Prod) {
  Attrs a;
  a.set("operation", std::string("prod"));
  auto d = makeDesc("eltwise", {{2, 5}, {2, 5}, {2, 5}}, {{2, 5}}, a);
  // Zeros included: the product of the others needs no division.
  Data x0 = randomData(10, 85);
  x0[3] = 0.0f;
  checkGradients(d, {x0, randomData(10, 86), randomData(10, 87)}, {0, 1, 2});
}

TEST(EltwiseGrad, MaxRoutesToTheArgmax) {
  Attrs a;
  a.set("operation", std::string("max"));
  auto d = makeDesc("eltwise", {{3, 4}, {3, 4}, {3, 4}}, {{3, 4}}, a);
  Data all = distinctValues(36, 88);
  std::vector<Data> in = {Data(all.begin(), all.begin() + 12),
                          Data(all.begin() + 12, all.begin() + 24),
                          Data(all.begin() + 24, all.end())};
  checkGradients(d, in, {0, 1, 2});
  checkGradients(d, in, {0, 2});
  // Ties: the first input holding the maximum gets it (Caffe's mask).
  auto t = makeDesc("eltwise", {{2}, {2}}, {{2}}, a);
  auto g = runGrad(t, {{1, 2}, {1, 3}}, {0, 1}, {{5, 7}});
  expectNear(g[0], {5, 0});
  expectNear(g[1], {0, 7});
}

TEST(UnaryGrad, ExpLogClipSwish) {
  Attrs e;
  e.set("base", 2.0);
  e.set("scale", 0.5);
  e.set("shift", 1.0);
  checkGradients(unary("exp", e), {randomData(24, 90)}, {0});
  checkGradients(unary("exp"), {randomData(24, 91)}, {0});
  Attrs l;
  l.set("base", 3.0);
  l.set("scale", 1.5);
  l.set("shift", 2.0);
  checkGradients(unary("log", l), {randomData(24, 92)}, {0});
  checkGradients(unary("log"), {randomData(24, 93, 0.5f, 2.0f)}, {0});
  Attrs c;
  c.set("min", -0.5);
  c.set("max", 0.5);
  // Values away from the bounds (the kinks): some inside, some outside.
  Data x = distinctValues(24, 94, 0.08f);
  for (float &v : x)
    if (std::fabs(std::fabs(v) - 0.5f) < 0.03f)
      v += 0.06f;
  checkGradients(unary("clip", c), {x}, {0});
  // Caffe: the bounds themselves pass the gradient.
  auto g = runGrad(makeDesc("clip", {{4}}, {{4}}, c), {{-0.5f, 0.5f, -1, 1}}, {0},
                   {{1, 1, 1, 1}});
  expectNear(g[0], {1, 1, 0, 0});
  Attrs s;
  s.set("beta", 1.5);
  checkGradients(unary("swish", s), {randomData(24, 95, -3, 3)}, {0});
  checkGradients(unary("swish"), {randomData(24, 96, -3, 3)}, {0});
  // Threshold has no gradient, as in Caffe.
  EXPECT_FALSE(hasReferenceKernel("threshold_grad"));
}

TEST(MvnGrad, WithAndWithoutVariance) {
  auto d = makeDesc("mvn", {{2, 3, 2, 2}}, {{2, 3, 2, 2}});
  checkGradients(d, {randomData(24, 97)}, {0});
  Attrs a;
  a.set("across_channels", int64_t(1));
  checkGradients(makeDesc("mvn", {{2, 3, 2, 2}}, {{2, 3, 2, 2}}, a), {randomData(24, 98)}, {0});
  a.set("normalize_variance", int64_t(0));
  checkGradients(makeDesc("mvn", {{2, 3, 2, 2}}, {{2, 3, 2, 2}}, a), {randomData(24, 99)}, {0});
}

TEST(ReductionGrad, EveryOperation) {
  for (const char *op : {"sum", "asum", "sumsq", "mean"}) {
    SCOPED_TRACE(op);
    Attrs a;
    a.set("operation", std::string(op));
    a.set("axis", int64_t(1));
    a.set("coeff", 1.5);
    checkGradients(makeDesc("reduction", {{2, 3, 4}}, {{2}}, a), {awayFromZero(24, 100)}, {0});
  }
  EXPECT_FALSE(hasReferenceKernel("argmax_grad"));
}

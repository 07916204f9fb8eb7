//===- GradConvTest.cpp - Gradients of conv, deconv, ip, embed, pool, lrn -===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "GradTestUtil.h"

using namespace dlc::rt;
using namespace dlc::rt::test;

namespace {

Attrs convAttrs(int64_t numOutput, std::vector<int64_t> k, std::vector<int64_t> s,
                std::vector<int64_t> p, std::vector<int64_t> d, int64_t group = 1) {
  Attrs a;
  a.set("num_output", numOutput);
  a.set("kernel", k);
  a.set("stride", s);
  a.set("pad", p);
  a.set("dilation", d);
  a.set("group", group);
  return a;
}

std::vector<Data> randomInputs(const KernelDesc &d, unsigned seed) {
  std::vector<Data> v;
  for (size_t i = 0; i < d.inputs.size(); ++i)
    v.push_back(randomData(numElements(d.inputs[i]), seed + unsigned(i)));
  return v;
}

Attrs poolAttrs(const std::string &pool, int64_t k, int64_t s, int64_t p,
                const std::string &round = "ceil") {
  Attrs a;
  a.set("pool", pool);
  a.set("kernel", std::vector<int64_t>{k, k});
  a.set("stride", std::vector<int64_t>{s, s});
  a.set("pad", std::vector<int64_t>{p, p});
  a.set("round_mode", round);
  return a;
}

} // namespace

TEST(ConvolutionGrad, PlainWithBias) {
  auto d = makeDesc("convolution", {{2, 3, 5, 5}, {4, 3, 3, 3}, {4}}, {{2, 4, 3, 3}},
                    convAttrs(4, {3, 3}, {1, 1}, {0, 0}, {1, 1}));
  d.isParam = {false, true, true};
  checkGradients(d, randomInputs(d, 1), {0, 1, 2});
}

TEST(ConvolutionGrad, StridePadDilationGroup) {
  // 7x6 input, kernel 3x2, stride 2x1, pad 1x2, dilation 2x1, group 2.
  // out h = (7 + 2 - 5) / 2 + 1 = 3, w = (6 + 4 - 2) / 1 + 1 = 9.
  auto d = makeDesc("convolution", {{2, 4, 7, 6}, {6, 2, 3, 2}, {6}}, {{2, 6, 3, 9}},
                    convAttrs(6, {3, 2}, {2, 1}, {1, 2}, {2, 1}, 2));
  checkGradients(d, randomInputs(d, 11), {0, 1, 2});
  // Data gradient alone and weight gradients alone (separate kernels).
  checkGradients(d, randomInputs(d, 12), {0});
  checkGradients(d, randomInputs(d, 13), {1, 2});
}

TEST(ConvolutionGrad, OneSpatialAxisNoBias) {
  auto d = makeDesc("convolution", {{2, 2, 9}, {3, 2, 4}}, {{2, 3, 3}},
                    convAttrs(3, {4}, {3}, {1}, {1}));
  checkGradients(d, randomInputs(d, 21), {0, 1});
}

TEST(ConvolutionGrad, ThreeSpatialAxesDepthwise) {
  auto d = makeDesc("convolution", {{1, 2, 3, 4, 4}, {2, 1, 2, 2, 2}, {2}},
                    {{1, 2, 2, 2, 2}}, convAttrs(2, {2, 2, 2}, {1, 2, 2}, {0, 0, 0},
                                                 {1, 1, 1}, 2));
  checkGradients(d, randomInputs(d, 31), {0, 1, 2});
}

TEST(DeconvolutionGrad, StridePadGroupBias) {
  // out = 2 * (4 - 1) + 3 - 2 = 7 per axis.
  auto d = makeDesc("deconvolution", {{2, 4, 4, 4}, {4, 3, 3, 3}, {6}}, {{2, 6, 7, 7}},
                    convAttrs(6, {3, 3}, {2, 2}, {1, 1}, {1, 1}, 2));
  checkGradients(d, randomInputs(d, 41), {0, 1, 2});
}

TEST(DeconvolutionGrad, DilationNoBias) {
  // out h = 1 * (3 - 1) + 2 * (2 - 1) + 1 = 5, w = 2 * (4 - 1) + 2 * 1 + 1 = 9.
  auto d = makeDesc("deconvolution", {{1, 2, 3, 4}, {2, 3, 2, 2}}, {{1, 3, 5, 9}},
                    convAttrs(3, {2, 2}, {1, 2}, {0, 0}, {2, 2}));
  checkGradients(d, randomInputs(d, 51), {0, 1});
}

TEST(InnerProductGrad, AxisOneOnImages) {
  auto d = makeDesc("inner_product", {{3, 2, 2, 3}, {5, 12}, {5}}, {{3, 5}});
  d.attrs.set("num_output", int64_t(5));
  checkGradients(d, randomInputs(d, 61), {0, 1, 2});
}

TEST(InnerProductGrad, AxisTwoTransposedNoBias) {
  auto d = makeDesc("inner_product", {{2, 3, 4}, {4, 3}}, {{2, 3, 3}});
  d.attrs.set("num_output", int64_t(3));
  d.attrs.set("axis", int64_t(2));
  d.attrs.set("transpose", int64_t(1));
  checkGradients(d, randomInputs(d, 71), {0, 1});
  checkGradients(d, randomInputs(d, 72), {1});
}

TEST(InnerProductGrad, HandComputed) {
  // y = x W^T + b with x [1, 2], W [[1, 2], [3, 4]], dy = [1, -1].
  auto d = makeDesc("inner_product", {{1, 2}, {2, 2}, {2}}, {{1, 2}});
  d.attrs.set("num_output", int64_t(2));
  auto g = runGrad(d, {{1, 2}, {1, 2, 3, 4}, {0, 0}}, {0, 1, 2}, {{1, -1}});
  expectNear(g[0], {1 - 3, 2 - 4});    // W^T dy
  expectNear(g[1], {1, 2, -1, -2});   // dy x^T
  expectNear(g[2], {1, -1});
}

TEST(EmbedGrad, WeightAndBiasWithRepeatedIndices) {
  auto d = makeDesc("embed", {{2, 3}, {5, 4}, {4}}, {{2, 3, 4}});
  d.attrs.set("num_output", int64_t(4));
  d.attrs.set("input_dim", int64_t(5));
  Data idx = {0, 3, 3, 4, 0, 1}; // row 2 is never used: its gradient is 0
  std::vector<Data> in = {idx, randomData(20, 81), randomData(4, 82)};
  checkGradients(d, in, {1, 2});
  checkGradients(d, in, {1});
  Data dy = randomData(24, 83);
  auto g = runGrad(d, in, {1}, {dy});
  for (int64_t j = 0; j < 4; ++j) {
    EXPECT_FLOAT_EQ(g[0][2 * 4 + j], 0.0f);
    EXPECT_NEAR(g[0][3 * 4 + j], dy[1 * 4 + j] + dy[2 * 4 + j], 1e-6);
  }
}

TEST(EmbedGrad, BadIndexAtRunTime) {
  auto d = makeDesc("embed", {{2}, {3, 2}}, {{2, 2}});
  d.attrs.set("num_output", int64_t(2));
  d.attrs.set("input_dim", int64_t(3));
  auto g = gradDesc(d, {1});
  try {
    runRef(g, {{0, 3}, Data(6, 1), Data(4, 0), Data(4, 1)});
    ADD_FAILURE() << "expected an Error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("layer 'L_embed' (embed_grad): index 3"),
              std::string::npos)
        << e.what();
  }
}

TEST(PoolingGrad, MaxCeilWithClippedWindows) {
  // 5x5, kernel 3, stride 2, pad 1: 3x3 output, windows clipped at borders.
  auto d = makeDesc("pooling", {{2, 2, 5, 5}}, {{2, 2, 3, 3}}, poolAttrs("max", 3, 2, 1));
  checkGradients(d, {distinctValues(100, 91)}, {0});
  // 6x7, kernel 3, stride 2, no pad, ceil: the last window hangs over.
  auto e = makeDesc("pooling", {{1, 2, 6, 7}}, {{1, 2, 3, 3}}, poolAttrs("max", 3, 2, 0));
  checkGradients(e, {distinctValues(84, 92)}, {0});
  // Overlapping windows (stride 1): one input can be the max of several.
  auto f = makeDesc("pooling", {{1, 1, 4, 4}}, {{1, 1, 3, 3}}, poolAttrs("max", 2, 1, 0));
  checkGradients(f, {distinctValues(16, 93)}, {0});
}

TEST(PoolingGrad, MaxTiesGoToTheFirstInScanOrder) {
  // One 2x3 window; maxima at (0, 1), (0, 2) and (1, 0): Caffe keeps the first.
  Attrs a;
  a.set("pool", std::string("max"));
  a.set("kernel", std::vector<int64_t>{2, 3});
  auto d = makeDesc("pooling", {{1, 1, 2, 3}}, {{1, 1, 1, 1}}, a);
  auto g = runGrad(d, {{1, 5, 5, 5, 2, 0}}, {0}, {{2.5f}});
  expectNear(g[0], {0, 2.5, 0, 0, 0, 0});
  // Global max pooling of a plane.
  Attrs gl;
  gl.set("pool", std::string("max"));
  gl.set("global_pooling", int64_t(1));
  auto dg = makeDesc("pooling", {{1, 2, 2, 2}}, {{1, 2, 1, 1}}, gl);
  auto gg = runGrad(dg, {{1, 4, 3, 2, -1, -2, -3, -4}}, {0}, {{1, 2}});
  expectNear(gg[0], {0, 1, 0, 0, 2, 0, 0, 0});
}

TEST(PoolingGrad, AverageCaffeDivisor) {
  auto d = makeDesc("pooling", {{2, 2, 5, 5}}, {{2, 2, 3, 3}}, poolAttrs("ave", 3, 2, 1));
  checkGradients(d, {randomData(100, 101)}, {0});
  auto e = makeDesc("pooling", {{1, 2, 6, 7}}, {{1, 2, 2, 3}},
                    poolAttrs("ave", 3, 2, 0, "floor"));
  checkGradients(e, {randomData(84, 102)}, {0});
  // Hand check: 3x3 input, kernel 2, stride 2, pad 1 -> 2x2 output; every
  // window's divisor is 4 (clipped to the padded input), and each input
  // pixel is in exactly one window.
  auto h = makeDesc("pooling", {{1, 1, 3, 3}}, {{1, 1, 2, 2}}, poolAttrs("ave", 2, 2, 1));
  auto g = runGrad(h, {randomData(9, 103)}, {0}, {{4, 8, 12, 16}});
  expectNear(g[0], {1, 2, 2, 3, 4, 4, 3, 4, 4});
  Attrs gl;
  gl.set("pool", std::string("ave"));
  gl.set("global_pooling", int64_t(1));
  auto dg = makeDesc("pooling", {{2, 3, 3, 4}}, {{2, 3, 1, 1}}, gl);
  checkGradients(dg, {randomData(72, 104)}, {0});
}

TEST(PoolingGrad, StochasticHasNoGradient) {
  auto d = makeDesc("pooling", {{1, 1, 4, 4}}, {{1, 1, 2, 2}},
                    poolAttrs("stochastic", 2, 2, 0));
  expectCreateError(gradDesc(d, {0}), "stochastic pooling has no gradient");
}

TEST(LrnGrad, AcrossChannels) {
  for (int64_t size : {3, 5}) {
    SCOPED_TRACE("local_size " + std::to_string(size));
    Attrs a;
    a.set("local_size", size);
    a.set("alpha", 2.0);
    a.set("beta", 0.75);
    a.set("k", 1.0);
    auto d = makeDesc("lrn", {{2, 7, 2, 3}}, {{2, 7, 2, 3}}, a);
    checkGradients(d, {randomData(84, 110 + unsigned(size), -2, 2)}, {0});
  }
}

TEST(LrnGrad, WithinChannel) {
  for (int64_t size : {3, 5}) {
    SCOPED_TRACE("local_size " + std::to_string(size));
    Attrs a;
    a.set("local_size", size);
    a.set("alpha", 0.8);
    a.set("beta", 0.6);
    a.set("norm_region", std::string("within_channel"));
    auto d = makeDesc("lrn", {{1, 2, 4, 5}}, {{1, 2, 4, 5}}, a);
    checkGradients(d, {randomData(40, 120 + unsigned(size), -2, 2)}, {0});
  }
}

TEST(Im2colGrad, Col2im) {
  Attrs a;
  a.set("kernel", std::vector<int64_t>{3, 2});
  a.set("stride", std::vector<int64_t>{2, 1});
  a.set("pad", std::vector<int64_t>{1, 1});
  a.set("dilation", std::vector<int64_t>{1, 2});
  auto d = makeDesc("im2col", {{2, 2, 5, 4}}, {{2, 12, 3, 4}}, a);
  checkGradients(d, {randomData(80, 120)}, {0});
}

TEST(SppGrad, MaxAndAverage) {
  Attrs a;
  a.set("pyramid_height", int64_t(3));
  a.set("pool", std::string("max"));
  // Levels of 1, 2x2 and 4x4 bins on an 8x8 image; a 5x6 image pads.
  auto d = makeDesc("spp", {{2, 2, 8, 8}}, {{2, 42}}, a);
  checkGradients(d, {distinctValues(256, 121)}, {0});
  a.set("pool", std::string("ave"));
  checkGradients(makeDesc("spp", {{2, 2, 8, 8}}, {{2, 42}}, a), {randomData(256, 122)}, {0});
  a.set("pyramid_height", int64_t(2));
  checkGradients(makeDesc("spp", {{2, 2, 5, 6}}, {{2, 10}}, a), {randomData(120, 123)}, {0});
  a.set("pyramid_height", int64_t(1));
  checkGradients(makeDesc("spp", {{2, 2, 5, 6}}, {{2, 2, 1, 1}}, a), {randomData(120, 124)},
                 {0});
}

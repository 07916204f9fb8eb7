//===- FusedConvTest.cpp - Fused convolutions and inner products -===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Convolution, deconvolution and inner-product anchors with folded
// BatchNorm/Scale, sum and eltwise post-ops, against the reference
// composition.
//
//===----------------------------------------------------------------------===//

#include "FusedTestUtil.h"

using namespace dlc::rt;
using namespace dlc::rt::dnnltest;
using namespace dlc::rt::fusedtest;

namespace {

// ---------------------------------------------------------------------------
// Convolution anchors
// ---------------------------------------------------------------------------

TEST(DnnlFused, ConvBiasRelu) {
  for (bool bias : {true, false})
    for (double slope : {0.0, 0.1}) {
      SCOPED_TRACE(std::string(bias ? "bias" : "no bias") + ", slope " + std::to_string(slope));
      FusedBuilder b;
      int x = b.input({2, 3, 9, 11});
      int w = b.input({8, 3, 3, 3}, true);
      std::vector<int> args{x, w};
      if (bias)
        args.push_back(b.input({8}, true));
      int c = b.step("convolution", convAttrs(8, 3, 1, 1), args);
      int r = b.step("relu", reluAttrs(slope), {c});
      KernelDesc d = b.finish({r});
      compareFused(d, randomInputs(d), 27, Expect::OnednnFused);
    }
}

TEST(DnnlFused, ReferenceCompositionRunsTheStepsInOrder) {
  FusedBuilder b;
  int x = b.input({2, 3, 7, 7});
  int w = b.input({4, 3, 3, 3}, true);
  int bias = b.input({4}, true);
  int c = b.step("convolution", convAttrs(4, 3, 1, 1), {x, w, bias});
  int r = b.step("relu", reluAttrs(), {c});
  int t = b.step("tanh", {}, {r});
  KernelDesc d = b.finish({t});
  auto in = randomInputs(d);
  BackendContexts contexts;
  KernelChoice ref = createFusedKernel(d, {"ref"}, contexts);
  EXPECT_EQ(ref.kernel->implName().rfind("composed(", 0), 0u) << ref.kernel->implName();
  // Each step's own reference kernel, on temporaries: bit for bit.
  EXPECT_EQ(run(*ref.kernel, d, in), runStepsByHand(d, in));
  // inferKernelOutputs of a fused description: the shapes of its results.
  EXPECT_EQ(inferKernelOutputs(d), (std::vector<Shape>{{2, 4, 7, 7}}));
}

/// conv (+bias) + BatchNorm (global statistics) + Scale (+bias) + relu,
/// with non-trivial statistics.
struct BnCase {
  bool convBias, bn, scale, scaleBias;
  float scaleFactor;
  double eps;
};

std::string bnCaseName(const BnCase &c) {
  std::ostringstream os;
  os << (c.convBias ? "conv+b" : "conv");
  if (c.bn)
    os << "+bn(f=" << c.scaleFactor << ",eps=" << c.eps << ")";
  if (c.scale)
    os << (c.scaleBias ? "+scale+b" : "+scale");
  return os.str() + "+relu";
}

TEST(DnnlFused, ConvBatchNormScaleRelu) {
  const std::vector<BnCase> cases = {
      {true, true, true, true, 1.f, 1e-5},    // everything
      {true, true, true, false, 2.5f, 1e-5},  // Scale without bias
      {false, true, true, true, 0.5f, 1e-3},  // convolution without bias
      {false, true, true, false, 3.f, 1e-5},  // neither bias
      {true, true, true, true, 0.f, 0.04},    // scale_factor 0: mean and var count as 0
      {true, true, false, false, 2.f, 1e-5},  // BatchNorm alone
      {false, true, false, false, 0.f, 0.25}, // BatchNorm alone, scale_factor 0
      {true, false, true, true, 1.f, 0},      // Scale alone
      {false, false, true, false, 1.f, 0},    // Scale alone, no bias
  };
  for (const BnCase &c : cases) {
    SCOPED_TRACE(bnCaseName(c));
    const int64_t o = 6;
    FusedBuilder b;
    int x = b.input({2, 4, 8, 7});
    int w = b.input({o, 4, 3, 3}, true);
    std::vector<int> convArgs{x, w};
    if (c.convBias)
      convArgs.push_back(b.input({o}, true));
    int mean = -1, var = -1, sf = -1, gamma = -1, beta = -1;
    if (c.bn) {
      mean = b.input({o}, true);
      var = b.input({o}, true);
      sf = b.input({1}, true);
    }
    if (c.scale) {
      gamma = b.input({o}, true);
      if (c.scaleBias)
        beta = b.input({o}, true);
    }
    int v = b.step("convolution", convAttrs(o, 3, 1, 1), convArgs);
    if (c.bn)
      v = b.step("batch_norm", bnAttrs(true, c.eps), {v, mean, var, sf});
    if (c.scale) {
      std::vector<int> args{v, gamma};
      if (beta >= 0)
        args.push_back(beta);
      v = b.step("scale", scaleAttrs(), args);
    }
    v = b.step("relu", reluAttrs(), {v});
    KernelDesc d = b.finish({v});
    std::map<int, std::pair<float, float>> ranges;
    std::map<int, std::vector<float>> fixed;
    if (c.bn) {
      ranges[var] = {0.5f, 2.f};
      fixed[sf] = {c.scaleFactor};
    }
    if (c.scale)
      ranges[gamma] = {-1.5f, 1.5f};
    auto in = randomInputs(d, ranges, fixed);
    double gain = foldGain(c.bn ? &in[size_t(var)] : nullptr, c.scaleFactor, c.eps,
                           c.scale ? &in[size_t(gamma)] : nullptr, size_t(o));
    compareFused(d, in, 36 * gain * gain, Expect::OnednnFused);
  }
}

TEST(DnnlFused, ConvBatchNormScaleSumRelu) {
  // The chain's value as operand 0 and as operand 1 of the sum; the other
  // blob a separate input or the convolution's own input (a residual block).
  for (bool chainFirst : {true, false})
    for (bool residual : {false, true}) {
      SCOPED_TRACE(std::string(chainFirst ? "chain + other" : "other + chain") +
                   (residual ? ", other = conv input" : ""));
      FusedBuilder b;
      int x = b.input({2, 8, 7, 9});
      int w = b.input({8, 8, 3, 3}, true);
      int bias = b.input({8}, true);
      int mean = b.input({8}, true), var = b.input({8}, true), sf = b.input({1}, true);
      int gamma = b.input({8}, true), beta = b.input({8}, true);
      int other = residual ? x : b.input({2, 8, 7, 9});
      int v = b.step("convolution", convAttrs(8, 3, 1, 1), {x, w, bias});
      v = b.step("batch_norm", bnAttrs(), {v, mean, var, sf});
      v = b.step("scale", scaleAttrs(), {v, gamma, beta});
      v = b.step("eltwise", sumAttrs(),
                 chainFirst ? std::vector<int>{v, other} : std::vector<int>{other, v});
      v = b.step("relu", reluAttrs(), {v});
      KernelDesc d = b.finish({v});
      auto in = randomInputs(d, {{var, {0.5f, 2.f}}, {gamma, {-1.5f, 1.5f}}}, {{sf, {1.5f}}});
      double gain = foldGain(&in[size_t(var)], 1.5f, 1e-5, &in[size_t(gamma)], 8);
      compareFused(d, in, 72 * gain * gain, Expect::OnednnFused);
    }
}

TEST(DnnlFused, ConvSumWithCoefficientsOneIsFused) {
  FusedBuilder b;
  int x = b.input({1, 3, 6, 6});
  int w = b.input({5, 3, 3, 3}, true);
  int other = b.input({1, 5, 4, 4});
  int v = b.step("convolution", convAttrs(5, 3), {x, w});
  v = b.step("eltwise", sumAttrs({1.0, 1.0}), {other, v});
  KernelDesc d = b.finish({v});
  compareFused(d, randomInputs(d), 27, Expect::OnednnFused);
}

TEST(DnnlFused, GroupedStridedPaddedConvSigmoid) {
  struct Case {
    int64_t c, h, w, o, k, s, p, g, dil;
  };
  for (const Case &c : {Case{4, 11, 10, 6, 3, 2, 1, 2, 1}, Case{6, 9, 13, 6, 3, 1, 2, 6, 1},
                        Case{4, 12, 12, 8, 3, 2, 2, 4, 2}, Case{3, 7, 8, 9, 5, 3, 2, 3, 1}}) {
    SCOPED_TRACE("c" + std::to_string(c.c) + " g" + std::to_string(c.g) + " s" +
                 std::to_string(c.s) + " p" + std::to_string(c.p) + " d" + std::to_string(c.dil));
    FusedBuilder b;
    int x = b.input({2, c.c, c.h, c.w});
    int w = b.input({c.o, c.c / c.g, c.k, c.k}, true);
    int bias = b.input({c.o}, true);
    int v = b.step("convolution", convAttrs(c.o, c.k, c.s, c.p, c.g, c.dil), {x, w, bias});
    v = b.step("sigmoid", {}, {v});
    KernelDesc d = b.finish({v});
    compareFused(d, randomInputs(d), double(c.c / c.g * c.k * c.k), Expect::OnednnFused);
  }
}

TEST(DnnlFused, DeconvolutionTanh) {
  for (int64_t g : {1, 2}) {
    SCOPED_TRACE("group " + std::to_string(g));
    FusedBuilder b;
    int x = b.input({2, 4, 5, 6});
    int w = b.input({4, 6 / g, 4, 4}, true);
    int bias = b.input({6}, true);
    int v = b.step("deconvolution", convAttrs(6, 4, 2, 1, g), {x, w, bias});
    ASSERT_EQ(b.shape(v), (Shape{2, 6, 10, 12}));
    v = b.step("tanh", {}, {v});
    KernelDesc d = b.finish({v});
    compareFused(d, randomInputs(d), double(4 / g * 16), Expect::OnednnFused);
  }
}

// ---------------------------------------------------------------------------
// Inner product anchors
// ---------------------------------------------------------------------------

TEST(DnnlFused, InnerProductBatchNormRelu) {
  for (bool transpose : {false, true}) {
    SCOPED_TRACE(transpose ? "transpose" : "plain");
    FusedBuilder b;
    int x = b.input({5, 12});
    int w = b.input(transpose ? Shape{12, 7} : Shape{7, 12}, true);
    int bias = b.input({7}, true);
    int mean = b.input({7}, true), var = b.input({7}, true), sf = b.input({1}, true);
    int v = b.step("inner_product", ipAttrs(7, 1, transpose), {x, w, bias});
    v = b.step("batch_norm", bnAttrs(), {v, mean, var, sf});
    v = b.step("relu", reluAttrs(), {v});
    KernelDesc d = b.finish({v});
    auto in = randomInputs(d, {{var, {0.5f, 2.f}}}, {{sf, {2.f}}});
    double gain = foldGain(&in[size_t(var)], 2.f, 1e-5, nullptr, 7);
    compareFused(d, in, 12 * gain * gain, Expect::OnednnFused);
  }
}

TEST(DnnlFused, InnerProductOn4DInputScaleElu) {
  FusedBuilder b;
  int x = b.input({3, 2, 3, 4});
  int w = b.input({5, 24}, true);
  int gamma = b.input({5}, true), beta = b.input({5}, true);
  int v = b.step("inner_product", ipAttrs(5), {x, w});
  v = b.step("scale", scaleAttrs(), {v, gamma, beta});
  Attrs elu;
  elu.set("alpha", 0.7);
  v = b.step("elu", elu, {v});
  KernelDesc d = b.finish({v});
  auto in = randomInputs(d, {{gamma, {-1.5f, 1.5f}}});
  compareFused(d, in, 24 * 2.25, Expect::OnednnFused);
}

TEST(DnnlFused, InnerProductAxisTransposeSum) {
  for (bool transpose : {false, true})
    for (bool chainFirst : {true, false}) {
      SCOPED_TRACE(std::string(transpose ? "transpose" : "plain") +
                   (chainFirst ? ", chain + other" : ", other + chain"));
      FusedBuilder b;
      int x = b.input({2, 3, 10});
      int w = b.input(transpose ? Shape{10, 6} : Shape{6, 10}, true);
      int bias = b.input({6}, true);
      int other = b.input({2, 3, 6});
      int v = b.step("inner_product", ipAttrs(6, 2, transpose), {x, w, bias});
      ASSERT_EQ(b.shape(v), (Shape{2, 3, 6}));
      v = b.step("eltwise", sumAttrs(),
                 chainFirst ? std::vector<int>{v, other} : std::vector<int>{other, v});
      KernelDesc d = b.finish({v});
      compareFused(d, randomInputs(d), 10, Expect::OnednnFused);
    }
}

// Regression: inner product with axis 2 + BatchNorm/Scale: the fold would
// scale the N output columns with axis-1 statistics, so plan() refuses it
// (composed).
TEST(DnnlFused, InnerProductAxis2WithBatchNormOrScaleMatchesReference) {
  for (bool bn : {true, false}) {
    SCOPED_TRACE(bn ? "batch_norm" : "scale");
    FusedBuilder b;
    int x = b.input({2, 3, 10});
    int w = b.input({4, 10}, true);
    int bias = b.input({4}, true);
    // Per-channel parameters of axis 1 (3 channels), not of the 4 outputs.
    int p0 = b.input({3}, true), p1 = b.input({3}, true);
    int sf = bn ? b.input({1}, true) : -1;
    int v = b.step("inner_product", ipAttrs(4, 2), {x, w, bias});
    ASSERT_EQ(b.shape(v), (Shape{2, 3, 4}));
    if (bn)
      v = b.step("batch_norm", bnAttrs(), {v, p0, p1, sf});
    else
      v = b.step("scale", scaleAttrs(), {v, p0, p1});
    v = b.step("relu", reluAttrs(), {v});
    KernelDesc d = b.finish({v});
    std::map<int, std::vector<float>> fixed;
    if (bn)
      fixed[sf] = {1.f};
    auto in = randomInputs(d, {{p1, {0.5f, 2.f}}}, fixed);
    BackendContexts contexts;
    KernelChoice ref = createFusedKernel(d, {"ref"}, contexts);
    KernelChoice dn = createKernel(d, {"onednn", "ref"}, contexts);
    EXPECT_TRUE(closeTo(run(*dn.kernel, d, in)[0], run(*ref.kernel, d, in)[0], 10 * 4))
        << dn.kernel->implName();
  }
}

} // namespace

//===- FusedEltwiseTest.cpp - Fused sums, post-op chains, refusals -===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Sum anchors, post-op chains, and bodies the oneDNN kernel refuses (they
// run composed and still match the reference).
//
//===----------------------------------------------------------------------===//

#include "FusedTestUtil.h"

using namespace dlc::rt;
using namespace dlc::rt::dnnltest;
using namespace dlc::rt::fusedtest;

namespace {

// ---------------------------------------------------------------------------
// Eltwise sum anchor (binary add)
// ---------------------------------------------------------------------------

TEST(DnnlFused, EltwiseSumReluOddSizes) {
  for (const Shape &s : {Shape{3, 5, 7}, Shape{1, 3, 5, 7}, Shape{17}, Shape{2, 3, 1, 11}}) {
    SCOPED_TRACE(shapeToString(s));
    FusedBuilder b;
    int a = b.input(s), c = b.input(s);
    int v = b.step("eltwise", sumAttrs(), {a, c});
    v = b.step("relu", reluAttrs(), {v});
    KernelDesc d = b.finish({v});
    compareFused(d, randomInputs(d), 1, Expect::OnednnFused);
  }
}

TEST(DnnlFused, EltwiseSumWithSeveralPointwiseOps) {
  FusedBuilder b;
  int a = b.input({3, 5, 7}), c = b.input({3, 5, 7});
  int v = b.step("eltwise", sumAttrs({1.0, 1.0}), {a, c});
  v = b.step("relu", reluAttrs(0.2), {v});
  v = b.step("abs_val", {}, {v});
  Attrs dropout;
  dropout.set("ratio", 0.3);
  dropout.set("train", int64_t(0));
  v = b.step("dropout", dropout, {v});
  Attrs swish;
  swish.set("beta", 1.5);
  v = b.step("swish", swish, {v});
  v = b.step("bnll", {}, {v});
  v = b.step("log", {}, {v}); // natural log: one eltwise step
  Attrs ex;
  ex.set("scale", 0.5); // exp(0.5 x): one linear step, then exp
  v = b.step("exp", ex, {v});
  v = b.step("elu", {}, {v});
  KernelDesc d = b.finish({v});
  compareFused(d, randomInputs(d), 1, Expect::OnednnFused);
}

// Regression: oneDNN 2.6 keeps one JIT post-op injector per eltwise
// algorithm, so the same algorithm twice with other parameters would run with
// the first's: plan() merges consecutive linear steps and refuses other
// repeats (composed).
TEST(DnnlFused, RepeatedPostOpAlgorithmWithOtherParameters) {
  struct Case {
    const char *name;
    std::function<int(FusedBuilder &, int)> tail;
  };
  const std::vector<Case> cases = {
      {"exp with scale and shift",
       [](FusedBuilder &b, int v) {
         Attrs a;
         a.set("scale", 0.5);
         a.set("shift", 0.25);
         return b.step("exp", a, {v});
       }},
      {"log with shift and base 2",
       [](FusedBuilder &b, int v) {
         v = b.step("abs_val", {}, {v});
         Attrs a;
         a.set("base", 2.0);
         a.set("shift", 1.0);
         return b.step("log", a, {v});
       }},
      {"power(1, 1, 0) + clip(0.5, -0.5)",
       [](FusedBuilder &b, int v) {
         v = b.step("power", powerAttrs(1, 1, 0), {v});
         return b.step("clip", clipAttrs(0.5, -0.5), {v});
       }},
      {"power(2, 0.5, 1) + power(1, -2, 0.5)",
       [](FusedBuilder &b, int v) {
         v = b.step("power", powerAttrs(2, 0.5, 1), {v});
         return b.step("power", powerAttrs(1, -2, 0.5), {v});
       }},
      {"relu(0.5) + relu(0.1)",
       [](FusedBuilder &b, int v) {
         v = b.step("relu", reluAttrs(0.5), {v});
         return b.step("relu", reluAttrs(0.1), {v});
       }},
  };
  for (bool conv : {true, false})
    for (const Case &c : cases) {
      SCOPED_TRACE(std::string(conv ? "conv + " : "sum + ") + c.name);
      FusedBuilder b;
      int v;
      if (conv) {
        int x = b.input({1, 3, 5, 5});
        int w = b.input({4, 3, 3, 3}, true);
        v = b.step("convolution", convAttrs(4, 3, 1, 1), {x, w});
      } else {
        int x = b.input({3, 5, 7}), y = b.input({3, 5, 7});
        v = b.step("eltwise", sumAttrs(), {x, y});
      }
      v = c.tail(b, v);
      KernelDesc d = b.finish({v});
      BackendContexts contexts;
      KernelChoice dn = createKernel(d, {"onednn", "ref"}, contexts);
      KernelChoice ref = createFusedKernel(d, {"ref"}, contexts);
      auto in = randomInputs(d);
      EXPECT_TRUE(closeTo(run(*dn.kernel, d, in)[0], run(*ref.kernel, d, in)[0], 27))
          << dn.kernel->implName();
    }
}

TEST(DnnlFused, EltwiseOtherThanAPlainSumIsComposed) {
  struct Case {
    const char *name;
    Attrs attrs;
    bool sameOperand;
  };
  for (const Case &c :
       {Case{"coeff", sumAttrs({1.0, -1.0}), false}, Case{"prod", sumAttrs({}, "prod"), false},
        Case{"max", sumAttrs({}, "max"), false}, Case{"x + x", sumAttrs(), true}}) {
    SCOPED_TRACE(c.name);
    FusedBuilder b;
    int a = b.input({3, 5, 7}), e = b.input({3, 5, 7});
    int v = b.step("eltwise", c.attrs, {a, c.sameOperand ? a : e});
    v = b.step("relu", reluAttrs(), {v});
    KernelDesc d = b.finish({v});
    KernelChoice k = compareFused(d, randomInputs(d), 1, Expect::Composed);
    EXPECT_NE(k.notes.find("onednn: "), std::string::npos) << k.notes;
  }
}

// ---------------------------------------------------------------------------
// Power and clip as post-ops
// ---------------------------------------------------------------------------

TEST(DnnlFused, ConvPowerClip) {
  struct Case {
    double power, scale, shift, lo, hi;
  };
  // Non-constant powers (integer exponents keep the base's sign harmless),
  // then the constant cases power * scale == 0, and clip with min > max.
  for (const Case &c :
       {Case{2, 0.5, 1, -0.5, 0.75}, Case{3, -1.5, 0.25, -1, 1}, Case{1, 2, -0.5, -0.3, 0.3},
        Case{0.5, 0.25, 2, 0, 2}, Case{0, 2, 1, -0.5, 0.75}, Case{2, 0, 0.5, -0.5, 0.75},
        Case{2, 0, -3, -10, 10}, Case{2, 1, 0, 0.5, -0.5}}) {
    SCOPED_TRACE("power " + std::to_string(c.power) + " scale " + std::to_string(c.scale) +
                 " shift " + std::to_string(c.shift) + " clip [" + std::to_string(c.lo) + ", " +
                 std::to_string(c.hi) + "]");
    FusedBuilder b;
    int x = b.input({2, 3, 6, 7});
    int w = b.input({4, 3, 3, 3}, true);
    int bias = b.input({4}, true);
    int v = b.step("convolution", convAttrs(4, 3, 1, 1), {x, w, bias});
    v = b.step("power", powerAttrs(c.power, c.scale, c.shift), {v});
    v = b.step("clip", clipAttrs(c.lo, c.hi), {v});
    KernelDesc d = b.finish({v});
    // Small inputs keep shift + scale * conv(x) positive for power 0.5.
    auto in = randomInputs(d, {{x, {-0.5f, 0.5f}}, {w, {-0.2f, 0.2f}}});
    compareFused(d, in, 27, Expect::OnednnFused);
  }
}

// ---------------------------------------------------------------------------
// Bodies the oneDNN fused kernel refuses: composed, still exact
// ---------------------------------------------------------------------------

/// conv [2,4,6,6] (4 outputs, params w, b; attributes `conv`), then the
/// steps `tail` appends to the convolution's value (returning the last):
/// the oneDNN fused kernel must refuse the body, saying `why`, and the
/// composed kernel must match the reference.
void expectComposed(const std::string &name,
                    const std::function<int(FusedBuilder &, int conv)> &tail,
                    const std::string &why, Attrs conv = convAttrs(4, 3, 1, 1)) {
  SCOPED_TRACE(name);
  FusedBuilder b;
  int x = b.input({2, 4, 6, 6});
  int w = b.input({4, 4, 3, 3}, true);
  int bias = b.input({4}, true);
  int v = b.step("convolution", conv, {x, w, bias});
  v = tail(b, v);
  KernelDesc d = b.finish({v});
  KernelChoice k = compareFused(d, randomInputs(d), 36, Expect::Composed);
  EXPECT_NE(k.notes.find("onednn: "), std::string::npos) << k.notes;
  EXPECT_NE(k.notes.find(why), std::string::npos) << k.notes;
}

TEST(DnnlFused, RefusedBodiesRunComposed) {
  expectComposed(
      "conv + threshold",
      [](FusedBuilder &b, int v) {
        Attrs t;
        t.set("threshold", 0.1);
        return b.step("threshold", t, {v});
      },
      "threshold has no oneDNN eltwise form");
  expectComposed(
      "conv + relu + threshold",
      [](FusedBuilder &b, int v) {
        v = b.step("relu", reluAttrs(), {v});
        Attrs t;
        t.set("threshold", 0.1);
        return b.step("threshold", t, {v});
      },
      "threshold");
  // Bodies with more inputs than expectComposed's (the fused inputs come
  // before the steps) use their own builders.
  {
    SCOPED_TRACE("conv + prelu");
    FusedBuilder b;
    int x = b.input({2, 4, 6, 6});
    int w = b.input({4, 4, 3, 3}, true);
    int slope = b.input({4}, true);
    int v = b.step("convolution", convAttrs(4, 3, 1, 1), {x, w});
    v = b.step("prelu", {}, {v, slope});
    KernelDesc d = b.finish({v});
    KernelChoice k = compareFused(d, randomInputs(d), 36, Expect::Composed);
    EXPECT_NE(k.notes.find("onednn: "), std::string::npos) << k.notes;
  }
  for (bool global : {false, true}) {
    // BatchNorm with batch statistics does not fold; nor a second BatchNorm
    // after a pointwise op.
    SCOPED_TRACE(global ? "conv + bn + relu + bn" : "conv + bn(batch statistics)");
    FusedBuilder b;
    int x = b.input({2, 4, 6, 6});
    int w = b.input({4, 4, 3, 3}, true);
    int mean = b.input({4}, true), var = b.input({4}, true), sf = b.input({1}, true);
    int v = b.step("convolution", convAttrs(4, 3, 1, 1), {x, w});
    v = b.step("batch_norm", bnAttrs(global), {v, mean, var, sf});
    if (global) {
      v = b.step("relu", reluAttrs(), {v});
      v = b.step("batch_norm", bnAttrs(true), {v, mean, var, sf});
    }
    KernelDesc d = b.finish({v});
    auto in = randomInputs(d, {{var, {0.5f, 2.f}}}, {{sf, {1.f}}});
    KernelChoice k = compareFused(d, in, 36 * 2, Expect::Composed);
    EXPECT_NE(k.notes.find(global ? "batch_norm" : "BatchNorm with batch statistics"),
              std::string::npos)
        << k.notes;
  }
  {
    // A Scale whose factors are another blob, not learned.
    SCOPED_TRACE("conv + scale(blob)");
    FusedBuilder b;
    int x = b.input({2, 4, 6, 6});
    int w = b.input({4, 4, 3, 3}, true);
    int gamma = b.input({4}, false);
    int v = b.step("convolution", convAttrs(4, 3, 1, 1), {x, w});
    v = b.step("scale", scaleAttrs(), {v, gamma});
    KernelDesc d = b.finish({v});
    KernelChoice k = compareFused(d, randomInputs(d), 36, Expect::Composed);
    EXPECT_NE(k.notes.find("learned per-channel Scale"), std::string::npos) << k.notes;
  }
  {
    // A convolution that asks for an algorithm.
    Attrs conv = convAttrs(4, 3, 1, 1);
    conv.set("impl", std::string("gemm"));
    expectComposed(
        "conv(impl gemm) + relu",
        [](FusedBuilder &b, int v) { return b.step("relu", reluAttrs(), {v}); },
        "asks for the 'gemm' algorithm", conv);
  }
  {
    // Deconvolution + BatchNorm does not fold.
    SCOPED_TRACE("deconv + bn");
    FusedBuilder b;
    int x = b.input({1, 4, 5, 5});
    int w = b.input({4, 3, 3, 3}, true);
    int mean = b.input({3}, true), var = b.input({3}, true), sf = b.input({1}, true);
    int v = b.step("deconvolution", convAttrs(3, 3, 2, 1), {x, w});
    v = b.step("batch_norm", bnAttrs(), {v, mean, var, sf});
    KernelDesc d = b.finish({v});
    auto in = randomInputs(d, {{var, {0.5f, 2.f}}}, {{sf, {1.f}}});
    KernelChoice k = compareFused(d, in, 36 * 2, Expect::Composed);
    EXPECT_NE(k.notes.find("deconvolution"), std::string::npos) << k.notes;
  }
  {
    // Pooling is no anchor; a sum after a pointwise op is no post-op here.
    SCOPED_TRACE("pooling + relu");
    FusedBuilder b;
    int x = b.input({2, 3, 6, 6});
    Attrs pool;
    pool.set("pool", std::string("max"));
    pool.set("kernel", std::vector<int64_t>{2, 2});
    pool.set("stride", std::vector<int64_t>{2, 2});
    int v = b.step("pooling", pool, {x});
    v = b.step("relu", reluAttrs(), {v});
    KernelDesc d = b.finish({v});
    KernelChoice k = compareFused(d, randomInputs(d), 1, Expect::Composed);
    EXPECT_NE(k.notes.find("no oneDNN fusion starts at pooling"), std::string::npos) << k.notes;
  }
  {
    SCOPED_TRACE("conv + relu + sum");
    FusedBuilder b;
    int x = b.input({2, 4, 6, 6});
    int w = b.input({4, 4, 3, 3}, true);
    int other = b.input({2, 4, 6, 6});
    int v = b.step("convolution", convAttrs(4, 3, 1, 1), {x, w});
    v = b.step("relu", reluAttrs(), {v});
    v = b.step("eltwise", sumAttrs(), {v, other});
    KernelDesc d = b.finish({v});
    compareFused(d, randomInputs(d), 36, Expect::Composed);
  }
}

TEST(DnnlFused, SeveralOutputsRunComposed) {
  // The convolution's value is both an output and read by the next step.
  FusedBuilder b;
  int x = b.input({2, 3, 6, 6});
  int w = b.input({4, 3, 3, 3}, true);
  int c = b.step("convolution", convAttrs(4, 3, 1, 1), {x, w});
  int r = b.step("relu", reluAttrs(), {c});
  int s = b.step("sigmoid", {}, {r});
  KernelDesc d = b.finish({s, c});
  BackendContexts contexts;
  auto in = randomInputs(d);
  compareFused(d, in, 27, Expect::Composed, contexts);
  KernelChoice ref = createFusedKernel(d, {"ref"}, contexts);
  EXPECT_EQ(run(*ref.kernel, d, in), runStepsByHand(d, in));
}

// Regression: results naming one value twice are refused by validation.
TEST(DnnlFused, ResultsNamingOneValueTwice) {
  FusedBuilder b;
  int x = b.input({2, 3});
  int r = b.step("relu", reluAttrs(), {x});
  int t = b.step("tanh", {}, {r});
  KernelDesc d = b.finish({t, t});
  BackendContexts contexts;
  try {
    createKernel(d, {"ref"}, contexts);
    ADD_FAILURE() << "accepted";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("outputs 0 and 1 name the same value"),
              std::string::npos)
        << e.what();
  }
}

TEST(DnnlFused, NonTwoDimensionalConvolutionsRunComposed) {
  // 3-D convolution (2 spatial axes is all the oneDNN fusion takes) and 1-D
  // deconvolution (which only the library refuses: NotApplicable from the
  // factory).
  {
    SCOPED_TRACE("3-D convolution + relu");
    FusedBuilder b;
    int x = b.input({1, 2, 4, 5, 6});
    int w = b.input({3, 2, 2, 2, 2}, true);
    Attrs a;
    a.set("num_output", int64_t(3));
    a.set("kernel", std::vector<int64_t>{2, 2, 2});
    int v = b.step("convolution", a, {x, w});
    v = b.step("relu", reluAttrs(), {v});
    KernelDesc d = b.finish({v});
    KernelChoice k = compareFused(d, randomInputs(d), 16, Expect::Composed);
    EXPECT_NE(k.notes.find("only 2-D convolutions"), std::string::npos) << k.notes;
  }
  {
    SCOPED_TRACE("1-D deconvolution + relu");
    FusedBuilder b;
    int x = b.input({2, 3, 7});
    int w = b.input({3, 2, 3}, true);
    Attrs a;
    a.set("num_output", int64_t(2));
    a.set("kernel", std::vector<int64_t>{3});
    a.set("stride", std::vector<int64_t>{2});
    int v = b.step("deconvolution", a, {x, w});
    v = b.step("relu", reluAttrs(), {v});
    KernelDesc d = b.finish({v});
    compareFused(d, randomInputs(d), 9, Expect::Composed);
  }
}

// oneDNN 2.x takes at most 32 post-ops per primitive (append_eltwise fails
// with out_of_memory beyond that, which is not dnnl_unimplemented). A long
// chain of pointwise layers must still give a kernel: composed, or fused in
// some other way, never an error.
TEST(DnnlFused, LongPointwiseChainStillRuns) {
  FusedBuilder b;
  int x = b.input({1, 3, 5, 5});
  int w = b.input({4, 3, 3, 3}, true);
  int v = b.step("convolution", convAttrs(4, 3, 1, 1), {x, w});
  for (int i = 0; i < 40; ++i)
    v = i % 2 ? b.step("tanh", {}, {v}) : b.step("relu", reluAttrs(0.5), {v});
  KernelDesc d = b.finish({v});
  auto in = randomInputs(d);
  BackendContexts contexts;
  KernelChoice k;
  try {
    k = createKernel(d, {"onednn", "ref"}, contexts);
  } catch (const Error &e) {
    FAIL() << "no kernel for a 40-layer pointwise chain: " << e.what();
  }
  KernelChoice ref = createFusedKernel(d, {"ref"}, contexts);
  EXPECT_TRUE(closeTo(run(*k.kernel, d, in)[0], run(*ref.kernel, d, in)[0], 27))
      << k.kernel->implName();
}

} // namespace

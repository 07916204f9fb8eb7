//===- GradTest.cpp - oneDNN backward kernels vs the reference ------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every oneDNN `<op>_grad` kernel is built from a forward description (the
// forward result computed by the reference forward kernel, a random incoming
// gradient) and compared with the reference `<op>_grad` kernel, for each
// `wrt` subset.
//
//===----------------------------------------------------------------------===//

#include "DnnlTestUtil.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

using namespace dlc::rt;
using namespace dlc::rt::dnnltest;

namespace {

std::mt19937 &rng() {
  static std::mt19937 r(914127u);
  return r;
}

std::vector<float> randomData(const Shape &s, float lo = -1.f, float hi = 1.f) {
  return randomValues(rng(), s, lo, hi);
}

/// Forward inputs (random, or given), y from the reference forward kernel,
/// random dy.
std::vector<std::vector<float>> gradInputs(const KernelDesc &f,
                                           std::vector<std::vector<float>> fwdIn = {}) {
  return dnnltest::gradInputs(rng(), f, std::move(fwdIn));
}

// ---------------------------------------------------------------------------
// Convolution / deconvolution
// ---------------------------------------------------------------------------
struct ConvCase {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, g;
  bool bias;
};

std::string convCaseName(const ConvCase &c) {
  std::ostringstream os;
  os << c.n << "x" << c.c << "x" << c.h << "x" << c.w << "_o" << c.o << "_k" << c.kh << "x"
     << c.kw << "_s" << c.sh << "x" << c.sw << "_p" << c.ph << "x" << c.pw << "_d" << c.dh
     << "x" << c.dw << "_g" << c.g << (c.bias ? "_bias" : "_nobias");
  return os.str();
}

KernelDesc convDesc(const ConvCase &c, const std::string &impl, bool deconv = false) {
  Attrs a;
  a.set("num_output", c.o);
  a.set("kernel", std::vector<int64_t>{c.kh, c.kw});
  a.set("stride", std::vector<int64_t>{c.sh, c.sw});
  a.set("pad", std::vector<int64_t>{c.ph, c.pw});
  a.set("dilation", std::vector<int64_t>{c.dh, c.dw});
  a.set("group", c.g);
  if (!impl.empty())
    a.set("impl", impl);
  int64_t ekh = c.dh * (c.kh - 1) + 1, ekw = c.dw * (c.kw - 1) + 1;
  int64_t oh, ow;
  Shape w;
  if (deconv) {
    oh = c.sh * (c.h - 1) + ekh - 2 * c.ph;
    ow = c.sw * (c.w - 1) + ekw - 2 * c.pw;
    w = {c.c, c.o / c.g, c.kh, c.kw};
  } else {
    oh = (c.h + 2 * c.ph - ekh) / c.sh + 1;
    ow = (c.w + 2 * c.pw - ekw) / c.sw + 1;
    w = {c.o, c.c / c.g, c.kh, c.kw};
  }
  std::vector<Shape> ins{{c.n, c.c, c.h, c.w}, w};
  std::vector<bool> isParam{false, true};
  if (c.bias) {
    ins.push_back({c.o});
    isParam.push_back(true);
  }
  return makeDesc(deconv ? "deconvolution" : "convolution", a, ins, {{c.n, c.o, oh, ow}},
                  isParam);
}

const std::vector<ConvCase> kConvCases = {
    {2, 3, 7, 13, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},    // odd spatial, 3 channels
    {1, 4, 9, 11, 6, 3, 2, 2, 1, 1, 0, 1, 1, 1, true},    // non-square kernel/stride
    {1, 3, 10, 9, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1, true},    // dilation 2
    {1, 3, 11, 12, 4, 3, 2, 2, 3, 1, 2, 3, 2, 1, false},  // mixed dilation/stride
    {2, 4, 8, 7, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2, true},     // group 2
    {1, 6, 7, 13, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6, true},    // depthwise
    {2, 8, 9, 9, 8, 5, 5, 2, 2, 2, 2, 1, 1, 8, false},    // depthwise 5x5 s2
    {3, 8, 5, 6, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1, true},     // 1x1
    {1, 3, 7, 7, 2, 1, 1, 2, 2, 0, 0, 1, 1, 1, false},    // 1x1 stride 2
    {2, 16, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, true}, // winograd-friendly
    {1, 5, 6, 6, 7, 3, 3, 1, 1, 0, 0, 1, 1, 1, false},    // no pad, odd channels
};

double convReduction(const ConvCase &c, const KernelDesc &f) {
  const Shape &y = f.outputs[0];
  // Data: C/g*kh*kw... taps per input (o/g * kh*kw); weights/bias: N*OH*OW.
  return double(std::max<int64_t>(c.o / c.g * c.kh * c.kw, y[0] * y[2] * y[3]));
}

class ConvGradTest : public ::testing::TestWithParam<std::tuple<std::string, size_t>> {};

TEST_P(ConvGradTest, MatchesReference) {
  const auto &[impl, idx] = GetParam();
  const ConvCase &c = kConvCases[idx];
  SCOPED_TRACE(convCaseName(c));
  KernelDesc f = convDesc(c, impl);
  auto in = gradInputs(f);
  std::vector<int64_t> ops = c.bias ? std::vector<int64_t>{0, 1, 2} : std::vector<int64_t>{0, 1};
  for (const auto &wrt : allSubsets(ops)) {
    // The catalog's reason when a requested direction does not apply.
    std::string why;
    if (std::find(wrt.begin(), wrt.end(), 0) != wrt.end())
      why = convWhyNot(f, impl, dlc::ops::ConvDirection::BackwardData);
    if (why.empty() && wrt.back() > 0)
      why = convWhyNot(f, impl, dlc::ops::ConvDirection::BackwardWeights);
    if (!why.empty() || impl == "onednn-winograd") {
      try {
        auto k = createDnnlKernel(gradOf(f, wrt), ctx());
        ASSERT_TRUE(why.empty()) << impl << " should have been refused: " << why;
        ASSERT_NE(k, nullptr);
        EXPECT_NE(k->implName().find("wino"), std::string::npos) << k->implName();
      } catch (const Error &e) {
        std::string msg = e.what();
        if (why.empty()) // oneDNN has no Winograd kernel on this CPU
          EXPECT_NE(msg.find("not available for layer 'convolution_test'"), std::string::npos)
              << msg;
        else
          EXPECT_NE(msg.find(why), std::string::npos) << msg;
        continue;
      }
    }
    // FFT and Winograd round more (docs/convolution.md; their own tests
    // bound them tightly).
    const bool transform = impl == "fft" || impl.rfind("winograd", 0) == 0;
    std::string name = compareGrad(f, wrt, in, convReduction(c, f) * (transform ? 100 : 1));
    if (impl == "gemm")
      EXPECT_NE(name.find("dlc:gemm"), std::string::npos) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllImpls, ConvGradTest,
    ::testing::Combine(::testing::ValuesIn(convImpls()),
                       ::testing::Range<size_t>(0, kConvCases.size())),
    [](const auto &info) {
      std::string impl = std::get<0>(info.param);
      for (char &ch : impl)
        if (ch == '-')
          ch = '_';
      return (impl.empty() ? std::string("default") : impl) + "_" +
             std::to_string(std::get<1>(info.param));
    });

TEST(DnnlConvGrad, GemmChunksOfTheBatch) {
  // gemm takes the batch a chunk of images at a time (ops::gemmPlan; the
  // sizes in ConvAlgorithmsTest): with at least as many chunks as threads,
  // the threads take chunks side by side on their own buffers, else chunk
  // after chunk on all threads. Every direction against the reference, at
  // 1, 2, 3 and 5 threads, for
  // - 7 images of 184 KiB of columns and staging: chunks of 2, 2, 2 and 1
  //   (the last writes y and reads dy in place), spread over 2 and 3 threads
  //   unevenly, one after another at 1 and 5;
  // - 7 small images in one chunk (staged; never spread);
  // - 6 images of 3.7 MiB, one to a chunk, 2 groups;
  // - unpadded, so every tap reads inside the input (im2col and col2im copy
  //   whole blocks): rows of 8 (LeNet's conv2) and 16 floats (fixed-width
  //   code), of 5 with stride 2 in height.
  const std::vector<ConvCase> cases = {
      {7, 8, 24, 24, 8, 3, 3, 1, 1, 1, 1, 1, 1, 2, true},
      {7, 4, 10, 10, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, true},
      {6, 4, 160, 160, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2, false},
      {5, 4, 12, 12, 6, 5, 5, 1, 1, 0, 0, 1, 1, 1, true},
      {3, 3, 18, 18, 5, 3, 3, 1, 1, 0, 0, 1, 1, 1, true},
      {3, 2, 11, 7, 4, 3, 3, 2, 1, 0, 0, 1, 1, 1, false},
  };
  const int saved = omp_get_max_threads();
  for (const ConvCase &c : cases)
    for (int threads : {1, 2, 3, 5}) {
      SCOPED_TRACE(convCaseName(c) + " threads " + std::to_string(threads));
      omp_set_num_threads(threads);
      KernelDesc f = convDesc(c, "gemm");
      auto in = gradInputs(f);
      compareWithRef(f, {in.begin(), in.begin() + ptrdiff_t(f.inputs.size())},
                     convReduction(c, f));
      for (const auto &wrt : allSubsets(c.bias ? std::vector<int64_t>{0, 1, 2}
                                               : std::vector<int64_t>{0, 1}))
        EXPECT_NE(compareGrad(f, wrt, in, convReduction(c, f)).find("dlc:gemm"),
                  std::string::npos);
    }
  omp_set_num_threads(saved);
}

TEST(DnnlConvGrad, ImplSelectionAndErrors) {
  ConvCase c{1, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true};
  EXPECT_THROW(createDnnlKernel(gradOf(convDesc(c, "bogus"), {0}), ctx()), Error);
  ConvCase c5{1, 3, 9, 9, 4, 5, 5, 1, 1, 2, 2, 1, 1, 1, true};
  EXPECT_THROW(createDnnlKernel(gradOf(convDesc(c5, "winograd"), {1}), ctx()), Error);

  KernelDesc g = gradOf(convDesc(c, ""), {0, 1});
  KernelDesc bad = g;
  bad.attrs.set("wrt", std::vector<int64_t>{1, 0});
  EXPECT_THROW(createDnnlKernel(bad, ctx()), Error); // not ascending
  bad = g;
  bad.attrs.set("wrt", std::vector<int64_t>{0, 3});
  bad.outputs[1] = bad.inputs[3];
  EXPECT_THROW(createDnnlKernel(bad, ctx()), Error); // not a forward operand
  bad = g;
  bad.attrs = convDesc(c, "").attrs;
  EXPECT_THROW(createDnnlKernel(bad, ctx()), Error); // no wrt
  bad = g;
  bad.outputs.pop_back();
  EXPECT_THROW(createDnnlKernel(bad, ctx()), Error); // output count
  bad = g;
  bad.outputs[1] = {4, 3, 3, 2};
  EXPECT_THROW(createDnnlKernel(bad, ctx()), Error); // output shape
  bad = g;
  bad.inputs.back() = {1, 4, 7, 6};
  EXPECT_THROW(createDnnlKernel(bad, ctx()), Error); // dy shape
  bad = g;
  bad.inputs[1] = {4, 2, 3, 3};
  bad.outputs[1] = bad.inputs[1];
  EXPECT_THROW(createDnnlKernel(bad, ctx()), Error); // forward weight shape
  try {
    createDnnlKernel(bad, ctx());
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("layer 'convolution_test' (convolution_grad)"),
              std::string::npos)
        << e.what();
  }
}

TEST(DnnlConvGrad, DataGradientHonoursParamsChanged) {
  ConvCase c{2, 16, 9, 9, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, false};
  KernelDesc f = convDesc(c, "");
  KernelDesc g = gradOf(f, {0});
  auto in = gradInputs(f);
  auto dn = createDnnlKernel(g, ctx());
  ASSERT_NE(dn, nullptr);
  auto first = run(*dn, g, in);
  in[1] = randomData(f.inputs[1]);
  dn->paramsChanged();
  auto ref = createReferenceKernel(g);
  EXPECT_TRUE(closeTo(run(*dn, g, in)[0], run(*ref, g, in)[0], 144));
}

TEST(DnnlDeconvGrad, MatchesReference) {
  const std::vector<ConvCase> cases = {
      {2, 4, 5, 6, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, true},
      {1, 6, 4, 7, 4, 4, 3, 2, 1, 1, 0, 1, 1, 2, true},
      {1, 3, 5, 5, 5, 3, 3, 1, 1, 0, 0, 2, 2, 1, false},
      {2, 8, 6, 5, 8, 3, 3, 2, 2, 1, 1, 1, 1, 8, true}, // depthwise
  };
  for (const ConvCase &c : cases) {
    SCOPED_TRACE(convCaseName(c));
    KernelDesc f = convDesc(c, "", /*deconv=*/true);
    auto in = gradInputs(f);
    std::vector<int64_t> ops =
        c.bias ? std::vector<int64_t>{0, 1, 2} : std::vector<int64_t>{0, 1};
    for (const auto &wrt : allSubsets(ops))
      compareGrad(f, wrt, in, double(numElements(f.outputs[0]) / c.o));
  }
}

// ---------------------------------------------------------------------------
// Inner product
// ---------------------------------------------------------------------------
TEST(DnnlInnerProductGrad, MatchesReference) {
  struct Case {
    Shape x;
    int64_t axis, n;
    bool transpose, bias;
  };
  const std::vector<Case> cases = {
      {{5, 13}, 1, 7, false, true},   {{3, 4, 3, 5}, 1, 9, false, true},
      {{4, 3, 7}, 2, 5, false, false}, {{2, 3, 5}, -1, 6, true, true},
      {{6, 11}, 1, 3, true, false},   {{2, 3, 4}, 0, 4, false, true},
  };
  for (const Case &c : cases) {
    int64_t rank = int64_t(c.x.size());
    int64_t axis = c.axis < 0 ? c.axis + rank : c.axis;
    int64_t K = 1, M = 1;
    for (int64_t i = 0; i < rank; ++i)
      (i < axis ? M : K) *= c.x[size_t(i)];
    Attrs a;
    a.set("num_output", c.n);
    a.set("axis", c.axis);
    a.set("transpose", int64_t(c.transpose));
    std::vector<Shape> ins{c.x, c.transpose ? Shape{K, c.n} : Shape{c.n, K}};
    if (c.bias)
      ins.push_back({c.n});
    Shape y(c.x.begin(), c.x.begin() + axis);
    y.push_back(c.n);
    std::vector<bool> isParam(ins.size(), true);
    isParam[0] = false;
    KernelDesc f = makeDesc("inner_product", a, ins, {y}, isParam);
    SCOPED_TRACE(shapeToString(c.x) + " axis " + std::to_string(c.axis) +
                 (c.transpose ? " transpose" : ""));
    auto in = gradInputs(f);
    std::vector<int64_t> ops =
        c.bias ? std::vector<int64_t>{0, 1, 2} : std::vector<int64_t>{0, 1};
    for (const auto &wrt : allSubsets(ops))
      compareGrad(f, wrt, in, double(std::max(M, c.n)));
  }
}

// ---------------------------------------------------------------------------
// Pooling and LRN
// ---------------------------------------------------------------------------
KernelDesc poolDesc(const std::string &pool, Shape x, int64_t k, int64_t s, int64_t p,
                    bool ceil, Shape y) {
  Attrs a;
  a.set("pool", pool);
  a.set("kernel", std::vector<int64_t>{k, k});
  a.set("stride", std::vector<int64_t>{s, s});
  a.set("pad", std::vector<int64_t>{p, p});
  a.set("round_mode", std::string(ceil ? "ceil" : "floor"));
  return makeDesc("pooling", a, {x}, {y});
}

TEST(DnnlPoolingGrad, MatchesReference) {
  struct Case {
    Shape x;
    int64_t k, s, p;
    bool ceil;
  };
  const std::vector<Case> cases = {
      {{2, 3, 7, 9}, 3, 2, 0, true},    // ceil overhang
      {{1, 16, 8, 8}, 2, 2, 0, true},   // exact
      {{2, 5, 6, 6}, 3, 2, 1, true},    // ceil + pad: clipped last window
      {{1, 4, 7, 7}, 3, 2, 1, false},   // floor
      {{1, 17, 13, 11}, 3, 3, 1, true}, // odd channels, overhang, pad
      {{2, 8, 5, 5}, 3, 1, 1, true},    // overlapping windows
      {{1, 3, 4, 4}, 2, 2, 1, true},    // pad 1, kernel 2: Caffe's clip drops a window
      {{2, 5, 9, 12}, 3, 3, 0, false},  // exact tiling, odd channels (one-pass backward)
  };
  for (const std::string pool : {"max", "ave"})
    for (const Case &c : cases) {
      int64_t O[2];
      for (int i = 0; i < 2; ++i) {
        int64_t H = c.x[size_t(2 + i)];
        O[i] = c.ceil ? (H + 2 * c.p - c.k + c.s - 1) / c.s + 1 : (H + 2 * c.p - c.k) / c.s + 1;
        if (c.ceil && c.p > 0 && (O[i] - 1) * c.s >= H + c.p)
          --O[i];
      }
      KernelDesc f =
          poolDesc(pool, c.x, c.k, c.s, c.p, c.ceil, {c.x[0], c.x[1], O[0], O[1]});
      SCOPED_TRACE(pool + " " + shapeToString(c.x) + " k" + std::to_string(c.k) + " s" +
                   std::to_string(c.s) + " p" + std::to_string(c.p));
      compareGrad(f, {0}, gradInputs(f), double(c.k * c.k));
    }
  // Ties (all equal, and -FLT_MAX, which never wins): the first maximum in
  // Caffe's scan order gets dy, or none does; exact tiling and overlapping.
  for (float v : {0.0f, -FLT_MAX})
    for (int64_t k : {2, 3}) {
      KernelDesc f = poolDesc("max", {1, 3, 6, 6}, k, k == 2 ? 2 : 1, 0, false,
                              {1, 3, k == 2 ? 3 : 4, k == 2 ? 3 : 4});
      SCOPED_TRACE("ties " + std::to_string(v) + " k" + std::to_string(k));
      compareGrad(f, {0}, gradInputs(f, {std::vector<float>(3 * 36, v)}), 4.0);
    }
  // Global pooling.
  for (const std::string pool : {"max", "ave"}) {
    Attrs a;
    a.set("pool", pool);
    a.set("global_pooling", int64_t(1));
    KernelDesc f = makeDesc("pooling", a, {{2, 6, 5, 7}}, {{2, 6, 1, 1}});
    compareGrad(f, {0}, gradInputs(f), 35);
  }
  // Stochastic pooling has no oneDNN backward.
  KernelDesc st = poolDesc("stochastic", {1, 2, 6, 6}, 2, 2, 0, true, {1, 2, 3, 3});
  EXPECT_EQ(createDnnlKernel(gradOf(st, {0}), ctx()), nullptr);
}

TEST(DnnlPoolingGrad, TwoByTwoTilesMatchReference) {
  // The vectorized 2x2 backward (MaxPool2x2.cpp) routes dy to the first
  // maximum in Caffe's scan order: random values, and ties among 1, 0, -0,
  // -1, -inf (all -inf: no element gets dy) in rows of 12, 15, 4 and 3
  // windows (the 8-, 4- and 1-window paths).
  const float pick[] = {1.f, 0.f, -0.f, -1.f, -INFINITY};
  for (Shape x : {Shape{2, 3, 8, 24}, Shape{1, 2, 4, 30}, Shape{2, 5, 8, 8}, Shape{1, 3, 6, 6}}) {
    KernelDesc f = poolDesc("max", x, 2, 2, 0, false, {x[0], x[1], x[2] / 2, x[3] / 2});
    SCOPED_TRACE(shapeToString(x));
    EXPECT_EQ(compareGrad(f, {0}, gradInputs(f), 4.0), "direct:max-pool-2x2-bwd");
    std::vector<float> tied(size_t(numElements(x)));
    for (float &v : tied)
      v = pick[rng()() % 5];
    EXPECT_EQ(compareGrad(f, {0}, gradInputs(f, {tied}), 4.0), "direct:max-pool-2x2-bwd");
  }
}

TEST(DnnlLrnGrad, MatchesReference) {
  struct Case {
    Shape x;
    int64_t size;
    double alpha, beta, k;
    std::string region;
  };
  const std::vector<Case> cases = {
      {{2, 7, 5, 6}, 5, 1e-1, 0.75, 1.0, "across_channels"},
      {{1, 16, 6, 6}, 5, 1e-1, 0.75, 2.0, "across_channels"},
      {{2, 3, 4, 5}, 3, 0.5, 0.6, 1.5, "across_channels"},
      {{1, 4, 7, 6}, 3, 0.3, 0.75, 1.0, "within_channel"},
  };
  for (const Case &c : cases) {
    Attrs a;
    a.set("local_size", c.size);
    a.set("alpha", c.alpha);
    a.set("beta", c.beta);
    a.set("k", c.k);
    a.set("norm_region", c.region);
    KernelDesc f = makeDesc("lrn", a, {c.x}, {c.x});
    SCOPED_TRACE(c.region + " " + shapeToString(c.x));
    compareGrad(f, {0}, gradInputs(f), double(c.size * c.size));
  }
}

// ---------------------------------------------------------------------------
// Activations, softmax
// ---------------------------------------------------------------------------
TEST(DnnlActivationGrad, MatchesReference) {
  struct Case {
    std::string op;
    std::vector<std::pair<std::string, double>> attrs;
  };
  const std::vector<Case> cases = {
      {"relu", {}},        {"relu", {{"negative_slope", 0.1}}},
      {"sigmoid", {}},     {"tanh", {}},
      {"elu", {}},         {"elu", {{"alpha", 0.5}}},
      {"elu", {{"alpha", -0.3}}}, {"abs_val", {}},
      {"bnll", {}},
  };
  Shape x{2, 5, 3, 7};
  for (const Case &c : cases) {
    Attrs a;
    for (const auto &[k, v] : c.attrs)
      a.set(k, v);
    KernelDesc f = makeDesc(c.op, a, {x}, {x});
    auto in = gradInputs(f, {randomData(x, -3.f, 3.f)});
    std::string name = compareGrad(f, {0}, in, 1);
    if (c.op == "sigmoid" || c.op == "tanh") {
      EXPECT_NE(name.find("onednn"), std::string::npos) << name;
    }
  }
}

TEST(DnnlActivationGrad, NoKernelForPowerAndUnknown) {
  Attrs a;
  a.set("power", 2.0);
  KernelDesc f = makeDesc("power", a, {{2, 3}}, {{2, 3}});
  EXPECT_EQ(createDnnlKernel(gradOf(f, {0}), ctx()), nullptr);
  EXPECT_FALSE(hasDnnlKernel("prelu_grad"));
  EXPECT_TRUE(hasDnnlKernel("convolution_grad"));
}

TEST(DnnlSoftmaxGrad, MatchesReference) {
  Shape x{3, 5, 2, 4};
  for (int64_t axis : {1, 0, 3, -1, 2}) {
    Attrs a;
    a.set("axis", axis);
    KernelDesc f = makeDesc("softmax", a, {x}, {x});
    SCOPED_TRACE("axis " + std::to_string(axis));
    compareGrad(f, {0}, gradInputs(f, {randomData(x, -3.f, 3.f)}), double(x[1]));
  }
}

// ---------------------------------------------------------------------------
// BatchNorm
// ---------------------------------------------------------------------------
TEST(DnnlBatchNormGrad, MatchesReference) {
  for (bool global : {true, false})
    for (const Shape &x : {Shape{4, 3, 5, 6}, Shape{7, 5}, Shape{2, 16, 3, 2, 2}})
      for (float sf : {1.f, 0.5f, 0.f}) {
        if (!global && sf != 1.f)
          continue; // the blobs are unused with batch statistics
        Attrs a;
        a.set("use_global_stats", int64_t(global));
        a.set("eps", 1e-3);
        int64_t C = x[1];
        KernelDesc f = makeDesc("batch_norm", a, {x, {C}, {C}, {1}}, {x},
                                {false, true, true, true});
        SCOPED_TRACE(std::string(global ? "global " : "batch ") + shapeToString(x) + " sf " +
                     std::to_string(sf));
        auto in = gradInputs(f, {randomData(x, -2.f, 3.f), randomData({C}),
                                 randomData({C}, 0.5f, 1.5f), {sf}});
        compareGrad(f, {0}, in, double(numElements(x) / C));
      }
  // The statistics blobs have no gradient: the shared validation rejects a
  // wrt that names them.
  Attrs a;
  KernelDesc f = makeDesc("batch_norm", a, {{2, 3}, {3}, {3}, {1}}, {{2, 3}});
  EXPECT_THROW(createDnnlKernel(gradOf(f, {0, 1}), ctx()), Error);
}

// ---------------------------------------------------------------------------
// Scale / bias
// ---------------------------------------------------------------------------
TEST(DnnlScaleBiasGrad, MatchesReference) {
  struct Case {
    Shape x, p;
    int64_t axis;
  };
  const std::vector<Case> cases = {
      {{2, 5, 3, 4}, {5}, 1},       {{2, 5, 3, 4}, {5, 3}, 1}, {{2, 5, 3, 4}, {4}, 3},
      {{2, 5, 3, 4}, {2, 5}, 0},   {{2, 5, 3, 4}, {}, 1},     {{6, 7}, {7}, -1},
      {{3, 64, 9, 9}, {64}, 1},
  };
  for (const Case &c : cases) {
    Attrs a;
    a.set("axis", c.axis);
    a.set("num_axes", int64_t(c.p.size()));
    SCOPED_TRACE(shapeToString(c.x) + " by " + shapeToString(c.p));
    double red = double(numElements(c.x) / std::max<int64_t>(1, numElements(c.p)));
    for (bool bias : {false, true}) {
      std::vector<Shape> ins{c.x, c.p};
      if (bias)
        ins.push_back(c.p);
      KernelDesc f = makeDesc("scale", a, ins, {c.x});
      auto in = gradInputs(f);
      for (const auto &wrt : allSubsets(bias ? std::vector<int64_t>{0, 1, 2}
                                          : std::vector<int64_t>{0, 1}))
        compareGrad(f, wrt, in, red);
    }
    KernelDesc f = makeDesc("bias", a, {c.x, c.p}, {c.x});
    auto in = gradInputs(f);
    for (const auto &wrt : allSubsets({0, 1}))
      compareGrad(f, wrt, in, red);
  }
}

// ---------------------------------------------------------------------------
// Eltwise, concat
// ---------------------------------------------------------------------------
TEST(DnnlEltwiseGrad, SumMatchesReference) {
  Shape x{2, 3, 4, 5};
  Attrs plain;
  KernelDesc f = makeDesc("eltwise", plain, {x, x, x}, {x});
  auto in = gradInputs(f);
  for (const auto &wrt : allSubsets({0, 1, 2}))
    compareGrad(f, wrt, in, 1);
  Attrs a;
  a.set("coeff", std::vector<double>{0.5, -2.0});
  f = makeDesc("eltwise", a, {x, x}, {x});
  in = gradInputs(f);
  for (const auto &wrt : allSubsets({0, 1}))
    compareGrad(f, wrt, in, 1);
}

TEST(DnnlEltwiseGrad, ProdAndMaxUseTheReference) {
  Shape x{2, 3};
  for (const std::string op : {"prod", "max"}) {
    Attrs a;
    a.set("operation", op);
    KernelDesc f = makeDesc("eltwise", a, {x, x}, {x});
    EXPECT_EQ(createDnnlKernel(gradOf(f, {0, 1}), ctx()), nullptr) << op;
  }
  Attrs a;
  a.set("coeff", std::vector<double>{1.0});
  KernelDesc f = makeDesc("eltwise", a, {x, x}, {x});
  EXPECT_THROW(createDnnlKernel(gradOf(f, {0}), ctx()), Error);
}

TEST(DnnlConcatGrad, MatchesReference) {
  {
    KernelDesc f = makeDesc("concat", Attrs(), {{2, 3, 4}, {2, 5, 4}, {2, 1, 4}}, {{2, 9, 4}});
    auto in = gradInputs(f);
    for (const auto &wrt : allSubsets({0, 1, 2}))
      compareGrad(f, wrt, in, 1);
  }
  {
    Attrs a;
    a.set("axis", int64_t(0));
    KernelDesc f = makeDesc("concat", a, {{3, 2, 5}, {1, 2, 5}}, {{4, 2, 5}});
    auto in = gradInputs(f);
    for (const auto &wrt : allSubsets({0, 1}))
      compareGrad(f, wrt, in, 1);
  }
  {
    Attrs a;
    a.set("axis", int64_t(-1));
    KernelDesc f = makeDesc("concat", a, {{2, 3, 2}, {2, 3, 7}}, {{2, 3, 9}});
    auto in = gradInputs(f);
    for (const auto &wrt : allSubsets({0, 1}))
      compareGrad(f, wrt, in, 1);
  }
}

} // namespace

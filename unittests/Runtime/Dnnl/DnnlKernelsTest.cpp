//===- DnnlKernelsTest.cpp - oneDNN kernels vs the reference kernels ------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every oneDNN kernel is run on random (fixed-seed) data and compared with
// the reference kernel of the same KernelDesc.
//
//===----------------------------------------------------------------------===//

#include "DnnlTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

using namespace dlc::rt;
using namespace dlc::rt::dnnltest;

namespace {

std::mt19937 &rng() {
  static std::mt19937 r(20240611u);
  return r;
}

std::vector<float> randomData(const Shape &s, float lo = -1.f, float hi = 1.f) {
  return randomValues(rng(), s, lo, hi);
}

std::vector<std::vector<float>> randomInputs(const KernelDesc &d) {
  std::vector<std::vector<float>> in;
  for (const Shape &s : d.inputs)
    in.push_back(randomData(s));
  return in;
}

// ---------------------------------------------------------------------------
// Convolution
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
    {2, 3, 7, 13, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},     // odd spatial, 3 channels
    {1, 4, 9, 11, 6, 3, 2, 2, 1, 1, 0, 1, 1, 1, true},     // non-square kernel/stride
    {1, 3, 10, 9, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1, true},     // dilation 2
    {1, 3, 11, 12, 4, 3, 2, 2, 3, 1, 2, 3, 2, 1, false},   // mixed dilation/stride
    {2, 4, 8, 7, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2, true},      // group 2
    {1, 6, 7, 13, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6, true},     // depthwise
    {1, 8, 9, 9, 8, 5, 5, 2, 2, 2, 2, 1, 1, 8, false},     // depthwise 5x5 s2
    {2, 8, 5, 6, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1, true},      // 1x1
    {1, 3, 7, 7, 2, 1, 1, 2, 2, 0, 0, 1, 1, 1, false},     // 1x1 stride 2
    {1, 16, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},  // winograd-friendly
    {1, 5, 6, 6, 7, 3, 3, 1, 1, 0, 0, 1, 1, 1, false},     // no pad, odd channels
};

class ConvImplTest : public ::testing::TestWithParam<std::tuple<std::string, size_t>> {};

TEST_P(ConvImplTest, MatchesReference) {
  const auto &[impl, idx] = GetParam();
  const ConvCase &c = kConvCases[idx];
  SCOPED_TRACE(convCaseName(c));
  KernelDesc d = convDesc(c, impl);
  // Where the catalog says the algorithm does not apply, the kernel must
  // refuse with that reason, naming the layer.
  const std::string why = convWhyNot(d, impl, dlc::ops::ConvDirection::Forward);
  std::unique_ptr<Kernel> dn;
  try {
    dn = createDnnlKernel(d, ctx());
  } catch (const Error &e) {
    std::string msg = e.what();
    if (impl == "onednn-winograd" && msg.find("not available") != std::string::npos)
      GTEST_SKIP() << msg;
    if (!why.empty()) {
      EXPECT_NE(msg.find(why), std::string::npos) << msg;
      EXPECT_NE(msg.find("layer 'convolution_test'"), std::string::npos) << msg;
      return;
    }
    FAIL() << "unexpected error: " << msg;
  }
  ASSERT_TRUE(why.empty()) << impl << " should have been refused: " << why;
  ASSERT_NE(dn, nullptr);
  const std::string name = dn->implName();
  if (impl == "gemm")
    EXPECT_NE(name.find("dlc:gemm"), std::string::npos) << name;
  if (impl == "onednn-winograd")
    EXPECT_NE(name.find("wino"), std::string::npos) << name;
  if (impl == "fft" || impl.rfind("winograd", 0) == 0)
    EXPECT_NE(name.find(impl.substr(0, 3)), std::string::npos) << name;
  // FFT and Winograd round more (docs/convolution.md): their own tests
  // bound them tightly; here a shared 10x looser reduction length.
  double reduction = double(c.c / c.g * c.kh * c.kw);
  if (impl == "fft" || impl.rfind("winograd", 0) == 0)
    reduction *= 100;
  compareWithRef(d, randomInputs(d), reduction);
}

INSTANTIATE_TEST_SUITE_P(
    AllImpls, ConvImplTest,
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

TEST(DnnlConv, InapplicableAlgorithmsAreRefused) {
  ConvCase c{1, 3, 9, 9, 4, 5, 5, 1, 1, 2, 2, 1, 1, 1, true};
  for (const char *impl : {"winograd", "winograd2", "onednn-winograd"}) {
    try {
      createDnnlKernel(convDesc(c, impl), ctx());
      ADD_FAILURE() << impl << ": expected an Error";
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find("does not apply to the forward convolution of "
                                           "layer 'convolution_test': the kernel is 5x5"),
                std::string::npos)
          << e.what();
    }
  }
  ConvCase s2{1, 3, 9, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, true};
  try {
    createDnnlKernel(convDesc(s2, "fft"), ctx());
    ADD_FAILURE() << "fft on stride 2: expected an Error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("fft does not apply"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("stride"), std::string::npos) << e.what();
  }
}

TEST(DnnlConv, ImplSelection) {
  ConvCase c{1, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true};
  EXPECT_THROW(createDnnlKernel(convDesc(c, "bogus"), ctx()), Error);
}

TEST(DnnlConv, InvalidDescriptions) {
  ConvCase c{1, 4, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2, true};
  KernelDesc d = convDesc(c, "");
  d.inputs[1] = {4, 4, 3, 3}; // should be 4 x 2 x 3 x 3 with group 2
  EXPECT_THROW(createDnnlKernel(d, ctx()), Error);
  d = convDesc(c, "");
  d.outputs[0] = {1, 4, 6, 7};
  EXPECT_THROW(createDnnlKernel(d, ctx()), Error);
  d = convDesc(c, "");
  d.attrs.set("group", int64_t(3)); // 4 channels not divisible by 3
  EXPECT_THROW(createDnnlKernel(d, ctx()), Error);
  d = convDesc(c, "");
  d.inputs.resize(1);
  d.isParam.resize(1);
  EXPECT_THROW(createDnnlKernel(d, ctx()), Error);
  d = convDesc(c, "");
  d.attrs.set("kernel", std::string("3"));
  try {
    createDnnlKernel(d, ctx());
    FAIL() << "expected an Error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("convolution_test"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------
// Deconvolution
// ---------------------------------------------------------------------------
TEST(DnnlDeconv, MatchesReference) {
  const std::vector<ConvCase> cases = {
      {1, 3, 5, 7, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, true},
      {2, 4, 6, 5, 6, 4, 4, 2, 2, 1, 1, 1, 1, 2, true},
      {1, 2, 5, 5, 3, 3, 3, 1, 1, 0, 0, 2, 2, 1, false},
      {1, 3, 4, 7, 5, 2, 3, 1, 2, 0, 1, 1, 1, 1, true},
      {1, 4, 5, 6, 4, 3, 3, 2, 2, 1, 1, 1, 1, 4, false}, // depthwise
  };
  for (const ConvCase &c : cases) {
    SCOPED_TRACE(convCaseName(c));
    KernelDesc d = convDesc(c, "", /*deconv=*/true);
    compareWithRef(d, randomInputs(d), double(c.c / c.g * c.kh * c.kw));
  }
}

// ---------------------------------------------------------------------------
// Inner product
// ---------------------------------------------------------------------------
KernelDesc ipDesc(const Shape &x, int64_t axis, int64_t n, bool transpose, bool bias) {
  Attrs a;
  a.set("num_output", n);
  a.set("axis", axis);
  a.set("transpose", int64_t(transpose));
  int64_t ax = axis < 0 ? axis + int64_t(x.size()) : axis;
  int64_t K = 1;
  for (size_t i = size_t(ax); i < x.size(); ++i)
    K *= x[i];
  Shape y(x.begin(), x.begin() + ax);
  y.push_back(n);
  std::vector<Shape> ins{x, transpose ? Shape{K, n} : Shape{n, K}};
  std::vector<bool> isParam{false, true};
  if (bias) {
    ins.push_back({n});
    isParam.push_back(true);
  }
  return makeDesc("inner_product", a, ins, {y}, isParam);
}

TEST(DnnlInnerProduct, MatchesReference) {
  struct C {
    Shape x;
    int64_t axis, n;
    bool transpose, bias;
  };
  const std::vector<C> cases = {
      {{2, 3, 4, 5}, 1, 7, false, true},  {{2, 3, 4, 5}, 2, 6, false, true},
      {{2, 3, 4, 5}, 2, 5, true, true},   {{3, 13}, 1, 9, true, false},
      {{2, 3, 4, 5}, -1, 3, false, false}, {{5, 7, 3}, 0, 4, false, true},
  };
  for (const C &c : cases) {
    SCOPED_TRACE(shapeToString(c.x) + " axis " + std::to_string(c.axis) +
                 (c.transpose ? " transpose" : ""));
    KernelDesc d = ipDesc(c.x, c.axis, c.n, c.transpose, c.bias);
    compareWithRef(d, randomInputs(d), double(numElements(d.inputs[1]) / c.n));
  }
}

TEST(DnnlInnerProduct, RejectsWrongWeightShape) {
  KernelDesc d = ipDesc({2, 3, 4}, 1, 5, true, false);
  d.inputs[1] = {5, 12}; // transpose wants [12, 5]
  EXPECT_THROW(createDnnlKernel(d, ctx()), Error);
}

// ---------------------------------------------------------------------------
// Param caching
// ---------------------------------------------------------------------------
void checkParamsChanged(const KernelDesc &d, size_t paramIdx) {
  auto in = randomInputs(d);
  auto dn = createDnnlKernel(d, ctx());
  ASSERT_NE(dn, nullptr);
  auto ref = createReferenceKernel(d);
  auto first = run(*dn, d, in);
  EXPECT_TRUE(closeTo(first[0], run(*ref, d, in)[0], 64));
  // New weights: after paramsChanged() the kernel must use them.
  in[paramIdx] = randomData(d.inputs[paramIdx], 0.5f, 2.f);
  dn->paramsChanged();
  auto second = run(*dn, d, in);
  auto want = run(*ref, d, in);
  EXPECT_TRUE(closeTo(second[0], want[0], 64)) << dn->implName();
  EXPECT_FALSE(closeTo(second[0], first[0], 64)) << "output did not change";
}

TEST(DnnlParams, ConvolutionHonoursParamsChanged) {
  for (std::string impl : {"auto", "direct", "gemm"}) {
    SCOPED_TRACE(impl);
    checkParamsChanged(convDesc({1, 8, 6, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, true}, impl), 1);
  }
}

TEST(DnnlParams, BlockedWeightsAreCachedUntilParamsChanged) {
  // A direct convolution with 8 channels runs on oneDNN-blocked weights: the
  // kernel keeps its reordered copy until paramsChanged().
  KernelDesc d = convDesc({1, 8, 6, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, true}, "direct");
  auto dn = createDnnlKernel(d, ctx());
  ASSERT_NE(dn, nullptr);
  if (dn->implName().find("gemm") != std::string::npos)
    GTEST_SKIP() << "implementation " << dn->implName() << " uses plain weights";
  auto in = randomInputs(d);
  auto first = run(*dn, d, in);
  auto oldIn = in;
  in[1] = randomData(d.inputs[1]);
  EXPECT_EQ(run(*dn, d, in)[0], first[0]) << "weights were not cached";
  dn->paramsChanged();
  auto ref = createReferenceKernel(d);
  EXPECT_TRUE(closeTo(run(*dn, d, in)[0], run(*ref, d, in)[0], 72));
  // A weight that is not a parameter is never cached.
  d.isParam[1] = false;
  auto uncached = createDnnlKernel(d, ctx());
  ASSERT_NE(uncached, nullptr);
  run(*uncached, d, oldIn);
  EXPECT_TRUE(closeTo(run(*uncached, d, in)[0], run(*ref, d, in)[0], 72));
}

TEST(DnnlParams, DeconvolutionHonoursParamsChanged) {
  checkParamsChanged(convDesc({1, 8, 5, 5, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, false}, "", true), 1);
}

TEST(DnnlParams, InnerProductHonoursParamsChanged) {
  checkParamsChanged(ipDesc({4, 3, 5}, 1, 6, false, true), 1);
  checkParamsChanged(ipDesc({4, 15}, 1, 6, true, true), 1);
}

TEST(DnnlParams, InnerProductWeightsChangingEveryRun) {
  // Weights that change before every run (training), then runs on unchanged
  // weights between changes: every run uses the current weights (LeNet's
  // ip1 shape, where oneDNN keeps a reordered copy).
  for (bool transpose : {false, true}) {
    SCOPED_TRACE(transpose ? "transpose" : "no transpose");
    KernelDesc d = ipDesc({64, 800}, 1, 500, transpose, true);
    auto dn = createDnnlKernel(d, ctx());
    ASSERT_NE(dn, nullptr);
    auto ref = createReferenceKernel(d);
    auto in = randomInputs(d);
    std::vector<float> last;
    for (int r = 0; r < 8; ++r) {
      const bool change = r < 5 || r == 6; // runs 5 and 7 reuse the weights
      if (r > 0 && change) {
        in[1] = randomData(d.inputs[1], -1.f, 1.f);
        dn->paramsChanged();
      }
      auto got = run(*dn, d, in);
      EXPECT_TRUE(closeTo(got[0], run(*ref, d, in)[0], 800)) << "run " << r;
      if (r > 0 && change)
        EXPECT_FALSE(closeTo(got[0], last, 800)) << "run " << r << " did not change";
      last = got[0];
    }
  }
}

TEST(DnnlParams, BatchNormHonoursParamsChanged) {
  Attrs a;
  a.set("use_global_stats", int64_t(1));
  KernelDesc d = makeDesc("batch_norm", a, {{2, 3, 4, 5}, {3}, {3}, {1}}, {{2, 3, 4, 5}},
                          {false, true, true, true});
  auto in = randomInputs(d);
  in[2] = randomData({3}, 0.5f, 2.f);
  in[3] = {2.f};
  auto dn = createDnnlKernel(d, ctx());
  auto ref = createReferenceKernel(d);
  ASSERT_NE(dn, nullptr);
  auto first = run(*dn, d, in);
  EXPECT_TRUE(closeTo(first[0], run(*ref, d, in)[0], 1));
  in[1] = randomData({3}, 1.f, 2.f);
  in[3] = {0.5f};
  dn->paramsChanged();
  auto second = run(*dn, d, in);
  EXPECT_TRUE(closeTo(second[0], run(*ref, d, in)[0], 1));
  EXPECT_FALSE(closeTo(second[0], first[0], 1));
}

// ---------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------
int64_t caffePooled(int64_t i, int64_t k, int64_t s, int64_t p, bool ceilMode) {
  int64_t o;
  if (ceilMode) {
    o = int64_t(std::ceil(double(i + 2 * p - k) / double(s))) + 1;
    if (p > 0 && (o - 1) * s >= i + p)
      --o;
  } else {
    o = (i + 2 * p - k) / s + 1;
  }
  return o;
}

KernelDesc poolDesc(const std::string &pool, const Shape &x, int64_t kh, int64_t kw,
                    int64_t sh, int64_t sw, int64_t ph, int64_t pw, bool ceilMode,
                    bool global = false) {
  Attrs a;
  a.set("pool", pool);
  a.set("round_mode", std::string(ceilMode ? "ceil" : "floor"));
  Shape y;
  if (global) {
    a.set("global_pooling", int64_t(1));
    y = {x[0], x[1], 1, 1};
  } else {
    a.set("kernel", std::vector<int64_t>{kh, kw});
    a.set("stride", std::vector<int64_t>{sh, sw});
    a.set("pad", std::vector<int64_t>{ph, pw});
    y = {x[0], x[1], caffePooled(x[2], kh, sh, ph, ceilMode),
         caffePooled(x[3], kw, sw, pw, ceilMode)};
  }
  return makeDesc("pooling", a, {x}, {y});
}

TEST(DnnlPooling, MatchesReference) {
  struct C {
    Shape x;
    int64_t kh, kw, sh, sw, ph, pw;
    bool ceil;
  };
  const std::vector<C> cases = {
      {{1, 3, 8, 8}, 3, 3, 2, 2, 0, 0, true},   // last window clipped (ceil)
      {{2, 3, 8, 9}, 3, 3, 2, 2, 1, 1, true},   // pad + ceil overhang
      {{1, 3, 7, 13}, 2, 2, 2, 2, 0, 0, true},  // odd sizes, k2 s2
      {{1, 2, 7, 13}, 3, 3, 2, 2, 1, 1, false}, // floor mode
      {{1, 2, 7, 13}, 3, 2, 3, 2, 1, 0, true},  // asymmetric
      {{2, 3, 10, 10}, 3, 3, 3, 3, 1, 1, true}, // stride = kernel with pad
      {{1, 4, 6, 6}, 5, 5, 4, 4, 2, 2, true},   // Caffe's clip of the last window
      {{1, 2, 9, 7}, 2, 3, 1, 2, 1, 1, true},
      {{1, 3, 7, 13}, 3, 3, 1, 1, 1, 1, true},  // stride 1, pad 1
  };
  for (const std::string pool : {"max", "ave"})
    for (const C &c : cases) {
      KernelDesc d = poolDesc(pool, c.x, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.ceil);
      SCOPED_TRACE(pool + " " + shapeToString(c.x) + " -> " + shapeToString(d.outputs[0]) +
                   " k" + std::to_string(c.kh) + "x" + std::to_string(c.kw) + " s" +
                   std::to_string(c.sh) + "x" + std::to_string(c.sw) + " p" +
                   std::to_string(c.ph) + "x" + std::to_string(c.pw) +
                   (c.ceil ? " ceil" : " floor"));
      compareWithRef(d, randomInputs(d), double(c.kh * c.kw));
    }
}

/// Values with many ties inside 2x2 windows: 1, 0, -0, -1 and -inf (which
/// never beats the -FLT_MAX start).
std::vector<float> tiedValues(const Shape &s, uint32_t seed) {
  const float pick[] = {1.f, 0.f, -0.f, -1.f, -INFINITY};
  std::mt19937 g(seed);
  std::vector<float> v(size_t(numElements(s)));
  for (float &x : v)
    x = pick[g() % 5];
  return v;
}

TEST(DnnlPooling, TwoByTwoTilesMatchReference) {
  // 2x2 windows of stride 2 that tile the input: the vectorized kernel
  // (MaxPool2x2.cpp), 8 and 4 windows at a time and one for the rest: rows
  // of 12 (8 + 4), 15 (8 + 4 + 1 + 1 + 1), 4 and 3 outputs.
  for (Shape x : {Shape{2, 3, 8, 24}, Shape{1, 2, 4, 30}, Shape{2, 5, 8, 8}, Shape{1, 3, 6, 6}})
    for (bool ceil : {false, true}) {
      KernelDesc d = poolDesc("max", x, 2, 2, 2, 2, 0, 0, ceil);
      SCOPED_TRACE(shapeToString(x) + (ceil ? " ceil" : " floor"));
      EXPECT_EQ(compareWithRef(d, randomInputs(d), 4), "direct:max-pool-2x2");
      EXPECT_EQ(compareWithRef(d, {tiedValues(x, 7)}, 4), "direct:max-pool-2x2");
    }
  // Not exact tiling (odd width, padding): the general kernel.
  EXPECT_EQ(compareWithRef(poolDesc("max", {1, 3, 8, 9}, 2, 2, 2, 2, 0, 0, false),
                           {tiedValues({1, 3, 8, 9}, 3)}, 4),
            "direct:max-pool");
  EXPECT_EQ(compareWithRef(poolDesc("max", {1, 3, 8, 8}, 2, 2, 2, 2, 1, 1, true),
                           {tiedValues({1, 3, 8, 8}, 3)}, 4),
            "direct:max-pool");
}

TEST(DnnlPooling, GlobalMatchesReference) {
  for (const std::string pool : {"max", "ave"}) {
    KernelDesc d = poolDesc(pool, {2, 3, 7, 13}, 0, 0, 1, 1, 0, 0, true, /*global=*/true);
    SCOPED_TRACE(pool);
    compareWithRef(d, randomInputs(d), 7 * 13);
  }
}

TEST(DnnlPooling, UnsupportedFallsBack) {
  // Stochastic pooling has no oneDNN primitive.
  EXPECT_EQ(createDnnlKernel(poolDesc("stochastic", {1, 2, 6, 6}, 2, 2, 2, 2, 0, 0, true),
                             ctx()),
            nullptr);
  // Caffe without pad, kernel < stride: the ceil-mode last window starts
  // beyond the input; oneDNN cannot express it.
  EXPECT_EQ(createDnnlKernel(poolDesc("max", {1, 2, 5, 5}, 1, 1, 3, 3, 0, 0, true), ctx()),
            nullptr);
}

TEST(DnnlPooling, RejectsWrongOutputShape) {
  KernelDesc d = poolDesc("max", {1, 3, 8, 8}, 3, 3, 2, 2, 0, 0, true);
  d.outputs[0] = {1, 3, 3, 3}; // floor-mode size, but round_mode is ceil
  EXPECT_THROW(createDnnlKernel(d, ctx()), Error);
}

// ---------------------------------------------------------------------------
// LRN
// ---------------------------------------------------------------------------
TEST(DnnlLrn, MatchesReference) {
  struct C {
    std::string region;
    int64_t size;
    double alpha, beta, k;
  };
  const std::vector<C> cases = {
      {"across_channels", 5, 1e-4, 0.75, 1.0}, {"across_channels", 3, 0.5, 0.75, 2.0},
      {"across_channels", 5, 2.0, 0.6, 1.5},   {"within_channel", 3, 0.5, 0.75, 1.0},
      {"within_channel", 5, 2.0, 0.75, 1.0},   {"within_channel", 3, 1.0, 0.5, 3.0},
  };
  // 7 channels: oneDNN's reference LRN; 16 channels: its JIT kernels.
  for (const Shape &x : std::vector<Shape>{{2, 7, 5, 6}, {1, 16, 7, 9}})
  for (const C &c : cases) {
    Attrs a;
    a.set("local_size", c.size);
    a.set("alpha", c.alpha);
    a.set("beta", c.beta);
    a.set("k", c.k);
    a.set("norm_region", c.region);
    KernelDesc d = makeDesc("lrn", a, {x}, {x});
    SCOPED_TRACE(shapeToString(x) + " " + c.region + " size " + std::to_string(c.size));
    compareWithRef(d, randomInputs(d), double(c.size * c.size));
  }
}

TEST(DnnlLrn, RejectsEvenSize) {
  Attrs a;
  a.set("local_size", int64_t(4));
  EXPECT_THROW(createDnnlKernel(makeDesc("lrn", a, {{1, 6, 4, 4}}, {{1, 6, 4, 4}}), ctx()),
               Error);
}

// ---------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------
TEST(DnnlActivation, MatchesReference) {
  const Shape x{2, 3, 7, 13};
  struct C {
    std::string op;
    Attrs attrs;
    float lo, hi;
  };
  auto attrs = [](std::initializer_list<std::pair<const char *, double>> kv) {
    Attrs a;
    for (auto &[k, v] : kv)
      a.set(k, v);
    return a;
  };
  const std::vector<C> cases = {
      {"relu", {}, -2, 2},
      {"relu", attrs({{"negative_slope", 0.1}}), -2, 2},
      {"sigmoid", {}, -8, 8},
      {"tanh", {}, -4, 4},
      {"elu", {}, -3, 3},
      {"elu", attrs({{"alpha", 0.5}}), -3, 3},
      {"abs_val", {}, -2, 2},
      {"bnll", {}, -30, 30},
      {"power", attrs({{"power", 2.0}, {"scale", 0.5}, {"shift", 1.0}}), -2, 2},
      {"power", attrs({{"power", 3.0}, {"scale", -1.5}, {"shift", 0.2}}), -1, 1},
      {"power", attrs({{"power", 0.5}, {"scale", 1.0}, {"shift", 2.0}}), -1, 1},
      {"power", attrs({{"power", -1.0}, {"scale", 2.0}, {"shift", 3.0}}), -1, 1},
      {"power", attrs({{"power", 1.0}, {"scale", 2.0}, {"shift", -1.0}}), -1, 1},
      {"power", attrs({{"power", 2.5}}), 0, 2},
      {"power", attrs({{"power", 0.0}, {"scale", 2.0}}), -1, 1},
      {"power", attrs({{"power", 2.0}, {"scale", 0.0}, {"shift", 3.0}}), -1, 1},
  };
  for (const C &c : cases) {
    KernelDesc d = makeDesc(c.op, c.attrs, {x}, {x});
    std::ostringstream name;
    name << c.op;
    for (const auto &[k, v] : c.attrs.all())
      name << " " << k << "=" << std::get<double>(v);
    SCOPED_TRACE(name.str());
    compareWithRef(d, {randomData(x, c.lo, c.hi)}, 1);
  }
}

TEST(DnnlActivation, UnknownOpHasNoKernel) {
  EXPECT_FALSE(hasDnnlKernel("threshold"));
  EXPECT_TRUE(hasDnnlKernel("lstm"));
  EXPECT_TRUE(hasDnnlKernel("convolution"));
  EXPECT_TRUE(hasDnnlKernel("bnll"));
  EXPECT_EQ(createDnnlKernel(makeDesc("crop", {}, {{1, 2}, {1, 1}}, {{1, 1}}), ctx()), nullptr);
}

// ---------------------------------------------------------------------------
// Softmax, batch norm, scale, bias
// ---------------------------------------------------------------------------
TEST(DnnlSoftmax, MatchesReference) {
  struct C {
    Shape x;
    int64_t axis;
  };
  for (const C &c : std::vector<C>{{{2, 5, 3, 4}, 1}, {{2, 5, 3, 4}, -1}, {{3, 7}, 0},
                                   {{4, 3, 6}, 2}, {{2, 10}, 1}}) {
    Attrs a;
    a.set("axis", c.axis);
    KernelDesc d = makeDesc("softmax", a, {c.x}, {c.x});
    SCOPED_TRACE(shapeToString(c.x) + " axis " + std::to_string(c.axis));
    compareWithRef(d, {randomData(c.x, -5, 5)}, 10);
  }
}

TEST(DnnlBatchNorm, MatchesReference) {
  for (const Shape &x : std::vector<Shape>{{2, 3, 4, 5}, {4, 6}, {2, 3, 2, 3, 2}}) {
    for (float sf : {2.5f, 1.f, 0.f}) {
      for (bool global : {true, false}) {
        Attrs a;
        a.set("use_global_stats", int64_t(global));
        a.set("eps", 1e-3);
        int64_t c = x[1];
        KernelDesc d = makeDesc("batch_norm", a, {x, {c}, {c}, {1}}, {x},
                                {false, true, true, true});
        auto in = randomInputs(d);
        in[2] = randomData({c}, 0.1f, 2.f);
        in[3] = {sf};
        SCOPED_TRACE(shapeToString(x) + " factor " + std::to_string(sf) +
                     (global ? " global" : " batch"));
        compareWithRef(d, in, global ? 1 : double(numElements(x) / c));
      }
    }
  }
}

TEST(DnnlScaleBias, MatchesReference) {
  struct C {
    std::string op;
    Shape x, p;
    int64_t axis, numAxes;
    bool bias, param;
  };
  const std::vector<C> cases = {
      {"scale", {2, 3, 4, 5}, {3}, 1, 1, false, true},
      {"scale", {2, 3, 4, 5}, {3}, 1, 1, true, true},
      {"scale", {2, 3, 4, 5}, {3, 4}, 1, 2, true, true},
      {"scale", {2, 3, 4, 5}, {4, 5}, -2, -1, false, true},
      {"scale", {2, 3, 4, 5}, {}, 1, 0, true, true},
      {"scale", {2, 3, 4, 5}, {1}, 1, 0, true, true}, // learned scalar stored as [1]
      {"scale", {2, 3, 4, 5}, {2, 3}, 0, 2, false, false}, // second bottom
      {"bias", {2, 3, 4, 5}, {3}, 1, 1, false, true},
      {"bias", {2, 7, 3}, {3}, 2, 1, false, false},
  };
  for (const C &c : cases) {
    Attrs a;
    a.set("axis", c.axis);
    a.set("num_axes", c.numAxes);
    std::vector<Shape> ins{c.x, c.p};
    std::vector<bool> isParam{false, c.param};
    if (c.bias) {
      ins.push_back(c.p);
      isParam.push_back(true);
    }
    KernelDesc d = makeDesc(c.op, a, ins, {c.x}, isParam);
    SCOPED_TRACE(c.op + " " + shapeToString(c.x) + " by " + shapeToString(c.p) + " axis " +
                 std::to_string(c.axis) + (c.bias ? " +bias" : ""));
    compareWithRef(d, randomInputs(d), 1);
  }
}

// ---------------------------------------------------------------------------
// Eltwise, concat
// ---------------------------------------------------------------------------
TEST(DnnlEltwise, MatchesReference) {
  const Shape x{2, 3, 5, 7};
  struct C {
    std::string op;
    std::vector<double> coeff;
    size_t n;
  };
  for (const C &c : std::vector<C>{{"sum", {}, 2},
                                   {"sum", {0.5, -2.0, 1.5}, 3},
                                   {"prod", {}, 3},
                                   {"prod", {}, 2},
                                   {"max", {}, 2},
                                   {"max", {}, 4}}) {
    Attrs a;
    a.set("operation", c.op);
    if (!c.coeff.empty())
      a.set("coeff", c.coeff);
    KernelDesc d = makeDesc("eltwise", a, std::vector<Shape>(c.n, x), {x});
    SCOPED_TRACE(c.op + " x" + std::to_string(c.n));
    compareWithRef(d, randomInputs(d), double(c.n));
  }
}

TEST(DnnlEltwise, RejectsCoeffCountMismatch) {
  Attrs a;
  a.set("coeff", std::vector<double>{1.0, 2.0, 3.0});
  EXPECT_THROW(createDnnlKernel(makeDesc("eltwise", a, {{2, 3}, {2, 3}}, {{2, 3}}), ctx()),
               Error);
}

TEST(DnnlConcat, MatchesReference) {
  struct C {
    std::vector<Shape> ins;
    int64_t axis;
    Shape out;
  };
  for (const C &c :
       std::vector<C>{{{{2, 3, 4, 5}, {2, 1, 4, 5}, {2, 4, 4, 5}}, 1, {2, 8, 4, 5}},
                      {{{1, 3, 5}, {2, 3, 5}}, 0, {3, 3, 5}},
                      {{{2, 3, 4}, {2, 3, 7}}, -1, {2, 3, 11}},
                      {{{3, 7}}, 1, {3, 7}}}) {
    Attrs a;
    a.set("axis", c.axis);
    KernelDesc d = makeDesc("concat", a, c.ins, {c.out});
    SCOPED_TRACE(shapeToString(c.out) + " axis " + std::to_string(c.axis));
    compareWithRef(d, randomInputs(d), 1);
  }
}

TEST(DnnlConcat, RejectsMismatchedShapes) {
  Attrs a;
  a.set("axis", int64_t(1));
  EXPECT_THROW(
      createDnnlKernel(makeDesc("concat", a, {{2, 3, 4}, {3, 3, 4}}, {{2, 6, 4}}), ctx()),
      Error);
}

// ---------------------------------------------------------------------------
// Valid descriptions oneDNN cannot run: the registry passes over the oneDNN
// kernel with its reason and falls back to the reference.
// ---------------------------------------------------------------------------
/// The oneDNN backward kernel's whyNot for the (valid) description `g`.
std::string gradWhyNot(const KernelDesc &g) {
  validateKernelDesc(g);
  const KernelFactory *k =
      KernelRegistry::instance().find("onednn", g.forwardOp(), KernelKind::Backward);
  EXPECT_NE(k, nullptr) << g.op;
  return k && k->whyNot ? k->whyNot(g) : "";
}

TEST(DnnlFallback, DeclinedConfigurationsSayWhy) {
  KernelDesc st = poolDesc("stochastic", {1, 2, 6, 6}, 2, 2, 2, 2, 0, 0, true);
  EXPECT_NE(fallbackNotes(st).find("onednn: stochastic pooling has no oneDNN primitive"),
            std::string::npos);
  // (The reference has no stochastic backward either: ask the factory.)
  EXPECT_NE(gradWhyNot(gradOf(st)).find("stochastic pooling"), std::string::npos);
  KernelDesc beyond = poolDesc("max", {1, 2, 5, 5}, 1, 1, 3, 3, 0, 0, true);
  EXPECT_NE(fallbackNotes(beyond).find("starts beyond the input"), std::string::npos);
  EXPECT_NE(fallbackNotes(gradOf(beyond)).find("starts beyond the input"), std::string::npos);
  KernelDesc empty = makeDesc("relu", {}, {{0, 3}}, {{0, 3}});
  EXPECT_NE(fallbackNotes(empty).find("input 0 (0x3) has no elements"), std::string::npos);
  EXPECT_NE(fallbackNotes(gradOf(empty)).find("has no elements"), std::string::npos);
  Attrs prod;
  prod.set("operation", std::string("prod"));
  KernelDesc g = gradOf(makeDesc("eltwise", prod, {{2, 3}, {2, 3}}, {{2, 3}}));
  EXPECT_NE(fallbackNotes(g).find("eltwise prod has no oneDNN backward kernel"),
            std::string::npos);
  Attrs power;
  power.set("power", 2.0);
  EXPECT_NE(fallbackNotes(gradOf(makeDesc("power", power, {{2, 3}}, {{2, 3}})))
                .find("onednn: no kernel for power_grad"),
            std::string::npos);
}

} // namespace

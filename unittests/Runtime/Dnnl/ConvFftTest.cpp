//===- ConvFftTest.cpp - dlc's FFT convolution vs the reference -----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The "fft" convolution kernels (lib/Runtime/Dnnl/ConvFft.cpp) in all three
// directions against the reference kernels (float64 inside): fixed corner
// cases (odd sizes, 1x1 to 11x11 kernels, pads 0-2, groups, bias or not, an
// image large enough to be tiled) and randomized shapes; the plan's
// refusals; the weight-transform cache.
//
// Error measure: max |fft - ref| / max |ref| per output tensor (the
// catalog's definition of an algorithm's tolerance). A float32 FFT
// convolution's error is relative to the magnitude of the whole transform,
// not of each output: each transform adds ~eps * log2(n) of the signal's
// norm (eps = 6e-8, n <= 64 x 64 here: ~1e-6 for the three transforms),
// and the per-frequency sums over C (forward), K (backward data) or the
// images x tiles (backward weights) add ~eps * sqrt(terms). With unit-scale
// random data the measured maximum is a few 1e-6 (printed after the tests);
// the catalog's 1e-4 leaves a ~20x margin for larger channel counts and
// transforms, and is still 100x below what a wrong tap, tile offset or
// conjugate produces (errors of order 1).
//
//===----------------------------------------------------------------------===//

#include "DnnlTestUtil.h"

#include "dlc/Ops/ConvAlgorithms.h"
#include "dlc/Ops/Layout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <iostream>
#include <random>
#include <cstdlib>
#include <sstream>

using namespace dlc::rt;
using namespace dlc::rt::dnnltest;

namespace {

std::mt19937 &rng() {
  static std::mt19937 r(20240611u);
  return r;
}

struct FftCase {
  int64_t n, c, h, w, o, kh, kw, ph, pw, g;
  bool bias;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
};

std::string caseName(const FftCase &c) {
  std::ostringstream os;
  os << c.n << "x" << c.c << "x" << c.h << "x" << c.w << "_o" << c.o << "_k" << c.kh << "x"
     << c.kw << "_p" << c.ph << "x" << c.pw << "_g" << c.g << (c.bias ? "_bias" : "_nobias");
  return os.str();
}

KernelDesc fftDesc(const FftCase &c, bool weightsAreParams = true) {
  Attrs a;
  a.set("num_output", c.o);
  a.set("kernel", std::vector<int64_t>{c.kh, c.kw});
  a.set("stride", std::vector<int64_t>{c.sh, c.sw});
  a.set("pad", std::vector<int64_t>{c.ph, c.pw});
  a.set("dilation", std::vector<int64_t>{c.dh, c.dw});
  a.set("group", c.g);
  a.set("impl", std::string("fft"));
  const int64_t oh = (c.h + 2 * c.ph - (c.dh * (c.kh - 1) + 1)) / c.sh + 1;
  const int64_t ow = (c.w + 2 * c.pw - (c.dw * (c.kw - 1) + 1)) / c.sw + 1;
  std::vector<Shape> ins{{c.n, c.c, c.h, c.w}, {c.o, c.c / c.g, c.kh, c.kw}};
  std::vector<bool> isParam{false, weightsAreParams};
  if (c.bias) {
    ins.push_back({c.o});
    isParam.push_back(weightsAreParams);
  }
  return makeDesc("convolution", a, ins, {{c.n, c.o, oh, ow}}, isParam);
}

/// The catalog's tolerance of "fft" (max |error| / max |output|).
double tolerance() {
  const dlc::ops::ConvAlgorithmInfo *a = dlc::ops::findConvAlgorithm("fft");
  return a ? a->tolerance : 0.0;
}

/// The largest error seen per direction (forward, data, weights, bias),
/// printed after the last test for the record.
double kMeasured[4] = {0, 0, 0, 0};

/// Runs kernel `k` of `d` twice (the second run reuses the cached weight
/// transform) and the reference once; checks each output. `slot[i]`: the
/// kMeasured entry of output i.
void compare(Kernel &k, const KernelDesc &d, const std::vector<std::vector<float>> &in,
             const std::vector<int> &slot) {
  auto ref = createReferenceKernel(d);
  auto want = run(*ref, d, in);
  auto got = run(k, d, in);
  ASSERT_EQ(got.size(), slot.size());
  for (size_t i = 0; i < got.size(); ++i) {
    double e = relError(got[i], want[i]);
    kMeasured[slot[i]] = std::max(kMeasured[slot[i]], e);
    EXPECT_LE(e, tolerance()) << d.op << " [" << k.implName() << "] output " << i;
  }
  EXPECT_EQ(run(k, d, in), got) << d.op << ": second run differs";
}

/// The kernel of `d` (an FFT one unless only the bias gradient is wanted,
/// which is a plain reduction).
std::unique_ptr<Kernel> create(const KernelDesc &d, bool fft = true) {
  std::unique_ptr<Kernel> k;
  try {
    k = createDnnlKernel(d, ctx());
  } catch (const Error &e) {
    ADD_FAILURE() << "unexpected error: " << e.what();
    return nullptr;
  }
  if (!k)
    ADD_FAILURE() << "no kernel for " << d.op;
  else if (fft)
    EXPECT_NE(k->implName().find("dlc:fft"), std::string::npos) << k->implName();
  else
    EXPECT_NE(k->implName().find("bias:"), std::string::npos) << k->implName();
  return k;
}

/// Forward, then every backward combination of the case; returns the
/// forward kernel's implementation name.
std::string checkCase(const FftCase &c) {
  SCOPED_TRACE(caseName(c));
  KernelDesc f = fftDesc(c);
  std::vector<std::vector<float>> fin;
  for (const Shape &s : f.inputs)
    fin.push_back(randomValues(rng(), s));
  auto fk = create(f);
  if (!fk)
    return "";
  compare(*fk, f, fin, {0});

  auto gin = gradInputs(rng(), f, fin);
  std::vector<std::vector<int64_t>> wrts{{0}, {1}, {0, 1}};
  if (c.bias)
    wrts.insert(wrts.end(), {{2}, {1, 2}, {0, 1, 2}});
  for (const auto &wrt : wrts) {
    KernelDesc g = gradOf(f, wrt);
    std::ostringstream w;
    for (int64_t i : wrt)
      w << i << " ";
    SCOPED_TRACE("wrt [ " + w.str() + "]");
    auto gk = create(g, wrt != std::vector<int64_t>{2});
    if (!gk)
      continue;
    std::vector<int> slots;
    for (int64_t i : wrt)
      slots.push_back(1 + int(i));
    compare(*gk, g, gin, slots);
  }
  return fk->implName();
}

const std::vector<FftCase> kCases = {
    {2, 3, 7, 13, 5, 3, 3, 1, 1, 1, true},      // odd sizes, 3 channels
    {1, 5, 9, 11, 17, 5, 5, 2, 2, 1, false},    // 5x5, pad 2, 17 outputs
    {3, 17, 12, 10, 5, 1, 1, 0, 0, 1, true},    // 1x1, 17 channels
    {1, 3, 23, 19, 4, 11, 11, 2, 2, 1, true},   // 11x11
    {2, 4, 8, 9, 6, 3, 3, 0, 0, 2, true},       // group 2, no pad
    {2, 6, 7, 7, 6, 3, 3, 1, 1, 6, false},      // depthwise
    {1, 3, 5, 7, 2, 5, 3, 2, 1, 1, true},       // non-square kernel and pad
    {1, 3, 5, 5, 4, 5, 5, 0, 0, 1, true},       // kernel = image: 1x1 output
    {4, 16, 15, 15, 16, 5, 5, 2, 2, 2, true},   // AlexNet-conv2-like, small
    {1, 2, 4, 6, 3, 3, 3, 2, 2, 1, false},      // pad 2 > half the kernel
};

class ConvFftTest : public ::testing::TestWithParam<size_t> {};

TEST_P(ConvFftTest, MatchesReference) { checkCase(kCases[GetParam()]); }

INSTANTIATE_TEST_SUITE_P(Cases, ConvFftTest, ::testing::Range<size_t>(0, kCases.size()));

TEST(ConvFft, RandomShapes) {
  std::mt19937 &r = rng();
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(r);
  };
  for (int i = 0; i < 12; ++i) {
    FftCase c{};
    c.n = pick(1, 3);
    c.g = pick(1, 3);
    c.c = c.g * pick(1, 5);
    c.o = c.g * pick(1, 6);
    c.kh = pick(1, 7);
    c.kw = pick(1, 7);
    c.ph = pick(0, std::min<int64_t>(2, c.kh));
    c.pw = pick(0, std::min<int64_t>(2, c.kw));
    c.h = pick(std::max<int64_t>(1, c.kh - 2 * c.ph), 24);
    c.w = pick(std::max<int64_t>(1, c.kw - 2 * c.pw), 24);
    c.bias = pick(0, 1) == 1;
    checkCase(c);
  }
}

TEST(ConvFft, LargeImageIsTiled) {
  // One transform over 150x140 would be 150x144 (too large for the cost
  // model's choice); overlap-save tiles it in every direction.
  FftCase c{2, 5, 150, 140, 7, 3, 3, 1, 1, 1, true};
  std::string impl = checkCase(c);
  EXPECT_NE(impl.find("tiles"), std::string::npos) << impl;
  auto gk = createDnnlKernel(gradOf(fftDesc(c), {0, 1}), ctx());
  ASSERT_NE(gk, nullptr);
  const std::string g = gk->implName();
  EXPECT_NE(g.find("data:dlc:fft"), std::string::npos) << g;
  EXPECT_NE(g.find("weights:dlc:fft"), std::string::npos) << g;
  const size_t split = g.find(" weights:");
  ASSERT_NE(split, std::string::npos) << g;
  EXPECT_NE(g.substr(0, split).find("tiles"), std::string::npos) << g;
  EXPECT_NE(g.substr(split).find("tiles"), std::string::npos) << g;
}

TEST(ConvFft, LargeKernelTiled) {
  // An 11x11 kernel over a larger image: tiles whose windows overlap by 10.
  checkCase({1, 3, 70, 66, 5, 11, 11, 2, 2, 1, true});
}

TEST(ConvFft, LargeTransformsUseKissfft) {
  // A 65x65 kernel needs transforms above 64, which are kissfft's (smaller
  // ones are DFT matrix products).
  std::string impl = checkCase({1, 2, 66, 67, 3, 65, 65, 0, 1, 1, true});
  EXPECT_NE(impl.find("kissfft"), std::string::npos) << impl;
}

TEST(ConvFft, RefusesWhatItCannotCompute) {
  auto expectRefused = [](const KernelDesc &d, const std::string &why) {
    try {
      auto k = createDnnlKernel(d, ctx());
      ADD_FAILURE() << d.op << ": expected an error, got "
                    << (k ? k->implName() : std::string("no kernel"));
    } catch (const Error &e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("'convolution_test'"), std::string::npos) << msg;
      EXPECT_NE(msg.find(why), std::string::npos) << msg;
    }
  };
  FftCase strided{1, 3, 9, 9, 4, 3, 3, 1, 1, 1, true};
  strided.sh = strided.sw = 2;
  expectRefused(fftDesc(strided), "stride is 2x2");
  expectRefused(gradOf(fftDesc(strided), {0}), "stride is 2x2");
  expectRefused(gradOf(fftDesc(strided), {1, 2}), "stride is 2x2");
  FftCase dilated{1, 3, 9, 9, 4, 3, 3, 2, 2, 1, false};
  dilated.dh = dilated.dw = 2;
  expectRefused(fftDesc(dilated), "dilated");
  expectRefused(gradOf(fftDesc(dilated), {0, 1}), "dilated");
}

TEST(ConvFft, WeightTransformCachedUntilParamsChanged) {
  FftCase c{2, 4, 9, 8, 6, 3, 3, 1, 1, 1, true};
  for (bool backward : {false, true}) {
    SCOPED_TRACE(backward ? "backward data" : "forward");
    KernelDesc f = fftDesc(c);
    KernelDesc d = backward ? gradOf(f, {0}) : f;
    auto in = backward ? gradInputs(rng(), f) : std::vector<std::vector<float>>{};
    if (!backward)
      for (const Shape &s : f.inputs)
        in.push_back(randomValues(rng(), s));
    auto k = create(d);
    ASSERT_NE(k, nullptr);
    auto ref = createReferenceKernel(d);
    auto first = run(*k, d, in);
    auto in2 = in;
    in2[1] = randomValues(rng(), f.inputs[1]);
    // Parameters unchanged as far as the kernel knows: the cached transform
    // of the old weights is used.
    EXPECT_LE(relError(run(*k, d, in2)[0], run(*ref, d, in)[0]), tolerance());
    k->paramsChanged();
    EXPECT_LE(relError(run(*k, d, in2)[0], run(*ref, d, in2)[0]), tolerance());
    // Weights that are not parameters are transformed on every run.
    KernelDesc fv = fftDesc(c, /*weightsAreParams=*/false);
    KernelDesc dv = backward ? gradOf(fv, {0}) : fv;
    auto kv = create(dv);
    ASSERT_NE(kv, nullptr);
    run(*kv, dv, in);
    EXPECT_LE(relError(run(*kv, dv, in2)[0], run(*ref, d, in2)[0]), tolerance());
  }
}

std::vector<float> blocked(const std::vector<float> &plain, const Shape &s, int block) {
  if (!block)
    return plain;
  std::vector<float> v(plain.size());
  dlc::ops::toBlocked(s, block, plain.data(), v.data());
  return v;
}
std::vector<float> plainOf(const std::vector<float> &v, const Shape &s, int block) {
  if (!block)
    return v;
  std::vector<float> p(v.size());
  dlc::ops::toPlain(s, block, v.data(), p.data());
  return p;
}

/// Runs `d` with the activation layouts inBlocks / outBlocks on the plain
/// values `in` (converted) against the reference on the plain ones.
void checkBlocked(const KernelDesc &d, const std::vector<std::vector<float>> &in,
                  std::vector<int> inBlocks, std::vector<int> outBlocks) {
  auto ref = createReferenceKernel(d);
  auto want = run(*ref, d, in);
  KernelDesc b = d;
  b.inBlocks = std::move(inBlocks);
  b.outBlocks = std::move(outBlocks);
  std::vector<std::vector<float>> bin;
  for (size_t i = 0; i < in.size(); ++i)
    bin.push_back(blocked(in[i], d.inputs[i], b.inBlock(i)));
  auto k = create(b);
  if (!k)
    return;
  auto got = run(*k, b, bin);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_LE(relError(plainOf(got[i], d.outputs[i], b.outBlock(i)), want[i]), tolerance())
        << d.op << " [" << k->implName() << "] output " << i;
  EXPECT_EQ(run(*k, b, bin), got) << "second run differs";
}

// Channel-blocked activations: x, y, dy, dx in nChw8c / nChw16c, read and
// written by the transforms directly (a plain 3-channel input with a
// blocked output, groups whose channels straddle blocks, blocks of 8 and
// 16, different blocks for x and y).
TEST(ConvFftBlocked, AllDirections) {
  struct B {
    FftCase c;
    int xb, yb;
  };
  const std::vector<B> cases = {
      {{2, 16, 9, 11, 16, 5, 5, 2, 2, 1, true}, 16, 16},
      {{1, 24, 7, 8, 8, 3, 3, 1, 1, 1, false}, 8, 8},
      {{1, 3, 10, 9, 16, 5, 5, 2, 2, 1, true}, 0, 16},
      {{1, 32, 6, 7, 16, 3, 3, 1, 1, 2, true}, 16, 8},
      {{2, 48, 9, 9, 32, 5, 5, 2, 2, 4, true}, 16, 16}, // 12 channels per group
      {{1, 24, 8, 8, 24, 3, 3, 0, 0, 2, false}, 8, 0},  // 12 per group, 8-blocks
  };
  for (const B &b : cases) {
    SCOPED_TRACE(caseName(b.c) + " blocks " + std::to_string(b.xb) + "/" + std::to_string(b.yb));
    KernelDesc f = fftDesc(b.c);
    std::vector<std::vector<float>> in;
    for (const Shape &s : f.inputs)
      in.push_back(randomValues(rng(), s));
    std::vector<int> fin(f.inputs.size(), 0);
    fin[0] = b.xb;
    checkBlocked(f, in, fin, {b.yb});
    auto gin = gradInputs(rng(), f);
    for (const auto &wrt : std::vector<std::vector<int64_t>>{
             {0}, {1}, b.c.bias ? std::vector<int64_t>{0, 1, 2} : std::vector<int64_t>{0, 1}}) {
      KernelDesc g = gradOf(f, wrt);
      std::vector<int> gb(g.inputs.size(), 0);
      gb[0] = b.xb;
      gb[g.inputs.size() - 2] = b.yb; // y
      gb[g.inputs.size() - 1] = b.yb; // dy
      std::vector<int> ob(g.outputs.size(), 0);
      if (wrt[0] == 0)
        ob[0] = b.xb; // dx in x's layout; dW, db plain
      checkBlocked(g, gin, gb, ob);
    }
  }
}

// The batched GEMM on several chunks of the images x tiles (the last one
// shorter; backward weights accumulates over them), with the chunk bound
// lowered so that a small case needs them; and the workspace bounded in N.
TEST(ConvFft, ChunksOfTheBatch) {
  ::setenv("DLC_FFT_CHUNK_BYTES", "120000", 1);
  FftCase c{5, 16, 12, 12, 16, 5, 5, 2, 2, 2, true};
  const std::string impl = checkCase(c);
  EXPECT_NE(impl.find("chunks"), std::string::npos) << impl;
  auto gk = createDnnlKernel(gradOf(fftDesc(c), {0, 1}), ctx());
  ASSERT_NE(gk, nullptr);
  EXPECT_NE(gk->implName().find("chunks"), std::string::npos) << gk->implName();
  ::unsetenv("DLC_FFT_CHUNK_BYTES");
  // AlexNet conv2 at N = 64 and 1024: the workspace grows by far less than
  // the batch.
  for (dlc::ops::ConvDirection d : dlc::ops::kConvDirections) {
    int64_t ws[2];
    for (int i = 0; i < 2; ++i) {
      dlc::ops::ConvProblem p;
      p.direction = d;
      dlc::ops::ConvGeometry &g = p.geometry;
      g.batch = i ? 1024 : 64;
      g.channels = 96, g.numOutput = 256, g.group = 2;
      g.input = {27, 27}, g.output = {27, 27}, g.kernel = {5, 5}, g.stride = {1, 1};
      g.pad = {2, 2}, g.dilation = {1, 1};
      dlc::ops::FftPlan plan = dlc::ops::fftPlan(p);
      ASSERT_TRUE(plan.whyNot.empty()) << plan.whyNot;
      ws[i] = plan.work.workspaceBytes;
    }
    EXPECT_LT(ws[1], 2 * ws[0]) << dlc::ops::convDirectionName(d) << ": " << ws[0] << " "
                                << ws[1];
  }
}

/// Times "fft" against oneDNN's "direct" on nChw16c activations (plain
/// where C is not a multiple of 16) at the threads OpenMP has, on AlexNet's
/// conv2, GoogLeNet's 5x5 layers, LeNet's conv2 and a 7x7 layer, in the
/// three directions: the kernels run interleaved, median of 9. Not a check:
/// run with --gtest_also_run_disabled_tests --gtest_filter='*Timing*'.
/// DLC_FFT_SIZES="32x32,18x18" adds fft with those transform sizes forced
/// (DLC_FFT_FORCE, read by the plan); DLC_FFT_LAYERS="alexnet,lenet"
/// selects layers.
TEST(ConvFft, DISABLED_Timing) {
  struct L {
    const char *name;
    FftCase c;
  };
  const std::vector<L> layers = {
      {"alexnet-conv2", {16, 96, 27, 27, 256, 5, 5, 2, 2, 2, true}},
      {"inception-3b-5x5", {16, 32, 28, 28, 96, 5, 5, 2, 2, 1, true}},
      {"inception-4a-5x5", {16, 16, 14, 14, 48, 5, 5, 2, 2, 1, true}},
      {"lenet-conv2", {64, 20, 12, 12, 50, 5, 5, 0, 0, 1, true}},
      {"7x7-28x28", {16, 64, 28, 28, 64, 7, 7, 3, 3, 1, true}},
  };
  const char *only = std::getenv("DLC_FFT_LAYERS");
  std::vector<std::string> forced;
  if (const char *e = std::getenv("DLC_FFT_SIZES")) {
    std::stringstream ss(e);
    for (std::string t; std::getline(ss, t, ',');)
      forced.push_back(t);
  }
  for (const L &l : layers) {
    if (only && std::string(only).find(std::string(l.name).substr(0, 5)) == std::string::npos)
      continue;
    const FftCase &c = l.c;
    for (const auto &wrt : std::vector<std::vector<int64_t>>{{}, {0}, {1}}) {
      struct K {
        std::string label;
        std::unique_ptr<Kernel> k;
        std::vector<std::vector<float>> in, out;
        std::vector<double> ms;
      };
      std::vector<K> ks;
      std::vector<std::pair<std::string, std::string>> variants{{"direct", ""}, {"fft", ""}};
      for (const std::string &f : forced)
        variants.push_back({"fft", f});
      for (const auto &[impl, force] : variants) {
        KernelDesc f = fftDesc(c);
        f.attrs.set("impl", impl);
        KernelDesc d = wrt.empty() ? f : gradOf(f, wrt);
        const int xb = c.c % 16 ? 0 : 16, yb = c.o % 16 ? 0 : 16;
        d.inBlocks.assign(d.inputs.size(), 0);
        d.inBlocks[0] = xb;
        if (wrt.empty()) {
          d.outBlocks = {yb};
        } else {
          d.inBlocks[d.inputs.size() - 2] = d.inBlocks[d.inputs.size() - 1] = yb;
          d.outBlocks.assign(d.outputs.size(), 0);
          if (wrt[0] == 0)
            d.outBlocks[0] = xb;
        }
        if (!force.empty())
          ::setenv("DLC_FFT_FORCE", force.c_str(), 1);
        K k;
        k.k = createDnnlKernel(d, ctx());
        ::unsetenv("DLC_FFT_FORCE");
        k.label = impl + (force.empty() ? "" : " " + force);
        if (impl == "fft") { // the plan's estimate at the default rates
          dlc::ops::ConvProblem p;
          p.direction = wrt.empty()    ? dlc::ops::ConvDirection::Forward
                        : wrt[0] == 0 ? dlc::ops::ConvDirection::BackwardData
                                      : dlc::ops::ConvDirection::BackwardWeights;
          dlc::ops::ConvGeometry &g = p.geometry;
          g.batch = c.n, g.channels = c.c, g.numOutput = c.o, g.group = c.g;
          g.input = {c.h, c.w}, g.output = {f.outputs[0][2], f.outputs[0][3]};
          g.kernel = {c.kh, c.kw}, g.stride = {1, 1}, g.pad = {c.ph, c.pw}, g.dilation = {1, 1};
          if (!force.empty())
            ::setenv("DLC_FFT_FORCE", force.c_str(), 1);
          const dlc::ops::ConvWork w = dlc::ops::fftPlan(p).work;
          ::unsetenv("DLC_FFT_FORCE");
          std::ostringstream os;
          os << " (model " << 1e3 * dlc::ops::estimateSeconds(w, dlc::ops::MachineRates{})
             << " ms: gemm " << w.gemmFlops * 1e-9 << " GF min " << w.gemmMinDim << ", other "
             << w.otherFlops * 1e-9 << " GF, " << w.bytes * 1e-6 << " MB, " << w.gemmCalls
             << " calls)";
          k.label += os.str();
        }
        for (const Shape &sh : d.inputs)
          k.in.push_back(randomValues(rng(), sh));
        for (const Shape &sh : d.outputs)
          k.out.emplace_back(size_t(numElements(sh)));
        ks.push_back(std::move(k));
      }
      auto once = [](K &k) {
        std::vector<const float *> ip;
        for (const auto &v : k.in)
          ip.push_back(v.data());
        std::vector<float *> op;
        for (auto &v : k.out)
          op.push_back(v.data());
        auto t0 = std::chrono::steady_clock::now();
        k.k->forward(ip.data(), op.data());
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
            .count();
      };
      for (K &k : ks)
        once(k); // warm up (and the weight transform)
      for (int i = 0; i < 9; ++i)
        for (K &k : ks)
          k.ms.push_back(once(k));
      for (K &k : ks) {
        std::sort(k.ms.begin(), k.ms.end());
        std::cout << "  " << l.name << " "
                  << (wrt.empty() ? "fwd" : wrt[0] == 0 ? "bwd-data" : "bwd-weights") << " "
                  << k.label << ": " << k.ms[k.ms.size() / 2] << " ms (min " << k.ms[0]
                  << ") [" << k.k->implName() << "]\n";
      }
    }
  }
}

/// Prints the largest errors of the tests above after the last test (for
/// docs/convolution.md); reports nothing when no FFT test ran.
class ReportMeasuredErrors : public ::testing::Environment {
public:
  void TearDown() override {
    if (kMeasured[0] > 0 || kMeasured[1] > 0 || kMeasured[2] > 0)
      std::cout << "[ fft max rel error ] forward " << kMeasured[0] << ", backward data "
                << kMeasured[1] << ", backward weights " << kMeasured[2] << ", bias "
                << kMeasured[3] << " (tolerance " << tolerance() << ")\n";
  }
};
[[maybe_unused]] ::testing::Environment *const kReport =
    ::testing::AddGlobalTestEnvironment(new ReportMeasuredErrors);

} // namespace

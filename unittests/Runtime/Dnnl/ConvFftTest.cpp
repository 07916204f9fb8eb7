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

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <iostream>
#include <random>
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

/// max |got - ref| / max |ref|; infinity when got has a NaN (the outputs
/// start as NaN: an element never written shows here).
double relError(const std::vector<float> &got, const std::vector<float> &ref) {
  double err = 0, mag = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(got[i]))
      return INFINITY;
    err = std::max(err, std::fabs(double(got[i]) - double(ref[i])));
    mag = std::max(mag, std::fabs(double(ref[i])));
  }
  return err / std::max(mag, 1e-30);
}

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

/// Times "fft" against oneDNN's "direct" on AlexNet's conv2 (N = 16, C = 96
/// in 2 groups, K = 256, 27x27, 5x5, pad 2) in the three directions. Not a
/// check: run with --gtest_also_run_disabled_tests --gtest_filter='*Timing*'.
TEST(ConvFft, DISABLED_TimingAlexNetConv2) {
  FftCase c{16, 96, 27, 27, 256, 5, 5, 2, 2, 2, true};
  auto time = [&](const std::string &impl, const std::vector<int64_t> &wrt) {
    KernelDesc f = fftDesc(c);
    f.attrs.set("impl", impl);
    KernelDesc d = wrt.empty() ? f : gradOf(f, wrt);
    std::vector<std::vector<float>> in;
    for (const Shape &s : d.inputs)
      in.push_back(randomValues(rng(), s));
    auto k = createDnnlKernel(d, ctx());
    std::vector<const float *> ip;
    for (const auto &v : in)
      ip.push_back(v.data());
    std::vector<std::vector<float>> outs;
    std::vector<float *> op;
    for (const Shape &s : d.outputs)
      outs.emplace_back(size_t(numElements(s)));
    for (auto &v : outs)
      op.push_back(v.data());
    k->forward(ip.data(), op.data()); // warm up (and the weight transform)
    // The best of several runs, wall and process CPU time (the machine may
    // be shared; run with OMP_WAIT_POLICY=passive so that idle threads do
    // not count).
    double ms = 1e30, cpu = 1e30;
    for (int i = 0; i < 7; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      std::clock_t c0 = std::clock();
      k->forward(ip.data(), op.data());
      cpu = std::min(cpu, 1e3 * double(std::clock() - c0) / CLOCKS_PER_SEC);
      ms = std::min(ms, std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - t0)
                            .count());
    }
    std::cout << "  " << (wrt.empty() ? "forward" : wrt[0] == 0 ? "backward data" : "backward weights")
              << " " << impl << ": " << ms << " ms (cpu " << cpu << " ms) [" << k->implName() << "]\n";
  };
  for (const auto &wrt : std::vector<std::vector<int64_t>>{{}, {0}, {1}})
    for (const char *impl : {"direct", "fft"})
      time(impl, wrt);
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

//===- ConvWinogradTest.cpp - dlc's Winograd convolution vs the reference -===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The kernels of lib/Runtime/Dnnl/ConvWinograd.cpp ("winograd2" =
// F(2x2,3x3), "winograd4" = F(4x4,3x3); F(3x3,m x m) for the weight
// gradient) in the three directions against the reference backend (float64),
// on odd sizes, paddings 0-2, batches 1 and 2, odd channel counts, groups,
// with and without bias, plain and channel-blocked; the weight cache; the
// refusal of shapes the plan does not cover; the plan itself.
//
//===----------------------------------------------------------------------===//

#include "DnnlTestUtil.h"

#include "dlc/Ops/ConvAlgorithms.h"
#include "dlc/Ops/Layout.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>

namespace dlc::rt::dnnltest {
namespace {

std::mt19937 &rng() {
  static std::mt19937 g(20240611);
  return g;
}

/// A 3x3, stride 1 convolution (other kernels / strides for refusals).
struct WCase {
  int64_t n, c, h, w, o, pad, g;
  bool bias;
  int64_t k = 3, stride = 1, dilation = 1;
};

std::string caseName(const WCase &c) {
  std::ostringstream os;
  os << c.n << "x" << c.c << "x" << c.h << "x" << c.w << "_o" << c.o << "_p" << c.pad << "_g"
     << c.g << (c.bias ? "_bias" : "");
  return os.str();
}

KernelDesc wDesc(const WCase &c, const std::string &impl) {
  Attrs a;
  a.set("num_output", c.o);
  a.set("kernel", std::vector<int64_t>{c.k, c.k});
  a.set("stride", std::vector<int64_t>{c.stride, c.stride});
  a.set("pad", std::vector<int64_t>{c.pad, c.pad});
  a.set("dilation", std::vector<int64_t>{c.dilation, c.dilation});
  a.set("group", c.g);
  a.set("impl", impl);
  const int64_t ek = c.dilation * (c.k - 1) + 1;
  const int64_t oh = (c.h + 2 * c.pad - ek) / c.stride + 1;
  const int64_t ow = (c.w + 2 * c.pad - ek) / c.stride + 1;
  std::vector<Shape> ins{{c.n, c.c, c.h, c.w}, {c.o, c.c / c.g, c.k, c.k}};
  std::vector<bool> isParam{false, true};
  if (c.bias) {
    ins.push_back({c.o});
    isParam.push_back(true);
  }
  return makeDesc("convolution", a, ins, {{c.n, c.o, oh, ow}}, isParam);
}

// Tolerances on max|got - ref| / max|ref| (the error relative to the
// output's magnitude), against float64. A float32 dot product of length L
// (L = C/G * 9 forward, K/G * 9 backward data, N*OH*OW backward weights) has
// an error of about eps * sqrt(L) of its magnitude, eps = 6e-8. Winograd
// multiplies it by the conditioning of its transforms: F(2x2,3x3)'s matrices
// have entries 0, +-1, 1/2 (measured: at most 0.75 * eps * sqrt(L) on these
// shapes); F(4x4,3x3) (and F(3x3,4x4) for the weight gradient) use the
// points +-2: B^T entries reach 5, A^T entries 8, G has 1/24, and the
// measured errors reach 10 * eps * sqrt(L), one decimal digit more (two
// with unlucky data). The bounds, 8 (m = 2) and 100 (m = 4) times
// eps * sqrt(L), leave a 10x margin and stay far below the O(1) error of a
// wrong transform, tile offset or channel index (WinogradTolerance checks
// that a 1e-3 error in one element fails them).
double tolerance(int m, double reduction) {
  const double eps = 6e-8, kappa = m == 2 ? 8 : 100;
  return eps * std::sqrt(std::max(reduction, 9.0)) * kappa;
}

/// The largest error seen per "winogradM direction", printed at exit.
std::map<std::string, double> &measured() {
  static std::map<std::string, double> m;
  static struct Printer {
    ~Printer() {
      for (const auto &[k, v] : measured())
        std::cout << "[winograd max rel error] " << k << ": " << v << "\n";
    }
  } printer;
  return m;
}
void note(const std::string &key, double err) {
  double &e = measured()[key];
  e = std::max(e, err);
}

std::vector<float> blocked(const std::vector<float> &plain, const Shape &s, int block) {
  if (!block)
    return plain;
  std::vector<float> v(plain.size());
  ops::toBlocked(s, block, plain.data(), v.data());
  return v;
}
std::vector<float> plainOf(const std::vector<float> &v, const Shape &s, int block) {
  if (!block)
    return v;
  std::vector<float> p(v.size());
  ops::toPlain(s, block, v.data(), p.data());
  return p;
}

/// Runs the Winograd kernel of `d` (with the given activation layouts) and
/// the reference (plain) on the plain values `in`; expects each output
/// within tolerance(m, reductions[i]) and a second run to give the same.
/// Returns the errors.
std::vector<double> check(const KernelDesc &d, const std::vector<std::vector<float>> &in,
                          int m, const std::vector<double> &reductions,
                          const std::vector<std::string> &keys, std::vector<int> inBlocks = {},
                          std::vector<int> outBlocks = {}) {
  auto ref = createReferenceKernel(d);
  auto want = run(*ref, d, in);
  KernelDesc b = d;
  b.inBlocks = std::move(inBlocks);
  b.outBlocks = std::move(outBlocks);
  std::vector<std::vector<float>> bin;
  for (size_t i = 0; i < in.size(); ++i)
    bin.push_back(blocked(in[i], d.inputs[i], b.inBlock(i)));
  std::unique_ptr<Kernel> k;
  try {
    k = createDnnlKernel(b, ctx());
  } catch (const Error &e) {
    ADD_FAILURE() << "unexpected error: " << e.what();
    return {};
  }
  if (!k) {
    ADD_FAILURE() << "no kernel for " << d.op;
    return {};
  }
  const std::string variant = m == 2 ? "F(2x2,3x3)" : "F(4x4,3x3)";
  const std::string wvariant = m == 2 ? "F(3x3,2x2)" : "F(3x3,4x4)";
  EXPECT_NE(k->implName().find("dlc:winograd"), std::string::npos) << k->implName();
  EXPECT_TRUE(k->implName().find(variant) != std::string::npos ||
              k->implName().find(wvariant) != std::string::npos ||
              k->implName().find("bias") != std::string::npos)
      << k->implName();
  auto got = run(*k, b, bin);
  std::vector<double> errs;
  for (size_t i = 0; i < want.size(); ++i) {
    auto g = plainOf(got[i], d.outputs[i], b.outBlock(i));
    const double err = relError(g, want[i]), tol = tolerance(m, reductions[i]);
    EXPECT_LE(err, tol) << d.op << " [" << k->implName() << "] output " << i << " (" << keys[i]
                        << ")";
    note("winograd" + std::to_string(m) + " " + keys[i], err);
    note("winograd" + std::to_string(m) + " " + keys[i] + " / (eps sqrt L)",
         err / (6e-8 * std::sqrt(std::max(reductions[i], 9.0))));
    errs.push_back(err);
  }
  EXPECT_EQ(run(*k, b, bin), got) << "second run differs";
  return errs;
}

const std::vector<WCase> kCases = {
    {1, 3, 7, 9, 5, 1, 1, true},     // odd sizes, 3 channels
    {2, 5, 13, 13, 17, 0, 1, false}, // no padding, batch 2
    {2, 17, 9, 7, 1, 2, 1, true},    // pad 2, one output channel
    {1, 16, 12, 12, 16, 1, 1, true}, // whole tiles, one channel block
    {2, 6, 11, 10, 4, 1, 2, true},   // group 2
    {1, 20, 6, 5, 33, 1, 1, false},  // image smaller than two tiles, 3 channel blocks
};

class WinogradTest : public ::testing::TestWithParam<std::tuple<int, size_t>> {};

TEST_P(WinogradTest, Forward) {
  const auto &[m, idx] = GetParam();
  const WCase &c = kCases[idx];
  SCOPED_TRACE(caseName(c));
  KernelDesc d = wDesc(c, "winograd" + std::to_string(m));
  std::vector<std::vector<float>> in;
  for (const Shape &s : d.inputs)
    in.push_back(randomValues(rng(), s));
  check(d, in, m, {double(c.c / c.g * 9)}, {"forward"});
}

TEST_P(WinogradTest, Backward) {
  const auto &[m, idx] = GetParam();
  const WCase &c = kCases[idx];
  SCOPED_TRACE(caseName(c));
  KernelDesc f = wDesc(c, "winograd" + std::to_string(m));
  auto in = gradInputs(rng(), f);
  const double dataL = double(c.o / c.g * 9);
  const double wL = double(c.n * f.outputs[0][2] * f.outputs[0][3]);
  std::vector<std::vector<int64_t>> wrts = {{0}, {1}, {0, 1}};
  if (c.bias)
    wrts.insert(wrts.end(), {{2}, {1, 2}, {0, 1, 2}});
  for (const auto &wrt : wrts) {
    std::vector<double> red;
    std::vector<std::string> keys;
    for (int64_t i : wrt) {
      red.push_back(i == 0 ? dataL : wL);
      keys.push_back(i == 0 ? "backward-data" : i == 1 ? "backward-weights" : "bias");
    }
    SCOPED_TRACE("wrt " + std::to_string(wrt.size()) + " operands, first " +
                 std::to_string(wrt[0]));
    check(gradOf(f, wrt), in, m, red, keys);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, WinogradTest,
                         ::testing::Combine(::testing::Values(2, 4),
                                            ::testing::Range<size_t>(0, kCases.size())),
                         [](const auto &info) {
                           return "winograd" + std::to_string(std::get<0>(info.param)) + "_" +
                                  std::to_string(std::get<1>(info.param));
                         });

// Channel-blocked activations: x, y, dy, dx in nChw8c / nChw16c, read and
// written by the transforms directly (including an 8-block with 16-lane
// transforms, a plain 3-channel input with a blocked output, and groups
// whose channels straddle blocks).
TEST(WinogradBlocked, AllDirections) {
  struct B {
    WCase c;
    int xb, yb;
  };
  const std::vector<B> cases = {
      {{2, 16, 9, 11, 16, 1, 1, true}, 16, 16},
      {{1, 24, 7, 8, 8, 1, 1, false}, 8, 8},
      {{1, 3, 10, 9, 16, 1, 1, true}, 0, 16},
      {{1, 32, 6, 7, 16, 2, 2, true}, 16, 8},
      {{1, 48, 9, 9, 16, 1, 2, false}, 16, 8},
  };
  for (int m : {2, 4})
    for (const B &b : cases) {
      SCOPED_TRACE(caseName(b.c) + " m " + std::to_string(m) + " blocks " +
                   std::to_string(b.xb) + "/" + std::to_string(b.yb));
      KernelDesc f = wDesc(b.c, "winograd" + std::to_string(m));
      std::vector<std::vector<float>> in;
      for (const Shape &s : f.inputs)
        in.push_back(randomValues(rng(), s));
      std::vector<int> fin(f.inputs.size(), 0);
      fin[0] = b.xb;
      check(f, in, m, {double(b.c.c / b.c.g * 9)}, {"forward (blocked)"}, fin, {b.yb});
      auto gin = gradInputs(rng(), f);
      KernelDesc g = gradOf(f, b.c.bias ? std::vector<int64_t>{0, 1, 2}
                                        : std::vector<int64_t>{0, 1});
      std::vector<int> gb(g.inputs.size(), 0);
      gb[0] = b.xb;
      gb[g.inputs.size() - 2] = b.yb; // y
      gb[g.inputs.size() - 1] = b.yb; // dy
      std::vector<int> ob(g.outputs.size(), 0);
      ob[0] = b.xb; // dx in x's layout; dW, db plain
      const double wL = double(b.c.n * f.outputs[0][2] * f.outputs[0][3]);
      std::vector<double> red{double(b.c.o / b.c.g * 9), wL, wL};
      std::vector<std::string> keys{"backward-data (blocked)", "backward-weights (blocked)",
                                    "bias"};
      red.resize(g.outputs.size());
      keys.resize(g.outputs.size());
      check(g, gin, m, red, keys, gb, ob);
    }
}

// Many channels: several tile batches per run, the last one shorter (the
// second GEMM primitive), in all three directions.
TEST(WinogradBatches, SeveralTileBatches) {
  for (int m : {2, 4}) {
    WCase c{2, 160, 28, 28, 160, 1, 1, true};
    KernelDesc f = wDesc(c, "winograd" + std::to_string(m));
    ops::ConvProblem p;
    p.layer = "convolution_test";
    ASSERT_FALSE(ops::convGeometry(attrsOf<ops::ConvolutionAttrs>(f), f.inputs[0], p.geometry)
                     .failed());
    for (ops::ConvDirection dir : ops::kConvDirections) {
      p.direction = dir;
      ops::WinogradPlan plan = ops::winogradPlan(p, m);
      const int64_t tiles = c.n * plan.tilesH * plan.tilesW;
      EXPECT_GT(tiles, plan.tileBatch) << ops::convDirectionName(dir);
      EXPECT_NE(tiles % plan.tileBatch, 0) << ops::convDirectionName(dir);
    }
    std::vector<std::vector<float>> in;
    for (const Shape &s : f.inputs)
      in.push_back(randomValues(rng(), s));
    check(f, in, m, {double(c.c * 9)}, {"forward"});
    auto gin = gradInputs(rng(), f);
    const double wL = double(c.n * 28 * 28);
    check(gradOf(f, {0, 1, 2}), gin, m, {double(c.o * 9), wL, wL},
          {"backward-data", "backward-weights", "bias"});
  }
}

// The transformed weights are cached while they are parameters, and
// refreshed by paramsChanged(); non-parameter weights are re-read each run.
TEST(WinogradParams, CacheAndParamsChanged) {
  WCase c{1, 5, 8, 8, 6, 1, 1, false};
  for (bool param : {true, false}) {
    KernelDesc f = wDesc(c, "winograd4");
    f.isParam[1] = param;
    std::vector<std::vector<float>> in{randomValues(rng(), f.inputs[0]),
                                       randomValues(rng(), f.inputs[1])};
    auto k = createDnnlKernel(f, ctx());
    ASSERT_NE(k, nullptr);
    auto ref = createReferenceKernel(f);
    auto first = run(*k, f, in);
    auto in2 = in;
    for (float &v : in2[1])
      v = -2 * v;
    auto want2 = run(*ref, f, in2);
    auto second = run(*k, f, in2);
    if (param) {
      EXPECT_EQ(second, first) << "cached weights not kept";
      k->paramsChanged();
      EXPECT_LE(relError(run(*k, f, in2)[0], want2[0]), tolerance(4, 45));
    } else {
      EXPECT_LE(relError(second[0], want2[0]), tolerance(4, 45));
    }
    // Backward data caches the rotated weights the same way.
    KernelDesc g = gradOf(f, {0});
    auto gin = gradInputs(rng(), f, in);
    auto kg = createDnnlKernel(g, ctx());
    ASSERT_NE(kg, nullptr);
    auto refg = createReferenceKernel(g);
    auto d1 = run(*kg, g, gin);
    auto gin2 = gin;
    gin2[1] = in2[1];
    auto wantd2 = run(*refg, g, gin2);
    auto d2 = run(*kg, g, gin2);
    if (param) {
      EXPECT_EQ(d2, d1);
      kg->paramsChanged();
      d2 = run(*kg, g, gin2);
    }
    EXPECT_LE(relError(d2[0], wantd2[0]), tolerance(4, 54));
  }
}

/// Expects creating `d`'s kernel to throw an Error naming the layer and
/// containing `what`.
void expectRefused(const KernelDesc &d, const std::string &what) {
  try {
    createDnnlKernel(d, ctx());
    ADD_FAILURE() << "expected an Error for " << d.op;
  } catch (const Error &e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("convolution_test"), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

TEST(WinogradRefuses, InapplicableShapes) {
  for (const char *impl : {"winograd2", "winograd4"}) {
    WCase s2{1, 3, 9, 9, 4, 1, 1, true, 3, 2};
    expectRefused(wDesc(s2, impl), "stride");
    expectRefused(gradOf(wDesc(s2, impl), {0, 1}), "stride");
    WCase k5{1, 3, 9, 9, 4, 2, 1, true, 5};
    expectRefused(wDesc(k5, impl), "5x5");
    expectRefused(gradOf(wDesc(k5, impl), {1}), "5x5");
    WCase dil{1, 3, 9, 9, 4, 2, 1, false, 3, 1, 2};
    expectRefused(wDesc(dil, impl), "dilat");
  }
}

TEST(WinogradPlan, WhyNotAndWork) {
  ops::ConvProblem p;
  ops::ConvGeometry &g = p.geometry;
  g.batch = 2, g.channels = 6, g.numOutput = 8, g.group = 2;
  g.kernel = {3, 3}, g.stride = {1, 1}, g.pad = {1, 1}, g.dilation = {1, 1};
  g.input = {13, 13}, g.output = {13, 13};
  ops::WinogradPlan w = ops::winogradPlan(p, 4);
  EXPECT_EQ(w.whyNot, "");
  EXPECT_EQ(w.alpha, 6);
  EXPECT_EQ(w.tilesH, 4);
  EXPECT_EQ(w.tilesW, 4);
  EXPECT_EQ(w.tileBatch, 32); // all 2 * 16 tiles in one batch
  // Channels padded to 16 in the transform domain (3 -> 16, 4 -> 16).
  EXPECT_DOUBLE_EQ(w.work.gemmFlops, 2.0 * 36 * 32 * 16 * 16 * 2);
  // U, V and M: 36 * 2 groups * (16 * 16 + 32 * (16 + 16)) floats.
  EXPECT_EQ(w.work.workspaceBytes, 4 * 36 * 2 * (16 * 16 + 32 * 32));
  p.direction = ops::ConvDirection::BackwardWeights;
  w = ops::winogradPlan(p, 2);
  EXPECT_EQ(w.whyNot, "");
  EXPECT_EQ(w.tilesH, 7);
  g.kernel = {5, 5};
  EXPECT_EQ(ops::winogradPlan(p, 4).whyNot, "the kernel is 5x5, Winograd F(4x4,3x3) needs 3x3");
  g.kernel = {3, 3}, g.stride = {2, 2};
  EXPECT_EQ(ops::winogradPlan(p, 2).whyNot, "the stride is 2 (Winograd needs 1)");
  g.stride = {1, 1}, g.dilation = {2, 2};
  EXPECT_NE(ops::winogradPlan(p, 2).whyNot.find("dilated"), std::string::npos);
  g.dilation = {1, 1};
  g.deconv = true;
  EXPECT_NE(ops::winogradPlan(p, 2).whyNot.find("deconvolution"), std::string::npos);
  g.deconv = false;
  EXPECT_NE(ops::winogradPlan(p, 3).whyNot, "");
}

// The comparison itself fails on a wrong result: one element off by 1e-3 of
// the output's magnitude exceeds even F(4x4,3x3)'s bound for C = 64.
TEST(WinogradTolerance, DetectsSmallErrors) {
  std::vector<float> ref(100), got;
  for (size_t i = 0; i < ref.size(); ++i)
    ref[i] = std::sin(float(i));
  got = ref;
  got[37] += 1e-3f;
  EXPECT_GT(relError(got, ref), tolerance(4, 64 * 9));
  EXPECT_GT(relError(got, ref), tolerance(2, 64 * 9) * 10);
}

// Timings, not tests: run with --gtest_also_run_disabled_tests and
// OMP_NUM_THREADS. The 3x3 stride-1 layers of ResNet-50 (N=16), ResNet-56
// (N=128), AlexNet (N=16) and a VGG-like layer, each direction, activations
// in nChw16c (the compiler's layout) or plain (DLC_WINO_BENCH_PLAIN=1),
// oneDNN's direct convolution against dlc's Winograd, interleaved (direct,
// winograd2, winograd4, direct, ...) so that a busy machine hurts all
// alike; medians. DLC_WINO_BENCH_LAYERS=a,b selects layers by name.
struct BenchLayer {
  const char *name;
  WCase c;
};
double medianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(WinogradBench, DISABLED_Layers) {
  const std::vector<BenchLayer> layers = {
      {"r50-64x56", {16, 64, 56, 56, 64, 1, 1, true}},
      {"r50-128x28", {16, 128, 28, 28, 128, 1, 1, true}},
      {"r50-256x14", {16, 256, 14, 14, 256, 1, 1, true}},
      {"r50-512x7", {16, 512, 7, 7, 512, 1, 1, true}},
      {"r56-16x32", {128, 16, 32, 32, 16, 1, 1, true}},
      {"r56-32x16", {128, 32, 16, 16, 32, 1, 1, true}},
      {"r56-64x8", {128, 64, 8, 8, 64, 1, 1, true}},
      {"alex-conv3", {16, 256, 13, 13, 384, 1, 1, true}},
      {"alex-conv4", {16, 384, 13, 13, 384, 1, 2, true}},
      {"alex-conv5", {16, 384, 13, 13, 256, 1, 2, true}},
      {"vgg-128x56", {16, 128, 56, 56, 128, 1, 1, true}},
  };
  const char *sel = std::getenv("DLC_WINO_BENCH_LAYERS");
  const char *plainEnv = std::getenv("DLC_WINO_BENCH_PLAIN");
  const int blk = plainEnv && *plainEnv == '1' ? 0 : 16;
  std::vector<const char *> impls = {"direct", "winograd2", "winograd4"};
  if (const char *only = std::getenv("DLC_WINO_BENCH_IMPL"))
    impls = {only};
  const char *dirEnv = std::getenv("DLC_WINO_BENCH_DIR");
  const char *threads = std::getenv("OMP_NUM_THREADS");
  std::cout << "layout " << (blk ? "nChw16c" : "plain") << ", OMP_NUM_THREADS "
            << (threads ? threads : "unset") << "\n";
  for (const BenchLayer &l : layers) {
    if (sel && std::string(",") .append(sel).append(",").find(std::string(",") + l.name + ",") ==
                   std::string::npos)
      continue;
    const WCase &c = l.c;
    KernelDesc f0 = wDesc(c, "direct");
    std::vector<std::vector<float>> in;
    for (const Shape &s : f0.inputs)
      in.push_back(randomValues(rng(), s));
    in.push_back(randomValues(rng(), f0.outputs[0])); // y
    in.push_back(randomValues(rng(), f0.outputs[0])); // dy
    const double flops = 2.0 * c.n * c.o * (c.c / c.g) * 9 * f0.outputs[0][2] * f0.outputs[0][3];
    for (int dir = 0; dir < 3; ++dir) {
      if (dirEnv && std::atoi(dirEnv) != dir)
        continue;
      std::vector<std::unique_ptr<Kernel>> ks;
      std::vector<std::vector<const float *>> ips;
      std::vector<std::vector<std::vector<float>>> outs;
      std::vector<std::vector<float *>> ops;
      for (const char *impl : impls) {
        KernelDesc f = wDesc(c, impl);
        KernelDesc d = dir == 0 ? f : gradOf(f, {dir == 1 ? 0 : 1});
        if (blk) {
          d.inBlocks.assign(d.inputs.size(), 0);
          d.outBlocks.assign(d.outputs.size(), 0);
          d.inBlocks[0] = blk;
          if (dir == 0) {
            d.outBlocks[0] = blk;
          } else {
            d.inBlocks[d.inputs.size() - 1] = blk; // dy
            d.inBlocks[d.inputs.size() - 2] = blk; // y
            if (dir == 1)
              d.outBlocks[0] = blk; // dx
          }
        }
        ks.push_back(createDnnlKernel(d, ctx()));
        ASSERT_NE(ks.back(), nullptr);
        ips.emplace_back();
        for (size_t i = 0; i < d.inputs.size(); ++i)
          ips.back().push_back(in[i].data()); // x, w, b, then y, dy
        outs.emplace_back();
        ops.emplace_back();
        for (const Shape &s : d.outputs)
          outs.back().emplace_back(size_t(numElements(s)));
        for (auto &o : outs.back())
          ops.back().push_back(o.data());
        ks.back()->forward(ips.back().data(), ops.back().data());
      }
      std::vector<std::vector<double>> ms(ks.size());
      int inner = 1;
      for (int r = 0; r < 11; ++r)
        for (size_t i = 0; i < ks.size(); ++i) {
          auto t0 = std::chrono::steady_clock::now();
          for (int q = 0; q < inner; ++q)
            ks[i]->forward(ips[i].data(), ops[i].data());
          double t = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - t0).count() / inner;
          if (r == 0 && i == 0)
            inner = std::max(1, int(3.0 / std::max(t, 1e-3)));
          else
            ms[i].push_back(t);
        }
      std::cout << l.name << " " << (dir == 0 ? "fwd" : dir == 1 ? "bwd-data" : "bwd-weights");
      for (size_t i = 0; i < ks.size(); ++i) {
        const double t = medianOf(ms[i]);
        std::cout << "  " << impls[i] << " " << t << " ms (min "
                  << *std::min_element(ms[i].begin(), ms[i].end()) << ", "
                  << int(flops / t * 1e-6) << " GF/s)";
      }
      std::cout << "\n";
    }
  }
}

} // namespace
} // namespace dlc::rt::dnnltest

//===- ConvSlidingTest.cpp - dlc's sliding convolution vs the reference --===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The kernels of lib/Runtime/Dnnl/ConvSliding.cpp (forward and the weight
// and bias gradients of stride-1 convolutions with at most 4 input
// channels) against the reference backend (float64): LeNet's conv1, a
// padded CIFAR first layer, an image of several segments, non-square
// kernels whose taps do not fill the tap blocks, output channel counts that
// do not fill the register blocks, 1x1; at 1, 2 and 3 threads; under a
// memory limit; and the refusals.
//
//===----------------------------------------------------------------------===//

#include "DnnlTestUtil.h"

#include "dlc/Ops/ConvAlgorithms.h"

#include <omp.h>

namespace dlc::rt::dnnltest {
namespace {

std::mt19937 &rng() {
  static std::mt19937 g(20261204);
  return g;
}

struct SCase {
  int64_t n, c, h, w, o, kh, kw, ph, pw;
  bool bias;
  int64_t stride = 1, group = 1;
};

std::string caseName(const SCase &c) {
  std::ostringstream os;
  os << c.n << "x" << c.c << "x" << c.h << "x" << c.w << "_o" << c.o << "_k" << c.kh << "x"
     << c.kw << "_p" << c.ph << "x" << c.pw << (c.bias ? "_bias" : "");
  return os.str();
}

KernelDesc sDesc(const SCase &c, const std::string &impl = "sliding") {
  Attrs a;
  a.set("num_output", c.o);
  a.set("kernel", std::vector<int64_t>{c.kh, c.kw});
  a.set("stride", std::vector<int64_t>{c.stride, c.stride});
  a.set("pad", std::vector<int64_t>{c.ph, c.pw});
  a.set("dilation", std::vector<int64_t>{1, 1});
  a.set("group", c.group);
  a.set("impl", impl);
  const int64_t oh = (c.h + 2 * c.ph - c.kh) / c.stride + 1;
  const int64_t ow = (c.w + 2 * c.pw - c.kw) / c.stride + 1;
  std::vector<Shape> ins{{c.n, c.c, c.h, c.w}, {c.o, c.c / c.group, c.kh, c.kw}};
  std::vector<bool> isParam{false, true};
  if (c.bias) {
    ins.push_back({c.o});
    isParam.push_back(true);
  }
  return makeDesc("convolution", a, ins, {{c.n, c.o, oh, ow}}, isParam);
}

std::vector<std::vector<float>> randomInputs(const KernelDesc &d) {
  std::vector<std::vector<float>> in;
  for (const Shape &s : d.inputs)
    in.push_back(randomValues(rng(), s));
  return in;
}

/// Direction d of the convolution `fwd` as the catalog sees it.
ops::ConvProblem problemOf(const KernelDesc &fwd, ops::ConvDirection d) {
  ops::ConvProblem p;
  p.direction = d;
  ops::ConvolutionAttrs at;
  EXPECT_TRUE(ops::ConvolutionAttrs::read(fwd.attrs, at).ok());
  EXPECT_TRUE(ops::convGeometry(at, fwd.inputs[0], p.geometry).ok());
  return p;
}

const std::vector<SCase> kCases = {
    {5, 1, 28, 28, 20, 5, 5, 0, 0, true},  // LeNet's conv1 (batch 5)
    {2, 3, 32, 32, 16, 3, 3, 1, 1, true},  // CIFAR ResNet's conv1
    {2, 1, 70, 69, 7, 3, 3, 2, 1, false},  // 6 segments; 7 outputs: blocks 6 + 1, 4 + 3
    {3, 2, 9, 11, 5, 3, 7, 1, 3, true},    // 3x7: 42 taps, 45 padded
    {2, 4, 5, 6, 3, 1, 1, 0, 0, true},     // 1x1, 4 channels
    {1, 3, 4, 3, 9, 4, 3, 0, 2, true},     // kernel as tall as the image; 9 outputs
};

/// Forward and every weight/bias gradient against the reference; the
/// kernels must be sliding's.
void checkCase(const SCase &c) {
  KernelDesc f = sDesc(c);
  const double taps = double(c.c * c.kh * c.kw);
  EXPECT_NE(compareWithRef(f, randomInputs(f), taps).find("dlc:sliding"), std::string::npos);
  auto in = gradInputs(rng(), f);
  const Shape &y = f.outputs[0];
  const double positions = double(y[0] * y[2] * y[3]);
  std::vector<std::vector<int64_t>> wrts = {{1}};
  if (c.bias)
    wrts = {{1}, {2}, {1, 2}};
  for (const auto &wrt : wrts)
    EXPECT_NE(compareGrad(f, wrt, in, positions).find("dlc:sliding"), std::string::npos);
}

TEST(ConvSliding, MatchesReferenceAtAnyThreadCount) {
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    for (const SCase &c : kCases) {
      SCOPED_TRACE(caseName(c) + " threads " + std::to_string(threads));
      checkCase(c);
    }
  }
  omp_set_num_threads(saved);
}

TEST(ConvSliding, MoreThreadsThanWhenMade) {
  // Kernels made at 1 thread and run at 3 take buffers for 3.
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  KernelDesc f = sDesc(kCases[1]);
  auto ref = createReferenceKernel(f);
  auto fwd = createDnnlKernel(f, ctx());
  auto in = gradInputs(rng(), f);
  KernelDesc g = gradOf(f, {1, 2});
  auto refGrad = createReferenceKernel(g);
  auto grad = createDnnlKernel(g, ctx());
  omp_set_num_threads(3);
  std::vector<std::vector<float>> fwdIn(in.begin(), in.begin() + 3);
  EXPECT_TRUE(closeTo(run(*fwd, f, fwdIn)[0], run(*ref, f, fwdIn)[0], 27));
  auto got = run(*grad, g, in), want = run(*refGrad, g, in);
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_TRUE(closeTo(got[i], want[i], 2 * 32 * 32)) << i;
  omp_set_num_threads(saved);
}

TEST(ConvSliding, PlanSizesTheBuffers) {
  // LeNet's conv1: rows of 28, 24 x 28 wide positions in blocks of 64.
  SCase lenet = kCases[0];
  lenet.n = 64;
  ops::ConvProblem p = problemOf(sDesc(lenet), ops::ConvDirection::BackwardWeights);
  ops::SlidingPlan plan = ops::slidingPlan(p);
  EXPECT_EQ(plan.rowWidth, 28);
  EXPECT_EQ(plan.positions, 704);
  EXPECT_EQ(plan.segment, 704);
  EXPECT_EQ(plan.planeFloats, 704 + 4 * 28 + 4);
  EXPECT_EQ(plan.taps, 25);
  EXPECT_EQ(plan.tapsPadded, 25);
  // Padded image, staged dy (20 rows), dW and db sums (16 lanes each).
  EXPECT_EQ(plan.workspaceFloats, 820 + 20 * 704 + (20 * 25 + 20) * 16);
  EXPECT_EQ(plan.work.workspaceBytes, 4 * plan.workspaceFloats);
  // The forward stages 6 channels' rows; its taps are not padded.
  p.direction = ops::ConvDirection::Forward;
  plan = ops::slidingPlan(p);
  EXPECT_EQ(plan.workspaceFloats, 820 + 6 * 704);
  // 70 x 69 padded by 2, 1: rows of 71, 72 x 71 positions, segments of 1024.
  plan = ops::slidingPlan(problemOf(sDesc(kCases[2]), ops::ConvDirection::Forward));
  EXPECT_EQ(plan.rowWidth, 71);
  EXPECT_EQ(plan.positions, 5120); // 5112 in blocks of 64
  EXPECT_EQ(plan.segment, 1024);
}

TEST(ConvSliding, MemoryLimitCapsTheThreads) {
  // Room for one thread's buffers: the kernels run on one thread, exactly;
  // less than that: refused before allocating.
  const SCase c{4, 1, 28, 28, 20, 5, 5, 0, 0, true};
  const int64_t bytes =
      ops::slidingPlan(problemOf(sDesc(c), ops::ConvDirection::BackwardWeights))
          .work.workspaceBytes;
  const int saved = omp_get_max_threads();
  omp_set_num_threads(3);
  KernelDesc f = sDesc(c);
  f.memoryLimit = uint64_t(bytes) * 3 / 2;
  auto in = gradInputs(rng(), f);
  EXPECT_NE(compareGrad(f, {1, 2}, in, 4 * 24 * 24).find("dlc:sliding"), std::string::npos);
  EXPECT_NE(compareWithRef(f, randomInputs(f), 25).find("dlc:sliding"), std::string::npos);
  f.memoryLimit = uint64_t(bytes) / 2;
  try {
    createDnnlKernel(gradOf(f, {1}), ctx());
    ADD_FAILURE() << "expected an Error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("sliding needs a workspace of"), std::string::npos)
        << e.what();
  }
  omp_set_num_threads(saved);
}

TEST(ConvSliding, RefusesWhatItDoesNotCompute) {
  auto expectRefused = [](const KernelDesc &d, const std::string &why) {
    try {
      createDnnlKernel(d, ctx());
      ADD_FAILURE() << "expected an Error: " << why;
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("layer 'convolution_test'"), std::string::npos)
          << e.what();
    }
  };
  const KernelDesc lenet = sDesc(kCases[0]);
  expectRefused(gradOf(lenet, {0}), "sliding computes the forward and backward-weights only");
  expectRefused(gradOf(lenet, {0, 1}), "sliding computes the forward and backward-weights only");
  expectRefused(sDesc({1, 5, 8, 8, 4, 3, 3, 1, 1, true}),
                "it has 5 input channels (sliding is for at most 4)");
  expectRefused(sDesc({1, 3, 9, 9, 4, 3, 3, 1, 1, true, 2}), "the stride is not 1");
  expectRefused(sDesc({1, 4, 8, 8, 4, 3, 3, 1, 1, true, 1, 2}), "the convolution is grouped");
}

} // namespace
} // namespace dlc::rt::dnnltest

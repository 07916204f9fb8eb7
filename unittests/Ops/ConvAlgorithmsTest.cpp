//===- ConvAlgorithmsTest.cpp - The convolution algorithm catalog ---------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "dlc/Ops/ConvAlgorithms.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

using namespace dlc::ops;

namespace {

ConvProblem problem(int64_t n, int64_t c, int64_t hw, int64_t k, int64_t kernel, int64_t stride,
                    int64_t pad, int64_t group = 1,
                    ConvDirection d = ConvDirection::Forward) {
  ConvProblem p;
  p.layer = "conv";
  p.direction = d;
  Shape x{n, c, hw, hw};
  EXPECT_TRUE(convGeometry(false, k, {kernel, kernel}, {stride, stride}, {pad, pad}, {1, 1},
                           group, Arg::of(x), Arg::unknown(), Arg(), p.geometry)
                  .ok());
  return p;
}

const ConvCandidate &find(const std::vector<ConvCandidate> &cs, const std::string &name) {
  for (const ConvCandidate &c : cs)
    if (c.algorithm == name)
      return c;
  static ConvCandidate none;
  ADD_FAILURE() << "no candidate " << name;
  return none;
}

TEST(ConvAlgorithms, CatalogNamesAndAliases) {
  ASSERT_FALSE(convAlgorithms().empty());
  EXPECT_EQ(convAlgorithms()[0].name, "direct");
  ASSERT_NE(findConvAlgorithm("winograd"), nullptr);
  EXPECT_EQ(findConvAlgorithm("winograd")->name, "winograd4");
  EXPECT_EQ(findConvAlgorithm("auto"), nullptr);
  EXPECT_EQ(findConvAlgorithm("bogus"), nullptr);
  EXPECT_NE(convAlgorithmNames().find("onednn-winograd"), std::string::npos);
  for (ConvDirection d : kConvDirections)
    EXPECT_EQ(parseConvDirection(convDirectionName(d)), d);
  EXPECT_FALSE(parseConvDirection("sideways"));
}

TEST(ConvAlgorithms, WhereEachApplies) {
  MachineRates m;
  // 3x3 stride 1: everything but oneDNN's Winograd on a machine without it.
  auto cs = convCandidates(problem(2, 16, 12, 16, 3, 1, 1), m);
  EXPECT_EQ(find(cs, "direct").whyNot, "");
  EXPECT_EQ(find(cs, "gemm").whyNot, "");
  EXPECT_EQ(find(cs, "fft").whyNot, "");
  EXPECT_EQ(find(cs, "winograd2").whyNot, "");
  EXPECT_EQ(find(cs, "winograd4").whyNot, "");
  EXPECT_NE(find(cs, "onednn-winograd").whyNot.find("no Winograd convolution on this machine"),
            std::string::npos);
  m.onednnWinograd = true;
  EXPECT_EQ(find(convCandidates(problem(2, 16, 12, 16, 3, 1, 1), m), "onednn-winograd").whyNot,
            "");
  // 11x11 stride 4 (AlexNet conv1): direct and gemm only.
  cs = convCandidates(problem(2, 3, 227, 96, 11, 4, 0), m);
  EXPECT_NE(find(cs, "fft").whyNot.find("stride"), std::string::npos);
  EXPECT_NE(find(cs, "winograd4").whyNot.find("11x11"), std::string::npos);
  EXPECT_NE(find(cs, "onednn-winograd").whyNot.find("11x11"), std::string::npos);
  EXPECT_NE(find(cs, "sliding").whyNot.find("stride"), std::string::npos);
  // LeNet's conv1 (1 channel, 5x5): sliding, but not for backward-data.
  cs = convCandidates(problem(64, 1, 28, 20, 5, 1, 0), m);
  EXPECT_EQ(find(cs, "sliding").whyNot, "");
  EXPECT_EQ(find(convCandidates(problem(64, 1, 28, 20, 5, 1, 0, 1,
                                        ConvDirection::BackwardWeights),
                                m),
                 "sliding")
                .whyNot,
            "");
  EXPECT_EQ(find(convCandidates(problem(64, 1, 28, 20, 5, 1, 0, 1, ConvDirection::BackwardData),
                                m),
                 "sliding")
                .whyNot,
            "sliding computes the forward and backward-weights only");
  // Grouped 3x3: oneDNN's Winograd refuses groups.
  cs = convCandidates(problem(2, 16, 12, 16, 3, 1, 1, 2), m);
  EXPECT_NE(find(cs, "onednn-winograd").whyNot.find("grouped"), std::string::npos);
  // Applicable candidates declare their work and workspace.
  cs = convCandidates(problem(2, 16, 12, 16, 3, 1, 1), m);
  for (const ConvCandidate &c : cs) {
    if (!c.whyNot.empty())
      continue;
    EXPECT_GT(c.work.gemmFlops, 0) << c.algorithm;
    EXPECT_GE(c.work.workspaceBytes, 0) << c.algorithm;
  }
  EXPECT_GT(find(cs, "gemm").work.workspaceBytes, 0);
}

TEST(ConvAlgorithms, GemmPlanChunksTheBatch) {
  // LeNet's conv2 at batch 64: 20 -> 50 channels, 5x5, 12x12 -> 8x8. An
  // image has 500 x 64 floats of columns and 50 x 64 of staging (141 KiB):
  // 3 images to a 512 KiB chunk, 22 chunks of 50 x 192 x 500 GEMMs.
  GemmPlan p = gemmPlan(problem(64, 20, 12, 50, 5, 1, 0));
  EXPECT_EQ(p.kdim, 500);
  EXPECT_EQ(p.pixels, 64);
  EXPECT_EQ(p.chunk, 3);
  EXPECT_FALSE(p.noIm2col);
  EXPECT_EQ(p.colFloats, 500 * 64 * 3);
  EXPECT_EQ(p.stageFloats, 50 * 64 * 3);
  EXPECT_EQ(p.work.workspaceBytes, 4 * (p.colFloats + p.stageFloats));
  EXPECT_LE(p.work.workspaceBytes, kGemmChunkBytes);
  EXPECT_EQ(p.work.gemmCalls, 22);
  EXPECT_EQ(p.work.gemmMinDim, 50);
  // The weight gradient stages dy too and accumulates dW^T.
  p = gemmPlan(problem(64, 20, 12, 50, 5, 1, 0, 1, ConvDirection::BackwardWeights));
  EXPECT_EQ(p.stageFloats, 50 * 64 * 3);
  EXPECT_EQ(p.accFloats, 50 * 500);
  EXPECT_EQ(p.work.workspaceBytes, 4 * (p.colFloats + p.stageFloats + p.accFloats));
  // Images of 184 KiB (8 -> 8 channels in 2 groups, 3x3 on 24x24): 2 to a
  // chunk, 7 images in 4 chunks; groups multiply the calls.
  p = gemmPlan(problem(7, 8, 24, 8, 3, 1, 1, 2));
  EXPECT_EQ(p.kdim, 36);
  EXPECT_EQ(p.chunk, 2);
  EXPECT_EQ(p.work.gemmCalls, 4 * 2);
  EXPECT_LE(p.work.workspaceBytes, kGemmChunkBytes);
  // An image larger than a chunk: one image at a time, no staging.
  p = gemmPlan(problem(3, 64, 199, 1, 100, 1, 0));
  EXPECT_EQ(p.chunk, 1);
  EXPECT_EQ(p.stageFloats, 0);
  EXPECT_EQ(p.work.workspaceBytes, int64_t(4) * 64 * 100 * 100 * 100 * 100);
  // 1x1 stride 1 unpadded: no im2col forward and backward data, but the
  // weight gradient reads columns.
  p = gemmPlan(problem(8, 32, 7, 16, 1, 1, 0));
  EXPECT_TRUE(p.noIm2col);
  EXPECT_EQ(p.work.workspaceBytes, 0);
  EXPECT_FALSE(gemmPlan(problem(8, 32, 7, 16, 1, 1, 0, 1, ConvDirection::BackwardWeights))
                   .noIm2col);
  EXPECT_FALSE(gemmPlan(problem(8, 32, 7, 16, 1, 2, 0)).noIm2col);
}

TEST(ConvAlgorithms, ShapeKeysTellProblemsApart) {
  ConvProblem a = problem(2, 16, 12, 16, 3, 1, 1);
  ConvProblem b = problem(2, 16, 12, 16, 3, 1, 1, 1, ConvDirection::BackwardData);
  ConvProblem c = a;
  c.block = 16;
  ConvProblem d = a;
  d.layer = "other";
  EXPECT_NE(a.shapeKey(), b.shapeKey());
  EXPECT_NE(a.shapeKey(), c.shapeKey());
  EXPECT_EQ(a.shapeKey(), d.shapeKey()); // the layer name is not part of it
  EXPECT_NE(a.shapeKey(), problem(4, 16, 12, 16, 3, 1, 1).shapeKey());
}

TEST(ConvAlgorithms, CostModel) {
  MachineRates m;
  auto model = createCostModelOracle(m);
  ConvProblem p = problem(16, 64, 28, 64, 3, 1, 1);
  auto cs = convCandidates(p, m);
  ASSERT_EQ(model->evaluate(p, cs), "");
  for (const ConvCandidate &c : cs) {
    if (c.whyNot.empty()) {
      EXPECT_GT(c.seconds, 0) << c.algorithm;
      EXPECT_EQ(c.source, "model");
    } else {
      EXPECT_LT(c.seconds, 0) << c.algorithm;
    }
  }
  // Fused post-ops are free for direct only.
  ConvProblem fused = p;
  fused.fusedPostOps = 2;
  auto fc = convCandidates(fused, m);
  ASSERT_EQ(model->evaluate(fused, fc), "");
  EXPECT_DOUBLE_EQ(find(fc, "direct").seconds, find(cs, "direct").seconds);
  EXPECT_GT(find(fc, "gemm").seconds, find(cs, "gemm").seconds);
  // Twice the batch, about twice the time.
  ConvProblem big = problem(32, 64, 28, 64, 3, 1, 1);
  auto bc = convCandidates(big, m);
  ASSERT_EQ(model->evaluate(big, bc), "");
  EXPECT_NEAR(find(bc, "direct").seconds / find(cs, "direct").seconds, 2.0, 0.2);
  // Small GEMMs run below the peak: the same flops in 8-channel layers cost more.
  ConvWork w;
  w.gemmFlops = 1e9;
  w.gemmMinDim = 64;
  double full = estimateSeconds(w, m);
  w.gemmMinDim = 8;
  EXPECT_GT(estimateSeconds(w, m), 2 * full);
}

TEST(ConvAlgorithms, CostTable) {
  std::string error;
  auto t = createTableOracle("conv/forward/fft=1.5,*/*/direct=2,conv/backward-data/gemm=0.5",
                             error);
  ASSERT_TRUE(t) << error;
  MachineRates m;
  ConvProblem p = problem(2, 16, 12, 16, 3, 1, 1);
  auto cs = convCandidates(p, m);
  ASSERT_EQ(t->evaluate(p, cs), "");
  EXPECT_DOUBLE_EQ(find(cs, "fft").seconds, 1.5e-3);
  EXPECT_DOUBLE_EQ(find(cs, "direct").seconds, 2e-3);
  EXPECT_LT(find(cs, "gemm").seconds, 0); // another direction
  EXPECT_EQ(find(cs, "fft").source, "table");

  for (const char *bad : {"conv/forward/fft", "conv/fft=1", "conv/forward/bogus=1",
                          "conv/upward/fft=1", "conv/forward/fft=x", "conv/forward/fft=-1"}) {
    error.clear();
    EXPECT_FALSE(createTableOracle(bad, error)) << bad;
    EXPECT_NE(error.find("cost table entry"), std::string::npos) << bad << ": " << error;
  }
  error.clear();
  createTableOracle("conv/forward/bogus=1", error);
  EXPECT_NE(error.find("unknown algorithm 'bogus'"), std::string::npos) << error;
}

} // namespace

TEST(ConvAlgorithms, CalibrationProblemsCoverEveryAlgorithm) {
  MachineRates m;
  m.onednnWinograd = true;
  std::vector<ConvProblem> ps = convCalibrationProblems(16);
  ASSERT_EQ(ps.size(), 15u); // five problems, three directions
  std::vector<double> channels;
  int narrow = 0;
  // Every algorithm is calibrated in every direction it computes.
  std::set<std::pair<std::string, ConvDirection>> calibrated;
  for (const ConvProblem &p : ps) {
    EXPECT_EQ(p.block, 16);
    if (isNarrowConv(p)) { // 1x1: no Winograd
      EXPECT_EQ(p.geometry.kernel[0] * p.geometry.kernel[1], 1);
      ++narrow;
      continue;
    }
    for (const ConvCandidate &c : convCandidates(p, m)) {
      // sliding: few input channels, no backward-data.
      const bool sliding = c.algorithm == "sliding";
      const bool applies = !sliding || (p.geometry.channels <= kSlidingMaxChannels &&
                                        p.direction != ConvDirection::BackwardData);
      EXPECT_EQ(c.whyNot.empty(), applies) << p.layer << " " << c.algorithm << ": " << c.whyNot;
      if (c.whyNot.empty())
        calibrated.insert({c.algorithm, p.direction});
    }
    if (p.direction == ConvDirection::Forward)
      channels.push_back(convCalibrationChannels(p));
  }
  EXPECT_EQ(calibrated.size(), 3 * convAlgorithms().size() - 1);
  EXPECT_EQ(channels, (std::vector<double>{std::sqrt(48.0), 16, 64, 256}));
  EXPECT_EQ(narrow, 3);
  EXPECT_EQ(ps.back().layer, "calibration-narrow-c100");
  EXPECT_EQ(ps.front().layer, "calibration-c3");
  // Grouped: channels per group.
  EXPECT_DOUBLE_EQ(convCalibrationChannels(problem(2, 96, 27, 256, 5, 1, 2, 2)),
                   std::sqrt(48.0 * 128.0));
}

TEST(ConvAlgorithms, CalibrationFactorInterpolatesInLogChannels) {
  MachineRates m;
  ConvProblem p16 = problem(2, 16, 8, 16, 3, 1, 1);
  EXPECT_EQ(calibrationFactor(m, "fft", p16), 1.0); // uncalibrated
  m.calibration = {{"fft", ConvDirection::Forward, 64, 2.0},
                   {"fft", ConvDirection::Forward, 16, 8.0},
                   {"fft", ConvDirection::BackwardData, 16, 100.0},
                   {"direct", ConvDirection::Forward, 16, 50.0}};
  EXPECT_NEAR(calibrationFactor(m, "fft", p16), 8.0, 1e-12);
  // 32 channels: halfway between 16 and 64 in log space, so sqrt(8 * 2).
  EXPECT_NEAR(calibrationFactor(m, "fft", problem(2, 32, 8, 32, 3, 1, 1)), 4.0, 1e-12);
  // Constant beyond the calibrated range.
  EXPECT_NEAR(calibrationFactor(m, "fft", problem(2, 4, 8, 4, 3, 1, 1)), 8.0, 1e-12);
  EXPECT_NEAR(calibrationFactor(m, "fft", problem(2, 512, 8, 512, 3, 1, 1)), 2.0, 1e-12);
  // Another direction or algorithm has its own factors.
  EXPECT_NEAR(calibrationFactor(m, "fft", problem(2, 16, 8, 16, 3, 1, 1, 1,
                                                  ConvDirection::BackwardData)),
              100.0, 1e-9);
  EXPECT_EQ(calibrationFactor(m, "gemm", p16), 1.0);
  // Narrow problems (fewer than 8 outputs) have their own factors; without
  // any, they take the others.
  ConvProblem narrow = problem(2, 64, 8, 1, 1, 1, 0);
  ASSERT_TRUE(isNarrowConv(narrow));
  EXPECT_FALSE(isNarrowConv(p16));
  EXPECT_NEAR(calibrationFactor(m, "fft", narrow), 8.0, 1e-12); // sqrt(64 * 1) = 8 channels
  m.calibration.push_back({"fft", ConvDirection::Forward, 8, 30.0, true});
  EXPECT_NEAR(calibrationFactor(m, "fft", narrow), 30.0, 1e-12);
  EXPECT_NEAR(calibrationFactor(m, "fft", p16), 8.0, 1e-12); // not a narrow one
  // Plain and blocked layouts have their own factors (these problems are
  // plain; the factors above were measured blocked, which is all there was).
  m.calibration.push_back({"fft", ConvDirection::Forward, 16, 3.0, false, true});
  EXPECT_NEAR(calibrationFactor(m, "fft", p16), 3.0, 1e-12);
  EXPECT_NEAR(calibrationFactor(m, "fft", problem(2, 512, 8, 512, 3, 1, 1)), 3.0, 1e-12);
  ConvProblem blocked = problem(2, 32, 8, 32, 3, 1, 1);
  blocked.block = 16;
  EXPECT_NEAR(calibrationFactor(m, "fft", blocked), 4.0, 1e-12);
  // A narrow plain problem: narrow blocked factors before wide plain ones.
  EXPECT_NEAR(calibrationFactor(m, "fft", narrow), 30.0, 1e-12);
  m.calibration.push_back({"fft", ConvDirection::Forward, 8, 60.0, true, true});
  EXPECT_NEAR(calibrationFactor(m, "fft", narrow), 60.0, 1e-12);

  // The cost model applies the factors: calibrating fft 8x slower at 16
  // channels makes it lose to direct there.
  MachineRates plain;
  std::vector<ConvCandidate> a = convCandidates(p16, plain), b = a;
  createCostModelOracle(plain)->evaluate(p16, a);
  m.calibration = {{"fft", ConvDirection::Forward, 16, 8.0}};
  createCostModelOracle(m)->evaluate(p16, b);
  EXPECT_NEAR(find(b, "fft").seconds, 8.0 * find(a, "fft").seconds, 1e-15);
  EXPECT_EQ(find(b, "direct").seconds, find(a, "direct").seconds);
}

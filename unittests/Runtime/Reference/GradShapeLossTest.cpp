//===- GradShapeLossTest.cpp - Gradients of data movement, lstm, losses ---===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "GradTestUtil.h"

using namespace dlc::rt;
using namespace dlc::rt::test;

TEST(ConcatGrad, AxesAndSubsets) {
  auto d = makeDesc("concat", {{2, 1, 3}, {2, 3, 3}, {2, 2, 3}}, {{2, 6, 3}});
  std::vector<Data> in = {randomData(6, 1), randomData(18, 2), randomData(12, 3)};
  checkGradients(d, in, {0, 1, 2});
  checkGradients(d, in, {0, 2});
  Attrs a;
  a.set("axis", int64_t(0));
  auto e = makeDesc("concat", {{1, 4}, {2, 4}}, {{3, 4}}, a);
  auto g = runGrad(e, {randomData(4, 4), randomData(8, 5)}, {1}, {iota(12)});
  expectNear(g[0], {5, 6, 7, 8, 9, 10, 11, 12});
}

TEST(SliceGrad, PointsAndEqualParts) {
  Attrs a;
  a.set("axis", int64_t(1));
  a.set("slice_points", std::vector<int64_t>{1, 4});
  auto d = makeDesc("slice", {{2, 6, 2}}, {{2, 1, 2}, {2, 3, 2}, {2, 2, 2}}, a);
  checkGradients(d, {randomData(24, 11)}, {0});
  Attrs b;
  b.set("axis", int64_t(-1));
  auto e = makeDesc("slice", {{2, 4}}, {{2, 2}, {2, 2}}, b);
  auto g = runGrad(e, {randomData(8, 12)}, {0}, {{1, 2, 3, 4}, {5, 6, 7, 8}});
  expectNear(g[0], {1, 2, 5, 6, 3, 4, 7, 8});
}

TEST(CropGrad, Offsets) {
  Attrs a;
  a.set("axis", int64_t(2));
  a.set("offset", std::vector<int64_t>{1, 2});
  auto d = makeDesc("crop", {{2, 2, 4, 5}, {1, 1, 2, 3}}, {{2, 2, 2, 3}}, a);
  checkGradients(d, {randomData(80, 21), randomData(6, 22)}, {0});
  // 1-D: dy lands at the offset, zeros elsewhere.
  Attrs b;
  b.set("axis", int64_t(0));
  b.set("offset", std::vector<int64_t>{1});
  auto e = makeDesc("crop", {{5}, {2}}, {{2}}, b);
  auto g = runGrad(e, {randomData(5, 23), randomData(2, 24)}, {0}, {{3, 4}});
  expectNear(g[0], {0, 3, 4, 0, 0});
}

TEST(FlattenReshapeGrad, CopyTheGradient) {
  auto f = makeDesc("flatten", {{2, 3, 2}}, {{2, 6}});
  checkGradients(f, {randomData(12, 31)}, {0});
  Attrs a;
  a.set("shape", std::vector<int64_t>{0, -1, 2});
  auto r = makeDesc("reshape", {{2, 3, 2}}, {{2, 3, 2}}, a);
  checkGradients(r, {randomData(12, 32)}, {0});
  Data dy = randomData(12, 33);
  expectNearData(runGrad(r, {randomData(12, 34)}, {0}, {dy})[0], dy, 0);
}

TEST(LstmGrad, ContResetsBackpropThroughTime) {
  int64_t T = 4, N = 2, I = 3, H = 2;
  Attrs a;
  a.set("num_output", H);
  auto d = makeDesc("lstm", {{T, N, I}, {T, N}, {4 * H, I}, {4 * H}, {4 * H, H}},
                    {{T, N, H}}, a);
  d.isParam = {false, false, true, true, true};
  // Sequence 0 runs through; sequence 1 restarts at t = 2.
  Data cont = {0, 0, 1, 1, 1, 0, 1, 1};
  std::vector<Data> in = {randomData(T * N * I, 41), cont, randomData(4 * H * I, 42),
                          randomData(4 * H, 43), randomData(4 * H * H, 44, -1.5f, 1.5f)};
  checkGradients(d, in, {0, 2, 3, 4});
  checkGradients(d, in, {0});
  checkGradients(d, in, {2, 3, 4});
}

TEST(LstmGrad, StaticInput) {
  int64_t T = 3, N = 2, I = 2, Is = 3, H = 3;
  Attrs a;
  a.set("num_output", H);
  auto d = makeDesc("lstm",
                    {{T, N, I}, {T, N}, {N, Is}, {4 * H, I}, {4 * H}, {4 * H, Is}, {4 * H, H}},
                    {{T, N, H}}, a);
  Data cont = {0, 0, 1, 0, 1, 1};
  std::vector<Data> in = {randomData(T * N * I, 51),   cont,
                          randomData(N * Is, 52),      randomData(4 * H * I, 53),
                          randomData(4 * H, 54),       randomData(4 * H * Is, 55),
                          randomData(4 * H * H, 56)};
  checkGradients(d, in, {0, 2, 3, 4, 5, 6});
}

namespace {
Attrs lossAttrs(double weight, const std::string &norm = "", int64_t ignore = -100) {
  Attrs a;
  a.set("loss_weight", weight);
  if (!norm.empty())
    a.set("normalization", norm);
  if (ignore != -100)
    a.set("ignore_label", ignore);
  return a;
}
} // namespace

TEST(SoftmaxWithLossGrad, NormalizationIgnoreAndWeight) {
  // logits [2, 4, 3] (axis 1, 3 positions per image), labels [2, 3].
  Data label = {0, 3, 1, 2, 1, 1};
  struct C {
    std::string norm;
    int64_t ignore;
    double weight;
  };
  for (const C &c : {C{"valid", -100, 1.0}, C{"valid", 1, 2.0}, C{"full", 1, 0.5},
                     C{"batch_size", -100, 1.5}, C{"none", 3, 1.0}}) {
    SCOPED_TRACE("normalization " + c.norm + ", ignore " + std::to_string(c.ignore));
    auto d = makeDesc("softmax_with_loss", {{2, 4, 3}, {2, 3}}, {{}},
                      lossAttrs(c.weight, c.norm, c.ignore));
    checkGradients(d, {randomData(24, 61, -2, 2), label}, {0});
  }
  // By hand: one position, two classes, equal logits: p = 0.5 each; label 1,
  // weight 2, incoming gradient 3 -> 2 * 3 * (0.5 - [0, 1]).
  auto h = makeDesc("softmax_with_loss", {{1, 2}, {1}}, {{}}, lossAttrs(2.0));
  auto g = runGrad(h, {{0.7f, 0.7f}, {1}}, {0}, {{3}});
  expectNear(g[0], {3, -3});
  // Ignored positions get 0.
  auto i = makeDesc("softmax_with_loss", {{2, 2}, {2}}, {{}}, lossAttrs(1.0, "valid", 0));
  auto gi = runGrad(i, {{1, 2, 3, 4}, {0, 1}}, {0}, {{1}});
  EXPECT_EQ(gi[0][0], 0.0f);
  EXPECT_EQ(gi[0][1], 0.0f);
}

TEST(SoftmaxWithLossGrad, BadLabelAtRunTime) {
  auto d = makeDesc("softmax_with_loss", {{1, 3}, {1}}, {{}}, lossAttrs(1.0));
  try {
    runRef(gradDesc(d, {0}), {{0, 0, 0}, {3}, {1}, {1}});
    ADD_FAILURE() << "expected an Error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("(softmax_with_loss_grad): label 3"),
              std::string::npos)
        << e.what();
  }
}

TEST(EuclideanLossGrad, BothOperands) {
  auto d = makeDesc("euclidean_loss", {{3, 4}, {3, 4}}, {{}}, lossAttrs(0.7));
  std::vector<Data> in = {randomData(12, 71), randomData(12, 72)};
  checkGradients(d, in, {0, 1});
  checkGradients(d, in, {1});
  // b may have another shape with the same rows and elements.
  auto e = makeDesc("euclidean_loss", {{2, 6}, {2, 3, 2}}, {{}}, lossAttrs(1.0));
  checkGradients(e, {randomData(12, 73), randomData(12, 74)}, {0, 1});
}

TEST(SigmoidCrossEntropyLossGrad, IgnoreNormalizationWeight) {
  Data target = {0, 1, 0.25f, 1, -1, 0, 0.5f, -1, 1, 0, 1, 0.75f};
  for (const std::string norm : {"batch_size", "valid", "full", "none"}) {
    SCOPED_TRACE(norm);
    auto d = makeDesc("sigmoid_cross_entropy_loss", {{3, 4}, {3, 4}}, {{}},
                      lossAttrs(1.5, norm, -1));
    checkGradients(d, {randomData(12, 81, -3, 3), target}, {0});
  }
  auto n = makeDesc("sigmoid_cross_entropy_loss", {{3, 4}, {3, 4}}, {{}}, lossAttrs(1.0));
  Data t01 = {0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1};
  checkGradients(n, {randomData(12, 82, -3, 3), t01}, {0});
}

TEST(ContrastiveLossGrad, SimilarAndDissimilarPairs) {
  // Rows: similar, dissimilar inside the margin, dissimilar outside it.
  Data a = {0.1f, 0.2f, 0.3f, 0.0f, 0.5f, -0.2f, 1.0f, 1.0f, 1.0f, 0.3f, -0.3f, 0.6f};
  Data b = {0.4f, -0.1f, 0.2f, 0.3f, 0.1f, 0.1f, -1.0f, -1.0f, -1.0f, 0.2f, 0.2f, 0.1f};
  Data sim = {1, 0, 0, 0};
  for (bool legacy : {false, true}) {
    SCOPED_TRACE(legacy ? "legacy" : "default");
    Attrs at = lossAttrs(1.3);
    at.set("margin", 1.5);
    at.set("legacy_version", int64_t(legacy));
    auto d = makeDesc("contrastive_loss", {{4, 3}, {4, 3}, {4}}, {{}}, at);
    // Caffe's non-legacy gradient divides by (dist + 1e-4): 1e-3 relative.
    GradOptions o;
    o.tol = 5e-3;
    checkGradients(d, {a, b, sim}, {0, 1}, o);
    checkGradients(d, {a, b, sim}, {1}, o);
    // The far dissimilar pair (row 2) gets no gradient.
    auto g = runGrad(d, {a, b, sim}, {0}, {{1}});
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(g[0][2 * 3 + j], 0.0f);
  }
}

TEST(TileGrad, SumsTheCopies) {
  Attrs a;
  a.set("tiles", int64_t(3));
  a.set("axis", int64_t(1));
  checkGradients(makeDesc("tile", {{2, 2, 3}}, {{2, 6, 3}}, a), {randomData(12, 130)}, {0});
}

TEST(BatchReindexGrad, RepeatedAndMissingItems) {
  auto d = makeDesc("batch_reindex", {{4, 3}, {5}}, {{5, 3}});
  checkGradients(d, {randomData(12, 131), {3, 0, 3, 1, 3}}, {0});
  // Item 2 is never picked: its gradient is 0; item 3 gets three copies.
  auto g = runGrad(makeDesc("batch_reindex", {{3, 1}, {3}}, {{3, 1}}), {{1, 2, 3}, {2, 0, 2}},
                   {0}, {{1, 10, 100}});
  expectNear(g[0], {10, 0, 101});
  expectCreateError(gradDesc(d, {0, 1}), "operand 1 has no gradient");
}

TEST(FilterGrad, ScattersToSelectedItems) {
  // Selector picks items 1, 2 and 4 of 5; the results hold those 3 items.
  auto d = makeDesc("filter", {{5, 3}, {5, 1, 2}, {5}}, {{3, 3}, {3, 1, 2}});
  std::vector<Data> in = {randomData(15, 160), randomData(10, 161), {0, 1, 1, 0, 1}};
  checkGradients(d, in, {0, 1});
  auto g = runGrad(makeDesc("filter", {{3, 1}, {3}}, {{2, 1}}), {{1, 2, 3}, {1, 0, 1}}, {0},
                   {{10, 30}});
  expectNear(g[0], {10, 0, 30});
  expectCreateError(gradDesc(d, {2}), "operand 2 has no gradient");
}

TEST(RnnGrad, ContResetsAndStaticInput) {
  Attrs a;
  a.set("num_output", int64_t(3));
  // x [T=3, N=2, I=2], cont [3, 2]: sequence 1 restarts at t = 1.
  auto d = makeDesc("rnn", {{3, 2, 2}, {3, 2}, {3, 2}, {3}, {3, 3}, {3, 3}, {3}}, {{3, 2, 3}}, a);
  std::vector<Data> in = {randomData(12, 140), {0, 0, 1, 0, 1, 1}, randomData(6, 141),
                          randomData(3, 142),  randomData(9, 143), randomData(9, 144),
                          randomData(3, 145)};
  checkGradients(d, in, {0, 2, 3, 4, 5, 6});
  auto s = makeDesc("rnn", {{2, 2, 2}, {2, 2}, {2, 3}, {3, 2}, {3}, {3, 3}, {3, 3}, {3, 3}, {3}},
                    {{2, 2, 3}}, a);
  std::vector<Data> si = {randomData(8, 146), {0, 0, 1, 1},      randomData(6, 147),
                          randomData(6, 148), randomData(3, 149), randomData(9, 150),
                          randomData(9, 151), randomData(9, 152), randomData(3, 153)};
  checkGradients(s, si, {0, 2, 3, 4, 5, 6, 7, 8});
  checkGradients(s, si, {5});
  expectCreateError(gradDesc(s, {1}), "operand 1 has no gradient");
}

TEST(LossGrad, HingeInfogainMultinomial) {
  for (const char *norm : {"l1", "l2"}) {
    SCOPED_TRACE(norm);
    Attrs a;
    a.set("norm", std::string(norm));
    a.set("loss_weight", 2.0);
    // |1 + t x| away from 0 (the hinge's kink).
    Data x = {0.3f, -0.2f, 0.6f, 1.5f, 0.1f, -0.4f, 0.8f, -1.5f};
    checkGradients(makeDesc("hinge_loss", {{2, 4}, {2}}, {{}}, a), {x, {1, 3}}, {0});
  }
  Attrs i;
  i.set("ignore_label", int64_t(1));
  i.set("loss_weight", 0.5);
  auto ig = makeDesc("infogain_loss", {{2, 3, 2}, {2, 2}, {3, 3}}, {{}}, i);
  checkGradients(ig, {randomData(12, 160), {0, 1, 2, 0}, randomData(9, 161, 0, 1)}, {0});
  expectCreateError(gradDesc(ig, {0, 2}), "operand 2 has no gradient");
  Data prob = randomData(6, 162, 0.1f, 1.0f);
  checkGradients(makeDesc("multinomial_logistic_loss", {{2, 3}, {2}}, {{}}), {prob, {2, 0}},
                 {0});
}

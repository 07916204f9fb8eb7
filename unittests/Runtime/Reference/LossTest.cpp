//===- LossTest.cpp - losses and accuracy ---------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "RefTestUtil.h"

using namespace dlc::rt;
using namespace dlc::rt::test;

namespace {
double scalar(const KernelDesc &d, const std::vector<Data> &in) {
  Data out = run1(d, in);
  EXPECT_EQ(out.size(), 1u);
  return out[0];
}
double logSoftmax(std::vector<double> x, size_t i) {
  double s = 0;
  for (double v : x)
    s += std::exp(v);
  return x[i] - std::log(s);
}
} // namespace

TEST(SoftmaxWithLoss, NormalizationsIgnoreLabelAndWeight) {
  Data logits = {1, 2, 3, 1, 1, 1};
  Data labels = {2, 0};
  double l0 = -logSoftmax({1, 2, 3}, 2), l1 = std::log(3.0);
  auto d = makeDesc("softmax_with_loss", {{2, 3}, {2}}, {{}});
  EXPECT_NEAR(scalar(d, {logits, labels}), (l0 + l1) / 2, 1e-6); // default valid
  Attrs a;
  a.set("ignore_label", int64_t(0));
  for (auto [norm, expected] : std::vector<std::pair<std::string, double>>{
           {"valid", l0}, {"full", l0 / 2}, {"batch_size", l0 / 2}, {"none", l0}}) {
    a.set("normalization", norm);
    EXPECT_NEAR(scalar(makeDesc("softmax_with_loss", {{2, 3}, {2}}, {{}}, a), {logits, labels}),
                expected, 1e-6)
        << norm;
  }
  a.set("loss_weight", 2.0);
  a.set("normalization", std::string("valid"));
  EXPECT_NEAR(scalar(makeDesc("softmax_with_loss", {{2, 3}, {2}}, {{}}, a), {logits, labels}),
              2 * l0, 1e-6);
  // All labels ignored: the valid normalizer is clamped to 1 and the loss is 0.
  EXPECT_NEAR(scalar(makeDesc("softmax_with_loss", {{2, 3}, {2}}, {{}}, a), {logits, {0, 0}}),
              0.0, 1e-12);
}

TEST(SoftmaxWithLoss, SpatialAxis) {
  // [1, 2, 2]: softmax over axis 1 (two classes) at two positions.
  Data logits = {0, 2, 1, 0}; // position 0: (0, 1), position 1: (2, 0)
  auto d = makeDesc("softmax_with_loss", {{1, 2, 2}, {1, 2}}, {{}});
  double expected = (-logSoftmax({0, 1}, 1) - logSoftmax({2, 0}, 0)) / 2;
  EXPECT_NEAR(scalar(d, {logits, {1, 0}}), expected, 1e-6);
}

TEST(SoftmaxWithLoss, Errors) {
  auto d = makeDesc("softmax_with_loss", {{2, 3}, {2}}, {{}});
  try {
    run1(d, {Data(6, 0), {1, 3}});
    ADD_FAILURE() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("layer 'L_softmax_with_loss' (softmax_with_loss): "
                                         "label 3"),
              std::string::npos)
        << e.what();
  }
  expectCreateError(makeDesc("softmax_with_loss", {{2, 3}, {3}}, {{}}), "the data and label should have the same first dimension");
  expectCreateError(makeDesc("softmax_with_loss", {{2, 3}, {2}}, {{2}}), "expected scalar");
  Attrs a;
  a.set("normalization", std::string("sometimes"));
  expectCreateError(makeDesc("softmax_with_loss", {{2, 3}, {2}}, {{}}, a), "normalization must be one of");
}

TEST(EuclideanLoss, ByHand) {
  auto d = makeDesc("euclidean_loss", {{2, 2}, {2, 2}}, {{}});
  EXPECT_NEAR(scalar(d, {{1, 2, 3, 4}, {0, 0, 1, 1}}), 18.0 / 4, 1e-6);
  Attrs a;
  a.set("loss_weight", 0.5);
  EXPECT_NEAR(scalar(makeDesc("euclidean_loss", {{2, 2}, {2, 2}}, {{}}, a),
                     {{1, 2, 3, 4}, {0, 0, 1, 1}}),
              18.0 / 8, 1e-6);
  expectCreateError(makeDesc("euclidean_loss", {{2, 2}, {2, 3}}, {{}}), "euclidean_loss inputs must have the same count");
}

TEST(SigmoidCrossEntropyLoss, ByHandAndStable) {
  auto naive = [](double x, double t) {
    double s = 1 / (1 + std::exp(-x));
    return -(t * std::log(s) + (1 - t) * std::log(1 - s));
  };
  // Default normalization (batch_size): divide by shape[0] = 2.
  auto d = makeDesc("sigmoid_cross_entropy_loss", {{2, 2}, {2, 2}}, {{}});
  Data x = {0, 2, -1, 0.5f}, t = {1, 0, 0, 1};
  double sum = naive(0, 1) + naive(2, 0) + naive(-1, 0) + naive(0.5, 1);
  EXPECT_NEAR(scalar(d, {x, t}), sum / 2, 1e-6);
  Attrs a;
  a.set("normalization", std::string("full"));
  a.set("loss_weight", 3.0);
  EXPECT_NEAR(scalar(makeDesc("sigmoid_cross_entropy_loss", {{2, 2}, {2, 2}}, {{}}, a), {x, t}),
              3 * sum / 4, 1e-6);
  // Large logits: the naive formula overflows, the stable one gives |x|.
  auto big = makeDesc("sigmoid_cross_entropy_loss", {{2}, {2}}, {{}});
  EXPECT_NEAR(scalar(big, {{100, -100}, {0, 1}}), 100.0, 1e-4);
  expectCreateError(makeDesc("sigmoid_cross_entropy_loss", {{2, 2}, {3}}, {{}}), "same first dimension");
}

TEST(ContrastiveLoss, ByHandBothVersions) {
  Data a = {0, 0, 0, 0}, b = {3, 4, 0.3f, 0.4f}, sim = {1, 0};
  auto d = makeDesc("contrastive_loss", {{2, 2, 1, 1}, {2, 2, 1, 1}, {2, 1, 1, 1}}, {{}});
  // similar: d^2 = 25; dissimilar: d = 0.5, max(1 - 0.5, 0)^2 = 0.25.
  EXPECT_NEAR(scalar(d, {a, b, sim}), (25 + 0.25) / 4, 1e-6);
  Attrs l;
  l.set("legacy_version", int64_t(1));
  l.set("margin", 1.0);
  auto dl = makeDesc("contrastive_loss", {{2, 2, 1, 1}, {2, 2, 1, 1}, {2, 1, 1, 1}}, {{}}, l);
  // legacy: max(1 - d^2, 0) = 0.75.
  EXPECT_NEAR(scalar(dl, {a, b, sim}), (25 + 0.75) / 4, 1e-6);
  Attrs m;
  m.set("margin", 0.2);
  m.set("loss_weight", 2.0);
  auto dm = makeDesc("contrastive_loss", {{2, 2, 1, 1}, {2, 2, 1, 1}, {2, 1, 1, 1}}, {{}}, m);
  EXPECT_NEAR(scalar(dm, {a, b, sim}), 2 * 25.0 / 4, 1e-6);
  expectCreateError(makeDesc("contrastive_loss", {{2, 2}, {2, 2}, {3}}, {{}}), "similar");
}

TEST(Accuracy, TopKTiesAndIgnore) {
  Data logits = {0.1f, 0.5f, 0.4f,   //
                 0.3f, 0.3f, 0.4f,   // label 0 ties with class 1
                 0.9f, 0.05f, 0.05f, // label 2 ties with class 1
                 0.5f, 0.5f, 0.0f};  // label 0 ties with class 1
  Data labels = {1, 0, 2, 0};
  auto make = [](int64_t k) {
    Attrs a;
    a.set("top_k", k);
    return makeDesc("accuracy", {{4, 3}, {4}}, {{}}, a);
  };
  // Ties count against the true class (Caffe: >=).
  EXPECT_NEAR(scalar(make(1), {logits, labels}), 1.0 / 4, 1e-7);
  EXPECT_NEAR(scalar(make(2), {logits, labels}), 2.0 / 4, 1e-7);
  EXPECT_NEAR(scalar(make(3), {logits, labels}), 1.0, 1e-7);
  // Default top_k is 1.
  EXPECT_NEAR(scalar(makeDesc("accuracy", {{4, 3}, {4}}, {{}}), {logits, labels}), 0.25, 1e-7);
  Attrs ig;
  ig.set("ignore_label", int64_t(0));
  EXPECT_NEAR(scalar(makeDesc("accuracy", {{4, 3}, {4}}, {{}}, ig), {logits, labels}), 0.5, 1e-7);
  // Everything ignored -> 0.
  EXPECT_NEAR(scalar(makeDesc("accuracy", {{4, 3}, {4}}, {{}}, ig), {logits, Data(4, 0)}), 0.0,
              1e-7);
  expectCreateError(make(4), "top_k");
  try {
    scalar(make(1), {logits, {0, 0, 0, 5}});
    ADD_FAILURE() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("layer 'L_accuracy' (accuracy): label 5"),
              std::string::npos)
        << e.what();
  }
}

TEST(Accuracy, SpatialAxis) {
  // [1, 2, 3]: classes on axis 1, three positions.
  Data logits = {1, 0, 5, 0, 1, 4};
  auto d = makeDesc("accuracy", {{1, 2, 3}, {1, 3}}, {{}});
  EXPECT_NEAR(scalar(d, {logits, {0, 1, 1}}), 2.0 / 3, 1e-7);
}

TEST(HingeLoss, L1AndL2) {
  Data x = {1, -0.5f, 0.2f, 0.3f, 0.4f, -2};
  Attrs a;
  EXPECT_NEAR(scalar(makeDesc("hinge_loss", {{2, 3}, {2}}, {{}}), {x, {0, 2}}), 3.7, 1e-6);
  a.set("norm", std::string("l2"));
  EXPECT_NEAR(scalar(makeDesc("hinge_loss", {{2, 3}, {2}}, {{}}, a), {x, {0, 2}}), 7.17, 1e-5);
  expectCreateError(makeDesc("hinge_loss", {{2, 3}, {4}}, {{}}),
                    "the data and label should have the same first dimension");
}

TEST(InfogainLoss, IdentityIsSoftmaxWithLoss) {
  Data logits = randomData(12, 170), labels = {0, 2, 1, 1};
  Data eye = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  auto ig = makeDesc("infogain_loss", {{2, 3, 2}, {2, 2}, {3, 3}}, {{}});
  auto swl = makeDesc("softmax_with_loss", {{2, 3, 2}, {2, 2}}, {{}});
  EXPECT_NEAR(scalar(ig, {logits, labels, eye}), scalar(swl, {logits, labels}), 1e-6);
  // Equal logits (p = 1/2) and H row 0 = {1, 0.5}: 1.5 log 2.
  auto h = makeDesc("infogain_loss", {{1, 2}, {1}, {2, 2}}, {{}});
  EXPECT_NEAR(scalar(h, {{0, 0}, {0}, {1, 0.5f, 0, 2}}), 1.5 * std::log(2.0), 1e-6);
  expectCreateError(makeDesc("infogain_loss", {{1, 2}, {1}, {3, 3}}, {{}}),
                    "infogain_loss infogain shape [3, 3] must hold 2 x 2 values");
}

TEST(MultinomialLogisticLoss, LogOfTheLabelsProbability) {
  auto d = makeDesc("multinomial_logistic_loss", {{2, 3}, {2}}, {{}});
  EXPECT_NEAR(scalar(d, {{0.2f, 0.5f, 0.3f, 0.1f, 0.1f, 0.8f}, {1, 2}}),
              -(std::log(0.5) + std::log(0.8)) / 2, 1e-6);
  // A zero probability is clamped to 1e-20 (Caffe's kLOG_THRESHOLD).
  EXPECT_NEAR(scalar(makeDesc("multinomial_logistic_loss", {{1, 2}, {1}}, {{}}), {{1, 0}, {1}}),
              -std::log(1e-20), 1e-3);
  expectCreateError(makeDesc("multinomial_logistic_loss", {{2, 3}, {2, 3}}, {{}}),
                    "label shape [2, 3] must be [N] or [N, 1, 1, 1]");
}

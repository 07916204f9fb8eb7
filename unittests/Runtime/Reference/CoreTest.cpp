//===- CoreTest.cpp - Kernel.h basics and the reference registry ---------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "RefTestUtil.h"

using namespace dlc::rt;
using namespace dlc::rt::test;

TEST(Core, NumElementsAndShapeToString) {
  EXPECT_EQ(numElements({}), 1);
  EXPECT_EQ(numElements({64, 1, 28, 28}), 64 * 28 * 28);
  EXPECT_EQ(numElements({3, 0, 2}), 0);
  EXPECT_EQ(shapeToString({64, 1, 28, 28}), "64x1x28x28");
  EXPECT_EQ(shapeToString({7}), "7");
  EXPECT_EQ(shapeToString({}), "scalar");
}

TEST(Core, AttrsGetters) {
  Attrs a;
  a.set("i", int64_t(3));
  a.set("f", 2.5);
  a.set("s", std::string("max"));
  a.set("is", std::vector<int64_t>{1, 2});
  a.set("fs", std::vector<double>{0.5, 1.5});
  a.set("b", int64_t(1));
  EXPECT_TRUE(a.has("i"));
  EXPECT_FALSE(a.has("nope"));
  EXPECT_EQ(a.getInt("i", 0), 3);
  EXPECT_EQ(a.getInt("nope", 42), 42);
  EXPECT_TRUE(a.getBool("b", false));
  EXPECT_FALSE(a.getBool("nope", false));
  EXPECT_DOUBLE_EQ(a.getFloat("f", 0), 2.5);
  EXPECT_DOUBLE_EQ(a.getFloat("i", 0), 3.0); // integers are accepted as floats
  EXPECT_DOUBLE_EQ(a.getFloat("nope", 7.5), 7.5);
  EXPECT_EQ(a.getString("s", ""), "max");
  EXPECT_EQ(a.getString("nope", "ave"), "ave");
  EXPECT_EQ(a.getInts("is"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(a.getInts("nope", {9}), (std::vector<int64_t>{9}));
  EXPECT_EQ(a.getFloats("fs"), (std::vector<double>{0.5, 1.5}));
  EXPECT_EQ(a.getFloats("is"), (std::vector<double>{1.0, 2.0}));
  EXPECT_TRUE(a.getFloats("nope").empty());
  EXPECT_EQ(a.all().size(), 6u);
}

TEST(Core, AttrsTypeMismatchNamesAttribute) {
  Attrs a;
  a.set("num_output", 2.5);
  a.set("pool", int64_t(1));
  a.set("kernel", std::vector<double>{1.0});
  a.set("coeff", std::string("x"));
  auto expectErr = [](auto fn, const std::string &name) {
    try {
      fn();
      ADD_FAILURE() << "no error for " << name;
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find("'" + name + "'"), std::string::npos)
          << e.what();
    }
  };
  expectErr([&] { a.getInt("num_output", 0); }, "num_output");
  expectErr([&] { a.getBool("num_output", false); }, "num_output");
  expectErr([&] { a.getString("pool", ""); }, "pool");
  expectErr([&] { a.getInts("kernel"); }, "kernel");
  expectErr([&] { a.getFloats("coeff"); }, "coeff");
  expectErr([&] { a.getFloat("coeff", 0); }, "coeff");
}

TEST(Core, RegistryKnowsEveryDialectOp) {
  for (const char *op :
       {"convolution", "deconvolution", "inner_product", "pooling", "lrn", "relu", "sigmoid",
        "tanh", "abs_val", "bnll", "elu", "power", "prelu", "dropout", "softmax",
        "batch_norm", "scale", "bias", "eltwise", "concat", "slice", "crop", "flatten",
        "reshape", "embed", "lstm", "silence", "softmax_with_loss", "euclidean_loss",
        "sigmoid_cross_entropy_loss", "contrastive_loss", "accuracy"})
    EXPECT_TRUE(hasReferenceKernel(op)) << op;
  EXPECT_FALSE(hasReferenceKernel("param"));
  EXPECT_FALSE(hasReferenceKernel("frobnicate"));
}

TEST(Core, UnknownOpIsAnError) {
  expectCreateError(makeDesc("frobnicate", {{1}}, {{1}}), "no reference kernel");
}

TEST(Core, AttributeTypeErrorGetsLayerPrefix) {
  Attrs a;
  a.set("negative_slope", std::string("steep"));
  expectCreateError(makeDesc("relu", {{2}}, {{2}}, a), "'negative_slope'");
}

TEST(Core, WrongArityIsAnError) {
  expectCreateError(makeDesc("relu", {{2}, {2}}, {{2}}), "input");
  expectCreateError(makeDesc("relu", {{2}}, {}), "output");
  expectCreateError(makeDesc("relu", {{2}}, {{3}}), "expected 2");
}

TEST(Core, KernelsAreReusableAcrossRuns) {
  // A kernel is created once and run many times: results must not depend on
  // earlier runs (internal scratch buffers are reset).
  Attrs a;
  a.set("num_output", int64_t(2));
  a.set("kernel", std::vector<int64_t>{2, 2});
  a.set("stride", std::vector<int64_t>{1, 1});
  auto d = makeDesc("deconvolution", {{1, 1, 2, 2}, {1, 2, 2, 2}, {2}}, {{1, 2, 3, 3}}, a);
  auto k = createReferenceKernel(d);
  Data x = randomData(4, 1), w = randomData(8, 2), b = randomData(2, 3);
  Data y1(18), y2(18);
  const float *in[] = {x.data(), w.data(), b.data()};
  float *o1[] = {y1.data()}, *o2[] = {y2.data()};
  k->forward(in, o1);
  k->forward(in, o2);
  EXPECT_EQ(y1, y2);
  k->paramsChanged(); // the reference keeps no copies; this must be harmless
  w[0] += 1.0f;
  k->forward(in, o2);
  EXPECT_NE(y1, y2);
}

TEST(Core, IsParamSizeMismatchIsAnError) {
  auto d = makeDesc("relu", {{2}}, {{2}});
  d.isParam = {false, true};
  expectCreateError(d, "isParam");
}

TEST(Core, EveryOpOfTheOpLibraryHasReferenceKernels) {
  // The op library (generated from the op definitions) is the list: every
  // layer op has a reference kernel, and one for its gradient unless the op
  // definition says it has none.
  for (const dlc::ops::OpSchema *op : dlc::ops::allOps()) {
    EXPECT_TRUE(hasReferenceKernel(op->name)) << op->name;
    EXPECT_EQ(hasReferenceKernel(std::string(op->name) + "_grad"), op->differentiable)
        << op->name;
  }
}

//===- GradCoreTest.cpp - Validation of <op>_grad descriptions ------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "GradTestUtil.h"

using namespace dlc::rt;
using namespace dlc::rt::test;

namespace {
KernelDesc convGrad(std::vector<int64_t> wrt = {0, 1, 2}) {
  Attrs a;
  a.set("num_output", int64_t(2));
  a.set("kernel", std::vector<int64_t>{3, 3});
  auto f = makeDesc("convolution", {{1, 3, 5, 5}, {2, 3, 3, 3}, {2}}, {{1, 2, 3, 3}}, a);
  return gradDesc(f, wrt);
}
} // namespace

TEST(GradCore, Registry) {
  for (const char *op :
       {"convolution", "deconvolution", "inner_product", "pooling", "lrn", "relu", "sigmoid",
        "tanh", "abs_val", "bnll", "elu", "power", "prelu", "dropout", "softmax",
        "batch_norm", "scale", "bias", "eltwise", "concat", "slice", "crop", "flatten",
        "reshape", "embed", "lstm", "softmax_with_loss", "euclidean_loss",
        "sigmoid_cross_entropy_loss", "contrastive_loss"})
    EXPECT_TRUE(hasReferenceKernel(std::string(op) + "_grad")) << op;
  EXPECT_FALSE(hasReferenceKernel("accuracy_grad"));
  EXPECT_FALSE(hasReferenceKernel("silence_grad"));
  EXPECT_FALSE(hasReferenceKernel("convolution_grad_grad"));
  auto acc = makeDesc("accuracy_grad", {{2, 3}, {2}, {}, {}}, {{2, 3}});
  expectCreateError(acc, "no reference kernel for op 'accuracy_grad'");
}

TEST(GradCore, ValidDescriptionIsAccepted) {
  EXPECT_NO_THROW(createReferenceKernel(convGrad()));
  EXPECT_NO_THROW(createReferenceKernel(convGrad({0})));
  EXPECT_NO_THROW(createReferenceKernel(convGrad({1, 2})));
  EXPECT_EQ(createReferenceKernel(convGrad())->implName(), "ref");
}

TEST(GradCore, Wrt) {
  auto missing = convGrad();
  missing.attrs = Attrs();
  missing.attrs.set("num_output", int64_t(2));
  missing.attrs.set("kernel", std::vector<int64_t>{3, 3});
  expectCreateError(missing, "missing attribute 'wrt'");
  auto empty = convGrad({0});
  empty.attrs.set("wrt", std::vector<int64_t>{});
  empty.outputs.clear();
  expectCreateError(empty, "attribute 'wrt' is empty");
  auto order = convGrad({0, 1});
  order.attrs.set("wrt", std::vector<int64_t>{1, 0});
  expectCreateError(order, "strictly ascending");
  auto dup = convGrad({0, 1});
  dup.attrs.set("wrt", std::vector<int64_t>{1, 1});
  expectCreateError(dup, "strictly ascending");
  auto range = convGrad({0});
  range.attrs.set("wrt", std::vector<int64_t>{3});
  expectCreateError(range, "wrt entry 3 is not a forward operand index (0..2)");
  auto type = convGrad({0});
  type.attrs.set("wrt", 0.5);
  expectCreateError(type, "attribute 'wrt' must be an integer array");
}

TEST(GradCore, OperandsWithoutGradient) {
  Attrs e;
  e.set("num_output", int64_t(2));
  e.set("input_dim", int64_t(3));
  auto embed = makeDesc("embed", {{2}, {3, 2}}, {{2, 2}}, e);
  expectCreateError(gradDesc(embed, {0, 1}), "operand 0 has no gradient");
  Attrs l;
  l.set("num_output", int64_t(1));
  auto lstm = makeDesc("lstm", {{1, 1, 1}, {1, 1}, {4, 1}, {4}, {4, 1}}, {{1, 1, 1}}, l);
  expectCreateError(gradDesc(lstm, {1}), "operand 1 has no gradient");
  auto swl = makeDesc("softmax_with_loss", {{2, 3}, {2}}, {{}});
  expectCreateError(gradDesc(swl, {1}), "operand 1 has no gradient");
  Attrs b;
  b.set("use_global_stats", int64_t(1));
  auto bn = makeDesc("batch_norm", {{2, 3}, {3}, {3}, {1}}, {{2, 3}}, b);
  expectCreateError(gradDesc(bn, {0, 2}), "operand 2 has no gradient");
  auto crop = makeDesc("crop", {{1, 1, 4, 4}, {1, 1, 2, 2}}, {{1, 1, 2, 2}});
  expectCreateError(gradDesc(crop, {1}), "operand 1 has no gradient");
  auto cl = makeDesc("contrastive_loss", {{2, 3}, {2, 3}, {2}}, {{}});
  expectCreateError(gradDesc(cl, {0, 2}), "operand 2 has no gradient");
}

TEST(GradCore, CountsAndShapes) {
  auto few = convGrad({0});
  few.inputs.resize(2);
  few.isParam.resize(2);
  expectCreateError(few, "at least 3 inputs");
  // One input too many: the forward conv sees 4 operands.
  auto many = convGrad({0});
  many.inputs.push_back({1, 2, 3, 3});
  many.isParam.push_back(false);
  expectCreateError(many, "forward: expected 2 to 3 input(s), got 4");
  auto outs = convGrad({0, 1});
  outs.outputs.pop_back();
  expectCreateError(outs, "expected 2 output(s) (one per wrt entry), got 1");
  auto outShape = convGrad({1});
  outShape.outputs[0] = {2, 3, 3, 2};
  expectCreateError(outShape, "output 0 has shape 2x3x3x2, expected the shape of operand 1 "
                              "(2x3x3x3)");
  auto dy = convGrad({0});
  dy.inputs[4] = {1, 2, 3, 2};
  expectCreateError(dy, "gradient of result 0 (input 4) has shape 1x2x3x2");
  // The forward description is validated too, with the gradient op's prefix.
  auto w = convGrad({0});
  w.inputs[1] = {2, 3, 3, 2};
  w.outputs[0] = w.inputs[0];
  expectCreateError(w, "forward: convolution weight shape [2, 3, 3, 2] does not match expected [2, 3, 3, 3]");
  auto y = convGrad({0});
  y.inputs[3] = y.inputs[4] = {1, 2, 4, 4};
  expectCreateError(y, "forward: output 0 has shape 1x2x4x4, expected 1x2x3x3");
  auto attr = convGrad({0});
  attr.attrs.set("group", std::string("two"));
  expectCreateError(attr, "attribute 'group' must be an integer");
  auto isParam = convGrad({0});
  isParam.isParam.pop_back();
  expectCreateError(isParam, "isParam has 4 entries for 5 inputs");
}

TEST(GradCore, SliceCounts) {
  Attrs a;
  a.set("axis", int64_t(0));
  auto s = makeDesc("slice", {{4}}, {{2}, {2}}, a);
  auto g = gradDesc(s, {0});
  EXPECT_NO_THROW(createReferenceKernel(g));
  auto even = g;
  even.inputs.pop_back();
  even.isParam.pop_back();
  expectCreateError(even, "expected 1 + 2k inputs");
  auto mismatch = g;
  mismatch.inputs[3] = {3};
  expectCreateError(mismatch, "gradient of result 0 (input 3) has shape 3");
}

TEST(GradCore, GradientsAreWrittenNotAccumulated) {
  // Outputs holding garbage are overwritten (runRef fills them with NaN; here
  // run twice into the same buffers and expect identical results).
  auto d = convGrad();
  auto k = createReferenceKernel(d);
  std::vector<Data> in;
  for (const Shape &s : d.inputs)
    in.push_back(randomData(numElements(s), 5));
  std::vector<const float *> ip;
  for (Data &v : in)
    ip.push_back(v.data());
  std::vector<Data> out;
  for (const Shape &s : d.outputs)
    out.emplace_back(numElements(s), 123.0f);
  std::vector<float *> op;
  for (Data &v : out)
    op.push_back(v.data());
  k->forward(ip.data(), op.data());
  std::vector<Data> first = out;
  k->forward(ip.data(), op.data());
  EXPECT_EQ(out, first);
}

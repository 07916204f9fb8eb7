//===- WorkTest.cpp - The ops' work rules (multiply-adds) -----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// ops::layerWork (dlc/Ops/OpSchema.h): each work rule against the
// multiply-adds counted by hand from the layer's definition, and zero for
// ops without a rule.
//
//===----------------------------------------------------------------------===//

#include "dlc/Ops/Ops.h"

#include <gtest/gtest.h>

using namespace dlc::ops;

namespace {

Work workOf(const char *op, const AttrMap &attrs, const std::vector<Shape> &operands) {
  const OpSchema *schema = lookupOp(op);
  EXPECT_NE(schema, nullptr) << op;
  Work w;
  dlc::Status s = layerWork(*schema, attrs, operands, w);
  EXPECT_FALSE(s.failed()) << s.message();
  return w;
}

TEST(Work, ConvolutionGroupedStridedPadded) {
  // x [2, 6, 9, 9], 4 outputs, 3x3, stride 2, pad 1, group 2: output 5x5,
  // each output element sums 6/2 channels x 9 taps.
  AttrMap a;
  a.set("num_output", int64_t(4));
  a.set("kernel", std::vector<int64_t>{3, 3});
  a.set("stride", std::vector<int64_t>{2, 2});
  a.set("pad", std::vector<int64_t>{1, 1});
  a.set("group", int64_t(2));
  Work w = workOf("convolution", a, {{2, 6, 9, 9}, {4, 3, 3, 3}, {4}});
  const double macs = 2.0 * 4 * 5 * 5 * 3 * 9;
  EXPECT_EQ(w.forward, macs);
  EXPECT_EQ(w.backwardData, macs);
  EXPECT_EQ(w.backwardWeights, macs);
}

TEST(Work, DeconvolutionCountsItsInputSide) {
  // x [1, 4, 5, 5] -> 2 outputs, 4x4 kernel, stride 2: every input element
  // scatters into 2 channels x 16 taps.
  AttrMap a;
  a.set("num_output", int64_t(2));
  a.set("kernel", std::vector<int64_t>{4, 4});
  a.set("stride", std::vector<int64_t>{2, 2});
  Work w = workOf("deconvolution", a, {{1, 4, 5, 5}, {4, 2, 4, 4}});
  EXPECT_EQ(w.forward, 1.0 * 4 * 25 * 2 * 16);
  EXPECT_EQ(w.backwardWeights, w.forward);
}

TEST(Work, InnerProduct) {
  AttrMap a;
  a.set("num_output", int64_t(10));
  Work w = workOf("inner_product", a, {{64, 8, 2, 2}, {10, 32}, {10}});
  EXPECT_EQ(w.forward, 64.0 * 32 * 10);
  EXPECT_EQ(w.backwardData, w.forward);
  EXPECT_EQ(w.backwardWeights, w.forward);
}

TEST(Work, LstmAndRnnWithStaticInput) {
  // T 5, N 3, I 7, H 4, static input of 6: per step and stream 4H (I + H)
  // products, the static projection once per stream; the joint backward
  // twice that, in its one (backward-data) kernel.
  const int64_t T = 5, N = 3, I = 7, H = 4, S = 6;
  AttrMap a;
  a.set("num_output", H);
  Work lstm = workOf("lstm", a,
                     {{T, N, I}, {T, N}, {N, S}, {4 * H, I}, {4 * H}, {4 * H, S}, {4 * H, H}});
  const double fwd = double(T * N * 4 * H * (I + H) + N * 4 * H * S);
  EXPECT_EQ(lstm.forward, fwd);
  EXPECT_EQ(lstm.backwardData, 2 * fwd);
  EXPECT_EQ(lstm.backwardWeights, 0.0);
  // RNN: h = tanh(W_hh h + W_xh x + ...), o = tanh(W_ho h + b_o).
  Work rnn = workOf("rnn", a, {{T, N, I}, {T, N}, {H, I}, {H}, {H, H}, {H, H}, {H}});
  EXPECT_EQ(rnn.forward, double(T * N * H * (I + 2 * H)));
  EXPECT_EQ(rnn.backwardData, 2 * rnn.forward);
}

TEST(Work, OpsWithoutARuleCountNothing) {
  Work w = workOf("relu", AttrMap(), {{2, 3}});
  EXPECT_EQ(w.forward + w.backwardData + w.backwardWeights, 0.0);
  EXPECT_EQ(lookupOp("relu")->work, nullptr);
  EXPECT_NE(lookupOp("convolution")->work, nullptr);
}

} // namespace

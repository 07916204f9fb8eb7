//===- ShapeTest.cpp - concat, slice, crop, flatten, reshape, silence -----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "RefTestUtil.h"

using namespace dlc::rt;
using namespace dlc::rt::test;

TEST(Concat, ChannelsAndBatch) {
  // Default axis 1: [1, 1, 2] ++ [1, 2, 2] -> [1, 3, 2].
  auto d = makeDesc("concat", {{1, 1, 2}, {1, 2, 2}}, {{1, 3, 2}});
  expectNear(run1(d, {{1, 2}, {3, 4, 5, 6}}), {1, 2, 3, 4, 5, 6});
  // axis 1 with batch 2 interleaves per sample.
  auto d2 = makeDesc("concat", {{2, 1}, {2, 2}}, {{2, 3}});
  expectNear(run1(d2, {{1, 2}, {3, 4, 5, 6}}), {1, 3, 4, 2, 5, 6});
  Attrs a;
  a.set("axis", int64_t(-2));
  auto d0 = makeDesc("concat", {{1, 2}, {2, 2}}, {{3, 2}}, a);
  expectNear(run1(d0, {{1, 2}, {3, 4, 5, 6}}), {1, 2, 3, 4, 5, 6});
  expectCreateError(makeDesc("concat", {{2, 1}, {3, 2}}, {{2, 3}}), "concat input 1 shape [3, 2]");
  expectCreateError(makeDesc("concat", {{2, 1}, {2, 2}}, {{2, 4}}), "expected 2x3");
}

TEST(Slice, PointsAndEqualParts) {
  Attrs a;
  a.set("slice_points", std::vector<int64_t>{1, 3});
  auto d = makeDesc("slice", {{2, 4}}, {{2, 1}, {2, 2}, {2, 1}}, a);
  auto outs = runRef(d, {iota(8)});
  expectNear(outs[0], {1, 5});
  expectNear(outs[1], {2, 3, 6, 7});
  expectNear(outs[2], {4, 8});
  Attrs e;
  e.set("axis", int64_t(0));
  auto eq = makeDesc("slice", {{4, 1}}, {{2, 1}, {2, 1}}, e);
  auto halves = runRef(eq, {iota(4)});
  expectNear(halves[0], {1, 2});
  expectNear(halves[1], {3, 4});
  expectCreateError(makeDesc("slice", {{2, 5}}, {{2, 2}, {2, 3}}), "equal parts");
  Attrs bad;
  bad.set("slice_points", std::vector<int64_t>{3, 1});
  expectCreateError(makeDesc("slice", {{2, 4}}, {{2, 3}, {2, -2}, {2, 3}}, bad),
                    "strictly increasing");
}

TEST(Crop, OffsetsForms) {
  Data x = iota(16); // 1x1x4x4
  // Default axis 2, one offset for every axis >= 2.
  Attrs a;
  a.set("offset", std::vector<int64_t>{1});
  auto d = makeDesc("crop", {{1, 1, 4, 4}, {1, 1, 2, 2}}, {{1, 1, 2, 2}}, a);
  expectNear(run1(d, {x, Data(4, 0)}), {6, 7, 10, 11});
  // Per-axis offsets.
  a.set("offset", std::vector<int64_t>{2, 1});
  auto dp = makeDesc("crop", {{1, 1, 4, 4}, {1, 1, 2, 3}}, {{1, 1, 2, 3}}, a);
  expectNear(run1(dp, {x, Data(6, 0)}), {10, 11, 12, 14, 15, 16});
  // No offset: the top-left corner; the reference's batch/channels are ignored below axis.
  auto d0 = makeDesc("crop", {{1, 1, 4, 4}, {5, 3, 1, 2}}, {{1, 1, 1, 2}});
  expectNear(run1(d0, {x, Data(30, 0)}), {1, 2});
  // axis 1 crops channels too.
  Attrs c;
  c.set("axis", int64_t(1));
  c.set("offset", std::vector<int64_t>{1});
  auto dc = makeDesc("crop", {{1, 2, 2, 2}, {1, 1, 1, 1}}, {{1, 1, 1, 1}}, c);
  expectNear(run1(dc, {iota(8), {0}}), {8});
  a.set("offset", std::vector<int64_t>{3});
  expectCreateError(makeDesc("crop", {{1, 1, 4, 4}, {1, 1, 2, 2}}, {{1, 1, 2, 2}}, a),
                    "is smaller than the reference size");
  a.set("offset", std::vector<int64_t>{1, 1, 1});
  expectCreateError(makeDesc("crop", {{1, 1, 4, 4}, {1, 1, 2, 2}}, {{1, 1, 2, 2}}, a),
                    "crop needs 0, 1 or 2 offsets");
}

TEST(Flatten, AxesAndCopy) {
  auto d = makeDesc("flatten", {{2, 3, 4}}, {{2, 12}});
  expectNearData(run1(d, {iota(24)}), iota(24));
  Attrs a;
  a.set("axis", int64_t(0));
  a.set("end_axis", int64_t(1));
  EXPECT_NO_THROW(createReferenceKernel(makeDesc("flatten", {{2, 3, 4}}, {{6, 4}}, a)));
  expectCreateError(makeDesc("flatten", {{2, 3, 4}}, {{2, 3, 4}}), "expected 2x12");
}

TEST(Reshape, CaffeRules) {
  auto check = [](Shape in, std::vector<int64_t> spec, Shape out, int64_t axis = 0,
                  int64_t numAxes = -1) {
    Attrs a;
    a.set("shape", spec);
    a.set("axis", axis);
    a.set("num_axes", numAxes);
    auto d = makeDesc("reshape", {in}, {out}, a);
    int64_t n = numElements(in);
    expectNearData(run1(d, {iota(n)}), iota(n));
  };
  check({2, 3, 4}, {0, -1}, {2, 12});
  check({2, 3, 4}, {-1}, {24});
  check({2, 3, 4}, {4, 0, 2}, {4, 3, 2});
  // Replace only axis 1 (num_axes 1) by [3, 1].
  check({2, 3, 4}, {3, 1}, {2, 3, 1, 4}, 1, 1);
  // Insert an axis at the end (axis -1 means after the last).
  check({2, 3}, {1}, {2, 3, 1}, -1, 0);
  Attrs a;
  a.set("shape", std::vector<int64_t>{5, -1});
  expectCreateError(makeDesc("reshape", {{2, 3, 4}}, {{5, 5}}, a), "divisible");
  a.set("shape", std::vector<int64_t>{-1, -1});
  expectCreateError(makeDesc("reshape", {{2, 3, 4}}, {{4, 6}}, a), "at most a single (1) value of -1");
  a.set("shape", std::vector<int64_t>{4, 7});
  expectCreateError(makeDesc("reshape", {{2, 3, 4}}, {{4, 7}}, a), "reshape output count 28");
  a.set("shape", std::vector<int64_t>{4, 6});
  expectCreateError(makeDesc("reshape", {{2, 3, 4}}, {{6, 4}}, a), "expected 4x6");
  expectCreateError(makeDesc("reshape", {{2, 3, 4}}, {{24}}), "missing attribute 'shape'");
}

TEST(Silence, NoOutputs) {
  auto k = createReferenceKernel(makeDesc("silence", {{2}, {3}}, {}));
  Data a = {1, 2}, b = {3, 4, 5};
  const float *in[] = {a.data(), b.data()};
  k->forward(in, nullptr);
  expectNear(a, {1, 2});
  expectCreateError(makeDesc("silence", {{2}}, {{2}}), "0 output");
}

TEST(Tile, AlongAnAxis) {
  Attrs a;
  a.set("tiles", int64_t(2));
  expectNear(run1(makeDesc("tile", {{2, 3}}, {{2, 6}}, a), {iota(6)}),
             {1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6});
  a.set("axis", int64_t(0));
  expectNear(run1(makeDesc("tile", {{2, 3}}, {{4, 3}}, a), {iota(6)}),
             {1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6});
  a.set("tiles", int64_t(0));
  expectCreateError(makeDesc("tile", {{2, 3}}, {{0, 3}}, a), "tile tiles must be positive, got 0");
}

TEST(Filter, KeepsSelectedItemsAndReportsTheirCount) {
  // Two inputs, selector [4, 1]; any non-zero selector value selects.
  auto d = makeDesc("filter", {{4, 2}, {4}, {4, 1}}, {{4, 2}, {4}});
  auto k = createReferenceKernel(d);
  Data x = iota(8), l = {10, 11, 12, 13}, sel = {0.5f, 0, 0, -1}, y(8, NAN), m(4, NAN);
  const float *in[] = {x.data(), l.data(), sel.data()};
  float *out[] = {y.data(), m.data()};
  k->forward(in, out);
  std::vector<Shape> produced = k->producedShapes();
  ASSERT_EQ(produced.size(), 2u);
  EXPECT_EQ(produced[0], (Shape{2, 2}));
  EXPECT_EQ(produced[1], (Shape{2}));
  expectNear(Data(y.begin(), y.begin() + 4), {1, 2, 7, 8});
  expectNear(Data(m.begin(), m.begin() + 2), {10, 13});
  // Nothing selected: empty results.
  sel = {0, 0, 0, 0};
  k->forward(in, out);
  EXPECT_EQ(k->producedShapes()[0], (Shape{0, 2}));
  expectCreateError(makeDesc("filter", {{4, 2}, {3}}, {{4, 2}}),
                    "filter input 0 [4, 2] must have the same 0th dimension as the selector [3]");
  expectCreateError(makeDesc("filter", {{4, 2}, {4, 2}}, {{4, 2}}),
                    "filter selector dimensions must be singletons (1), except the first");
}

TEST(BatchReindex, GathersItems) {
  auto d = makeDesc("batch_reindex", {{3, 2}, {3}}, {{3, 2}});
  expectNear(run1(d, {iota(6), {2, 0, 2}}), {5, 6, 1, 2, 5, 6});
  auto fewer = makeDesc("batch_reindex", {{3, 2}, {1}}, {{1, 2}});
  expectNear(run1(fewer, {iota(6), {1}}), {3, 4});
  auto k = createReferenceKernel(d);
  Data x = iota(6), idx = {0, 3, 1}, y(6);
  const float *in[] = {x.data(), idx.data()};
  float *out[] = {y.data()};
  try {
    k->forward(in, out);
    ADD_FAILURE() << "no error for an index out of range";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("index 3.000000 at position 1 is not an integer in [0, 3)"),
              std::string::npos)
        << e.what();
  }
  expectCreateError(makeDesc("batch_reindex", {{3, 2}, {3, 1}}, {{3, 2}}),
                    "batch_reindex indices must have 1 axis");
}

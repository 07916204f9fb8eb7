//===- PoolTest.cpp - pooling and LRN -------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "RefTestUtil.h"

#include <cfloat>

using namespace dlc::rt;
using namespace dlc::rt::test;

namespace {
Attrs poolAttrs(const std::string &pool, int64_t k, int64_t s, int64_t p,
                const std::string &round = "ceil") {
  Attrs a;
  a.set("pool", pool);
  a.set("kernel", std::vector<int64_t>{k, k});
  a.set("stride", std::vector<int64_t>{s, s});
  a.set("pad", std::vector<int64_t>{p, p});
  a.set("round_mode", round);
  return a;
}
} // namespace

TEST(Pooling, MaxCeilClipsTheLastWindowToTheInput) {
  // 4x4 input 1..16, kernel 3, stride 2: ceil gives 2x2, the second window
  // (rows/cols 2..4) is clipped to 2..3.
  auto d = makeDesc("pooling", {{1, 1, 4, 4}}, {{1, 1, 2, 2}}, poolAttrs("max", 3, 2, 0));
  expectNear(run1(d, {iota(16)}), {11, 12, 15, 16});
  auto f = makeDesc("pooling", {{1, 1, 4, 4}}, {{1, 1, 1, 1}},
                    poolAttrs("max", 3, 2, 0, "floor"));
  expectNear(run1(f, {iota(16)}), {11});
}

TEST(Pooling, CeilDropsAWindowStartingInThePadding) {
  // 3x3 input, kernel 2, stride 2, pad 1: ceil((3+2-2)/2)+1 = 3, but the third
  // window would start at 3 = i (in the padding), so Caffe's clip gives 2.
  auto wrong = makeDesc("pooling", {{1, 1, 3, 3}}, {{1, 1, 3, 3}}, poolAttrs("max", 2, 2, 1));
  expectCreateError(wrong, "expected 1x1x2x2");
  auto d = makeDesc("pooling", {{1, 1, 3, 3}}, {{1, 1, 2, 2}}, poolAttrs("max", 2, 2, 1));
  expectNear(run1(d, {iota(9)}), {1, 3, 7, 9});
  // Average: windows [-1,1) and [1,3) both count 2 rows, so every divisor is 4.
  auto a = makeDesc("pooling", {{1, 1, 3, 3}}, {{1, 1, 2, 2}}, poolAttrs("ave", 2, 2, 1));
  expectNear(run1(a, {iota(9)}), {1 / 4.0, 5 / 4.0, 11 / 4.0, 28 / 4.0});
}

TEST(Pooling, NoClipWithoutPadding) {
  // Caffe clips only when the layer is padded: 3x3 input, kernel 1, stride 3,
  // pad 0 gives ceil(2/3)+1 = 2 per axis, the second window starting past the
  // input (empty; max pooling yields -FLT_MAX there, as in Caffe).
  auto d = makeDesc("pooling", {{1, 1, 3, 3}}, {{1, 1, 2, 2}}, poolAttrs("max", 1, 3, 0));
  expectNear(run1(d, {iota(9)}), {1, -FLT_MAX, -FLT_MAX, -FLT_MAX});
  expectCreateError(
      makeDesc("pooling", {{1, 1, 3, 3}}, {{1, 1, 1, 1}}, poolAttrs("max", 1, 3, 0)),
      "expected 1x1x2x2");
}

TEST(Pooling, AverageDivisorCountsPaddingUpToInputPlusPad) {
  // 4x4 ones, kernel 3, stride 2, pad 1 -> 3x3. Window starts -1, 1, 3;
  // padded extents min(start+3, 4+1): 3, 3, 2; valid extents 2, 3, 1.
  auto d = makeDesc("pooling", {{1, 1, 4, 4}}, {{1, 1, 3, 3}}, poolAttrs("ave", 3, 2, 1));
  std::vector<double> r = {2.0 / 3, 1.0, 1.0 / 2};
  std::vector<double> expected;
  for (double a : r)
    for (double b : r)
      expected.push_back(a * b);
  expectNear(run1(d, {Data(16, 1.0f)}), expected);
}

TEST(Pooling, MaxWithNegativeValuesIgnoresPadding) {
  // Padding never contributes zeros to max pooling.
  auto d = makeDesc("pooling", {{1, 1, 2, 2}}, {{1, 1, 2, 2}}, poolAttrs("max", 2, 1, 1));
  // ceil((2+2-2)/1)+1 = 3; (3-1)*1 >= 2+1? no -> 3. Use the right shape.
  auto d3 = makeDesc("pooling", {{1, 1, 2, 2}}, {{1, 1, 3, 3}}, poolAttrs("max", 2, 1, 1));
  expectNear(run1(d3, {{-1, -2, -3, -4}}), {-1, -1, -2, -1, -1, -2, -3, -3, -4});
  expectCreateError(d, "expected 1x1x3x3");
}

TEST(Pooling, GlobalAndStochastic) {
  Attrs g;
  g.set("pool", std::string("ave"));
  g.set("global_pooling", int64_t(1));
  auto d = makeDesc("pooling", {{1, 2, 2, 3}}, {{1, 2, 1, 1}}, g);
  expectNear(run1(d, {iota(12)}), {3.5, 9.5});
  g.set("pool", std::string("max"));
  expectNear(run1(makeDesc("pooling", {{1, 2, 2, 3}}, {{1, 2, 1, 1}}, g), {iota(12)}),
             {6, 12});
  // Stochastic at test time: sum(x^2) / sum(x) over each window.
  auto s = makeDesc("pooling", {{1, 1, 2, 4}}, {{1, 1, 1, 2}}, poolAttrs("stochastic", 2, 2, 0));
  expectNear(run1(s, {{1, 2, 5, 6, 3, 4, 7, 8}}), {30.0 / 10, 174.0 / 26});
}

TEST(Pooling, DefaultsAndErrors) {
  Attrs a;
  a.set("kernel", std::vector<int64_t>{2, 2});
  // Defaults: max, stride 1, pad 0, ceil.
  expectNear(run1(makeDesc("pooling", {{1, 1, 2, 3}}, {{1, 1, 1, 2}}, a), {iota(6)}), {5, 6});
  expectCreateError(makeDesc("pooling", {{1, 1, 4, 4}}, {{1, 1, 2, 2}}, poolAttrs("min", 2, 2, 0)),
                    "pool must be one of");
  expectCreateError(makeDesc("pooling", {{1, 4, 4}}, {{1, 2, 2}}, poolAttrs("max", 2, 2, 0)),
                    "4 axes");
  expectCreateError(makeDesc("pooling", {{1, 1, 4, 4}}, {{1, 1, 3, 3}}, poolAttrs("max", 2, 2, 2)),
                    "must be smaller than kernel");
  expectCreateError(makeDesc("pooling", {{1, 1, 4, 4}}, {{1, 1, 2, 2}}, Attrs()),
                    "pooling kernel must have 2 entries");
}

namespace {
Attrs lrnAttrs(int64_t size, double alpha, double beta, double k, const std::string &region) {
  Attrs a;
  a.set("local_size", size);
  a.set("alpha", alpha);
  a.set("beta", beta);
  a.set("k", k);
  a.set("norm_region", region);
  return a;
}
} // namespace

TEST(Lrn, AcrossChannelsByHand) {
  // local_size 3, alpha 3 (alpha/n = 1), beta 1, k 1 on channels [1, 2, 3].
  auto d = makeDesc("lrn", {{1, 3, 1, 1}}, {{1, 3, 1, 1}}, lrnAttrs(3, 3, 1, 1, "across_channels"));
  expectNear(run1(d, {{1, 2, 3}}), {1.0 / 6, 2.0 / 15, 3.0 / 14});
}

TEST(Lrn, AcrossChannelsMatchesFormula) {
  int64_t n = 2, c = 7, h = 2, w = 3, size = 5;
  double alpha = 0.7, beta = 0.75, k = 2.0;
  Data x = randomData(n * c * h * w, 21, -2, 2);
  std::vector<double> expected(x.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < h * w; ++i) {
        double s = 0;
        for (int64_t j = ch - size / 2; j <= ch + size / 2; ++j)
          if (j >= 0 && j < c) {
            double v = x[(b * c + j) * h * w + i];
            s += v * v;
          }
        double v = x[(b * c + ch) * h * w + i];
        expected[(b * c + ch) * h * w + i] = v / std::pow(k + alpha / size * s, beta);
      }
  auto d = makeDesc("lrn", {{n, c, h, w}}, {{n, c, h, w}},
                    lrnAttrs(size, alpha, beta, k, "across_channels"));
  expectNear(run1(d, {x}), expected);
}

TEST(Lrn, WithinChannelByHandIgnoresK) {
  // 3x3 ones, local_size 3, alpha 9 (alpha/n^2 = 1), beta 1: y = 1/(1 + #in-window).
  for (double k : {1.0, 5.0}) {
    auto d = makeDesc("lrn", {{1, 1, 3, 3}}, {{1, 1, 3, 3}}, lrnAttrs(3, 9, 1, k, "within_channel"));
    expectNear(run1(d, {Data(9, 1.0f)}),
               {1 / 5.0, 1 / 7.0, 1 / 5.0, 1 / 7.0, 1 / 10.0, 1 / 7.0, 1 / 5.0, 1 / 7.0, 1 / 5.0});
  }
}

TEST(Lrn, WithinChannelMatchesFormula) {
  int64_t c = 2, h = 5, w = 4, size = 3;
  double alpha = 0.5, beta = 0.75;
  Data x = randomData(c * h * w, 22, -2, 2);
  std::vector<double> expected(x.size());
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        double s = 0;
        for (int64_t a = i - 1; a <= i + 1; ++a)
          for (int64_t b = j - 1; b <= j + 1; ++b)
            if (a >= 0 && a < h && b >= 0 && b < w) {
              double v = x[(ch * h + a) * w + b];
              s += v * v;
            }
        double v = x[(ch * h + i) * w + j];
        expected[(ch * h + i) * w + j] = v * std::pow(1 + alpha / (size * size) * s, -beta);
      }
  auto d = makeDesc("lrn", {{1, c, h, w}}, {{1, c, h, w}},
                    lrnAttrs(size, alpha, beta, 1.0, "within_channel"));
  expectNear(run1(d, {x}), expected);
}

TEST(Lrn, DefaultsAndErrors) {
  // Defaults: local_size 5, alpha 1, beta 0.75, k 1, across channels.
  auto d = makeDesc("lrn", {{1, 1, 1, 1}}, {{1, 1, 1, 1}});
  expectNear(run1(d, {{2}}), {2 / std::pow(1 + 4.0 / 5, 0.75)});
  expectCreateError(makeDesc("lrn", {{1, 1, 1, 1}}, {{1, 1, 1, 1}},
                             lrnAttrs(4, 1, 1, 1, "across_channels")),
                    "odd");
  expectCreateError(makeDesc("lrn", {{1, 1, 1, 1}}, {{1, 1, 1, 1}},
                             lrnAttrs(3, 1, 1, 1, "sideways")),
                    "norm_region must be one of");
}

namespace {
Attrs sppAttrs(int64_t height, const std::string &pool) {
  Attrs a;
  a.set("pyramid_height", height);
  a.set("pool", pool);
  return a;
}
} // namespace

TEST(Spp, LevelsFlattenedAndConcatenated) {
  // 4x4 image: level 0 is the global max, level 1 the 2x2 max pooling.
  auto d = makeDesc("spp", {{1, 1, 4, 4}}, {{1, 5}}, sppAttrs(2, "max"));
  expectNear(run1(d, {iota(16)}), {16, 6, 8, 14, 16});
  // One level is the pooling itself, keeping its 4-D shape.
  auto one = makeDesc("spp", {{1, 1, 4, 4}}, {{1, 1, 1, 1}}, sppAttrs(1, "max"));
  expectNear(run1(one, {iota(16)}), {16});
}

TEST(Spp, LevelsAreCaffePoolings) {
  // 3x3 input, level 1: kernel ceil(3/2) = 2, stride 2, pad (2*2-3+1)/2 = 1.
  Data x = randomData(2 * 3 * 9, 21);
  auto spp = makeDesc("spp", {{2, 3, 3, 3}}, {{2, 15}}, sppAttrs(2, "ave"));
  Data y = run1(spp, {x});
  Data level0 = run1(makeDesc("pooling", {{2, 3, 3, 3}}, {{2, 3, 1, 1}}, poolAttrs("ave", 3, 3, 0)),
                     {x});
  Data level1 = run1(makeDesc("pooling", {{2, 3, 3, 3}}, {{2, 3, 2, 2}}, poolAttrs("ave", 2, 2, 1)),
                     {x});
  for (int n = 0; n < 2; ++n)
    for (int i = 0; i < 15; ++i) {
      float want = i < 3 ? level0[n * 3 + i] : level1[n * 12 + i - 3];
      EXPECT_FLOAT_EQ(y[n * 15 + i], want) << n << ", " << i;
    }
  // A pyramid finer than the image fails like Caffe's pooling.
  expectCreateError(makeDesc("spp", {{1, 1, 2, 2}}, {{1, 21}}, sppAttrs(3, "max")),
                    "spp level 2: pad 1x1 must be smaller than kernel 1x1");
}

//===- ConvTest.cpp - convolution, deconvolution, inner_product, embed ---===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "RefTestUtil.h"

using namespace dlc::rt;
using namespace dlc::rt::test;

namespace {

Attrs convAttrs(int64_t numOutput, std::vector<int64_t> k, std::vector<int64_t> s,
                std::vector<int64_t> p, std::vector<int64_t> d, int64_t group = 1) {
  Attrs a;
  a.set("num_output", numOutput);
  a.set("kernel", k);
  a.set("stride", s);
  a.set("pad", p);
  a.set("dilation", d);
  a.set("group", group);
  return a;
}

/// Independent oracle: explicit im2col buffer and a matrix product per group.
Data im2colConv(const Data &x, const Data &w, const Data *bias, int64_t n, int64_t c,
                int64_t h, int64_t wd, int64_t m, int64_t kh, int64_t kw, int64_t sh,
                int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t group,
                int64_t &oh, int64_t &ow) {
  oh = (h + 2 * ph - (dh * (kh - 1) + 1)) / sh + 1;
  ow = (wd + 2 * pw - (dw * (kw - 1) + 1)) / sw + 1;
  int64_t cg = c / group, mg = m / group, rows = cg * kh * kw, cols = oh * ow;
  Data y(n * m * cols);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t g = 0; g < group; ++g) {
      std::vector<double> col(rows * cols, 0.0);
      for (int64_t ci = 0; ci < cg; ++ci)
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j)
            for (int64_t yy = 0; yy < oh; ++yy)
              for (int64_t xx = 0; xx < ow; ++xx) {
                int64_t hy = yy * sh - ph + i * dh, wx = xx * sw - pw + j * dw;
                if (hy >= 0 && hy < h && wx >= 0 && wx < wd)
                  col[((ci * kh + i) * kw + j) * cols + yy * ow + xx] =
                      x[((b * c + g * cg + ci) * h + hy) * wd + wx];
              }
      for (int64_t mo = 0; mo < mg; ++mo)
        for (int64_t q = 0; q < cols; ++q) {
          double acc = bias ? (*bias)[g * mg + mo] : 0.0;
          for (int64_t r = 0; r < rows; ++r)
            acc += double(w[(g * mg + mo) * rows + r]) * col[r * cols + q];
          y[(b * m + g * mg + mo) * cols + q] = float(acc);
        }
    }
  return y;
}

double dot(const Data &a, const Data &b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    s += double(a[i]) * double(b[i]);
  return s;
}

} // namespace

TEST(Convolution, HandComputedPadStride) {
  // 3x3 input 1..9, 3x3 kernel of ones, pad 1, stride 2 -> 2x2 corner sums.
  auto d = makeDesc("convolution", {{1, 1, 3, 3}, {1, 1, 3, 3}}, {{1, 1, 2, 2}},
                    convAttrs(1, {3, 3}, {2, 2}, {1, 1}, {1, 1}));
  expectNear(run1(d, {iota(9), Data(9, 1.0f)}), {12, 16, 24, 28});
}

TEST(Convolution, HandComputedBiasAndDilation) {
  // 2x2 kernel [1 0; 0 -1] plus bias 0.5: x[i][j] - x[i+1][j+1] + 0.5.
  auto d = makeDesc("convolution", {{1, 1, 3, 3}, {1, 1, 2, 2}, {1}}, {{1, 1, 2, 2}},
                    convAttrs(1, {2, 2}, {1, 1}, {0, 0}, {1, 1}));
  expectNear(run1(d, {iota(9), {1, 0, 0, -1}, {0.5f}}), {-3.5, -3.5, -3.5, -3.5});
  // Dilation 2 picks the four corners.
  auto dd = makeDesc("convolution", {{1, 1, 3, 3}, {1, 1, 2, 2}}, {{1, 1, 1, 1}},
                     convAttrs(1, {2, 2}, {1, 1}, {0, 0}, {2, 2}));
  expectNear(run1(dd, {iota(9), {1, 2, 3, 4}}), {1 * 1 + 3 * 2 + 7 * 3 + 9 * 4});
}

TEST(Convolution, DefaultsForStridePadDilationGroup) {
  Attrs a;
  a.set("num_output", int64_t(1));
  a.set("kernel", std::vector<int64_t>{2, 2});
  auto d = makeDesc("convolution", {{1, 1, 3, 3}, {1, 1, 2, 2}}, {{1, 1, 2, 2}}, a);
  expectNear(run1(d, {iota(9), Data(4, 1.0f)}), {12, 16, 24, 28});
}

struct ConvCase {
  int64_t n, c, h, w, m, kh, kw, sh, sw, ph, pw, dh, dw, group;
  bool bias;
};

class ConvMatchesIm2col : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvMatchesIm2col, Random) {
  ConvCase p = GetParam();
  int64_t oh, ow;
  Data x = randomData(p.n * p.c * p.h * p.w, 1);
  Data w = randomData(p.m * (p.c / p.group) * p.kh * p.kw, 2);
  Data b = randomData(p.m, 3);
  Data expected = im2colConv(x, w, p.bias ? &b : nullptr, p.n, p.c, p.h, p.w, p.m, p.kh,
                             p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.group, oh, ow);
  std::vector<Shape> ins = {{p.n, p.c, p.h, p.w}, {p.m, p.c / p.group, p.kh, p.kw}};
  std::vector<Data> data = {x, w};
  if (p.bias) {
    ins.push_back({p.m});
    data.push_back(b);
  }
  auto d = makeDesc("convolution", ins, {{p.n, p.m, oh, ow}},
                    convAttrs(p.m, {p.kh, p.kw}, {p.sh, p.sw}, {p.ph, p.pw}, {p.dh, p.dw},
                              p.group));
  expectNearData(run1(d, data), expected, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConvMatchesIm2col,
    ::testing::Values(ConvCase{2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},
                      ConvCase{1, 4, 9, 8, 6, 3, 2, 2, 3, 1, 0, 1, 1, 2, true},
                      ConvCase{2, 6, 10, 10, 6, 3, 3, 1, 2, 2, 1, 2, 3, 3, false},
                      ConvCase{1, 4, 5, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 4, true},
                      ConvCase{1, 2, 11, 11, 3, 5, 5, 4, 4, 2, 2, 1, 1, 1, false}));

TEST(Convolution, OneDimensionalEqualsHeightOneImage) {
  Data x = randomData(2 * 3 * 10, 4), w = randomData(4 * 3 * 3, 5), b = randomData(4, 6);
  auto d1 = makeDesc("convolution", {{2, 3, 10}, {4, 3, 3}, {4}}, {{2, 4, 5}},
                     convAttrs(4, {3}, {2}, {1}, {1}));
  auto d2 = makeDesc("convolution", {{2, 3, 1, 10}, {4, 3, 1, 3}, {4}}, {{2, 4, 1, 5}},
                     convAttrs(4, {1, 3}, {1, 2}, {0, 1}, {1, 1}));
  Data y1 = run1(d1, {x, w, b});
  expectNearData(y1, run1(d2, {x, w, b}), 1e-6);
}

TEST(Convolution, ThreeDimensionalMatchesDirectLoops) {
  int64_t n = 1, c = 2, D = 4, H = 5, W = 3, m = 2, kd = 2, kh = 3, kw = 2;
  int64_t sd = 2, sh = 1, sw = 1, pd = 1, ph = 1, pw = 0;
  int64_t od = (D + 2 * pd - kd) / sd + 1, oh = (H + 2 * ph - kh) / sh + 1,
          ow = (W + 2 * pw - kw) / sw + 1;
  Data x = randomData(n * c * D * H * W, 7), w = randomData(m * c * kd * kh * kw, 8);
  Data expected(n * m * od * oh * ow);
  for (int64_t mo = 0; mo < m; ++mo)
    for (int64_t z = 0; z < od; ++z)
      for (int64_t yy = 0; yy < oh; ++yy)
        for (int64_t xx = 0; xx < ow; ++xx) {
          double acc = 0;
          for (int64_t ci = 0; ci < c; ++ci)
            for (int64_t a = 0; a < kd; ++a)
              for (int64_t i = 0; i < kh; ++i)
                for (int64_t j = 0; j < kw; ++j) {
                  int64_t pz = z * sd - pd + a, py = yy * sh - ph + i, px = xx * sw - pw + j;
                  if (pz < 0 || pz >= D || py < 0 || py >= H || px < 0 || px >= W)
                    continue;
                  acc += double(x[((ci * D + pz) * H + py) * W + px]) *
                         double(w[(((mo * c + ci) * kd + a) * kh + i) * kw + j]);
                }
          expected[((mo * od + z) * oh + yy) * ow + xx] = float(acc);
        }
  auto d = makeDesc("convolution", {{n, c, D, H, W}, {m, c, kd, kh, kw}},
                    {{n, m, od, oh, ow}},
                    convAttrs(m, {kd, kh, kw}, {sd, sh, sw}, {pd, ph, pw}, {1, 1, 1}));
  expectNearData(run1(d, {x, w}), expected, 1e-5);
}

TEST(Convolution, Errors) {
  auto good = makeDesc("convolution", {{1, 4, 5, 5}, {2, 2, 3, 3}}, {{1, 2, 3, 3}},
                       convAttrs(2, {3, 3}, {1, 1}, {0, 0}, {1, 1}, 2));
  EXPECT_NO_THROW(createReferenceKernel(good));
  auto badWeight = good;
  badWeight.inputs[1] = {2, 4, 3, 3};
  expectCreateError(badWeight, "convolution weight shape [2, 4, 3, 3]");
  auto badOut = good;
  badOut.outputs[0] = {1, 2, 4, 4};
  expectCreateError(badOut, "expected 1x2x3x3");
  auto badGroup = good;
  badGroup.attrs.set("group", int64_t(3));
  expectCreateError(badGroup, "divisible by group");
  auto noKernel = good;
  noKernel.attrs = Attrs();
  noKernel.attrs.set("num_output", int64_t(2));
  expectCreateError(noKernel, "missing attribute 'kernel'");
  auto noNum = good;
  noNum.attrs = convAttrs(2, {3, 3}, {1, 1}, {0, 0}, {1, 1});
  noNum.attrs = Attrs();
  noNum.attrs.set("kernel", std::vector<int64_t>{3, 3});
  expectCreateError(noNum, "missing attribute 'num_output'");
  auto wrongRankAttr = good;
  wrongRankAttr.attrs.set("stride", std::vector<int64_t>{1});
  expectCreateError(wrongRankAttr, "stride must have 2 entries");
  auto tooBig = makeDesc("convolution", {{1, 1, 2, 2}, {1, 1, 3, 3}}, {{1, 1, 1, 1}},
                         convAttrs(1, {3, 3}, {1, 1}, {0, 0}, {1, 1}));
  expectCreateError(tooBig, "larger than padded input 2x2");
  auto badBias = good;
  badBias.inputs.push_back({3});
  badBias.isParam.push_back(true);
  expectCreateError(badBias, "bias");
}

TEST(Deconvolution, HandComputed) {
  // stride 2, 2x2 kernel of ones: each input value fills a 2x2 block.
  auto d = makeDesc("deconvolution", {{1, 1, 2, 2}, {1, 1, 2, 2}}, {{1, 1, 4, 4}},
                    convAttrs(1, {2, 2}, {2, 2}, {0, 0}, {1, 1}));
  expectNear(run1(d, {{1, 2, 3, 4}, Data(4, 1.0f)}),
             {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // stride 1: the "full" correlation, overlapping contributions add up.
  auto d1 = makeDesc("deconvolution", {{1, 1, 2, 2}, {1, 1, 2, 2}, {1}}, {{1, 1, 3, 3}},
                     convAttrs(1, {2, 2}, {1, 1}, {0, 0}, {1, 1}));
  expectNear(run1(d1, {{1, 2, 3, 4}, Data(4, 1.0f), {10}}),
             {11, 13, 12, 14, 20, 16, 13, 17, 14});
  // pad 1 crops the border of the full result: 3x3 -> 1x1 centre.
  auto dp = makeDesc("deconvolution", {{1, 1, 2, 2}, {1, 1, 2, 2}}, {{1, 1, 1, 1}},
                     convAttrs(1, {2, 2}, {1, 1}, {1, 1}, {1, 1}));
  expectNear(run1(dp, {{1, 2, 3, 4}, Data(4, 1.0f)}), {10});
}

TEST(Deconvolution, IsTheAdjointOfConvolution) {
  // <conv(x), y> == <x, deconv(y)> with the same weight buffer: conv maps C=4
  // to M=6 channels with weight [6, 4/2, 3, 3]; the deconvolution maps 6
  // channels back to 4 with weight [6, 4/2, 3, 3] (its [C_in, num_output/group, k]).
  int64_t n = 2, c = 4, m = 6, g = 2;
  struct Geo {
    int64_t h, w, kh, kw, s0, s1, p0, p1, d0, d1;
  };
  for (Geo geo : {Geo{7, 7, 3, 3, 2, 2, 1, 1, 1, 1}, Geo{8, 8, 3, 2, 3, 2, 0, 1, 2, 1},
                  Geo{5, 6, 2, 3, 1, 1, 1, 0, 1, 2}}) {
    int64_t oh = (geo.h + 2 * geo.p0 - (geo.d0 * (geo.kh - 1) + 1)) / geo.s0 + 1;
    int64_t ow = (geo.w + 2 * geo.p1 - (geo.d1 * (geo.kw - 1) + 1)) / geo.s1 + 1;
    // The deconvolution must map back onto exactly h x w.
    ASSERT_EQ(geo.s0 * (oh - 1) + geo.d0 * (geo.kh - 1) + 1 - 2 * geo.p0, geo.h);
    ASSERT_EQ(geo.s1 * (ow - 1) + geo.d1 * (geo.kw - 1) + 1 - 2 * geo.p1, geo.w);
    Attrs convA = convAttrs(m, {geo.kh, geo.kw}, {geo.s0, geo.s1}, {geo.p0, geo.p1},
                            {geo.d0, geo.d1}, g);
    Attrs deconvA = convAttrs(c, {geo.kh, geo.kw}, {geo.s0, geo.s1}, {geo.p0, geo.p1},
                              {geo.d0, geo.d1}, g);
    Shape wShape = {m, c / g, geo.kh, geo.kw};
    Data x = randomData(n * c * geo.h * geo.w, 11), y = randomData(n * m * oh * ow, 12);
    Data w = randomData(numElements(wShape), 13);
    Data cx = run1(makeDesc("convolution", {{n, c, geo.h, geo.w}, wShape},
                            {{n, m, oh, ow}}, convA),
                   {x, w});
    Data dy = run1(makeDesc("deconvolution", {{n, m, oh, ow}, wShape},
                            {{n, c, geo.h, geo.w}}, deconvA),
                   {y, w});
    double lhs = dot(cx, y), rhs = dot(x, dy);
    EXPECT_NEAR(lhs, rhs, 1e-4 * std::max(1.0, std::fabs(lhs)));
  }
}

TEST(Deconvolution, Errors) {
  auto d = makeDesc("deconvolution", {{1, 4, 2, 2}, {4, 3, 2, 2}}, {{1, 6, 4, 4}},
                    convAttrs(6, {2, 2}, {2, 2}, {0, 0}, {1, 1}, 2));
  EXPECT_NO_THROW(createReferenceKernel(d));
  auto bad = d;
  bad.inputs[1] = {6, 2, 2, 2}; // convolution's layout, not deconvolution's
  expectCreateError(bad, "weight");
  auto badOut = d;
  badOut.outputs[0] = {1, 6, 3, 3};
  expectCreateError(badOut, "expected 1x6x4x4");
}

TEST(InnerProduct, HandComputed) {
  Attrs a;
  a.set("num_output", int64_t(2));
  // x [2, 1, 3] flattened from axis 1: K = 3.
  auto d = makeDesc("inner_product", {{2, 1, 3}, {2, 3}, {2}}, {{2, 2}}, a);
  Data x = {1, 2, 3, 4, 5, 6}, w = {1, 0, -1, 0.5f, 0.5f, 0.5f}, b = {1, -1};
  expectNear(run1(d, {x, w, b}), {1 - 3 + 1, 3 - 1, 4 - 6 + 1, 7.5 - 1});
  // transpose: weight [K, N].
  a.set("transpose", int64_t(1));
  auto dt = makeDesc("inner_product", {{2, 1, 3}, {3, 2}}, {{2, 2}}, a);
  Data wt = {1, 0.5f, 0, 0.5f, -1, 0.5f};
  expectNear(run1(dt, {x, wt}), {-2, 3, -2, 7.5});
}

TEST(InnerProduct, AxisAndErrors) {
  Attrs a;
  a.set("num_output", int64_t(1));
  a.set("axis", int64_t(-1));
  // x [2, 2, 2] with axis -1: M = 4, K = 2.
  auto d = makeDesc("inner_product", {{2, 2, 2}, {1, 2}}, {{2, 2, 1}}, a);
  expectNear(run1(d, {iota(8), {1, -1}}), {-1, -1, -1, -1});
  auto bad = makeDesc("inner_product", {{2, 2, 2}, {1, 4}}, {{2, 2, 1}}, a);
  expectCreateError(bad, "inner_product weight shape [1, 4]");
  a.set("axis", int64_t(3));
  expectCreateError(makeDesc("inner_product", {{2, 2, 2}, {1, 2}}, {{2, 2, 1}}, a),
                    "inner_product axis 3 out of range");
}

TEST(Embed, LookupBiasAndBadIndex) {
  Attrs a;
  a.set("num_output", int64_t(2));
  a.set("input_dim", int64_t(3));
  auto d = makeDesc("embed", {{2, 2}, {3, 2}, {2}}, {{2, 2, 2}}, a);
  Data w = {10, 11, 20, 21, 30, 31};
  expectNear(run1(d, {{2, 0, 1, 2}, w, {0.5f, -0.5f}}),
             {30.5, 30.5, 10.5, 10.5, 20.5, 20.5, 30.5, 30.5});
  auto dn = makeDesc("embed", {{2}, {3, 2}}, {{2, 2}}, a);
  for (float badIndex : {3.0f, -1.0f, 0.5f}) {
    try {
      run1(dn, {{0, badIndex}, w});
      ADD_FAILURE() << "no error for index " << badIndex;
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find("layer 'L_embed' (embed): index"),
                std::string::npos)
          << e.what();
    }
  }
  expectCreateError(makeDesc("embed", {{2}, {2, 3}}, {{2, 2}}, a), "weight");
}

namespace {
Attrs im2colAttrs(std::vector<int64_t> k, std::vector<int64_t> s = {}, std::vector<int64_t> p = {},
                  std::vector<int64_t> d = {}) {
  Attrs a;
  a.set("kernel", k);
  if (!s.empty())
    a.set("stride", s);
  if (!p.empty())
    a.set("pad", p);
  if (!d.empty())
    a.set("dilation", d);
  return a;
}
} // namespace

TEST(Im2col, ByHand) {
  // Channel 0 holds 1..9, channel 1 10..18; 2x2 windows of a 3x3 image.
  auto d = makeDesc("im2col", {{1, 2, 3, 3}}, {{1, 8, 2, 2}}, im2colAttrs({2, 2}));
  std::vector<double> want = {1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9};
  for (int i = 0; i < 16; ++i)
    want.push_back(want[i] + 9);
  expectNear(run1(d, {iota(18)}), want);
  // Padding reads zeros.
  auto p = makeDesc("im2col", {{1, 1, 1, 2}}, {{1, 3, 1, 2}}, im2colAttrs({1, 3}, {}, {0, 1}));
  expectNear(run1(p, {{7, 8}}), {0, 7, 7, 8, 8, 0});
  expectCreateError(makeDesc("im2col", {{1, 1, 2, 2}}, {{1, 9, 1, 1}}, im2colAttrs({3, 3})),
                    "kernel (dilated) 3x3 is larger than padded input 2x2");
}

TEST(Im2col, ConvolutionIsWeightsTimesColumns) {
  // conv(x, W) == W [O, C*K] x im2col(x) [C*K, P] for stride, pad, dilation.
  Attrs c = im2colAttrs({3, 2}, {2, 1}, {1, 0}, {1, 2});
  auto cols = makeDesc("im2col", {{2, 3, 6, 5}}, {{2, 18, 3, 3}}, c);
  Attrs conv = c;
  conv.set("num_output", int64_t(4));
  auto cd = makeDesc("convolution", {{2, 3, 6, 5}, {4, 3, 3, 2}}, {{2, 4, 3, 3}}, conv);
  Data x = randomData(180, 11), w = randomData(72, 12);
  Data col = run1(cols, {x}), y = run1(cd, {x, w});
  std::vector<double> want;
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 4; ++o)
      for (int p = 0; p < 9; ++p) {
        double acc = 0;
        for (int r = 0; r < 18; ++r)
          acc += double(w[o * 18 + r]) * col[(n * 18 + r) * 9 + p];
        want.push_back(acc);
      }
  expectNear(y, want, 1e-5);
}

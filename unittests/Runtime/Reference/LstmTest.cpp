//===- LstmTest.cpp - Caffe LSTM forward ----------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "RefTestUtil.h"

using namespace dlc::rt;
using namespace dlc::rt::test;

namespace {
double sig(double x) { return 1 / (1 + std::exp(-x)); }

Attrs lstmAttrs(int64_t h) {
  Attrs a;
  a.set("num_output", h);
  return a;
}
} // namespace

TEST(Lstm, OneStepByHand) {
  // T = N = I = H = 1. Gate order i, f, o, g.
  Data wxc = {1, 2, 3, 4}, bc = {0.1f, 0.2f, 0.3f, 0.4f}, whc = {5, 6, 7, 8};
  auto d = makeDesc("lstm", {{1, 1, 1}, {1, 1}, {4, 1}, {4}, {4, 1}}, {{1, 1, 1}},
                    lstmAttrs(1));
  double x = 0.5;
  double c = sig(1 * x + 0.1) * std::tanh(4 * x + 0.4); // c_0 = 0
  double h = sig(3 * x + 0.3) * std::tanh(c);
  expectNear(run1(d, {{0.5f}, {0}, wxc, bc, whc}), {h});
}

TEST(Lstm, TwoStepsWithContinuationAndReset) {
  Data wxc = {1, 2, 3, 4}, bc = {0.1f, 0.2f, 0.3f, 0.4f}, whc = {0.5f, -0.6f, 0.7f, -0.8f};
  auto d = makeDesc("lstm", {{2, 1, 1}, {2, 1}, {4, 1}, {4}, {4, 1}}, {{2, 1, 1}},
                    lstmAttrs(1));
  double x1 = 0.5, x2 = -0.25;
  double c1 = sig(x1 + 0.1) * std::tanh(4 * x1 + 0.4);
  double h1 = sig(3 * x1 + 0.3) * std::tanh(c1);
  // cont = 1: h1 feeds the gates and f gates c1.
  double ai = x2 + 0.1 + 0.5 * h1, af = 2 * x2 + 0.2 - 0.6 * h1;
  double ao = 3 * x2 + 0.3 + 0.7 * h1, ag = 4 * x2 + 0.4 - 0.8 * h1;
  double c2 = sig(af) * c1 + sig(ai) * std::tanh(ag);
  double h2 = sig(ao) * std::tanh(c2);
  expectNear(run1(d, {{0.5f, -0.25f}, {0, 1}, wxc, bc, whc}), {h1, h2});
  // cont = 0 at step 2: the state is reset, step 2 equals a first step on x2.
  double c2r = sig(x2 + 0.1) * std::tanh(4 * x2 + 0.4);
  double h2r = sig(3 * x2 + 0.3) * std::tanh(c2r);
  expectNear(run1(d, {{0.5f, -0.25f}, {0, 0}, wxc, bc, whc}), {h1, h2r});
}

TEST(Lstm, StaticInputAndBatchMatchesFormula) {
  int64_t T = 3, N = 2, I = 3, Is = 2, H = 2;
  Data x = randomData(T * N * I, 31), cont = {0, 0, 1, 1, 1, 0};
  Data xs = randomData(N * Is, 32), wxc = randomData(4 * H * I, 33), bc = randomData(4 * H, 34);
  Data wxs = randomData(4 * H * Is, 35), whc = randomData(4 * H * H, 36);
  std::vector<double> h(N * H, 0), c(N * H, 0), expected;
  expected.resize(T * N * H);
  for (int64_t t = 0; t < T; ++t) {
    std::vector<double> hn(N * H), cn(N * H);
    for (int64_t n = 0; n < N; ++n) {
      double ct = cont[t * N + n];
      std::vector<double> a(4 * H);
      for (int64_t r = 0; r < 4 * H; ++r) {
        a[r] = bc[r];
        for (int64_t k = 0; k < I; ++k)
          a[r] += wxc[r * I + k] * x[(t * N + n) * I + k];
        for (int64_t k = 0; k < Is; ++k)
          a[r] += wxs[r * Is + k] * xs[n * Is + k];
        for (int64_t k = 0; k < H; ++k)
          a[r] += whc[r * H + k] * ct * h[n * H + k];
      }
      for (int64_t j = 0; j < H; ++j) {
        double cc = ct * sig(a[H + j]) * c[n * H + j] + sig(a[j]) * std::tanh(a[3 * H + j]);
        cn[n * H + j] = cc;
        hn[n * H + j] = sig(a[2 * H + j]) * std::tanh(cc);
        expected[(t * N + n) * H + j] = hn[n * H + j];
      }
    }
    h = hn;
    c = cn;
  }
  auto d = makeDesc("lstm", {{T, N, I}, {T, N}, {N, Is}, {4 * H, I}, {4 * H}, {4 * H, Is},
                             {4 * H, H}},
                    {{T, N, H}}, lstmAttrs(H));
  expectNear(run1(d, {x, cont, xs, wxc, bc, wxs, whc}), expected);
}

TEST(Lstm, Errors) {
  auto good = makeDesc("lstm", {{2, 1, 3}, {2, 1}, {8, 3}, {8}, {8, 2}}, {{2, 1, 2}},
                       lstmAttrs(2));
  EXPECT_NO_THROW(createReferenceKernel(good));
  auto badW = good;
  badW.inputs[4] = {8, 3};
  expectCreateError(badW, "lstm w_hc shape [8, 3]");
  auto badCont = good;
  badCont.inputs[1] = {1, 2};
  expectCreateError(badCont, "cont");
  // x_static and w_xc_static come together; the mask (dl-skip-masked-steps)
  // on its own: 5 to 8 operands.
  auto nine = good;
  for (int i = 0; i < 4; ++i) {
    nine.inputs.insert(nine.inputs.begin() + 2, Shape{1, 2});
    nine.isParam.push_back(true);
  }
  expectCreateError(nine, "expected 5, 6, 7 or 8 input(s), got 9");
  auto badMask = good;
  badMask.inputs.push_back({2, 2});
  badMask.isParam.push_back(false);
  expectCreateError(badMask, "lstm mask shape [2, 2] does not match expected [2, 1]");
  auto exposed = good;
  exposed.attrs.set("expose_hidden", int64_t(1));
  expectCreateError(exposed, "expose_hidden");
  auto noNum = good;
  noNum.attrs = Attrs();
  expectCreateError(noNum, "missing attribute 'num_output'");
}

TEST(Rnn, TwoStepsByHand) {
  // H = I = N = 1: h_t = tanh(w_hh cont_t h_{t-1} + w_xh x_t + b_h),
  // o_t = tanh(w_ho h_t + b_o).
  Attrs a;
  a.set("num_output", int64_t(1));
  auto d = makeDesc("rnn", {{2, 1, 1}, {2, 1}, {1, 1}, {1}, {1, 1}, {1, 1}, {1}}, {{2, 1, 1}}, a);
  double wxh = 0.5, bh = 0.1, whh = -0.7, who = 1.5, bo = -0.2, x1 = 0.3, x2 = -0.6;
  double h1 = std::tanh(wxh * x1 + bh), h2 = std::tanh(whh * h1 + wxh * x2 + bh);
  std::vector<Data> in = {{float(x1), float(x2)}, {0, 1}, {float(wxh)}, {float(bh)},
                          {float(whh)}, {float(who)}, {float(bo)}};
  expectNear(run1(d, in), {std::tanh(who * h1 + bo), std::tanh(who * h2 + bo)}, 1e-6);
  // cont = 0 at t = 1 restarts the sequence.
  in[1] = {0, 0};
  double h2r = std::tanh(wxh * x2 + bh);
  expectNear(run1(d, in), {std::tanh(who * h1 + bo), std::tanh(who * h2r + bo)}, 1e-6);
  expectCreateError(makeDesc("rnn", {{2, 1, 1}, {2, 1}, {1, 1}, {1}, {1, 2}, {1, 1}, {1}},
                             {{2, 1, 1}}, a),
                    "rnn w_hh shape [1, 2] does not match expected [1, 1]");
}

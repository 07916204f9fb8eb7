//===- RecurrentTestUtil.h - Recurrent kernels against the reference -*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The cases and checks of the optimized lstm and rnn kernels against the
// float64 reference kernels (RecurrentTest.cpp; the tolerance and the
// sensitivity checks are explained there), shared with the tests of the
// generated gate functions (unittests/Runtime/Generated/RecurrentCellsTest.cpp),
// which attach the module's native code to every description through
// optimizedDescHook().
//
//===----------------------------------------------------------------------===//
#ifndef DLC_UNITTESTS_RUNTIME_DNNL_RECURRENTTESTUTIL_H
#define DLC_UNITTESTS_RUNTIME_DNNL_RECURRENTTESTUTIL_H

#include "DnnlTestUtil.h"
#include "dlc/Ops/Geometry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace dlc::rt::rectest {

using namespace dlc::rt::dnnltest;

/// Applied to a copy of every description before its optimized kernel is
/// created (none by default); the optimized kernel must then report a
/// generated implementation ("+generated:<cpu>").
inline std::function<void(KernelDesc &)> &optimizedDescHook() {
  static std::function<void(KernelDesc &)> hook;
  return hook;
}

constexpr double kTol = 1e-5;
/// A deliberately broken input must move the reference at least this much.
constexpr double kSensitive = 1e-2;

inline std::mt19937 &rng() {
  static std::mt19937 r(5150731u);
  return r;
}

inline std::vector<float> uniform(const Shape &s, float lo, float hi) {
  return randomValues(rng(), s, lo, hi);
}

inline std::string wrtString(const std::vector<int64_t> &wrt) {
  std::ostringstream os;
  os << "wrt [";
  for (int64_t i : wrt)
    os << " " << i;
  os << " ]";
  return os.str();
}

/// Runs the reference and the optimized kernel of `d` on `in`: every output
/// within kTol (relative to the reference blob's max |value|; NaN fails),
/// the optimized kernel's implementation dlc's, a second run bitwise equal.
inline void compare(const KernelDesc &d, const std::vector<std::vector<float>> &in) {
  auto ref = createReferenceKernel(d);
  KernelDesc opt = d;
  if (optimizedDescHook())
    optimizedDescHook()(opt);
  std::unique_ptr<Kernel> dn = createDnnlKernel(opt, ctx());
  ASSERT_TRUE(dn) << "no oneDNN-backend kernel for " << d.op;
  EXPECT_EQ(dn->implName().rfind("dlc:", 0), 0u) << dn->implName();
  if (optimizedDescHook())
    EXPECT_NE(dn->implName().find("+generated:"), std::string::npos) << dn->implName();
  auto want = run(*ref, d, in);
  auto got = run(*dn, d, in);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_LE(relError(got[i], want[i]), kTol) << d.op << " output " << i;
  EXPECT_EQ(run(*dn, d, in), got) << d.op << ": second run differs";
}

/// The outputs of the reference kernel of `d`.
inline std::vector<std::vector<float>> reference(const KernelDesc &d,
                                          const std::vector<std::vector<float>> &in) {
  return run(*createReferenceKernel(d), d, in);
}

/// Forward and the `_grad` kernel for each set in `wrts`.
inline void compareForwardAndGrads(const KernelDesc &f, const std::vector<std::vector<float>> &in,
                            const std::vector<std::vector<int64_t>> &wrts) {
  {
    SCOPED_TRACE("forward");
    compare(f, in);
  }
  auto gin = gradInputs(rng(), f, in);
  for (const auto &wrt : wrts) {
    SCOPED_TRACE(wrtString(wrt));
    compare(gradOf(f, wrt), gin);
  }
}

/// Singletons, all, and `extra` sets of `ops`.
inline std::vector<std::vector<int64_t>> wrtSets(const std::vector<int64_t> &ops,
                                          std::vector<std::vector<int64_t>> extra = {}) {
  for (int64_t i : ops)
    extra.push_back({i});
  extra.push_back(ops);
  return extra;
}

/// A recurrent layer's geometry: x [T, N, xTail...] (I = its product),
/// x_static [N, sTail...] when sTail is not empty.
struct SeqCase {
  int64_t T, N;
  Shape xTail;
  int64_t H;
  Shape sTail;
  bool fractionalCont = false; ///< some cont values 0.5 (Caffe allows any)
  /// lstm only: no mask operand, a mask without zeros (every step live), or
  /// a padded batch's mask (dead steps, docs/recurrent.md).
  enum Mask { None, AllLive, Padded } mask = None;
};

inline int64_t elems(const Shape &s) {
  int64_t p = 1;
  for (int64_t d : s)
    p *= d;
  return p;
}

inline std::string describe(const SeqCase &c) {
  std::ostringstream os;
  os << "T=" << c.T << " N=" << c.N << " I=" << elems(c.xTail) << " H=" << c.H;
  if (!c.sTail.empty())
    os << " Is=" << elems(c.sTail);
  if (c.fractionalCont)
    os << " fractional cont";
  if (c.mask != SeqCase::None)
    os << (c.mask == SeqCase::AllLive ? " mask (all live)" : " mask (padded)");
  return os.str();
}

/// cont [T, N]: 0 at t = 0, then mostly 1 with resets (0) at t > 0; stream 0
/// is reset at T/2 whenever T > 1; optionally some 0.5.
inline std::vector<float> makeCont(const SeqCase &c) {
  std::vector<float> cont(size_t(c.T * c.N), 1.f);
  std::uniform_int_distribution<int> d(0, 5);
  for (int64_t t = 0; t < c.T; ++t)
    for (int64_t n = 0; n < c.N; ++n) {
      float &v = cont[size_t(t * c.N + n)];
      int r = d(rng());
      v = t == 0 || r == 0 ? 0.f : c.fractionalCont && r == 1 ? 0.5f : 1.f;
    }
  if (c.T > 1)
    cont[size_t(c.T / 2 * c.N)] = 0.f;
  return cont;
}

// ---------------------------------------------------------------------------
// LSTM
// ---------------------------------------------------------------------------

/// A padded batch's mask for `cont`: in every sequence (from one cont = 0
/// to the next) a random tail of zeros, which makes those steps dead, and
/// here and there a zero before a nonzero (still live); 0.25 elsewhere.
inline std::vector<float> makeMask(const SeqCase &c, const std::vector<float> &cont) {
  std::vector<float> mask(cont.size(), c.mask == SeqCase::AllLive ? 0.5f : 0.25f);
  if (c.mask != SeqCase::Padded)
    return mask;
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t s = 0; s < c.T;) {
      int64_t e = s + 1;
      while (e < c.T && cont[size_t(e * c.N + n)] != 0.f)
        ++e;
      // Sequence [s, e): the last k steps are padding.
      int64_t k = std::uniform_int_distribution<int64_t>(0, e - s)(rng());
      for (int64_t t = s; t < e; ++t)
        if (t >= e - k || std::uniform_int_distribution<int>(0, 4)(rng()) == 0)
          mask[size_t(t * c.N + n)] = 0.f;
      s = e;
    }
  // Stream 0 (reset at T/2): the first sequence ends with a dead step, the
  // second starts live.
  if (c.T > 1) {
    mask[size_t((c.T / 2 - 1) * c.N)] = 0.f;
    mask[size_t(c.T / 2 * c.N)] = 0.25f;
  }
  return mask;
}

/// Operands x, cont, [x_static], w_xc, b_c, [w_xc_static], w_hc, [mask].
inline KernelDesc lstmDesc(const SeqCase &c) {
  const int64_t I = elems(c.xTail), H = c.H;
  Shape x = {c.T, c.N};
  x.insert(x.end(), c.xTail.begin(), c.xTail.end());
  std::vector<Shape> in = {x, {c.T, c.N}};
  std::vector<bool> param = {false, false};
  const bool st = !c.sTail.empty();
  if (st) {
    Shape xs = {c.N};
    xs.insert(xs.end(), c.sTail.begin(), c.sTail.end());
    in.push_back(xs);
    param.push_back(false);
  }
  in.push_back({4 * H, I});
  in.push_back({4 * H});
  if (st)
    in.push_back({4 * H, elems(c.sTail)});
  in.push_back({4 * H, H});
  param.resize(in.size(), true);
  if (c.mask != SeqCase::None) {
    in.push_back({c.T, c.N});
    param.push_back(false);
  }
  Attrs a;
  a.set("num_output", H);
  return makeDesc("lstm", a, in, {{c.T, c.N, H}}, param);
}

/// Random forward inputs of lstmDesc(c): weights of scale 1/sqrt(fan-in)
/// (gates neither saturated nor linear), biases in [-0.5, 0.5].
inline std::vector<std::vector<float>> lstmInputs(const SeqCase &c, const KernelDesc &d) {
  const bool st = !c.sTail.empty();
  const float s = 1.f / std::sqrt(float(elems(c.xTail) + c.H + (st ? elems(c.sTail) : 0)));
  std::vector<std::vector<float>> in;
  for (size_t i = 0; i < d.inputs.size(); ++i) {
    const Shape &sh = d.inputs[i];
    if (i == 1)
      in.push_back(makeCont(c));
    else if (c.mask != SeqCase::None && i + 1 == d.inputs.size())
      in.push_back(makeMask(c, in[1]));
    else if (!d.param(i))
      in.push_back(uniform(sh, -1, 1));
    else if (sh.size() == 1)
      in.push_back(uniform(sh, -0.5f, 0.5f));
    else
      in.push_back(uniform(sh, -2 * s, 2 * s));
  }
  return in;
}

/// Swaps gate blocks a and b (of H rows each) of every lstm weight.
inline std::vector<std::vector<float>> swapGates(const KernelDesc &d, std::vector<std::vector<float>> in,
                                          int64_t H, int a, int b) {
  for (size_t i = 2; i < in.size(); ++i) {
    if (!d.param(i))
      continue;
    const int64_t cols = d.inputs[i].size() > 1 ? d.inputs[i][1] : 1;
    for (int64_t r = 0; r < H * cols; ++r)
      std::swap(in[i][size_t(a * H * cols + r)], in[i][size_t(b * H * cols + r)]);
  }
  return in;
}

/// The data of `c` tells a correct LSTM from one with two gates swapped or
/// without the cont resets.
inline void expectLstmSensitive(const SeqCase &c, const KernelDesc &d,
                         const std::vector<std::vector<float>> &in) {
  auto want = reference(d, in)[0];
  for (auto [a, b] : std::vector<std::pair<int, int>>{{0, 1}, {1, 2}, {2, 3}, {0, 3}})
    EXPECT_GT(relError(reference(d, swapGates(d, in, c.H, a, b))[0], want), kSensitive)
        << "gates " << a << " and " << b << " swapped";
  if (c.T > 1) {
    auto noReset = in;
    for (int64_t t = 1; t < c.T; ++t)
      for (int64_t n = 0; n < c.N; ++n)
        noReset[1][size_t(t * c.N + n)] = 1.f;
    EXPECT_GT(relError(reference(d, noReset)[0], want), kSensitive) << "cont resets ignored";
  }
}

/// A padded mask has dead steps, live steps, and (T > 1) a stream that is
/// live again after a dead step (a new sequence).
inline void expectMaskMatters(const SeqCase &c, const std::vector<std::vector<float>> &in) {
  std::vector<uint8_t> live;
  dlc::ops::lstmLiveSteps(in[1].data(), in.back().data(), c.T, c.N, live);
  int64_t dead = 0, revived = 0;
  for (int64_t t = 0; t < c.T; ++t)
    for (int64_t n = 0; n < c.N; ++n) {
      dead += !live[size_t(t * c.N + n)];
      revived += t > 0 && live[size_t(t * c.N + n)] && !live[size_t((t - 1) * c.N + n)];
    }
  EXPECT_GT(dead, 0);
  EXPECT_LT(dead, c.T * c.N);
  if (c.T > 1) {
    EXPECT_GT(revived, 0);
  }
}

inline void checkLstm(const SeqCase &c, bool everySubset) {
  SCOPED_TRACE("lstm " + describe(c));
  KernelDesc d = lstmDesc(c);
  auto in = lstmInputs(c, d);
  expectLstmSensitive(c, d, in);
  if (c.mask == SeqCase::Padded)
    expectMaskMatters(c, in);
  // Differentiable operands: x, [x_static], w_xc, b_c, [w_xc_static], w_hc.
  std::vector<int64_t> ops = c.sTail.empty() ? std::vector<int64_t>{0, 2, 3, 4}
                                             : std::vector<int64_t>{0, 2, 3, 4, 5, 6};
  std::vector<int64_t> data = {0}, weights = {2, 3, 4};
  if (!c.sTail.empty()) {
    data = {0, 2};
    weights = {3, 4, 5, 6};
  }
  auto sets = everySubset ? allSubsets(ops) : wrtSets(ops, {data, weights});
  compareForwardAndGrads(d, in, sets);
}

/// Operands x, cont, [x_static], w_xh, b_h, [w_xh_static], w_hh, w_ho, b_o.
inline KernelDesc rnnDesc(const SeqCase &c) {
  const int64_t I = elems(c.xTail), H = c.H;
  Shape x = {c.T, c.N};
  x.insert(x.end(), c.xTail.begin(), c.xTail.end());
  std::vector<Shape> in = {x, {c.T, c.N}};
  const bool st = !c.sTail.empty();
  if (st) {
    Shape xs = {c.N};
    xs.insert(xs.end(), c.sTail.begin(), c.sTail.end());
    in.push_back(xs);
  }
  std::vector<bool> param(in.size(), false);
  in.push_back({H, I});
  in.push_back({H});
  if (st)
    in.push_back({H, elems(c.sTail)});
  in.push_back({H, H});
  in.push_back({H, H});
  in.push_back({H});
  param.resize(in.size(), true);
  Attrs a;
  a.set("num_output", H);
  return makeDesc("rnn", a, in, {{c.T, c.N, H}}, param);
}

inline std::vector<std::vector<float>> rnnInputs(const SeqCase &c, const KernelDesc &d) {
  return lstmInputs(c, d); // the same scales (fan-in I + H + Is)
}

inline void checkRnn(const SeqCase &c, bool everySubset) {
  SCOPED_TRACE("rnn " + describe(c));
  KernelDesc d = rnnDesc(c);
  auto in = rnnInputs(c, d);
  const bool st = !c.sTail.empty();
  const size_t whh = st ? 6 : 4, who = whh + 1;
  auto want = reference(d, in)[0];
  if (c.T > 1) {
    auto swapped = in;
    std::swap(swapped[whh], swapped[who]);
    EXPECT_GT(relError(reference(d, swapped)[0], want), kSensitive) << "w_hh, w_ho swapped";
    auto noReset = in;
    for (int64_t t = 1; t < c.T; ++t)
      for (int64_t n = 0; n < c.N; ++n)
        noReset[1][size_t(t * c.N + n)] = 1.f;
    EXPECT_GT(relError(reference(d, noReset)[0], want), kSensitive) << "cont resets ignored";
  }
  std::vector<int64_t> ops = st ? std::vector<int64_t>{0, 2, 3, 4, 5, 6, 7, 8}
                                : std::vector<int64_t>{0, 2, 3, 4, 5, 6};
  // Only w_ho / b_o (no backpropagation through time), data, weights.
  std::vector<std::vector<int64_t>> extra;
  if (st)
    extra = {{7, 8}, {0, 2}, {3, 4, 5, 6, 7, 8}, {2, 5}};
  else
    extra = {{5, 6}, {2, 3, 4, 5, 6}, {0, 4}};
  compareForwardAndGrads(d, in, everySubset ? allSubsets(ops) : wrtSets(ops, extra));
}

} // namespace dlc::rt::rectest

#endif // DLC_UNITTESTS_RUNTIME_DNNL_RECURRENTTESTUTIL_H

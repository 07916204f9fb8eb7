//===- RecurrentTest.cpp - oneDNN-backend lstm, rnn, embed ----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The optimized lstm, rnn and embed kernels (lib/Runtime/Dnnl/Recurrent*.cpp)
// against the float64 reference kernels, forward and every gradient
// (including descriptions that want only some gradients), with sequence
// resets (cont = 0 at t > 0), a non-binary cont, with and without x_static,
// with and without dl.lstm's mask (dead steps of a padded batch), odd and
// larger sizes.
//
// Tolerance: max |got - ref| <= kTol * max |ref|, per blob, kTol = 1e-5.
// The kernels compute in float32 (SGEMM reductions over at most a few
// hundred terms, with accumulated errors ~sqrt(K) * 6e-8 relative to the
// terms, plus sigmoid / tanh approximations within ~3e-7 relative), so the
// observed errors are ~1e-7..1e-6; 1e-5 leaves a margin for the errors
// carried through 32 steps. The wrong results a bug gives (a gate order
// mixed up, a missing cont reset, w_hh and w_ho swapped) are 1e-2 or more
// away: each test checks this on its own data (sensitivity checks), so a
// test that passes with a broken kernel cannot happen silently.
//
//===----------------------------------------------------------------------===//

#include "RecurrentTestUtil.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

using namespace dlc::rt;
using namespace dlc::rt::dnnltest;
using namespace dlc::rt::rectest;

namespace {

constexpr auto kAllLive = SeqCase::AllLive;
constexpr auto kPadded = SeqCase::Padded;

TEST(LstmDnnl, TinyEverySubset) {
  checkLstm({1, 1, {5}, 3, {}}, true);
  checkLstm({1, 1, {5}, 3, {2}}, true);
  checkLstm({2, 1, {1}, 1, {}}, true);
  checkLstm({1, 1, {5}, 3, {2}, false, kAllLive}, true);
}

TEST(LstmDnnl, OddSizesEverySubset) {
  checkLstm({7, 3, {5}, 13, {}}, true);
  checkLstm({7, 3, {5}, 13, {4}}, true);
  checkLstm({5, 2, {2, 3}, 9, {2, 2}}, true); // x and x_static of rank > 2
  checkLstm({7, 3, {5}, 13, {4}, false, kAllLive}, false);
}

TEST(LstmDnnl, FractionalCont) {
  checkLstm({6, 4, {3}, 7, {}, true}, false);
  checkLstm({6, 4, {3}, 7, {3}, true}, false);
  checkLstm({6, 4, {3}, 7, {3}, true, kAllLive}, false);
}

TEST(LstmDnnl, PaddedMask) {
  checkLstm({7, 3, {5}, 13, {}, false, kPadded}, true);
  checkLstm({7, 3, {5}, 13, {4}, false, kPadded}, true);
  checkLstm({12, 6, {5}, 9, {2}, true, kPadded}, false);
  checkLstm({32, 16, {64}, 128, {}, false, kPadded}, false);
  checkLstm({32, 16, {64}, 128, {16}, false, kPadded}, false);
  // Every step dead: output and gradients 0.
  SeqCase c{4, 3, {5}, 6, {2}, false, kPadded};
  KernelDesc d = lstmDesc(c);
  auto in = lstmInputs(c, d);
  std::fill(in.back().begin(), in.back().end(), 0.f);
  compareForwardAndGrads(d, in, {{0, 2, 3, 4, 5, 6}});
}

/// dl.lstm's mask on a padded batch (docs/recurrent.md): the output and
/// every gradient equal those of the sequences run one by one without
/// padding, and the padded steps are 0 and read nothing, not even a
/// nonzero dy (the net multiplies them by the mask's 0). Both the reference
/// and the oneDNN-backend kernel.
TEST(LstmDnnl, PaddedBatchEqualsSequencesOneByOne) {
  const int64_t T = 6, N = 3, I = 4, H = 5;
  const std::vector<int64_t> len = {6, 2, 4};
  auto desc = [&](int64_t t, int64_t n, bool mask) {
    std::vector<Shape> in = {{t, n, I}, {t, n}, {4 * H, I}, {4 * H}, {4 * H, H}};
    std::vector<bool> param = {false, false, true, true, true};
    if (mask) {
      in.push_back({t, n});
      param.push_back(false);
    }
    Attrs a;
    a.set("num_output", H);
    return makeDesc("lstm", a, in, {{t, n, H}}, param);
  };
  const KernelDesc batch = desc(T, N, true);
  auto x = uniform({T, N, I}, -1.f, 1.f), dy = uniform({T, N, H}, -1.f, 1.f);
  auto wxc = uniform({4 * H, I}, -0.5f, 0.5f), bc = uniform({4 * H}, -0.5f, 0.5f),
       whc = uniform({4 * H, H}, -0.5f, 0.5f);
  std::vector<float> cont(size_t(T * N), 1.f), mask(size_t(T * N), 0.f);
  for (int64_t s = 0; s < N; ++s) {
    cont[size_t(s)] = 0.f;
    for (int64_t t = 0; t < len[size_t(s)]; ++t)
      mask[size_t(t * N + s)] = 1.f / float(len[size_t(s)]);
  }
  const std::vector<int64_t> wrt = {0, 2, 3, 4};
  for (bool optimized : {false, true}) {
    SCOPED_TRACE(optimized ? "onednn backend" : "reference");
    auto make = [&](const KernelDesc &d) {
      return optimized ? createDnnlKernel(d, ctx()) : createReferenceKernel(d);
    };
    auto fwd = make(batch);
    ASSERT_TRUE(fwd);
    auto y = run(*fwd, batch, {x, cont, wxc, bc, whc, mask})[0];
    auto grad = run(*make(gradOf(batch, wrt)), gradOf(batch, wrt),
                    {x, cont, wxc, bc, whc, mask, y, dy});
    std::vector<std::vector<float>> sumW(3);
    for (int64_t s = 0; s < N; ++s) {
      const int64_t L = len[size_t(s)];
      const KernelDesc one = desc(L, 1, false);
      std::vector<float> xs, c1(size_t(L), 1.f), dys;
      c1[0] = 0.f;
      for (int64_t t = 0; t < L; ++t) {
        xs.insert(xs.end(), x.begin() + (t * N + s) * I, x.begin() + (t * N + s + 1) * I);
        dys.insert(dys.end(), dy.begin() + (t * N + s) * H, dy.begin() + (t * N + s + 1) * H);
      }
      auto ys = run(*make(one), one, {xs, c1, wxc, bc, whc})[0];
      auto gs = run(*make(gradOf(one, wrt)), gradOf(one, wrt), {xs, c1, wxc, bc, whc, ys, dys});
      for (int64_t t = 0; t < T; ++t)
        for (int64_t k = 0; k < H; ++k) {
          const float got = y[size_t((t * N + s) * H + k)];
          if (t < L)
            EXPECT_NEAR(got, ys[size_t(t * H + k)], 1e-5f) << "h at t=" << t << " s=" << s;
          else
            EXPECT_EQ(got, 0.f) << "padded h at t=" << t << " s=" << s;
        }
      for (int64_t t = 0; t < T; ++t)
        for (int64_t k = 0; k < I; ++k) {
          const float got = grad[0][size_t((t * N + s) * I + k)];
          EXPECT_NEAR(got, t < L ? gs[0][size_t(t * I + k)] : 0.f, 1e-5f)
              << "dx at t=" << t << " s=" << s;
        }
      for (size_t w = 0; w < 3; ++w) {
        sumW[w].resize(gs[w + 1].size(), 0.f);
        for (size_t i = 0; i < gs[w + 1].size(); ++i)
          sumW[w][i] += gs[w + 1][i];
      }
    }
    for (size_t w = 0; w < 3; ++w)
      EXPECT_LE(relError(grad[w + 1], sumW[w]), 1e-5) << "weight gradient " << w;
  }
}

/// The backward takes the forward kernel's steps when the forward ran last
/// on the same operands (LstmSaved), and runs the forward again otherwise:
/// the same gradients either way, and after other operands.
TEST(LstmDnnl, BackwardReusesTheForwardSteps) {
  const int64_t T = 5, N = 3, I = 4, H = 6;
  std::vector<Shape> shapes = {{T, N, I}, {T, N}, {4 * H, I}, {4 * H}, {4 * H, H}};
  Attrs a;
  a.set("num_output", H);
  KernelDesc f = makeDesc("lstm", a, shapes, {{T, N, H}}, {false, false, true, true, true});
  f.layer = "reuse";
  const KernelDesc g = gradOf(f, {0, 2, 3, 4});
  std::shared_ptr<DnnlContext> ownCtx = createDnnlContext(); // as one executor has
  DnnlContext &own = *ownCtx;
  auto fwd = createDnnlKernel(f, own), bwd = createDnnlKernel(g, own);
  ASSERT_TRUE(fwd && bwd);
  std::vector<std::vector<float>> in;
  for (const Shape &s : shapes)
    in.push_back(uniform(s, -0.4f, 0.4f));
  in[1] = std::vector<float>(size_t(T * N), 1.f);
  std::fill(in[1].begin(), in[1].begin() + N, 0.f);
  auto want = [&](const std::vector<std::vector<float>> &x) {
    auto gin = x;
    gin.push_back(run(*createReferenceKernel(f), f, x)[0]);
    gin.push_back(std::vector<float>(size_t(T * N * H), 0.5f));
    return std::make_pair(gin, run(*createReferenceKernel(g), g, gin));
  };
  // Kernels read their operands through fixed buffers, as in an executor.
  std::vector<std::vector<float>> buf = in;
  std::vector<float> y(size_t(T * N * H)), dy(size_t(T * N * H), 0.5f);
  std::vector<std::vector<float>> outs;
  for (const Shape &s : g.outputs)
    outs.emplace_back(size_t(numElements(s)));
  auto runBoth = [&](bool forwardFirst) {
    std::vector<const float *> ip;
    for (auto &v : buf)
      ip.push_back(v.data());
    float *yp = y.data();
    if (forwardFirst)
      fwd->forward(ip.data(), &yp);
    ip.push_back(y.data());
    ip.push_back(dy.data());
    std::vector<float *> op;
    for (auto &v : outs)
      op.push_back(v.data());
    bwd->forward(ip.data(), op.data());
  };
  auto expectGradients = [&](const char *what) {
    auto [gin, ref] = want(buf);
    EXPECT_LE(relError(y, gin[5]), kTol) << what << ": y";
    for (size_t i = 0; i < ref.size(); ++i)
      EXPECT_LE(relError(outs[i], ref[i]), kTol) << what << ": gradient " << i;
  };
  runBoth(true);
  expectGradients("reused steps");
  EXPECT_LT(bwd->phases()[0].ms, 1e9); // the phase exists
  runBoth(false); // consumed: the forward again
  expectGradients("recomputed steps");
  // New values in the same buffers, the forward first: the new steps.
  for (float &v : buf[0])
    v = -v;
  runBoth(true);
  expectGradients("new operands");
}

TEST(LstmDnnl, Larger) {
  checkLstm({32, 16, {64}, 128, {}}, false);
  checkLstm({32, 16, {64}, 128, {16}}, false);
  checkLstm({9, 37, {20}, 70, {}}, false); // rows split across threads
}

TEST(LstmDnnl, Registered) {
  EXPECT_TRUE(hasDnnlKernel("lstm"));
  EXPECT_TRUE(hasDnnlKernel("rnn"));
  EXPECT_TRUE(hasDnnlKernel("embed"));
}

/// Rough timing (not run by default): --gtest_also_run_disabled_tests
/// --gtest_filter='*LstmTiming*'.
TEST(LstmDnnl, DISABLED_LstmTiming) {
  SeqCase c{32, 128, {650}, 650, {}};
  KernelDesc d = lstmDesc(c);
  auto in = lstmInputs(c, d);
  auto fwd = createDnnlKernel(d, ctx());
  auto gin = in;
  gin.push_back(std::vector<float>(size_t(numElements(d.outputs[0]))));
  gin.push_back(uniform(d.outputs[0], -1, 1));
  auto gd = gradOf(d, {0, 2, 3, 4});
  auto bwd = createDnnlKernel(gd, ctx());
  ASSERT_TRUE(fwd && bwd);
  auto time = [&](Kernel &k, const KernelDesc &kd, const std::vector<std::vector<float>> &x) {
    run(k, kd, x);
    double best = 1e30;
    for (int r = 0; r < 5; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      run(k, kd, x);
      best = std::min(best, std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - t0)
                                .count());
    }
    return best;
  };
  gin[d.inputs.size()] = run(*fwd, d, in)[0];
  double tf = time(*fwd, d, in), tb = time(*bwd, gd, gin);
  std::printf("lstm T=32 N=128 I=H=650, %d threads: forward %.1f ms, backward (all "
              "gradients, recomputes the forward) %.1f ms\n",
              omp_get_max_threads(), tf, tb);
  for (Kernel *k : {fwd.get(), bwd.get()})
    for (const Kernel::Phase &p : k->phases())
      std::printf("  %s: %s %.1f ms\n", k->implName().c_str(), p.name.c_str(), p.ms);
}

// ---------------------------------------------------------------------------
// RNN
// ---------------------------------------------------------------------------

TEST(RnnDnnl, TinyAndOdd) {
  checkRnn({1, 1, {5}, 3, {}}, true);
  checkRnn({2, 1, {1}, 2, {}}, true);
  checkRnn({7, 3, {5}, 13, {}}, true);
  checkRnn({7, 3, {5}, 13, {4}}, false);
  checkRnn({5, 2, {2, 3}, 9, {2, 2}}, false);
  checkRnn({6, 4, {3}, 7, {3}, true}, false);
}

TEST(RnnDnnl, Larger) {
  checkRnn({32, 16, {64}, 128, {}}, false);
  checkRnn({32, 16, {64}, 128, {16}}, false);
}

// ---------------------------------------------------------------------------
// Embed
// ---------------------------------------------------------------------------

KernelDesc embedDesc(const Shape &idx, int64_t k, int64_t n, bool bias) {
  Attrs a;
  a.set("num_output", n);
  a.set("input_dim", k);
  std::vector<Shape> in = {idx, {k, n}};
  if (bias)
    in.push_back({n});
  Shape y = idx;
  y.push_back(n);
  std::vector<bool> param(in.size(), true);
  param[0] = false;
  return makeDesc("embed", a, in, {y}, param);
}

std::vector<float> indices(const Shape &s, int64_t k) {
  std::uniform_int_distribution<int64_t> d(0, k - 1);
  std::vector<float> v(size_t(numElements(s)));
  for (float &x : v)
    x = float(d(rng()));
  return v;
}

std::vector<std::vector<float>> embedInputs(const KernelDesc &d, int64_t k) {
  std::vector<std::vector<float>> in = {indices(d.inputs[0], k)};
  for (size_t i = 1; i < d.inputs.size(); ++i)
    in.push_back(uniform(d.inputs[i], -1, 1));
  return in;
}

struct EmbedCase {
  Shape idx;
  int64_t k, n;
  bool bias;
};

TEST(EmbedDnnl, ForwardAndGradients) {
  // Few rows and many positions: most rows are picked several times.
  for (const EmbedCase &c : std::vector<EmbedCase>{{{1}, 1, 1, true},
                                                   {{4, 5}, 7, 19, true},
                                                   {{4, 5}, 7, 19, false},
                                                   {{200}, 5, 33, true},
                                                   {{10, 30}, 50, 300, true},
                                                   {{3, 2, 2}, 1000, 17, false}}) {
    SCOPED_TRACE("embed " + shapeToString(c.idx) + " K=" + std::to_string(c.k) +
                 " N=" + std::to_string(c.n) + (c.bias ? " bias" : ""));
    KernelDesc d = embedDesc(c.idx, c.k, c.n, c.bias);
    auto in = embedInputs(d, c.k);
    // A gather plus at most one float addition: exact.
    auto dn = createDnnlKernel(d, ctx());
    ASSERT_TRUE(dn);
    EXPECT_EQ(run(*dn, d, in), reference(d, in));
    auto gin = gradInputs(rng(), d, in);
    std::vector<std::vector<int64_t>> wrts = {{1}};
    if (c.bias)
      wrts.insert(wrts.end(), {{2}, {1, 2}});
    for (const auto &wrt : wrts) {
      SCOPED_TRACE(wrtString(wrt));
      KernelDesc g = gradOf(d, wrt);
      compare(g, gin);
      // Rows no index picks get exact zeros.
      if (wrt[0] == 1) {
        auto dw = run(*createDnnlKernel(g, ctx()), g, gin)[0];
        std::vector<bool> used(size_t(c.k), false);
        for (float v : in[0])
          used[size_t(v)] = true;
        for (int64_t r = 0; r < c.k; ++r)
          if (!used[size_t(r)]) {
            for (int64_t j = 0; j < c.n; ++j)
              ASSERT_EQ(dw[size_t(r * c.n + j)], 0.f) << "row " << r;
          }
      }
    }
  }
}

TEST(EmbedDnnl, RepeatedIndicesSum) {
  // Every position picks row 2: dW[2] = the column sums of dy, other rows 0.
  KernelDesc d = embedDesc({6}, 4, 5, true);
  std::vector<std::vector<float>> in = {std::vector<float>(6, 2.f), uniform({4, 5}, -1, 1),
                                        uniform({5}, -1, 1)};
  auto gin = gradInputs(rng(), d, in);
  KernelDesc g = gradOf(d, {1, 2});
  auto out = run(*createDnnlKernel(g, ctx()), g, gin);
  const std::vector<float> &dy = gin.back();
  for (int64_t j = 0; j < 5; ++j) {
    double s = 0;
    for (int64_t i = 0; i < 6; ++i)
      s += dy[size_t(i * 5 + j)];
    EXPECT_NEAR(out[0][size_t(2 * 5 + j)], s, 1e-6);
    EXPECT_NEAR(out[1][size_t(j)], s, 1e-6);
    for (int64_t r : {0, 1, 3})
      EXPECT_EQ(out[0][size_t(r * 5 + j)], 0.f);
  }
}

TEST(EmbedDnnl, GradientDoesNotDependOnThreads) {
  KernelDesc d = embedDesc({64, 8}, 37, 129, true);
  auto in = embedInputs(d, 37);
  auto gin = gradInputs(rng(), d, in);
  KernelDesc g = gradOf(d, {1, 2});
  auto k = createDnnlKernel(g, ctx());
  ASSERT_TRUE(k);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  auto one = run(*k, g, gin);
  omp_set_num_threads(2);
  auto two = run(*k, g, gin);
  omp_set_num_threads(3);
  auto three = run(*k, g, gin);
  omp_set_num_threads(saved);
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, three);
  compare(g, gin);
}

TEST(EmbedDnnl, BadIndexThrowsTheReferenceError) {
  KernelDesc d = embedDesc({2, 3}, 7, 4, true);
  for (float bad : {7.f, -1.f, 2.5f, NAN}) {
    auto in = embedInputs(d, 7);
    in[0][4] = bad;
    SCOPED_TRACE("index " + std::to_string(bad));
    auto dn = createDnnlKernel(d, ctx());
    auto ref = createReferenceKernel(d);
    std::string got = errorOf(*dn, d, in);
    EXPECT_NE(got.find("at position 4 is not an integer in [0, 7)"), std::string::npos) << got;
    EXPECT_EQ(got, errorOf(*ref, d, in));
    // The weight gradient reads the indices too; the bias gradient does not.
    auto gin = in;
    gin.push_back(uniform(d.outputs[0], -1, 1));
    gin.push_back(uniform(d.outputs[0], -1, 1));
    for (const auto &wrt : std::vector<std::vector<int64_t>>{{1}, {2}}) {
      KernelDesc g = gradOf(d, wrt);
      auto gdn = createDnnlKernel(g, ctx());
      auto gref = createReferenceKernel(g);
      std::string e = errorOf(*gdn, g, gin);
      EXPECT_EQ(e, errorOf(*gref, g, gin));
      EXPECT_EQ(e.empty(), wrt[0] == 2) << e;
    }
  }
}

} // namespace

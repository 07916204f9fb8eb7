//===- LayoutTest.cpp - Kernels on channel-blocked tensors ----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// docs/layouts.md: every kernel that may see a channel-blocked tensor
// (nChw8c / nChw16c), through the registry as the executor creates it, must
// give what the reference kernel gives on the plain tensors. The oneDNN
// kernels read and write the blocked buffers themselves; the reference ones
// run on plain copies (plainLayoutKernel); element-wise ones run unchanged.
//
//===----------------------------------------------------------------------===//

#include "DnnlTestUtil.h"
#include "FusedTestUtil.h"

#include "dlc/Ops/Layout.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <gtest/gtest.h>

using namespace dlc::rt;
using namespace dlc::rt::dnnltest;
using namespace dlc::rt::fusedtest;

namespace {

std::vector<float> blocked(const std::vector<float> &plain, const Shape &s, int block) {
  if (!block)
    return plain;
  std::vector<float> v(plain.size());
  dlc::ops::toBlocked(s, block, plain.data(), v.data());
  return v;
}

std::vector<float> plainOf(const std::vector<float> &v, const Shape &s, int block) {
  if (!block)
    return v;
  std::vector<float> p(v.size());
  dlc::ops::toPlain(s, block, v.data(), p.data());
  return p;
}

/// Runs `d` (plain) with the reference kernel, and `d` with `inBlocks` /
/// `outBlocks` through the registry from `backends`, on the same values
/// (blocked where asked); compares every output in the plain layout.
/// Returns the implementation name of the blocked kernel.
std::string compareBlocked(const KernelDesc &d, const std::vector<std::vector<float>> &in,
                           std::vector<int> inBlocks, std::vector<int> outBlocks,
                           double reduction, std::vector<std::string> backends = {"onednn"}) {
  auto ref = createReferenceKernel(d);
  auto want = run(*ref, d, in);
  KernelDesc b = d;
  b.inBlocks = std::move(inBlocks);
  b.outBlocks = std::move(outBlocks);
  std::vector<std::vector<float>> bin;
  for (size_t i = 0; i < in.size(); ++i)
    bin.push_back(blocked(in[i], d.inputs[i], b.inBlock(i)));
  BackendContexts contexts;
  KernelChoice c = createKernel(b, backends, contexts);
  EXPECT_EQ(c.backend, backends[0]) << c.notes;
  for (int rep = 0; rep < 2; ++rep) { // the second run reuses cached state
    auto got = run(*c.kernel, b, bin);
    for (size_t o = 0; o < got.size(); ++o)
      EXPECT_TRUE(closeTo(plainOf(got[o], d.outputs[o], b.outBlock(o)), want[o], reduction))
          << d.op << " [" << c.kernel->implName() << "] output " << o << " run " << rep;
  }
  return c.kernel->implName();
}

/// 16 on AVX-512 machines, else 8 (what --layout auto picks).
int nativeBlock() {
  return dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core ? 16 : 8;
}

bool hasCopies(const std::string &impl) { return impl.find("plain-copies") != std::string::npos; }

/// The `_grad` description and inputs of forward `f` (reference forward).
std::pair<KernelDesc, std::vector<std::vector<float>>> gradCase(const KernelDesc &f,
                                                                 std::vector<int64_t> wrt,
                                                                 std::vector<std::vector<float>> fwdIn = {}) {
  return {gradOf(f, wrt), dnnltest::gradInputs(rng(), f, std::move(fwdIn))};
}

KernelDesc conv(int64_t n, int64_t c, int64_t hw, int64_t o, int64_t k, int64_t s, int64_t p) {
  KernelDesc d = makeDesc("convolution", convAttrs(o, k, s, p), {{n, c, hw, hw}, {o, c, k, k}, {o}},
                          {}, {false, true, true});
  d.outputs = inferKernelOutputs(d);
  return d;
}

TEST(Layout, ConversionsRoundTripAndIndex) {
  const Shape s{2, 32, 3, 5};
  auto v = randomData(s);
  for (int block : {8, 16}) {
    auto b = blocked(v, s, block);
    EXPECT_NE(b, v);
    EXPECT_EQ(plainOf(b, s, block), v);
    for (int64_t i = 0; i < numElements(s); ++i)
      ASSERT_EQ(v[size_t(dlc::ops::plainIndex(s, block, i))], b[size_t(i)]) << i;
  }
  EXPECT_TRUE(dlc::ops::isBlockable(s, 16));
  EXPECT_FALSE(dlc::ops::isBlockable({2, 20, 3, 5}, 16));
  EXPECT_FALSE(dlc::ops::isBlockable({2, 32, 15}, 16));
  EXPECT_EQ(dlc::ops::layoutName(16), "nChw16c");
}

TEST(Layout, InvalidLayoutIsRejected) {
  KernelDesc d = makeDesc("relu", reluAttrs(), {{2, 20, 3, 3}}, {{2, 20, 3, 3}});
  d.inBlocks = {16};
  d.outBlocks = {16};
  BackendContexts contexts;
  try {
    createKernel(d, {"onednn"}, contexts);
    FAIL() << "a 20-channel tensor cannot be nChw16c";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("cannot have layout nChw16c"), std::string::npos)
        << e.what();
  }
}

TEST(Layout, Reorder) {
  const Shape s{2, 32, 4, 3};
  auto x = randomData(s);
  KernelDesc d = makeDesc("reorder", {}, {s}, {s});
  for (auto backend : {"onednn", "ref"})
    for (auto [from, to] : std::vector<std::pair<int, int>>{{0, 16}, {16, 0}, {8, 16}, {0, 8}}) {
      SCOPED_TRACE(std::string(backend) + " " + std::to_string(from) + "->" + std::to_string(to));
      EXPECT_FALSE(hasCopies(compareBlocked(d, {x}, {from}, {to}, 1, {backend})));
    }
}

TEST(Layout, ElementwiseRunsUnchanged) {
  const Shape s{2, 16, 5, 5};
  KernelDesc d = makeDesc("relu", reluAttrs(0.1), {s}, {s});
  for (auto backend : {"onednn", "ref"})
    EXPECT_FALSE(hasCopies(compareBlocked(d, {randomData(s)}, {16}, {16}, 1, {backend})));
}

TEST(Layout, ConvolutionForward) {
  KernelDesc d = conv(2, 16, 9, 32, 3, 1, 1);
  auto in = randomInputs(d);
  for (int b : {8, 16}) {
    SCOPED_TRACE("block " + std::to_string(b));
    EXPECT_FALSE(hasCopies(compareBlocked(d, in, {b, 0, 0}, {b}, 144)));
    // Plain in (a graph input), blocked out; blocked in, plain out.
    compareBlocked(d, in, {0, 0, 0}, {b}, 144);
    compareBlocked(d, in, {b, 0, 0}, {0}, 144);
    EXPECT_TRUE(hasCopies(compareBlocked(d, in, {b, 0, 0}, {b}, 144, {"ref"})));
  }
  KernelDesc g = d;
  g.attrs.set("impl", std::string("gemm"));
  EXPECT_TRUE(hasCopies(compareBlocked(g, in, {16, 0, 0}, {16}, 144)));
  // Stride 2, 1x1 (a ResNet projection).
  KernelDesc p = conv(2, 32, 8, 64, 1, 2, 0);
  compareBlocked(p, randomInputs(p), {16, 0, 0}, {16}, 32);
}

TEST(Layout, ConvolutionBackward) {
  KernelDesc f = conv(2, 16, 7, 16, 3, 1, 1);
  auto [g, in] = gradCase(f, {0, 1, 2});
  // Inputs x, w, b, y, dy; outputs dx, dw, db.
  for (int b : {8, 16})
    EXPECT_FALSE(hasCopies(compareBlocked(g, in, {b, 0, 0, b, b}, {b, 0, 0}, 144)));
  compareBlocked(g, in, {0, 0, 0, 16, 16}, {0, 0, 0}, 144);
  compareBlocked(g, in, {16, 0, 0, 16, 16}, {16, 0, 0}, 144, {"ref"});
}

KernelDesc pool(const std::string &method, int64_t k, int64_t s, int64_t p, bool global = false) {
  Attrs a;
  a.set("pool", method);
  if (!global)
    a.set("kernel", std::vector<int64_t>{k, k});
  a.set("stride", std::vector<int64_t>{s, s});
  a.set("pad", std::vector<int64_t>{p, p});
  a.set("global_pooling", int64_t(global));
  KernelDesc d = makeDesc("pooling", a, {{2, 16, 7, 7}}, {});
  d.outputs = inferKernelOutputs(d);
  return d;
}

TEST(Layout, Pooling) {
  for (const KernelDesc &f : {pool("max", 3, 2, 0), pool("max", 3, 2, 1), pool("ave", 2, 2, 0),
                              pool("ave", 3, 2, 1), pool("ave", 1, 1, 0, true)}) {
    SCOPED_TRACE(f.attrs.getString("pool", "") + " pad " +
                 std::to_string(f.attrs.getInts("pad")[0]));
    auto x = randomInputs(f);
    for (int b : {8, 16})
      compareBlocked(f, x, {b}, {b}, 9);
    auto [g, in] = gradCase(f, {0});
    for (int b : {8, 16})
      compareBlocked(g, in, {b, b, b}, {b}, 9);
    compareBlocked(g, in, {0, 16, 16}, {0}, 9); // mixed: plain copies
  }
}

TEST(Layout, Lrn) {
  Attrs a;
  a.set("local_size", int64_t(5));
  a.set("alpha", 1e-2);
  a.set("beta", 0.75);
  a.set("k", 1.0);
  KernelDesc f = makeDesc("lrn", a, {{2, 32, 5, 5}}, {{2, 32, 5, 5}});
  compareBlocked(f, randomInputs(f), {16}, {16}, 5);
  auto [g, in] = gradCase(f, {0});
  compareBlocked(g, in, {16, 16, 16}, {16}, 5);
}

TEST(Layout, BatchNormScaleBias) {
  const Shape s{2, 32, 5, 5};
  for (bool global : {true, false}) {
    SCOPED_TRACE(global ? "global statistics" : "batch statistics");
    KernelDesc f = makeDesc("batch_norm", bnAttrs(global), {s, {32}, {32}, {1}}, {s},
                            {false, true, true, true});
    auto in = randomInputs(f, {{2, {0.5f, 2.f}}}, {{3, {1.5f}}});
    for (int b : {8, 16})
      EXPECT_FALSE(hasCopies(compareBlocked(f, in, {b, 0, 0, 0}, {b}, 50)));
    compareBlocked(f, in, {0, 0, 0, 0}, {16}, 50); // mixed: plain copies
    auto [g, gin] = gradCase(f, {0}, in);
    EXPECT_FALSE(hasCopies(compareBlocked(g, gin, {16, 0, 0, 0, 16, 16}, {16}, 50)));
  }
  KernelDesc sc = makeDesc("scale", scaleAttrs(), {s, {32}, {32}}, {s}, {false, true, true});
  auto in = randomInputs(sc);
  for (int b : {8, 16}) {
    std::string impl = compareBlocked(sc, in, {b, 0, 0}, {b}, 1);
    EXPECT_FALSE(hasCopies(impl));
    // The block dlc compile --layout auto picks for this ISA has a JIT kernel.
    if (b == nativeBlock())
      EXPECT_EQ(impl.find(":ref:"), std::string::npos) << "block " << b << ": " << impl;
  }
  auto [g, gin] = gradCase(sc, {0, 1, 2});
  EXPECT_FALSE(hasCopies(compareBlocked(g, gin, {16, 0, 0, 16, 16}, {16, 0, 0}, 50)));
  // The weight gradients alone (a backward_weights kernel): plain outputs.
  auto [gw, gwin] = gradCase(sc, {1, 2});
  std::string implW = compareBlocked(gw, gwin, {16, 0, 0, 16, 16}, {0, 0}, 50);
  EXPECT_FALSE(hasCopies(implW)) << implW;
  compareBlocked(g, gin, {8, 0, 0, 8, 8}, {8, 0, 0}, 50);
  Attrs ba;
  ba.set("axis", int64_t(1));
  ba.set("num_axes", int64_t(1));
  KernelDesc bias = makeDesc("bias", ba, {s, {32}}, {s}, {false, true});
  compareBlocked(bias, randomInputs(bias), {16, 0}, {16}, 1);
}

TEST(Layout, FusedConvBatchNormScaleSumRelu) {
  FusedBuilder b;
  int x = b.input({2, 16, 6, 6});
  int w = b.input({16, 16, 3, 3}, true);
  int mean = b.input({16}, true), var = b.input({16}, true), sf = b.input({1}, true);
  int gamma = b.input({16}, true), beta = b.input({16}, true);
  int v = b.step("convolution", convAttrs(16, 3, 1, 1), {x, w});
  v = b.step("batch_norm", bnAttrs(), {v, mean, var, sf});
  v = b.step("scale", scaleAttrs(), {v, gamma, beta});
  v = b.step("eltwise", sumAttrs(), {v, x});
  v = b.step("relu", reluAttrs(), {v});
  KernelDesc d = b.finish({v});
  auto in = randomInputs(d, {{var, {0.5f, 2.f}}, {gamma, {-1.5f, 1.5f}}}, {{sf, {1.5f}}});
  // The reference of a fused kernel is its composition; compare with that.
  BackendContexts contexts;
  KernelChoice ref = createKernel(d, {"ref"}, contexts);
  auto want = run(*ref.kernel, d, in);
  for (int blk : {8, 16}) {
    KernelDesc bd = d;
    bd.inBlocks.assign(d.inputs.size(), 0);
    bd.inBlocks[size_t(x)] = blk;
    bd.outBlocks = {blk};
    for (FusedStep &s : bd.body) {
      s.desc.inBlocks.clear();
      for (size_t i = 0; i < s.desc.inputs.size(); ++i)
        s.desc.inBlocks.push_back(s.desc.inputs[i].size() == 4 && s.desc.inputs[i][1] == 16 &&
                                          !s.desc.param(i)
                                      ? blk
                                      : 0);
      s.desc.outBlocks = {blk};
    }
    auto bin = in;
    bin[size_t(x)] = blocked(in[size_t(x)], d.inputs[size_t(x)], blk);
    for (auto backends : {std::vector<std::string>{"onednn"}, std::vector<std::string>{"ref"}}) {
      KernelChoice c = createKernel(bd, backends, contexts);
      auto got = run(*c.kernel, bd, bin);
      EXPECT_TRUE(closeTo(plainOf(got[0], d.outputs[0], blk), want[0], 200))
          << c.kernel->implName() << " block " << blk;
      if (backends[0] == "onednn")
        EXPECT_EQ(c.kernel->implName().rfind("fused:", 0), 0u) << c.kernel->implName();
    }
  }
}

} // namespace

namespace {

// ---------------------------------------------------------------------------
// BatchNorm + Scale (+ ReLU) fused, forward and backward (FusedNorm.cpp):
// the oneDNN kernel against the reference composition, plain and blocked.
// ---------------------------------------------------------------------------

Attrs withWrt(Attrs a, std::vector<int64_t> wrt) {
  a.set("wrt", std::move(wrt));
  return a;
}

struct NormBody {
  KernelDesc desc;
  int x, var, factor, gamma, y, dy;
};

/// Forward: bn, scale (+ relu). Backward (the body dl-fuse-ops builds):
/// bn (and scale, with a relu) recomputed, relu_grad, scale_grad (data), scale_grad
/// (weights), batch_norm_grad; outputs dx, dgamma[, dbeta].
NormBody normBody(bool backward, bool relu, bool bias, int64_t c = 32) {
  const Shape s{2, c, 5, 4};
  NormBody n{};
  FusedBuilder b(backward ? "bn+scale+relu@grad" : "bn+scale+relu");
  n.x = b.input(s);
  int mean = b.input({c}, true);
  n.var = b.input({c}, true);
  n.factor = b.input({1}, true);
  n.gamma = b.input({c}, true);
  int beta = bias ? b.input({c}, true) : -1;
  if (backward) {
    n.y = b.input(s);
    n.dy = b.input(s);
  }
  int t1 = b.step("batch_norm", bnAttrs(), {n.x, mean, n.var, n.factor});
  std::vector<int> scaleArgs{t1, n.gamma};
  if (bias)
    scaleArgs.push_back(beta);
  // The backward body recomputes the Scale only when the ReLU needs it.
  int t2 = !backward || relu ? b.step("scale", scaleAttrs(), scaleArgs) : -1;
  if (!backward) {
    int r = relu ? b.step("relu", reluAttrs(), {t2}) : t2;
    n.desc = b.finish({r});
    return n;
  }
  int g = n.dy;
  auto fwdArgs = scaleArgs;
  if (relu)
    g = b.step("relu_grad", withWrt(reluAttrs(), {0}), {t2, n.y, n.dy});
  auto sargs = scaleArgs;
  sargs.push_back(relu ? t2 : n.y);
  sargs.push_back(g);
  int ds = b.step("scale_grad", withWrt(scaleAttrs(), {0}), sargs);
  int dg = b.step("scale_grad", withWrt(scaleAttrs(), bias ? std::vector<int64_t>{1, 2}
                                                            : std::vector<int64_t>{1}),
                  sargs);
  int dx = b.step("batch_norm_grad", withWrt(bnAttrs(), {0}), {n.x, mean, n.var, n.factor, t1, ds});
  std::vector<int> results{dx, dg};
  if (bias)
    results.push_back(dg + 1);
  n.desc = b.finish(results);
  return n;
}

TEST(FusedNorm, ForwardAndBackwardMatchTheReference) {
  for (bool backward : {false, true})
    for (bool relu : {true, false})
      for (bool bias : {true, false})
        for (int blk : {0, 8, 16}) {
          SCOPED_TRACE(std::string(backward ? "backward" : "forward") + (relu ? " relu" : "") +
                       (bias ? " bias" : "") + " block " + std::to_string(blk));
          NormBody n = normBody(backward, relu, bias);
          auto in = randomInputs(n.desc, {{n.var, {0.5f, 2.f}}, {n.gamma, {-1.5f, 1.5f}}},
                                 {{n.factor, {1.5f}}});
          BackendContexts contexts;
          if (backward) { // y is the forward's result on the same inputs
            NormBody f = normBody(false, relu, bias);
            KernelChoice fk = createKernel(f.desc, {"ref"}, contexts);
            in[size_t(n.y)] = run(*fk.kernel, f.desc,
                                  std::vector<std::vector<float>>(in.begin(), in.begin() + n.y))[0];
          }
          KernelChoice ref = createKernel(n.desc, {"ref"}, contexts);
          auto want = run(*ref.kernel, n.desc, in);
          KernelDesc d = n.desc;
          auto bin = in;
          if (blk) {
            // Data tensors blocked (the kernel's and every step's), params plain.
            auto data = [&](const Shape &s) { return s.size() == 4 ? blk : 0; };
            for (size_t i = 0; i < d.inputs.size(); ++i) {
              d.inBlocks.push_back(data(d.inputs[i]));
              bin[i] = blocked(in[i], d.inputs[i], d.inBlocks[i]);
            }
            for (const Shape &s : d.outputs)
              d.outBlocks.push_back(data(s));
            for (FusedStep &s : d.body) {
              for (const Shape &sh : s.desc.inputs)
                s.desc.inBlocks.push_back(data(sh));
              for (const Shape &sh : s.desc.outputs)
                s.desc.outBlocks.push_back(data(sh));
            }
          }
          KernelChoice c = createKernel(d, {"onednn"}, contexts);
          EXPECT_EQ(c.kernel->implName().rfind("fused:", 0), 0u) << c.kernel->implName();
          for (int rep = 0; rep < 2; ++rep) {
            auto got = run(*c.kernel, d, bin);
            for (size_t o = 0; o < got.size(); ++o)
              EXPECT_TRUE(closeTo(plainOf(got[o], d.outputs[o], d.outBlock(o)), want[o], 40))
                  << c.kernel->implName() << " output " << o;
          }
        }
}

TEST(FusedNorm, OtherBodiesRunComposed) {
  // A leaky ReLU, and batch statistics: each layer's own kernel.
  auto implOf = [](const KernelDesc &d) {
    BackendContexts contexts;
    return createKernel(d, {"onednn", "ref"}, contexts).kernel->implName();
  };
  NormBody n = normBody(false, true, true);
  n.desc.body[2].desc.attrs.set("negative_slope", 0.1);
  EXPECT_EQ(implOf(n.desc).rfind("composed(", 0), 0u) << implOf(n.desc);
  n = normBody(false, true, true);
  n.desc.body[0].desc.attrs.set("use_global_stats", int64_t(0));
  EXPECT_EQ(implOf(n.desc).rfind("composed(", 0), 0u) << implOf(n.desc);
  EXPECT_EQ(implOf(normBody(true, true, true).desc).rfind("fused:", 0), 0u);
}

} // namespace

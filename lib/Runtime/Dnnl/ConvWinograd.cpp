//===- ConvWinograd.cpp - dlc's Winograd convolution kernels --------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Winograd convolution (Lavin & Gray 2016) for 3x3, stride 1, undilated 2-D
// convolutions, in the three directions, as planned by ops::winogradPlan
// (lib/Ops/Winograd.cpp, which sizes every buffer here). Each direction is
// one OpenMP parallel region without barriers (a preempted thread on a busy
// machine stalls nobody until the end); the tile transforms and GEMMs are
// single-threaded building blocks (WinogradTransforms.h):
//
// - forward, F(m x m, 3 x 3): the threads take chunks of tiles (tileBatch /
//   threads, dynamically); per chunk, in the thread's own share of the
//   buffers: the input transform V = B^T d B of every alpha x alpha input
//   tile, G * alpha^2 GEMMs M[e] (tiles x K/G) = V[e] (tiles x C/G) *
//   U[e] (C/G x K/G), and the output transform y = A^T M A (+ bias), written
//   into y directly; U = G w G^T is cached while the weights are parameters.
// - backward data: the forward algorithm on dy padded by 2 - pad with the
//   rotated, C/K-transposed filter.
// - backward weights, F(3 x 3, m x m): dy's m x m tiles are the filter,
//   x's alpha x alpha tiles the input; each thread owns a share of the
//   transform-domain elements (group, e) and, over all tiles in batches,
//   transforms x and dy for its elements only and accumulates
//   Macc[e] (K/G x C/G) += Udy[e]^T * Vx[e]; then one output transform per
//   weight; db is the sum of dy over N, H, W.
//
// Channels are padded to multiples of 16 in the transform domain (zero), so
// transforms and GEMMs work on whole 16-float vectors; channel-blocked
// activations (nChw16c) are read and written a vector at a time.
//
//===----------------------------------------------------------------------===//

#include "ConvAlgos.h"
#include "WinogradTransforms.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace dlc::rt::dnnlk {
namespace {

using wino::Act;
using wino::padLanes;
using wino::ToomCook;

/// The 3 x 3 filter transform U = G f G^T (alpha x alpha) of every
/// (group, ci, co): U[(g * A * A + e) * cinP * coutP + ci * coutP + co]
/// (zero in the padding), the filter of (ci, co) being w[co][ci] (forward)
/// or, for backward data (the forward on dy: ci = k, co = c), w[ci][co]
/// rotated by 180 degrees.
void filterTransform(const ToomCook &tc, const float *w, int64_t groups, int64_t cinG,
                     int64_t coutG, int64_t cinP, int64_t coutP, bool backwardData, float *u) {
  const int A = tc.alpha, A2 = A * A;
  const int64_t total = groups * cinG * coutG;
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (int64_t i = 0; i < groups * A2 * cinP; ++i)
      std::memset(u + i * coutP, 0, sizeof(float) * size_t(coutP));
#pragma omp for schedule(static)
    for (int64_t i = 0; i < total; ++i) {
      const int64_t co = i % coutG, ci = i / coutG % cinG, g = i / (coutG * cinG);
      // Weight [K, C/G, 3, 3]: forward k = co, c = ci; backward data k = ci, c = co.
      const int64_t k = g * (backwardData ? cinG : coutG) + (backwardData ? ci : co);
      const int64_t c = backwardData ? co : ci;
      const float *f = w + (k * (backwardData ? coutG : cinG) + c) * 9;
      float fr[9];
      for (int q = 0; q < 9; ++q)
        fr[q] = backwardData ? f[8 - q] : f[q];
      float t[8][3];
      for (int a = 0; a < A; ++a)
        for (int jj = 0; jj < 3; ++jj) {
          float acc = 0;
          for (int ii = 0; ii < 3; ++ii)
            acc += tc.G[size_t(a * 3 + ii)] * fr[ii * 3 + jj];
          t[a][jj] = acc;
        }
      float *o = u + g * A2 * cinP * coutP + ci * coutP + co;
      for (int a = 0; a < A; ++a)
        for (int b = 0; b < A; ++b) {
          float acc = 0;
          for (int jj = 0; jj < 3; ++jj)
            acc += tc.G[size_t(b * 3 + jj)] * t[a][jj];
          o[(a * A + b) * cinP * coutP] = acc;
        }
    }
  }
}

/// "F(4x4,3x3)".
std::string variant(int m, int r) {
  return "F(" + std::to_string(m) + "x" + std::to_string(m) + "," + std::to_string(r) + "x" +
         std::to_string(r) + ")";
}

/// Shared by the kernels: the forward-like core (forward and backward data)
/// and the weight-gradient core, with their plans and buffers.
class WinogradBase : public DnnlKernelBase {
protected:
  WinogradBase(const KernelDesc &desc, DnnlContext &ctx) : DnnlKernelBase(desc, ctx) {}

  /// Forward-like: `in` (cin channels) -> `out` (cout channels), tiles of out.
  struct FwdCore {
    ops::WinogradPlan plan;
    ToomCook tc;
    Act in, out;
    int64_t groups = 1, cinG = 0, coutG = 0, cinP = 0, coutP = 0, tiles = 0, items = 0;
    int padH = 0, padW = 0;
    bool backwardData = false;
    std::vector<float> u, v, mm;
  };

  void initFwd(FwdCore &c, const ops::ConvProblem &p, int m, const Act &in, const Act &out,
               int padH, int padW) {
    c.plan = ops::winogradPlan(p, m);
    if (!c.plan.whyNot.empty())
      failHere("winograd: " + c.plan.whyNot);
    c.tc = wino::toomCook(m, 3);
    c.in = in, c.out = out, c.padH = padH, c.padW = padW;
    c.backwardData = p.direction == ops::ConvDirection::BackwardData;
    c.groups = p.geometry.group;
    c.cinG = in.c / c.groups, c.coutG = out.c / c.groups;
    c.cinP = padLanes(c.cinG), c.coutP = padLanes(c.coutG);
    c.tiles = p.geometry.batch * c.plan.tilesH * c.plan.tilesW;
    c.items = int64_t(c.plan.alpha) * c.plan.alpha * c.groups;
    const int64_t tb = c.plan.tileBatch;
    c.u.assign(size_t(c.items * c.cinP * c.coutP), 0.f);
    c.v.assign(size_t(c.items * tb * c.cinP), 0.f);
    c.mm.assign(size_t(c.items * tb * c.coutP), 0.f);
    checkWorkspace(c.plan, c.u.size() + c.v.size() + c.mm.size());
  }

  /// Transforms the weights into c.u.
  void filter(FwdCore &c, const float *w) {
    filterTransform(c.tc, w, c.groups, c.cinG, c.coutG, c.cinP, c.coutP, c.backwardData,
                    c.u.data());
  }

  void runFwd(FwdCore &c, const float *in, const float *bias, float *out) {
    const int m = c.plan.m;
    const int64_t tb = c.plan.tileBatch, T = c.tiles, items = c.items;
    std::atomic<int64_t> next{0};
#pragma omp parallel
    {
      const int64_t nt = omp_get_num_threads(), id = omp_get_thread_num();
      // The thread's share of the buffers: `chunk` tiles.
      const int64_t chunk = std::max<int64_t>(1, tb / nt);
      if ((id + 1) * chunk <= tb) {
        float *v = c.v.data() + id * chunk * items * c.cinP;
        float *mm = c.mm.data() + id * chunk * items * c.coutP;
        for (;;) {
          const int64_t t0 = next.fetch_add(chunk, std::memory_order_relaxed);
          if (t0 >= T)
            break;
          const int64_t rows = std::min(chunk, T - t0);
          wino::Tiles ti{c.in, c.plan.tilesH, c.plan.tilesW, t0, rows, c.groups, c.cinG,
                         c.cinP, chunk * c.cinP, m, c.padH, c.padW};
          wino::inputTransform(ti, wino::InputKind::Tile, m, in, 0, items, v);
          for (int64_t it = 0; it < items; ++it)
            wino::gemm(rows, c.coutP, c.cinP, v + it * chunk * c.cinP, c.cinP, 1,
                       c.u.data() + it * c.cinP * c.coutP, c.coutP,
                       mm + it * chunk * c.coutP, c.coutP, false);
          wino::Tiles to{c.out, c.plan.tilesH, c.plan.tilesW, t0, rows, c.groups, c.coutG,
                         c.coutP, chunk * c.coutP, m, 0, 0};
          wino::outputTransform(to, m, mm, bias, out);
        }
      }
    }
  }

  /// Weight gradient: x (C) and dy (K) -> dW [K, C/G, 3, 3].
  struct WgtCore {
    ops::WinogradPlan plan;
    ToomCook tc;
    Act x, dy;
    int64_t groups = 1, cG = 0, kG = 0, cP = 0, kP = 0, tiles = 0, items = 0;
    int padH = 0, padW = 0;
    std::vector<float> udy, vx, acc;
  };

  void initWgt(WgtCore &c, const ops::ConvProblem &p, int m, const Act &x, const Act &dy) {
    c.plan = ops::winogradPlan(p, m);
    if (!c.plan.whyNot.empty())
      failHere("winograd: " + c.plan.whyNot);
    c.tc = wino::toomCook(3, m);
    c.x = x, c.dy = dy;
    c.padH = int(p.geometry.pad[0]), c.padW = int(p.geometry.pad[1]);
    c.groups = p.geometry.group;
    c.cG = x.c / c.groups, c.kG = dy.c / c.groups;
    c.cP = padLanes(c.cG), c.kP = padLanes(c.kG);
    c.tiles = p.geometry.batch * c.plan.tilesH * c.plan.tilesW;
    c.items = int64_t(c.plan.alpha) * c.plan.alpha * c.groups;
    const int64_t tb = c.plan.tileBatch;
    c.udy.assign(size_t(c.items * tb * c.kP), 0.f);
    c.vx.assign(size_t(c.items * tb * c.cP), 0.f);
    c.acc.assign(size_t(c.items * c.kP * c.cP), 0.f);
    checkWorkspace(c.plan, c.udy.size() + c.vx.size() + c.acc.size());
  }

  void runWgt(WgtCore &c, const float *x, const float *dy, float *dw) {
    const int m = c.plan.m;
    const int64_t kc = c.kP * c.cP;
    const int64_t tb = c.plan.tileBatch, T = c.tiles, items = c.items;
#pragma omp parallel
    {
      const int64_t nt = omp_get_num_threads(), id = omp_get_thread_num();
      // The thread's elements [ib, ie) and their share of the buffers.
      const int64_t ib = items * id / nt, ie = items * (id + 1) / nt;
      float *ud = c.udy.data() + ib * tb * c.kP, *vx = c.vx.data() + ib * tb * c.cP;
      std::fill(c.acc.data() + ib * kc, c.acc.data() + ie * kc, 0.f);
      for (int64_t t0 = 0; ib < ie && t0 < T; t0 += tb) {
        const int64_t rows = std::min(tb, T - t0);
        wino::Tiles jd{c.dy, c.plan.tilesH, c.plan.tilesW, t0, rows, c.groups, c.kG, c.kP,
                       tb * c.kP, m, 0, 0};
        wino::inputTransform(jd, wino::InputKind::DyTile, m, dy, ib, ie, ud);
        wino::Tiles jx{c.x, c.plan.tilesH, c.plan.tilesW, t0, rows, c.groups, c.cG, c.cP,
                       tb * c.cP, m, c.padH, c.padW};
        wino::inputTransform(jx, wino::InputKind::Tile, m, x, ib, ie, vx);
        for (int64_t it = ib; it < ie; ++it)
          wino::gemm(c.kP, c.cP, rows, ud + (it - ib) * tb * c.kP, 1, c.kP,
                     vx + (it - ib) * tb * c.cP, c.cP, c.acc.data() + it * kc, c.cP, true);
      }
#pragma omp barrier
      // dW = AT Macc AT^T per weight, the rows (g, k) split over the threads.
      const int64_t rowsK = c.groups * c.kG;
      wino::weightOutputTransform(m, c.groups, c.kG, c.cG, c.kP, c.cP, c.acc.data(),
                                  rowsK * id / nt, rowsK * (id + 1) / nt, dw);
    }
  }

  void checkWorkspace(const ops::WinogradPlan &p, size_t floats) {
    if (int64_t(floats * sizeof(float)) != p.work.workspaceBytes)
      failHere("winograd: internal error: workspace of " +
                        std::to_string(floats * sizeof(float)) + " bytes, planned " +
                        std::to_string(p.work.workspaceBytes));
  }

  /// Throws Error naming the layer, as KernelDesc::fail does.
  [[noreturn]] void failHere(const std::string &msg) const {
    throw Error("layer '" + layer_ + "' (" + op_ + "): " + msg);
  }
};

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

Act actOf(const Shape &s, int block) { return Act{s[1], s[2], s[3], block}; }

class WinogradConvKernel : public WinogradBase {
public:
  WinogradConvKernel(const KernelDesc &desc, DnnlContext &ctx, const ops::ConvProblem &p, int m)
      : WinogradBase(desc, ctx), cacheW_(isParam(desc, 1)), hasBias_(desc.inputs.size() == 3) {
    initFwd(core_, p, m, actOf(desc.inputs[0], desc.inBlock(0)),
            actOf(desc.outputs[0], desc.outBlock(0)), int(p.geometry.pad[0]),
            int(p.geometry.pad[1]));
    impl_ = "dlc:winograd " + variant(m, 3);
  }

  void forward(const float *const *in, float *const *out) override {
    if (!uValid_) {
      filter(core_, in[1]);
      uValid_ = cacheW_;
    }
    runFwd(core_, in[0], hasBias_ ? in[2] : nullptr, out[0]);
  }
  void paramsChanged() override { uValid_ = false; }

private:
  FwdCore core_;
  bool cacheW_, hasBias_, uValid_ = false;
};

class WinogradConvGradKernel : public WinogradBase {
public:
  WinogradConvGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                         const ops::ConvProblem &data, const ops::ConvProblem &weights, int m)
      : WinogradBase(desc, ctx), dyIdx_(gd.gradIn()), outDx_(gd.outputOf(0)),
        outDw_(gd.outputOf(1)), outDb_(gd.outputOf(2)), cacheW_(isParam(desc, 1)) {
    const Act x = actOf(desc.inputs[0], desc.inBlock(0));
    const Act dy = actOf(desc.inputs[dyIdx_], desc.inBlock(dyIdx_));
    dyAct_ = dy;
    batch_ = desc.inputs[0][0];
    std::string impl;
    if (outDx_ >= 0) {
      initFwd(data_, data, m, dy, actOf(desc.outputs[size_t(outDx_)], desc.outBlock(size_t(outDx_))),
              int(2 - data.geometry.pad[0]), int(2 - data.geometry.pad[1]));
      impl = " data:" + variant(m, 3);
    }
    if (outDw_ >= 0) {
      initWgt(wgt_, weights, m, x, dy);
      impl += " weights:" + variant(3, m);
    }
    if (outDb_ >= 0)
      impl += " bias:sum";
    impl_ = "dlc:winograd" + impl;
  }

  void forward(const float *const *in, float *const *out) override {
    const float *dy = in[dyIdx_];
    if (outDx_ >= 0) {
      if (!uValid_) {
        filter(data_, in[1]);
        uValid_ = cacheW_;
      }
      runFwd(data_, dy, nullptr, out[outDx_]);
    }
    if (outDw_ >= 0)
      runWgt(wgt_, in[0], dy, out[outDw_]);
    if (outDb_ >= 0)
      biasSum(dy, out[outDb_]);
  }
  void paramsChanged() override { uValid_ = false; }

private:
  /// db[k] = sum of dy[., k, ., .] (float64 across images and rows).
  void biasSum(const float *dy, float *db) const {
    const Act &a = dyAct_;
    const int64_t N = batch_, K = a.c, step = a.step();
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < K; ++k) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n) {
        const float *p = dy + a.plane(n, k);
        for (int64_t y = 0; y < a.h; ++y) {
          float part = 0;
          for (int64_t x = 0; x < a.w; ++x)
            part += p[(y * a.w + x) * step];
          acc += part;
        }
      }
      db[k] = float(acc);
    }
  }
  size_t dyIdx_;
  int outDx_, outDw_, outDb_;
  bool cacheW_, uValid_ = false;
  int64_t batch_ = 0;
  Act dyAct_;
  FwdCore data_;
  WgtCore wgt_;
};

template <int M>
std::unique_ptr<Kernel> makeForward(const KernelDesc &desc, DnnlContext &ctx) {
  const char *name = M == 2 ? "winograd2" : "winograd4";
  ops::ConvProblem p = convProblem(desc, ops::ConvDirection::Forward);
  requireApplicable(desc, p, name);
  return std::make_unique<WinogradConvKernel>(desc, ctx, p, M);
}

template <int M>
std::unique_ptr<Kernel> makeBackward(const KernelDesc &desc, DnnlContext &ctx) {
  const char *name = M == 2 ? "winograd2" : "winograd4";
  GradDesc gd = gradDesc(desc);
  // The problem's channel block is the layout of x (convProblem reads the
  // forward description's input 0).
  KernelDesc fwd = gd.fwd;
  fwd.inBlocks = {desc.inBlock(0)};
  ops::ConvProblem data = convProblem(fwd, ops::ConvDirection::BackwardData);
  ops::ConvProblem weights = convProblem(fwd, ops::ConvDirection::BackwardWeights);
  if (gd.wants(0))
    requireApplicable(desc, data, name);
  if (gd.wants(1) || gd.wants(2))
    requireApplicable(desc, weights, name);
  return std::make_unique<WinogradConvGradKernel>(desc, ctx, gd, data, weights, M);
}

static ConvAlgoRegistration reg2{{"winograd2", makeForward<2>, makeBackward<2>}};
static ConvAlgoRegistration reg4{{"winograd4", makeForward<4>, makeBackward<4>}};

} // namespace
} // namespace dlc::rt::dnnlk

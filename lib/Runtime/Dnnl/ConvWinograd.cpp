//===- ConvWinograd.cpp - dlc's Winograd convolution kernels --------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Winograd convolution (Lavin & Gray 2016) for 3x3, stride 1, undilated 2-D
// convolutions, in the three directions, as planned by ops::winogradPlan
// (lib/Ops/Winograd.cpp, which sizes every buffer here):
//
// - forward, F(m x m, 3 x 3): per batch of tiles, the input transform
//   V = B^T d B of every alpha x alpha input tile, G * alpha^2 GEMMs
//   M[e] (tiles x K/G) = V[e] (tiles x C/G) * U[e] (C/G x K/G) as one batched
//   oneDNN matmul, and the output transform y = A^T M A (+ bias);
//   U = G w G^T is cached while the weights are parameters.
// - backward data: the forward algorithm on dy padded by 2 - pad with the
//   rotated, C/K-transposed filter.
// - backward weights, F(3 x 3, m x m): dy's m x m tiles are the filter,
//   x's alpha x alpha tiles the input; Macc[e] (K/G x C/G) += Udy[e]^T * Vx[e]
//   over all tiles (a sum post-op), one output transform at the end; db is
//   the sum of dy over N, H, W.
//
// The transform matrices come from a Toom-Cook generator in double precision
// (points 0, 1, -1, 2, -2, ..., infinity). Transforms process 16 channels at
// once (vector lanes), read and write plain or channel-blocked (nChw8c /
// nChw16c) activations directly, and are compiled for AVX-512 / AVX2 / SSE2
// with runtime dispatch (target_clones), in parallel with OpenMP.
//
//===----------------------------------------------------------------------===//

#include "ConvAlgos.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dlc::rt::dnnlk {
namespace {

constexpr int kLanes = 16;
#define DLC_ALWAYS_INLINE inline __attribute__((always_inline))
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DLC_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define DLC_CLONES
#endif

//===----------------------------------------------------------------------===//
// Toom-Cook transform matrices
//===----------------------------------------------------------------------===//

/// The matrices of the correlation y = AT [(G g) .* (BT d)] computing m
/// outputs of an r-tap filter g over alpha = m + r - 1 inputs d.
struct ToomCook {
  int m = 0, r = 0, alpha = 0;
  std::vector<float> AT; ///< m x alpha
  std::vector<float> G;  ///< alpha x r
  std::vector<float> BT; ///< alpha x alpha
};

/// Modified Toom-Cook on alpha - 1 finite points and infinity: the linear
/// convolution s = g * h is s(x) = sum_j g(p_j) h(p_j) L_j(x) + g_top h_top
/// M(x) with M = prod_j (x - p_j) and L_j = M / ((x - p_j) M'(p_j)); the
/// correlation is its transpose with respect to h (the 1 / M'(p_j) go to G).
ToomCook toomCook(int m, int r) {
  static const double kPoints[] = {0, 1, -1, 2, -2, 0.5, -0.5, 3, -3};
  ToomCook t;
  t.m = m, t.r = r, t.alpha = m + r - 1;
  const int a = t.alpha, n = a - 1; // finite points
  // Coefficients (ascending) of prod over the finite points except `skip`.
  auto poly = [&](int skip) {
    std::vector<double> c{1.0};
    for (int l = 0; l < n; ++l) {
      if (l == skip)
        continue;
      std::vector<double> next(c.size() + 1, 0.0);
      for (size_t i = 0; i < c.size(); ++i) {
        next[i + 1] += c[i];
        next[i] -= kPoints[l] * c[i];
      }
      c = next;
    }
    c.resize(size_t(a), 0.0);
    return c;
  };
  t.AT.assign(size_t(m * a), 0.f);
  t.G.assign(size_t(a * r), 0.f);
  t.BT.assign(size_t(a * a), 0.f);
  for (int j = 0; j < n; ++j) {
    const double p = kPoints[j];
    double f = 1;
    for (int l = 0; l < n; ++l)
      if (l != j)
        f *= p - kPoints[l];
    std::vector<double> c = poly(j);
    for (int i = 0; i < a; ++i)
      t.BT[size_t(j * a + i)] = float(c[size_t(i)]);
    for (int k = 0; k < r; ++k)
      t.G[size_t(j * r + k)] = float(std::pow(p, k) / f);
    for (int i = 0; i < m; ++i)
      t.AT[size_t(i * a + j)] = float(std::pow(p, i));
  }
  std::vector<double> c = poly(-1);
  for (int i = 0; i < a; ++i)
    t.BT[size_t(n * a + i)] = float(c[size_t(i)]);
  t.G[size_t(n * r + r - 1)] = 1.f;
  t.AT[size_t((m - 1) * a + n)] = 1.f;
  return t;
}

//===----------------------------------------------------------------------===//
// Tile transforms on 16 channels at once
//===----------------------------------------------------------------------===//

/// out = mat in mat^T on every lane, mat R x S (zero coefficients skipped).
template <int R, int S>
DLC_ALWAYS_INLINE void transform2d(const float *mat, const float (&in)[S][S][kLanes],
                                   float (&out)[R][R][kLanes]) {
  float t[R][S][kLanes];
  for (int a = 0; a < R; ++a)
    for (int j = 0; j < S; ++j) {
      float acc[kLanes] = {};
      for (int i = 0; i < S; ++i)
        if (const float c = mat[a * S + i]; c != 0.f)
          for (int l = 0; l < kLanes; ++l)
            acc[l] += c * in[i][j][l];
      std::memcpy(t[a][j], acc, sizeof(acc));
    }
  for (int a = 0; a < R; ++a)
    for (int b = 0; b < R; ++b) {
      float acc[kLanes] = {};
      for (int j = 0; j < S; ++j)
        if (const float c = mat[b * S + j]; c != 0.f)
          for (int l = 0; l < kLanes; ++l)
            acc[l] += c * t[a][j][l];
      std::memcpy(out[a][b], acc, sizeof(acc));
    }
}

/// An activation [N, C, H, W], plain or channel-blocked (docs/layouts.md).
struct Act {
  int64_t c = 0, h = 0, w = 0;
  int block = 0;
  int64_t step() const { return block ? block : 1; }
  /// Offset of element (n, ch, 0, 0); element (y, x) is (y * w + x) * step() further.
  int64_t plane(int64_t n, int64_t ch) const {
    if (!block)
      return (n * c + ch) * h * w;
    return (n * (c / block) + ch / block) * h * w * block + ch % block;
  }
  /// Lanes [ch, ch + lanes) are consecutive floats.
  bool contiguous(int64_t ch, int lanes) const {
    return block && ch % block + lanes <= block;
  }
};

/// A batch of tile transforms: tiles t0 .. t0 + rows of the tile grid
/// (n, ty, tx), tile (ty, tx) at (ty * m - padH, tx * m - padW) in the
/// activation; per group g and channel block, lanes of channels
/// g * chG + cl. Buffers in the transform domain are [G * A * A][rows][chG].
struct TileJob {
  Act act;
  int64_t tilesH = 0, tilesW = 0, t0 = 0, rows = 0, groups = 1, chG = 0;
  int m = 0, padH = 0, padW = 0;
  const float *mat = nullptr; ///< the transform (R x S)
  const float *bias = nullptr;
  int64_t nCB() const { return (chG + kLanes - 1) / kLanes; }
  int64_t items() const { return groups * nCB() * rows; }
  /// Item i: group, first channel in the group, lanes, tile (n, y0, x0).
  void item(int64_t i, int64_t &g, int64_t &cl, int &lanes, int64_t &n, int64_t &y0,
            int64_t &x0) const {
    const int64_t tl = i % rows, rest = i / rows;
    g = rest / nCB();
    cl = rest % nCB() * kLanes;
    lanes = int(std::min<int64_t>(kLanes, chG - cl));
    const int64_t t = t0 + tl, per = tilesH * tilesW;
    n = t / per;
    y0 = (t % per) / tilesW * m - padH;
    x0 = t % tilesW * m - padW;
  }
};

/// Gathers the S x S tile at (y0, x0) of lanes [ch, ch + lanes) (zero outside).
template <int S>
DLC_ALWAYS_INLINE void gather(const Act &a, const float *src, int64_t n, int64_t ch, int lanes,
                              int64_t y0, int64_t x0, float (&d)[S][S][kLanes]) {
  const bool inside = y0 >= 0 && x0 >= 0 && y0 + S <= a.h && x0 + S <= a.w;
  const int64_t step = a.step();
  const float *p0 = src + a.plane(n, ch);
  if (inside && lanes == kLanes && (a.contiguous(ch, lanes) || !a.block)) {
    // The common case: whole vectors (blocked) or a constant lane stride
    // (plain: consecutive planes), without bounds checks.
    const int64_t ls = a.block ? 1 : a.h * a.w;
    for (int i = 0; i < S; ++i)
      for (int j = 0; j < S; ++j) {
        const float *q = p0 + ((y0 + i) * a.w + x0 + j) * step;
        for (int l = 0; l < kLanes; ++l)
          d[i][j][l] = q[l * ls];
      }
    return;
  }
  std::memset(d, 0, sizeof(d));
  const float *p[kLanes];
  for (int l = 0; l < lanes; ++l)
    p[l] = src + a.plane(n, ch + l);
  const bool contig = a.contiguous(ch, lanes);
  for (int i = 0; i < S; ++i) {
    const int64_t y = y0 + i;
    if (y < 0 || y >= a.h)
      continue;
    for (int j = 0; j < S; ++j) {
      const int64_t x = x0 + j;
      if (x < 0 || x >= a.w)
        continue;
      const int64_t off = (y * a.w + x) * step;
      if (contig)
        for (int l = 0; l < lanes; ++l)
          d[i][j][l] = p0[off + l];
      else
        for (int l = 0; l < lanes; ++l)
          d[i][j][l] = p[l][off];
    }
  }
}

/// Input-like transforms of a batch: dst[(g * R * R + e) * rows + tl][cl + l].
template <int R, int S>
DLC_ALWAYS_INLINE void inputItems(const TileJob &j, const float *src, float *dst, int64_t b,
                                  int64_t e) {
  float d[S][S][kLanes], v[R][R][kLanes];
  for (int64_t i = b; i < e; ++i) {
    int64_t g, cl, n, y0, x0;
    int lanes;
    j.item(i, g, cl, lanes, n, y0, x0);
    gather<S>(j.act, src, n, g * j.chG + cl, lanes, y0, x0, d);
    transform2d<R, S>(j.mat, d, v);
    const int64_t tl = i % j.rows;
    float *o = dst + (g * R * R * j.rows + tl) * j.chG + cl;
    for (int a = 0; a < R; ++a)
      for (int c = 0; c < R; ++c, o += j.rows * j.chG)
        std::memcpy(o, v[a][c], sizeof(float) * size_t(lanes));
  }
}

/// Output transforms of a batch (R x R outputs from A x A), bias added,
/// scattered into the activation (clipped at its edges).
template <int R, int A>
DLC_ALWAYS_INLINE void outputItems(const TileJob &j, const float *src, float *dst, int64_t b,
                                   int64_t e) {
  float mv[A][A][kLanes], y[R][R][kLanes];
  for (int64_t i = b; i < e; ++i) {
    int64_t g, cl, n, y0, x0;
    int lanes;
    j.item(i, g, cl, lanes, n, y0, x0);
    const int64_t tl = i % j.rows;
    const float *s = src + (g * A * A * j.rows + tl) * j.chG + cl;
    std::memset(mv, 0, sizeof(mv));
    for (int a = 0; a < A; ++a)
      for (int c = 0; c < A; ++c, s += j.rows * j.chG)
        std::memcpy(mv[a][c], s, sizeof(float) * size_t(lanes));
    transform2d<R, A>(j.mat, mv, y);
    const int64_t ch = g * j.chG + cl;
    float bias[kLanes] = {};
    if (j.bias)
      std::memcpy(bias, j.bias + ch, sizeof(float) * size_t(lanes));
    float *p[kLanes];
    for (int l = 0; l < lanes; ++l)
      p[l] = dst + j.act.plane(n, ch + l);
    const bool contig = j.act.contiguous(ch, lanes);
    const int64_t step = j.act.step();
    for (int a = 0; a < R && y0 + a < j.act.h; ++a)
      for (int c = 0; c < R && x0 + c < j.act.w; ++c) {
        const int64_t off = ((y0 + a) * j.act.w + x0 + c) * step;
        if (contig)
          for (int l = 0; l < lanes; ++l)
            p[0][off + l] = y[a][c][l] + bias[l];
        else
          for (int l = 0; l < lanes; ++l)
            p[l][off] = y[a][c][l] + bias[l];
      }
  }
}

/// The transform variants: input tiles (R = S = alpha), dy tiles of the
/// weight gradient (R = alpha, S = m), outputs (R = m, A = alpha).
DLC_CLONES void inputRange(const TileJob &j, int r, int s, const float *src, float *dst,
                           int64_t b, int64_t e) {
  if (r == 4 && s == 4)
    inputItems<4, 4>(j, src, dst, b, e);
  else if (r == 6 && s == 6)
    inputItems<6, 6>(j, src, dst, b, e);
  else if (r == 4 && s == 2)
    inputItems<4, 2>(j, src, dst, b, e);
  else if (r == 6 && s == 4)
    inputItems<6, 4>(j, src, dst, b, e);
}
DLC_CLONES void outputRange(const TileJob &j, int r, const float *src, float *dst, int64_t b,
                            int64_t e) {
  if (r == 2)
    outputItems<2, 4>(j, src, dst, b, e);
  else if (r == 4)
    outputItems<4, 6>(j, src, dst, b, e);
}

/// Splits [0, n) over the OpenMP threads: f(begin, end) on each.
template <typename F>
void parallelRanges(int64_t n, F &&f) {
#pragma omp parallel
  {
    const int64_t nt = omp_get_num_threads(), id = omp_get_thread_num();
    const int64_t b = n * id / nt, e = n * (id + 1) / nt;
    if (b < e)
      f(b, e);
  }
}

/// The 3 x 3 filter transform U = G f G^T (alpha x alpha) of every
/// (group, ci, co): U[(g * A * A + e) * cinG * coutG + ci * coutG + co], the
/// filter of (ci, co) being w[co][ci] (forward) or, for backward data (the
/// forward on dy: ci = k, co = c), w[ci][co] rotated by 180 degrees.
void filterTransform(const ToomCook &tc, const float *w, int64_t groups, int64_t cinG,
                     int64_t coutG, bool backwardData, float *u) {
  const int A = tc.alpha, A2 = A * A;
  const int64_t total = groups * cinG * coutG;
#pragma omp parallel for schedule(static)
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
    float *o = u + g * A2 * cinG * coutG + ci * coutG + co;
    for (int a = 0; a < A; ++a)
      for (int b = 0; b < A; ++b) {
        float acc = 0;
        for (int jj = 0; jj < 3; ++jj)
          acc += tc.G[size_t(b * 3 + jj)] * t[a][jj];
        o[(a * A + b) * cinG * coutG] = acc;
      }
  }
}

//===----------------------------------------------------------------------===//
// The algorithm cores
//===----------------------------------------------------------------------===//

/// A batched matmul for full and last (shorter) tile batches.
struct BatchedGemm {
  dnnl::matmul prim;
  dnnl::memory a, b, c;
  dnnl::memory scratch; ///< oneDNN's scratchpad, allocated once (not per run)
  std::string impl;
  Args args() const {
    return {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c},
            {DNNL_ARG_SCRATCHPAD, scratch}};
  }
};

/// The GEMMs [GE, rows, k] x [GE, k, n] -> [GE, rows, n] (forward,
/// backward data) or, with `weights`, [GE, n, rows] (stored [GE, rows, n])
/// x [GE, rows, k] -> [GE, n, k] accumulated (backward weights).
BatchedGemm makeGemm(const dnnl::engine &eng, int64_t ge, int64_t rows, int64_t k, int64_t n,
                     bool weights) {
  BatchedGemm m;
  dnnl::memory::desc a, b, c;
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (!weights) {
    a = plainDesc({ge, rows, k});
    b = plainDesc({ge, k, n});
    c = plainDesc({ge, rows, n});
  } else {
    a = dnnl::memory::desc({ge, n, rows}, dt::f32, dims{rows * n, 1, n});
    b = plainDesc({ge, rows, k});
    c = plainDesc({ge, n, k});
    dnnl::post_ops po;
    po.append_sum(1.f);
    attr.set_post_ops(po);
  }
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, eng);
  m.prim = dnnl::matmul(pd);
  m.scratch = dnnl::memory(pd.scratchpad_desc(), eng);
  m.impl = implOf(pd);
  m.a = handleMem(a, eng);
  m.b = handleMem(b, eng);
  m.c = handleMem(c, eng);
  return m;
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
    int64_t n = 0, groups = 1, cinG = 0, coutG = 0, tiles = 0;
    int padH = 0, padW = 0;
    bool backwardData = false;
    std::vector<float> u, v, mm;
    BatchedGemm full, last;
  };

  void initFwd(FwdCore &c, const ops::ConvProblem &p, int m, const Act &in, const Act &out,
               int padH, int padW) {
    c.plan = ops::winogradPlan(p, m);
    if (!c.plan.whyNot.empty())
      failHere("winograd: " + c.plan.whyNot);
    c.tc = toomCook(m, 3);
    c.in = in, c.out = out, c.padH = padH, c.padW = padW;
    c.backwardData = p.direction == ops::ConvDirection::BackwardData;
    c.n = p.geometry.batch, c.groups = p.geometry.group;
    c.cinG = in.c / c.groups, c.coutG = out.c / c.groups;
    c.tiles = c.n * c.plan.tilesH * c.plan.tilesW;
    const int64_t a2 = int64_t(c.plan.alpha) * c.plan.alpha, ge = a2 * c.groups,
                  tb = c.plan.tileBatch;
    c.u.assign(size_t(ge * c.cinG * c.coutG), 0.f);
    c.v.assign(size_t(ge * tb * c.cinG), 0.f);
    c.mm.assign(size_t(ge * tb * c.coutG), 0.f);
    checkWorkspace(c.plan, c.u.size() + c.v.size() + c.mm.size());
    c.full = makeGemm(eng_, ge, tb, c.cinG, c.coutG, false);
    if (const int64_t rem = c.tiles % tb)
      c.last = makeGemm(eng_, ge, rem, c.cinG, c.coutG, false);
    for (BatchedGemm *g : {&c.full, &c.last})
      if (g->prim)
        bind(g->b, c.u.data());
  }

  /// Transforms the weights into c.u.
  void filter(FwdCore &c, const float *w) {
    filterTransform(c.tc, w, c.groups, c.cinG, c.coutG, c.backwardData, c.u.data());
  }

  void runFwd(FwdCore &c, const float *in, const float *bias, float *out) {
    const int A = c.plan.alpha, m = c.plan.m;
    for (int64_t t0 = 0; t0 < c.tiles; t0 += c.plan.tileBatch) {
      const int64_t rows = std::min(c.plan.tileBatch, c.tiles - t0);
      TileJob j{c.in, c.plan.tilesH, c.plan.tilesW, t0, rows, c.groups, c.cinG, m,
                c.padH, c.padW, c.tc.BT.data(), nullptr};
      parallelRanges(j.items(), [&](int64_t b, int64_t e) {
        inputRange(j, A, A, in, c.v.data(), b, e);
      });
      BatchedGemm &g = rows == c.plan.tileBatch ? c.full : c.last;
      bind(g.a, c.v.data());
      bind(g.c, c.mm.data());
      exec(g.prim, g.args());
      wait();
      TileJob o{c.out, c.plan.tilesH, c.plan.tilesW, t0, rows, c.groups, c.coutG, m,
                0, 0, c.tc.AT.data(), bias};
      parallelRanges(o.items(), [&](int64_t b, int64_t e) {
        outputRange(o, m, c.mm.data(), out, b, e);
      });
    }
  }

  /// Weight gradient: x (C) and dy (K) -> dW [K, C/G, 3, 3].
  struct WgtCore {
    ops::WinogradPlan plan;
    ToomCook tc;
    Act x, dy;
    int64_t n = 0, groups = 1, cG = 0, kG = 0, tiles = 0;
    int padH = 0, padW = 0;
    std::vector<float> udy, vx, acc;
    BatchedGemm full, last;
  };

  void initWgt(WgtCore &c, const ops::ConvProblem &p, int m, const Act &x, const Act &dy) {
    c.plan = ops::winogradPlan(p, m);
    if (!c.plan.whyNot.empty())
      failHere("winograd: " + c.plan.whyNot);
    c.tc = toomCook(3, m);
    c.x = x, c.dy = dy;
    c.padH = int(p.geometry.pad[0]), c.padW = int(p.geometry.pad[1]);
    c.n = p.geometry.batch, c.groups = p.geometry.group;
    c.cG = x.c / c.groups, c.kG = dy.c / c.groups;
    c.tiles = c.n * c.plan.tilesH * c.plan.tilesW;
    const int64_t a2 = int64_t(c.plan.alpha) * c.plan.alpha, ge = a2 * c.groups,
                  tb = c.plan.tileBatch;
    c.udy.assign(size_t(ge * tb * c.kG), 0.f);
    c.vx.assign(size_t(ge * tb * c.cG), 0.f);
    c.acc.assign(size_t(ge * c.kG * c.cG), 0.f);
    checkWorkspace(c.plan, c.udy.size() + c.vx.size() + c.acc.size());
    c.full = makeGemm(eng_, ge, tb, c.cG, c.kG, true);
    if (const int64_t rem = c.tiles % tb)
      c.last = makeGemm(eng_, ge, rem, c.cG, c.kG, true);
    for (BatchedGemm *g : {&c.full, &c.last}) {
      if (!g->prim)
        continue;
      bind(g->a, c.udy.data());
      bind(g->b, c.vx.data());
      bind(g->c, c.acc.data());
    }
  }

  void runWgt(WgtCore &c, const float *x, const float *dy, float *dw) {
    const int A = c.plan.alpha, m = c.plan.m;
    std::fill(c.acc.begin(), c.acc.end(), 0.f);
    for (int64_t t0 = 0; t0 < c.tiles; t0 += c.plan.tileBatch) {
      const int64_t rows = std::min(c.plan.tileBatch, c.tiles - t0);
      TileJob jd{c.dy, c.plan.tilesH, c.plan.tilesW, t0, rows, c.groups, c.kG, m,
                 0, 0, c.tc.G.data(), nullptr};
      TileJob jx{c.x, c.plan.tilesH, c.plan.tilesW, t0, rows, c.groups, c.cG, m,
                 c.padH, c.padW, c.tc.BT.data(), nullptr};
      const int64_t nd = jd.items();
      parallelRanges(nd + jx.items(), [&](int64_t b, int64_t e) {
        if (b < nd)
          inputRange(jd, A, m, dy, c.udy.data(), b, std::min(e, nd));
        if (e > nd)
          inputRange(jx, A, A, x, c.vx.data(), std::max(b, nd) - nd, e - nd);
      });
      BatchedGemm &g = rows == c.plan.tileBatch ? c.full : c.last;
      exec(g.prim, g.args());
      wait();
    }
    // dW[k][c] = AT Macc[., k, c] AT^T (3 x 3), AT 3 x alpha.
    const int64_t kc = c.kG * c.cG, total = c.groups * kc;
    const float *at = c.tc.AT.data();
    const int64_t A2 = int64_t(A) * A;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < total; ++i) {
      const int64_t g = i / kc, r = i % kc; // r = k * cG + c
      const float *s = c.acc.data() + g * A2 * kc + r;
      float t[3][8];
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < A; ++b) {
          float sum = 0;
          for (int e = 0; e < A; ++e)
            sum += at[a * A + e] * s[(e * A + b) * kc];
          t[a][b] = sum;
        }
      float *o = dw + (g * kc + r) * 9;
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
          float sum = 0;
          for (int e = 0; e < A; ++e)
            sum += at[b * A + e] * t[a][e];
          o[a * 3 + b] = sum;
        }
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
    impl_ = "dlc:winograd " + variant(m, 3) + " gemm:" + core_.full.impl;
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
      impl = " data:" + variant(m, 3) + " gemm:" + data_.full.impl;
    }
    if (outDw_ >= 0) {
      initWgt(wgt_, weights, m, x, dy);
      impl += " weights:" + variant(3, m) + " gemm:" + wgt_.full.impl;
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

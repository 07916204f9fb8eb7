//===- WinogradTransforms.cpp - Winograd tile transforms and GEMMs --------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// See WinogradTransforms.h. The vector code uses GCC vector extensions on 16
// floats and is compiled for AVX-512 / AVX2 / SSE2 with runtime dispatch
// (target_clones); the transform matrices come from a Toom-Cook generator in
// double precision (points 0, 1, -1, 2, -2, ..., infinity).
//
//===----------------------------------------------------------------------===//

#include "WinogradTransforms.h"

#include "CpuClones.h"

#include <algorithm>
#include <cmath>
#include <cstring>

// The 16-float vectors only cross always-inline functions (no ABI exposure).
#pragma GCC diagnostic ignored "-Wpsabi"

namespace dlc::rt::dnnlk::wino {
namespace {

#define DLC_ALWAYS_INLINE inline __attribute__((always_inline))

typedef float v16 __attribute__((vector_size(64)));

DLC_ALWAYS_INLINE v16 load(const float *p) {
  v16 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
DLC_ALWAYS_INLINE void store(float *p, v16 v) { std::memcpy(p, &v, sizeof(v)); }

/// The Toom-Cook matrices, computed at compile time (the transforms below
/// are unrolled on them: zero coefficients vanish, ones become additions).
/// Modified Toom-Cook on alpha - 1 finite points and infinity: the linear
/// convolution s = g * h is s(x) = sum_j g(p_j) h(p_j) L_j(x) + g_top h_top
/// M(x) with M = prod_j (x - p_j) and L_j = M / ((x - p_j) M'(p_j)); the
/// correlation is its transpose with respect to h (the 1 / M'(p_j) go to G).
struct Mats {
  float AT[64] = {}; ///< m x alpha
  float G[64] = {};  ///< alpha x r
  float BT[64] = {}; ///< alpha x alpha
};
constexpr double kPoints[] = {0, 1, -1, 2, -2, 0.5, -0.5, 3, -3};

/// Coefficients (ascending, `a` of them) of the product of (x - p_l) over
/// the first n points except `skip`.
constexpr void poly(int n, int skip, double (&c)[9]) {
  for (double &v : c)
    v = 0;
  c[0] = 1;
  int deg = 0;
  for (int l = 0; l < n; ++l) {
    if (l == skip)
      continue;
    for (int i = deg + 1; i > 0; --i)
      c[i] = c[i - 1] - kPoints[l] * c[i];
    c[0] = -kPoints[l] * c[0];
    ++deg;
  }
}

constexpr Mats makeMats(int m, int r) {
  Mats t;
  const int a = m + r - 1, n = a - 1; // finite points
  double c[9] = {};
  for (int j = 0; j < n; ++j) {
    const double p = kPoints[j];
    double f = 1;
    for (int l = 0; l < n; ++l)
      if (l != j)
        f *= p - kPoints[l];
    poly(n, j, c);
    for (int i = 0; i < a; ++i)
      t.BT[j * a + i] = float(c[i]);
    double pk = 1;
    for (int k = 0; k < r; ++k, pk *= p)
      t.G[j * r + k] = float(pk / f);
    double pi = 1;
    for (int i = 0; i < m; ++i, pi *= p)
      t.AT[i * a + j] = float(pi);
  }
  poly(n, -1, c);
  for (int i = 0; i < a; ++i)
    t.BT[n * a + i] = float(c[i]);
  t.G[n * r + r - 1] = 1.f;
  t.AT[(m - 1) * a + n] = 1.f;
  return t;
}

/// The matrices of F(M, Rr) as constants: BT (0), G (1), AT (2).
template <int M, int Rr>
constexpr Mats kMats = makeMats(M, Rr);
template <int M, int Rr, int Kind>
struct Mat {
  static constexpr float at(int i) {
    return Kind == 0 ? kMats<M, Rr>.BT[i] : Kind == 1 ? kMats<M, Rr>.G[i] : kMats<M, Rr>.AT[i];
  }
};

/// Gathers the S x S tile at (y0, x0) of lanes [ch, ch + lanes) (zero
/// outside the image and in lanes >= `lanes`).
template <int S>
DLC_ALWAYS_INLINE void gather(const Act &a, const float *src, int64_t n, int64_t ch, int lanes,
                              int64_t y0, int64_t x0, v16 (&d)[S][S]) {
  const bool inside = y0 >= 0 && x0 >= 0 && y0 + S <= a.h && x0 + S <= a.w;
  const int64_t step = a.step();
  const float *p0 = src + a.plane(n, ch);
  if (inside && lanes == kLanes && a.contiguous(ch, lanes)) {
    for (int i = 0; i < S; ++i)
      for (int j = 0; j < S; ++j)
        d[i][j] = load(p0 + ((y0 + i) * a.w + x0 + j) * kLanes);
    return;
  }
  if (inside && lanes == kLanes && !a.block) {
    const int64_t ls = a.h * a.w;
    for (int i = 0; i < S; ++i)
      for (int j = 0; j < S; ++j) {
        const float *q = p0 + (y0 + i) * a.w + x0 + j;
        for (int l = 0; l < kLanes; ++l)
          d[i][j][l] = q[l * ls];
      }
    return;
  }
  for (int i = 0; i < S; ++i)
    for (int j = 0; j < S; ++j)
      d[i][j] = v16{};
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
      for (int l = 0; l < lanes; ++l)
        d[i][j][l] = contig ? p0[off + l] : src[a.plane(n, ch + l) + off];
    }
  }
}

/// out[e] (e = a * R + b in [eb, ee)) of mat . in . mat^T, mat R x S (zero
/// coefficients skipped).
/// One row of mat (R x S, a constant) times the S vectors x[i * stride].
template <int S, typename Mt>
DLC_ALWAYS_INLINE v16 dotRow(int row, const v16 *x, int stride) {
  v16 acc = {};
  bool first = true;
#pragma GCC unroll 8
  for (int i = 0; i < S; ++i) {
    const float c = Mt::at(row * S + i);
    if (c == 0.f)
      continue;
    const v16 term = c == 1.f ? x[i * stride] : c == -1.f ? -x[i * stride] : c * x[i * stride];
    acc = first ? term : acc + term;
    first = false;
  }
  return acc;
}

/// out[e] (e = a * R + b in [eb, ee)) of mat . in . mat^T, mat R x S.
template <int R, int S, typename Mt>
DLC_ALWAYS_INLINE void transform2d(const v16 (&in)[S][S], v16 (&out)[R * R], int eb, int ee) {
  v16 t[R][S];
  if (eb == 0 && ee == R * R) {
#pragma GCC unroll 8
    for (int a = 0; a < R; ++a)
#pragma GCC unroll 8
      for (int j = 0; j < S; ++j)
        t[a][j] = dotRow<S, Mt>(a, &in[0][j], S);
#pragma GCC unroll 8
    for (int a = 0; a < R; ++a)
#pragma GCC unroll 8
      for (int b = 0; b < R; ++b)
        out[a * R + b] = dotRow<S, Mt>(b, &t[a][0], 1);
    return;
  }
#pragma GCC unroll 8
  for (int a = 0; a < R; ++a) {
    if (a < eb / R || a > (ee - 1) / R)
      continue;
#pragma GCC unroll 8
    for (int j = 0; j < S; ++j)
      t[a][j] = dotRow<S, Mt>(a, &in[0][j], S);
#pragma GCC unroll 8
    for (int b = 0; b < R; ++b)
      if (a * R + b >= eb && a * R + b < ee)
        out[a * R + b] = dotRow<S, Mt>(b, &t[a][0], 1);
  }
}

template <int R, int S, typename Mt>
DLC_ALWAYS_INLINE void inputTiles(const Tiles &t, const float *src, int64_t ib,
                                  int64_t ie, float *dst) {
  constexpr int E = R * R;
  v16 d[S][S], v[E];
  const int64_t per = t.tilesH * t.tilesW;
  for (int64_t g = ib / E; g <= (ie - 1) / E; ++g) {
    const int eb = int(std::max<int64_t>(ib - g * E, 0)), ee = int(std::min<int64_t>(ie - g * E, E));
    for (int64_t cl = 0; cl < t.chG; cl += kLanes) {
      const int lanes = int(std::min<int64_t>(kLanes, t.chG - cl));
      float *o = dst + (g * E + eb - ib) * t.itemStride + cl;
      for (int64_t tl = 0; tl < t.rows; ++tl) {
        const int64_t ti = t.t0 + tl, n = ti / per, r = ti % per;
        const int64_t y0 = r / t.tilesW * t.m - t.padH, x0 = r % t.tilesW * t.m - t.padW;
        gather<S>(t.act, src, n, g * t.chG + cl, lanes, y0, x0, d);
        transform2d<R, S, Mt>(d, v, eb, ee);
        for (int e = eb; e < ee; ++e)
          store(o + (e - eb) * t.itemStride + tl * t.chP, v[e]);
      }
    }
  }
}

template <int R, int A, typename Mt>
DLC_ALWAYS_INLINE void outputTiles(const Tiles &t, const float *src,
                                   const float *bias, float *dst) {
  constexpr int E = A * A;
  v16 mv[A][A], y[R * R];
  const int64_t per = t.tilesH * t.tilesW;
  const Act &act = t.act;
  const int64_t step = act.step();
  for (int64_t g = 0; g < t.groups; ++g)
    for (int64_t cl = 0; cl < t.chG; cl += kLanes) {
      const int lanes = int(std::min<int64_t>(kLanes, t.chG - cl));
      const int64_t ch = g * t.chG + cl;
      v16 bv = {};
      if (bias)
        for (int l = 0; l < lanes; ++l)
          bv[l] = bias[ch + l];
      const float *s0 = src + g * E * t.itemStride + cl;
      const bool contig = act.contiguous(ch, lanes);
      for (int64_t tl = 0; tl < t.rows; ++tl) {
        const int64_t ti = t.t0 + tl, n = ti / per, r = ti % per;
        const int64_t y0 = r / t.tilesW * t.m, x0 = r % t.tilesW * t.m;
        for (int a = 0; a < A; ++a)
          for (int c = 0; c < A; ++c)
            mv[a][c] = load(s0 + (a * A + c) * t.itemStride + tl * t.chP);
        transform2d<R, A, Mt>(mv, y, 0, R * R);
        float *p0 = dst + act.plane(n, ch);
        const bool whole = y0 + R <= act.h && x0 + R <= act.w;
        if (whole && contig && lanes == kLanes) {
          for (int a = 0; a < R; ++a)
            for (int c = 0; c < R; ++c)
              store(p0 + ((y0 + a) * act.w + x0 + c) * kLanes, y[a * R + c] + bv);
          continue;
        }
        for (int a = 0; a < R && y0 + a < act.h; ++a)
          for (int c = 0; c < R && x0 + c < act.w; ++c) {
            const int64_t off = ((y0 + a) * act.w + x0 + c) * step;
            const v16 val = y[a * R + c] + bv;
            for (int l = 0; l < lanes; ++l)
              (contig ? p0[off + l] : dst[act.plane(n, ch + l) + off]) = val[l];
          }
      }
    }
}

/// dW[k][c] = AT Macc[., k, c] AT^T (3 x 3) for the rows (g, k) in
/// [k0, k1) of all groups, 16 channels at a time.
template <int A, typename Mt>
DLC_ALWAYS_INLINE void weightRows(int64_t groups, int64_t kG, int64_t cG, int64_t kP,
                                  int64_t cP, const float *acc, int64_t k0, int64_t k1,
                                  float *dw) {
  (void)groups;
  const int64_t kc = kP * cP;
  v16 mv[A][A], y[9];
  for (int64_t gk = k0; gk < k1; ++gk) {
    const int64_t g = gk / kG, k = gk % kG;
    for (int64_t cl = 0; cl < cG; cl += kLanes) {
      const int lanes = int(std::min<int64_t>(kLanes, cG - cl));
      const float *s = acc + g * A * A * kc + k * cP + cl;
      for (int a = 0; a < A; ++a)
        for (int b = 0; b < A; ++b)
          mv[a][b] = load(s + (a * A + b) * kc);
      transform2d<3, A, Mt>(mv, y, 0, 9);
      float *o = dw + (gk * cG + cl) * 9;
      for (int l = 0; l < lanes; ++l)
        for (int q = 0; q < 9; ++q)
          o[l * 9 + q] = y[q][l];
    }
  }
}

/// C[R x 16 NV] (+)= A B over kd.
template <int R, int NV>
DLC_ALWAYS_INLINE void micro(int64_t kd, const float *a, int64_t sai, int64_t sat,
                             const float *b, int64_t ldb, float *c, int64_t ldc, bool accumulate) {
  v16 acc[R][NV];
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < NV; ++v)
      acc[i][v] = accumulate ? load(c + i * ldc + v * kLanes) : v16{};
  for (int64_t t = 0; t < kd; ++t) {
    v16 bv[NV];
    for (int v = 0; v < NV; ++v)
      bv[v] = load(b + t * ldb + v * kLanes);
    const float *at = a + t * sat;
    for (int i = 0; i < R; ++i) {
      const float s = at[i * sai];
      for (int v = 0; v < NV; ++v)
        acc[i][v] += s * bv[v];
    }
  }
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < NV; ++v)
      store(c + i * ldc + v * kLanes, acc[i][v]);
}

constexpr int kRows = 12;

template <int NV>
DLC_ALWAYS_INLINE void microRows(int rows, int64_t kd, const float *a, int64_t sai, int64_t sat,
                                 const float *b, int64_t ldb, float *c, int64_t ldc, bool acc) {
  switch (rows) {
#define DLC_ROWS(R)                                                                              \
  case R:                                                                                        \
    return micro<R, NV>(kd, a, sai, sat, b, ldb, c, ldc, acc);
    DLC_ROWS(1) DLC_ROWS(2) DLC_ROWS(3) DLC_ROWS(4) DLC_ROWS(5) DLC_ROWS(6)
    DLC_ROWS(7) DLC_ROWS(8) DLC_ROWS(9) DLC_ROWS(10) DLC_ROWS(11) DLC_ROWS(12)
#undef DLC_ROWS
  }
}

} // namespace

ToomCook toomCook(int m, int r) {
  const Mats t = makeMats(m, r);
  const int a = m + r - 1;
  return ToomCook{m, r, a, std::vector<float>(t.AT, t.AT + m * a),
                  std::vector<float>(t.G, t.G + a * r), std::vector<float>(t.BT, t.BT + a * a)};
}

DLC_CPU_CLONES void inputTransform(const Tiles &t, InputKind kind, int m, const float *src,
                               int64_t ib, int64_t ie, float *dst) {
  if (ib >= ie)
    return;
  // Input tiles: BT of F(m, 3) (forward, backward data) = BT of F(3, m)
  // (weights: the same points); dy tiles of the weight gradient: G of F(3, m).
  if (kind == InputKind::Tile && m == 2)
    inputTiles<4, 4, Mat<2, 3, 0>>(t, src, ib, ie, dst);
  else if (kind == InputKind::Tile && m == 4)
    inputTiles<6, 6, Mat<4, 3, 0>>(t, src, ib, ie, dst);
  else if (kind == InputKind::DyTile && m == 2)
    inputTiles<4, 2, Mat<3, 2, 1>>(t, src, ib, ie, dst);
  else if (kind == InputKind::DyTile && m == 4)
    inputTiles<6, 4, Mat<3, 4, 1>>(t, src, ib, ie, dst);
}

DLC_CPU_CLONES void outputTransform(const Tiles &t, int m, const float *src, const float *bias,
                                float *dst) {
  if (m == 2)
    outputTiles<2, 4, Mat<2, 3, 2>>(t, src, bias, dst);
  else if (m == 4)
    outputTiles<4, 6, Mat<4, 3, 2>>(t, src, bias, dst);
}

DLC_CPU_CLONES void weightOutputTransform(int m, int64_t groups, int64_t kG, int64_t cG, int64_t kP,
                                      int64_t cP, const float *acc, int64_t k0, int64_t k1,
                                      float *dw) {
  if (m == 2)
    weightRows<4, Mat<3, 2, 2>>(groups, kG, cG, kP, cP, acc, k0, k1, dw);
  else if (m == 4)
    weightRows<6, Mat<3, 4, 2>>(groups, kG, cG, kP, cP, acc, k0, k1, dw);
}

DLC_CPU_CLONES void gemm(int64_t rows, int64_t n, int64_t kd, const float *a, int64_t sai,
                     int64_t sat, const float *b, int64_t ldb, float *c, int64_t ldc,
                     bool accumulate) {
  int64_t j = 0;
  for (; j + 2 * kLanes <= n; j += 2 * kLanes)
    for (int64_t i = 0; i < rows; i += kRows)
      microRows<2>(int(std::min<int64_t>(kRows, rows - i)), kd, a + i * sai, sai, sat, b + j,
                   ldb, c + i * ldc + j, ldc, accumulate);
  if (j < n)
    for (int64_t i = 0; i < rows; i += kRows)
      microRows<1>(int(std::min<int64_t>(kRows, rows - i)), kd, a + i * sai, sai, sat, b + j,
                   ldb, c + i * ldc + j, ldc, accumulate);
}

} // namespace dlc::rt::dnnlk::wino

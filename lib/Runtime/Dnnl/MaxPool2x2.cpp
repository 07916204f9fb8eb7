//===- MaxPool2x2.cpp - Max pooling over exactly tiling 2x2 windows -------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The commonest max pooling (LeNet, VGG, U-Nets): 2x2 windows, stride 2, no
// padding, on planes of even height and width, in the plain layout. Every
// input element lies in exactly one window, so output row r of the whole
// tensor (planes x OH rows of OW) reads input rows 2r and 2r + 1, and the
// backward pass writes each element of dx once (the dy of its window or 0),
// with no zero fill and no scatter. The windows' four elements are compared
// in Caffe's scan order, (0,0) (0,1) (1,0) (1,1), a later one winning only
// when strictly greater than the running maximum started at -FLT_MAX: the
// values and the gradient routes of MaxPoolWindows (and Caffe's mask),
// 8 and 4 windows at a time (GCC vectors; the pairs de-interleave by
// shuffles), selects only, no branches.
//
//===----------------------------------------------------------------------===//

#include "MaxPool2x2.h"

#include "CpuClones.h"
#include "VectorRows.h"

#include <cfloat>

#include <omp.h>

namespace dlc::rt::dnnlk {
namespace {

// GCC vector types (VectorRows.h): the clones compile them to AVX-512, AVX2
// or SSE2 code.
using namespace vec;
#define DLC_INLINE DLC_VEC_INLINE

/// The window maxima and routes of `Lanes` windows at once: a0 a1 the even
/// and odd elements of the top row, b0 b1 of the bottom one.
template <typename V> struct Windows {
  V a0, a1, b0, b1;
  DLC_INLINE V max() const {
    V best = a0 > -FLT_MAX ? a0 : V{} - FLT_MAX;
    best = a1 > best ? a1 : best;
    best = b0 > best ? b0 : best;
    return b1 > best ? b1 : best;
  }
  /// g routed to each window's first maximum: da0 da1 db0 db1.
  DLC_INLINE void route(V g, V &da0, V &da1, V &db0, V &db1) const {
    V best = V{} - FLT_MAX;
    const auto m0 = a0 > best;
    best = m0 ? a0 : best;
    const auto m1 = a1 > best;
    best = m1 ? a1 : best;
    const auto m2 = b0 > best;
    best = m2 ? b0 : best;
    const auto m3 = b1 > best;
    const V zero{};
    V rest = g; // not yet routed to a later winner
    db1 = m3 ? rest : zero;
    rest = m3 ? zero : rest;
    db0 = m2 ? rest : zero;
    rest = m2 ? zero : rest;
    da1 = m1 ? rest : zero;
    rest = m1 ? zero : rest;
    da0 = m0 ? rest : zero;
  }
};

/// 8 windows from 16 floats of each row, and back.
DLC_INLINE Windows<V8> windows8(const float *a, const float *b) {
  const V16 ra = load<V16>(a), rb = load<V16>(b);
  return {__builtin_shufflevector(ra, ra, 0, 2, 4, 6, 8, 10, 12, 14),
          __builtin_shufflevector(ra, ra, 1, 3, 5, 7, 9, 11, 13, 15),
          __builtin_shufflevector(rb, rb, 0, 2, 4, 6, 8, 10, 12, 14),
          __builtin_shufflevector(rb, rb, 1, 3, 5, 7, 9, 11, 13, 15)};
}
DLC_INLINE V16 interleave8(V8 e, V8 o) {
  return __builtin_shufflevector(e, o, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
}
/// 4 windows from 8 floats of each row, and back.
DLC_INLINE Windows<V4> windows4(const float *a, const float *b) {
  const V8 ra = load<V8>(a), rb = load<V8>(b);
  return {__builtin_shufflevector(ra, ra, 0, 2, 4, 6), __builtin_shufflevector(ra, ra, 1, 3, 5, 7),
          __builtin_shufflevector(rb, rb, 0, 2, 4, 6), __builtin_shufflevector(rb, rb, 1, 3, 5, 7)};
}
DLC_INLINE V8 interleave4(V4 e, V4 o) {
  return __builtin_shufflevector(e, o, 0, 4, 1, 5, 2, 6, 3, 7);
}
/// One window (the last of an odd-width row).
DLC_INLINE Windows<V4> windows1(const float *a, const float *b) {
  return {V4{a[0]}, V4{a[1]}, V4{b[0]}, V4{b[1]}};
}

DLC_CPU_CLONES
void forwardRows(const float *x, float *y, int64_t r0, int64_t r1, int64_t ow) {
  const int64_t w = 2 * ow;
  for (int64_t r = r0; r < r1; ++r) {
    const float *a = x + 2 * r * w, *b = a + w;
    float *out = y + r * ow;
    int64_t j = 0;
    for (; j + 8 <= ow; j += 8)
      store(out + j, windows8(a + 2 * j, b + 2 * j).max());
    for (; j + 4 <= ow; j += 4)
      store(out + j, windows4(a + 2 * j, b + 2 * j).max());
    for (; j < ow; ++j)
      out[j] = windows1(a + 2 * j, b + 2 * j).max()[0];
  }
}

DLC_CPU_CLONES
void backwardRows(const float *x, const float *dy, float *dx, int64_t r0, int64_t r1,
                  int64_t ow) {
  const int64_t w = 2 * ow;
  for (int64_t r = r0; r < r1; ++r) {
    const float *a = x + 2 * r * w, *b = a + w, *g = dy + r * ow;
    float *da = dx + 2 * r * w, *db = da + w;
    int64_t j = 0;
    for (; j + 8 <= ow; j += 8) {
      V8 a0, a1, b0, b1;
      windows8(a + 2 * j, b + 2 * j).route(load<V8>(g + j), a0, a1, b0, b1);
      store(da + 2 * j, interleave8(a0, a1));
      store(db + 2 * j, interleave8(b0, b1));
    }
    for (; j + 4 <= ow; j += 4) {
      V4 a0, a1, b0, b1;
      windows4(a + 2 * j, b + 2 * j).route(load<V4>(g + j), a0, a1, b0, b1);
      store(da + 2 * j, interleave4(a0, a1));
      store(db + 2 * j, interleave4(b0, b1));
    }
    for (; j < ow; ++j) {
      V4 a0, a1, b0, b1;
      windows1(a + 2 * j, b + 2 * j).route(V4{g[j]}, a0, a1, b0, b1);
      da[2 * j] = a0[0], da[2 * j + 1] = a1[0], db[2 * j] = b0[0], db[2 * j + 1] = b1[0];
    }
  }
}

/// f(first row, end row) over the threads, rows split evenly.
template <typename F> void splitRows(int64_t rows, F f) {
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    f(rows * t / nt, rows * (t + 1) / nt);
  }
}

} // namespace

bool maxPool2x2Tiles(const ops::PoolGeometry &g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 &&
         g.height == 2 * g.oh && g.width == 2 * g.ow;
}

void maxPool2x2Forward(const ops::PoolGeometry &g, const float *x, float *y) {
  splitRows(g.batch * g.channels * g.oh,
            [&](int64_t r0, int64_t r1) { forwardRows(x, y, r0, r1, g.ow); });
}

void maxPool2x2Backward(const ops::PoolGeometry &g, const float *x, const float *dy,
                        float *dx) {
  splitRows(g.batch * g.channels * g.oh,
            [&](int64_t r0, int64_t r1) { backwardRows(x, dy, dx, r0, r1, g.ow); });
}

} // namespace dlc::rt::dnnlk

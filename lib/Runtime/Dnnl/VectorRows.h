//===- VectorRows.h - GCC vectors and short-row helpers ---------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Runtime/Dnnl. GCC vector types and helpers for the hot
// loops compiled per ISA (CpuClones.h): they are inlined into each clone
// (always_inline), so no vector crosses a call and -Wpsabi's ABI note is
// moot. The row helpers handle the short rows of small feature maps (8, 12,
// 24 floats) 16, 8, 4 and 1 at a time, where a compiler-vectorized loop
// spends more on its trip-count and aliasing checks than on the row.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_RUNTIME_DNNL_VECTORROWS_H
#define DLC_LIB_RUNTIME_DNNL_VECTORROWS_H

#include <cstdint>
#include <cstring>

#pragma GCC diagnostic ignored "-Wpsabi"

namespace dlc::rt::dnnlk::vec {

#define DLC_VEC_INLINE inline __attribute__((always_inline))
typedef float V4 __attribute__((vector_size(16)));
typedef float V8 __attribute__((vector_size(32)));
typedef float V16 __attribute__((vector_size(64)));

template <typename V = V16> DLC_VEC_INLINE V load(const float *p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename V> DLC_VEC_INLINE void store(float *p, V v) { std::memcpy(p, &v, sizeof v); }

// The row helpers: PIECE(V, i) handles the piece of type V (a vector, or
// one float) at offset i; n is covered by 16s, then an 8, a 4 and singles.
#define DLC_VEC_ROW(n, PIECE)                                                                    \
  do {                                                                                           \
    int64_t i = 0;                                                                               \
    for (; i + 16 <= (n); i += 16)                                                               \
      PIECE(V16, i);                                                                             \
    if (i + 8 <= (n)) {                                                                          \
      PIECE(V8, i);                                                                              \
      i += 8;                                                                                    \
    }                                                                                            \
    if (i + 4 <= (n)) {                                                                          \
      PIECE(V4, i);                                                                              \
      i += 4;                                                                                    \
    }                                                                                            \
    for (; i < (n); ++i)                                                                         \
      PIECE(float, i);                                                                           \
  } while (0)

template <typename V> DLC_VEC_INLINE V loadAny(const float *p) { return load<V>(p); }
template <> DLC_VEC_INLINE float loadAny<float>(const float *p) { return *p; }
template <typename V> DLC_VEC_INLINE void storeAny(float *p, V v) { store(p, v); }
template <> DLC_VEC_INLINE void storeAny<float>(float *p, float v) { *p = v; }

/// out[i] = in[i] + b for i in [0, n).
DLC_VEC_INLINE void copyRow(float *out, const float *in, int64_t n, float b = 0.f) {
#define DLC_PIECE(V, i) storeAny<V>(out + (i), loadAny<V>(in + (i)) + b)
  DLC_VEC_ROW(n, DLC_PIECE);
#undef DLC_PIECE
}
/// out[i] = 0 for i in [0, n).
DLC_VEC_INLINE void zeroRow(float *out, int64_t n) {
#define DLC_PIECE(V, i) storeAny<V>(out + (i), V{})
  DLC_VEC_ROW(n, DLC_PIECE);
#undef DLC_PIECE
}
#undef DLC_VEC_ROW

} // namespace dlc::rt::dnnlk::vec

#endif // DLC_LIB_RUNTIME_DNNL_VECTORROWS_H

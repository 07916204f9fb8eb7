//===- RecurrentUtil.h - Shared helpers of the recurrent kernels -*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Runtime/Dnnl (RecurrentLstm.cpp, Recurrent.cpp): row-major
// SGEMM through oneDNN's dnnl_sgemm, float exp / sigmoid / tanh on vectors of
// 16 floats (Cephes expf and tanhf polynomials, relative error a few 1e-7), OpenMP
// loops over the rows of a step and deterministic column sums.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_RUNTIME_DNNL_RECURRENTUTIL_H
#define DLC_LIB_RUNTIME_DNNL_RECURRENTUTIL_H

#include "CpuClones.h"
#include "DnnlCommon.h"
#include "dlc/Ops/RecurrentCells.h"

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace dlc::rt::dnnlk::rec {

#define DLC_REC_INLINE inline __attribute__((always_inline))

/// C[M, N] = op(A) op(B) + beta C, row-major (dnnl_sgemm: multithreaded on
/// the caller's OpenMP threads when called outside a parallel region).
/// `ta` / `tb`: 'N' or 'T'. Errors name the layer (`prefix`).
inline void sgemm(const std::string &prefix, char ta, char tb, int64_t m, int64_t n, int64_t k,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                  int64_t ldc) {
  if (m == 0 || n == 0)
    return;
  if (k == 0) { // an empty sum
    if (beta == 0.f)
      for (int64_t i = 0; i < m; ++i)
        std::fill(c + i * ldc, c + i * ldc + n, 0.f);
    return;
  }
  dnnl_status_t s = dnnl_sgemm(ta, tb, m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc);
  if (s != dnnl_success)
    throw Error(prefix + "dnnl_sgemm failed (status " + std::to_string(int(s)) + ")");
}

// The pointwise code is written on GCC vectors of 16 floats (split into
// 8- or 4-float registers by the AVX2 / SSE2 clones): plain float loops with
// selects are not vectorized under -ftrapping-math (GCC's default).
// The vectors only cross always-inline functions (no ABI exposure).
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float v16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));
constexpr int64_t kLanes = 16;

DLC_REC_INLINE v16 splat(float c) { return v16{} + c; }
/// 16 floats from p (Full), or the first m of them and zeros.
template <bool Full>
DLC_REC_INLINE v16 load(const float *p, int64_t m) {
  v16 v = {};
  std::memcpy(&v, p, sizeof(float) * size_t(Full ? kLanes : m));
  return v;
}
template <bool Full>
DLC_REC_INLINE void store(float *p, v16 v, int64_t m) {
  std::memcpy(p, &v, sizeof(float) * size_t(Full ? kLanes : m));
}
/// f(k, lanes) for k = 0, 16, ... < len: f<true> on full chunks, f<false>
/// on the last partial one (F: a functor with a template operator()).
template <typename F>
DLC_REC_INLINE void chunks(int64_t len, const F &f) {
  int64_t k = 0;
  for (; k + kLanes <= len; k += kLanes)
    f.template run<true>(k, kLanes);
  if (k < len)
    f.template run<false>(k, len - k);
}

/// e^x: Cephes expf (range reduction by ln 2 in two parts, degree-5
/// polynomial), x clamped to [-87.3, 88.3] (normal results).
DLC_REC_INLINE v16 expV(v16 x) {
  x = x < -87.3f ? splat(-87.3f) : x;
  x = x > 88.3f ? splat(88.3f) : x;
  // Round x / ln 2 to the nearest integer (1.5 * 2^23 pushes the fraction out).
  const v16 n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
  v16 r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const v16 z = r * r;
  v16 p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.f;
  const vi16 e = (__builtin_convertvector(n, vi16) + 127) << 23;
  v16 s;
  std::memcpy(&s, &e, sizeof s);
  return p * s;
}

DLC_REC_INLINE v16 sigmoidV(v16 x) { return 1.f / (1.f + expV(-x)); }

/// tanh: Cephes tanhf's odd polynomial below |x| = 0.625, else
/// 1 - 2 / (e^{2|x|} + 1) with the sign of x.
DLC_REC_INLINE v16 tanhV(v16 x) {
  const v16 ax = x < 0.f ? -x : x;
  const v16 big = 1.f - 2.f / (expV(2.f * ax) + 1.f);
  const v16 z = x * x;
  v16 p = splat(-5.70498872745e-3f);
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const v16 small = p * z * x + x;
  return ax < 0.625f ? small : (x < 0.f ? -big : big);
}

/// Below this many elements a pointwise pass runs on one thread.
constexpr int64_t kParallelMin = 4096;

/// f(row, lo, hi) over [0, rows) x [0, len), rows split into column ranges
/// (multiples of 16) when there are fewer rows than threads; OpenMP when
/// rows * len >= kParallelMin. Ranges do not overlap, so f may write its
/// part of a row freely.
template <typename F>
void forRows(int64_t rows, int64_t len, F &&f) {
  const int threads = rows * len >= kParallelMin ? omp_get_max_threads() : 1;
  int64_t pieces = rows >= threads ? 1 : (threads + rows - 1) / rows;
  int64_t step = (len + pieces - 1) / pieces;
  step = std::min(len, (step + 15) / 16 * 16);
  pieces = (len + step - 1) / step;
  const int64_t items = rows * pieces;
#pragma omp parallel for schedule(static) if (threads > 1)
  for (int64_t it = 0; it < items; ++it) {
    const int64_t r = it / pieces, lo = it % pieces * step;
    f(r, lo, std::min(len, lo + step));
  }
}

/// out[j] = sum over the `rows` rows of a [rows, cols] (leading dimension
/// lda) of column j, in float64 and in row order: the result does not
/// depend on the number of threads.
inline void columnSums(const float *a, int64_t rows, int64_t cols, int64_t lda, float *out) {
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  const bool par = rows * cols >= kParallelMin && blocks > 1;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t c0 = blk * kBlock, w = std::min(kBlock, cols - c0);
    double acc[kBlock] = {};
    for (int64_t r = 0; r < rows; ++r) {
      const float *row = a + r * lda + c0;
      for (int64_t j = 0; j < w; ++j)
        acc[j] += double(row[j]);
    }
    for (int64_t j = 0; j < w; ++j)
      out[c0 + j] = float(acc[j]);
  }
}

/// The generated cell function `c` (dlc/Ops/RecurrentCells.h) the kernel
/// of `desc` names (attribute gen_<name>, dl-codegen-recurrent), or null
/// when it names none or the module has no native code: the kernel then
/// runs its built-in loop. `impl` gets "+generated:<cpu>" appended when
/// there is one.
template <typename Fn>
Fn generatedCell(const KernelDesc &desc, ops::Cell c, std::string &impl) {
  const std::string attr = std::string(ops::kCellAttrPrefix) + ops::cellInfo(c).name;
  if (!desc.nativeCode || !desc.attrs.has(attr))
    return nullptr;
  const std::string symbol = desc.attrs.getString(attr, "");
  void *f = desc.nativeCode->function(symbol);
  if (!f)
    desc.fail("the module's native code has no function '" + symbol + "'");
  const std::string tag = "+generated:" + desc.nativeCode->cpu();
  if (impl.find(tag) == std::string::npos)
    impl += tag;
  return reinterpret_cast<Fn>(f);
}

/// The gradients of a recurrent layer's static input and its weight, from
/// the pre-activation gradients D [steps, N, width] (width: 4H for the
/// LSTM, H for the RNN): S = sum over steps of D (into `S`, [N, width]),
/// dW_static = S^T x_static, dx_static = S W_static; a null output is
/// not wanted.
inline void staticInputGradients(const std::string &prefix, const float *D, int64_t steps,
                                 int64_t N, int64_t width, int64_t Is, const float *xs,
                                 const float *ws, float *S, float *dWs, float *dXs) {
  if (!dWs && !dXs)
    return;
  columnSums(D, steps, N * width, N * width, S);
  if (dWs)
    sgemm(prefix, 'T', 'N', width, Is, N, S, width, xs, Is, 0.f, dWs, Is);
  if (dXs)
    sgemm(prefix, 'N', 'N', N, Is, width, S, width, ws, Is, 0.f, dXs, Is);
}

/// Scratch buffer of floats, allocated once (at kernel creation).
using Buffer = std::vector<float>;

/// The phases a kernel times itself (Kernel::phases): names fixed at
/// creation, times of the last run; next(i) closes phase i.
class PhaseClock {
public:
  using clock = std::chrono::steady_clock;
  explicit PhaseClock(std::vector<std::string> names) {
    for (std::string &n : names)
      phases_.push_back({std::move(n), 0.0});
  }
  void start() { last_ = clock::now(); }
  void next(size_t i) {
    clock::time_point now = clock::now();
    phases_[i].ms = std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
  }
  const std::vector<Kernel::Phase> &phases() const { return phases_; }

private:
  std::vector<Kernel::Phase> phases_;
  clock::time_point last_;
};

} // namespace dlc::rt::dnnlk::rec

#endif // DLC_LIB_RUNTIME_DNNL_RECURRENTUTIL_H

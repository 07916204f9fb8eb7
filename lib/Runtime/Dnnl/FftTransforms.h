//===- FftTransforms.h - 2-D real FFTs of convolution tiles -----*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The transforms of the FFT convolution (ConvFft.cpp) on kissfft: a real
// 2-D transform of size fftH x fftW (rows with kiss_fftr, then the
// fftW / 2 + 1 columns with kiss_fft) of a zero-padded window of a plane,
// scattered into a per-frequency GEMM operand; and the inverse of a
// spectrum gathered from a per-frequency GEMM result, of which a rectangle
// is written out. Frequency f = u * (fftW / 2 + 1) + v (u: column, v: row
// frequency). Unnormalized like kissfft: the inverse multiplies by
// 1 / (fftH * fftW).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_RUNTIME_DNNL_FFTTRANSFORMS_H
#define DLC_LIB_RUNTIME_DNNL_FFTTRANSFORMS_H

#include <cstdint>
#include <vector>

#include "dlc/Ops/ConvAlgorithms.h"

#include <kissfft/kiss_fft.h>
#include <kissfft/kiss_fftr.h>

namespace dlc::ops {
/// Defined with fftPlan (lib/Ops/Fft.cpp), whose workspace counts them:
/// how many of the plan's P = images x tiles one batched GEMM takes (the
/// kernel runs ceil(P / chunk) of them, the last one shorter), and for how
/// many threads the transforms keep scratch (the kernel's transforms run on
/// at most that many).
int64_t fftChunk(const ConvProblem &p, const FftPlan &plan);
int fftScratchSlots();
} // namespace dlc::ops

namespace dlc::rt::dnnlk {

/// Where a GEMM result holds one complex product per frequency: the
/// "planar A times split B" form R = [Ar; Ai] * [Br | Bi] (2M x 2N per
/// frequency) at r + f * fStride; o00 = offset of Ar*Br (row a, column b),
/// o01 of Ar*Bi (column N + b), o10 of Ai*Br (row M + a), o11 of Ai*Bi.
/// The product is A*B, or A*conj(B) when conjB.
struct FftProduct {
  const float *r = nullptr;
  int64_t fStride = 0, o00 = 0, o01 = 0, o10 = 0, o11 = 0;
  bool conjB = false;
};

/// A zero-padded window of a plane: rows [r0, r0 + rows) and columns
/// [c0, c0 + cols) of `src` (h x w; element (r, c) at r * ld + c * cs, so
/// a plane of a plain (cs = 1) or channel-blocked (cs = block) tensor;
/// outside it zero) at the window's origin, clipped to the transform size.
struct FftWindow {
  const float *src;
  int64_t h, w, ld, cs, r0, c0, rows, cols;
};

/// Transforms of one size, with scratch for `slots` threads (thread t < slots
/// uses only its own: kiss_fftr keeps scratch in its state).
/// Sizes up to kMaxDft are done as DFT matrix products (single-threaded
/// SGEMMs on a batch of planes: O(L^3) flops, but at GEMM speed, several
/// times faster than kissfft's scalar butterflies at these sizes; only the
/// window's rows and columns that can be non-zero enter the products, so a
/// kh x kw filter costs O(L^2 kh)); larger ones with kissfft.
/// Both directions take up to kBatch planes whose operand entries are
/// neighbours (the GEMM operands keep channels or tiles contiguous), so
/// each frequency's scatter or gather touches one cache line, not one per
/// plane.
class FftTransforms {
public:
  static constexpr int kBatch = 16;
  static constexpr int64_t kMaxDft = ops::kFftMaxDftSize;
  /// Whether transforms of this size are DFT matrix products.
  static bool usesDft(int64_t fftH, int64_t fftW) { return fftH <= kMaxDft && fftW <= kMaxDft; }
  FftTransforms(int64_t fftH, int64_t fftW, int slots);
  ~FftTransforms();
  FftTransforms(const FftTransforms &) = delete;
  FftTransforms &operator=(const FftTransforms &) = delete;

  int64_t freqs() const { return fftH_ * half_; }
  /// The bytes of scratch and DFT matrices allocated (kissfft's own states,
  /// O(fftW) twiddles each, not counted).
  int64_t scratchBytes() const;

  /// Spectra of windows in[0, count) (count <= kBatch): window b's into
  /// dst[f * fStride + b] (real) and dst[f * fStride + imOff + b]
  /// (imaginary).
  void forward(int t, const FftWindow *in, int count, float *dst, int64_t fStride,
               int64_t imOff);
  /// Inverses of products s and its neighbours (offsets + b for b in
  /// [0, count)), scaled by 1 / (fftH * fftW); element (rs + r, cs + c) of
  /// product b (r < rows, c < cols) goes to dst[b][r * ld + c * step], plus
  /// add[b] when `add` is not null.
  void inverse(int t, const FftProduct &s, int count, int64_t rs, int64_t rows, int64_t cs,
               int64_t cols, float *const *dst, int64_t ld, int64_t step, const float *add);

private:
  struct Scratch {
    std::vector<kiss_fft_cpx> grid, spec, col;
    std::vector<float> row, m1, m2, m3;
    kiss_fftr_cfg rowF = nullptr, rowI = nullptr;
  };
  void dftForward(Scratch &s, const FftWindow *in, int count, float *dst, int64_t fStride,
                  int64_t imOff);
  void dftInverse(Scratch &s, const FftProduct &p, int count, int64_t rs, int64_t rows,
                  int64_t cs, int64_t cols, float *const *dst, int64_t ld, int64_t step,
                  const float *add);
  int64_t fftH_, fftW_, half_;
  bool dft_;
  /// DFT matrices: column transform [C; -S] (2H x H), real row transform
  /// [C | -S] (W x 2half); inverse column transforms [C | -S] and [S | C]
  /// (H x 2H), inverse row transforms (half x W, Hermitian weights and
  /// 1 / (H W) included) of the real and imaginary parts.
  std::vector<float> colF_m, rowF1, colIr, colIi, rowIr, rowIi;
  kiss_fft_cfg colF_ = nullptr, colI_ = nullptr;
  std::vector<Scratch> scratch_;
};

} // namespace dlc::rt::dnnlk

#endif // DLC_LIB_RUNTIME_DNNL_FFTTRANSFORMS_H

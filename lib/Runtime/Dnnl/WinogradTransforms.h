//===- WinogradTransforms.h - Winograd tile transforms and GEMMs -*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The single-threaded building blocks of dlc's Winograd convolution
// (ConvWinograd.cpp): the Toom-Cook matrices, the tile transforms between
// activations (plain or nChw8c / nChw16c) and the transform domain, and a
// register-blocked SGEMM for the per-element products. Each call works on
// one thread's tiles; the kernels split the work over threads.
//
// Transform-domain buffers hold, per item (group g, element e of the
// alpha x alpha tile; item g * alpha^2 + e), a [rows][chP] matrix: one row
// per tile, chP = the group's channels rounded up to 16 (the padding lanes
// are zero), so every GEMM operand is whole 16-float vectors.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_RUNTIME_DNNL_WINOGRADTRANSFORMS_H
#define DLC_LIB_RUNTIME_DNNL_WINOGRADTRANSFORMS_H

#include <cstdint>
#include <vector>

namespace dlc::rt::dnnlk::wino {

constexpr int kLanes = 16;

inline int64_t padLanes(int64_t c) { return (c + kLanes - 1) / kLanes * kLanes; }

/// The matrices of the correlation y = AT [(G g) .* (BT d)] computing m
/// outputs of an r-tap filter g over alpha = m + r - 1 inputs d.
struct ToomCook {
  int m = 0, r = 0, alpha = 0;
  std::vector<float> AT; ///< m x alpha
  std::vector<float> G;  ///< alpha x r
  std::vector<float> BT; ///< alpha x alpha
};
ToomCook toomCook(int m, int r);

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
  bool contiguous(int64_t ch, int lanes) const { return block && ch % block + lanes <= block; }
};

/// Tiles t0 .. t0 + rows of the grid (n, ty, tx) over the activation, tile
/// (ty, tx) at (ty * m - padH, tx * m - padW); per group, chG channels
/// (chP in the transform domain). Item buffers are `itemStride` floats apart.
struct Tiles {
  Act act;
  int64_t tilesH = 0, tilesW = 0, t0 = 0, rows = 0, groups = 1, chG = 0, chP = 0;
  int64_t itemStride = 0;
  int m = 0, padH = 0, padW = 0;
};

/// What an input-like transform reads: alpha x alpha input tiles
/// (BT d BT^T), or the m x m dy tiles of the weight gradient (G d G^T,
/// G of F(3 x 3, m x m)).
enum class InputKind { Tile, DyTile };
/// The input-like transform of the tiles (t.m = m) into items [ib, ie)
/// (item i's buffer at dst + (i - ib) * itemStride; items of other groups
/// and elements are not computed).
void inputTransform(const Tiles &t, InputKind kind, int m, const float *src, int64_t ib,
                    int64_t ie, float *dst);
/// The output transform AT . M . AT^T (F(m x m, 3 x 3)) of all items of
/// `src`, plus bias[channel] when given, stored into the activation (clipped).
void outputTransform(const Tiles &t, int m, const float *src, const float *bias, float *dst);
/// The weight gradient's output transform (F(3 x 3, m x m)): dW [G * kG,
/// cG, 3, 3] rows (g * kG + k) in [k0, k1) from acc [G * alpha^2][kP][cP].
void weightOutputTransform(int m, int64_t groups, int64_t kG, int64_t cG, int64_t kP,
                           int64_t cP, const float *acc, int64_t k0, int64_t k1, float *dw);

/// C[rows x n] = (accumulate ? C : 0) + A B with A(i, t) = a[i * sai + t * sat]
/// (t < kd), B row-major [kd][ldb], C row-major [rows][ldc]; n a multiple of 16.
void gemm(int64_t rows, int64_t n, int64_t kd, const float *a, int64_t sai, int64_t sat,
          const float *b, int64_t ldb, float *c, int64_t ldc, bool accumulate);

} // namespace dlc::rt::dnnlk::wino

#endif // DLC_LIB_RUNTIME_DNNL_WINOGRADTRANSFORMS_H

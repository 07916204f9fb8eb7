//===- FftTransforms.cpp - 2-D real FFTs of convolution tiles -------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "FftTransforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <oneapi/dnnl/dnnl.h>

namespace dlc::rt::dnnlk {

FftTransforms::FftTransforms(int64_t fftH, int64_t fftW, int slots)
    : fftH_(fftH), fftW_(fftW), half_(fftW / 2 + 1), dft_(usesDft(fftH, fftW)) {
  const int64_t H = fftH, W = fftW, hf = half_;
  if (dft_) {
    const double pi2 = 2 * M_PI;
    colF_m.resize(size_t(2 * H * H));
    colIr.resize(size_t(2 * H * H));
    colIi.resize(size_t(2 * H * H));
    for (int64_t u = 0; u < H; ++u)
      for (int64_t r = 0; r < H; ++r) {
        const double a = pi2 * double(u * r % H) / double(H);
        const float c = float(std::cos(a)), sn = float(std::sin(a));
        colF_m[size_t(u * H + r)] = c;        // row u of C
        colF_m[size_t((H + u) * H + r)] = -sn; // row u of -S
        // Inverse, output row u from frequency r: [C | -S] and [S | C].
        colIr[size_t(u * 2 * H + r)] = c;
        colIr[size_t(u * 2 * H + H + r)] = -sn;
        colIi[size_t(u * 2 * H + r)] = sn;
        colIi[size_t(u * 2 * H + H + r)] = c;
      }
    rowF1.resize(size_t(W * 2 * hf));
    rowIr.resize(size_t(hf * W));
    rowIi.resize(size_t(hf * W));
    const double scale = 1.0 / double(H * W);
    for (int64_t c = 0; c < W; ++c)
      for (int64_t v = 0; v < hf; ++v) {
        const double a = pi2 * double(v * c % W) / double(W);
        const float co = float(std::cos(a)), sn = float(std::sin(a));
        rowF1[size_t(c * 2 * hf + v)] = co;
        rowF1[size_t(c * 2 * hf + hf + v)] = -sn;
        const double w = (v == 0 || 2 * v == W) ? scale : 2 * scale;
        rowIr[size_t(v * W + c)] = float(w * std::cos(a));
        rowIi[size_t(v * W + c)] = float(-w * std::sin(a));
      }
  } else {
    // kiss_fft keeps no scratch in its state for out-of-place transforms:
    // the column transforms are shared by the threads.
    colF_ = kiss_fft_alloc(int(fftH), 0, nullptr, nullptr);
    colI_ = kiss_fft_alloc(int(fftH), 1, nullptr, nullptr);
  }
  scratch_.resize(size_t(std::max(slots, 1)));
  for (Scratch &s : scratch_) {
    if (dft_) {
      // Forward: windows (<= H x B*W), row spectra (H x B*2half), column
      // spectra (2H x B*2half); inverse: the gathered spectra (2H x
      // B*half), column inverses (2 rows x B*half), rows (rows*B x cols).
      s.m1.resize(size_t(kBatch * 2 * H * hf));
      s.m2.resize(size_t(kBatch * 2 * H * hf));
      s.m3.resize(size_t(kBatch * 4 * H * hf));
    } else {
      s.grid.resize(size_t(H * hf));
      s.spec.resize(size_t(kBatch * H * hf));
      s.col.resize(size_t(H));
      s.row.resize(size_t(W));
      s.rowF = kiss_fftr_alloc(int(fftW), 0, nullptr, nullptr);
      s.rowI = kiss_fftr_alloc(int(fftW), 1, nullptr, nullptr);
    }
  }
}

FftTransforms::~FftTransforms() {
  if (colF_)
    kiss_fft_free(colF_);
  if (colI_)
    kiss_fft_free(colI_);
  for (Scratch &s : scratch_) {
    if (s.rowF)
      kiss_fftr_free(s.rowF);
    if (s.rowI)
      kiss_fftr_free(s.rowI);
  }
}

int64_t FftTransforms::scratchBytes() const {
  size_t n = 4 * (colF_m.size() + rowF1.size() + colIr.size() + colIi.size() + rowIr.size() +
                  rowIi.size());
  for (const Scratch &s : scratch_)
    n += sizeof(kiss_fft_cpx) * (s.grid.size() + s.spec.size() + s.col.size()) +
         4 * (s.row.size() + s.m1.size() + s.m2.size() + s.m3.size());
  return int64_t(n);
}

namespace {
/// dst[i] = src[i * step] for i in [0, n).
inline void copyRow(float *dst, const float *src, int64_t n, int64_t step) {
  if (step == 1) {
    std::memcpy(dst, src, sizeof(float) * size_t(n));
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    dst[i] = src[i * step];
}
} // namespace

void FftTransforms::forward(int t, const FftWindow *in, int count, float *dst, int64_t fStride,
                            int64_t imOff) {
  Scratch &s = scratch_[size_t(t)];
  if (dft_)
    return dftForward(s, in, count, dst, fStride, imOff);
  const int64_t F = fftH_ * half_;
  kiss_fft_cpx *spec = s.spec.data(); // [f][b]
  for (int b = 0; b < count; ++b) {
    const FftWindow &w = in[b];
    const int64_t rows = std::min(w.rows, fftH_), cols = std::min(w.cols, fftW_);
    // The window's columns inside the plane: [cLo, cHi) of the window.
    const int64_t cLo = std::clamp<int64_t>(-w.c0, 0, cols);
    const int64_t cHi = std::clamp<int64_t>(w.w - w.c0, cLo, cols);
    bool any = false;
    for (int64_t r = 0; r < fftH_; ++r) {
      kiss_fft_cpx *g = s.grid.data() + r * half_;
      const int64_t sr = w.r0 + r;
      if (r >= rows || sr < 0 || sr >= w.h || cLo >= cHi) {
        std::memset(static_cast<void *>(g), 0, sizeof(kiss_fft_cpx) * size_t(half_));
        continue;
      }
      any = true;
      float *row = s.row.data();
      std::fill(row, row + cLo, 0.f);
      copyRow(row + cLo, w.src + sr * w.ld + (w.c0 + cLo) * w.cs, cHi - cLo, w.cs);
      std::fill(row + cHi, row + fftW_, 0.f);
      kiss_fftr(s.rowF, row, g);
    }
    for (int64_t v = 0; v < half_; ++v) {
      if (any)
        kiss_fft_stride(colF_, s.grid.data() + v, s.col.data(), int(half_));
      for (int64_t u = 0; u < fftH_; ++u)
        spec[(u * half_ + v) * kBatch + b] = any ? s.col[size_t(u)] : kiss_fft_cpx{0.f, 0.f};
    }
  }
  for (int64_t f = 0; f < F; ++f) {
    float *d = dst + f * fStride;
    const kiss_fft_cpx *sf = spec + f * kBatch;
    for (int b = 0; b < count; ++b) {
      d[b] = sf[b].r;
      d[imOff + b] = sf[b].i;
    }
  }
}

void FftTransforms::inverse(int t, const FftProduct &p, int count, int64_t rs, int64_t rows,
                            int64_t cs, int64_t cols, float *const *dst, int64_t ld, int64_t step,
                            const float *add) {
  Scratch &s = scratch_[size_t(t)];
  if (dft_)
    return dftInverse(s, p, count, rs, rows, cs, cols, dst, ld, step, add);
  const int64_t F = fftH_ * half_;
  // Gather the spectra, each column-major ([b][v][u]) so the column
  // transforms read them contiguously.
  kiss_fft_cpx *spec = s.spec.data();
  for (int64_t f = 0; f < F; ++f) {
    const float *base = p.r + f * p.fStride;
    const float *rr = base + p.o00, *ii = base + p.o11, *ri = base + p.o01, *ir = base + p.o10;
    kiss_fft_cpx *c = spec + (f % half_) * fftH_ + f / half_;
    if (p.conjB) {
      for (int b = 0; b < count; ++b)
        c[b * F] = {rr[b] + ii[b], ir[b] - ri[b]};
    } else {
      for (int b = 0; b < count; ++b)
        c[b * F] = {rr[b] - ii[b], ri[b] + ir[b]};
    }
  }
  const float scale = 1.f / float(fftH_ * fftW_);
  for (int b = 0; b < count; ++b) {
    // Column inverses, keeping only the rows wanted, as [rows][half].
    kiss_fft_cpx *g = s.grid.data();
    for (int64_t v = 0; v < half_; ++v) {
      kiss_fft(colI_, spec + b * F + v * fftH_, s.col.data());
      for (int64_t r = 0; r < rows; ++r)
        g[r * half_ + v] = s.col[size_t(rs + r)];
    }
    float *row = s.row.data();
    const float a = add ? add[b] : 0.f;
    for (int64_t r = 0; r < rows; ++r) {
      kiss_fftri(s.rowI, g + r * half_, row);
      float *d = dst[b] + r * ld;
      for (int64_t c = 0; c < cols; ++c)
        d[c * step] = row[cs + c] * scale + a;
    }
  }
}

namespace {
/// Row-major single-threaded SGEMM (called inside the transforms' parallel
/// loops, where oneDNN does not start threads of its own).
void gemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
          int64_t ldb, float beta, float *c, int64_t ldc) {
  dnnl_sgemm('N', 'N', m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc);
}
} // namespace

void FftTransforms::dftForward(Scratch &s, const FftWindow *in, int count, float *dst,
                               int64_t fStride, int64_t imOff) {
  const int64_t H = fftH_, W = fftW_, hf = half_, B = count;
  // Only the windows' first R rows and Cc columns can be non-zero.
  int64_t R = 1, Cc = 1;
  for (int b = 0; b < count; ++b) {
    R = std::max(R, std::min(in[b].rows, H));
    Cc = std::max(Cc, std::min(in[b].cols, W));
  }
  // x: [r][b][c] (R*B x Cc), the zero-padded windows.
  float *x = s.m1.data();
  for (int b = 0; b < count; ++b) {
    const FftWindow &w = in[b];
    const int64_t rows = std::min(w.rows, H), cols = std::min(w.cols, W);
    const int64_t cLo = std::clamp<int64_t>(-w.c0, 0, cols);
    const int64_t cHi = std::clamp<int64_t>(w.w - w.c0, cLo, cols);
    for (int64_t r = 0; r < R; ++r) {
      float *row = x + (r * B + b) * Cc;
      const int64_t sr = w.r0 + r;
      if (r >= rows || sr < 0 || sr >= w.h || cLo >= cHi) {
        std::fill(row, row + Cc, 0.f);
        continue;
      }
      std::fill(row, row + cLo, 0.f);
      copyRow(row + cLo, w.src + sr * w.ld + (w.c0 + cLo) * w.cs, cHi - cLo, w.cs);
      std::fill(row + cHi, row + Cc, 0.f);
    }
  }
  // Rows (real input): [Zr | Zi] = x [C | -S] (R*B x 2half).
  float *z = s.m2.data();
  gemm(R * B, 2 * hf, Cc, x, Cc, rowF1.data(), 2 * hf, 0.f, z, 2 * hf);
  // Columns: [Tc; Ts] = [C; -S] Z (2H x B*2half); the spectrum is
  // (Tc_r - Ts_i) + i (Tc_i + Ts_r).
  float *y = s.m3.data();
  gemm(2 * H, B * 2 * hf, R, colF_m.data(), H, z, B * 2 * hf, 0.f, y, B * 2 * hf);
  const int64_t half = H * B * 2 * hf;
  for (int64_t uu = 0; uu < H; ++uu)
    for (int64_t v = 0; v < hf; ++v) {
      float *d = dst + (uu * hf + v) * fStride;
      const float *tc = y + uu * B * 2 * hf + v, *ts = tc + half;
      for (int b = 0; b < count; ++b) {
        d[b] = tc[b * 2 * hf] - ts[b * 2 * hf + hf];
        d[imOff + b] = tc[b * 2 * hf + hf] + ts[b * 2 * hf];
      }
    }
}

void FftTransforms::dftInverse(Scratch &s, const FftProduct &p, int count, int64_t rs,
                               int64_t rows, int64_t cs, int64_t cols, float *const *dst,
                               int64_t ld, int64_t step, const float *add) {
  const int64_t H = fftH_, W = fftW_, hf = half_, B = count, F = H * hf;
  // Gather [Sr; Si] (2H x B*half), element [u][b][v].
  float *sp = s.m1.data();
  for (int64_t f = 0; f < F; ++f) {
    const float *base = p.r + f * p.fStride;
    const float *rr = base + p.o00, *ii = base + p.o11, *ri = base + p.o01, *ir = base + p.o10;
    float *sr = sp + (f / hf) * B * hf + f % hf, *si = sr + H * B * hf;
    if (p.conjB) {
      for (int b = 0; b < count; ++b) {
        sr[b * hf] = rr[b] + ii[b];
        si[b * hf] = ir[b] - ri[b];
      }
    } else {
      for (int b = 0; b < count; ++b) {
        sr[b * hf] = rr[b] - ii[b];
        si[b * hf] = ri[b] + ir[b];
      }
    }
  }
  // Columns, output rows [rs, rs + rows): Y1r = [C | -S] S, Y1i = [S | C] S.
  float *y = s.m2.data();
  gemm(rows, B * hf, 2 * H, colIr.data() + rs * 2 * H, 2 * H, sp, B * hf, 0.f, y, B * hf);
  gemm(rows, B * hf, 2 * H, colIi.data() + rs * 2 * H, 2 * H, sp, B * hf, 0.f,
       y + rows * B * hf, B * hf);
  // Rows, output columns [cs, cs + cols): O = Y1r Wr + Y1i Wi ((rows*B) x cols).
  float *o = s.m3.data();
  gemm(rows * B, cols, hf, y, hf, rowIr.data() + cs, W, 0.f, o, cols);
  gemm(rows * B, cols, hf, y + rows * B * hf, hf, rowIi.data() + cs, W, 1.f, o, cols);
  if (step == 1) {
    for (int b = 0; b < count; ++b) {
      const float a = add ? add[b] : 0.f;
      for (int64_t r = 0; r < rows; ++r) {
        const float *src = o + (r * B + b) * cols;
        float *d = dst[b] + r * ld;
        for (int64_t c = 0; c < cols; ++c)
          d[c] = src[c] + a;
      }
    }
    return;
  }
  // Channel-blocked: neighbouring planes are neighbouring floats.
  float a[kBatch];
  for (int b = 0; b < count; ++b)
    a[b] = add ? add[b] : 0.f;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float *src = o + r * B * cols + c;
      for (int b = 0; b < count; ++b)
        dst[b][r * ld + c * step] = src[b * cols] + a[b];
    }
}

} // namespace dlc::rt::dnnlk

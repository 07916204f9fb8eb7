//===- Fft.cpp - Where dlc's FFT convolution applies ----------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The plan of the FFT convolution (lib/Runtime/Dnnl/ConvFft.cpp) in each
// direction: stride 1, no dilation, 2-D, any group count (groups are
// independent batches of per-frequency GEMMs). The direction's result is
// tiled (overlap-save): a tile of T outputs along an axis reads a window of
// L = T + k - 1 inputs, and the circular convolution of length L has no
// wrap-around on those T outputs. The tiled extents are
//   forward:          y (OH x OW), windows of the zero-padded x;
//   backward data:    dx (H x W), windows of dy (the full convolution of dy
//                     with w, cropped by the padding);
//   backward weights: dy (OH x OW) in tiles of T, windows of the padded x;
//                     the result is the first kh x kw of each circular
//                     correlation, summed over tiles and images in the GEMM.
// Per group and frequency f (F = fftH * (fftW / 2 + 1) of them) the complex
// product is one real GEMM of the "planar A times split B" form
//   [Ar; Ai] (2M x Kin) * [Br | Bi] (Kin x 2N) = R (2M x 2N)
// from which the inverse transforms take Re/Im of A*B or A*conj(B):
//   forward       M = P (images x tiles), Kin = C/g,  N = K/g (A = x, B = w)
//   backward data M = P,                  Kin = K/g,  N = C/g (A = dy, B = w)
//   backward wts  M = C/g,                Kin = P,    N = K/g (A = x, B = dy)
// The kernel's buffers are exactly A, B and R (workspaceBytes; the
// transforms' per-thread scratch, O(16 fftH fftW) floats, is not counted).
//
//===----------------------------------------------------------------------===//

#include "dlc/Ops/ConvAlgorithms.h"

#include <algorithm>
#include <cmath>

namespace dlc::ops {
namespace {

/// Only the factors 2, 3 and 5 (kissfft's fast radices).
bool smooth(int64_t n) {
  for (int64_t p : {2, 3, 5})
    while (n % p == 0)
      n /= p;
  return n == 1;
}

/// Transform sizes from `lo` to the first smooth size >= `hi` (even ones
/// only when `even`: kissfft's real transform needs an even length).
std::vector<int64_t> sizes(int64_t lo, int64_t hi, bool even) {
  std::vector<int64_t> out;
  for (int64_t n = std::max<int64_t>(lo, 1);; ++n) {
    if (smooth(n) && (!even || n % 2 == 0)) {
      out.push_back(n);
      if (n >= hi)
        break;
    }
  }
  return out;
}

struct Shape2 {
  int64_t n, c, k, g, h, w, oh, ow, kh, kw;
};

/// The plan for transform size lh x lw (tiles, work, workspace).
FftPlan planFor(const Shape2 &s, ConvDirection d, int64_t lh, int64_t lw, int block) {
  FftPlan p;
  p.fftH = lh;
  p.fftW = lw;
  p.tileH = lh - s.kh + 1;
  p.tileW = lw - s.kw + 1;
  // The tiled extent: dx for backward data, y (= dy) otherwise.
  const bool data = d == ConvDirection::BackwardData;
  const int64_t eh = data ? s.h : s.oh, ew = data ? s.w : s.ow;
  p.tilesH = (eh + p.tileH - 1) / p.tileH;
  p.tilesW = (ew + p.tileW - 1) / p.tileW;
  const double tiles = double(p.tilesH * p.tilesW);
  const double P = double(s.n) * tiles;
  const double F = double(lh) * double(lw / 2 + 1);
  const double cg = double(s.c / s.g), kg = double(s.k / s.g), G = double(s.g);
  double M, Kin, N, inA, inB, outs; // GEMM shape; planes transformed / inverted
  switch (d) {
  case ConvDirection::Forward:
    M = P, Kin = cg, N = kg;
    inA = P * double(s.c), inB = double(s.k) * cg, outs = P * double(s.k);
    break;
  case ConvDirection::BackwardData:
    M = P, Kin = kg, N = cg;
    inA = P * double(s.k), inB = double(s.k) * cg, outs = P * double(s.c);
    break;
  case ConvDirection::BackwardWeights:
  default:
    M = cg, Kin = P, N = kg;
    inA = P * double(s.c), inB = P * double(s.k), outs = double(s.k) * cg;
    break;
  }
  ConvWork &w = p.work;
  w.gemmFlops = 2.0 * G * F * (2 * M) * Kin * (2 * N);
  w.gemmMinDim = std::min({2 * M, Kin, 2 * N});
  // One batched matmul over groups and frequencies; the DFT transforms add
  // four single-threaded SGEMM calls per batch of 16 planes.
  w.gemmCalls = 1;
  // The kernel's transforms (kFftMaxDftSize): DFT matrix products on batches
  // of planes (columns then rows forward; inverse only the rows and columns
  // kept), larger ones kissfft (~5 n log2 n per real 2-D transform).
  double perIn, perOut;
  const double H = double(lh), W = double(lw), hf = double(lw / 2 + 1);
  if (lh <= kFftMaxDftSize && lw <= kFftMaxDftSize) {
    const bool wts = d == ConvDirection::BackwardWeights;
    const double rows = wts ? double(s.kh) : double(p.tileH),
                 cols = wts ? double(s.kw) : double(p.tileW);
    perIn = 2 * (2 * H) * H * W + 2 * 2 * H * W * (2 * hf);
    perOut = 2 * 2 * rows * (2 * H) * hf + 2 * 2 * rows * hf * cols;
  } else {
    const double n = H * W;
    perIn = perOut = 5.0 * n * std::log2(n);
  }
  w.otherFlops = (inA + inB) * perIn + outs * perOut + 4.0 * F * outs; // + combine
  if (lh <= kFftMaxDftSize && lw <= kFftMaxDftSize)
    w.gemmCalls += 4 * std::ceil((inA + inB + outs) / 16);
  const double aFloats = G * F * 2 * M * Kin, bFloats = G * F * Kin * 2 * N,
               rFloats = G * F * 2 * M * 2 * N;
  const double tensors = 4.0 * (double(s.n) * double(s.c) * double(s.h * s.w) +
                                double(s.n) * double(s.k) * double(s.oh * s.ow) +
                                double(s.k) * cg * double(s.kh * s.kw));
  // Each buffer is written once and read once (the transforms gather and
  // scatter across frequencies: charged as a second pass).
  w.bytes = tensors + 4.0 * 2 * (aFloats + bFloats + rFloats) + 4.0 * 2 * (aFloats + rFloats);
  if (d == ConvDirection::BackwardWeights)
    w.otherFlops += double(s.n) * double(s.k) * double(s.oh * s.ow); // bias sum
  if (block) // the kernel runs on plain copies of blocked activations
    w.bytes += 2 * tensors;
  w.workspaceBytes = int64_t(4 * (aFloats + bFloats + rFloats));
  return p;
}

} // namespace

FftPlan fftPlan(const ConvProblem &prob) {
  const ConvGeometry &g = prob.geometry;
  FftPlan p;
  if (g.deconv) {
    p.whyNot = "it is a deconvolution (FFT handles convolutions only)";
    return p;
  }
  if (g.numSpatial() != 2) {
    p.whyNot = "it has " + std::to_string(g.numSpatial()) +
               " spatial axes (FFT handles 2-D convolutions only)";
    return p;
  }
  if (g.stride[0] != 1 || g.stride[1] != 1) {
    p.whyNot = "the stride is " + std::to_string(g.stride[0]) + "x" +
               std::to_string(g.stride[1]) + " (FFT needs stride 1)";
    return p;
  }
  if (g.dilation[0] != 1 || g.dilation[1] != 1) {
    p.whyNot = "it is dilated (" + std::to_string(g.dilation[0]) + "x" +
               std::to_string(g.dilation[1]) + "; FFT needs dilation 1)";
    return p;
  }
  if (g.input.size() != 2 || g.output.size() != 2 || g.batch <= 0 || g.channels <= 0 ||
      g.numOutput <= 0 || g.group <= 0 || g.input[0] <= 0 || g.input[1] <= 0 ||
      g.output[0] <= 0 || g.output[1] <= 0) {
    p.whyNot = "a tensor is empty or its shape is unknown";
    return p;
  }
  const Shape2 s{g.batch,    g.channels, g.numOutput, g.group,     g.input[0],
                 g.input[1], g.output[0], g.output[1], g.kernel[0], g.kernel[1]};
  const bool data = prob.direction == ConvDirection::BackwardData;
  const int64_t eh = data ? s.h : s.oh, ew = data ? s.w : s.ow;
  // Candidates: every smooth size from the kernel (one output per tile) to
  // one tile over the whole extent; the cheapest by the default cost model,
  // not above 1 GiB of workspace unless nothing smaller exists.
  const MachineRates rates;
  constexpr int64_t kMaxWorkspace = int64_t(1) << 30;
  bool found = false;
  double best = 0;
  for (int64_t lh : sizes(s.kh, eh + s.kh - 1, false))
    for (int64_t lw : sizes(s.kw, ew + s.kw - 1, true)) {
      FftPlan c = planFor(s, prob.direction, lh, lw, prob.block);
      const double t = estimateSeconds(c.work, rates);
      const bool small = c.work.workspaceBytes <= kMaxWorkspace,
                 bestSmall = p.work.workspaceBytes <= kMaxWorkspace;
      bool better;
      if (!found)
        better = true;
      else if (small != bestSmall)
        better = small;
      else if (small)
        better = t < best;
      else
        better = c.work.workspaceBytes < p.work.workspaceBytes;
      if (better) {
        p = c;
        best = t;
        found = true;
      }
    }
  return p;
}

} // namespace dlc::ops

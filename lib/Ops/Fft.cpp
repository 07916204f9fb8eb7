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
// The batched GEMM runs on chunks of P (fftChunk) so that the N-dependent
// buffers stay under kChunkBytes. The workspace is exactly the kernel's
// buffers A, B and R of one chunk plus the transforms' DFT matrices and
// their per-thread scratch (8 kBatch fftH (fftW/2+1) floats each, for
// fftScratchSlots() threads). The size is the cheapest by estimateSeconds at
// the default rates; the DFT transforms are small SGEMMs and count as GEMM
// work (at their own efficiency). DLC_FFT_FORCE=HxW (a measurement knob:
// ConvFftTest's DISABLED_Timing) restricts the candidates.
//
//===----------------------------------------------------------------------===//

#include "dlc/Ops/ConvAlgorithms.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace dlc::ops {
// Declared for the kernel in lib/Runtime/Dnnl/FftTransforms.h.
int64_t fftChunk(const ConvProblem &p, const FftPlan &plan);
int fftScratchSlots();

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

/// The workspace of the N-dependent operands (A and R, or A and B for
/// backward weights) is kept under this by running the batched GEMM on
/// chunks of P.
constexpr int64_t kChunkBytes = int64_t(64) << 20;
constexpr int64_t kBatch = 16; // planes per transform call (FftTransforms)

struct Dims {
  double M, Kin, N;        // per-group GEMM of the whole P
  double perP;             // floats of the N-dependent operands per entry of P
};

Dims dims(const Shape2 &s, ConvDirection d, double P) {
  const double cg = double(s.c / s.g), kg = double(s.k / s.g);
  switch (d) {
  case ConvDirection::Forward:
    return {P, cg, kg, 2 * cg + 4 * kg};
  case ConvDirection::BackwardData:
    return {P, kg, cg, 2 * kg + 4 * cg};
  case ConvDirection::BackwardWeights:
  default:
    return {cg, P, kg, 2 * cg + 2 * kg};
  }
}

/// Entries of P per chunk: as many as fit kChunkBytes, balanced.
/// (DLC_FFT_CHUNK_BYTES overrides the bound: tests of the chunking.)
int64_t chunkOf(const Shape2 &s, ConvDirection d, int64_t P, int64_t F) {
  const double perP = double(s.g) * double(F) * dims(s, d, 1).perP * 4;
  double bound = double(kChunkBytes);
  if (const char *e = std::getenv("DLC_FFT_CHUNK_BYTES"))
    bound = std::max(1.0, std::atof(e));
  const int64_t most = std::clamp<int64_t>(int64_t(bound / perP), 1, P);
  const int64_t chunks = (P + most - 1) / most;
  return (P + chunks - 1) / chunks;
}

/// The cost model's GEMM efficiency at smallest dimension m
/// (estimateSeconds).
double eff(double m) { return std::sqrt(std::min(1.0, std::max(m, 1.0) / 64.0)); }

/// GEMM flops of transforms, each divided by its efficiency (the flops at
/// full efficiency that take as long).
struct Xform {
  double flops = 0, slow = 0;
  void add(double n, double f, double minDim) {
    flops += n * f;
    slow += n * f / eff(minDim);
  }
};

/// One plane's forward DFT product of a window with R x Cc possibly
/// non-zero, and an inverse producing rows x cols (FftTransforms.cpp: rows
/// then columns forward, columns then rows inverse; batches of kBatch).
void dftIn(Xform &x, double n, double H, double hf, double R, double Cc) {
  x.add(n, 2 * R * Cc * 2 * hf, std::min(Cc, 2 * hf));
  x.add(n, 2 * 2 * H * R * 2 * hf, R);
}
void dftOut(Xform &x, double n, double H, double hf, double rows, double cols) {
  x.add(n, 2 * 2 * rows * 2 * H * hf, rows);
  x.add(n, 2 * 2 * rows * cols * hf, std::min(cols, hf));
}

/// The plan for transform size lh x lw (tiles, work, workspace).
FftPlan planFor(const Shape2 &s, ConvDirection d, int64_t lh, int64_t lw) {
  FftPlan p;
  p.fftH = lh;
  p.fftW = lw;
  p.tileH = lh - s.kh + 1;
  p.tileW = lw - s.kw + 1;
  // The tiled extent: dx for backward data, y (= dy) otherwise.
  const bool data = d == ConvDirection::BackwardData, wts = d == ConvDirection::BackwardWeights;
  const int64_t eh = data ? s.h : s.oh, ew = data ? s.w : s.ow;
  p.tilesH = (eh + p.tileH - 1) / p.tileH;
  p.tilesW = (ew + p.tileW - 1) / p.tileW;
  const int64_t Pn = s.n * p.tilesH * p.tilesW, Fn = lh * (lw / 2 + 1);
  const int64_t Pc = chunkOf(s, d, Pn, Fn), chunks = (Pn + Pc - 1) / Pc;
  const double P = double(Pn), F = double(Fn), G = double(s.g);
  const double cg = double(s.c / s.g);
  const Dims full = dims(s, d, P), one = dims(s, d, double(Pc));
  ConvWork &w = p.work;
  w.gemmFlops = 2.0 * G * F * (2 * full.M) * full.Kin * (2 * full.N);
  w.gemmMinDim = std::min({2 * one.M, one.Kin, 2 * one.N});
  w.gemmCalls = double(chunks);
  // Transformed planes: the input-like operand A (windows of L x L), the
  // other operand B (the filter, kh x kw, or dy's tiles for backward
  // weights), and the inverses (tiles, or kh x kw for backward weights).
  const double C = double(s.c), K = double(s.k);
  const double inA = P * (data ? K : C), inB = wts ? P * K : K * cg;
  const double outs = wts ? K * cg : P * (data ? C : K);
  const double H = double(lh), W = double(lw), hf = double(lw / 2 + 1);
  const double bR = wts ? double(p.tileH) : double(s.kh), bC = wts ? double(p.tileW) : double(s.kw);
  const double oR = wts ? double(s.kh) : double(p.tileH), oC = wts ? double(s.kw) : double(p.tileW);
  if (lh <= kFftMaxDftSize && lw <= kFftMaxDftSize) {
    // DFT matrix products: small single-threaded SGEMMs, 2 calls per batch
    // of planes forward and 4 inverse. They count as GEMM work; the
    // typical GEMM's smallest dimension becomes the one at which all of it
    // takes as long as it does at the dimensions of each part.
    Xform x;
    x.add(1, w.gemmFlops, w.gemmMinDim);
    dftIn(x, inA, H, hf, H, W);
    dftIn(x, inB, H, hf, bR, bC);
    dftOut(x, outs, H, hf, oR, oC);
    w.gemmFlops = x.flops;
    const double e = x.flops / x.slow;
    w.gemmMinDim = 64 * e * e;
    w.gemmCalls += 2 * std::ceil(inA / kBatch) + 2 * std::ceil(inB / kBatch) +
                   4 * std::ceil(outs / kBatch);
  } else {
    const double n = H * W; // ~5 n log2 n per real 2-D transform (kissfft)
    w.otherFlops = (inA + inB + outs) * 5.0 * n * std::log2(n);
  }
  // Scattering the spectra into the operands and combining the products.
  w.otherFlops += 2 * F * (inA + inB) + 4 * F * outs;
  if (wts)
    w.otherFlops += double(s.n) * K * double(s.oh * s.ow); // bias sum
  const double aFloats = G * F * 2 * full.M * full.Kin, bFloats = G * F * full.Kin * 2 * full.N,
               rFloats = G * F * 2 * full.M * 2 * full.N;
  const double tensors = 4.0 * (double(s.n) * C * double(s.h * s.w) +
                                double(s.n) * K * double(s.oh * s.ow) + K * cg * double(s.kh * s.kw));
  // Each operand is written once and read once.
  w.bytes = tensors + 4.0 * 2 * (aFloats + bFloats + rFloats);
  // The buffers of one chunk, and the transforms' scratch and matrices.
  const int64_t ga = s.g * Fn;
  const int64_t cgi = s.c / s.g, kgi = s.k / s.g;
  int64_t Mi, Ki, Ni;
  switch (d) {
  case ConvDirection::Forward:
    Mi = Pc, Ki = cgi, Ni = kgi;
    break;
  case ConvDirection::BackwardData:
    Mi = Pc, Ki = kgi, Ni = cgi;
    break;
  default:
    Mi = cgi, Ki = Pc, Ni = kgi;
    break;
  }
  const int64_t buffers = ga * (2 * Mi * Ki + Ki * 2 * Ni + 4 * Mi * Ni);
  const int64_t hfi = lw / 2 + 1, slots = fftScratchSlots();
  int64_t scratch;
  if (lh <= kFftMaxDftSize && lw <= kFftMaxDftSize)
    scratch = 4 * (slots * kBatch * 8 * lh * hfi + 6 * lh * lh + 4 * lw * hfi);
  else
    scratch = slots * (8 * (lh * hfi + kBatch * lh * hfi + lh) + 4 * lw);
  w.workspaceBytes = 4 * buffers + scratch;
  return p;
}

} // namespace

int fftScratchSlots() { return int(std::max(1u, std::thread::hardware_concurrency())); }

int64_t fftChunk(const ConvProblem &prob, const FftPlan &plan) {
  const ConvGeometry &g = prob.geometry;
  const Shape2 s{g.batch,    g.channels, g.numOutput, g.group,     g.input[0],
                 g.input[1], g.output[0], g.output[1], g.kernel[0], g.kernel[1]};
  return chunkOf(s, prob.direction, g.batch * plan.tilesH * plan.tilesW,
                 plan.fftH * (plan.fftW / 2 + 1));
}

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
      if (const char *f = std::getenv("DLC_FFT_FORCE")) { // measurement knob
        int64_t fh = 0, fw = 0;
        if (std::sscanf(f, "%ldx%ld", &fh, &fw) == 2 && (lh != fh || lw != fw))
          continue;
      }
      FftPlan c = planFor(s, prob.direction, lh, lw);
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

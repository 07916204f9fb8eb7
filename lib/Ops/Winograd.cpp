//===- Winograd.cpp - Where dlc's Winograd convolution applies ------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The plan of dlc's Winograd convolution (lib/Runtime/Dnnl/ConvWinograd.cpp,
// Lavin & Gray 2016), which the kernels size their buffers from:
//
// - forward: F(m x m, 3 x 3) on tiles of the output y. Each thread takes
//   chunks of tileBatch / threads tiles; per chunk the input tiles
//   (alpha x alpha, alpha = m + 2) are transformed into V [G * alpha^2]
//   [chunk][C/G], multiplied with the transformed weights U [G * alpha^2]
//   [C/G][K/G] as G * alpha^2 single-threaded GEMMs into M [G * alpha^2]
//   [chunk][K/G], which the output transform turns into y. Channels are
//   rounded up to 16 in the transform domain (cinP, coutP below).
// - backward data (stride 1): the same on dy (padded by 2 - pad) with the
//   rotated, C/K-transposed filter, on tiles of dx.
// - backward weights: F(3 x 3, m x m) with the m x m tiles of dy as the
//   "filter" and the alpha x alpha tiles of x as the input, accumulated over
//   all tiles and images in the transform domain: Macc [G][alpha^2][K/G][C/G]
//   += Udy^T [Tb x K/G] * Vx [Tb x C/G], each thread owning a share of the
//   G * alpha^2 elements (no reduction across threads); one output
//   transform at the end.
//
// The workspace does not depend on the thread count: the threads share the
// tileBatch rows (forward) or the elements (backward weights).
//
// Groups are supported (G * alpha^2 independent GEMMs).
//
//===----------------------------------------------------------------------===//

#include "dlc/Ops/ConvAlgorithms.h"

#include <algorithm>

namespace dlc::ops {

namespace {

/// Scratch budget of the per-batch transform buffers (V and M): large enough
/// for GEMMs with a few hundred rows, small enough to stay in the last-level
/// cache between the transforms and the GEMMs.
constexpr int64_t kBatchBudgetBytes = int64_t(4) << 20;
/// The fewest tiles per batch (GEMM rows), whatever the budget says.
constexpr int64_t kMinTileBatch = 64;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::string variantName(int m, bool weights) {
  std::string t = std::to_string(m) + "x" + std::to_string(m);
  return weights ? "F(3x3," + t + ")" : "F(" + t + ",3x3)";
}

std::string whyNotWinograd(const ConvProblem &p, int m) {
  const ConvGeometry &g = p.geometry;
  if (m != 2 && m != 4)
    return "Winograd has the variants F(2x2,3x3) and F(4x4,3x3), not m = " + std::to_string(m);
  if (g.deconv)
    return "it is a deconvolution (Winograd runs convolutions only)";
  if (g.numSpatial() != 2)
    return "the convolution is " + std::to_string(g.numSpatial()) + "-D (Winograd needs 2-D)";
  if (g.kernel[0] != 3 || g.kernel[1] != 3)
    return "the kernel is " + std::to_string(g.kernel[0]) + "x" + std::to_string(g.kernel[1]) +
           ", Winograd " + variantName(m, false) + " needs 3x3";
  if (g.stride[0] != 1 || g.stride[1] != 1)
    return "the stride is " +
           (g.stride[0] == g.stride[1]
                ? std::to_string(g.stride[0])
                : std::to_string(g.stride[0]) + "x" + std::to_string(g.stride[1])) +
           " (Winograd needs 1)";
  if (g.dilation[0] != 1 || g.dilation[1] != 1)
    return "dilated (dilation " + std::to_string(g.dilation[0]) + "x" +
           std::to_string(g.dilation[1]) + "; Winograd needs 1)";
  if (g.group < 1 || g.channels % g.group || g.numOutput % g.group)
    return "the channels do not split into the groups";
  if (g.batch <= 0 || g.channels <= 0 || g.numOutput <= 0 || g.input.size() != 2 ||
      g.output.size() != 2 || g.input[0] <= 0 || g.input[1] <= 0 || g.output[0] <= 0 ||
      g.output[1] <= 0)
    return "a tensor is empty or its shape unknown";
  return "";
}

} // namespace

WinogradPlan winogradPlan(const ConvProblem &p, int m) {
  WinogradPlan w;
  w.m = m;
  w.alpha = m + 2;
  w.whyNot = whyNotWinograd(p, m);
  if (!w.whyNot.empty())
    return w;
  const ConvGeometry &g = p.geometry;
  const double a = w.alpha, a2 = a * a;
  const int64_t G = g.group, N = g.batch, C = g.channels, K = g.numOutput;
  const int64_t Cg = C / G;
  const int64_t H = g.input[0], W = g.input[1], OH = g.output[0], OW = g.output[1];
  const bool weights = p.direction == ConvDirection::BackwardWeights;
  const bool data = p.direction == ConvDirection::BackwardData;
  // Tiles cover the output of the direction's transform: y (forward), dx
  // (backward data), dy's grid (backward weights: the reduction).
  const int64_t th = data ? H : OH, tw = data ? W : OW;
  w.tilesH = ceilDiv(th, m);
  w.tilesW = ceilDiv(tw, m);
  const int64_t T = N * w.tilesH * w.tilesW;
  // Channels of the input-like and output-like transforms, per group, and
  // as stored in the transform domain (rounded up to 16: whole vectors).
  const int64_t cin = data ? K : C, cout = data ? C : K;
  const int64_t cinP = (cin / G + 15) / 16 * 16, coutP = (cout / G + 15) / 16 * 16;
  const int64_t perTile = int64_t(a2) * G * (cinP + coutP) * int64_t(sizeof(float));
  int64_t tb = std::max(kMinTileBatch, kBatchBudgetBytes / std::max<int64_t>(1, perTile));
  if (tb < T)
    tb = std::max<int64_t>(16, tb / 16 * 16);
  w.tileBatch = std::min(T, tb);
  const int64_t batches = ceilDiv(T, w.tileBatch);

  // The kernels run one parallel region per direction, without barriers.
  // Forward and backward data: each thread takes chunks of tileBatch /
  // threads tiles (its share of the buffers) and runs them through the
  // input transform, G * alpha^2 GEMMs [chunk x cinP] x [cinP x coutP] and
  // the output transform. Backward weights: each thread owns a share of the
  // G * alpha^2 transform-domain elements and runs all tiles in batches of
  // tileBatch: the transforms of its elements, GEMMs [coutP x batch] x
  // [batch x cinP] accumulated, then the 3 x 3 output transform.
  ConvWork &k = w.work;
  const double nT = double(T), elems = a2 * double(G);
  k.gemmFlops = 2 * elems * nT * double(cinP) * double(coutP);
  // The GEMM rows: a thread's share of a tile batch (counted for 2 threads)
  // or, backward weights, a batch as the reduction.
  const int64_t rows = weights ? w.tileBatch : std::max<int64_t>(1, w.tileBatch / 2);
  k.gemmMinDim = double(std::min({rows, cinP, coutP}));
  // Calls: register-blocked GEMMs without per-call setup; what costs is the
  // chunk (transform, GEMMs, transform), counted once per chunk.
  k.gemmCalls = weights ? double(batches) : double(ceilDiv(T, rows));
  const double mm = m, f = 3;
  // Separable 2-D transforms, 2 flops per multiply-add: the input tiles
  // (alpha x alpha -> alpha x alpha), the filter (3 x 3 -> alpha x alpha;
  // backward weights: dy's m x m tiles), the outputs (alpha x alpha -> m x m;
  // backward weights: 3 x 3 once per weight).
  const double inT = 4 * a * a2;
  const double filtT = 2 * (f * f * a + f * a2), dyT = 2 * (mm * mm * a + mm * a2);
  const double outT = 2 * (mm * a2 + mm * mm * a), wOutT = 2 * (f * a2 + f * f * a);
  const double xBytes = 4.0 * N * C * H * W, yBytes = 4.0 * N * K * OH * OW;
  const double wBytes = 4.0 * K * Cg * 9;
  // Transform-domain matrices: written once and read once by the GEMMs.
  const double domain = 4 * elems * nT * double(cinP + coutP) * 2;
  const double uBytes = 4 * elems * double(cinP) * double(coutP);
  if (weights) {
    k.otherFlops = nT * (double(C) * inT + double(K) * dyT) + double(K * Cg) * wOutT;
    // Each thread reads all of x and dy (2 threads); the accumulators are
    // read and written once per batch.
    k.bytes = 2 * (xBytes + yBytes) + wBytes + domain + 2 * uBytes * double(batches);
  } else {
    k.otherFlops = nT * (double(cin) * inT + double(cout) * outT) + double(K * Cg) * filtT;
    // The transformed filter is read by every chunk.
    k.bytes = xBytes + yBytes + wBytes + domain + uBytes * k.gemmCalls;
  }
  k.workspaceBytes = int64_t(sizeof(float)) * int64_t(a2) * G *
                     (w.tileBatch * (cinP + coutP) + cinP * coutP);
  return w;
}

} // namespace dlc::ops

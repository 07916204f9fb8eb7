//===- DropoutMask.h - The dropout mask of train-mode dropout ---*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Train-mode dropout (`dl.dropout` with train = 1) keeps element i when
// u_i >= ratio and scales the kept elements by 1 / (1 - ratio). The uniform
// numbers u_0, u_1, ... come from std::mt19937_64 seeded with the `seed`
// attribute: u_i = (x_i >> 11) * 2^-53 for the i-th 64-bit draw x_i, an
// exact, portable map of the top 53 bits onto [0, 1). (Not
// std::uniform_real_distribution, whose mapping is implementation-defined.)
//
// The forward and backward kernels of every implementation (reference,
// oneDNN) call this generator, so they apply the very same mask and a run is
// deterministic for a given seed. Header-only, no dependencies beyond the
// standard library (the runtime must not include MLIR or LLVM).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_REFERENCE_DROPOUTMASK_H
#define DLC_RUNTIME_REFERENCE_DROPOUTMASK_H

#include <cstdint>
#include <random>
#include <vector>

namespace dlc::rt {

/// The i-th uniform number of the stream is u_i = (x_i >> 11) * 2^-53.
inline double dropoutUniform(std::mt19937_64 &gen) {
  return static_cast<double>(gen() >> 11) * 0x1.0p-53;
}

/// keep[i] = 1 when element i survives (u_i >= ratio), else 0; `count`
/// entries drawn from one stream seeded by `seed`.
inline std::vector<uint8_t> dropoutMask(uint64_t seed, double ratio, int64_t count) {
  std::mt19937_64 gen(seed);
  std::vector<uint8_t> keep(count > 0 ? static_cast<size_t>(count) : 0);
  for (auto &k : keep)
    k = dropoutUniform(gen) >= ratio ? 1 : 0;
  return keep;
}

/// The factor applied to kept elements: 1 / (1 - ratio) (Caffe's scale_).
inline double dropoutScale(double ratio) { return 1.0 / (1.0 - ratio); }

} // namespace dlc::rt

#endif // DLC_RUNTIME_REFERENCE_DROPOUTMASK_H

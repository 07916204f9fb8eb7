//===- Layout.h - Storage layouts of tensors --------------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A tensor's storage layout (docs/layouts.md), shared by the compiler
// (dl-propagate-layouts, the module writer) and the runtime (kernels, the
// executor's reads and dumps): Caffe's plain row-major layout, or a rank-4
// [N, C, H, W] tensor with its channels in blocks of B (oneDNN's nChw8c /
// nChw16c): element (n, c, h, w) at ((n * C/B + c/B) * H * W + h * W + w) * B
// + c % B. Only tensors whose C is a multiple of B are blocked, so a blocked
// tensor has the same number of elements (no padding) and element-wise ops
// run on it unchanged.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_OPS_LAYOUT_H
#define DLC_OPS_LAYOUT_H

#include "dlc/Ops/Ops.h"

#include <string>
#include <string_view>

namespace dlc::ops {

/// The channel block of a layout: 0 for plain, else 8 or 16.
constexpr int kPlainLayout = 0;

/// True for 0, 8 and 16.
inline bool isValidBlock(int block) { return block == 0 || block == 8 || block == 16; }
/// "plain", "nChw8c", "nChw16c" ("block<N>" for an invalid one).
std::string layoutName(int block);
/// Parses layoutName's spellings; false for anything else.
bool parseLayout(std::string_view name, int &block);
/// Whether a tensor of `shape` can be stored with channel block `block`:
/// rank 4 and C a positive multiple of block (always true for plain).
bool isBlockable(const Shape &shape, int block);

/// Copies a plain [N, C, H, W] tensor into the blocked layout, and back.
/// `shape` must be blockable with `block` (> 0).
void toBlocked(const Shape &shape, int block, const float *plain, float *blocked);
void toPlain(const Shape &shape, int block, const float *blocked, float *plain);
/// The plain-layout flat index of element `index` of a blocked tensor.
int64_t plainIndex(const Shape &shape, int block, int64_t index);

} // namespace dlc::ops

#endif // DLC_OPS_LAYOUT_H

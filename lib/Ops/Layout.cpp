//===- Layout.cpp - Storage layouts of tensors ----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "dlc/Ops/Layout.h"

#include <cstring>

namespace dlc::ops {

std::string layoutName(int block) {
  if (block == 0)
    return "plain";
  if (block == 8 || block == 16)
    return "nChw" + std::to_string(block) + "c";
  return "block" + std::to_string(block);
}

bool parseLayout(std::string_view name, int &block) {
  if (name == "plain")
    block = 0;
  else if (name == "nChw8c")
    block = 8;
  else if (name == "nChw16c")
    block = 16;
  else
    return false;
  return true;
}

bool isBlockable(const Shape &shape, int block) {
  if (block == 0)
    return true;
  return isValidBlock(block) && shape.size() == 4 && shape[1] > 0 && shape[1] % block == 0;
}

namespace {
/// Calls f(plain offset, blocked offset) of each run of `block` channels.
template <typename F>
void forEachBlock(const Shape &shape, int block, F &&f) {
  const int64_t n = shape[0], cb = shape[1] / block, hw = shape[2] * shape[3];
  for (int64_t i = 0; i < n; ++i)
    for (int64_t b = 0; b < cb; ++b)
      for (int64_t s = 0; s < hw; ++s)
        f(((i * shape[1] + b * block) * hw) + s, ((i * cb + b) * hw + s) * block, hw);
}
} // namespace

void toBlocked(const Shape &shape, int block, const float *plain, float *blocked) {
  forEachBlock(shape, block, [&](int64_t p, int64_t q, int64_t hw) {
    for (int c = 0; c < block; ++c)
      blocked[q + c] = plain[p + c * hw];
  });
}

void toPlain(const Shape &shape, int block, const float *blocked, float *plain) {
  forEachBlock(shape, block, [&](int64_t p, int64_t q, int64_t hw) {
    for (int c = 0; c < block; ++c)
      plain[p + c * hw] = blocked[q + c];
  });
}

int64_t plainIndex(const Shape &shape, int block, int64_t index) {
  if (block == 0)
    return index;
  const int64_t hw = shape[2] * shape[3], cb = shape[1] / block;
  const int64_t c = index % block, s = (index / block) % hw, b = (index / block / hw) % cb,
                n = index / block / hw / cb;
  return (n * shape[1] + b * block + c) * hw + s;
}

} // namespace dlc::ops

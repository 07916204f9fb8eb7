//===- FuzzNpz.cpp - Fuzz target: the .npz reader -------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// --weights FILE.npz reads a ZIP archive (stored or deflated, ZIP64) of .npy
// members through parseNpz: every offset, size and count it states is
// checked against the file before use.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Npy.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  std::vector<std::pair<std::string, dlc::rt::NpyArray>> arrays;
  std::string error;
  bool ok = dlc::rt::parseNpz(bytes, arrays, error);
  if (ok != error.empty())
    abort();
  for (auto &[name, array] : arrays)
    if (int64_t(array.data.size()) != dlc::rt::numElements(array.shape))
      abort();
  return 0;
}

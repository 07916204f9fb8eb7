//===- FuzzNpy.cpp - Fuzz target: the .npy reader -------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// dlrun --input and the .npz weights read arrays through parseNpy. Any bytes
// must give an array or an error, never a crash or an allocation the bytes
// cannot back (docs/reliability.md).
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Npy.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  dlc::rt::NpyArray array;
  std::string error;
  bool ok = dlc::rt::parseNpy(bytes, array, error);
  // Success and an error message are exclusive; an accepted array holds
  // exactly the elements its shape states.
  if (ok != error.empty() ||
      (ok && int64_t(array.data.size()) != dlc::rt::numElements(array.shape)))
    abort();
  if (ok) {
    // What the reader accepts, the writer reproduces.
    dlc::rt::NpyArray again;
    if (!dlc::rt::parseNpy(dlc::rt::serializeNpy(array.shape, array.data.data()), again, error) ||
        again.shape != array.shape)
      abort();
  }
  return 0;
}

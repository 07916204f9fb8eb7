//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Minimal, strict .npy support for the runtime tools: format versions 1.0, 2.0
// and 3.0; little-endian float32 ('<f4') or float64 ('<f8', converted to
// float32 on read); C order only. The header dictionary must hold exactly the
// keys descr, fortran_order and shape, and the data must be exactly
// numel * itemsize bytes.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_NPY_H
#define DLC_RUNTIME_NPY_H

#include "dlc/Runtime/Kernel.h"

#include <string>
#include <utility>
#include <vector>

namespace dlc::rt {

struct NpyArray {
  Shape shape;
  std::vector<float> data;
};

/// Parses .npy bytes. On failure returns false with `error` = the reason.
bool parseNpy(const std::string &bytes, NpyArray &out, std::string &error);
/// Reads a .npy file; error is "<path>: error: <what>".
bool readNpy(const std::string &path, NpyArray &out, std::string &error);
/// .npy (version 1.0, '<f4', C order) bytes for `data` of shape `shape`.
std::string serializeNpy(const Shape &shape, const float *data);
/// Writes a .npy file; error is "<path>: error: <what>".
bool writeNpy(const std::string &path, const Shape &shape, const float *data,
              std::string &error);

/// Parses a .npz archive (numpy.savez / savez_compressed: a ZIP of .npy
/// members, stored or deflated, ZIP64 included) into (name without ".npy",
/// array) pairs in archive order. Every offset and size is checked first.
bool parseNpz(const std::string &bytes, std::vector<std::pair<std::string, NpyArray>> &out,
              std::string &error);
/// Reads a .npz file; error is "<path>: error: <what>".
bool readNpz(const std::string &path, std::vector<std::pair<std::string, NpyArray>> &out,
             std::string &error);

} // namespace dlc::rt

#endif // DLC_RUNTIME_NPY_H

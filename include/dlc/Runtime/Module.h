//===- Module.h - The .dlcm compiled-module format --------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Reader, writer and validator of compiled modules (.dlcm). The file layout is
// described in lib/Runtime/dlcm.proto:
//
//   "DLCM" | u32 version | u64 header size H | H bytes of dlc.module.Module |
//   zero padding to a multiple of 64 | weights section (raw little-endian f32)
//
// Param.data_offset is relative to the start of the weights section. The
// writer aligns every stored param to 64 bytes.
//
// The reader validates everything before any use (see validateModule), so a
// truncated, corrupted or hostile file yields "<file>: error: <what>" and never
// a crash, an out-of-bounds read or a huge allocation.
//
// This header is part of the runtime (no MLIR/LLVM) and is also usable from
// compiler-side code built with -fno-exceptions/-fno-rtti: nothing here throws.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_MODULE_H
#define DLC_RUNTIME_MODULE_H

#include "dlc/Runtime/dlcm.pb.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dlc::rt {

/// Version of the file layout and of the header schema written by this build.
constexpr uint32_t kFormatVersion = 3;
/// The four magic bytes at the start of every module.
constexpr char kModuleMagic[4] = {'D', 'L', 'C', 'M'};
/// Size of the fixed preamble (magic, version, header size).
constexpr uint64_t kPreambleSize = 16;
/// Alignment of the weights section and of each stored param in it.
constexpr uint64_t kWeightsAlignment = 64;
/// Largest element count accepted for a single tensor (2^40).
constexpr uint64_t kMaxTensorElements = uint64_t(1) << 40;
/// Largest rank accepted for a tensor.
constexpr int kMaxRank = 16;

/// Filler types understood by the runtime (Caffe's FillerParameter.type).
bool isKnownFillerType(const std::string &type);

/// A validated module: the header plus a view of the weights section. The
/// bytes are owned by `storage` (an mmap of the file or an in-memory copy), so
/// copies of a LoadedModule share them.
struct LoadedModule {
  std::string path; ///< file name (or buffer name) used in messages
  dlc::module::Module header;
  const uint8_t *weights = nullptr; ///< start of the weights section
  uint64_t weightsSize = 0;         ///< bytes in the weights section
  std::shared_ptr<const void> storage;
  /// Tensor index -> index into header.params() (for PARAM tensors).
  std::map<int, int> paramOfTensor;

  /// Element count of tensor `t` (validated, so it cannot overflow); for a
  /// tensor with a run-time size, that of its max_shape (its buffer's).
  int64_t numElements(int t) const;
  /// True when tensor `t`'s leading size is known only at run time (shape
  /// entries -1, Tensor.max_shape set).
  bool hasDynamicShape(int t) const;
  /// Stored float data of params[p], or nullptr when it has a filler only.
  /// Not necessarily 4-byte aligned when read from a buffer: copy with memcpy.
  const uint8_t *paramData(int p) const;
  /// Index of the tensor named `name`, or -1.
  int findTensor(const std::string &name) const;
  /// Number of FORWARD kernels. They come first (validated), so kernels
  /// [0, numForwardKernels()) are the forward entry and all kernels the
  /// gradient entry (docs/autodiff.md).
  int numForwardKernels() const;
  /// True when the module has backward kernels (compiled with --gradient).
  bool hasGradient() const { return numForwardKernels() < header.kernels_size(); }
};

/// Checks the structural validity of `header` against a weights section of
/// `weightsSize` bytes (indices, shapes, sizes, offsets, producer order,
/// attribute names, fillers, kernel roles: every FORWARD kernel precedes every
/// BACKWARD_DATA / BACKWARD_WEIGHTS kernel, and no forward kernel reads a
/// tensor produced by a backward kernel). On failure returns false and sets `error` to the
/// reason without any "<file>: error:" prefix.
bool validateModule(const dlc::module::Module &header, uint64_t weightsSize,
                    std::string &error);

/// Checks a module's solver (dlcm.proto Solver, docs/training.md): values
/// in their ranges, and a gradient entry to train. Called by validateModule.
bool validateSolver(const dlc::module::Module &header, std::string &error);
/// Checks a module's data layers: each top a distinct graph input (or -1).
bool validateDataLayers(const dlc::module::Module &header, std::string &error);

/// Parses and validates a module held in memory. `name` is used in messages.

bool parseModule(std::vector<uint8_t> bytes, const std::string &name,
                 LoadedModule &out, std::string &error);

/// Maps (or reads) the file `path`, parses and validates it. On failure
/// returns false and sets `error` to "<path>: error: <what>".
bool readModule(const std::string &path, LoadedModule &out, std::string &error);

/// Builds a module file: fill in header() (tensors, kernels, params with their
/// fillers, inputs, outputs ...), attach stored data to some params, write.
/// The writer sets header.version, and for params with data, data_offset and
/// data_size; it validates the result with validateModule before writing.
class ModuleWriter {
public:
  ModuleWriter() = default;
  explicit ModuleWriter(dlc::module::Module header) : header_(std::move(header)) {}

  dlc::module::Module &header() { return header_; }
  const dlc::module::Module &header() const { return header_; }

  /// Stores `data` for header().params(paramIndex). The element count is
  /// checked against the param's tensor when serializing.
  void setParamData(int paramIndex, std::vector<float> data);
  /// Removes stored data (the param then uses its filler).
  void clearParamData(int paramIndex) { data_.erase(paramIndex); }

  /// Produces the complete file contents.
  bool serialize(std::string &bytes, std::string &error);
  /// Writes the file; error is "<path>: error: <what>".
  bool write(const std::string &path, std::string &error);

private:
  dlc::module::Module header_;
  std::map<int, std::vector<float>> data_;
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_MODULE_H

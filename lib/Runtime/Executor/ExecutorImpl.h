//===- ExecutorImpl.h - The executor's private state ------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Shared by the executor's source files (Executor.cpp: buffers, kernels,
// running; Bench.cpp: timing). Not installed.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_RUNTIME_EXECUTOR_EXECUTORIMPL_H
#define DLC_LIB_RUNTIME_EXECUTOR_EXECUTORIMPL_H

#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/KernelRegistry.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dlc::rt {

struct FreeDeleter {
  void operator()(float *p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float, FreeDeleter>;

/// 64-byte aligned, zeroed; throws Error when out of memory.
Buffer allocate(uint64_t bytes);
/// Bytes of heap handed out and not freed (every malloc arena and the
/// mmapped blocks), or 0 where the C library cannot tell.
uint64_t heapInUse();

struct Executor::Impl {
  /// Current shape and element count of each tensor. For a tensor with a
  /// run-time size (LoadedModule::hasDynamicShape) they change from run to
  /// run; `capacity` is what its buffer holds (the module's max_shape).
  std::vector<Shape> shapes;
  std::vector<int64_t> numel, capacity;
  std::vector<bool> dynamic; ///< hasDynamicShape, per tensor
  std::vector<float *> data; ///< where kernels read/write each tensor
  Buffer arena;
  std::vector<Buffer> owned;
  std::vector<int> inputs, outputs;
  std::map<std::string, int> byName;
  /// Inputs living in arena memory that later tensors reuse: the value set by
  /// the caller is kept here and copied into the arena at the start of run().
  std::map<int, std::vector<float>> inputStaging;
  /// The module's native code, once loaded (null: none or reference mode).
  std::shared_ptr<const NativeCode> native;

  /// A kernel created for one set of operand shapes (a step with run-time
  /// sizes keeps one per set it has met).
  struct Variant {
    std::unique_ptr<Kernel> kernel;
    std::vector<Shape> outputs;
  };
  struct Step {
    Kernel *kernel = nullptr; ///< the variant for the current operand shapes
    std::vector<const float *> in;
    std::vector<float *> out;
    /// Outputs that alias an input in a way the kernel cannot handle: written
    /// to scratch[i] and copied to tensor scratchTensor[i] afterwards.
    std::vector<std::pair<Buffer, float *>> scratch;
    std::vector<int> scratchTensor;
    std::vector<float *> realOut;
    std::vector<int> inputTensors, outputTensors;
    /// The description the kernel was created from, and the backends asked.
    KernelDesc desc;
    std::vector<std::string> backends;
    /// Some operand has a run-time size: the kernel is re-specialized when
    /// the operand shapes change (Executor.cpp, respecialize).
    bool dynamic = false;
    /// A DL_DataDependentShape op: its kernel reports the result shapes.
    bool dataDependent = false;
    std::map<std::vector<Shape>, Variant> variants;
    std::string where; ///< "loc: kernel #k (op 'layer')" for messages
    /// The kernel's first run was measured (KernelInfo::workspace).
    bool measured = false;
    bool serial = false; ///< runs on one thread (ExecutorOptions::serialMacs)
  };
  std::vector<Step> steps;
  /// Internal tensors (no buffer) -> the fused kernel computing them.
  std::map<int, int> fusedInto;
  std::vector<KernelInfo> infos;
  int numForward = 0; ///< steps [0, numForward) are the forward entry
  int threads = 1; ///< OpenMP threads of the other kernels
  BackendContexts backends;

  void runStep(size_t k);
  void respecialize(Step &s);
  void stageInputs() {
    for (auto &[t, values] : inputStaging)
      std::memcpy(data[t], values.data(), values.size() * sizeof(float));
  }
};

} // namespace dlc::rt

#endif // DLC_LIB_RUNTIME_EXECUTOR_EXECUTORIMPL_H

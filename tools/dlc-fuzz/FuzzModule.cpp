//===- FuzzModule.cpp - Fuzz target: .dlcm modules up to the executor -----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What `dlrun model.dlcm` does with a module file: the container and header
// checks and validateModule (parseModule), then the executor's buffers,
// params and kernels (the oneDNN backend first, the reference one as
// fallback), native code included (the ELF loader and its relocations). A
// module that loads and is cheap to run (under kMaxMacs multiply-adds) also
// runs its forward and gradient entries once, so that the kernels see every
// shape and attribute the validator lets through - unless it carries native
// code: that is a program, as trusted as a shared library, and running
// mutated machine code proves nothing (docs/reliability.md).
// The only acceptable failures are the loader's message and rt::Error.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Module.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

using namespace dlc::rt;

namespace {
constexpr double kMaxMacs = 2e7;
// Filling 256 MiB of parameters took over a second under ASan (a timeout).
constexpr uint64_t kMemoryLimit = uint64_t(32) << 20;
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto module = std::make_shared<LoadedModule>();
  std::string error;
  if (!parseModule(std::vector<uint8_t>(data, data + size), "fuzz.dlcm", *module, error))
    return 0;
  ExecutorOptions options;
  options.threads = 1;
  options.memoryLimit = kMemoryLimit;
  try {
    Executor executor(module, options);
    double macs = 0;
    int kernels = executor.numKernels(executor.hasGradient() ? Entry::Gradient : Entry::Forward);
    for (int k = 0; k < kernels; ++k)
      macs += executor.kernelInfo(k).macs;
    if (macs > kMaxMacs || module->header.has_native_code())
      return 0;
    executor.runForward();
    if (executor.hasGradient())
      executor.runGradient();
  } catch (const Error &) {
    // A clear refusal (the message names the module and the layer).
  }
  return 0;
}

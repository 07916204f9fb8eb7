//===- Generated.h - Native code compiled into a module ---------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The runtime side of docs/codegen.md: `dlc compile` stores the kernels it
// generated for element-wise fused layers as an ELF relocatable object in
// the module (NativeCode in dlcm.proto). The runtime checks the CPU
// features the code needs, maps the object itself (no dlopen, no LLVM),
// and the "generated" backend runs the fused kernels that name one of its
// functions.
//
// Part of the runtime: no MLIR/LLVM.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_GENERATED_H
#define DLC_RUNTIME_GENERATED_H

#include "dlc/Runtime/Kernel.h"

#include <memory>
#include <string>
#include <vector>

namespace dlc::rt {

/// Loads native code: checks that this CPU has every feature in `features`
/// (Error "module compiled for <cpu> needs avx512f, which this CPU lacks"),
/// then maps `object` (an x86-64 ELF relocatable object), applies its
/// relocations and makes its code executable. Every name in `symbols` must
/// be a function the object defines. Throws Error for a malformed object,
/// an unsupported relocation, or an undefined symbol.
std::shared_ptr<const NativeCode> loadNativeCode(const std::string &object,
                                                 const std::string &cpu,
                                                 const std::vector<std::string> &features,
                                                 const std::vector<std::string> &symbols);

/// The signature of a generated kernel: elements [begin, end) of the fused
/// kernel's output 0 from its inputs (dlcm.proto, NativeCode).
using GeneratedFunction = void (*)(const float *const *in, float *const *out, int64_t begin,
                                   int64_t end);

} // namespace dlc::rt

#endif // DLC_RUNTIME_GENERATED_H

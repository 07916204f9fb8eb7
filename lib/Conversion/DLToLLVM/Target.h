//===- Target.h - The CPU generated kernels are compiled for ----*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Conversion/DLToLLVM: the target of dl-codegen-pointwise and
// dl-codegen-compile (docs/codegen.md). By default this machine's CPU with
// the features it reports (like -march=native); `cpu` names another one.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_CONVERSION_DLTOLLVM_TARGET_H
#define DLC_LIB_CONVERSION_DLTOLLVM_TARGET_H

#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>
#include <vector>

namespace dlc::codegen {

struct TargetSpec {
  std::string triple;   ///< the host's (x86-64 only)
  std::string cpu;      ///< LLVM CPU name ("znver4", "x86-64-v3")
  std::string features; ///< LLVM feature string ("+avx2,-avx512f,..."; "" for a named CPU)
  /// Enabled features the runtime can check (dlc/Runtime/CpuFeatures.h), in
  /// the table's order: what the module records as required.
  std::vector<std::string> required;
  /// Lanes of the generated vector loops: 16 with AVX-512, 8 with AVX, else 4.
  int64_t vectorWidth = 4;
  /// Vectors per iteration of the main loop: 8 with AVX-512's 32 registers,
  /// else 4.
  int64_t unroll = 4;
};

/// Resolves `cpu` ("" or "native": this machine). Fails, with `error`, for
/// a CPU name LLVM does not know or a host that is not x86-64.
bool resolveTarget(const std::string &cpu, TargetSpec &out, std::string &error);

/// The TargetMachine of `spec` (position-independent, small code model).
std::unique_ptr<llvm::TargetMachine> createTargetMachine(const TargetSpec &spec,
                                                         unsigned optLevel, std::string &error);

} // namespace dlc::codegen

#endif // DLC_LIB_CONVERSION_DLTOLLVM_TARGET_H

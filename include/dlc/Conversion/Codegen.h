//===- Codegen.h - Native code for element-wise bodies ----------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A plain C++ entry to the code generator (docs/codegen.md), for callers
// built without MLIR headers (tests): it parses dl dialect IR, runs
// dl-codegen-pointwise and dl-codegen-compile, and returns the object.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CONVERSION_CODEGEN_H
#define DLC_CONVERSION_CODEGEN_H

#include <string>
#include <vector>

namespace dlc::codegen {

/// The native code of a module (the `dl.native_code` attribute; the
/// module format's NativeCode message).
struct NativeObject {
  std::string object; ///< ELF64 relocatable object
  std::string triple, cpu;
  std::vector<std::string> features; ///< CPU features the code needs
  std::vector<std::string> symbols;  ///< kernel functions it defines
};

/// Compiles the element-wise dl.fused ops of `mlirText` (a module in the dl
/// dialect) for `cpu` ("": this machine). `fusedSymbols` gets, for each
/// dl.fused op in order, its kernel's symbol or "" when it has none.
/// Returns false with the diagnostics in `error` on failure.
bool compileModuleText(const std::string &mlirText, const std::string &cpu, NativeObject &out,
                       std::vector<std::string> &fusedSymbols, std::string &error);

/// Compiles the update of solver `solver` ("sgd", ..., "adam") with L1 or L2
/// weight decay (dl-codegen-update) for `cpu` ("": this machine); its symbol
/// is dlc::ops::updateSymbol. Returns false with `error` on failure.
bool compileSolverUpdate(const std::string &solver, bool l1, const std::string &cpu,
                         NativeObject &out, std::string &error);

/// Whether `cpu` ("" or "native": this machine; else an LLVM CPU name) has
/// `feature` (LLVM's name, e.g. "avx512f") in the set the runtime can check
/// (dlc/Runtime/CpuFeatures.h). Returns false with `error` when the CPU
/// cannot be resolved (unknown name, host not x86-64 Linux).
bool cpuHasFeature(const std::string &cpu, const std::string &feature, bool &has,
                   std::string &error);

} // namespace dlc::codegen

#endif // DLC_CONVERSION_CODEGEN_H

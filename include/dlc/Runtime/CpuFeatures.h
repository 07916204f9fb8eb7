//===- CpuFeatures.h - x86 CPU features of generated code -------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The x86-64 CPU features that native code in a module may require
// (docs/codegen.md), under LLVM's names, with where CPUID reports each. The
// compiler records the features of its target that appear here; the runtime
// checks them against the running CPU (CPUID and, for the AVX and AVX-512
// register files, that the OS saves them: XGETBV) before it loads the code.
//
// Header-only table, no MLIR/LLVM and nothing that throws: included by both
// sides.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_CPUFEATURES_H
#define DLC_RUNTIME_CPUFEATURES_H

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::rt {

/// Where CPUID reports a feature, and which register state the OS must save.
struct CpuFeatureBit {
  const char *name; ///< LLVM's name ("avx2", "avx512f", "sse4.2")
  uint32_t leaf, subleaf;
  uint8_t reg; ///< 0 EAX, 1 EBX, 2 ECX, 3 EDX
  uint8_t bit;
  /// 0: none; 1: the AVX state (XCR0 bits 1, 2); 2: also the AVX-512 state
  /// (XCR0 bits 5, 6, 7).
  uint8_t osState;
};

inline constexpr CpuFeatureBit kCpuFeatureBits[] = {
    {"cx8", 1, 0, 3, 8, 0},
    {"cmov", 1, 0, 3, 15, 0},
    {"mmx", 1, 0, 3, 23, 0},
    {"fxsr", 1, 0, 3, 24, 0},
    {"sse", 1, 0, 3, 25, 0},
    {"sse2", 1, 0, 3, 26, 0},
    {"sse3", 1, 0, 2, 0, 0},
    {"pclmul", 1, 0, 2, 1, 0},
    {"ssse3", 1, 0, 2, 9, 0},
    {"fma", 1, 0, 2, 12, 1},
    {"cx16", 1, 0, 2, 13, 0},
    {"sse4.1", 1, 0, 2, 19, 0},
    {"sse4.2", 1, 0, 2, 20, 0},
    {"movbe", 1, 0, 2, 22, 0},
    {"popcnt", 1, 0, 2, 23, 0},
    {"aes", 1, 0, 2, 25, 0},
    {"xsave", 1, 0, 2, 26, 0},
    {"avx", 1, 0, 2, 28, 1},
    {"f16c", 1, 0, 2, 29, 1},
    {"rdrnd", 1, 0, 2, 30, 0},
    {"bmi", 7, 0, 1, 3, 0},
    {"avx2", 7, 0, 1, 5, 1},
    {"bmi2", 7, 0, 1, 8, 0},
    {"avx512f", 7, 0, 1, 16, 2},
    {"avx512dq", 7, 0, 1, 17, 2},
    {"rdseed", 7, 0, 1, 18, 0},
    {"adx", 7, 0, 1, 19, 0},
    {"avx512ifma", 7, 0, 1, 21, 2},
    {"clflushopt", 7, 0, 1, 23, 0},
    {"clwb", 7, 0, 1, 24, 0},
    {"avx512cd", 7, 0, 1, 28, 2},
    {"sha", 7, 0, 1, 29, 0},
    {"avx512bw", 7, 0, 1, 30, 2},
    {"avx512vl", 7, 0, 1, 31, 2},
    {"avx512vbmi", 7, 0, 2, 1, 2},
    {"avx512vbmi2", 7, 0, 2, 6, 2},
    {"gfni", 7, 0, 2, 8, 0},
    {"vaes", 7, 0, 2, 9, 1},
    {"vpclmulqdq", 7, 0, 2, 10, 1},
    {"avx512vnni", 7, 0, 2, 11, 2},
    {"avx512bitalg", 7, 0, 2, 12, 2},
    {"avx512vpopcntdq", 7, 0, 2, 14, 2},
    {"avx512fp16", 7, 0, 3, 23, 2},
    {"avxvnni", 7, 1, 0, 4, 1},
    {"avx512bf16", 7, 1, 0, 5, 2},
    {"sahf", 0x80000001u, 0, 2, 0, 0},
    {"lzcnt", 0x80000001u, 0, 2, 5, 0},
    {"sse4a", 0x80000001u, 0, 2, 6, 0},
    {"prfchw", 0x80000001u, 0, 2, 8, 0},
    {"xop", 0x80000001u, 0, 2, 11, 1},
    {"fma4", 0x80000001u, 0, 2, 16, 1},
};

/// The entry of kCpuFeatureBits named `name`, or nullptr.
inline const CpuFeatureBit *findCpuFeature(const std::string &name) {
  for (const CpuFeatureBit &f : kCpuFeatureBits)
    if (name == f.name)
      return &f;
  return nullptr;
}

/// Runtime side (lib/Runtime/Generated): the entries of `required` that the
/// running CPU (or its OS) does not support, in order. A name missing from
/// kCpuFeatureBits cannot be checked and counts as missing.
std::vector<std::string> missingCpuFeatures(const std::vector<std::string> &required);

/// Runtime side: whether the running CPU supports `name` (false for a name
/// the table does not know).
bool cpuHasFeature(const std::string &name);

} // namespace dlc::rt

#endif // DLC_RUNTIME_CPUFEATURES_H

//===- CpuFeatures.cpp - What the running CPU supports --------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// CPUID for the features of dlc/Runtime/CpuFeatures.h, and XGETBV for the
// register state the OS saves: AVX code needs the YMM state, AVX-512 code
// the opmask and ZMM states too, whatever CPUID says.
//
//===----------------------------------------------------------------------===//
#include "dlc/Runtime/CpuFeatures.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace dlc::rt {
namespace {

#if defined(__x86_64__)
bool cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]) {
  if (__get_cpuid_max(leaf & 0x80000000u, nullptr) < leaf)
    return false;
  __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
  return true;
}

/// XCR0, the register state the OS saves (0 without OSXSAVE).
uint64_t xcr0() {
  uint32_t r[4];
  if (!cpuid(1, 0, r) || !(r[2] & (1u << 27)))
    return 0;
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return uint64_t(edx) << 32 | eax;
}

bool supported(const CpuFeatureBit &f) {
  uint32_t r[4];
  if (!cpuid(f.leaf, f.subleaf, r) || !(r[f.reg] & (1u << f.bit)))
    return false;
  const uint64_t x = f.osState ? xcr0() : 0;
  if (f.osState >= 1 && (x & 0x6) != 0x6) // SSE and AVX (YMM) state
    return false;
  if (f.osState >= 2 && (x & 0xe0) != 0xe0) // opmask, ZMM_Hi256, Hi16_ZMM
    return false;
  return true;
}
#else
bool supported(const CpuFeatureBit &) { return false; }
#endif

} // namespace

bool cpuHasFeature(const std::string &name) {
  const CpuFeatureBit *f = findCpuFeature(name);
  return f && supported(*f);
}

std::vector<std::string> missingCpuFeatures(const std::vector<std::string> &required) {
  std::vector<std::string> missing;
  for (const std::string &name : required)
    if (!cpuHasFeature(name))
      missing.push_back(name);
  return missing;
}

} // namespace dlc::rt

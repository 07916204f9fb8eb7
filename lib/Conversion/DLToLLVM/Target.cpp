//===- Target.cpp - The CPU generated kernels are compiled for ------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Target.h"

#include "dlc/Runtime/CpuFeatures.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <mutex>

namespace dlc::codegen {

static void initializeTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

bool resolveTarget(const std::string &cpu, TargetSpec &out, std::string &error) {
  initializeTargets();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  if (triple.getArch() != llvm::Triple::x86_64 || !triple.isOSLinux()) {
    error = "native code generation supports x86-64 Linux only, this is " + triple.str();
    return false;
  }
  out.triple = triple.str();
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(out.triple, error);
  if (!target)
    return false;
  if (cpu.empty() || cpu == "native") {
    out.cpu = llvm::sys::getHostCPUName().str();
    std::string features;
    for (const auto &f : llvm::sys::getHostCPUFeatures())
      features += (features.empty() ? "" : ",") + std::string(f.second ? "+" : "-") +
                  f.first().str();
    out.features = features;
  } else {
    out.cpu = cpu;
    out.features.clear();
  }
  // Checked on the generic subtarget: LLVM warns on stderr about an unknown
  // CPU it is asked to create.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      target->createMCSubtargetInfo(out.triple, "", ""));
  if (!generic || !generic->isCPUStringValid(out.cpu)) {
    error = "unknown CPU '" + out.cpu + "' for " + out.triple +
            " (LLVM's names, e.g. x86-64-v3, skylake-avx512, znver4)";
    return false;
  }
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(out.triple, out.cpu, out.features));
  const llvm::FeatureBitset &bits = sti->getFeatureBits();
  llvm::StringMap<bool> enabled;
  for (const llvm::SubtargetFeatureKV &kv : sti->getAllProcessorFeatures())
    enabled[kv.Key] = bits.test(kv.Value);
  out.required.clear();
  for (const dlc::rt::CpuFeatureBit &f : dlc::rt::kCpuFeatureBits)
    if (enabled.lookup(f.name))
      out.required.push_back(f.name);
  out.vectorWidth = enabled.lookup("avx512f") ? 16 : enabled.lookup("avx") ? 8 : 4;
  out.unroll = enabled.lookup("avx512f") ? 8 : 4;
  return true;
}

std::unique_ptr<llvm::TargetMachine> createTargetMachine(const TargetSpec &spec,
                                                         unsigned optLevel, std::string &error) {
  initializeTargets();
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(spec.triple, error);
  if (!target)
    return nullptr;
  llvm::CodeGenOptLevel level = optLevel == 0   ? llvm::CodeGenOptLevel::None
                                : optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                : optLevel == 2 ? llvm::CodeGenOptLevel::Default
                                                : llvm::CodeGenOptLevel::Aggressive;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      spec.triple, spec.cpu, spec.features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      llvm::CodeModel::Small, level));
  if (!tm)
    error = "cannot create a target machine for " + spec.triple + " / " + spec.cpu;
  return tm;
}

} // namespace dlc::codegen

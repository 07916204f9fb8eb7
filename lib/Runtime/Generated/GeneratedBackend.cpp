//===- GeneratedBackend.cpp - Fused kernels from generated code -----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The "generated" backend (docs/codegen.md): a fused kernel whose attribute
// `gen_symbol` names a function of the module's native code runs that
// function, in parallel over chunks of its output (OpenMP). It is tried
// before oneDNN, and it is supplementary: for every other kernel the
// backends after it are not fallbacks.
//
//===----------------------------------------------------------------------===//
#include "dlc/Runtime/Generated.h"
#include "dlc/Runtime/KernelRegistry.h"

#include <algorithm>

#include <omp.h>

namespace dlc::rt {
namespace {

/// Elements below which one thread runs the whole range.
constexpr int64_t kParallelMin = 1 << 15;

class GeneratedKernel : public Kernel {
public:
  GeneratedKernel(const KernelDesc &desc, GeneratedFunction fn)
      : code_(desc.nativeCode), fn_(fn), count_(numElements(desc.outputs[0])),
        inPlace_(inPlaceOf(desc)) {}

  void forward(const float *const *in, float *const *out) override {
    const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (count_ < kParallelMin || threads <= 1) {
      fn_(in, out, 0, count_);
      return;
    }
    // Whole cache lines per chunk, a few chunks per thread.
    const int64_t chunks = std::min<int64_t>(4 * int64_t(threads), count_ / 4096);
    const int64_t size = ((count_ + chunks - 1) / chunks + 15) & ~int64_t(15);
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t begin = c * size, end = std::min(count_, begin + size);
      if (begin < end)
        fn_(in, out, begin, end);
    }
  }
  /// Every element is read before its own output element is written, so the
  /// output may be any input of the same size; the one the buffer plan gives
  /// it (mlir::dl::inPlaceOperand) is named.
  int inPlaceInput() const override { return inPlace_; }
  std::string implName() const override { return "generated:" + code_->cpu(); }

private:
  /// The input a sum in the body adds, else input 0, if it has the output's size.
  static int inPlaceOf(const KernelDesc &desc) {
    const int64_t n = numElements(desc.outputs[0]);
    auto same = [&](int v) {
      return v >= 0 && size_t(v) < desc.inputs.size() && !desc.param(size_t(v)) &&
             numElements(desc.inputs[size_t(v)]) == n;
    };
    for (const FusedStep &s : desc.body)
      if (s.desc.op == "eltwise" && s.desc.attrs.getString("operation", "sum") == "sum")
        for (int a : s.args)
          if (same(a))
            return a;
    return same(0) ? 0 : -1;
  }

  std::shared_ptr<const NativeCode> code_; ///< keeps fn_ mapped
  GeneratedFunction fn_;
  int64_t count_;
  int inPlace_;
};

GeneratedFunction functionOf(const KernelDesc &desc) {
  if (!desc.nativeCode)
    return nullptr;
  return reinterpret_cast<GeneratedFunction>(
      desc.nativeCode->function(desc.attrs.getString("gen_symbol", "")));
}

std::string whyNot(const KernelDesc &desc) {
  if (!desc.attrs.has("gen_symbol"))
    return "no generated code for this body";
  if (!desc.nativeCode)
    return "the module's native code is not loaded";
  if (!functionOf(desc))
    return "the native code has no function '" + desc.attrs.getString("gen_symbol", "") + "'";
  if (desc.outputs.size() != 1)
    return "a generated kernel has one output";
  return "";
}

std::unique_ptr<Kernel> create(const KernelDesc &desc, BackendContext &) {
  return std::make_unique<GeneratedKernel>(desc, functionOf(desc));
}

} // namespace

// Before oneDNN, for the kernels it has only (supplementary).
DLC_REGISTER_BACKEND({"generated", "generated code", 20, nullptr, /*supplementary=*/true});
DLC_REGISTER_KERNELS({"generated", "fused", KernelKind::Forward, whyNot, create});

} // namespace dlc::rt

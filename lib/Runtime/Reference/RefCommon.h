//===- RefCommon.h - Shared by the reference kernels ------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Private to lib/Runtime/Reference. The reference kernels (plain loops,
// float64 accumulation) are the test oracle of every other backend. Each
// family file registers its kernels with the registry:
//
//   DLC_REGISTER_KERNELS(DLC_REF_KERNEL("relu", Forward, makeRelu), ...);
//
// Factories receive descriptions already validated against the op library
// (validateKernelDesc): they read typed attributes (attrsOf<...>) and the
// shared geometry (dlc/Ops/Geometry.h) and do not re-check them.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_RUNTIME_REFERENCE_REFCOMMON_H
#define DLC_LIB_RUNTIME_REFERENCE_REFCOMMON_H

#include "dlc/Runtime/KernelRegistry.h"

namespace dlc::rt::ref {

/// Product of s[from:].
inline int64_t countFrom(const Shape &s, size_t from) {
  int64_t n = 1;
  for (size_t i = from; i < s.size(); ++i)
    n *= s[i];
  return n;
}

/// A bias gradient: out[j] = sum over the m rows of dy [m, n] (float64).
inline void sumRows(const float *dy, int64_t m, int64_t n, float *out) {
  for (int64_t j = 0; j < n; ++j) {
    double acc = 0.0;
    for (int64_t i = 0; i < m; ++i)
      acc += dy[i * n + j];
    out[j] = static_cast<float>(acc);
  }
}

/// Base of every reference kernel.
class RefKernel : public Kernel {
public:
  std::string implName() const override { return "ref"; }
};

using Maker = std::unique_ptr<Kernel> (*)(const KernelDesc &);
template <Maker M>
std::unique_ptr<Kernel> adapt(const KernelDesc &desc, BackendContext &) {
  return M(desc);
}

} // namespace dlc::rt::ref

/// A registry entry of the reference backend: op, Forward/Backward, maker.
#define DLC_REF_KERNEL(op, kind, maker)                                                  \
  ::dlc::rt::KernelFactory {                                                             \
    "ref", op, ::dlc::rt::KernelKind::kind, nullptr, &::dlc::rt::ref::adapt<maker>       \
  }

/// Both registry entries of an op: DLC_REF_OP("relu", makeRelu, makeReluGrad).
#define DLC_REF_OP(op, forward, backward)                                               \
  DLC_REF_KERNEL(op, Forward, forward), DLC_REF_KERNEL(op, Backward, backward)

#endif // DLC_LIB_RUNTIME_REFERENCE_REFCOMMON_H

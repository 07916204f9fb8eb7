//===- Dnnl.h - oneDNN kernels ----------------------------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Optimized CPU kernels built on oneDNN 2.6 primitives. Primitives are created
// once, when the kernel is created, and reused on every forward().
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_DNNL_H
#define DLC_RUNTIME_DNNL_H

#include "dlc/Runtime/Kernel.h"

namespace dlc::rt {

/// A oneDNN CPU engine and stream shared by the kernels of one executor.
class DnnlContext;
std::shared_ptr<DnnlContext> createDnnlContext();

/// Creates the oneDNN kernel of `desc` through the kernel registry
/// (KernelRegistry.h). Returns nullptr when the backend has no kernel for
/// the op, or when its kernel does not apply to this valid configuration
/// (its `whyNot` or a NotApplicable from the factory; the executor's
/// createKernel records that reason and falls back to the reference kernel).
/// Throws Error for a description the op library rejects (validateKernelDesc,
/// run first) and for a configuration oneDNN rejects while building.
/// `desc.attrs` may carry "impl" (string) to force an algorithm, e.g.
/// "direct", "gemm", "winograd" for convolutions; unknown/unsupported -> Error.
std::unique_ptr<Kernel> createDnnlKernel(const KernelDesc &desc, DnnlContext &ctx);

/// Ops ("<op>" or "<op>_grad") for which createDnnlKernel may return a
/// kernel: those the oneDNN backend registered.
bool hasDnnlKernel(const std::string &op);

} // namespace dlc::rt

#endif // DLC_RUNTIME_DNNL_H

//===- ConvAlgos.h - dlc's own convolution algorithm kernels ----*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The convolution kernels dlc implements itself (im2col + SGEMM, FFT,
// Winograd), registered by algorithm name from their own files; the oneDNN
// convolution factories (Conv.cpp, ConvGrad.cpp) hand a layer whose "impl"
// names one of them to its makers. Where each applies and its workspace are declared once in
// dlc/Ops/ConvAlgorithms.h, which the makers check first.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_RUNTIME_DNNL_CONVALGOS_H
#define DLC_LIB_RUNTIME_DNNL_CONVALGOS_H

#include "DnnlCommon.h"
#include "dlc/Ops/ConvAlgorithms.h"

namespace dlc::rt::dnnlk {

using ConvAlgoMaker = std::unique_ptr<Kernel> (*)(const KernelDesc &desc, DnnlContext &ctx);

/// One algorithm's kernels: `forward` gets a convolution's forward
/// description; `backward` a convolution's backward description (any of the
/// data, weight and bias gradients, see GradDesc).
struct ConvAlgoKernels {
  const char *name; ///< the algorithm's name in dlc/Ops/ConvAlgorithms.h
  ConvAlgoMaker forward;
  ConvAlgoMaker backward;
};

/// Registers an algorithm's kernels from a static initializer:
///   static ConvAlgoRegistration reg{{"fft", makeFftForward, makeFftBackward}};
struct ConvAlgoRegistration {
  explicit ConvAlgoRegistration(ConvAlgoKernels kernels);
};
/// nullptr when no kernels are registered under `name`.
const ConvAlgoKernels *findConvAlgoKernels(const std::string &name);

/// The op library's problem of a forward convolution description in
/// direction `d` (channel block from the description's layouts).
ops::ConvProblem convProblem(const KernelDesc &fwd, ops::ConvDirection d);
/// Throws Error naming the layer when `algorithm` does not apply to `p`;
/// returns its canonical name ("winograd" -> "winograd4").
std::string requireApplicable(const KernelDesc &desc, const ops::ConvProblem &p,
                              const std::string &algorithm);

/// The threads that may each hold a buffer of `bytesPerThread` within
/// `memoryLimit` (0: no limit): at most the OpenMP threads (1 inside a
/// parallel region), at least 1. The algorithms' plans declare one thread's
/// workspace, which the memory limit was checked against when the algorithm
/// was chosen.
int workspaceThreads(uint64_t memoryLimit, int64_t bytesPerThread);

} // namespace dlc::rt::dnnlk

#endif // DLC_LIB_RUNTIME_DNNL_CONVALGOS_H

//===- CpuClones.h - Hot loops compiled per ISA -----------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Runtime/Dnnl. DLC_CPU_CLONES compiles a hot loop for
// AVX-512, AVX2 (Haswell) and the baseline; an ifunc resolver picks one when
// the program loads (GCC's target_clones). It is empty under
// ThreadSanitizer, whose instrumented resolvers run before its runtime has
// started and crash at load time (docs/reliability.md); the loops then run
// their baseline build.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_RUNTIME_DNNL_CPUCLONES_H
#define DLC_LIB_RUNTIME_DNNL_CPUCLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                      \
    !defined(__SANITIZE_THREAD__)
#define DLC_CPU_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define DLC_CPU_CLONES
#endif

#endif // DLC_LIB_RUNTIME_DNNL_CPUCLONES_H

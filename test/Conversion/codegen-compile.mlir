// dl-codegen-compile (docs/codegen.md): the generated kernels become an ELF
// object for the CPU asked for, stored on the module with the CPU features
// the runtime checks before loading it; the nested module is gone.
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// RUN: dl-opt %s -dl-codegen-pointwise=cpu=x86-64-v3 -dl-codegen-compile=cpu=x86-64-v3 | FileCheck %s
// RUN: dl-opt %s -dl-codegen-pointwise=cpu=x86-64-v2 -dl-codegen-compile=cpu=x86-64-v2 | FileCheck %s --check-prefix=V2
// RUN: not dl-opt %s -dl-codegen-pointwise='vector-width=4 unroll=1' -dl-codegen-compile=cpu=no-such-cpu 2>&1 | FileCheck %s --check-prefix=BADCPU
// Without generated kernels there is nothing to compile.
// RUN: dl-opt %s -dl-codegen-compile=cpu=no-such-cpu | FileCheck %s --check-prefix=NONE

// CHECK: module attributes {dl.native_code = {cpu = "x86-64-v3", features = [{{.*}}"sse4.2"{{.*}}"avx"{{.*}}"avx2"{{.*}}], object = "\7FELF{{.*}}", symbols = ["dlc_gen_0"], triple = "x86_64-{{.*}}linux{{.*}}"}}
// CHECK-NOT: avx512f
// CHECK-NOT: dl_codegen
// CHECK: dl.fused(%arg0) {dl.codegen = "dlc_gen_0"}

// V2: features = [{{.*}}"sse4.2"{{.*}}]
// V2-NOT: "avx"

// BADCPU: error: dl-codegen-compile: unknown CPU 'no-such-cpu' for x86_64-{{.*}} (LLVM's names, e.g. x86-64-v3, skylake-avx512, znver4)

// NONE-NOT: dl.native_code

func.func @chain(%x: tensor<37xf32>) -> tensor<37xf32> {
  %0 = dl.fused(%x) : (tensor<37xf32>) -> tensor<37xf32> {
  ^bb0(%a: tensor<37xf32>):
    %1 = dl.bnll %a : (tensor<37xf32>) -> tensor<37xf32>
    %2 = dl.log %1 {shift = 1.0 : f64} : (tensor<37xf32>) -> tensor<37xf32>
    %3 = dl.swish %2 : (tensor<37xf32>) -> tensor<37xf32>
    dl.yield %3 : tensor<37xf32>
  }
  return %0 : tensor<37xf32>
}

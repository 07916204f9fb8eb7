// RUN: dl-opt %s -split-input-file -dl-select-kernels -verify-diagnostics | FileCheck %s --check-prefix=AUTO
// RUN: dl-opt %s -split-input-file -dl-select-kernels="impl=ref" -verify-diagnostics | FileCheck %s --check-prefix=REF
// RUN: dl-opt %s -split-input-file -dl-select-kernels="conv-algorithm=gemm" -verify-diagnostics | FileCheck %s --check-prefix=GEMM

// Every dl op except dl.param gets an implementation; convolutions get the
// requested algorithm.
// AUTO-LABEL: func.func @net
// AUTO: dl.param
// AUTO-NOT: dl.impl
// AUTO-SAME: tensor<8x3x3x3xf32>
// AUTO: dl.convolution {{.*}}dl.impl = "auto"
// AUTO: dl.relu {{.*}}dl.impl = "auto"
// REF: dl.convolution {{.*}}dl.impl = "ref"
// REF: dl.relu {{.*}}dl.impl = "ref"
// GEMM: dl.convolution {{.*}}dl.impl = "gemm"
// GEMM: dl.relu {{.*}}dl.impl = "auto"
func.func @net(%x: tensor<1x3x8x8xf32>) -> tensor<1x8x6x6xf32> {
  %w = dl.param {filler = {type = "xavier"}, name = "c/0"} : tensor<8x3x3x3xf32>
  %y = dl.convolution %x, %w {kernel = array<i64: 3, 3>, num_output = 8 : i64} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x6x6xf32>
  %z = dl.relu %y : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  return %z : tensor<1x8x6x6xf32>
}

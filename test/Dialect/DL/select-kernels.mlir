// RUN: dl-opt %s -split-input-file -dl-select-kernels -verify-diagnostics | FileCheck %s --check-prefix=AUTO
// RUN: dl-opt %s -split-input-file -dl-select-kernels="impl=ref" -verify-diagnostics | FileCheck %s --check-prefix=REF

// Every dl op except dl.param gets an implementation (convolution algorithms
// are chosen by dl-select-conv-algorithms, select-conv-algorithms.mlir).
// AUTO-LABEL: func.func @net
// AUTO: dl.param
// AUTO-NOT: dl.impl
// AUTO-SAME: tensor<8x3x3x3xf32>
// AUTO: dl.convolution {{.*}}dl.impl = "auto"
// AUTO: dl.relu {{.*}}dl.impl = "auto"
// REF: dl.convolution {{.*}}dl.impl = "ref"
// REF: dl.relu {{.*}}dl.impl = "ref"
func.func @net(%x: tensor<1x3x8x8xf32>) -> tensor<1x8x6x6xf32> {
  %w = dl.param {filler = {type = "xavier"}, name = "c/0"} : tensor<8x3x3x3xf32>
  %y = dl.convolution %x, %w {kernel = array<i64: 3, 3>, num_output = 8 : i64} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x6x6xf32>
  %z = dl.relu %y : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  return %z : tensor<1x8x6x6xf32>
}

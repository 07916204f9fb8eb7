// RUN: dl-opt %s -split-input-file -dl-select-kernels="conv-algorithm=winograd" -verify-diagnostics | FileCheck %s

// A 3x3, stride-1, ungrouped convolution takes Winograd.
// CHECK-LABEL: func.func @ok
// CHECK: dl.convolution {{.*}}dl.impl = "winograd"
func.func @ok(%x: tensor<1x3x8x8xf32>) -> tensor<1x8x6x6xf32> {
  %w = dl.param {filler = {type = "xavier"}, name = "c/0"} : tensor<8x3x3x3xf32>
  %y = dl.convolution %x, %w {kernel = array<i64: 3, 3>, num_output = 8 : i64} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

// Stride 2 does not qualify: the layer keeps the default with a warning.
// CHECK-LABEL: func.func @strided
// CHECK: dl.convolution {{.*}}dl.impl = "auto"
func.func @strided(%x: tensor<1x3x8x8xf32>) -> tensor<1x8x3x3xf32> {
  %w = dl.param {filler = {type = "xavier"}, name = "c/0"} : tensor<8x3x3x3xf32>
  // expected-warning @+1 {{Winograd does not apply (the stride is not 1); using the default algorithm}}
  %y = dl.convolution %x, %w {kernel = array<i64: 3, 3>, num_output = 8 : i64, stride = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x3x3xf32>
  return %y : tensor<1x8x3x3xf32>
}

// -----

// Grouped convolutions do not qualify either.
func.func @grouped(%x: tensor<1x4x8x8xf32>) -> tensor<1x8x6x6xf32> {
  %w = dl.param {filler = {type = "xavier"}, name = "c/0"} : tensor<8x2x3x3xf32>
  // expected-warning @+1 {{Winograd does not apply (the convolution is grouped)}}
  %y = dl.convolution %x, %w {group = 2 : i64, kernel = array<i64: 3, 3>, num_output = 8 : i64} : (tensor<1x4x8x8xf32>, tensor<8x2x3x3xf32>) -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

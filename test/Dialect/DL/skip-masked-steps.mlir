// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// dl-skip-masked-steps hands an LSTM the [T, N] mask its output is scaled
// by, when every reader is such a product (docs/recurrent.md).
// RUN: dl-opt %s -split-input-file -dl-skip-masked-steps | FileCheck %s

// CHECK-LABEL: func.func @masked_mean
// CHECK-SAME: %{{[^:]+}}: tensor<5x2x4xf32>, %{{[^:]+}}: tensor<5x2xf32>, %[[MASK:[^:]+]]: tensor<5x2xf32>
// CHECK: %[[H:.*]] = dl.lstm {{.*}} mask %[[MASK]] {num_output = 3 : i64}
// CHECK: dl.scale %[[H]], %[[MASK]]
func.func @masked_mean(%x: tensor<5x2x4xf32>, %c: tensor<5x2xf32>, %m: tensor<5x2xf32>, %wxc: tensor<12x4xf32>, %bc: tensor<12xf32>, %whc: tensor<12x3xf32>) -> tensor<5x2x3xf32> {
  %h = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 3 : i64} : (tensor<5x2x4xf32>, tensor<5x2xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12x3xf32>) -> tensor<5x2x3xf32>
  %y = dl.scale %h, %m {axis = 0 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>) -> tensor<5x2x3xf32>
  return %y : tensor<5x2x3xf32>
}

// -----

// Another reader sees the padded steps: no mask.
// CHECK-LABEL: func.func @other_reader
// CHECK-NOT: mask
func.func @other_reader(%x: tensor<5x2x4xf32>, %c: tensor<5x2xf32>, %m: tensor<5x2xf32>, %wxc: tensor<12x4xf32>, %bc: tensor<12xf32>, %whc: tensor<12x3xf32>) -> (tensor<5x2x3xf32>, tensor<5x2x3xf32>) {
  %h = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 3 : i64} : (tensor<5x2x4xf32>, tensor<5x2xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12x3xf32>) -> tensor<5x2x3xf32>
  %y = dl.scale %h, %m {axis = 0 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>) -> tensor<5x2x3xf32>
  %r = dl.relu %h : (tensor<5x2x3xf32>) -> tensor<5x2x3xf32>
  return %y, %r : tensor<5x2x3xf32>, tensor<5x2x3xf32>
}

// -----

// A per-channel scale (axis 2) is not a sequence mask.
// CHECK-LABEL: func.func @channel_scale
// CHECK-NOT: mask
func.func @channel_scale(%x: tensor<5x2x4xf32>, %c: tensor<5x2xf32>, %s: tensor<3xf32>, %wxc: tensor<12x4xf32>, %bc: tensor<12xf32>, %whc: tensor<12x3xf32>) -> tensor<5x2x3xf32> {
  %h = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 3 : i64} : (tensor<5x2x4xf32>, tensor<5x2xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12x3xf32>) -> tensor<5x2x3xf32>
  %y = dl.scale %h, %s {axis = 2 : i64} : (tensor<5x2x3xf32>, tensor<3xf32>) -> tensor<5x2x3xf32>
  return %y : tensor<5x2x3xf32>
}

// -----

// Two different masks: no mask.
// CHECK-LABEL: func.func @two_masks
// CHECK-NOT: mask
func.func @two_masks(%x: tensor<5x2x4xf32>, %c: tensor<5x2xf32>, %m: tensor<5x2xf32>, %m2: tensor<5x2xf32>, %wxc: tensor<12x4xf32>, %bc: tensor<12xf32>, %whc: tensor<12x3xf32>) -> (tensor<5x2x3xf32>, tensor<5x2x3xf32>) {
  %h = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 3 : i64} : (tensor<5x2x4xf32>, tensor<5x2xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12x3xf32>) -> tensor<5x2x3xf32>
  %y = dl.scale %h, %m {axis = 0 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>) -> tensor<5x2x3xf32>
  %z = dl.scale %h, %m2 {axis = 0 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>) -> tensor<5x2x3xf32>
  return %y, %z : tensor<5x2x3xf32>, tensor<5x2x3xf32>
}

// -----

// A learned scale's gradient reads every step: no mask.
// CHECK-LABEL: func.func @learned_scale
// CHECK-NOT: mask
func.func @learned_scale(%x: tensor<5x2x4xf32>, %c: tensor<5x2xf32>, %wxc: tensor<12x4xf32>, %bc: tensor<12xf32>, %whc: tensor<12x3xf32>) -> tensor<5x2x3xf32> {
  %h = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 3 : i64} : (tensor<5x2x4xf32>, tensor<5x2xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12x3xf32>) -> tensor<5x2x3xf32>
  %w = dl.param {name = "s/0", filler = {type = "constant", value = 1.0 : f64}} : tensor<5x2xf32>
  %y = dl.scale %h, %w {axis = 0 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>) -> tensor<5x2x3xf32>
  return %y : tensor<5x2x3xf32>
}

// -----

// force_backward differentiates the mask too: no mask.
// CHECK-LABEL: func.func @force_backward
// CHECK-NOT: mask
func.func @force_backward(%x: tensor<5x2x4xf32>, %c: tensor<5x2xf32>, %m: tensor<5x2xf32>, %wxc: tensor<12x4xf32>, %bc: tensor<12xf32>, %whc: tensor<12x3xf32>) -> tensor<5x2x3xf32> attributes {dl.force_backward = true} {
  %h = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 3 : i64} : (tensor<5x2x4xf32>, tensor<5x2xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12x3xf32>) -> tensor<5x2x3xf32>
  %y = dl.scale %h, %m {axis = 0 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>) -> tensor<5x2x3xf32>
  return %y : tensor<5x2x3xf32>
}

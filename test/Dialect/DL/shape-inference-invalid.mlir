// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// Inconsistencies that only show once shapes are propagated: the pass fails
// with the op's Caffe-style diagnostic.
// RUN: dl-opt %s -split-input-file -dl-shape-inference -verify-diagnostics

// LeNet with a 32x32 input: ip1 expects 800 inputs but gets 50*5*5 = 1250.
func.func @lenet_wrong_input(%data: tensor<1x1x32x32xf32>) -> tensor<*xf32> {
  %w1 = dl.param {name = "conv1_w", filler = {type = "xavier"}} : tensor<20x1x5x5xf32>
  %c1 = dl.convolution %data, %w1 {num_output = 20 : i64, kernel = array<i64: 5, 5>} : (tensor<1x1x32x32xf32>, tensor<20x1x5x5xf32>) -> tensor<*xf32>
  %p1 = dl.pooling %c1 {pool = "max", kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<*xf32>) -> tensor<*xf32>
  %w2 = dl.param {name = "conv2_w", filler = {type = "xavier"}} : tensor<50x20x5x5xf32>
  %c2 = dl.convolution %p1, %w2 {num_output = 50 : i64, kernel = array<i64: 5, 5>} : (tensor<*xf32>, tensor<50x20x5x5xf32>) -> tensor<*xf32>
  %p2 = dl.pooling %c2 {pool = "max", kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<*xf32>) -> tensor<*xf32>
  %w3 = dl.param {name = "ip1_w", filler = {type = "xavier"}} : tensor<500x800xf32>
  // expected-error @+1 {{inner_product weight shape [500, 800] does not match num_output 500 and input size 1250 (axis 1)}}
  %f1 = dl.inner_product %p2, %w3 {num_output = 500 : i64} : (tensor<*xf32>, tensor<500x800xf32>) -> tensor<*xf32>
  return %f1 : tensor<*xf32>
}

// -----

// A residual sum of branches whose shapes differ after propagation.
func.func @residual_mismatch(%x: tensor<1x8x9x9xf32>) -> tensor<*xf32> {
  %p = dl.pooling %x {pool = "max", kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>} : (tensor<1x8x9x9xf32>) -> tensor<*xf32>
  %r = dl.relu %x : (tensor<1x8x9x9xf32>) -> tensor<*xf32>
  // expected-error @+1 {{eltwise operands must have identical shapes, got [1, 8, 4, 4] and [1, 8, 9, 9]}}
  %s = dl.eltwise %p, %r : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %s : tensor<*xf32>
}

// -----

// The kernel no longer fits once the real input size is known.
func.func @kernel_after_pooling(%x: tensor<1x3x8x8xf32>) -> tensor<*xf32> {
  %p = dl.pooling %x {pool = "ave", global_pooling = true} : (tensor<1x3x8x8xf32>) -> tensor<*xf32>
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<4x3x3x3xf32>
  // expected-error @+1 {{kernel (dilated) 3x3 is larger than padded input 1x1}}
  %c = dl.convolution %p, %w {num_output = 4 : i64, kernel = array<i64: 3, 3>} : (tensor<*xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32>
  return %c : tensor<*xf32>
}

// -----

// Generic-form ops (as the importer creates them) are inferred the same way.
func.func @generic_concat(%a: tensor<1x2x4x4xf32>, %b: tensor<1x2x5x4xf32>) -> tensor<*xf32> {
  %r = "dl.relu"(%b) : (tensor<1x2x5x4xf32>) -> tensor<*xf32>
  // expected-error @+1 {{concat input 1 shape [1, 2, 5, 4] does not match input 0 shape [1, 2, 4, 4] outside the concat axis 1}}
  %c = "dl.concat"(%a, %r) {axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %c : tensor<*xf32>
}

// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// The Normalization family's shape and parameter rules (lib/Ops/Normalization.cpp): one
// case per rule, with Caffe's messages.
// RUN: dl-opt %s -split-input-file -verify-diagnostics

func.func @softmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{softmax axis 2 out of range for rank 2}}
  %0 = dl.softmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_norm_mean(%x: tensor<2x3x4x4xf32>, %m: tensor<4xf32>, %v: tensor<3xf32>, %f: tensor<1xf32>) {
  // expected-error @+1 {{batch_norm mean shape [4] does not match expected [3] (channels)}}
  %0 = dl.batch_norm %x, %m, %v, %f : (tensor<2x3x4x4xf32>, tensor<4xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_norm_factor(%x: tensor<2x3x4x4xf32>, %m: tensor<3xf32>, %f: tensor<3xf32>) {
  // expected-error @+1 {{batch_norm scale_factor shape [3] does not match expected [1]}}
  %0 = dl.batch_norm %x, %m, %m, %f : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @scale_shape(%x: tensor<2x3x4x4xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{scale shape [4] does not match input shape [2, 3, 4, 4] at axis 1}}
  %0 = dl.scale %x, %s : (tensor<2x3x4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @scale_extent(%x: tensor<2x3x4x4xf32>, %s: tensor<4x4xf32>) {
  // expected-error @+1 {{scale shape [4, 4] extends past the input shape [2, 3, 4, 4] when applied from axis 3}}
  %0 = dl.scale %x, %s {axis = 3 : i64} : (tensor<2x3x4x4xf32>, tensor<4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @scale_bias(%x: tensor<2x3x4x4xf32>, %s: tensor<3xf32>, %b: tensor<1xf32>) {
  // expected-error @+1 {{scale bias shape [1] does not match expected [3] (the scale's shape)}}
  %0 = dl.scale %x, %s, %b : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @scale_num_axes(%x: tensor<2x3x4x4xf32>, %s: tensor<3xf32>) {
  // expected-error @+1 {{num_axes must be non-negative, or -1 to extend to the end of the input, got -2}}
  %0 = dl.scale %x, %s {num_axes = -2 : i64} : (tensor<2x3x4x4xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @bias_axis(%x: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{bias axis 5 out of range for rank 2}}
  %0 = dl.bias %x, %b {axis = 5 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @mvn_rank(%x: tensor<1x1x1x1x2xf32>) {
  // expected-error @+1 {{mvn input must have 1 to 4 axes (num, channels, height, width), got rank 5}}
  %0 = dl.mvn %x : (tensor<1x1x1x1x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @mvn_eps(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{mvn eps must be non-negative, got -1}}
  %0 = dl.mvn %x {eps = -1.0 : f64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_norm_scalar(%x: tensor<f32>, %m: tensor<1xf32>) {
  // expected-error @+1 {{batch_norm input must have at least 1 axis}}
  %0 = dl.batch_norm %x, %m, %m, %m : (tensor<f32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<*xf32>
  return
}

// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// The Neuron family's shape and parameter rules (lib/Ops/Neuron.cpp): one
// case per rule, with Caffe's messages.
// RUN: dl-opt %s -split-input-file -verify-diagnostics

func.func @dropout_ratio(%x: tensor<3x5xf32>) {
  // expected-error @+1 {{dropout_ratio must be in [0, 1), got 1}}
  %0 = dl.dropout %x {ratio = 1.0 : f64} : (tensor<3x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @relu_result(%x: tensor<3x5xf32>) {
  // expected-error @+1 {{result type(s) 'tensor<3x4xf32>' incompatible with the inferred type(s) 'tensor<3x5xf32>'}}
  %0 = dl.relu %x : (tensor<3x5xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @relu_element_type(%x: tensor<3x5xf16>) {
  // expected-error @+1 {{operand #0 must be tensor of 32-bit float values}}
  %0 = dl.relu %x : (tensor<3x5xf16>) -> tensor<*xf32>
  return
}

// -----

func.func @prelu_slope(%x: tensor<2x3x4x4xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{prelu slope shape [4] does not match expected [3] (channels)}}
  %0 = dl.prelu %x, %s : (tensor<2x3x4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @prelu_shared(%x: tensor<2x3x4x4xf32>, %s: tensor<3xf32>) {
  // expected-error @+1 {{prelu slope shape [3] must be [1] (or a scalar) with channel_shared}}
  %0 = dl.prelu %x, %s {channel_shared = true} : (tensor<2x3x4x4xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @tops_attr(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'dl.tops' must be an array of strings}}
  %0 = dl.relu %x {dl.tops = "y"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @exp_base(%x: tensor<3xf32>) {
  // expected-error @+1 {{exp base must be strictly positive (or -1 for e), got -2}}
  %0 = dl.exp %x {base = -2.0 : f64} : (tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @log_base(%x: tensor<3xf32>) {
  // expected-error @+1 {{log base must be strictly positive (or -1 for e), got 0}}
  %0 = dl.log %x {base = 0.0 : f64} : (tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @clip_bounds(%x: tensor<3xf32>) {
  // expected-error @+1 {{requires attribute 'max'}}
  %0 = dl.clip %x {min = 0.0 : f64} : (tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @threshold_result(%x: tensor<3xf32>) {
  // expected-error @+1 {{result type(s) 'tensor<4xf32>' incompatible with the inferred type(s) 'tensor<3xf32>'}}
  %0 = dl.threshold %x : (tensor<3xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @swish_beta_type(%x: tensor<3xf32>) {
  // expected-error @+1 {{attribute 'beta' failed to satisfy constraint: 64-bit float attribute}}
  %0 = dl.swish %x {beta = 1 : i64} : (tensor<3xf32>) -> tensor<*xf32>
  return
}

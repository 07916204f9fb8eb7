// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// The Pooling family's shape and parameter rules (lib/Ops/Pooling.cpp): one
// case per rule, with Caffe's messages.
// RUN: dl-opt %s -split-input-file -verify-diagnostics

func.func @pool_method(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{pool must be one of "max", "ave", "stochastic", got "min"}}
  %0 = dl.pooling %x {pool = "min", kernel = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_round_mode(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{round_mode must be one of "ceil", "floor", got "up"}}
  %0 = dl.pooling %x {kernel = array<i64: 2, 2>, round_mode = "up"} : (tensor<1x3x8x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_kernel_arity(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{pooling kernel must have 2 entries (kernel_h, kernel_w), got 0}}
  %0 = dl.pooling %x {pool = "max"} : (tensor<1x3x8x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_kernel_zero(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{kernel must be positive, got 0}}
  %0 = dl.pooling %x {kernel = array<i64: 0, 2>} : (tensor<1x3x8x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_global_kernel(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{with global_pooling the kernel size cannot be specified (kernel must be empty or [0, 0])}}
  %0 = dl.pooling %x {global_pooling = true, kernel = array<i64: 8, 8>} : (tensor<1x3x8x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_global_stride(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{with global_pooling only pad = 0 and stride = 1 are allowed}}
  %0 = dl.pooling %x {global_pooling = true, stride = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_pad_kernel(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{pad 2x2 must be smaller than kernel 2x2}}
  %0 = dl.pooling %x {kernel = array<i64: 2, 2>, pad = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_stochastic_pad(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{padding is implemented only for average and max pooling}}
  %0 = dl.pooling %x {pool = "stochastic", kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_rank(%x: tensor<3x8x8xf32>) {
  // expected-error @+1 {{pooling input must have 4 axes (num, channels, height, width), got rank 3}}
  %0 = dl.pooling %x {kernel = array<i64: 2, 2>} : (tensor<3x8x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_kernel_large(%x: tensor<1x3x5x5xf32>) {
  // expected-error @+1 {{kernel 7x7 is larger than padded input 5x5}}
  %0 = dl.pooling %x {kernel = array<i64: 7, 7>} : (tensor<1x3x5x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lrn_even(%x: tensor<1x3x5x5xf32>) {
  // expected-error @+1 {{LRN only supports odd positive values for local_size, got 4}}
  %0 = dl.lrn %x {local_size = 4 : i64} : (tensor<1x3x5x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lrn_region(%x: tensor<1x3x5x5xf32>) {
  // expected-error @+1 {{norm_region must be one of "across_channels", "within_channel", got "across"}}
  %0 = dl.lrn %x {norm_region = "across"} : (tensor<1x3x5x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lrn_rank(%x: tensor<3x5xf32>) {
  // expected-error @+1 {{lrn input must have 4 axes (num, channels, height, width), got rank 2}}
  %0 = dl.lrn %x : (tensor<3x5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @spp_height(%x: tensor<1x1x4x4xf32>) {
  // expected-error @+1 {{spp pyramid_height must be in [1, 30], got 0}}
  %0 = dl.spp %x {pyramid_height = 0 : i64} : (tensor<1x1x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @spp_rank(%x: tensor<1x4x4xf32>) {
  // expected-error @+1 {{spp input must have 4 axes (num, channels, height, width), got rank 3}}
  %0 = dl.spp %x {pyramid_height = 2 : i64} : (tensor<1x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @spp_too_fine(%x: tensor<1x1x2x2xf32>) {
  // expected-error @+1 {{spp level 2: pad 1x1 must be smaller than kernel 1x1}}
  %0 = dl.spp %x {pyramid_height = 3 : i64} : (tensor<1x1x2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @spp_pool(%x: tensor<1x1x4x4xf32>) {
  // expected-error @+1 {{pool must be one of "max", "ave", "stochastic", got "min"}}
  %0 = dl.spp %x {pyramid_height = 1 : i64, pool = "min"} : (tensor<1x1x4x4xf32>) -> tensor<*xf32>
  return
}

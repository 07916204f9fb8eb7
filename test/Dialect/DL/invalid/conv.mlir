// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// The Conv family's shape and parameter rules (lib/Ops/Conv.cpp): one
// case per rule, with Caffe's messages.
// RUN: dl-opt %s -split-input-file -verify-diagnostics

func.func @conv_kernel_too_large(%x: tensor<1x3x5x5xf32>, %w: tensor<4x3x4x4xf32>) {
  // expected-error @+1 {{kernel (dilated) 7x7 is larger than padded input 5x5}}
  %0 = dl.convolution %x, %w {num_output = 4 : i64, kernel = array<i64: 4, 4>, dilation = array<i64: 2, 2>} : (tensor<1x3x5x5xf32>, tensor<4x3x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_group_channels(%x: tensor<1x64x8x8xf32>, %w: tensor<6x21x3x3xf32>) {
  // expected-error @+1 {{group 3 does not divide input channels 64}}
  %0 = dl.convolution %x, %w {num_output = 6 : i64, kernel = array<i64: 3, 3>, group = 3 : i64} : (tensor<1x64x8x8xf32>, tensor<6x21x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_group_num_output(%x: tensor<1x4x8x8xf32>, %w: tensor<10x1x3x3xf32>) {
  // expected-error @+1 {{num_output 10 not divisible by group 4}}
  %0 = dl.convolution %x, %w {num_output = 10 : i64, kernel = array<i64: 3, 3>, group = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<10x1x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_stride_zero(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{stride must be positive, got 0}}
  %0 = dl.convolution %x, %w {num_output = 4 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 0, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_pad_negative(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{pad must be non-negative, got -1}}
  %0 = dl.convolution %x, %w {num_output = 4 : i64, kernel = array<i64: 3, 3>, pad = array<i64: -1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_stride_arity(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{stride must have 2 entries (one per spatial axis), got 3}}
  %0 = dl.convolution %x, %w {num_output = 4 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_input_rank(%x: tensor<1x3x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{convolution input rank 3 does not match 2 spatial axes of the kernel (expected rank 4)}}
  %0 = dl.convolution %x, %w {num_output = 4 : i64, kernel = array<i64: 3, 3>} : (tensor<1x3x8xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_weight(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{convolution weight shape [4, 2, 3, 3] does not match expected [4, 3, 3, 3] (num_output, channels/group, kernel...)}}
  %0 = dl.convolution %x, %w {num_output = 4 : i64, kernel = array<i64: 3, 3>} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{convolution bias shape [5] does not match expected [4] (num_output)}}
  %0 = dl.convolution %x, %w, %b {num_output = 4 : i64, kernel = array<i64: 3, 3>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_missing_num_output(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{requires attribute 'num_output'}}
  %0 = dl.convolution %x, %w {kernel = array<i64: 3, 3>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_attr_type(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{attribute 'num_output' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = dl.convolution %x, %w {num_output = "4", kernel = array<i64: 3, 3>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_result_type(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{result type(s) 'tensor<1x4x8x8xf32>' incompatible with the inferred type(s) 'tensor<1x4x6x6xf32>'}}
  %0 = dl.convolution %x, %w {num_output = 4 : i64, kernel = array<i64: 3, 3>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @deconv_weight(%x: tensor<1x4x5x5xf32>, %w: tensor<4x4x4x4xf32>) {
  // expected-error @+1 {{deconvolution weight shape [4, 4, 4, 4] does not match expected [4, 2, 4, 4] (channels, num_output/group, kernel...)}}
  %0 = dl.deconvolution %x, %w {num_output = 4 : i64, group = 2 : i64, kernel = array<i64: 4, 4>} : (tensor<1x4x5x5xf32>, tensor<4x4x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @deconv_output(%x: tensor<1x4x1x1xf32>, %w: tensor<4x4x1x1xf32>) {
  // expected-error @+1 {{deconvolution output size -1 is not positive at spatial axis 0}}
  %0 = dl.deconvolution %x, %w {num_output = 4 : i64, kernel = array<i64: 1, 1>, pad = array<i64: 1, 1>} : (tensor<1x4x1x1xf32>, tensor<4x4x1x1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @ip_weight(%x: tensor<2x801xf32>, %w: tensor<10x800xf32>) {
  // expected-error @+1 {{inner_product weight shape [10, 800] does not match num_output 10 and input size 801 (axis 1)}}
  %0 = dl.inner_product %x, %w {num_output = 10 : i64} : (tensor<2x801xf32>, tensor<10x800xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @ip_transpose(%x: tensor<2x8xf32>, %w: tensor<10x8xf32>) {
  // expected-error @+1 {{inner_product weight shape [10, 8] does not match num_output 10 and input size 8 (axis 1) with transpose}}
  %0 = dl.inner_product %x, %w {num_output = 10 : i64, transpose = true} : (tensor<2x8xf32>, tensor<10x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @ip_axis(%x: tensor<2x8xf32>, %w: tensor<10x8xf32>) {
  // expected-error @+1 {{inner_product axis 2 out of range for rank 2}}
  %0 = dl.inner_product %x, %w {num_output = 10 : i64, axis = 2 : i64} : (tensor<2x8xf32>, tensor<10x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @ip_num_output(%x: tensor<2x8xf32>, %w: tensor<10x8xf32>) {
  // expected-error @+1 {{num_output must be positive, got 0}}
  %0 = dl.inner_product %x, %w {num_output = 0 : i64} : (tensor<2x8xf32>, tensor<10x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @im2col_kernel(%x: tensor<1x1x2x2xf32>) {
  // expected-error @+1 {{kernel (dilated) 3x3 is larger than padded input 2x2}}
  %0 = dl.im2col %x {kernel = array<i64: 3, 3>} : (tensor<1x1x2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @im2col_stride(%x: tensor<1x1x4x4xf32>) {
  // expected-error @+1 {{stride must be positive, got 0}}
  %0 = dl.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 0, 1>} : (tensor<1x1x4x4xf32>) -> tensor<*xf32>
  return
}

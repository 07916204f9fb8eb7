// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// Verifier and Caffe shape-rule errors, one case per rule.
// RUN: dl-opt %s -split-input-file -verify-diagnostics

func.func @param_no_type() {
  // expected-error @+1 {{filler must have a string 'type'}}
  %0 = dl.param {name = "w", filler = {value = 1.0}} : tensor<2xf32>
  return
}

// -----

func.func @param_bad_type() {
  // expected-error @+1 {{filler type "foo" is not one of constant, gaussian, xavier, msra, uniform, positive_unitball, bilinear}}
  %0 = dl.param {name = "w", filler = {type = "foo"}} : tensor<2xf32>
  return
}

// -----

func.func @param_unknown_key() {
  // expected-error @+1 {{unknown filler key 'stddev'}}
  %0 = dl.param {name = "w", filler = {type = "gaussian", stddev = 1.0}} : tensor<2xf32>
  return
}

// -----

func.func @param_variance_norm() {
  // expected-error @+1 {{filler variance_norm must be one of "fan_in", "fan_out", "average"}}
  %0 = dl.param {name = "w", filler = {type = "xavier", variance_norm = "fan"}} : tensor<2xf32>
  return
}

// -----

func.func @param_value_type() {
  // expected-error @+1 {{filler value must be a number}}
  %0 = dl.param {name = "w", filler = {type = "constant", value = "one"}} : tensor<2xf32>
  return
}

// -----

func.func @param_uniform_range() {
  // expected-error @+1 {{uniform filler needs min <= max}}
  %0 = dl.param {name = "w", filler = {type = "uniform", min = 1.0, max = 0.5}} : tensor<2xf32>
  return
}

// -----

func.func @param_dynamic() {
  // expected-error @+1 {{must be statically shaped tensor of 32-bit float values}}
  %0 = dl.param {name = "w", filler = {type = "constant"}} : tensor<?xf32>
  return
}

// -----

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

func.func @eltwise_shapes(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+1 {{eltwise operands must have identical shapes, got [2, 3] and [2, 4]}}
  %0 = dl.eltwise %a, %b : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @eltwise_coeff_count(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{eltwise takes one coefficient per input: got 3 coefficients for 2 inputs}}
  %0 = dl.eltwise %a, %a {coeff = array<f64: 1.0, 1.0, 1.0>} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @eltwise_coeff_prod(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{eltwise only takes coefficients for summation}}
  %0 = dl.eltwise %a, %a {operation = "prod", coeff = array<f64: 1.0, 1.0>} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @eltwise_operation(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{eltwise operation must be one of "prod", "sum", "max", got "min"}}
  %0 = dl.eltwise %a, %a {operation = "min"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @eltwise_one_input(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{eltwise needs at least 2 inputs, got 1}}
  %0 = dl.eltwise %a : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<1x2x3x4xf32>) {
  // expected-error @+1 {{concat axis 4 out of range for rank 4}}
  %0 = dl.concat %a, %a {axis = 4 : i64} : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @concat_dims(%a: tensor<1x2x3x4xf32>, %b: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{concat input 1 shape [1, 2, 4, 4] does not match input 0 shape [1, 2, 3, 4] outside the concat axis 1}}
  %0 = dl.concat %a, %b : (tensor<1x2x3x4xf32>, tensor<1x2x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<1x2x3x4xf32>, %b: tensor<1x2x3xf32>) {
  // expected-error @+1 {{concat inputs must have the same rank}}
  %0 = dl.concat %a, %b : (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @slice_points(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{slice points must be strictly increasing and inside (0, 12), got [4, 4]}}
  %0:3 = dl.slice %x {slice_points = array<i64: 4, 4>} : (tensor<2x12xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @slice_point_range(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{slice points must be strictly increasing and inside (0, 12), got [12]}}
  %0:2 = dl.slice %x {slice_points = array<i64: 12>} : (tensor<2x12xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @slice_count(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{slice with 1 slice_points has 2 outputs, got 3}}
  %0:3 = dl.slice %x {slice_points = array<i64: 4>} : (tensor<2x12xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @slice_equal(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{slice axis 1 dimension 12 is not divisible into 5 equal parts}}
  %0:5 = dl.slice %x : (tensor<2x12xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @crop_small(%x: tensor<1x3x8x8xf32>, %r: tensor<1x3x6x6xf32>) {
  // expected-error @+1 {{crop: input size 8 at axis 2 minus offset 3 is smaller than the reference size 6}}
  %0 = dl.crop %x, %r {offset = array<i64: 3>} : (tensor<1x3x8x8xf32>, tensor<1x3x6x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @crop_offsets(%x: tensor<1x3x8x8xf32>, %r: tensor<1x3x6x6xf32>) {
  // expected-error @+1 {{crop needs 0, 1 or 2 offsets (one per axis from 2), got 3}}
  %0 = dl.crop %x, %r {offset = array<i64: 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<1x3x6x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @crop_rank(%x: tensor<1x3x8x8xf32>, %r: tensor<3x6x6xf32>) {
  // expected-error @+1 {{crop input [1, 3, 8, 8] and reference [3, 6, 6] must have the same rank}}
  %0 = dl.crop %x, %r : (tensor<1x3x8x8xf32>, tensor<3x6x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @flatten_axes(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{flatten end_axis 1 is before axis 2}}
  %0 = dl.flatten %x {axis = 2 : i64, end_axis = 1 : i64} : (tensor<1x3x8x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_two_inferred(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{new shape contains multiple -1 dims; at most a single (1) value of -1 may be specified}}
  %0 = dl.reshape %x {shape = array<i64: -1, -1>} : (tensor<2x12xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{reshape output count 25 (shape [5, 5]) must match input count 24}}
  %0 = dl.reshape %x {shape = array<i64: 5, 5>} : (tensor<2x12xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_divisible(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{bottom count (24) must be divisible by the product of the specified dimensions (5)}}
  %0 = dl.reshape %x {shape = array<i64: 5, -1>} : (tensor<2x12xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_copy(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{new shape contains a 0, but there was no corresponding bottom axis to copy}}
  %0 = dl.reshape %x {shape = array<i64: 0, 0, 0>} : (tensor<2x12xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @embed_weight(%i: tensor<5xf32>, %w: tensor<16x100xf32>) {
  // expected-error @+1 {{embed weight shape [16, 100] does not match expected [100, 16] (input_dim, num_output)}}
  %0 = dl.embed %i, %w {num_output = 16 : i64, input_dim = 100 : i64} : (tensor<5xf32>, tensor<16x100xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lstm_cont(%x: tensor<4x2x5xf32>, %c: tensor<4x3xf32>, %wxc: tensor<32x5xf32>, %bc: tensor<32xf32>, %whc: tensor<32x8xf32>) {
  // expected-error @+1 {{lstm cont shape [4, 3] does not match expected [4, 2] (#timesteps, #streams)}}
  %0 = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x3xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lstm_w_hc(%x: tensor<4x2x5xf32>, %c: tensor<4x2xf32>, %wxc: tensor<32x5xf32>, %bc: tensor<32xf32>, %whc: tensor<32x4xf32>) {
  // expected-error @+1 {{lstm w_hc shape [32, 4] does not match expected [32, 8] (4 * num_output, num_output)}}
  %0 = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lstm_expose_hidden(%x: tensor<4x2x5xf32>, %c: tensor<4x2xf32>, %wxc: tensor<32x5xf32>, %bc: tensor<32xf32>, %whc: tensor<32x8xf32>) {
  // expected-error @+1 {{lstm expose_hidden (extra h0/c0 inputs and hT/cT outputs) is not supported}}
  %0 = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 8 : i64, expose_hidden = true} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lstm_static_pair(%x: tensor<4x2x5xf32>, %c: tensor<4x2xf32>, %xs: tensor<2x3xf32>, %wxc: tensor<32x5xf32>, %bc: tensor<32xf32>, %whc: tensor<32x8xf32>) {
  // expected-error @+1 {{lstm x_static and w_xc_static must be given together}}
  %0 = dl.lstm %x, %c, x_static %xs, %wxc, %bc, %whc {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<2x3xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @softmax_loss_labels(%l: tensor<4x10x2xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{softmax_with_loss: number of labels 4 (label shape [4]) must match outer * inner = 8 of logits [4, 10, 2] at axis 1}}
  %0 = dl.softmax_with_loss %l, %y : (tensor<4x10x2xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @softmax_loss_normalization(%l: tensor<4x10xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{normalization must be one of "full", "valid", "batch_size", "none", got "mean"}}
  %0 = dl.softmax_with_loss %l, %y {normalization = "mean"} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @loss_not_scalar(%l: tensor<4x10xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{result type(s) 'tensor<4xf32>' incompatible with the inferred type(s) 'tensor<f32>'}}
  %0 = dl.softmax_with_loss %l, %y : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @euclidean_count(%a: tensor<4x10xf32>, %b: tensor<4x9xf32>) {
  // expected-error @+1 {{euclidean_loss inputs must have the same count, got [4, 10] and [4, 9]}}
  %0 = dl.euclidean_loss %a, %b : (tensor<4x10xf32>, tensor<4x9xf32>) -> tensor<f32>
  return
}

// -----

func.func @euclidean_num(%a: tensor<4x10xf32>, %b: tensor<2x20xf32>) {
  // expected-error @+1 {{euclidean_loss: the data and label should have the same first dimension, got [4, 10] and [2, 20]}}
  %0 = dl.euclidean_loss %a, %b : (tensor<4x10xf32>, tensor<2x20xf32>) -> tensor<f32>
  return
}

// -----

func.func @sigmoid_ce_count(%a: tensor<4x10xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{sigmoid_cross_entropy_loss inputs must have the same count, got [4, 10] and [4, 5]}}
  %0 = dl.sigmoid_cross_entropy_loss %a, %b : (tensor<4x10xf32>, tensor<4x5xf32>) -> tensor<f32>
  return
}

// -----

func.func @contrastive_channels(%a: tensor<4x10xf32>, %b: tensor<4x5xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{contrastive_loss a and b must have the same channels, got [4, 10] and [4, 5]}}
  %0 = dl.contrastive_loss %a, %b, %s : (tensor<4x10xf32>, tensor<4x5xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @contrastive_spatial(%a: tensor<4x10x2x1xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{contrastive_loss a shape [4, 10, 2, 1] must be [N, C] or [N, C, 1, 1]}}
  %0 = dl.contrastive_loss %a, %a, %s : (tensor<4x10x2x1xf32>, tensor<4x10x2x1xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @contrastive_similar(%a: tensor<4x10xf32>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{contrastive_loss similar shape [4, 2] must be [N] or [N, 1, 1, 1]}}
  %0 = dl.contrastive_loss %a, %a, %s : (tensor<4x10xf32>, tensor<4x10xf32>, tensor<4x2xf32>) -> tensor<f32>
  return
}

// -----

func.func @accuracy_top_k(%l: tensor<4x10xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{accuracy top_k 11 must be less than or equal to the number of classes 10}}
  %0 = dl.accuracy %l, %y {top_k = 11 : i64} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @accuracy_labels(%l: tensor<4x10xf32>, %y: tensor<5xf32>) {
  // expected-error @+1 {{accuracy: number of labels 5 (label shape [5]) must match outer * inner = 4 of logits [4, 10] at axis 1}}
  %0 = dl.accuracy %l, %y : (tensor<4x10xf32>, tensor<5xf32>) -> tensor<f32>
  return
}

// -----

func.func @silence_empty() {
  // expected-error @+1 {{silence needs at least 1 input}}
  "dl.silence"() : () -> ()
  return
}

// -----

func.func @tops_attr(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'dl.tops' must be an array of strings}}
  %0 = dl.relu %x {dl.tops = "y"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

// expected-error @+1 {{'dl.name' on a function argument must be a string attribute}}
func.func @name_attr(%x: tensor<2x3xf32> {dl.name = 3 : i64}) {
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

func.func @reduction_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{reduction axis 2 out of range for rank 2}}
  %0 = dl.reduction %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reduction_operation(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{reduction operation must be one of "sum", "asum", "sumsq", "mean", got "max"}}
  %0 = dl.reduction %x {operation = "max"} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @argmax_top_k(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{argmax top_k must be at least 1, got 0}}
  %0 = dl.argmax %x {top_k = 0 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @argmax_top_k_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{argmax top_k 3 must be less than or equal to the dimension of the axis (2)}}
  %0 = dl.argmax %x {top_k = 3 : i64, axis = 0 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @argmax_top_k_flat(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{argmax top_k 4 must be less than or equal to the dimension of the flattened input per item (3)}}
  %0 = dl.argmax %x {top_k = 4 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @argmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{argmax axis 2 out of range for rank 2}}
  %0 = dl.argmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @tile_tiles(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{tile tiles must be positive, got 0}}
  %0 = dl.tile %x {tiles = 0 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @tile_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{tile axis 2 out of range for rank 2}}
  %0 = dl.tile %x {tiles = 2 : i64, axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_reindex_indices(%x: tensor<4x3xf32>, %i: tensor<2x2xf32>) {
  // expected-error @+1 {{batch_reindex indices must have 1 axis, got shape [2, 2]}}
  %0 = dl.batch_reindex %x, %i : (tensor<4x3xf32>, tensor<2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_reindex_scalar(%x: tensor<f32>, %i: tensor<2xf32>) {
  // expected-error @+1 {{batch_reindex input must have at least 1 axis}}
  %0 = dl.batch_reindex %x, %i : (tensor<f32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rnn_num_output(%x: tensor<5x2x3xf32>, %c: tensor<5x2xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>, %h: tensor<4x4xf32>) {
  // expected-error @+1 {{rnn num_output must be positive, got 0}}
  %0 = dl.rnn %x, %c, %w, %b, %h, %h, %b {num_output = 0 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rnn_expose_hidden(%x: tensor<5x2x3xf32>, %c: tensor<5x2xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>, %h: tensor<4x4xf32>) {
  // expected-error @+1 {{rnn expose_hidden (an extra h0 input and hT output) is not supported}}
  %0 = dl.rnn %x, %c, %w, %b, %h, %h, %b {num_output = 4 : i64, expose_hidden = true} : (tensor<5x2x3xf32>, tensor<5x2xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rnn_static(%x: tensor<5x2x3xf32>, %c: tensor<5x2xf32>, %s: tensor<2x6xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>, %h: tensor<4x4xf32>) {
  // expected-error @+1 {{rnn x_static and w_xh_static must be given together}}
  %0 = dl.rnn %x, %c, x_static %s, %w, %b, %h, %h, %b {num_output = 4 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>, tensor<2x6xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rnn_w_hh(%x: tensor<5x2x3xf32>, %c: tensor<5x2xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>, %h: tensor<4x4xf32>, %bad: tensor<4x3xf32>) {
  // expected-error @+1 {{rnn w_hh shape [4, 3] does not match expected [4, 4] (num_output, num_output)}}
  %0 = dl.rnn %x, %c, %w, %b, %bad, %h, %b {num_output = 4 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x3xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rnn_cont(%x: tensor<5x2x3xf32>, %c: tensor<5x3xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>, %h: tensor<4x4xf32>) {
  // expected-error @+1 {{rnn cont shape [5, 3] does not match expected [5, 2] (#timesteps, #streams)}}
  %0 = dl.rnn %x, %c, %w, %b, %h, %h, %b {num_output = 4 : i64} : (tensor<5x2x3xf32>, tensor<5x3xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rnn_x_rank(%x: tensor<5xf32>, %c: tensor<5x2xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>, %h: tensor<4x4xf32>) {
  // expected-error @+1 {{rnn x must have at least 2 axes (#timesteps, #streams, ...), got rank 1}}
  %0 = dl.rnn %x, %c, %w, %b, %h, %h, %b {num_output = 4 : i64} : (tensor<5xf32>, tensor<5x2xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @hinge_labels(%x: tensor<4x10xf32>, %l: tensor<4x2xf32>) {
  // expected-error @+1 {{hinge_loss takes one label per item: label shape [4, 2] for input [4, 10]}}
  %0 = dl.hinge_loss %x, %l : (tensor<4x10xf32>, tensor<4x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @hinge_first_dim(%x: tensor<4x10xf32>, %l: tensor<2xf32>) {
  // expected-error @+1 {{hinge_loss: the data and label should have the same first dimension, got [4, 10] and [2]}}
  %0 = dl.hinge_loss %x, %l : (tensor<4x10xf32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @hinge_norm(%x: tensor<4x10xf32>, %l: tensor<4xf32>) {
  // expected-error @+1 {{norm must be one of "l1", "l2", got "l3"}}
  %0 = dl.hinge_loss %x, %l {norm = "l3"} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @infogain_matrix(%x: tensor<4x10xf32>, %l: tensor<4xf32>, %h: tensor<9x9xf32>) {
  // expected-error @+1 {{infogain_loss infogain shape [9, 9] must hold 10 x 10 values (the number of classes squared)}}
  %0 = dl.infogain_loss %x, %l, %h : (tensor<4x10xf32>, tensor<4xf32>, tensor<9x9xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @infogain_labels(%x: tensor<4x10x2xf32>, %l: tensor<4xf32>, %h: tensor<10x10xf32>) {
  // expected-error @+1 {{infogain_loss: number of labels 4 (label shape [4]) must match outer * inner = 8 of logits [4, 10, 2] at axis 1}}
  %0 = dl.infogain_loss %x, %l, %h : (tensor<4x10x2xf32>, tensor<4xf32>, tensor<10x10xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @infogain_normalization(%x: tensor<4x10xf32>, %l: tensor<4xf32>, %h: tensor<10x10xf32>) {
  // expected-error @+1 {{normalization must be one of "full", "valid", "batch_size", "none", got "mean"}}
  %0 = dl.infogain_loss %x, %l, %h {normalization = "mean"} : (tensor<4x10xf32>, tensor<4xf32>, tensor<10x10xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @multinomial_label(%x: tensor<4x10xf32>, %l: tensor<4x2xf32>) {
  // expected-error @+1 {{multinomial_logistic_loss label shape [4, 2] must be [N] or [N, 1, 1, 1]}}
  %0 = dl.multinomial_logistic_loss %x, %l : (tensor<4x10xf32>, tensor<4x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @multinomial_first_dim(%x: tensor<4x10xf32>, %l: tensor<3xf32>) {
  // expected-error @+1 {{multinomial_logistic_loss: the data and label should have the same first dimension, got [4, 10] and [3]}}
  %0 = dl.multinomial_logistic_loss %x, %l : (tensor<4x10xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_norm_scalar(%x: tensor<f32>, %m: tensor<1xf32>) {
  // expected-error @+1 {{batch_norm input must have at least 1 axis}}
  %0 = dl.batch_norm %x, %m, %m, %m : (tensor<f32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @filter_no_input(%s: tensor<4xf32>) {
  // expected-error @+1 {{filter needs at least 1 input besides the selector}}
  %0 = dl.filter %s : (tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @filter_selector_not_singleton(%x: tensor<4x3xf32>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{filter selector dimensions must be singletons (1), except the first; got [4, 2]}}
  %0 = dl.filter %x, %s : (tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @filter_selector_scalar(%x: tensor<4x3xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{filter selector must have at least 1 axis}}
  %0 = dl.filter %x, %s : (tensor<4x3xf32>, tensor<f32>) -> tensor<*xf32>
  return
}

// -----

func.func @filter_count_mismatch(%x: tensor<4x3xf32>, %y: tensor<5x3xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{filter input 1 [5, 3] must have the same 0th dimension as the selector [4]}}
  %0:2 = dl.filter %x, %y, %s : (tensor<4x3xf32>, tensor<5x3xf32>, tensor<4xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @filter_scalar_input(%x: tensor<f32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{filter input 0 must have at least 1 axis}}
  %0 = dl.filter %x, %s : (tensor<f32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

// A rule that would compute a size from a run-time one is refused.
func.func @run_time_size_folded(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{flatten result 0 dimension 0 would be computed from a data-dependent size (`?`, e.g. a filter's count); only passing such a size through unchanged is supported}}
  %0 = dl.flatten %x {axis = 0 : i64} : (tensor<?x3xf32>) -> tensor<*xf32>
  return
}

// -----

// Messages of rules run on run-time sizes show them as `?`.
func.func @run_time_size_message(%x: tensor<?x3xf32>, %y: tensor<4x3xf32>) {
  // expected-error @+1 {{concat input 1 shape [4, 3] does not match input 0 shape [?, 3] outside the concat axis 1}}
  %0 = dl.concat %x, %y {axis = 1 : i64} : (tensor<?x3xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  return
}

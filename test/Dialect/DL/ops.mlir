// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// Round-trip of every dl op through the custom and the generic form.
// RUN: dl-opt %s -split-input-file | dl-opt -split-input-file | FileCheck %s
// RUN: dl-opt %s -split-input-file --mlir-print-op-generic | dl-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @param
// CHECK: %[[W:.*]] = dl.param {decay_mult = 0.000000e+00 : f64, filler = {std = 1.000000e-02 : f64, type = "gaussian"}, lr_mult = 2.000000e+00 : f64, name = "fc_w"} : tensor<10x20xf32>
// CHECK: return %[[W]]
func.func @param() -> tensor<10x20xf32> {
  %w = dl.param {name = "fc_w", filler = {type = "gaussian", std = 0.01 : f64}, lr_mult = 2.0 : f64, decay_mult = 0.0 : f64} : tensor<10x20xf32>
  return %w : tensor<10x20xf32>
}

// -----

// CHECK-LABEL: func.func @convolution
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8x8xf32>, %[[W:.*]]: tensor<4x3x3x3xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: dl.convolution %[[X]], %[[W]], %[[B]] {dilation = array<i64: 1, 1>, kernel = array<i64: 3, 3>, num_output = 4 : i64, pad = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
// CHECK: dl.convolution %[[X]], %[[W]] {kernel = array<i64: 3, 3>, num_output = 4 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32>
func.func @convolution(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) {
  %0 = dl.convolution %x, %w, %b {num_output = 4 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, pad = array<i64: 1, 1>, dilation = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %1 = dl.convolution %x, %w {num_output = 4 : i64, kernel = array<i64: 3, 3>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32>
  return
}

// -----

// CHECK-LABEL: func.func @deconvolution
// CHECK: dl.deconvolution %{{.*}}, %{{.*}}, %{{.*}} {group = 2 : i64, kernel = array<i64: 4, 4>, num_output = 4 : i64, pad = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<1x4x5x5xf32>, tensor<4x2x4x4xf32>, tensor<4xf32>) -> tensor<1x4x10x10xf32>
func.func @deconvolution(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x4x4xf32>, %b: tensor<4xf32>) {
  %0 = dl.deconvolution %x, %w, %b {num_output = 4 : i64, kernel = array<i64: 4, 4>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>, group = 2 : i64} : (tensor<1x4x5x5xf32>, tensor<4x2x4x4xf32>, tensor<4xf32>) -> tensor<1x4x10x10xf32>
  return
}

// -----

// CHECK-LABEL: func.func @inner_product
// CHECK: dl.inner_product %{{.*}}, %{{.*}}, %{{.*}} {num_output = 10 : i64} : (tensor<2x3x4xf32>, tensor<10x12xf32>, tensor<10xf32>) -> tensor<2x10xf32>
// CHECK: dl.inner_product %{{.*}}, %{{.*}} {axis = 2 : i64, num_output = 10 : i64, transpose = true} : (tensor<2x3x4xf32>, tensor<4x10xf32>) -> tensor<2x3x10xf32>
func.func @inner_product(%x: tensor<2x3x4xf32>, %w: tensor<10x12xf32>, %b: tensor<10xf32>, %wt: tensor<4x10xf32>) {
  %0 = dl.inner_product %x, %w, %b {num_output = 10 : i64} : (tensor<2x3x4xf32>, tensor<10x12xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  %1 = dl.inner_product %x, %wt {num_output = 10 : i64, axis = 2 : i64, transpose = true} : (tensor<2x3x4xf32>, tensor<4x10xf32>) -> tensor<2x3x10xf32>
  return
}

// -----

// CHECK-LABEL: func.func @pooling
// CHECK: dl.pooling %{{.*}} {kernel = array<i64: 3, 3>, pad = array<i64: 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x3x55x55xf32>) -> tensor<1x3x27x27xf32>
// CHECK: dl.pooling %{{.*}} {global_pooling = true, pool = "ave", round_mode = "floor"} : (tensor<1x3x55x55xf32>) -> tensor<1x3x1x1xf32>
func.func @pooling(%x: tensor<1x3x55x55xf32>) {
  %0 = dl.pooling %x {pool = "max", kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0>} : (tensor<1x3x55x55xf32>) -> tensor<1x3x27x27xf32>
  %1 = dl.pooling %x {pool = "ave", global_pooling = true, round_mode = "floor"} : (tensor<1x3x55x55xf32>) -> tensor<1x3x1x1xf32>
  return
}

// -----

// CHECK-LABEL: func.func @lrn
// CHECK: dl.lrn %{{.*}} {alpha = 1.000000e-04 : f64, local_size = 3 : i64, norm_region = "within_channel"} : (tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
func.func @lrn(%x: tensor<1x8x4x4xf32>) {
  %0 = dl.lrn %x {local_size = 3 : i64, alpha = 1.0e-4 : f64, beta = 0.75 : f64, k = 1.0 : f64, norm_region = "within_channel"} : (tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  return
}

// -----

// CHECK-LABEL: func.func @neurons
// CHECK: dl.relu %[[X:.*]] {negative_slope = 1.000000e-01 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: dl.sigmoid %[[X]] : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: dl.tanh %[[X]] : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: dl.abs_val %[[X]] : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: dl.bnll %[[X]] : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: dl.elu %[[X]] {alpha = 5.000000e-01 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: dl.power %[[X]] {power = 2.000000e+00 : f64, scale = 3.000000e+00 : f64, shift = 1.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: dl.dropout %[[X]] {ratio = 2.000000e-01 : f64, train = true} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: dl.relu %[[X]] : (tensor<2x3xf32>) -> tensor<*xf32>
func.func @neurons(%x: tensor<2x3xf32>) {
  %0 = dl.relu %x {negative_slope = 0.1 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = dl.sigmoid %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = dl.tanh %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = dl.abs_val %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = dl.bnll %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = dl.elu %x {alpha = 0.5 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %6 = dl.power %x {power = 2.0 : f64, scale = 3.0 : f64, shift = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %7 = dl.dropout %x {ratio = 0.2 : f64, train = true} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %8 = dl.relu %x : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

// CHECK-LABEL: func.func @prelu_softmax
// CHECK: dl.prelu %{{.*}}, %{{.*}} : (tensor<2x3x4x4xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
// CHECK: dl.prelu %{{.*}}, %{{.*}} {channel_shared = true} : (tensor<2x3x4x4xf32>, tensor<1xf32>) -> tensor<2x3x4x4xf32>
// CHECK: dl.softmax %{{.*}} {axis = -1 : i64} : (tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
func.func @prelu_softmax(%x: tensor<2x3x4x4xf32>, %s: tensor<3xf32>, %s1: tensor<1xf32>) {
  %0 = dl.prelu %x, %s : (tensor<2x3x4x4xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
  %1 = dl.prelu %x, %s1 {channel_shared = true} : (tensor<2x3x4x4xf32>, tensor<1xf32>) -> tensor<2x3x4x4xf32>
  %2 = dl.softmax %x {axis = -1 : i64} : (tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  return
}

// -----

// CHECK-LABEL: func.func @batch_norm_scale_bias
// CHECK: dl.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {eps = 1.000000e-03 : f64} : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<2x3x4x4xf32>
// CHECK: dl.scale %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
// CHECK: dl.bias %{{.*}}, %{{.*}} : (tensor<2x3x4x4xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
func.func @batch_norm_scale_bias(%x: tensor<2x3x4x4xf32>, %c: tensor<3xf32>, %f: tensor<1xf32>) {
  %0 = dl.batch_norm %x, %c, %c, %f {use_global_stats = true, eps = 1.0e-3 : f64} : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<2x3x4x4xf32>
  %1 = dl.scale %x, %c, %c {axis = 1 : i64, num_axes = 1 : i64} : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
  %2 = dl.bias %x, %c : (tensor<2x3x4x4xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
  return
}

// -----

// CHECK-LABEL: func.func @structural
// CHECK: dl.eltwise %[[A:.*]], %[[B:.*]] {coeff = array<f64: 1.000000e+00, -1.000000e+00>, operation = "sum"} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK: dl.eltwise %[[A]], %[[B]], %[[A]] {operation = "prod"} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK: dl.concat %[[A]], %[[B]] : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
// CHECK: dl.slice %[[A]] {slice_points = array<i64: 1, 3>} : (tensor<2x4xf32>) -> (tensor<2x1xf32>, tensor<2x2xf32>, tensor<2x1xf32>)
// CHECK: dl.flatten %[[A]] : (tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK: dl.reshape %[[A]] {shape = array<i64: 0, -1, 2>} : (tensor<2x4xf32>) -> tensor<2x2x2xf32>
// CHECK: dl.silence %[[A]], %[[B]] : (tensor<2x4xf32>, tensor<2x4xf32>) -> ()
func.func @structural(%a: tensor<2x4xf32>, %b: tensor<2x4xf32>) {
  %0 = dl.eltwise %a, %b {operation = "sum", coeff = array<f64: 1.0, -1.0>} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %1 = dl.eltwise %a, %b, %a {operation = "prod"} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %2 = dl.concat %a, %b {axis = 1 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  %3:3 = dl.slice %a {axis = 1 : i64, slice_points = array<i64: 1, 3>} : (tensor<2x4xf32>) -> (tensor<2x1xf32>, tensor<2x2xf32>, tensor<2x1xf32>)
  %4 = dl.flatten %a : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %5 = dl.reshape %a {shape = array<i64: 0, -1, 2>} : (tensor<2x4xf32>) -> tensor<2x2x2xf32>
  dl.silence %a, %b : (tensor<2x4xf32>, tensor<2x4xf32>) -> ()
  return
}

// -----

// CHECK-LABEL: func.func @crop_embed
// CHECK: dl.crop %{{.*}}, %{{.*}} {offset = array<i64: 1>} : (tensor<1x3x8x8xf32>, tensor<1x3x6x6xf32>) -> tensor<1x3x6x6xf32>
// CHECK: dl.embed %{{.*}}, %{{.*}}, %{{.*}} {input_dim = 100 : i64, num_output = 16 : i64} : (tensor<5x7xf32>, tensor<100x16xf32>, tensor<16xf32>) -> tensor<5x7x16xf32>
func.func @crop_embed(%x: tensor<1x3x8x8xf32>, %r: tensor<1x3x6x6xf32>, %i: tensor<5x7xf32>, %w: tensor<100x16xf32>, %b: tensor<16xf32>) {
  %0 = dl.crop %x, %r {axis = 2 : i64, offset = array<i64: 1>} : (tensor<1x3x8x8xf32>, tensor<1x3x6x6xf32>) -> tensor<1x3x6x6xf32>
  %1 = dl.embed %i, %w, %b {num_output = 16 : i64, input_dim = 100 : i64} : (tensor<5x7xf32>, tensor<100x16xf32>, tensor<16xf32>) -> tensor<5x7x16xf32>
  return
}

// -----

// CHECK-LABEL: func.func @lstm
// CHECK: dl.lstm %[[X:.*]], %[[C:.*]], %[[WXC:.*]], %[[BC:.*]], %[[WHC:.*]] {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x8xf32>) -> tensor<4x2x8xf32>
// CHECK: dl.lstm %[[X]], %[[C]], x_static %{{.*}}, %[[WXC]], %[[BC]], w_xc_static %{{.*}}, %[[WHC]] {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<2x3xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x3xf32>, tensor<32x8xf32>) -> tensor<4x2x8xf32>
// CHECK: dl.lstm %[[X]], %[[C]], %[[WXC]], %[[BC]], %[[WHC]] mask %[[C]] {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x8xf32>, tensor<4x2xf32>) -> tensor<4x2x8xf32>
func.func @lstm(%x: tensor<4x2x5xf32>, %c: tensor<4x2xf32>, %xs: tensor<2x3xf32>, %wxc: tensor<32x5xf32>, %bc: tensor<32xf32>, %wxs: tensor<32x3xf32>, %whc: tensor<32x8xf32>) {
  %0 = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x8xf32>) -> tensor<4x2x8xf32>
  %1 = dl.lstm %x, %c, x_static %xs, %wxc, %bc, w_xc_static %wxs, %whc {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<2x3xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x3xf32>, tensor<32x8xf32>) -> tensor<4x2x8xf32>
  %2 = dl.lstm %x, %c, %wxc, %bc, %whc mask %c {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x8xf32>, tensor<4x2xf32>) -> tensor<4x2x8xf32>
  return
}

// -----

// CHECK-LABEL: func.func @losses
// CHECK: dl.softmax_with_loss %[[L:.*]], %[[Y:.*]] {ignore_label = -1 : i64, normalization = "full"} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
// CHECK: dl.euclidean_loss %[[L]], %[[L]] {loss_weight = 5.000000e-01 : f64} : (tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<f32>
// CHECK: dl.sigmoid_cross_entropy_loss %[[L]], %[[L]] : (tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<f32>
// CHECK: dl.contrastive_loss %[[L]], %[[L]], %[[Y]] {margin = 2.000000e+00 : f64} : (tensor<4x10xf32>, tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
// CHECK: dl.accuracy %[[L]], %[[Y]] {top_k = 5 : i64} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
func.func @losses(%l: tensor<4x10xf32>, %y: tensor<4xf32>) {
  %0 = dl.softmax_with_loss %l, %y {ignore_label = -1 : i64, normalization = "full"} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  %1 = dl.euclidean_loss %l, %l {loss_weight = 0.5 : f64} : (tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<f32>
  %2 = dl.sigmoid_cross_entropy_loss %l, %l {normalization = "batch_size"} : (tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<f32>
  %3 = dl.contrastive_loss %l, %l, %y {margin = 2.0 : f64} : (tensor<4x10xf32>, tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  %4 = dl.accuracy %l, %y {top_k = 5 : i64} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

// Discardable attributes of the importer round-trip too.
// CHECK-LABEL: func.func @named
// CHECK-SAME: {dl.name = "data"}
// CHECK-SAME: (tensor<1x3xf32> {dl.name = "prob"})
// CHECK: dl.softmax %{{.*}} {dl.tops = ["prob"]} : (tensor<1x3xf32>) -> tensor<1x3xf32>
func.func @named(%x: tensor<1x3xf32> {dl.name = "data"}) -> (tensor<1x3xf32> {dl.name = "prob"}) {
  %0 = dl.softmax %x {dl.tops = ["prob"]} : (tensor<1x3xf32>) -> tensor<1x3xf32> loc(#loc)
  return %0 : tensor<1x3xf32>
}
#loc = loc("prob"("net.prototxt":12:1))

// -----

// CHECK-LABEL: func.func @neuron_bvlc
// CHECK: dl.exp %{{.*}} {base = 2.000000e+00 : f64, scale = 5.000000e-01 : f64, shift = 1.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: dl.log %{{.*}} : (tensor<2x3xf32>) -> tensor<*xf32>
// CHECK: dl.threshold %{{.*}} {threshold = 5.000000e-01 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: dl.clip %{{.*}} {max = 1.000000e+00 : f64, min = -1.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: dl.swish %{{.*}} {beta = 2.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
func.func @neuron_bvlc(%x: tensor<2x3xf32>) {
  %0 = dl.exp %x {base = 2.0 : f64, scale = 0.5 : f64, shift = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = dl.log %x : (tensor<2x3xf32>) -> tensor<*xf32>
  %2 = dl.threshold %x {threshold = 0.5 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = dl.clip %x {min = -1.0 : f64, max = 1.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = dl.swish %x {beta = 2.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

// CHECK-LABEL: func.func @im2col
// CHECK: dl.im2col %{{.*}} {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<1x2x5x5xf32>) -> tensor<1x18x3x3xf32>
func.func @im2col(%x: tensor<1x2x5x5xf32>) {
  %0 = dl.im2col %x {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<1x2x5x5xf32>) -> tensor<1x18x3x3xf32>
  return
}

// -----

// CHECK-LABEL: func.func @spp
// CHECK: dl.spp %{{.*}} {pool = "ave", pyramid_height = 3 : i64} : (tensor<2x3x8x8xf32>) -> tensor<2x63xf32>
// CHECK: dl.spp %{{.*}} {pyramid_height = 1 : i64} : (tensor<2x3x8x8xf32>) -> tensor<2x3x1x1xf32>
func.func @spp(%x: tensor<2x3x8x8xf32>) {
  %0 = dl.spp %x {pyramid_height = 3 : i64, pool = "ave"} : (tensor<2x3x8x8xf32>) -> tensor<2x63xf32>
  %1 = dl.spp %x {pyramid_height = 1 : i64} : (tensor<2x3x8x8xf32>) -> tensor<2x3x1x1xf32>
  return
}

// -----

// CHECK-LABEL: func.func @mvn
// CHECK: dl.mvn %{{.*}} {across_channels = true, eps = {{.*}} : f64} : (tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
func.func @mvn(%x: tensor<2x3x4x4xf32>) {
  %0 = dl.mvn %x {across_channels = true, eps = 1.0e-6 : f64} : (tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  return
}

// -----

// CHECK-LABEL: func.func @reduction_argmax
// CHECK: dl.reduction %{{.*}} {axis = 1 : i64, coeff = 5.000000e-01 : f64, operation = "sumsq"} : (tensor<2x3x4xf32>) -> tensor<2xf32>
// CHECK: dl.reduction %{{.*}} : (tensor<2x3x4xf32>) -> tensor<f32>
// CHECK: dl.argmax %{{.*}} {out_max_val = true, top_k = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<2x2x2xf32>
// CHECK: dl.argmax %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
func.func @reduction_argmax(%x: tensor<2x3x4xf32>) {
  %0 = dl.reduction %x {operation = "sumsq", axis = 1 : i64, coeff = 0.5 : f64} : (tensor<2x3x4xf32>) -> tensor<2xf32>
  %1 = dl.reduction %x : (tensor<2x3x4xf32>) -> tensor<f32>
  %2 = dl.argmax %x {top_k = 2 : i64, out_max_val = true} : (tensor<2x3x4xf32>) -> tensor<2x2x2xf32>
  %3 = dl.argmax %x {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  return
}

// -----

// CHECK-LABEL: func.func @tile_reindex
// CHECK-SAME: (%[[X:.*]]: tensor<4x3xf32>, %[[I:.*]]: tensor<5xf32>)
// CHECK: dl.tile %[[X]] {tiles = 2 : i64} : (tensor<4x3xf32>) -> tensor<4x6xf32>
// CHECK: dl.batch_reindex %[[X]], %[[I]] : (tensor<4x3xf32>, tensor<5xf32>) -> tensor<5x3xf32>
func.func @tile_reindex(%x: tensor<4x3xf32>, %i: tensor<5xf32>) {
  %0 = dl.tile %x {tiles = 2 : i64} : (tensor<4x3xf32>) -> tensor<4x6xf32>
  %1 = dl.batch_reindex %x, %i : (tensor<4x3xf32>, tensor<5xf32>) -> tensor<5x3xf32>
  return
}

// -----

// The results of a filter have a run-time leading size; ops on them keep it.
// CHECK-LABEL: func.func @filter
// CHECK-SAME: (%[[X:.*]]: tensor<4x3xf32>, %[[L:.*]]: tensor<4xf32>, %[[S:.*]]: tensor<4x1xf32>)
// CHECK: %[[F:.*]]:2 = dl.filter %[[X]], %[[L]], %[[S]] : (tensor<4x3xf32>, tensor<4xf32>, tensor<4x1xf32>) -> (tensor<?x3xf32>, tensor<?xf32>)
// CHECK: dl.inner_product %[[F]]#0, %{{.*}} {bias_term = false, num_output = 2 : i64} : (tensor<?x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
func.func @filter(%x: tensor<4x3xf32>, %l: tensor<4xf32>, %s: tensor<4x1xf32>) {
  %0:2 = dl.filter %x, %l, %s : (tensor<4x3xf32>, tensor<4xf32>, tensor<4x1xf32>) -> (tensor<?x3xf32>, tensor<?xf32>)
  %w = dl.param {name = "w", filler = {type = "constant"}} : tensor<2x3xf32>
  %1 = dl.inner_product %0#0, %w {num_output = 2 : i64, bias_term = false} : (tensor<?x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
  return
}

// -----

// CHECK-LABEL: func.func @rnn
// CHECK-SAME: (%[[X:[^:]*]]: tensor<5x2x3xf32>, %[[C:[^:]*]]: tensor<5x2xf32>, %[[S:[^:]*]]: tensor<2x6xf32>, %[[WXH:[^:]*]]: tensor<4x3xf32>, %[[BH:[^:]*]]: tensor<4xf32>, %[[WS:[^:]*]]: tensor<4x6xf32>, %[[WHH:[^:]*]]: tensor<4x4xf32>, %[[WHO:[^:]*]]: tensor<4x4xf32>, %[[BO:[^:]*]]: tensor<4xf32>)
// CHECK: dl.rnn %[[X]], %[[C]], %[[WXH]], %[[BH]], %[[WHH]], %[[WHO]], %[[BO]] {num_output = 4 : i64} : {{.*}} -> tensor<5x2x4xf32>
// CHECK: dl.rnn %[[X]], %[[C]], x_static %[[S]], %[[WXH]], %[[BH]], w_xh_static %[[WS]], %[[WHH]], %[[WHO]], %[[BO]] {num_output = 4 : i64} : {{.*}} -> tensor<5x2x4xf32>
func.func @rnn(%x: tensor<5x2x3xf32>, %c: tensor<5x2xf32>, %s: tensor<2x6xf32>, %wxh: tensor<4x3xf32>, %bh: tensor<4xf32>, %ws: tensor<4x6xf32>, %whh: tensor<4x4xf32>, %who: tensor<4x4xf32>, %bo: tensor<4xf32>) {
  %0 = dl.rnn %x, %c, %wxh, %bh, %whh, %who, %bo {num_output = 4 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<5x2x4xf32>
  %1 = dl.rnn %x, %c, x_static %s, %wxh, %bh, w_xh_static %ws, %whh, %who, %bo {num_output = 4 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>, tensor<2x6xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x6xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<5x2x4xf32>
  return
}

// -----

// CHECK-LABEL: func.func @losses_bvlc
// CHECK: dl.hinge_loss %{{.*}}, %{{.*}} {norm = "l2"} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
// CHECK: dl.infogain_loss %{{.*}}, %{{.*}}, %{{.*}} {ignore_label = 3 : i64, normalization = "batch_size"} : (tensor<4x10xf32>, tensor<4xf32>, tensor<10x10xf32>) -> tensor<f32>
// CHECK: dl.multinomial_logistic_loss %{{.*}}, %{{.*}} {loss_weight = 2.000000e+00 : f64} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
func.func @losses_bvlc(%x: tensor<4x10xf32>, %l: tensor<4xf32>, %h: tensor<10x10xf32>) {
  %0 = dl.hinge_loss %x, %l {norm = "l2"} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  %1 = dl.infogain_loss %x, %l, %h {ignore_label = 3 : i64, normalization = "batch_size"} : (tensor<4x10xf32>, tensor<4xf32>, tensor<10x10xf32>) -> tensor<f32>
  %2 = dl.multinomial_logistic_loss %x, %l {loss_weight = 2.0 : f64} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

// CHECK-LABEL: func.func @reorder
// CHECK: %[[R:.*]] = dl.reorder %{{.*}} {dl.layouts = ["nChw16c"], dl.tops = ["x:nChw16c"]} : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
// CHECK: dl.relu %[[R]] {dl.layouts = ["nChw16c"]} : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
func.func @reorder(%x: tensor<2x16x4x4xf32>) {
  %0 = dl.reorder %x {dl.layouts = ["nChw16c"], dl.tops = ["x:nChw16c"]} : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
  %1 = dl.relu %0 {dl.layouts = ["nChw16c"]} : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
  return
}

// -----

// A dl.fused op holds backward ops too (a gradient body, docs/fusion.md):
// forward ops recomputing a blob, then backward ops reading it, with several
// results.
// CHECK-LABEL: func.func @fused_backward
// CHECK-SAME: (%[[X:[^:]*]]: tensor<2x4xf32>, %[[G:[^:]*]]: tensor<4xf32>, %[[Y:[^:]*]]: tensor<2x4xf32>, %[[DY:[^:]*]]: tensor<2x4xf32>)
// CHECK: %[[F:.*]]:2 = dl.fused(%[[X]], %[[G]], %[[Y]], %[[DY]]) {dl.role = "backward_data"} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> (tensor<4xf32>, tensor<2x4xf32>) {
// CHECK-NEXT: ^bb0(%[[A0:[^:]*]]: tensor<2x4xf32>, %[[A1:[^:]*]]: tensor<4xf32>, %[[A2:[^:]*]]: tensor<2x4xf32>, %[[A3:[^:]*]]: tensor<2x4xf32>):
// CHECK-NEXT: %[[S:.*]] = dl.scale %[[A0]], %[[A1]] : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: %[[DS:.*]] = dl.backward_data "relu" %[[S]], %[[A2]], %[[A3]] {num_forward_operands = 1 : i64, wrt = array<i64: 0>}
// CHECK-NEXT: %[[DG:.*]] = dl.backward_weights "scale" %[[A0]], %[[A1]], %[[S]], %[[DS]] {num_forward_operands = 2 : i64, wrt = array<i64: 1>}
// CHECK-NEXT: %[[DX:.*]] = dl.backward_data "scale" %[[A0]], %[[A1]], %[[S]], %[[DS]] {num_forward_operands = 2 : i64, wrt = array<i64: 0>}
// CHECK-NEXT: dl.yield %[[DG]], %[[DX]] : tensor<4xf32>, tensor<2x4xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return %[[F]]#0, %[[F]]#1
func.func @fused_backward(%x: tensor<2x4xf32>, %g: tensor<4xf32>, %y: tensor<2x4xf32>, %dy: tensor<2x4xf32>) -> (tensor<4xf32>, tensor<2x4xf32>) {
  %0:2 = dl.fused(%x, %g, %y, %dy) {dl.role = "backward_data"} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> (tensor<4xf32>, tensor<2x4xf32>) {
  ^bb0(%a0: tensor<2x4xf32>, %a1: tensor<4xf32>, %a2: tensor<2x4xf32>, %a3: tensor<2x4xf32>):
    %s = dl.scale %a0, %a1 : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    %ds = dl.backward_data "relu" %s, %a2, %a3 {num_forward_operands = 1 : i64, wrt = array<i64: 0>} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
    %dg = dl.backward_weights "scale" %a0, %a1, %s, %ds {num_forward_operands = 2 : i64, wrt = array<i64: 1>} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<4xf32>
    %dx = dl.backward_data "scale" %a0, %a1, %s, %ds {num_forward_operands = 2 : i64, wrt = array<i64: 0>} : (tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
    dl.yield %dg, %dx : tensor<4xf32>, tensor<2x4xf32>
  }
  return %0#0, %0#1 : tensor<4xf32>, tensor<2x4xf32>
}

// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// Caffe shape rules applied by dl-shape-inference (ops start with unranked
// results, the pass makes them static).
// RUN: dl-opt %s -split-input-file -dl-shape-inference | FileCheck %s

// Convolution: floor((i + 2p - (d(k-1)+1)) / s) + 1.
// CHECK-LABEL: func.func @convolution
// CHECK: dl.convolution {{.*}} -> tensor<1x96x55x55xf32>
// CHECK: dl.convolution {{.*}} -> tensor<1x8x8x8xf32>
// CHECK: dl.convolution {{.*}} -> tensor<1x8x4x4xf32>
// CHECK: dl.convolution {{.*}} -> tensor<1x4x3x3xf32>
// CHECK: dl.convolution {{.*}} -> tensor<1x4x2x2x1xf32>
func.func @convolution(%x: tensor<1x3x227x227xf32>, %y: tensor<1x3x10x10xf32>, %z: tensor<1x4x6x5x3xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %w1 = dl.param {name = "w1", filler = {type = "xavier"}} : tensor<96x3x11x11xf32>
  // AlexNet conv1: (227 - 11) / 4 + 1 = 55
  %0 = dl.convolution %x, %w1 {num_output = 96 : i64, kernel = array<i64: 11, 11>, stride = array<i64: 4, 4>} : (tensor<1x3x227x227xf32>, tensor<96x3x11x11xf32>) -> tensor<*xf32>
  %w2 = dl.param {name = "w2", filler = {type = "xavier"}} : tensor<8x3x3x3xf32>
  // dilation 2: extent 5, (10 + 2 - 5) / 1 + 1 = 8
  %1 = dl.convolution %y, %w2 {num_output = 8 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>, dilation = array<i64: 2, 2>} : (tensor<1x3x10x10xf32>, tensor<8x3x3x3xf32>) -> tensor<*xf32>
  // stride 3, pad 1: floor((10 + 2 - 3) / 3) + 1 = 4
  %2 = dl.convolution %y, %w2 {num_output = 8 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<1x3x10x10xf32>, tensor<8x3x3x3xf32>) -> tensor<*xf32>
  // grouped (group 2 of 4 input channels), rectangular stride: (10 - 3) / [3, 3] + 1
  %t = dl.concat %y, %y {axis = 1 : i64} : (tensor<1x3x10x10xf32>, tensor<1x3x10x10xf32>) -> tensor<*xf32>
  %w3 = dl.param {name = "w3", filler = {type = "msra"}} : tensor<4x3x3x3xf32>
  %b3 = dl.param {name = "b3", filler = {type = "constant"}} : tensor<4xf32>
  %3 = dl.convolution %t, %w3, %b3 {num_output = 4 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 3, 3>, group = 2 : i64} : (tensor<*xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<*xf32>
  // 3-D convolution (N-D as in Caffe): (6-3)/2+1, (5-3)/2+1, (3-3)/1+1
  %w4 = dl.param {name = "w4", filler = {type = "xavier"}} : tensor<4x4x3x3x3xf32>
  %4 = dl.convolution %z, %w4 {num_output = 4 : i64, kernel = array<i64: 3, 3, 3>, stride = array<i64: 2, 2, 1>} : (tensor<1x4x6x5x3xf32>, tensor<4x4x3x3x3xf32>) -> tensor<*xf32>
  return %0, %1, %2, %3, %4 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// Pooling: ceil by default, Caffe's clip when padded, floor round_mode, global.
// CHECK-LABEL: func.func @pooling
// CHECK: dl.pooling {{.*}} -> tensor<1x96x27x27xf32>
// CHECK: dl.pooling {{.*}} -> tensor<1x64x56x56xf32>
// CHECK: dl.pooling {{.*}} -> tensor<1x64x55x55xf32>
// CHECK: dl.pooling {{.*}} -> tensor<1x2x3x3xf32>
// CHECK: dl.pooling {{.*}} -> tensor<1x2x4x4xf32>
// CHECK: dl.pooling {{.*}} -> tensor<1x2x3x3xf32>
// CHECK: dl.pooling {{.*}} -> tensor<1x1024x1x1xf32>
// CHECK: dl.pooling {{.*}} -> tensor<1x2x1x1xf32>
func.func @pooling(%a: tensor<1x96x55x55xf32>, %g: tensor<1x64x112x112xf32>, %c: tensor<1x2x5x5xf32>, %d: tensor<1x2x6x6xf32>, %e: tensor<1x1024x7x7xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // AlexNet pool1: ceil((55 - 3) / 2) + 1 = 27
  %0 = dl.pooling %a {pool = "max", kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>} : (tensor<1x96x55x55xf32>) -> tensor<*xf32>
  // GoogLeNet pool1/3x3_s2: ceil((112 - 3) / 2) + 1 = 56
  %1 = dl.pooling %g {pool = "max", kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>} : (tensor<1x64x112x112xf32>) -> tensor<*xf32>
  // ... and 55 with round_mode floor
  %2 = dl.pooling %g {pool = "max", kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, round_mode = "floor"} : (tensor<1x64x112x112xf32>) -> tensor<*xf32>
  // clip: ceil((5 + 2 - 2) / 2) + 1 = 4, but (4 - 1) * 2 >= 5 + 1, so 3
  %3 = dl.pooling %c {pool = "ave", kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>) -> tensor<*xf32>
  // no clip: ceil((6 + 2 - 3) / 2) + 1 = 4 and (4 - 1) * 2 < 6 + 1
  %4 = dl.pooling %d {pool = "max", kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>} : (tensor<1x2x6x6xf32>) -> tensor<*xf32>
  // floor: (6 + 2 - 3) / 2 + 1 = 3
  %5 = dl.pooling %d {pool = "max", kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>, round_mode = "floor"} : (tensor<1x2x6x6xf32>) -> tensor<*xf32>
  %6 = dl.pooling %e {pool = "ave", global_pooling = true} : (tensor<1x1024x7x7xf32>) -> tensor<*xf32>
  // global pooling as the importer writes it (kernel [0, 0] = unspecified)
  %7 = dl.pooling %c {pool = "max", global_pooling = true, kernel = array<i64: 0, 0>, stride = array<i64: 1, 1>, pad = array<i64: 0, 0>} : (tensor<1x2x5x5xf32>) -> tensor<*xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @inner_product
// CHECK-SAME: -> (tensor<2x10xf32>, tensor<2x3x10xf32>, tensor<2x3x4x10xf32>)
// CHECK: dl.inner_product {{.*}} -> tensor<2x10xf32>
// CHECK: dl.inner_product {{.*}} -> tensor<2x3x10xf32>
// CHECK: dl.inner_product {{.*}} -> tensor<2x3x4x10xf32>
func.func @inner_product(%x: tensor<2x3x4x5xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<10x60xf32>
  %b = dl.param {name = "b", filler = {type = "constant", value = 1.0}} : tensor<10xf32>
  %0 = dl.inner_product %x, %w, %b {num_output = 10 : i64} : (tensor<2x3x4x5xf32>, tensor<10x60xf32>, tensor<10xf32>) -> tensor<*xf32>
  %w2 = dl.param {name = "w2", filler = {type = "xavier"}} : tensor<20x10xf32>
  %1 = dl.inner_product %x, %w2 {num_output = 10 : i64, axis = 2 : i64, transpose = true} : (tensor<2x3x4x5xf32>, tensor<20x10xf32>) -> tensor<*xf32>
  %w3 = dl.param {name = "w3", filler = {type = "xavier"}} : tensor<10x5xf32>
  %2 = dl.inner_product %x, %w3 {num_output = 10 : i64, axis = -1 : i64} : (tensor<2x3x4x5xf32>, tensor<10x5xf32>) -> tensor<*xf32>
  return %0, %1, %2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// Deconvolution: s(i-1) + d(k-1)+1 - 2p.
// CHECK-LABEL: func.func @deconvolution
// CHECK: dl.deconvolution {{.*}} -> tensor<1x4x10x10xf32>
// CHECK: dl.deconvolution {{.*}} -> tensor<1x6x7x7xf32>
func.func @deconvolution(%x: tensor<1x4x5x5xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %w = dl.param {name = "w", filler = {type = "bilinear"}} : tensor<4x1x4x4xf32>
  // FCN-style upsampling: 2 * 4 + 4 - 2 = 10
  %0 = dl.deconvolution %x, %w {num_output = 4 : i64, group = 4 : i64, kernel = array<i64: 4, 4>, stride = array<i64: 2, 2>, pad = array<i64: 1, 1>} : (tensor<1x4x5x5xf32>, tensor<4x1x4x4xf32>) -> tensor<*xf32>
  %w2 = dl.param {name = "w2", filler = {type = "xavier"}} : tensor<4x6x2x2xf32>
  // dilation 2: 1 * (5 - 1) + 2 * (2 - 1) + 1 - 0 = 7
  %1 = dl.deconvolution %x, %w2 {num_output = 6 : i64, kernel = array<i64: 2, 2>, dilation = array<i64: 2, 2>, pad = array<i64: 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x5x5xf32>, tensor<4x6x2x2xf32>) -> tensor<*xf32>
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @crop
// CHECK: dl.crop {{.*}} -> tensor<1x3x6x6xf32>
// CHECK: dl.crop {{.*}} -> tensor<1x1x6x6xf32>
func.func @crop(%x: tensor<1x3x10x10xf32>, %r: tensor<1x1x6x6xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %0 = dl.crop %x, %r {axis = 2 : i64, offset = array<i64: 2>} : (tensor<1x3x10x10xf32>, tensor<1x1x6x6xf32>) -> tensor<*xf32>
  %1 = dl.crop %x, %r {axis = 1 : i64, offset = array<i64: 2, 4, 0>} : (tensor<1x3x10x10xf32>, tensor<1x1x6x6xf32>) -> tensor<*xf32>
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @slice_concat
// CHECK: dl.slice {{.*}} -> (tensor<2x1x4xf32>, tensor<2x4x4xf32>, tensor<2x1x4xf32>)
// CHECK: dl.slice {{.*}} -> (tensor<2x6x2xf32>, tensor<2x6x2xf32>)
// CHECK: dl.concat {{.*}} -> tensor<2x6x4xf32>
// CHECK: dl.concat {{.*}} -> tensor<2x6x8xf32>
func.func @slice_concat(%x: tensor<2x6x4xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %s:3 = dl.slice %x {axis = 1 : i64, slice_points = array<i64: 1, 5>} : (tensor<2x6x4xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  %e:2 = dl.slice %x {axis = -1 : i64} : (tensor<2x6x4xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  %0 = dl.concat %s#0, %s#1, %s#2 {axis = 1 : i64} : (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %1 = dl.concat %x, %e#0, %e#1 {axis = -1 : i64} : (tensor<2x6x4xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_flatten
// CHECK: dl.reshape {{.*}} -> tensor<2x60xf32>
// CHECK: dl.reshape {{.*}} -> tensor<2x3x2x2x5xf32>
// CHECK: dl.reshape {{.*}} -> tensor<2x3x4x5x1xf32>
// CHECK: dl.reshape {{.*}} -> tensor<1x3x4x10xf32>
// CHECK: dl.flatten {{.*}} -> tensor<2x60xf32>
// CHECK: dl.flatten {{.*}} -> tensor<2x12x5xf32>
// CHECK: dl.flatten {{.*}} -> tensor<120xf32>
func.func @reshape_flatten(%x: tensor<2x3x4x5xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %0 = dl.reshape %x {shape = array<i64: 0, -1>} : (tensor<2x3x4x5xf32>) -> tensor<*xf32>
  // replace axis 2 (num_axes 1) by [2, -1]
  %1 = dl.reshape %x {shape = array<i64: 2, -1>, axis = 2 : i64, num_axes = 1 : i64} : (tensor<2x3x4x5xf32>) -> tensor<*xf32>
  // axis -1, num_axes 0: append a unit axis
  %2 = dl.reshape %x {shape = array<i64: 1>, axis = -1 : i64, num_axes = 0 : i64} : (tensor<2x3x4x5xf32>) -> tensor<*xf32>
  // 0 copies the input axis at the same index (3, 4), -1 infers 120 / 12
  %3 = dl.reshape %x {shape = array<i64: 1, 0, 0, -1>} : (tensor<2x3x4x5xf32>) -> tensor<*xf32>
  %4 = dl.flatten %x : (tensor<2x3x4x5xf32>) -> tensor<*xf32>
  %5 = dl.flatten %x {axis = 1 : i64, end_axis = 2 : i64} : (tensor<2x3x4x5xf32>) -> tensor<*xf32>
  %6 = dl.flatten %x {axis = 0 : i64} : (tensor<2x3x4x5xf32>) -> tensor<*xf32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @embed_lstm
// CHECK: dl.embed {{.*}} -> tensor<7x3x16xf32>
// CHECK: dl.lstm {{.*}} -> tensor<7x3x8xf32>
// CHECK: dl.lstm {{.*}} -> tensor<7x3x8xf32>
func.func @embed_lstm(%words: tensor<7x3xf32>, %cont: tensor<7x3xf32>, %img: tensor<3x10xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %we = dl.param {name = "we", filler = {type = "uniform", min = -0.1, max = 0.1}} : tensor<1000x16xf32>
  %e = dl.embed %words, %we {num_output = 16 : i64, input_dim = 1000 : i64} : (tensor<7x3xf32>, tensor<1000x16xf32>) -> tensor<*xf32>
  %wxc = dl.param {name = "wxc", filler = {type = "uniform"}} : tensor<32x16xf32>
  %bc = dl.param {name = "bc", filler = {type = "constant"}} : tensor<32xf32>
  %whc = dl.param {name = "whc", filler = {type = "uniform"}} : tensor<32x8xf32>
  %0 = dl.lstm %e, %cont, %wxc, %bc, %whc {num_output = 8 : i64} : (tensor<*xf32>, tensor<7x3xf32>, tensor<32x16xf32>, tensor<32xf32>, tensor<32x8xf32>) -> tensor<*xf32>
  %wxs = dl.param {name = "wxs", filler = {type = "uniform"}} : tensor<32x10xf32>
  %1 = dl.lstm %e, %cont, x_static %img, %wxc, %bc, w_xc_static %wxs, %whc {num_output = 8 : i64} : (tensor<*xf32>, tensor<7x3xf32>, tensor<3x10xf32>, tensor<32x16xf32>, tensor<32xf32>, tensor<32x10xf32>, tensor<32x8xf32>) -> tensor<*xf32>
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

// Element-wise and normalization ops keep the shape; scale/bias broadcast.
// CHECK-LABEL: func.func @same_shape
// CHECK: dl.lrn {{.*}} -> tensor<2x6x5x5xf32>
// CHECK: dl.scale {{.*}} -> tensor<2x6x5x5xf32>
// CHECK: dl.scale {{.*}} -> tensor<2x6x5x5xf32>
// CHECK: dl.scale {{.*}} -> tensor<2x6x5x5xf32>
// CHECK: dl.bias {{.*}} -> tensor<2x6x5x5xf32>
// CHECK: dl.batch_norm {{.*}} -> tensor<2x6x5x5xf32>
// CHECK: dl.relu {{.*}} -> tensor<2x6x5x5xf32>
// CHECK: dl.prelu {{.*}} -> tensor<2x6x5x5xf32>
// CHECK: dl.eltwise {{.*}} -> tensor<2x6x5x5xf32>
// CHECK: dl.softmax {{.*}} -> tensor<2x6x5x5xf32>
func.func @same_shape(%x: tensor<2x6x5x5xf32>, %s2: tensor<6x5xf32>) -> tensor<*xf32> {
  %0 = dl.lrn %x {local_size = 5 : i64, alpha = 1.0e-4 : f64} : (tensor<2x6x5x5xf32>) -> tensor<*xf32>
  // scale over axes [1, 3) given by a second bottom of shape [6, 5]
  %1 = dl.scale %0, %s2 {axis = 1 : i64, num_axes = 2 : i64} : (tensor<*xf32>, tensor<6x5xf32>) -> tensor<*xf32>
  // scalar scale: axis ignored
  %k = dl.param {name = "k", filler = {type = "constant", value = 2.0}} : tensor<f32>
  %sa = dl.scale %1, %k {num_axes = 0 : i64} : (tensor<*xf32>, tensor<f32>) -> tensor<*xf32>
  // ... or stored as [1] with num_axes 0
  %k1 = dl.param {name = "k1", filler = {type = "constant", value = 2.0}} : tensor<1xf32>
  %sb = dl.scale %sa, %k1 {axis = 1 : i64, num_axes = 0 : i64} : (tensor<*xf32>, tensor<1xf32>) -> tensor<*xf32>
  %b = dl.param {name = "b", filler = {type = "constant"}} : tensor<5x5xf32>
  %3 = dl.bias %sb, %b {axis = -2 : i64, num_axes = 2 : i64} : (tensor<*xf32>, tensor<5x5xf32>) -> tensor<*xf32>
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<6xf32>
  %f = dl.param {name = "f", filler = {type = "constant", value = 1.0}} : tensor<1xf32>
  %4 = dl.batch_norm %3, %m, %m, %f : (tensor<*xf32>, tensor<6xf32>, tensor<6xf32>, tensor<1xf32>) -> tensor<*xf32>
  %5 = dl.relu %4 : (tensor<*xf32>) -> tensor<*xf32>
  %6 = dl.prelu %5, %m : (tensor<*xf32>, tensor<6xf32>) -> tensor<*xf32>
  %7 = dl.eltwise %6, %x {operation = "sum", coeff = array<f64: 0.5, 0.5>} : (tensor<*xf32>, tensor<2x6x5x5xf32>) -> tensor<*xf32>
  %8 = dl.softmax %7 : (tensor<*xf32>) -> tensor<*xf32>
  return %8 : tensor<*xf32>
}

// -----

// Losses and accuracy are scalars.
// CHECK-LABEL: func.func @losses
// CHECK-SAME: -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>)
// CHECK: dl.softmax_with_loss {{.*}} -> tensor<f32>
// CHECK: dl.accuracy {{.*}} -> tensor<f32>
// CHECK: dl.euclidean_loss {{.*}} -> tensor<f32>
// CHECK: dl.sigmoid_cross_entropy_loss {{.*}} -> tensor<f32>
// CHECK: dl.silence
func.func @losses(%x: tensor<4x10x3xf32>, %label: tensor<4x3xf32>, %t: tensor<4x30xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %s = dl.softmax %x : (tensor<4x10x3xf32>) -> tensor<*xf32>
  %0 = dl.softmax_with_loss %s, %label : (tensor<*xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  %1 = dl.accuracy %s, %label {top_k = 5 : i64} : (tensor<*xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  %2 = dl.euclidean_loss %x, %t : (tensor<4x10x3xf32>, tensor<4x30xf32>) -> tensor<*xf32>
  %3 = dl.sigmoid_cross_entropy_loss %x, %t : (tensor<4x10x3xf32>, tensor<4x30xf32>) -> tensor<*xf32>
  dl.silence %s : (tensor<*xf32>) -> ()
  return %0, %1, %2, %3 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// Ops in generic form, as the importer creates them (named attributes, lstm
// operand segments as the `operandSegmentSizes` attribute).
// CHECK-LABEL: func.func @generic
// CHECK: dl.convolution {{.*}} -> tensor<2x4x6x6xf32>
// CHECK: dl.lstm {{.*}} -> tensor<3x2x4xf32>
func.func @generic(%x: tensor<2x3x8x8xf32>, %seq: tensor<3x2x5xf32>, %cont: tensor<3x2xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %w = "dl.param"() {name = "w", filler = {type = "gaussian", std = 0.01}} : () -> tensor<4x3x3x3xf32>
  %c = "dl.convolution"(%x, %w) {num_output = 4 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, pad = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<*xf32>
  %wxc = "dl.param"() {name = "wxc", filler = {type = "uniform"}} : () -> tensor<16x5xf32>
  %bc = "dl.param"() {name = "bc", filler = {type = "constant"}} : () -> tensor<16xf32>
  %whc = "dl.param"() {name = "whc", filler = {type = "uniform"}} : () -> tensor<16x4xf32>
  %l = "dl.lstm"(%seq, %cont, %wxc, %bc, %whc) {num_output = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 0, 1, 1, 0, 1, 0>} : (tensor<3x2x5xf32>, tensor<3x2xf32>, tensor<16x5xf32>, tensor<16xf32>, tensor<16x4xf32>) -> tensor<*xf32>
  return %c, %l : tensor<*xf32>, tensor<*xf32>
}

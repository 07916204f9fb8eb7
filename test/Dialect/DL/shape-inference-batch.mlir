// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// The batch size of the signature propagates through a whole (LeNet) network,
// including the function's result type; the same body with batch 1 and 64.
// RUN: sed -e 's/BATCH/1/g' %s | dl-opt -dl-shape-inference | FileCheck %s --check-prefix=B1
// RUN: sed -e 's/BATCH/64/g' %s | dl-opt -dl-shape-inference | FileCheck %s --check-prefix=B64
// Running the pass twice is a no-op.
// RUN: sed -e 's/BATCH/64/g' %s | dl-opt -dl-shape-inference -dl-shape-inference | FileCheck %s --check-prefix=B64

// B1-LABEL: func.func @lenet
// B1-SAME: -> (tensor<1x10xf32> {dl.name = "prob"})
// B1: dl.convolution {{.*}} -> tensor<1x20x24x24xf32>
// B1: dl.pooling {{.*}} -> tensor<1x20x12x12xf32>
// B1: dl.convolution {{.*}} -> tensor<1x50x8x8xf32>
// B1: dl.pooling {{.*}} -> tensor<1x50x4x4xf32>
// B1: dl.inner_product {{.*}} -> tensor<1x500xf32>
// B1: dl.relu {{.*}} -> tensor<1x500xf32>
// B1: dl.inner_product {{.*}} -> tensor<1x10xf32>
// B1: dl.softmax {{.*}} -> tensor<1x10xf32>
// B1: return {{.*}} : tensor<1x10xf32>

// B64-LABEL: func.func @lenet
// B64-SAME: -> (tensor<64x10xf32> {dl.name = "prob"})
// B64: dl.convolution {{.*}} -> tensor<64x20x24x24xf32>
// B64: dl.pooling {{.*}} -> tensor<64x20x12x12xf32>
// B64: dl.convolution {{.*}} -> tensor<64x50x8x8xf32>
// B64: dl.pooling {{.*}} -> tensor<64x50x4x4xf32>
// B64: dl.inner_product {{.*}} -> tensor<64x500xf32>
// B64: dl.relu {{.*}} -> tensor<64x500xf32>
// B64: dl.inner_product {{.*}} -> tensor<64x10xf32>
// B64: dl.softmax {{.*}} -> tensor<64x10xf32>
// B64: return {{.*}} : tensor<64x10xf32>
func.func @lenet(%data: tensor<BATCHx1x28x28xf32> {dl.name = "data"}) -> (tensor<*xf32> {dl.name = "prob"}) {
  %w1 = dl.param {name = "conv1_w", filler = {type = "xavier"}} : tensor<20x1x5x5xf32>
  %b1 = dl.param {name = "conv1_b", filler = {type = "constant"}, lr_mult = 2.0 : f64} : tensor<20xf32>
  %c1 = dl.convolution %data, %w1, %b1 {num_output = 20 : i64, kernel = array<i64: 5, 5>, stride = array<i64: 1, 1>, pad = array<i64: 0, 0>, dilation = array<i64: 1, 1>, dl.tops = ["conv1"]} : (tensor<BATCHx1x28x28xf32>, tensor<20x1x5x5xf32>, tensor<20xf32>) -> tensor<*xf32>
  %p1 = dl.pooling %c1 {pool = "max", kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0>, dl.tops = ["pool1"]} : (tensor<*xf32>) -> tensor<*xf32>
  %w2 = dl.param {name = "conv2_w", filler = {type = "xavier"}} : tensor<50x20x5x5xf32>
  %b2 = dl.param {name = "conv2_b", filler = {type = "constant"}} : tensor<50xf32>
  %c2 = dl.convolution %p1, %w2, %b2 {num_output = 50 : i64, kernel = array<i64: 5, 5>, stride = array<i64: 1, 1>, pad = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<*xf32>, tensor<50x20x5x5xf32>, tensor<50xf32>) -> tensor<*xf32>
  %p2 = dl.pooling %c2 {pool = "max", kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0>} : (tensor<*xf32>) -> tensor<*xf32>
  %w3 = dl.param {name = "ip1_w", filler = {type = "xavier"}} : tensor<500x800xf32>
  %b3 = dl.param {name = "ip1_b", filler = {type = "constant"}} : tensor<500xf32>
  %f1 = dl.inner_product %p2, %w3, %b3 {num_output = 500 : i64} : (tensor<*xf32>, tensor<500x800xf32>, tensor<500xf32>) -> tensor<*xf32>
  %r1 = dl.relu %f1 : (tensor<*xf32>) -> tensor<*xf32>
  %w4 = dl.param {name = "ip2_w", filler = {type = "xavier"}} : tensor<10x500xf32>
  %b4 = dl.param {name = "ip2_b", filler = {type = "constant"}} : tensor<10xf32>
  %f2 = dl.inner_product %r1, %w4, %b4 {num_output = 10 : i64} : (tensor<*xf32>, tensor<10x500xf32>, tensor<10xf32>) -> tensor<*xf32>
  %prob = dl.softmax %f2 : (tensor<*xf32>) -> tensor<*xf32>
  return %prob : tensor<*xf32>
}

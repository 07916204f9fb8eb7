// RUN: dl-opt %s -split-input-file -dl-fuse-ops --mlir-print-debuginfo | FileCheck %s

// Convolution + BatchNorm (global statistics) + Scale + ReLU: one fused op,
// named after its layers, at the first layer's position; the weights and
// statistics become operands of the region.
// CHECK-LABEL: func.func @conv_bn_scale_relu
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8x8xf32>
// CHECK-DAG: %[[W:.*]] = dl.param {{.*}}name = "w"
// CHECK-DAG: %[[M:.*]] = dl.param {{.*}}name = "m"
// CHECK: %[[F:.*]] = dl.fused(%[[X]], %[[W]], %{{[0-9]+}}, %[[M]], %{{.*}}, %{{.*}}, %{{[0-9]+}}, %{{[0-9]+}}) {dl.tops = ["r"]}
// CHECK: ^bb0(%[[A0:.*]]: tensor<1x3x8x8xf32>{{.*}}, %[[A1:.*]]: tensor<4x3x3x3xf32>
// CHECK-NEXT: %[[C:.*]] = dl.convolution %[[A0]], %[[A1]]
// CHECK-NEXT: %[[N:.*]] = dl.batch_norm %[[C]]
// CHECK-NEXT: %[[S:.*]] = dl.scale %[[N]]
// CHECK-NEXT: %[[R:.*]] = dl.relu %[[S]]
// CHECK-NEXT: dl.yield %[[R]] : tensor<1x4x8x8xf32>
// CHECK-NEXT: } loc(#[[LOC:.*]])
// CHECK-NEXT: return %[[F]]
// CHECK: #[[LOC]] = loc("conv1+bn1+scale1+relu1"(#{{.*}}))
func.func @conv_bn_scale_relu(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<4x3x3x3xf32>
  %b = dl.param {name = "b", filler = {type = "constant"}} : tensor<4xf32>
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<4xf32>
  %v = dl.param {name = "v", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %f = dl.param {name = "f", filler = {type = "constant", value = 1.0 : f64}} : tensor<1xf32>
  %g = dl.param {name = "g", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %be = dl.param {name = "be", filler = {type = "constant"}} : tensor<4xf32>
  %c = dl.convolution %x, %w, %b {num_output = 4 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>, dl.tops = ["c"]} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32> loc(#conv1)
  %n = dl.batch_norm %c, %m, %v, %f {dl.tops = ["c"]} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<1x4x8x8xf32> loc(#bn1)
  %s = dl.scale %n, %g, %be {dl.tops = ["c"]} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32> loc(#scale1)
  %r = dl.relu %s {dl.tops = ["r"]} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> loc(#relu1)
  return %r : tensor<1x4x8x8xf32>
}
#conv1 = loc("conv1"("net.prototxt":3:1))
#bn1 = loc("bn1"("net.prototxt":9:1))
#scale1 = loc("scale1"("net.prototxt":15:1))
#relu1 = loc("relu1"("net.prototxt":21:1))

// -----

// A ReLU whose input is also read elsewhere does not fuse: the convolution's
// output must stay a blob of its own.
// CHECK-LABEL: func.func @shared_input
// CHECK-NOT: dl.fused
// CHECK: dl.convolution
// CHECK: dl.relu
// CHECK: dl.sigmoid
func.func @shared_input(%x: tensor<1x3x8x8xf32>) -> (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) {
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<4x3x3x3xf32>
  %c = dl.convolution %x, %w {num_output = 4 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  %r = dl.relu %c : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %s = dl.sigmoid %c : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %r, %s : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>
}

// -----

// A blob that is a function result (a requested output) ends the chain.
// CHECK-LABEL: func.func @result_ends_chain
// CHECK-NOT: dl.fused
func.func @result_ends_chain(%x: tensor<2x12xf32>) -> (tensor<2x10xf32>, tensor<2x10xf32>) {
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<10x12xf32>
  %y = dl.inner_product %x, %w {num_output = 10 : i64} : (tensor<2x12xf32>, tensor<10x12xf32>) -> tensor<2x10xf32>
  %t = dl.tanh %y : (tensor<2x10xf32>) -> tensor<2x10xf32>
  return %y, %t : tensor<2x10xf32>, tensor<2x10xf32>
}

// -----

// BatchNorm with batch statistics (train phase) does not fold into the
// convolution; the chain stops before it.
// CHECK-LABEL: func.func @bn_train
// CHECK-NOT: dl.fused
// CHECK: dl.convolution
// CHECK: dl.batch_norm
func.func @bn_train(%x: tensor<2x3x8x8xf32>) -> tensor<2x4x8x8xf32> {
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<4x3x3x3xf32>
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<4xf32>
  %v = dl.param {name = "v", filler = {type = "constant"}} : tensor<4xf32>
  %f = dl.param {name = "f", filler = {type = "constant"}} : tensor<1xf32>
  %c = dl.convolution %x, %w {num_output = 4 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  %n = dl.batch_norm %c, %m, %v, %f {use_global_stats = false} : (tensor<2x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<2x4x8x8xf32>
  return %n : tensor<2x4x8x8xf32>
}

// -----

// The residual block: the shortcut convolution takes the Eltwise SUM and the
// ReLU as post-ops; the other branch's convolution fuses with its ReLU.
// CHECK-LABEL: func.func @residual
// CHECK: %[[A:.*]] = dl.fused(%{{.*}}, %{{.*}}) {{.*}}{
// CHECK: dl.convolution
// CHECK-NEXT: dl.relu
// CHECK: %[[S:.*]] = dl.fused(%{{.*}}, %{{.*}}, %[[A]]) {{.*}}{
// CHECK: %[[C:.*]] = dl.convolution
// CHECK-NEXT: %[[E:.*]] = dl.eltwise %[[C]], %{{.*}}
// CHECK-NEXT: dl.relu %[[E]]
// CHECK: return %[[S]]
func.func @residual(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w1 = dl.param {name = "w1", filler = {type = "xavier"}} : tensor<4x4x1x1xf32>
  %w2 = dl.param {name = "w2", filler = {type = "xavier"}} : tensor<4x4x3x3xf32>
  %a = dl.convolution %x, %w2 {num_output = 4 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
  %ar = dl.relu %a : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %s = dl.convolution %x, %w1 {num_output = 4 : i64, kernel = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  %e = dl.eltwise %s, %ar : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %r = dl.relu %e : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %r : tensor<1x4x8x8xf32>
}

// -----

// An Eltwise SUM of two blobs read elsewhere fuses with its activation; a
// weighted sum or a product does not.
// CHECK-LABEL: func.func @sum_relu
// CHECK: dl.fused
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dl.eltwise
// CHECK-NEXT: dl.relu
// CHECK: dl.eltwise {{.*}}coeff = array<f64: 2.000000e+00, 1.000000e+00>
// CHECK-NEXT: dl.relu
// CHECK-NOT: dl.fused
func.func @sum_relu(%x: tensor<4x5xf32>, %y: tensor<4x5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>) {
  %e = dl.eltwise %x, %y : (tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
  %r = dl.relu %e : (tensor<4x5xf32>) -> tensor<4x5xf32>
  %e2 = dl.eltwise %x, %y {coeff = array<f64: 2.0, 1.0>} : (tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
  %r2 = dl.relu %e2 : (tensor<4x5xf32>) -> tensor<4x5xf32>
  return %r, %r2 : tensor<4x5xf32>, tensor<4x5xf32>
}

// -----

// Backward ops read the forward blobs, so a gradient graph's convolution
// output (read by the ReLU's backward) is not fused away.
// CHECK-LABEL: func.func @gradient
// CHECK-NOT: dl.fused
func.func @gradient(%x: tensor<1x3x8x8xf32>, %dy: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<4x3x3x3xf32>
  %c = dl.convolution %x, %w {num_output = 4 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  %r = dl.relu %c : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %dc = dl.backward_data "relu" %c, %r, %dy {num_forward_operands = 1 : i64, wrt = array<i64: 0>} : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %dc : tensor<1x4x8x8xf32>
}

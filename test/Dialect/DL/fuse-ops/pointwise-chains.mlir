// Element-wise chains (pointwise-chains, docs/codegen.md): a pointwise op, an
// Eltwise of any kind or a per-channel Scale/Bias, then pointwise ops, where
// no convolution, inner product or plain sum starts a chain.
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// RUN: dl-opt %s -split-input-file -dl-fuse-ops | FileCheck %s
// RUN: dl-opt %s -split-input-file -dl-fuse-ops='pointwise-chains=false' | FileCheck %s --check-prefix=OFF

// OFF-NOT: dl.fused

// CHECK-LABEL: func.func @chain
// CHECK: dl.fused(%arg0) : (tensor<2x5xf32>) -> tensor<2x5xf32> {
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dl.power
// CHECK-NEXT: dl.tanh
// CHECK-NEXT: dl.abs_val
// CHECK-NEXT: dl.yield
// CHECK-NOT: dl.fused
func.func @chain(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %a = dl.power %x {power = 2.0 : f64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  %b = dl.tanh %a : (tensor<2x5xf32>) -> tensor<2x5xf32>
  %c = dl.abs_val %b : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return %c : tensor<2x5xf32>
}

// -----

// A value with a second reader ends the chain; a lone pointwise op stays.
// CHECK-LABEL: func.func @branch
// CHECK: %[[A:.*]] = dl.sigmoid %arg0
// CHECK: dl.fused(%[[A]])
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dl.tanh
// CHECK-NEXT: dl.elu
// CHECK-NEXT: dl.yield
// CHECK: dl.bnll %[[A]]
func.func @branch(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %a = dl.sigmoid %x : (tensor<8xf32>) -> tensor<8xf32>
  %b = dl.tanh %a : (tensor<8xf32>) -> tensor<8xf32>
  %c = dl.elu %b : (tensor<8xf32>) -> tensor<8xf32>
  %d = dl.bnll %a : (tensor<8xf32>) -> tensor<8xf32>
  return %c, %d : tensor<8xf32>, tensor<8xf32>
}

// -----

// An Eltwise product of three blobs, then its activation.
// CHECK-LABEL: func.func @prod
// CHECK: dl.fused(%arg0, %arg1, %arg2)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dl.eltwise {{.*}}operation = "prod"
// CHECK-NEXT: dl.sigmoid
// CHECK-NEXT: dl.yield
func.func @prod(%x: tensor<4xf32>, %y: tensor<4xf32>, %z: tensor<4xf32>) -> tensor<4xf32> {
  %p = dl.eltwise %x, %y, %z {operation = "prod"} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %s = dl.sigmoid %p : (tensor<4xf32>) -> tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// A learned per-channel Scale (train-phase BatchNorm before it does not fold).
// CHECK-LABEL: func.func @scale
// CHECK: dl.batch_norm
// CHECK-NEXT: dl.fused
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dl.scale
// CHECK-NEXT: dl.relu
// CHECK-NEXT: dl.yield
func.func @scale(%x: tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32> {
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<3xf32>
  %v = dl.param {name = "v", filler = {type = "constant"}} : tensor<3xf32>
  %f = dl.param {name = "f", filler = {type = "constant"}} : tensor<1xf32>
  %g = dl.param {name = "g", filler = {type = "constant", value = 1.0 : f64}} : tensor<3xf32>
  %b = dl.param {name = "b", filler = {type = "constant"}} : tensor<3xf32>
  %n = dl.batch_norm %x, %m, %v, %f {use_global_stats = false} : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<2x3x4x4xf32>
  %s = dl.scale %n, %g, %b : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
  %r = dl.relu %s : (tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  return %r : tensor<2x3x4x4xf32>
}

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

// -----

// A fused op holds at most 32 layers: a chain of 34 ReLUs becomes two, of
// 32 and 2 layers.
// CHECK-LABEL: func.func @long_chain
// CHECK: %[[F:.*]] = dl.fused(%arg0)
// CHECK-NEXT: ^bb0
// CHECK-COUNT-32: dl.relu
// CHECK-NEXT: dl.yield
// CHECK: dl.fused(%[[F]])
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dl.relu
// CHECK-NEXT: dl.relu
// CHECK-NEXT: dl.yield
// CHECK-NOT: dl.fused
func.func @long_chain(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r0 = dl.relu %x : (tensor<4xf32>) -> tensor<4xf32>
  %r1 = dl.relu %r0 : (tensor<4xf32>) -> tensor<4xf32>
  %r2 = dl.relu %r1 : (tensor<4xf32>) -> tensor<4xf32>
  %r3 = dl.relu %r2 : (tensor<4xf32>) -> tensor<4xf32>
  %r4 = dl.relu %r3 : (tensor<4xf32>) -> tensor<4xf32>
  %r5 = dl.relu %r4 : (tensor<4xf32>) -> tensor<4xf32>
  %r6 = dl.relu %r5 : (tensor<4xf32>) -> tensor<4xf32>
  %r7 = dl.relu %r6 : (tensor<4xf32>) -> tensor<4xf32>
  %r8 = dl.relu %r7 : (tensor<4xf32>) -> tensor<4xf32>
  %r9 = dl.relu %r8 : (tensor<4xf32>) -> tensor<4xf32>
  %r10 = dl.relu %r9 : (tensor<4xf32>) -> tensor<4xf32>
  %r11 = dl.relu %r10 : (tensor<4xf32>) -> tensor<4xf32>
  %r12 = dl.relu %r11 : (tensor<4xf32>) -> tensor<4xf32>
  %r13 = dl.relu %r12 : (tensor<4xf32>) -> tensor<4xf32>
  %r14 = dl.relu %r13 : (tensor<4xf32>) -> tensor<4xf32>
  %r15 = dl.relu %r14 : (tensor<4xf32>) -> tensor<4xf32>
  %r16 = dl.relu %r15 : (tensor<4xf32>) -> tensor<4xf32>
  %r17 = dl.relu %r16 : (tensor<4xf32>) -> tensor<4xf32>
  %r18 = dl.relu %r17 : (tensor<4xf32>) -> tensor<4xf32>
  %r19 = dl.relu %r18 : (tensor<4xf32>) -> tensor<4xf32>
  %r20 = dl.relu %r19 : (tensor<4xf32>) -> tensor<4xf32>
  %r21 = dl.relu %r20 : (tensor<4xf32>) -> tensor<4xf32>
  %r22 = dl.relu %r21 : (tensor<4xf32>) -> tensor<4xf32>
  %r23 = dl.relu %r22 : (tensor<4xf32>) -> tensor<4xf32>
  %r24 = dl.relu %r23 : (tensor<4xf32>) -> tensor<4xf32>
  %r25 = dl.relu %r24 : (tensor<4xf32>) -> tensor<4xf32>
  %r26 = dl.relu %r25 : (tensor<4xf32>) -> tensor<4xf32>
  %r27 = dl.relu %r26 : (tensor<4xf32>) -> tensor<4xf32>
  %r28 = dl.relu %r27 : (tensor<4xf32>) -> tensor<4xf32>
  %r29 = dl.relu %r28 : (tensor<4xf32>) -> tensor<4xf32>
  %r30 = dl.relu %r29 : (tensor<4xf32>) -> tensor<4xf32>
  %r31 = dl.relu %r30 : (tensor<4xf32>) -> tensor<4xf32>
  %r32 = dl.relu %r31 : (tensor<4xf32>) -> tensor<4xf32>
  %r33 = dl.relu %r32 : (tensor<4xf32>) -> tensor<4xf32>
  return %r33 : tensor<4xf32>
}

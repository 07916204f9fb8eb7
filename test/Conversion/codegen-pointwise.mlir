// dl-codegen-pointwise (docs/codegen.md): one kernel function per
// element-wise dl.fused op, in a nested module; the fused op names it.
// Explicit vector-width and unroll keep the output independent of this CPU.
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// RUN: dl-opt %s -dl-codegen-pointwise='vector-width=4 unroll=2' | FileCheck %s
// RUN: dl-opt %s -dl-codegen-pointwise='vector-width=4 unroll=2' | dl-opt | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: not dl-opt %s -dl-codegen-pointwise='vector-width=3' 2>&1 | FileCheck %s --check-prefix=WIDTH

// ROUNDTRIP: module @dl_codegen
// WIDTH: error: dl-codegen-pointwise: vector-width must be a power of two up to 64 and unroll at most 16, got 3

// CHECK-LABEL: func.func @chain
// CHECK: dl.fused(%arg0) {dl.codegen = "dlc_gen_0"}
func.func @chain(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = dl.fused(%x) : (tensor<2x5xf32>) -> tensor<2x5xf32> {
  ^bb0(%a: tensor<2x5xf32>):
    %1 = dl.power %a {power = 2.0 : f64, scale = 0.5 : f64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
    %2 = dl.tanh %1 : (tensor<2x5xf32>) -> tensor<2x5xf32>
    dl.yield %2 : tensor<2x5xf32>
  }
  return %0 : tensor<2x5xf32>
}

// CHECK-LABEL: func.func @sum
// CHECK: dl.fused(%arg0, %arg1) {dl.codegen = "dlc_gen_1"}
func.func @sum(%x: tensor<7xf32>, %y: tensor<7xf32>) -> tensor<7xf32> {
  %0 = dl.fused(%x, %y) : (tensor<7xf32>, tensor<7xf32>) -> tensor<7xf32> {
  ^bb0(%a: tensor<7xf32>, %b: tensor<7xf32>):
    %1 = dl.eltwise %a, %b {coeff = array<f64: 1.0, -2.0>} : (tensor<7xf32>, tensor<7xf32>) -> tensor<7xf32>
    %2 = dl.clip %1 {min = -1.0 : f64, max = 1.0 : f64} : (tensor<7xf32>) -> tensor<7xf32>
    dl.yield %2 : tensor<7xf32>
  }
  return %0 : tensor<7xf32>
}

// CHECK-LABEL: func.func @scale
// CHECK: dl.fused(%arg0, %0, %1) {dl.codegen = "dlc_gen_2"}
func.func @scale(%x: tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32> {
  %g = dl.param {name = "g", filler = {type = "constant", value = 1.0 : f64}} : tensor<3xf32>
  %b = dl.param {name = "b", filler = {type = "constant"}} : tensor<3xf32>
  %0 = dl.fused(%x, %g, %b) : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32> {
  ^bb0(%a: tensor<2x3x4x4xf32>, %s: tensor<3xf32>, %t: tensor<3xf32>):
    %1 = dl.scale %a, %s, %t : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
    %2 = dl.sigmoid %1 : (tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
    dl.yield %2 : tensor<2x3x4x4xf32>
  }
  return %0 : tensor<2x3x4x4xf32>
}

// Training-mode dropout draws a random mask, and a convolution is no
// element-wise op: these fused ops keep running as before.
// CHECK-LABEL: func.func @others
// CHECK: dl.fused(%arg0) : (tensor<8xf32>)
// CHECK: dl.fused(%arg1, %1) : (tensor<1x1x4x4xf32>
// CHECK-NOT: dl.codegen =
func.func @others(%x: tensor<8xf32>, %i: tensor<1x1x4x4xf32>) -> (tensor<8xf32>, tensor<1x2x4x4xf32>) {
  %0 = dl.fused(%x) : (tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf32>):
    %1 = dl.dropout %a {train = true, seed = 3 : i64} : (tensor<8xf32>) -> tensor<8xf32>
    %2 = dl.relu %1 : (tensor<8xf32>) -> tensor<8xf32>
    dl.yield %2 : tensor<8xf32>
  }
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<2x1x1x1xf32>
  %3 = dl.fused(%i, %w) : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32> {
  ^bb0(%a: tensor<1x1x4x4xf32>, %k: tensor<2x1x1x1xf32>):
    %4 = dl.convolution %a, %k {num_output = 2 : i64, bias_term = false, kernel = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
    %5 = dl.relu %4 : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    dl.yield %5 : tensor<1x2x4x4xf32>
  }
  return %0, %3 : tensor<8xf32>, tensor<1x2x4x4xf32>
}

// Per-channel parameters on a channel-blocked result (dl-propagate-layouts,
// docs/layouts.md): a row of one channel exists only in the plain layout.
// CHECK-LABEL: func.func @blocked_scale
// CHECK: dl.fused(%arg0, %0) {dl.layouts = ["nChw8c"]} :
// CHECK-NOT: dl.codegen =
// CHECK: return
func.func @blocked_scale(%x: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  %g = dl.param {name = "g", filler = {type = "constant", value = 1.0 : f64}} : tensor<8xf32>
  %0 = dl.fused(%x, %g) {dl.layouts = ["nChw8c"]} : (tensor<2x8x4x4xf32>, tensor<8xf32>) -> tensor<2x8x4x4xf32> {
  ^bb0(%a: tensor<2x8x4x4xf32>, %s: tensor<8xf32>):
    %1 = dl.scale %a, %s {dl.layouts = ["nChw8c"]} : (tensor<2x8x4x4xf32>, tensor<8xf32>) -> tensor<2x8x4x4xf32>
    %2 = dl.sigmoid %1 {dl.layouts = ["nChw8c"]} : (tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
    dl.yield %2 : tensor<2x8x4x4xf32>
  }
  return %0 : tensor<2x8x4x4xf32>
}

// A gradient body (backward ops inside, docs/fusion.md) runs from library
// kernels, even where its steps are element-wise.
// CHECK-LABEL: func.func @gradient_body
// CHECK: dl.fused(%arg0, %arg1) {dl.role = "backward_data"} :
// CHECK-NOT: dl.codegen =
// CHECK: return
func.func @gradient_body(%x: tensor<8xf32>, %dy: tensor<8xf32>) -> tensor<8xf32> {
  %0 = dl.fused(%x, %dy) {dl.role = "backward_data"} : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf32>, %d: tensor<8xf32>):
    %1 = dl.relu %a : (tensor<8xf32>) -> tensor<8xf32>
    %2 = dl.backward_data "relu" %a, %1, %d {num_forward_operands = 1 : i64, wrt = array<i64: 0>} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
    dl.yield %2 : tensor<8xf32>
  }
  return %0 : tensor<8xf32>
}

// The kernels: C signature (in, out, begin, end); the unrolled vector loop
// (2 x 4 lanes), the vector loop, the scalar tail.
// CHECK-LABEL: module @dl_codegen attributes {dl.codegen_kernels}
// CHECK-LABEL: func.func @dlc_gen_0(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: i64, %arg3: i64)
// CHECK: %[[IN:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: %[[OUT:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: scf.for %[[I:.*]] = %arg2 to %{{.*}} step %c8_i64 : i64 {
// CHECK: %[[P:.*]] = llvm.getelementptr %[[IN]][%[[I]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK: %[[X:.*]] = llvm.load %[[P]] {alignment = 4 : i64} : !llvm.ptr -> vector<8xf32>
// CHECK: %[[S:.*]] = arith.mulf %{{.*}}, %[[X]] : vector<8xf32>
// CHECK: %[[SQ:.*]] = arith.mulf %[[S]], %[[S]] : vector<8xf32>
// CHECK: %[[T:.*]] = math.tanh %[[SQ]] : vector<8xf32>
// CHECK: %[[Q:.*]] = llvm.getelementptr %[[OUT]][%[[I]]]
// CHECK: llvm.store %[[T]], %[[Q]] {alignment = 4 : i64} : vector<8xf32>, !llvm.ptr
// CHECK: scf.for {{.*}} step %c4_i64 : i64 {
// CHECK: math.tanh {{.*}} : vector<4xf32>
// CHECK: scf.for {{.*}} to %arg3 step %c1_i64 : i64 {
// CHECK: math.tanh {{.*}} : f32
// CHECK: return

// Eltwise: the coefficients; Clip: std::max(min, std::min(x, max)).
// CHECK-LABEL: func.func @dlc_gen_1
// CHECK: llvm.load {{.*}} -> vector<8xf32>
// CHECK: llvm.load {{.*}} -> vector<8xf32>
// CHECK: arith.mulf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK: arith.addf
// CHECK: arith.cmpf olt
// CHECK: arith.select
// CHECK: arith.cmpf olt
// CHECK: arith.select

// Per channel: rows of 16 elements (4x4) of channel (row mod 3), the scale
// and bias loaded once per row.
// CHECK-LABEL: func.func @dlc_gen_2
// CHECK: scf.while (%[[B:.*]] = %arg2) : (i64) -> i64 {
// CHECK: arith.cmpi slt, %[[B]], %arg3 : i64
// CHECK: } do {
// CHECK: %[[ROW:.*]] = arith.divsi %{{.*}}, %c16_i64 : i64
// CHECK: %[[CH:.*]] = arith.remsi %[[ROW]], %c3_i64 : i64
// CHECK: arith.minsi %{{.*}}, %arg3 : i64
// CHECK: llvm.getelementptr %{{.*}}[%[[CH]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK: llvm.load {{.*}} -> f32
// CHECK: llvm.getelementptr %{{.*}}[%[[CH]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK: llvm.load {{.*}} -> f32
// CHECK: vector.broadcast
// CHECK: math.exp
// CHECK: scf.yield
// CHECK-NOT: func.func @dlc_gen_3

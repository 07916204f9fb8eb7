// RUN: dl-opt %s -dl-plan-buffers='in-place=false' | FileCheck %s
// RUN: dl-opt %s -dl-plan-buffers | FileCheck %s --check-prefix=INPLACE

// A chain x -> a -> b -> c -> d: a and c can share memory (a is dead once b
// is computed), b and d likewise; the input keeps its own slot. Sizes are
// 1x4x4x4 floats = 256 bytes (already 64-byte aligned).
// CHECK-LABEL: func.func @chain
// CHECK-SAME: dl.offset = 0 : i64
// CHECK-SAME: dl.arena_bytes = 768 : i64
// CHECK: dl.relu {{.*}}dl.offsets = array<i64: 256>
// CHECK: dl.sigmoid {{.*}}dl.offsets = array<i64: 512>
// CHECK: dl.tanh {{.*}}dl.offsets = array<i64: 256>
// CHECK: dl.abs_val {{.*}}dl.offsets = array<i64: 512>
func.func @chain(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %a = dl.relu %x : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %b = dl.sigmoid %a : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %c = dl.tanh %b : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %d = dl.abs_val %c : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %d : tensor<1x4x4x4xf32>
}

// A value used later (the residual %a) stays live across the branch, and
// the net output is never overwritten.
// CHECK-LABEL: func.func @residual
// CHECK-SAME: dl.arena_bytes = 1024 : i64
// CHECK: dl.relu {{.*}}dl.offsets = array<i64: 256>
// CHECK: dl.sigmoid {{.*}}dl.offsets = array<i64: 512>
// CHECK: dl.tanh {{.*}}dl.offsets = array<i64: 768>
// CHECK: dl.eltwise {{.*}}dl.offsets = array<i64: 512>
func.func @residual(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %a = dl.relu %x : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %b = dl.sigmoid %a : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %c = dl.tanh %b : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %d = dl.eltwise %a, %c : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %d : tensor<1x4x4x4xf32>
}

// In place (the default): a pointwise op writes over its input when nothing
// reads the input afterwards; graph inputs are never overwritten.
// INPLACE-LABEL: func.func @chain
// INPLACE-SAME: dl.arena_bytes = 512 : i64, dl.in_place = 3 : i64, dl.naive_bytes = 1280 : i64
// INPLACE: dl.relu {{.*}}dl.offsets = array<i64: 256>
// INPLACE: dl.sigmoid {{.*}}dl.offsets = array<i64: 256>
// INPLACE: dl.tanh {{.*}}dl.offsets = array<i64: 256>
// INPLACE: dl.abs_val {{.*}}dl.offsets = array<i64: 256>
// The residual %a is read by the sum, so the sigmoid cannot overwrite it;
// the sum writes over its first input, %a, whose last use it is.
// INPLACE-LABEL: func.func @residual
// INPLACE-SAME: dl.arena_bytes = 768 : i64, dl.in_place = 2 : i64
// INPLACE: dl.relu {{.*}}dl.offsets = array<i64: 256>
// INPLACE: dl.sigmoid {{.*}}dl.offsets = array<i64: 512>
// INPLACE: dl.tanh {{.*}}dl.offsets = array<i64: 512>
// INPLACE: dl.eltwise {{.*}}dl.offsets = array<i64: 256>

// A fused kernel whose sum post-op accumulates into a blob takes that
// blob's slot; an operand read later (%x's sigmoid) is never overwritten.
// INPLACE-LABEL: func.func @fused_sum
// INPLACE: %[[A:.*]] = dl.sigmoid {{.*}}dl.offsets = array<i64: [[OFF:[0-9]+]]>
// INPLACE: dl.fused(%{{.*}}, %{{.*}}, %[[A]]) {dl.offsets = array<i64: [[OFF]]>}
func.func @fused_sum(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<4x4x1x1xf32>
  %a = dl.sigmoid %x : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %r = dl.fused(%x, %w, %a) : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  ^bb0(%ax: tensor<1x4x4x4xf32>, %aw: tensor<4x4x1x1xf32>, %aa: tensor<1x4x4x4xf32>):
    %c = dl.convolution %ax, %aw {num_output = 4 : i64, kernel = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x4x4xf32>
    %e = dl.eltwise %c, %aa : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
    %y = dl.relu %e : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
    dl.yield %y : tensor<1x4x4x4xf32>
  }
  return %r : tensor<1x4x4x4xf32>
}

// A gradient body (backward ops inside, docs/fusion.md) never writes over an
// operand, even one whose last use it is and that a sum inside adds.
// INPLACE-LABEL: func.func @fused_gradient
// INPLACE-SAME: dl.in_place = 0 : i64
// INPLACE: dl.sigmoid {{.*}}dl.offsets = array<i64: 768>
// INPLACE: dl.fused({{.*}}) {dl.offsets = array<i64: 1024>, dl.role = "backward_data"}
func.func @fused_gradient(%x: tensor<1x4x4x4xf32>, %y: tensor<1x4x4x4xf32>, %dy: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %a = dl.sigmoid %x : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %g = dl.fused(%a, %y, %dy) {dl.role = "backward_data"} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  ^bb0(%a0: tensor<1x4x4x4xf32>, %a1: tensor<1x4x4x4xf32>, %a2: tensor<1x4x4x4xf32>):
    %e = dl.eltwise %a0, %a1 : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
    %d = dl.backward_data "relu" %e, %a1, %a2 {num_forward_operands = 1 : i64, wrt = array<i64: 0>} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
    dl.yield %d : tensor<1x4x4x4xf32>
  }
  return %g : tensor<1x4x4x4xf32>
}

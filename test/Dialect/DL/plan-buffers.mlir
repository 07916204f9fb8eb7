// RUN: dl-opt %s -dl-plan-buffers | FileCheck %s

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

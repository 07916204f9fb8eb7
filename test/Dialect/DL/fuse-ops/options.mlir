// Each kind of fusion can be switched off.
// RUN: dl-opt %s -dl-fuse-ops | FileCheck %s --check-prefix=ALL
// RUN: dl-opt %s -dl-fuse-ops='activations=false' | FileCheck %s --check-prefix=NOACT
// RUN: dl-opt %s -dl-fuse-ops='batch-norm=false' | FileCheck %s --check-prefix=NOBN
// RUN: dl-opt %s -dl-fuse-ops='eltwise=false activations=false batch-norm=false' | FileCheck %s --check-prefix=NONE

// ALL: dl.fused
// ALL-NEXT: ^bb0
// ALL-NEXT: dl.inner_product
// ALL-NEXT: dl.batch_norm
// ALL-NEXT: dl.eltwise
// ALL-NEXT: dl.sigmoid
// ALL-NEXT: dl.yield

// NOACT: dl.fused
// NOACT-NEXT: ^bb0
// NOACT-NEXT: dl.inner_product
// NOACT-NEXT: dl.batch_norm
// NOACT-NEXT: dl.eltwise
// NOACT-NEXT: dl.yield
// NOACT: dl.sigmoid

// NOBN: dl.inner_product
// NOBN-NEXT: dl.batch_norm
// NOBN-NEXT: dl.fused
// NOBN-NEXT: ^bb0
// NOBN-NEXT: dl.eltwise
// NOBN-NEXT: dl.sigmoid

// NONE-NOT: dl.fused
func.func @ip(%x: tensor<2x12xf32>, %o: tensor<2x10xf32>) -> tensor<2x10xf32> {
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<10x12xf32>
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<10xf32>
  %v = dl.param {name = "v", filler = {type = "constant"}} : tensor<10xf32>
  %f = dl.param {name = "f", filler = {type = "constant"}} : tensor<1xf32>
  %y = dl.inner_product %x, %w {num_output = 10 : i64} : (tensor<2x12xf32>, tensor<10x12xf32>) -> tensor<2x10xf32>
  %n = dl.batch_norm %y, %m, %v, %f : (tensor<2x10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<1xf32>) -> tensor<2x10xf32>
  %e = dl.eltwise %n, %o : (tensor<2x10xf32>, tensor<2x10xf32>) -> tensor<2x10xf32>
  %s = dl.sigmoid %e : (tensor<2x10xf32>) -> tensor<2x10xf32>
  return %s : tensor<2x10xf32>
}

// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// dl-fuse-ops in gradient modules (option batch-norm-grad, docs/fusion.md):
// BatchNorm (global statistics) -> Scale -> [ReLU] and their backward ops.
// RUN: dl-opt %s -split-input-file -dl-fuse-ops --mlir-print-debuginfo | FileCheck %s
// RUN: dl-opt %s -split-input-file -dl-fuse-ops='batch-norm-grad=false' | FileCheck %s --check-prefix=OFF

// OFF-NOT: dl.fused

// With the ReLU: one forward fused op, and one backward fused op at the
// position of the last backward op. Its operands are the chain's input and
// parameters, then its result and the incoming gradient; its body recomputes
// the BatchNorm and Scale blobs, runs the backward ops in program order on
// them and yields the gradients read outside, in the order of the original
// backward ops' results.
// CHECK-LABEL: func.func @bn_scale_relu
// CHECK-SAME: (%[[C:[^:]*]]: tensor<2x4x3x3xf32>{{.*}}, %[[DY:[^:]*]]: tensor<2x4x3x3xf32>
// CHECK: %[[M:.*]] = dl.param {{.*}}name = "m"
// CHECK: %[[V:.*]] = dl.param {{.*}}name = "v"
// CHECK: %[[F:.*]] = dl.param {{.*}}name = "f"
// CHECK: %[[G:.*]] = dl.param {{.*}}name = "g"
// CHECK: %[[BE:.*]] = dl.param {{.*}}name = "be"
// CHECK: %[[R:.*]] = dl.fused(%[[C]], %[[M]], %[[V]], %[[F]], %[[G]], %[[BE]]) {dl.tops = ["c"]}
// CHECK: ^bb0(%[[A0:[^:]*]]: {{.*}}, %[[A1:[^:]*]]: {{.*}}, %[[A2:[^:]*]]: {{.*}}, %[[A3:[^:]*]]: {{.*}}, %[[A4:[^:]*]]: {{.*}}, %[[A5:[^:]*]]: {{[^,]*}}):
// CHECK-NEXT: %[[B:.*]] = dl.batch_norm %[[A0]], %[[A1]], %[[A2]], %[[A3]] {dl.tops = ["c"]}
// CHECK-NEXT: %[[S:.*]] = dl.scale %[[B]], %[[A4]], %[[A5]] {dl.tops = ["c"]}
// CHECK-NEXT: %[[Y:.*]] = dl.relu %[[S]]
// CHECK-NEXT: dl.yield %[[Y]]
// CHECK-NEXT: } loc(#[[LOC:[a-z0-9]+]])
// CHECK-NEXT: %[[GRAD:.*]]:3 = dl.fused(%[[C]], %[[M]], %[[V]], %[[F]], %[[G]], %[[BE]], %[[R]], %[[DY]])
// CHECK-SAME: {dl.role = "backward_data", dl.tops = ["g@grad", "be@grad", "c@grad"]}
// CHECK-SAME: -> (tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>)
// CHECK-NEXT: ^bb0(%[[B0:[^:]*]]: {{.*}}, %[[B1:[^:]*]]: {{.*}}, %[[B2:[^:]*]]: {{.*}}, %[[B3:[^:]*]]: {{.*}}, %[[B4:[^:]*]]: {{.*}}, %[[B5:[^:]*]]: {{.*}}, %[[B6:[^:]*]]: {{.*}}, %[[B7:[^:]*]]: {{.*}}):
// CHECK-NEXT: %[[RB:.*]] = dl.batch_norm %[[B0]], %[[B1]], %[[B2]], %[[B3]] {dl.tops = ["c@bn1:recomputed"]}
// CHECK-NEXT: %[[RS:.*]] = dl.scale %[[RB]], %[[B4]], %[[B5]] {dl.tops = ["c@scale1:recomputed"]}
// CHECK-NEXT: %[[DR:.*]] = dl.backward_data "relu" %[[RS]], %[[B6]], %[[B7]]
// CHECK-NEXT: %[[DS:.*]] = dl.backward_data "scale" %[[RB]], %[[B4]], %[[B5]], %[[RS]], %[[DR]]
// CHECK-NEXT: %[[DG:.*]]:2 = dl.backward_weights "scale" %[[RB]], %[[B4]], %[[B5]], %[[RS]], %[[DR]]
// CHECK-NEXT: %[[DC:.*]] = dl.backward_data "batch_norm" %[[B0]], %[[B1]], %[[B2]], %[[B3]], %[[RB]], %[[DS]]
// CHECK-NEXT: dl.yield %[[DG]]#0, %[[DG]]#1, %[[DC]]
// CHECK-NEXT: } loc(#[[LOC]])
// CHECK-NEXT: return %[[R]], %[[GRAD]]#0, %[[GRAD]]#1, %[[GRAD]]#2
// CHECK: #[[LOC]] = loc("bn1+scale1+relu1"(#{{.*}}))
func.func @bn_scale_relu(%c: tensor<2x4x3x3xf32>, %dy: tensor<2x4x3x3xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>) {
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<4xf32>
  %v = dl.param {name = "v", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %f = dl.param {name = "f", filler = {type = "constant", value = 1.0 : f64}} : tensor<1xf32>
  %g = dl.param {name = "g", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %be = dl.param {name = "be", filler = {type = "constant"}} : tensor<4xf32>
  %b = dl.batch_norm %c, %m, %v, %f {dl.tops = ["c"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<2x4x3x3xf32> loc(#bn1)
  %s = dl.scale %b, %g, %be {dl.tops = ["c"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32> loc(#scale1)
  %r = dl.relu %s {dl.tops = ["c"]} : (tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32> loc(#relu1)
  %dr = dl.backward_data "relu" %s, %r, %dy {num_forward_operands = 1 : i64, wrt = array<i64: 0>, dl.role = "backward_data", dl.tops = ["c@grad"]} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32> loc(#relu1)
  %ds = dl.backward_data "scale" %b, %g, %be, %s, %dr {axis = 1 : i64, num_axes = 1 : i64, num_forward_operands = 3 : i64, wrt = array<i64: 0>, dl.role = "backward_data", dl.tops = ["c@grad"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32> loc(#scale1)
  %dg:2 = dl.backward_weights "scale" %b, %g, %be, %s, %dr {axis = 1 : i64, num_axes = 1 : i64, num_forward_operands = 3 : i64, wrt = array<i64: 1, 2>, dl.role = "backward_weights", dl.tops = ["g@grad", "be@grad"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> (tensor<4xf32>, tensor<4xf32>) loc(#scale1)
  %dc = dl.backward_data "batch_norm" %c, %m, %v, %f, %b, %ds {num_forward_operands = 4 : i64, use_global_stats = true, wrt = array<i64: 0>, dl.role = "backward_data", dl.tops = ["c@grad"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32> loc(#bn1)
  return %r, %dg#0, %dg#1, %dc : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>
}
#bn1 = loc("bn1"("net.prototxt":9:1))
#scale1 = loc("scale1"("net.prototxt":15:1))
#relu1 = loc("relu1"("net.prototxt":21:1))

// -----

// Without a ReLU (the Scale's result feeds a residual sum): only the
// BatchNorm blob is recomputed; the Scale's result is an operand.
// CHECK-LABEL: func.func @bn_scale
// CHECK-SAME: (%[[C:[^:]*]]: tensor<2x4x3x3xf32>{{.*}}, %[[X:[^:]*]]: tensor<2x4x3x3xf32>{{.*}}, %[[DY:[^:]*]]: tensor<2x4x3x3xf32>
// CHECK: %[[S:.*]] = dl.fused(%[[C]], %{{.*}}, %{{.*}}, %{{.*}}, %[[G:.*]], %[[BE:.*]]) {dl.tops = ["s"]}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dl.batch_norm
// CHECK-NEXT: dl.scale
// CHECK-NEXT: dl.yield
// CHECK-NEXT: } loc(#[[LOC:[a-z0-9]+]])
// CHECK-NEXT: %[[E:.*]] = dl.eltwise %[[S]], %[[X]]
// CHECK-NEXT: %[[GRAD:.*]]:3 = dl.fused(%[[C]], %{{.*}}, %{{.*}}, %{{.*}}, %[[G]], %[[BE]], %[[S]], %[[DY]]) {dl.role = "backward_data", dl.tops = ["g@grad", "be@grad", "c@grad"]}
// CHECK-NEXT: ^bb0(%[[B0:[^:]*]]: {{.*}}, %[[B1:[^:]*]]: {{.*}}, %[[B2:[^:]*]]: {{.*}}, %[[B3:[^:]*]]: {{.*}}, %[[B4:[^:]*]]: {{.*}}, %[[B5:[^:]*]]: {{.*}}, %[[B6:[^:]*]]: {{.*}}, %[[B7:[^:]*]]: {{.*}}):
// CHECK-NEXT: %[[RB:.*]] = dl.batch_norm %[[B0]], %[[B1]], %[[B2]], %[[B3]] {dl.tops = ["s@bn2:recomputed"]}
// CHECK-NEXT: %[[DS:.*]] = dl.backward_data "scale" %[[RB]], %[[B4]], %[[B5]], %[[B6]], %[[B7]]
// CHECK-NEXT: %[[DG:.*]]:2 = dl.backward_weights "scale" %[[RB]], %[[B4]], %[[B5]], %[[B6]], %[[B7]]
// CHECK-NEXT: %[[DC:.*]] = dl.backward_data "batch_norm" %[[B0]], %[[B1]], %[[B2]], %[[B3]], %[[RB]], %[[DS]]
// CHECK-NEXT: dl.yield %[[DG]]#0, %[[DG]]#1, %[[DC]]
// CHECK-NEXT: } loc(#[[LOC]])
// CHECK-NEXT: return %[[E]], %[[GRAD]]#0, %[[GRAD]]#1, %[[GRAD]]#2
// CHECK: #[[LOC]] = loc("bn2+scale2"(#{{.*}}))
func.func @bn_scale(%c: tensor<2x4x3x3xf32>, %x: tensor<2x4x3x3xf32>, %dy: tensor<2x4x3x3xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>) {
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<4xf32>
  %v = dl.param {name = "v", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %f = dl.param {name = "f", filler = {type = "constant", value = 1.0 : f64}} : tensor<1xf32>
  %g = dl.param {name = "g", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %be = dl.param {name = "be", filler = {type = "constant"}} : tensor<4xf32>
  %b = dl.batch_norm %c, %m, %v, %f {dl.tops = ["s"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<2x4x3x3xf32> loc(#bn2)
  %s = dl.scale %b, %g, %be {dl.tops = ["s"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32> loc(#scale2)
  %e = dl.eltwise %s, %x : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %ds = dl.backward_data "scale" %b, %g, %be, %s, %dy {axis = 1 : i64, num_axes = 1 : i64, num_forward_operands = 3 : i64, wrt = array<i64: 0>, dl.role = "backward_data", dl.tops = ["c@grad"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32> loc(#scale2)
  %dg:2 = dl.backward_weights "scale" %b, %g, %be, %s, %dy {axis = 1 : i64, num_axes = 1 : i64, num_forward_operands = 3 : i64, wrt = array<i64: 1, 2>, dl.role = "backward_weights", dl.tops = ["g@grad", "be@grad"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> (tensor<4xf32>, tensor<4xf32>) loc(#scale2)
  %dc = dl.backward_data "batch_norm" %c, %m, %v, %f, %b, %ds {num_forward_operands = 4 : i64, wrt = array<i64: 0>, dl.role = "backward_data", dl.tops = ["c@grad"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32> loc(#bn2)
  return %e, %dg#0, %dg#1, %dc : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>
}
#bn2 = loc("bn2"("net.prototxt":9:1))
#scale2 = loc("scale2"("net.prototxt":15:1))

// -----

// A Scale without bias: the backward fused op reads no bias and yields the
// one weight gradient.
// CHECK-LABEL: func.func @scale_without_bias
// CHECK-SAME: (%[[C:[^:]*]]: tensor<2x4x3x3xf32>{{.*}}, %[[DY:[^:]*]]: tensor<2x4x3x3xf32>
// CHECK: %[[R:.*]] = dl.fused(%[[C]], %[[M:[^,]*]], %[[V:[^,]*]], %[[F:[^,]*]], %[[G:[^)]*]])
// CHECK: %[[GRAD:.*]]:2 = dl.fused(%[[C]], %[[M]], %[[V]], %[[F]], %[[G]], %[[R]], %[[DY]]) {dl.role = "backward_data", dl.tops = ["g@grad", "c@grad"]}
// CHECK-SAME: -> (tensor<4xf32>, tensor<2x4x3x3xf32>)
// CHECK-NEXT: ^bb0(%[[B0:[^:]*]]: {{.*}}, %[[B1:[^:]*]]: {{.*}}, %[[B2:[^:]*]]: {{.*}}, %[[B3:[^:]*]]: {{.*}}, %[[B4:[^:]*]]: {{.*}}, %[[B5:[^:]*]]: {{.*}}, %[[B6:[^:]*]]: {{.*}}):
// CHECK-NEXT: %[[RB:.*]] = dl.batch_norm %[[B0]], %[[B1]], %[[B2]], %[[B3]]
// CHECK-NEXT: %[[RS:.*]] = dl.scale %[[RB]], %[[B4]] {
// CHECK-NEXT: %[[DR:.*]] = dl.backward_data "relu" %[[RS]], %[[B5]], %[[B6]]
// CHECK-NEXT: %[[DS:.*]] = dl.backward_data "scale" %[[RB]], %[[B4]], %[[RS]], %[[DR]]
// CHECK-NEXT: %[[DG:.*]] = dl.backward_weights "scale" %[[RB]], %[[B4]], %[[RS]], %[[DR]]
// CHECK-NEXT: %[[DC:.*]] = dl.backward_data "batch_norm" %[[B0]], %[[B1]], %[[B2]], %[[B3]], %[[RB]], %[[DS]]
// CHECK-NEXT: dl.yield %[[DG]], %[[DC]]
// CHECK: return %[[R]], %[[GRAD]]#0, %[[GRAD]]#1
func.func @scale_without_bias(%c: tensor<2x4x3x3xf32>, %dy: tensor<2x4x3x3xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>) {
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<4xf32>
  %v = dl.param {name = "v", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %f = dl.param {name = "f", filler = {type = "constant", value = 1.0 : f64}} : tensor<1xf32>
  %g = dl.param {name = "g", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %b = dl.batch_norm %c, %m, %v, %f {dl.tops = ["c"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<2x4x3x3xf32>
  %s = dl.scale %b, %g {dl.tops = ["c"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  %r = dl.relu %s {dl.tops = ["c"]} : (tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %dr = dl.backward_data "relu" %s, %r, %dy {num_forward_operands = 1 : i64, wrt = array<i64: 0>, dl.role = "backward_data", dl.tops = ["c@grad"]} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %ds = dl.backward_data "scale" %b, %g, %s, %dr {num_forward_operands = 2 : i64, wrt = array<i64: 0>, dl.role = "backward_data", dl.tops = ["c@grad"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %dg = dl.backward_weights "scale" %b, %g, %s, %dr {num_forward_operands = 2 : i64, wrt = array<i64: 1>, dl.role = "backward_weights", dl.tops = ["g@grad"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<4xf32>
  %dc = dl.backward_data "batch_norm" %c, %m, %v, %f, %b, %ds {num_forward_operands = 4 : i64, wrt = array<i64: 0>, dl.role = "backward_data", dl.tops = ["c@grad"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  return %r, %dg, %dc : tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>
}

// -----

// A ReLU whose input another layer reads too stays out of the chain: the
// Scale's result must be kept, so only the BatchNorm blob is recomputed.
// CHECK-LABEL: func.func @relu_input_shared
// CHECK: %[[S:.*]] = dl.fused
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dl.batch_norm
// CHECK-NEXT: dl.scale
// CHECK-NEXT: dl.yield
// CHECK: dl.relu %[[S]]
// CHECK-NEXT: dl.sigmoid %[[S]]
// CHECK-NEXT: dl.backward_data "relu" %[[S]]
// CHECK-NEXT: dl.fused({{.*}}) {dl.role = "backward_data", dl.tops = ["c@grad"]}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dl.batch_norm
// CHECK-NEXT: dl.backward_data "scale"
// CHECK-NEXT: dl.backward_data "batch_norm"
// CHECK-NEXT: dl.yield
func.func @relu_input_shared(%c: tensor<2x4x3x3xf32>, %dy: tensor<2x4x3x3xf32>) -> (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) {
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<4xf32>
  %v = dl.param {name = "v", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %f = dl.param {name = "f", filler = {type = "constant", value = 1.0 : f64}} : tensor<1xf32>
  %g = dl.param {name = "g", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %b = dl.batch_norm %c, %m, %v, %f : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<2x4x3x3xf32>
  %s = dl.scale %b, %g : (tensor<2x4x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  %r = dl.relu %s : (tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %t = dl.sigmoid %s : (tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %dr = dl.backward_data "relu" %s, %r, %dy {num_forward_operands = 1 : i64, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %ds = dl.backward_data "scale" %b, %g, %s, %dr {num_forward_operands = 2 : i64, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %dc = dl.backward_data "batch_norm" %c, %m, %v, %f, %b, %ds {num_forward_operands = 4 : i64, wrt = array<i64: 0>, dl.role = "backward_data", dl.tops = ["c@grad"]} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  return %r, %t, %dc : tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>
}

// -----

// BatchNorm with batch statistics (train phase) does not fuse: its
// backward needs the statistics of the batch, not a recomputable blob.
// CHECK-LABEL: func.func @batch_statistics
// CHECK-NOT: dl.fused
// CHECK: dl.batch_norm {{.*}}use_global_stats = false
func.func @batch_statistics(%c: tensor<2x4x3x3xf32>, %dy: tensor<2x4x3x3xf32>) -> (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) {
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<4xf32>
  %v = dl.param {name = "v", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %f = dl.param {name = "f", filler = {type = "constant", value = 1.0 : f64}} : tensor<1xf32>
  %g = dl.param {name = "g", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %b = dl.batch_norm %c, %m, %v, %f {use_global_stats = false} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<2x4x3x3xf32>
  %s = dl.scale %b, %g : (tensor<2x4x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  %ds = dl.backward_data "scale" %b, %g, %s, %dy {num_forward_operands = 2 : i64, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %dc = dl.backward_data "batch_norm" %c, %m, %v, %f, %b, %ds {num_forward_operands = 4 : i64, use_global_stats = false, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  return %s, %dc : tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>
}

// -----

// A BatchNorm blob that another layer reads must be kept: no fusion.
// CHECK-LABEL: func.func @bn_output_shared
// CHECK-NOT: dl.fused
// CHECK: %[[B:.*]] = dl.batch_norm
// CHECK-NEXT: dl.scale %[[B]]
// CHECK-NEXT: dl.tanh %[[B]]
func.func @bn_output_shared(%c: tensor<2x4x3x3xf32>, %dy: tensor<2x4x3x3xf32>) -> (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) {
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<4xf32>
  %v = dl.param {name = "v", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %f = dl.param {name = "f", filler = {type = "constant", value = 1.0 : f64}} : tensor<1xf32>
  %g = dl.param {name = "g", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %b = dl.batch_norm %c, %m, %v, %f : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<2x4x3x3xf32>
  %s = dl.scale %b, %g : (tensor<2x4x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  %t = dl.tanh %b : (tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %ds = dl.backward_data "scale" %b, %g, %s, %dy {num_forward_operands = 2 : i64, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %dc = dl.backward_data "batch_norm" %c, %m, %v, %f, %b, %ds {num_forward_operands = 4 : i64, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  return %s, %t, %dc : tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>
}

// -----

// A Scale at axis 2 is not per channel: no fusion.
// CHECK-LABEL: func.func @scale_axis_2
// CHECK-NOT: dl.fused
// CHECK: dl.scale {{.*}}axis = 2
func.func @scale_axis_2(%c: tensor<2x4x3x3xf32>, %dy: tensor<2x4x3x3xf32>) -> (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) {
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<4xf32>
  %v = dl.param {name = "v", filler = {type = "constant", value = 1.0 : f64}} : tensor<4xf32>
  %f = dl.param {name = "f", filler = {type = "constant", value = 1.0 : f64}} : tensor<1xf32>
  %g = dl.param {name = "g", filler = {type = "constant", value = 1.0 : f64}} : tensor<3xf32>
  %b = dl.batch_norm %c, %m, %v, %f : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<2x4x3x3xf32>
  %s = dl.scale %b, %g {axis = 2 : i64} : (tensor<2x4x3x3xf32>, tensor<3xf32>) -> tensor<2x4x3x3xf32>
  %ds = dl.backward_data "scale" %b, %g, %s, %dy {axis = 2 : i64, num_forward_operands = 2 : i64, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x4x3x3xf32>, tensor<3xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  %dc = dl.backward_data "batch_norm" %c, %m, %v, %f, %b, %ds {num_forward_operands = 4 : i64, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<2x4x3x3xf32>
  return %s, %dc : tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>
}

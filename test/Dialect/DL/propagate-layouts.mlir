// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// dl-propagate-layouts (docs/layouts.md): one case per rule.
// RUN: dl-opt %s -split-input-file --dl-propagate-layouts=block=16 | FileCheck %s
// RUN: dl-opt %s -split-input-file --dl-propagate-layouts=block=16 --mlir-print-debuginfo | FileCheck %s --check-prefix=LOC
// RUN: dl-opt %s -split-input-file --dl-propagate-layouts=block=8 | FileCheck %s --check-prefix=B8
// RUN: dl-opt %s -split-input-file --dl-propagate-layouts=block=0 | FileCheck %s --check-prefix=OFF
// RUN: not dl-opt %s -split-input-file --dl-propagate-layouts=block=4 2>&1 | FileCheck %s --check-prefix=BAD

// block=0 (dlc compile --layout plain) leaves the IR as it is.
// OFF-NOT: dl.layout
// OFF-NOT: dl.reorder
// OFF: func.func @scale_axis
// OFF-NOT: dl.layout
// OFF-NOT: dl.reorder
// BAD: dl-propagate-layouts: block must be 0 (plain), 8 or 16, got 4

// Convolution -> ReLU -> Pooling: blocked from end to end, no reorder. The
// graph input and the weights stay plain (the convolution reads them as they
// are); the function records the layout.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: attributes {dl.layout = "nChw16c"}
// CHECK: %[[W:.*]] = dl.param
// CHECK-NOT: dl.layouts
// CHECK-SAME: tensor<32x16x3x3xf32>
// CHECK: %[[C:.*]] = dl.convolution %arg0, %[[W]] {dl.layouts = ["nChw16c"]
// CHECK: %[[R:.*]] = dl.relu %[[C]] {dl.layouts = ["nChw16c"]
// CHECK: %[[P:.*]] = dl.pooling %[[R]] {dl.layouts = ["nChw16c"]
// CHECK-NOT: dl.reorder
// CHECK: return %[[P]]
// B8-LABEL: func.func @chain
// B8-SAME: attributes {dl.layout = "nChw8c"}
// B8: dl.convolution {{.*}}dl.layouts = ["nChw8c"]
func.func @chain(%x: tensor<2x16x8x8xf32>) -> tensor<2x32x4x4xf32> {
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<32x16x3x3xf32>
  %c = dl.convolution %x, %w {num_output = 32 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<2x16x8x8xf32>, tensor<32x16x3x3xf32>) -> tensor<2x32x8x8xf32>
  %r = dl.relu %c : (tensor<2x32x8x8xf32>) -> tensor<2x32x8x8xf32>
  %p = dl.pooling %r {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x32x8x8xf32>) -> tensor<2x32x4x4xf32>
  return %p : tensor<2x32x4x4xf32>
}

// -----

// Channels that are not a multiple of the block: everything stays plain.
// CHECK-LABEL: func.func @not_blockable
// CHECK-NOT: dl.layouts =
// CHECK-NOT: dl.reorder
// CHECK: return
// B8-LABEL: func.func @not_blockable
// B8-NOT: dl.layouts =
// B8: return
func.func @not_blockable(%x: tensor<2x16x8x8xf32>) -> tensor<2x20x4x4xf32> {
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<20x16x3x3xf32>
  %c = dl.convolution %x, %w {num_output = 20 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<2x16x8x8xf32>, tensor<20x16x3x3xf32>) -> tensor<2x20x8x8xf32>
  %r = dl.relu %c : (tensor<2x20x8x8xf32>) -> tensor<2x20x8x8xf32>
  %p = dl.pooling %r {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x20x8x8xf32>) -> tensor<2x20x4x4xf32>
  return %p : tensor<2x20x4x4xf32>
}

// -----

// A convolution on an image whose channels cannot be blocked (RGB) reads it
// plain and writes its result blocked, so what follows is blocked too.
// CHECK-LABEL: func.func @image_input
// CHECK: dl.convolution %arg0, {{.*}}dl.layouts = ["nChw16c"]
// CHECK: dl.batch_norm {{.*}}dl.layouts = ["nChw16c"]
// CHECK-NOT: dl.reorder
// CHECK: return
func.func @image_input(%x: tensor<2x3x8x8xf32>) -> tensor<2x16x8x8xf32> {
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<16x3x3x3xf32>
  %c = dl.convolution %x, %w {num_output = 16 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<16x3x3x3xf32>) -> tensor<2x16x8x8xf32>
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<16xf32>
  %v = dl.param {name = "v", filler = {type = "constant"}} : tensor<16xf32>
  %f = dl.param {name = "f", filler = {type = "constant"}} : tensor<1xf32>
  %b = dl.batch_norm %c, %m, %v, %f {use_global_stats = true} : (tensor<2x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<1xf32>) -> tensor<2x16x8x8xf32>
  return %b : tensor<2x16x8x8xf32>
}

// -----

// Readers of the plain layout only (InnerProduct, Flatten): one reorder
// right before the first, shared by the second, named after the first
// reader's layer at its position.
// CHECK-LABEL: func.func @plain_readers
// CHECK: %[[P:.*]] = dl.pooling {{.*}}dl.layouts = ["nChw16c"], dl.tops = ["pool"]
// CHECK-NEXT: %[[W:.*]] = dl.param
// CHECK-NEXT: %[[T:.*]] = dl.reorder %[[P]] {dl.layouts = ["plain"], dl.tops = ["pool:plain"]} : (tensor<2x32x4x4xf32>) -> tensor<2x32x4x4xf32>
// CHECK-NEXT: %[[IP:.*]] = dl.inner_product %[[T]], %[[W]] {dl.tops = ["ip"], num_output = 10 : i64}
// CHECK-NEXT: %[[F:.*]] = dl.flatten %[[T]] {dl.tops = ["flat"]}
// CHECK-NEXT: return %[[IP]], %[[F]]
// LOC: #[[IPLOC:.*]] = loc("n.prototxt":4:1)
// LOC: loc("ip:reorder"(#[[IPLOC]]))
func.func @plain_readers(%x: tensor<2x32x8x8xf32>) -> (tensor<2x10xf32>, tensor<2x512xf32>) {
  %p = dl.pooling %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, dl.tops = ["pool"]} : (tensor<2x32x8x8xf32>) -> tensor<2x32x4x4xf32> loc(#pool)
  %w = dl.param {name = "iw", filler = {type = "xavier"}} : tensor<10x512xf32>
  %ip = dl.inner_product %p, %w {num_output = 10 : i64, dl.tops = ["ip"]} : (tensor<2x32x4x4xf32>, tensor<10x512xf32>) -> tensor<2x10xf32> loc(#ip)
  %f = dl.flatten %p {dl.tops = ["flat"]} : (tensor<2x32x4x4xf32>) -> tensor<2x512xf32> loc(#flat)
  return %ip, %f : tensor<2x10xf32>, tensor<2x512xf32>
}
#pool = loc("pool"("n.prototxt":3:1))
#ip = loc("ip"("n.prototxt":4:1))
#flat = loc("flat"("n.prototxt":5:1))

// -----

// Eltwise with a plain operand (the graph input) and a blocked one: its
// operands share one layout, the blocked one, so the plain one is reordered.
// CHECK-LABEL: func.func @eltwise_mixed
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x8x8xf32>
// CHECK: %[[P:.*]] = dl.pooling %[[X]] {{{.*}}dl.layouts = ["nChw16c"]
// CHECK: %[[T:.*]] = dl.reorder %[[X]] {dl.layouts = ["nChw16c"], dl.tops = ["data:nChw16c"]}
// CHECK-NEXT: dl.eltwise %[[T]], %[[P]] {dl.layouts = ["nChw16c"]
func.func @eltwise_mixed(%x: tensor<2x16x8x8xf32> {dl.name = "data"}) -> tensor<2x16x8x8xf32> {
  %p = dl.pooling %x {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  %e = dl.eltwise %x, %p {operation = "sum"} : (tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  return %e : tensor<2x16x8x8xf32>
}

// -----

// Backward ops of a convolution: the data gradient takes the layout of
// the operand it is the gradient of (blocked), the weight gradients stay
// plain; the ops read their operands as they are (the plain result
// gradient included).
// CHECK-LABEL: func.func @conv_backward
// CHECK: %[[P:.*]] = dl.pooling {{.*}}dl.layouts = ["nChw16c"]
// CHECK: dl.backward_data "convolution" %[[P]], {{.*}}dl.layouts = ["nChw16c"]
// CHECK: dl.backward_weights "convolution" %[[P]],
// CHECK-NOT: dl.layouts
// CHECK-SAME: -> tensor<16x16x3x3xf32>
// CHECK-NOT: dl.reorder
func.func @conv_backward(%x: tensor<2x16x4x4xf32>, %dy: tensor<2x16x4x4xf32>) -> (tensor<2x16x4x4xf32>, tensor<16x16x3x3xf32>) {
  %p = dl.pooling %x {kernel = array<i64: 1, 1>} : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<16x16x3x3xf32>
  %c = dl.convolution %p, %w {num_output = 16 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<2x16x4x4xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x4x4xf32>
  %dx = dl.backward_data "convolution" %p, %w, %c, %dy {num_output = 16 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>, num_forward_operands = 2 : i64, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x16x4x4xf32>, tensor<16x16x3x3xf32>, tensor<2x16x4x4xf32>, tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
  %dw = dl.backward_weights "convolution" %p, %w, %c, %dy {num_output = 16 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>, num_forward_operands = 2 : i64, wrt = array<i64: 1>, dl.role = "backward_weights"} : (tensor<2x16x4x4xf32>, tensor<16x16x3x3xf32>, tensor<2x16x4x4xf32>, tensor<2x16x4x4xf32>) -> tensor<16x16x3x3xf32>
  return %dx, %dw : tensor<2x16x4x4xf32>, tensor<16x16x3x3xf32>
}

// -----

// The backward op of an element-wise op reads its input, output and
// output gradient in one layout: the plain gradient is reordered, with the
// backward op's role, and the input gradient is blocked.
// CHECK-LABEL: func.func @relu_backward
// CHECK: %[[R:.*]] = dl.relu %[[P:.*]] {dl.layouts = ["nChw16c"]
// CHECK: %[[T:.*]] = dl.reorder %arg1 {dl.layouts = ["nChw16c"], dl.role = "backward_data", dl.tops = ["dy:nChw16c"]}
// CHECK-NEXT: dl.backward_data "relu" %[[P]], %[[R]], %[[T]] {{{.*}}dl.layouts = ["nChw16c"]
func.func @relu_backward(%x: tensor<2x16x4x4xf32>, %dy: tensor<2x16x4x4xf32> {dl.name = "dy"}) -> tensor<2x16x4x4xf32> {
  %p = dl.pooling %x {kernel = array<i64: 1, 1>} : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
  %r = dl.relu %p : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
  %dp = dl.backward_data "relu" %p, %r, %dy {num_forward_operands = 1 : i64, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x16x4x4xf32>, tensor<2x16x4x4xf32>, tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
  return %dp : tensor<2x16x4x4xf32>
}

// -----

// A fused convolution + ReLU: the body's values and the fused result are
// blocked; the weights stay plain.
// CHECK-LABEL: func.func @fused_conv_relu
// CHECK: %[[F:.*]] = dl.fused(%arg0, %{{.*}}) {dl.layouts = ["nChw16c"]}
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: dl.convolution {{.*}}dl.layouts = ["nChw16c"]
// CHECK-NEXT: dl.relu {{.*}}dl.layouts = ["nChw16c"]
// CHECK-NEXT: dl.yield
// CHECK-NOT: dl.reorder
func.func @fused_conv_relu(%x: tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32> {
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<16x16x3x3xf32>
  %f = dl.fused(%x, %w) : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x8x8xf32> {
  ^bb0(%a: tensor<2x16x8x8xf32>, %b: tensor<16x16x3x3xf32>):
    %c = dl.convolution %a, %b {num_output = 16 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x8x8xf32>
    %r = dl.relu %c : (tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
    dl.yield %r : tensor<2x16x8x8xf32>
  }
  return %f : tensor<2x16x8x8xf32>
}

// -----

// A fused element-wise body whose operands come in two layouts: no reorder
// inside the region; the plain operand is reordered outside, as for an
// Eltwise on its own, and the body runs blocked.
// CHECK-LABEL: func.func @fused_mixed_operands
// CHECK: %[[P:.*]] = dl.pooling
// CHECK: %[[T:.*]] = dl.reorder %arg1 {dl.layouts = ["nChw16c"]
// CHECK-NEXT: dl.fused(%[[P]], %[[T]]) {dl.layouts = ["nChw16c"]}
// CHECK: dl.eltwise {{.*}}dl.layouts = ["nChw16c"]
// CHECK-NEXT: dl.sigmoid {{.*}}dl.layouts = ["nChw16c"]
func.func @fused_mixed_operands(%x: tensor<2x16x8x8xf32>, %y: tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32> {
  %p = dl.pooling %x {kernel = array<i64: 1, 1>} : (tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  %f = dl.fused(%p, %y) : (tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32> {
  ^bb0(%a: tensor<2x16x8x8xf32>, %b: tensor<2x16x8x8xf32>):
    %e = dl.eltwise %a, %b {operation = "sum"} : (tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
    %s = dl.sigmoid %e : (tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
    dl.yield %s : tensor<2x16x8x8xf32>
  }
  return %f : tensor<2x16x8x8xf32>
}

// -----

// A fused body that would need a reorder between its layers (a blocked
// convolution result read by a Scale along the height axis, which reads the
// plain layout only) runs plain: its blocked operand is reordered to plain
// outside, every value inside is plain.
// CHECK-LABEL: func.func @fused_plain_body
// CHECK: %[[P:.*]] = dl.pooling {{.*}}dl.layouts = ["nChw16c"]
// CHECK: %[[T:.*]] = dl.reorder %[[P]] {dl.layouts = ["plain"]
// CHECK-NEXT: dl.fused(%[[T]], %{{.*}}, %{{.*}}) :
// CHECK-NOT: dl.layouts
// CHECK: return
func.func @fused_plain_body(%y: tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32> {
  %p = dl.pooling %y {kernel = array<i64: 1, 1>} : (tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  %w = dl.param {name = "w", filler = {type = "xavier"}} : tensor<16x16x3x3xf32>
  %g = dl.param {name = "g", filler = {type = "constant"}} : tensor<8xf32>
  %f = dl.fused(%p, %w, %g) : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>, tensor<8xf32>) -> tensor<2x16x8x8xf32> {
  ^bb0(%a: tensor<2x16x8x8xf32>, %b: tensor<16x16x3x3xf32>, %d: tensor<8xf32>):
    %c = dl.convolution %a, %b {num_output = 16 : i64, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1>} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x8x8xf32>
    %e = dl.scale %c, %d {axis = 2 : i64} : (tensor<2x16x8x8xf32>, tensor<8xf32>) -> tensor<2x16x8x8xf32>
    %r = dl.relu %e : (tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
    dl.yield %r : tensor<2x16x8x8xf32>
  }
  return %f : tensor<2x16x8x8xf32>
}

// -----

// A Scale along axis 2 is not per channel: it reads the plain layout only.
// With axis 1 (or -3) it reads the blocked one.
// CHECK-LABEL: func.func @scale_axis
// CHECK: %[[P:.*]] = dl.pooling {{.*}}dl.layouts = ["nChw16c"]
// CHECK: %[[T:.*]] = dl.reorder %[[P]] {dl.layouts = ["plain"]
// CHECK-NEXT: dl.scale %[[T]], %{{.*}} {axis = 2 : i64}
// CHECK-NEXT: dl.scale %[[P]], %{{.*}} {axis = -3 : i64, dl.layouts = ["nChw16c"]}
func.func @scale_axis(%x: tensor<2x16x8x8xf32>) -> (tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>) {
  %p = dl.pooling %x {kernel = array<i64: 1, 1>} : (tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  %h = dl.param {name = "h", filler = {type = "constant", value = 2.0 : f64}} : tensor<8xf32>
  %c = dl.param {name = "c", filler = {type = "constant", value = 2.0 : f64}} : tensor<16xf32>
  %s = dl.scale %p, %h {axis = 2 : i64} : (tensor<2x16x8x8xf32>, tensor<8xf32>) -> tensor<2x16x8x8xf32>
  %t = dl.scale %p, %c {axis = -3 : i64} : (tensor<2x16x8x8xf32>, tensor<16xf32>) -> tensor<2x16x8x8xf32>
  return %s, %t : tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>
}

// -----

// A gradient body (docs/fusion.md): the recomputed BatchNorm and Scale and
// the backward ops are blocked as they would be unfused, the Scale's weight
// gradient is plain; the plain incoming gradient is reordered outside, by a
// reorder of the backward graph.
// CHECK-LABEL: func.func @fused_gradient
// CHECK: %[[C:.*]] = dl.pooling {{.*}}dl.layouts = ["nChw16c"]
// CHECK: %[[R:.*]] = dl.fused(%[[C]], {{.*}}) {dl.layouts = ["nChw16c"]}
// CHECK: %[[T:.*]] = dl.reorder %arg1 {dl.layouts = ["nChw16c"], dl.role = "backward_data", dl.tops = ["dy:nChw16c"]}
// CHECK-NEXT: dl.fused(%[[C]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[R]], %[[T]]) {dl.layouts = ["plain", "nChw16c"], dl.role = "backward_data"}
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: dl.batch_norm {{.*}}dl.layouts = ["nChw16c"]
// CHECK-NEXT: dl.scale {{.*}}dl.layouts = ["nChw16c"]
// CHECK-NEXT: dl.backward_data "relu" {{.*}}dl.layouts = ["nChw16c"]
// CHECK-NEXT: dl.backward_data "scale" {{.*}}dl.layouts = ["nChw16c"]
// CHECK-NEXT: dl.backward_weights "scale" {{[^{]*}} {dl.role = "backward_weights",
// CHECK-NEXT: dl.backward_data "batch_norm" {{.*}}dl.layouts = ["nChw16c"]
// CHECK-NEXT: dl.yield
func.func @fused_gradient(%x: tensor<2x16x4x4xf32>, %dy: tensor<2x16x4x4xf32> {dl.name = "dy"}) -> (tensor<16xf32>, tensor<2x16x4x4xf32>) {
  %m = dl.param {name = "m", filler = {type = "constant"}} : tensor<16xf32>
  %v = dl.param {name = "v", filler = {type = "constant", value = 1.0 : f64}} : tensor<16xf32>
  %f = dl.param {name = "f", filler = {type = "constant", value = 1.0 : f64}} : tensor<1xf32>
  %g = dl.param {name = "g", filler = {type = "constant", value = 1.0 : f64}} : tensor<16xf32>
  %c = dl.pooling %x {kernel = array<i64: 1, 1>} : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
  %r = dl.fused(%c, %m, %v, %f, %g) : (tensor<2x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<1xf32>, tensor<16xf32>) -> tensor<2x16x4x4xf32> {
  ^bb0(%a0: tensor<2x16x4x4xf32>, %a1: tensor<16xf32>, %a2: tensor<16xf32>, %a3: tensor<1xf32>, %a4: tensor<16xf32>):
    %b = dl.batch_norm %a0, %a1, %a2, %a3 : (tensor<2x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<1xf32>) -> tensor<2x16x4x4xf32>
    %s = dl.scale %b, %a4 : (tensor<2x16x4x4xf32>, tensor<16xf32>) -> tensor<2x16x4x4xf32>
    %y = dl.relu %s : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
    dl.yield %y : tensor<2x16x4x4xf32>
  }
  %d:2 = dl.fused(%c, %m, %v, %f, %g, %r, %dy) {dl.role = "backward_data"} : (tensor<2x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<1xf32>, tensor<16xf32>, tensor<2x16x4x4xf32>, tensor<2x16x4x4xf32>) -> (tensor<16xf32>, tensor<2x16x4x4xf32>) {
  ^bb0(%a0: tensor<2x16x4x4xf32>, %a1: tensor<16xf32>, %a2: tensor<16xf32>, %a3: tensor<1xf32>, %a4: tensor<16xf32>, %a5: tensor<2x16x4x4xf32>, %a6: tensor<2x16x4x4xf32>):
    %b = dl.batch_norm %a0, %a1, %a2, %a3 : (tensor<2x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<1xf32>) -> tensor<2x16x4x4xf32>
    %s = dl.scale %b, %a4 : (tensor<2x16x4x4xf32>, tensor<16xf32>) -> tensor<2x16x4x4xf32>
    %dr = dl.backward_data "relu" %s, %a5, %a6 {num_forward_operands = 1 : i64, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x16x4x4xf32>, tensor<2x16x4x4xf32>, tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
    %ds = dl.backward_data "scale" %b, %a4, %s, %dr {num_forward_operands = 2 : i64, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x16x4x4xf32>, tensor<16xf32>, tensor<2x16x4x4xf32>, tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
    %dg = dl.backward_weights "scale" %b, %a4, %s, %dr {num_forward_operands = 2 : i64, wrt = array<i64: 1>, dl.role = "backward_weights"} : (tensor<2x16x4x4xf32>, tensor<16xf32>, tensor<2x16x4x4xf32>, tensor<2x16x4x4xf32>) -> tensor<16xf32>
    %dc = dl.backward_data "batch_norm" %a0, %a1, %a2, %a3, %b, %ds {num_forward_operands = 4 : i64, wrt = array<i64: 0>, dl.role = "backward_data"} : (tensor<2x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<1xf32>, tensor<2x16x4x4xf32>, tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
    dl.yield %dg, %dc : tensor<16xf32>, tensor<2x16x4x4xf32>
  }
  return %d#0, %d#1 : tensor<16xf32>, tensor<2x16x4x4xf32>
}

// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// Verifier errors of dl.param, the backward ops, dl.fused and the layout
// attributes, one case per rule. The
// layer ops' shape and parameter rules (lib/Ops/<Family>.cpp) are tested
// family by family in invalid/<family>.mlir.
// RUN: dl-opt %s -split-input-file -verify-diagnostics

func.func @param_no_type() {
  // expected-error @+1 {{filler must have a string 'type'}}
  %0 = dl.param {name = "w", filler = {value = 1.0}} : tensor<2xf32>
  return
}

// -----

func.func @param_bad_type() {
  // expected-error @+1 {{filler type "foo" is not one of constant, gaussian, xavier, msra, uniform, positive_unitball, bilinear}}
  %0 = dl.param {name = "w", filler = {type = "foo"}} : tensor<2xf32>
  return
}

// -----

func.func @param_unknown_key() {
  // expected-error @+1 {{unknown filler key 'stddev'}}
  %0 = dl.param {name = "w", filler = {type = "gaussian", stddev = 1.0}} : tensor<2xf32>
  return
}

// -----

func.func @param_variance_norm() {
  // expected-error @+1 {{filler variance_norm must be one of "fan_in", "fan_out", "average"}}
  %0 = dl.param {name = "w", filler = {type = "xavier", variance_norm = "fan"}} : tensor<2xf32>
  return
}

// -----

func.func @param_value_type() {
  // expected-error @+1 {{filler value must be a number}}
  %0 = dl.param {name = "w", filler = {type = "constant", value = "one"}} : tensor<2xf32>
  return
}

// -----

func.func @param_uniform_range() {
  // expected-error @+1 {{uniform filler needs min <= max}}
  %0 = dl.param {name = "w", filler = {type = "uniform", min = 1.0, max = 0.5}} : tensor<2xf32>
  return
}

// -----

func.func @param_dynamic() {
  // expected-error @+1 {{must be statically shaped tensor of 32-bit float values}}
  %0 = dl.param {name = "w", filler = {type = "constant"}} : tensor<?xf32>
  return
}

// -----

// expected-error @+1 {{'dl.name' on a function argument must be a string attribute}}
func.func @name_attr(%x: tensor<2x3xf32> {dl.name = 3 : i64}) {
  return
}

// -----

// Layouts (docs/layouts.md): a blocked one needs rank 4 and C a multiple of
// the block.
func.func @layouts_not_blockable(%x: tensor<2x20x4x4xf32>) {
  // expected-error @+1 {{result 0 of type 'tensor<2x20x4x4xf32>' cannot be stored as nChw16c (rank 4, channels a multiple of 16)}}
  %0 = dl.relu %x {dl.layouts = ["nChw16c"]} : (tensor<2x20x4x4xf32>) -> tensor<2x20x4x4xf32>
  return
}

// -----

func.func @layouts_name(%x: tensor<2x16x4x4xf32>) {
  // expected-error @+1 {{'dl.layouts' entries must be "plain", "nChw8c" or "nChw16c", got "nchw"}}
  %0 = dl.relu %x {dl.layouts = ["nchw"]} : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
  return
}

// -----

func.func @layouts_count(%x: tensor<2x16x4x4xf32>) {
  // expected-error @+1 {{'dl.layouts' must be an array of one layout name per result (1)}}
  %0 = dl.relu %x {dl.layouts = ["plain", "plain"]} : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32>
  return
}

// -----

// expected-error @+1 {{'dl.layout' must be "plain", "nChw8c" or "nChw16c"}}
func.func @function_layout(%x: tensor<2x16x4x4xf32>) attributes {dl.layout = "nChw4c"} {
  return
}

// -----

// dl.fused holds layer ops and backward ops only.
func.func @fused_param(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = dl.fused(%x) : (tensor<2x4xf32>) -> tensor<2x4xf32> {
  ^bb0(%a: tensor<2x4xf32>):
    // expected-error @+1 {{cannot be fused: only dl layer ops and their backward ops run inside dl.fused}}
    %g = dl.param {name = "g", filler = {type = "constant"}} : tensor<4xf32>
    %s = dl.scale %a, %g : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    dl.yield %s : tensor<2x4xf32>
  }
  return %0 : tensor<2x4xf32>
}

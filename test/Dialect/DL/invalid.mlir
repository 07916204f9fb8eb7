// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// Verifier errors of dl.param and the backward ops, one case per rule. The
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

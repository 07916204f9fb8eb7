// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// The Arithmetic family's shape and parameter rules (lib/Ops/Arithmetic.cpp): one
// case per rule, with Caffe's messages.
// RUN: dl-opt %s -split-input-file -verify-diagnostics

func.func @eltwise_shapes(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+1 {{eltwise operands must have identical shapes, got [2, 3] and [2, 4]}}
  %0 = dl.eltwise %a, %b : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @eltwise_coeff_count(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{eltwise takes one coefficient per input: got 3 coefficients for 2 inputs}}
  %0 = dl.eltwise %a, %a {coeff = array<f64: 1.0, 1.0, 1.0>} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @eltwise_coeff_prod(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{eltwise only takes coefficients for summation}}
  %0 = dl.eltwise %a, %a {operation = "prod", coeff = array<f64: 1.0, 1.0>} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @eltwise_operation(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{eltwise operation must be one of "prod", "sum", "max", got "min"}}
  %0 = dl.eltwise %a, %a {operation = "min"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @eltwise_one_input(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{eltwise needs at least 2 inputs, got 1}}
  %0 = dl.eltwise %a : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reduction_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{reduction axis 2 out of range for rank 2}}
  %0 = dl.reduction %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reduction_operation(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{reduction operation must be one of "sum", "asum", "sumsq", "mean", got "max"}}
  %0 = dl.reduction %x {operation = "max"} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @argmax_top_k(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{argmax top_k must be at least 1, got 0}}
  %0 = dl.argmax %x {top_k = 0 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @argmax_top_k_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{argmax top_k 3 must be less than or equal to the dimension of the axis (2)}}
  %0 = dl.argmax %x {top_k = 3 : i64, axis = 0 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @argmax_top_k_flat(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{argmax top_k 4 must be less than or equal to the dimension of the flattened input per item (3)}}
  %0 = dl.argmax %x {top_k = 4 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @argmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{argmax axis 2 out of range for rank 2}}
  %0 = dl.argmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

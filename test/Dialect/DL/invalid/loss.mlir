// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// The Loss family's shape and parameter rules (lib/Ops/Loss.cpp): one
// case per rule, with Caffe's messages.
// RUN: dl-opt %s -split-input-file -verify-diagnostics

func.func @softmax_loss_labels(%l: tensor<4x10x2xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{softmax_with_loss: number of labels 4 (label shape [4]) must match outer * inner = 8 of logits [4, 10, 2] at axis 1}}
  %0 = dl.softmax_with_loss %l, %y : (tensor<4x10x2xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @softmax_loss_normalization(%l: tensor<4x10xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{normalization must be one of "full", "valid", "batch_size", "none", got "mean"}}
  %0 = dl.softmax_with_loss %l, %y {normalization = "mean"} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @loss_not_scalar(%l: tensor<4x10xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{result type(s) 'tensor<4xf32>' incompatible with the inferred type(s) 'tensor<f32>'}}
  %0 = dl.softmax_with_loss %l, %y : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @euclidean_count(%a: tensor<4x10xf32>, %b: tensor<4x9xf32>) {
  // expected-error @+1 {{euclidean_loss inputs must have the same count, got [4, 10] and [4, 9]}}
  %0 = dl.euclidean_loss %a, %b : (tensor<4x10xf32>, tensor<4x9xf32>) -> tensor<f32>
  return
}

// -----

func.func @euclidean_num(%a: tensor<4x10xf32>, %b: tensor<2x20xf32>) {
  // expected-error @+1 {{euclidean_loss: the data and label should have the same first dimension, got [4, 10] and [2, 20]}}
  %0 = dl.euclidean_loss %a, %b : (tensor<4x10xf32>, tensor<2x20xf32>) -> tensor<f32>
  return
}

// -----

func.func @sigmoid_ce_count(%a: tensor<4x10xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{sigmoid_cross_entropy_loss inputs must have the same count, got [4, 10] and [4, 5]}}
  %0 = dl.sigmoid_cross_entropy_loss %a, %b : (tensor<4x10xf32>, tensor<4x5xf32>) -> tensor<f32>
  return
}

// -----

func.func @contrastive_channels(%a: tensor<4x10xf32>, %b: tensor<4x5xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{contrastive_loss a and b must have the same channels, got [4, 10] and [4, 5]}}
  %0 = dl.contrastive_loss %a, %b, %s : (tensor<4x10xf32>, tensor<4x5xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @contrastive_spatial(%a: tensor<4x10x2x1xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{contrastive_loss a shape [4, 10, 2, 1] must be [N, C] or [N, C, 1, 1]}}
  %0 = dl.contrastive_loss %a, %a, %s : (tensor<4x10x2x1xf32>, tensor<4x10x2x1xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @contrastive_similar(%a: tensor<4x10xf32>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{contrastive_loss similar shape [4, 2] must be [N] or [N, 1, 1, 1]}}
  %0 = dl.contrastive_loss %a, %a, %s : (tensor<4x10xf32>, tensor<4x10xf32>, tensor<4x2xf32>) -> tensor<f32>
  return
}

// -----

func.func @accuracy_top_k(%l: tensor<4x10xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{accuracy top_k 11 must be less than or equal to the number of classes 10}}
  %0 = dl.accuracy %l, %y {top_k = 11 : i64} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @accuracy_labels(%l: tensor<4x10xf32>, %y: tensor<5xf32>) {
  // expected-error @+1 {{accuracy: number of labels 5 (label shape [5]) must match outer * inner = 4 of logits [4, 10] at axis 1}}
  %0 = dl.accuracy %l, %y : (tensor<4x10xf32>, tensor<5xf32>) -> tensor<f32>
  return
}

// -----

func.func @hinge_labels(%x: tensor<4x10xf32>, %l: tensor<4x2xf32>) {
  // expected-error @+1 {{hinge_loss takes one label per item: label shape [4, 2] for input [4, 10]}}
  %0 = dl.hinge_loss %x, %l : (tensor<4x10xf32>, tensor<4x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @hinge_first_dim(%x: tensor<4x10xf32>, %l: tensor<2xf32>) {
  // expected-error @+1 {{hinge_loss: the data and label should have the same first dimension, got [4, 10] and [2]}}
  %0 = dl.hinge_loss %x, %l : (tensor<4x10xf32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @hinge_norm(%x: tensor<4x10xf32>, %l: tensor<4xf32>) {
  // expected-error @+1 {{norm must be one of "l1", "l2", got "l3"}}
  %0 = dl.hinge_loss %x, %l {norm = "l3"} : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @infogain_matrix(%x: tensor<4x10xf32>, %l: tensor<4xf32>, %h: tensor<9x9xf32>) {
  // expected-error @+1 {{infogain_loss infogain shape [9, 9] must hold 10 x 10 values (the number of classes squared)}}
  %0 = dl.infogain_loss %x, %l, %h : (tensor<4x10xf32>, tensor<4xf32>, tensor<9x9xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @infogain_labels(%x: tensor<4x10x2xf32>, %l: tensor<4xf32>, %h: tensor<10x10xf32>) {
  // expected-error @+1 {{infogain_loss: number of labels 4 (label shape [4]) must match outer * inner = 8 of logits [4, 10, 2] at axis 1}}
  %0 = dl.infogain_loss %x, %l, %h : (tensor<4x10x2xf32>, tensor<4xf32>, tensor<10x10xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @infogain_normalization(%x: tensor<4x10xf32>, %l: tensor<4xf32>, %h: tensor<10x10xf32>) {
  // expected-error @+1 {{normalization must be one of "full", "valid", "batch_size", "none", got "mean"}}
  %0 = dl.infogain_loss %x, %l, %h {normalization = "mean"} : (tensor<4x10xf32>, tensor<4xf32>, tensor<10x10xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @multinomial_label(%x: tensor<4x10xf32>, %l: tensor<4x2xf32>) {
  // expected-error @+1 {{multinomial_logistic_loss label shape [4, 2] must be [N] or [N, 1, 1, 1]}}
  %0 = dl.multinomial_logistic_loss %x, %l : (tensor<4x10xf32>, tensor<4x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @multinomial_first_dim(%x: tensor<4x10xf32>, %l: tensor<3xf32>) {
  // expected-error @+1 {{multinomial_logistic_loss: the data and label should have the same first dimension, got [4, 10] and [3]}}
  %0 = dl.multinomial_logistic_loss %x, %l : (tensor<4x10xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

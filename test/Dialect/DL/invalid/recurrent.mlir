// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// The Recurrent family's shape and parameter rules (lib/Ops/Recurrent.cpp): one
// case per rule, with Caffe's messages.
// RUN: dl-opt %s -split-input-file -verify-diagnostics

func.func @embed_weight(%i: tensor<5xf32>, %w: tensor<16x100xf32>) {
  // expected-error @+1 {{embed weight shape [16, 100] does not match expected [100, 16] (input_dim, num_output)}}
  %0 = dl.embed %i, %w {num_output = 16 : i64, input_dim = 100 : i64} : (tensor<5xf32>, tensor<16x100xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lstm_cont(%x: tensor<4x2x5xf32>, %c: tensor<4x3xf32>, %wxc: tensor<32x5xf32>, %bc: tensor<32xf32>, %whc: tensor<32x8xf32>) {
  // expected-error @+1 {{lstm cont shape [4, 3] does not match expected [4, 2] (#timesteps, #streams)}}
  %0 = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x3xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lstm_mask(%x: tensor<4x2x5xf32>, %c: tensor<4x2xf32>, %wxc: tensor<32x5xf32>, %bc: tensor<32xf32>, %whc: tensor<32x8xf32>, %m: tensor<4x2x1xf32>) {
  // expected-error @+1 {{lstm mask shape [4, 2, 1] does not match expected [4, 2] (#timesteps, #streams)}}
  %0 = dl.lstm %x, %c, %wxc, %bc, %whc mask %m {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x8xf32>, tensor<4x2x1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lstm_w_hc(%x: tensor<4x2x5xf32>, %c: tensor<4x2xf32>, %wxc: tensor<32x5xf32>, %bc: tensor<32xf32>, %whc: tensor<32x4xf32>) {
  // expected-error @+1 {{lstm w_hc shape [32, 4] does not match expected [32, 8] (4 * num_output, num_output)}}
  %0 = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lstm_expose_hidden(%x: tensor<4x2x5xf32>, %c: tensor<4x2xf32>, %wxc: tensor<32x5xf32>, %bc: tensor<32xf32>, %whc: tensor<32x8xf32>) {
  // expected-error @+1 {{lstm expose_hidden (extra h0/c0 inputs and hT/cT outputs) is not supported}}
  %0 = dl.lstm %x, %c, %wxc, %bc, %whc {num_output = 8 : i64, expose_hidden = true} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lstm_static_pair(%x: tensor<4x2x5xf32>, %c: tensor<4x2xf32>, %xs: tensor<2x3xf32>, %wxc: tensor<32x5xf32>, %bc: tensor<32xf32>, %whc: tensor<32x8xf32>) {
  // expected-error @+1 {{lstm x_static and w_xc_static must be given together}}
  %0 = dl.lstm %x, %c, x_static %xs, %wxc, %bc, %whc {num_output = 8 : i64} : (tensor<4x2x5xf32>, tensor<4x2xf32>, tensor<2x3xf32>, tensor<32x5xf32>, tensor<32xf32>, tensor<32x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rnn_num_output(%x: tensor<5x2x3xf32>, %c: tensor<5x2xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>, %h: tensor<4x4xf32>) {
  // expected-error @+1 {{rnn num_output must be positive, got 0}}
  %0 = dl.rnn %x, %c, %w, %b, %h, %h, %b {num_output = 0 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rnn_expose_hidden(%x: tensor<5x2x3xf32>, %c: tensor<5x2xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>, %h: tensor<4x4xf32>) {
  // expected-error @+1 {{rnn expose_hidden (an extra h0 input and hT output) is not supported}}
  %0 = dl.rnn %x, %c, %w, %b, %h, %h, %b {num_output = 4 : i64, expose_hidden = true} : (tensor<5x2x3xf32>, tensor<5x2xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rnn_static(%x: tensor<5x2x3xf32>, %c: tensor<5x2xf32>, %s: tensor<2x6xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>, %h: tensor<4x4xf32>) {
  // expected-error @+1 {{rnn x_static and w_xh_static must be given together}}
  %0 = dl.rnn %x, %c, x_static %s, %w, %b, %h, %h, %b {num_output = 4 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>, tensor<2x6xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rnn_w_hh(%x: tensor<5x2x3xf32>, %c: tensor<5x2xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>, %h: tensor<4x4xf32>, %bad: tensor<4x3xf32>) {
  // expected-error @+1 {{rnn w_hh shape [4, 3] does not match expected [4, 4] (num_output, num_output)}}
  %0 = dl.rnn %x, %c, %w, %b, %bad, %h, %b {num_output = 4 : i64} : (tensor<5x2x3xf32>, tensor<5x2xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x3xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rnn_cont(%x: tensor<5x2x3xf32>, %c: tensor<5x3xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>, %h: tensor<4x4xf32>) {
  // expected-error @+1 {{rnn cont shape [5, 3] does not match expected [5, 2] (#timesteps, #streams)}}
  %0 = dl.rnn %x, %c, %w, %b, %h, %h, %b {num_output = 4 : i64} : (tensor<5x2x3xf32>, tensor<5x3xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @rnn_x_rank(%x: tensor<5xf32>, %c: tensor<5x2xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>, %h: tensor<4x4xf32>) {
  // expected-error @+1 {{rnn x must have at least 2 axes (#timesteps, #streams, ...), got rank 1}}
  %0 = dl.rnn %x, %c, %w, %b, %h, %h, %b {num_output = 4 : i64} : (tensor<5xf32>, tensor<5x2xf32>, tensor<4x3xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

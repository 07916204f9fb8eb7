// dl-codegen-recurrent (docs/codegen.md): the gate functions of every LSTM
// and RNN layer, generated once per module and kind (the LSTM's per hidden
// size), named on the forward and the backward op. Explicit vector-width
// and unroll keep the output independent of this CPU.
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// RUN: dl-opt %s -split-input-file -dl-codegen-recurrent='vector-width=4 unroll=4' | FileCheck %s
// RUN: dl-opt %s -split-input-file -dl-codegen-recurrent='vector-width=4 unroll=4' | dl-opt -split-input-file | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: dl-opt %s -split-input-file -dl-codegen-recurrent='vector-width=4 unroll=4' -dl-codegen-compile | FileCheck %s --check-prefix=NATIVE
// RUN: not dl-opt %s -split-input-file -dl-codegen-recurrent='vector-width=6 unroll=2' 2>&1 | FileCheck %s --check-prefix=WIDTH

// WIDTH: error: dl-codegen-recurrent: vector-width must be a power of two up to 64 and unroll at most 16, got 6 and 2

// Two LSTMs of 5 units share their functions, one of 3 units gets its own;
// the backward op names the same functions as its forward op.
// CHECK-LABEL: func.func @lstms
// CHECK: dl.lstm {{.*}}dl.codegen_lstm_backward = "[[BWD5:dlc_cell_lstm_backward_h5]]", dl.codegen_lstm_forward = "[[FWD5:dlc_cell_lstm_forward_h5]]"
// CHECK: dl.lstm {{.*}}dl.codegen_lstm_backward = "[[BWD5]]", dl.codegen_lstm_forward = "[[FWD5]]"
// CHECK: dl.lstm {{.*}}dl.codegen_lstm_backward = "dlc_cell_lstm_backward_h3", dl.codegen_lstm_forward = "dlc_cell_lstm_forward_h3"
// CHECK: dl.backward_data "lstm" {{.*}}dl.codegen_lstm_backward = "[[BWD5]]", dl.codegen_lstm_forward = "[[FWD5]]"
// CHECK: module @dl_codegen attributes {dl.codegen_kernels}
// The signatures of dlc/Ops/RecurrentCells.h: pointers, floats, the length.
// CHECK: func.func @[[FWD5]](%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: i64)
// Gate g of unit i is at i + 3 * 5.
// CHECK: arith.constant 15 : i64
// Two vectors of four lanes (unroll is at most 2 for the LSTM's long
// formulas), then one vector, then single elements.
// CHECK: scf.for {{.*}} step %c8_i64
// CHECK: math.tanh {{.*}} : vector<8xf32>
// CHECK: scf.for {{.*}} step %c4_i64
// CHECK: scf.for {{.*}} step %c1_i64
// CHECK: func.func @[[BWD5]](%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: i64)
// CHECK: func.func @dlc_cell_lstm_forward_h3(
// CHECK: func.func @dlc_cell_lstm_backward_h3(
// CHECK-NOT: func.func
// ROUNDTRIP: module @dl_codegen
// NATIVE: dl.native_code = {cpu = "{{.*}}", features = [{{.*}}], object = "{{.*}}", symbols = ["dlc_cell_lstm_forward_h5", "dlc_cell_lstm_backward_h5", "dlc_cell_lstm_forward_h3", "dlc_cell_lstm_backward_h3"]
func.func @lstms(%x: tensor<2x1x4xf32>, %c: tensor<2x1xf32>, %w: tensor<20x4xf32>, %b: tensor<20xf32>, %u: tensor<20x5xf32>,
                 %w3: tensor<12x4xf32>, %b3: tensor<12xf32>, %u3: tensor<12x3xf32>, %dy: tensor<2x1x5xf32>) -> (tensor<2x1x5xf32>, tensor<2x1x3xf32>, tensor<2x1x4xf32>) {
  %0 = dl.lstm %x, %c, %w, %b, %u {num_output = 5 : i64} : (tensor<2x1x4xf32>, tensor<2x1xf32>, tensor<20x4xf32>, tensor<20xf32>, tensor<20x5xf32>) -> tensor<2x1x5xf32>
  %1 = dl.lstm %x, %c, %w, %b, %u {num_output = 5 : i64} : (tensor<2x1x4xf32>, tensor<2x1xf32>, tensor<20x4xf32>, tensor<20xf32>, tensor<20x5xf32>) -> tensor<2x1x5xf32>
  %2 = dl.lstm %x, %c, %w3, %b3, %u3 {num_output = 3 : i64} : (tensor<2x1x4xf32>, tensor<2x1xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12x3xf32>) -> tensor<2x1x3xf32>
  %3 = dl.backward_data "lstm" %x, %c, %w, %b, %u, %0, %dy {num_forward_operands = 5 : i64, num_output = 5 : i64, wrt = array<i64: 0>} : (tensor<2x1x4xf32>, tensor<2x1xf32>, tensor<20x4xf32>, tensor<20xf32>, tensor<20x5xf32>, tensor<2x1x5xf32>, tensor<2x1x5xf32>) -> tensor<2x1x4xf32>
  %4 = dl.eltwise %0, %1 : (tensor<2x1x5xf32>, tensor<2x1x5xf32>) -> tensor<2x1x5xf32>
  return %4, %2, %3 : tensor<2x1x5xf32>, tensor<2x1x3xf32>, tensor<2x1x4xf32>
}

// -----

// An RNN's four functions do not depend on its size; a layer the compiler
// runs with the reference kernels (dl.impl = "ref") gets none.
// CHECK-LABEL: func.func @rnn
// CHECK: dl.rnn {{.*}}dl.codegen_rnn_backward = "dlc_cell_rnn_backward", dl.codegen_rnn_forward = "dlc_cell_rnn_forward", dl.codegen_rnn_output = "dlc_cell_rnn_output", dl.codegen_rnn_output_grad = "dlc_cell_rnn_output_grad"
// CHECK: dl.lstm
// CHECK-NOT: dl.codegen_
// CHECK-SAME: -> tensor<2x1x5xf32>
// CHECK: func.func @dlc_cell_rnn_forward(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: f32, %{{.*}}: i64)
// CHECK: scf.for {{.*}} step %c16_i64
// CHECK: func.func @dlc_cell_rnn_backward(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: f32, %{{.*}}: i64)
// CHECK: func.func @dlc_cell_rnn_output(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64)
// CHECK: func.func @dlc_cell_rnn_output_grad(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64)
// CHECK-NOT: func.func
func.func @rnn(%x: tensor<2x1x4xf32>, %c: tensor<2x1xf32>, %w: tensor<6x4xf32>, %b: tensor<6xf32>, %u: tensor<6x6xf32>, %v: tensor<6x6xf32>, %o: tensor<6xf32>,
               %w5: tensor<20x4xf32>, %b5: tensor<20xf32>, %u5: tensor<20x5xf32>) -> (tensor<2x1x6xf32>, tensor<2x1x5xf32>) {
  %0 = dl.rnn %x, %c, %w, %b, %u, %v, %o {num_output = 6 : i64} : (tensor<2x1x4xf32>, tensor<2x1xf32>, tensor<6x4xf32>, tensor<6xf32>, tensor<6x6xf32>, tensor<6x6xf32>, tensor<6xf32>) -> tensor<2x1x6xf32>
  %1 = dl.lstm %x, %c, %w5, %b5, %u5 {dl.impl = "ref", num_output = 5 : i64} : (tensor<2x1x4xf32>, tensor<2x1xf32>, tensor<20x4xf32>, tensor<20xf32>, tensor<20x5xf32>) -> tensor<2x1x5xf32>
  return %0, %1 : tensor<2x1x6xf32>, tensor<2x1x5xf32>
}

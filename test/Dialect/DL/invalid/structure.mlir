// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// The Structure family's shape and parameter rules (lib/Ops/Structure.cpp): one
// case per rule, with Caffe's messages.
// RUN: dl-opt %s -split-input-file -verify-diagnostics

func.func @concat_axis(%a: tensor<1x2x3x4xf32>) {
  // expected-error @+1 {{concat axis 4 out of range for rank 4}}
  %0 = dl.concat %a, %a {axis = 4 : i64} : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @concat_dims(%a: tensor<1x2x3x4xf32>, %b: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{concat input 1 shape [1, 2, 4, 4] does not match input 0 shape [1, 2, 3, 4] outside the concat axis 1}}
  %0 = dl.concat %a, %b : (tensor<1x2x3x4xf32>, tensor<1x2x4x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<1x2x3x4xf32>, %b: tensor<1x2x3xf32>) {
  // expected-error @+1 {{concat inputs must have the same rank}}
  %0 = dl.concat %a, %b : (tensor<1x2x3x4xf32>, tensor<1x2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @slice_points(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{slice points must be strictly increasing and inside (0, 12), got [4, 4]}}
  %0:3 = dl.slice %x {slice_points = array<i64: 4, 4>} : (tensor<2x12xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @slice_point_range(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{slice points must be strictly increasing and inside (0, 12), got [12]}}
  %0:2 = dl.slice %x {slice_points = array<i64: 12>} : (tensor<2x12xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @slice_count(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{slice with 1 slice_points has 2 outputs, got 3}}
  %0:3 = dl.slice %x {slice_points = array<i64: 4>} : (tensor<2x12xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @slice_equal(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{slice axis 1 dimension 12 is not divisible into 5 equal parts}}
  %0:5 = dl.slice %x : (tensor<2x12xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @crop_small(%x: tensor<1x3x8x8xf32>, %r: tensor<1x3x6x6xf32>) {
  // expected-error @+1 {{crop: input size 8 at axis 2 minus offset 3 is smaller than the reference size 6}}
  %0 = dl.crop %x, %r {offset = array<i64: 3>} : (tensor<1x3x8x8xf32>, tensor<1x3x6x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @crop_offsets(%x: tensor<1x3x8x8xf32>, %r: tensor<1x3x6x6xf32>) {
  // expected-error @+1 {{crop needs 0, 1 or 2 offsets (one per axis from 2), got 3}}
  %0 = dl.crop %x, %r {offset = array<i64: 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<1x3x6x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @crop_rank(%x: tensor<1x3x8x8xf32>, %r: tensor<3x6x6xf32>) {
  // expected-error @+1 {{crop input [1, 3, 8, 8] and reference [3, 6, 6] must have the same rank}}
  %0 = dl.crop %x, %r : (tensor<1x3x8x8xf32>, tensor<3x6x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @flatten_axes(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{flatten end_axis 1 is before axis 2}}
  %0 = dl.flatten %x {axis = 2 : i64, end_axis = 1 : i64} : (tensor<1x3x8x8xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_two_inferred(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{new shape contains multiple -1 dims; at most a single (1) value of -1 may be specified}}
  %0 = dl.reshape %x {shape = array<i64: -1, -1>} : (tensor<2x12xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{reshape output count 25 (shape [5, 5]) must match input count 24}}
  %0 = dl.reshape %x {shape = array<i64: 5, 5>} : (tensor<2x12xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_divisible(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{bottom count (24) must be divisible by the product of the specified dimensions (5)}}
  %0 = dl.reshape %x {shape = array<i64: 5, -1>} : (tensor<2x12xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_copy(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{new shape contains a 0, but there was no corresponding bottom axis to copy}}
  %0 = dl.reshape %x {shape = array<i64: 0, 0, 0>} : (tensor<2x12xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @silence_empty() {
  // expected-error @+1 {{silence needs at least 1 input}}
  "dl.silence"() : () -> ()
  return
}

// -----

func.func @tile_tiles(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{tile tiles must be positive, got 0}}
  %0 = dl.tile %x {tiles = 0 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @tile_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{tile axis 2 out of range for rank 2}}
  %0 = dl.tile %x {tiles = 2 : i64, axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_reindex_indices(%x: tensor<4x3xf32>, %i: tensor<2x2xf32>) {
  // expected-error @+1 {{batch_reindex indices must have 1 axis, got shape [2, 2]}}
  %0 = dl.batch_reindex %x, %i : (tensor<4x3xf32>, tensor<2x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_reindex_scalar(%x: tensor<f32>, %i: tensor<2xf32>) {
  // expected-error @+1 {{batch_reindex input must have at least 1 axis}}
  %0 = dl.batch_reindex %x, %i : (tensor<f32>, tensor<2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @filter_no_input(%s: tensor<4xf32>) {
  // expected-error @+1 {{filter needs at least 1 input besides the selector}}
  %0 = dl.filter %s : (tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @filter_selector_not_singleton(%x: tensor<4x3xf32>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{filter selector dimensions must be singletons (1), except the first; got [4, 2]}}
  %0 = dl.filter %x, %s : (tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @filter_selector_scalar(%x: tensor<4x3xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{filter selector must have at least 1 axis}}
  %0 = dl.filter %x, %s : (tensor<4x3xf32>, tensor<f32>) -> tensor<*xf32>
  return
}

// -----

func.func @filter_count_mismatch(%x: tensor<4x3xf32>, %y: tensor<5x3xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{filter input 1 [5, 3] must have the same 0th dimension as the selector [4]}}
  %0:2 = dl.filter %x, %y, %s : (tensor<4x3xf32>, tensor<5x3xf32>, tensor<4xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @filter_scalar_input(%x: tensor<f32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{filter input 0 must have at least 1 axis}}
  %0 = dl.filter %x, %s : (tensor<f32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

// A rule that would compute a size from a run-time one is refused.
func.func @run_time_size_folded(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{flatten result 0 dimension 0 would be computed from a data-dependent size (`?`, e.g. a filter's count); only passing such a size through unchanged is supported}}
  %0 = dl.flatten %x {axis = 0 : i64} : (tensor<?x3xf32>) -> tensor<*xf32>
  return
}

// -----

// Messages of rules run on run-time sizes show them as `?`.
func.func @run_time_size_message(%x: tensor<?x3xf32>, %y: tensor<4x3xf32>) {
  // expected-error @+1 {{concat input 1 shape [4, 3] does not match input 0 shape [?, 3] outside the concat axis 1}}
  %0 = dl.concat %x, %y {axis = 1 : i64} : (tensor<?x3xf32>, tensor<4x3xf32>) -> tensor<*xf32>
  return
}

// -----

// A reorder changes the storage layout only, never the shape.
func.func @reorder_shape(%x: tensor<2x16x4x4xf32>) {
  // expected-error @+1 {{'dl.reorder' op result type(s) 'tensor<2x16x4x5xf32>' incompatible with the inferred type(s) 'tensor<2x16x4x4xf32>'}}
  %0 = dl.reorder %x : (tensor<2x16x4x4xf32>) -> tensor<2x16x4x5xf32>
  return
}

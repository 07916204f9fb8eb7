// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// dl-select-conv-algorithms: the errors. Layers: p (3x3, stride 1), b5 (5x5,
// stride 1; forward and backward weights), s2 (3x3, stride 2), e (a
// deconvolution).

// The errors are checked with FileCheck: they are located at the layers'
// NameLocs, which -verify-diagnostics cannot match without a file location
// inside (dlc compile reports them at the prototxt lines,
// test/Target/conv-algorithms.test).

// Forcing an algorithm that does not apply fails at every offending op,
// naming the layer, the direction, the algorithm and why (all reported).
// RUN: not dl-opt %s -dl-select-conv-algorithms="conv-algorithm=s2=fft,b5=winograd" -o /dev/null 2>&1 | FileCheck %s --check-prefix=FORCED
// FORCED: error: loc("b5"): layer 'b5' (forward): cannot use winograd4 (forced by --conv-algo b5=winograd): the kernel is 5x5, Winograd F(4x4,3x3) needs 3x3
// FORCED: error: loc("s2"): layer 's2' (forward): cannot use fft (forced by --conv-algo s2=fft): the stride is 2x2 (FFT needs stride 1)
// FORCED: error: loc("b5"): layer 'b5' (backward-weights): cannot use winograd4 (forced by --conv-algo b5=winograd)
// FORCED-NOT: fallback
// FORCED-NOT: error:

// A whole-net algorithm without fallback: every op where it does not apply,
// then one hint naming the layers.
// RUN: not dl-opt %s -dl-select-conv-algorithms="conv-algorithm=winograd" -o /dev/null 2>&1 | FileCheck %s --check-prefix=WHOLE
// WHOLE: error: loc("b5"): layer 'b5' (forward): cannot use winograd4 (forced by --conv-algo winograd): the kernel is 5x5, Winograd F(4x4,3x3) needs 3x3
// WHOLE: error: loc("s2"): layer 's2' (forward): cannot use winograd4 (forced by --conv-algo winograd): the stride is 2 (Winograd needs 1)
// WHOLE: error: loc("b5"): layer 'b5' (backward-weights): cannot use winograd4
// WHOLE: error: --conv-algo winograd does not apply to layers b5, s2; add fallback=auto (or fallback=ALGO) to --conv-algo to choose another algorithm there
// WHOLE-NOT: error:

// A fallback that does not apply either.
// RUN: not dl-opt %s -dl-select-conv-algorithms="conv-algorithm=fft,fallback=winograd2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NEITHER
// NEITHER: error: loc("s2"): layer 's2' (forward): neither fft (the stride is 2x2 (FFT needs stride 1)) nor the fallback winograd2 (the stride is 2 (Winograd needs 1)) applies

// A forced algorithm over the workspace limit.
// RUN: not dl-opt %s -dl-select-conv-algorithms="conv-algorithm=p=gemm workspace-limit=1024" -o /dev/null 2>&1 | FileCheck %s --check-prefix=WS
// WS: error: loc("p"): layer 'p' (forward): cannot use gemm (forced by --conv-algo p=gemm): needs 81920 bytes of workspace (0.08 MiB), over the limit of 1024 bytes

// Errors in the option itself, reported on the module.
// RUN: not dl-opt %s -dl-select-conv-algorithms="conv-algorithm=p=fast" -o /dev/null 2>&1 | FileCheck %s --check-prefix=ALGO
// ALGO: error: dl-select-conv-algorithms: unknown convolution algorithm 'fast' in conv-algorithm entry 'p=fast' (known: auto, direct, gemm, fft, winograd2, winograd4, onednn-winograd, sliding (winograd = winograd4))
// RUN: not dl-opt %s -dl-select-conv-algorithms="conv-algorithm=q=gemm" -o /dev/null 2>&1 | FileCheck %s --check-prefix=LAYER
// LAYER: error: dl-select-conv-algorithms: conv-algorithm entry 'q=gemm': no convolution layer 'q' in the net (2-D convolution layers: b5, p, s2)
// RUN: not dl-opt %s -dl-select-conv-algorithms="conv-algorithm=e=gemm" -o /dev/null 2>&1 | FileCheck %s --check-prefix=DECONV
// DECONV: error: dl-select-conv-algorithms: conv-algorithm entry 'e=gemm': layer 'e' is not a 2-D convolution
// RUN: not dl-opt %s -dl-select-conv-algorithms="conv-algorithm=p/sideways=gemm" -o /dev/null 2>&1 | FileCheck %s --check-prefix=DIR
// DIR: error: dl-select-conv-algorithms: conv-algorithm entry 'p/sideways=gemm': unknown direction 'sideways' (forward, backward-data or backward-weights)
// RUN: not dl-opt %s -dl-select-conv-algorithms="conv-algorithm=p/backward-data=gemm" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: error: dl-select-conv-algorithms: conv-algorithm entry 'p/backward-data=gemm': layer 'p' has no backward-data convolution in this module (it has: forward)
// RUN: not dl-opt %s -dl-select-conv-algorithms="conv-algorithm=p=gemm=fft" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not dl-opt %s -dl-select-conv-algorithms="conv-algorithm=p/forward" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: is not ALGO, LAYER=ALGO, LAYER/DIRECTION=ALGO or fallback=ALGO
// RUN: not dl-opt %s -dl-select-conv-algorithms="conv-algorithm=gemm,fft" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TWO
// TWO: error: dl-select-conv-algorithms: conv-algorithm names two algorithms for the whole net ('gemm' and 'fft')
// RUN: not dl-opt %s -dl-select-conv-algorithms="cost-table=p/forward/gemm" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TABLE
// TABLE: error: dl-select-conv-algorithms: cost table entry 'p/forward/gemm' is not LAYER/DIRECTION/ALGORITHM=MS
// RUN: not dl-opt %s -dl-select-conv-algorithms="rates=gemm=fast" -o /dev/null 2>&1 | FileCheck %s --check-prefix=RATES
// RATES: error: dl-select-conv-algorithms: rates entry 'gemm=fast' is not NAME=NUMBER

func.func @net(%x: tensor<2x16x8x8xf32>, %dy: tensor<2x16x8x8xf32>) -> (tensor<2x16x8x8xf32>, tensor<16x16x5x5xf32>, tensor<2x16x4x4xf32>, tensor<2x16x10x10xf32>) {
  %wp = dl.param {filler = {type = "xavier"}, name = "p/0"} : tensor<16x16x3x3xf32>
  %yp = dl.convolution %x, %wp {kernel = array<i64: 3, 3>, num_output = 16 : i64, pad = array<i64: 1, 1>} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x8x8xf32> loc("p")
  %wb = dl.param {filler = {type = "xavier"}, name = "b5/0"} : tensor<16x16x5x5xf32>
  %yb = dl.convolution %yp, %wb {kernel = array<i64: 5, 5>, num_output = 16 : i64, pad = array<i64: 2, 2>} : (tensor<2x16x8x8xf32>, tensor<16x16x5x5xf32>) -> tensor<2x16x8x8xf32> loc("b5")
  %ws = dl.param {filler = {type = "xavier"}, name = "s2/0"} : tensor<16x16x3x3xf32>
  %ys = dl.convolution %yb, %ws {kernel = array<i64: 3, 3>, num_output = 16 : i64, pad = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x4x4xf32> loc("s2")
  %we = dl.param {filler = {type = "xavier"}, name = "e/0"} : tensor<16x16x3x3xf32>
  %ye = dl.deconvolution %yb, %we {kernel = array<i64: 3, 3>, num_output = 16 : i64} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x10x10xf32> loc("e")
  %dwb = dl.backward_weights "convolution" %yp, %wb, %yb, %dy {kernel = array<i64: 5, 5>, num_output = 16 : i64, pad = array<i64: 2, 2>, num_forward_operands = 2 : i64, wrt = array<i64: 1>} : (tensor<2x16x8x8xf32>, tensor<16x16x5x5xf32>, tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>) -> tensor<16x16x5x5xf32> loc("b5")
  return %yb, %dwb, %ys, %ye : tensor<2x16x8x8xf32>, tensor<16x16x5x5xf32>, tensor<2x16x4x4xf32>, tensor<2x16x10x10xf32>
}

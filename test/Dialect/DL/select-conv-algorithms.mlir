// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
// dl-select-conv-algorithms (docs/convolution.md): one net, one RUN line per
// behaviour. The layers:
//   a  3x3, stride 1, pad 1: every algorithm but sliding (16 channels)
//      applies (onednn-winograd only where oneDNN has it); forward,
//      backward data and backward weights
//   b  5x5, stride 1: fft applies, Winograd does not; forward, backward weights
//   c  3x3, stride 2: neither fft nor Winograd; forward
//   d  3x3, stride 1, inside a dl.fused op with a ReLU post-op; forward
//   e  a deconvolution: never selected
// The cost table makes the choices deterministic.
// DEFINE: %{table}=a/forward/winograd4=1,a/forward/direct=2,a/backward-data/fft=1.5,a/backward-data/direct=2,a/backward-weights/direct=1,a/backward-weights/gemm=1.2,b/*/fft=1,b/*/direct=3,c/*/fft=0.1,c/*/gemm=0.5,c/*/direct=1,d/forward/winograd2=0.5,d/forward/direct=0.5

// The table decides per layer and per direction; a candidate that does not
// apply (fft on c) is never chosen however cheap; ties go to the catalog's
// order (d: direct before winograd2). Deconvolutions are left alone.
// RUN: dl-opt %s -dl-select-kernels -dl-select-conv-algorithms="cost-table=%{table}" | FileCheck %s --check-prefix=TABLE
// TABLE: dl.convolution {{.*}}dl.conv_selection = {algorithm = "winograd4", candidates = [{algorithm = "direct", max_error = -1.000000e+00 : f64, seconds = 2.000000e-03 : f64, source = "table", why_not = "", workspace = 0 : i64}, {algorithm = "gemm", max_error = -1.000000e+00 : f64, seconds = -1.000000e+00 : f64, source = "", why_not = "", workspace = {{[0-9]+}} : i64}, {algorithm = "fft", {{.*}}}, {algorithm = "winograd2", {{.*}}}, {algorithm = "winograd4", max_error = -1.000000e+00 : f64, seconds = 1.000000e-03 : f64, source = "table", why_not = "", workspace = {{[0-9]+}} : i64}, {algorithm = "onednn-winograd", max_error = -1.000000e+00 : f64, seconds = -1.000000e+00 : f64, source = "", why_not = "oneDNN 2.6 has no Winograd convolution on this machine", workspace = 0 : i64}, {algorithm = "sliding", max_error = -1.000000e+00 : f64, seconds = -1.000000e+00 : f64, source = "", why_not = "it has 16 input channels (sliding is for at most 4)", workspace = 0 : i64}], reason = "fastest by cost table: 1.000 ms vs direct 2.000 ms", source = "table"}, dl.impl = "winograd4"
// TABLE: dl.convolution {{.*}}reason = "fastest by cost table: 1.000 ms vs direct 3.000 ms", source = "table"}, dl.impl = "fft"
// TABLE: dl.convolution {{.*}}why_not = "the stride is 2x2 (FFT needs stride 1)"{{.*}}reason = "fastest by cost table: 0.500 ms vs direct 1.000 ms", source = "table"}, dl.impl = "gemm"
// TABLE: dl.fused
// TABLE-NEXT: ^bb0
// TABLE-NEXT: dl.convolution {{.*}}reason = "fastest by cost table: 0.500 ms (next: winograd2 0.500 ms)", source = "table"}, dl.impl = "direct"
// TABLE: dl.deconvolution
// TABLE-NOT: dl.conv_selection
// TABLE-SAME: dl.impl = "auto"
// TABLE: dl.backward_weights "convolution" {{.*}}dl.impl = "fft"
// TABLE: dl.backward_data "convolution" {{.*}}reason = "fastest by cost table: 1.500 ms vs direct 2.000 ms", source = "table"}, dl.impl = "fft"
// TABLE: dl.backward_weights "convolution" {{.*}}reason = "fastest by cost table: 1.000 ms (next: gemm 1.200 ms)", source = "table"}, dl.impl = "direct"

// Without a table, the cost model times every applicable candidate.
// RUN: dl-opt %s -dl-select-kernels -dl-select-conv-algorithms | FileCheck %s --check-prefix=MODEL
// MODEL: dl.convolution {{.*}}{algorithm = "gemm", max_error = -1.000000e+00 : f64, seconds = {{[0-9.eE+-]+}} : f64, source = "model"{{.*}}reason = "fastest by cost model: {{[0-9.]+}} ms{{.*}}", source = "model"}

// The cost model's rates: oneDNN's Winograd exists where the rates say so.
// RUN: dl-opt %s -dl-select-kernels -dl-select-conv-algorithms="rates=onednn-winograd=1,gemm=50" | FileCheck %s --check-prefix=RATES
// RATES: dl.convolution {{.*}}{algorithm = "onednn-winograd", max_error = -1.000000e+00 : f64, seconds = {{[0-9.eE+-]+}} : f64, source = "model", why_not = ""

// LAYER=ALGO forces every direction of a layer; the others keep the table's
// choice.
// RUN: dl-opt %s -dl-select-kernels -dl-select-conv-algorithms="cost-table=%{table} conv-algorithm=a=gemm" | FileCheck %s --check-prefix=LAYER
// LAYER: dl.convolution {{.*}}reason = "forced by --conv-algo a=gemm", source = "forced"}, dl.impl = "gemm"
// LAYER: dl.convolution {{.*}}dl.impl = "fft"
// LAYER: dl.convolution {{.*}}dl.impl = "gemm"
// LAYER: dl.backward_weights "convolution" {{.*}}dl.impl = "fft"
// LAYER: dl.backward_data "convolution" {{.*}}reason = "forced by --conv-algo a=gemm"{{.*}}dl.impl = "gemm"
// LAYER: dl.backward_weights "convolution" {{.*}}reason = "forced by --conv-algo a=gemm"{{.*}}dl.impl = "gemm"

// LAYER/DIRECTION=ALGO forces one direction and wins over LAYER=ALGO;
// `winograd` means winograd4; LAYER=auto leaves a layer to the table even
// under a whole-net algorithm.
// RUN: dl-opt %s -dl-select-kernels -dl-select-conv-algorithms="cost-table=%{table} conv-algorithm=direct,a=gemm,a/backward-data=winograd,b=auto" | FileCheck %s --check-prefix=DIR
// DIR: dl.convolution {{.*}}reason = "forced by --conv-algo a=gemm"{{.*}}dl.impl = "gemm"
// DIR: dl.convolution {{.*}}reason = "fastest by cost table{{.*}}dl.impl = "fft"
// DIR: dl.convolution {{.*}}reason = "forced by --conv-algo direct"{{.*}}dl.impl = "direct"
// DIR: dl.convolution {{.*}}reason = "forced by --conv-algo direct"{{.*}}dl.impl = "direct"
// DIR: dl.backward_weights "convolution" {{.*}}dl.impl = "fft"
// DIR: dl.backward_data "convolution" {{.*}}reason = "forced by --conv-algo a/backward-data=winograd"{{.*}}dl.impl = "winograd4"
// DIR: dl.backward_weights "convolution" {{.*}}reason = "forced by --conv-algo a=gemm"{{.*}}dl.impl = "gemm"

// fallback=auto: where the whole-net algorithm does not apply, the layer
// chooses as without it, and says why.
// RUN: dl-opt %s -dl-select-kernels -dl-select-conv-algorithms="cost-table=%{table} conv-algorithm=winograd2,fallback=auto" | FileCheck %s --check-prefix=FALLBACK
// FALLBACK: dl.convolution {{.*}}reason = "forced by --conv-algo winograd2"{{.*}}dl.impl = "winograd2"
// FALLBACK: dl.convolution {{.*}}reason = "winograd2 does not apply (the kernel is 5x5, Winograd F(2x2,3x3) needs 3x3); fallback=auto: fastest by cost table: 1.000 ms vs direct 3.000 ms", source = "table"}, dl.impl = "fft"
// FALLBACK: dl.convolution {{.*}}reason = "winograd2 does not apply (the stride is 2 (Winograd needs 1)); fallback=auto: fastest by cost table{{.*}}dl.impl = "gemm"
// FALLBACK: dl.convolution {{.*}}dl.impl = "winograd2"
// FALLBACK: dl.backward_weights "convolution" {{.*}}fallback=auto{{.*}}dl.impl = "fft"
// FALLBACK: dl.backward_data "convolution" {{.*}}dl.impl = "winograd2"
// FALLBACK: dl.backward_weights "convolution" {{.*}}dl.impl = "winograd2"

// fallback=ALGO: that algorithm instead.
// RUN: dl-opt %s -dl-select-kernels -dl-select-conv-algorithms="cost-table=%{table} conv-algorithm=fft,fallback=gemm" | FileCheck %s --check-prefix=FALLGEMM
// FALLGEMM: dl.convolution {{.*}}dl.impl = "fft"
// FALLGEMM: dl.convolution {{.*}}dl.impl = "fft"
// FALLGEMM: dl.convolution {{.*}}reason = "fft does not apply (the stride is 2x2 (FFT needs stride 1)); fallback=gemm", source = "forced"}, dl.impl = "gemm"

// workspace-limit excludes the candidates that need more scratch memory
// (here a's winograd4, the table's choice: the next fastest wins).
// RUN: dl-opt %s -dl-select-kernels -dl-select-conv-algorithms="cost-table=%{table} workspace-limit=4096" | FileCheck %s --check-prefix=WS
// WS: dl.convolution {{.*}}{algorithm = "winograd4", max_error = -1.000000e+00 : f64, seconds = -1.000000e+00 : f64, source = "", why_not = "needs {{[0-9]+}} bytes of workspace ({{[0-9.]+}} MiB), over the limit of 4096 bytes", workspace = {{[0-9]+}} : i64}{{.*}}reason = "fastest by cost table: 2.000 ms (the only candidate with a time)", source = "table"}, dl.impl = "direct"

// With impl=ref every op runs the reference implementation: nothing is
// selected.
// RUN: dl-opt %s -dl-select-kernels="impl=ref" -dl-select-conv-algorithms="cost-table=%{table} conv-algorithm=gemm" | FileCheck %s --check-prefix=REF
// REF-NOT: dl.conv_selection
// REF: dl.convolution {{.*}}dl.impl = "ref"
// REF-NOT: dl.conv_selection

func.func @net(%x: tensor<2x16x8x8xf32>, %dy: tensor<2x16x8x8xf32>, %dyc: tensor<2x16x4x4xf32>) -> (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>, tensor<16x16x5x5xf32>, tensor<2x16x4x4xf32>, tensor<2x16x8x8xf32>, tensor<2x16x10x10xf32>) {
  %wa = dl.param {filler = {type = "xavier"}, name = "a/0"} : tensor<16x16x3x3xf32>
  %ya = dl.convolution %x, %wa {kernel = array<i64: 3, 3>, num_output = 16 : i64, pad = array<i64: 1, 1>} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x8x8xf32> loc("a")
  %wb = dl.param {filler = {type = "xavier"}, name = "b/0"} : tensor<16x16x5x5xf32>
  %yb = dl.convolution %ya, %wb {kernel = array<i64: 5, 5>, num_output = 16 : i64, pad = array<i64: 2, 2>} : (tensor<2x16x8x8xf32>, tensor<16x16x5x5xf32>) -> tensor<2x16x8x8xf32> loc("b")
  %wc = dl.param {filler = {type = "xavier"}, name = "c/0"} : tensor<16x16x3x3xf32>
  %yc = dl.convolution %yb, %wc {kernel = array<i64: 3, 3>, num_output = 16 : i64, pad = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x4x4xf32> loc("c")
  %wd = dl.param {filler = {type = "xavier"}, name = "d/0"} : tensor<16x16x3x3xf32>
  %yd = dl.fused(%yb, %wd) : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x8x8xf32> {
  ^bb0(%a0: tensor<2x16x8x8xf32>, %a1: tensor<16x16x3x3xf32>):
    %c = dl.convolution %a0, %a1 {kernel = array<i64: 3, 3>, num_output = 16 : i64, pad = array<i64: 1, 1>} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x8x8xf32> loc("d")
    %r = dl.relu %c : (tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32> loc("d_relu")
    dl.yield %r : tensor<2x16x8x8xf32>
  } loc("d+d_relu")
  %we = dl.param {filler = {type = "xavier"}, name = "e/0"} : tensor<16x16x3x3xf32>
  %ye = dl.deconvolution %yd, %we {kernel = array<i64: 3, 3>, num_output = 16 : i64} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<2x16x10x10xf32> loc("e")
  %dwb = dl.backward_weights "convolution" %ya, %wb, %yb, %dy {kernel = array<i64: 5, 5>, num_output = 16 : i64, pad = array<i64: 2, 2>, num_forward_operands = 2 : i64, wrt = array<i64: 1>} : (tensor<2x16x8x8xf32>, tensor<16x16x5x5xf32>, tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>) -> tensor<16x16x5x5xf32> loc("b")
  %dxa = dl.backward_data "convolution" %x, %wa, %ya, %dy {kernel = array<i64: 3, 3>, num_output = 16 : i64, pad = array<i64: 1, 1>, num_forward_operands = 2 : i64, wrt = array<i64: 0>} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>, tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32> loc("a")
  %dwa = dl.backward_weights "convolution" %x, %wa, %ya, %dy {kernel = array<i64: 3, 3>, num_output = 16 : i64, pad = array<i64: 1, 1>, num_forward_operands = 2 : i64, wrt = array<i64: 1>} : (tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>, tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>) -> tensor<16x16x3x3xf32> loc("a")
  return %dxa, %dwa, %dwb, %yc, %yd, %ye : tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>, tensor<16x16x5x5xf32>, tensor<2x16x4x4xf32>, tensor<2x16x8x8xf32>, tensor<2x16x10x10xf32>
}

// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Pooling family: pooling, spatial pyramid pooling, local response
// normalization.
// Shape rules: lib/Ops/Pooling.cpp.

def DL_PoolingOp : DL_LayerOp<"pooling"> {
  let dlLayout = "channel_blocked";
  let summary = "Caffe Pooling layer (max, average, stochastic)";
  let description = [{
    Caffe's `PoolingLayer` (pooling_layer.cpp), 2-D. In `ceil` mode the output
    is `ceil((i + 2p - k)/s) + 1`, minus one when the last window would start
    in the padding (`(o-1)s >= i + p`); `floor` mode uses floor. With
    `global_pooling` the kernel is the input's spatial size and the output
    1x1. `pool` is `"max"`, `"ave"` or `"stochastic"`.
  }];
  let arguments = (ins DL_Tensor:$input,
                       DL_Enum<["max", "ave", "stochastic"], "max">:$pool,
                       DL_I64Array:$kernel, DL_I64Array:$stride,
                       DL_I64Array:$pad, DL_Bool<"false">:$global_pooling,
                       DL_Enum<["ceil", "floor"], "ceil">:$round_mode);
  let results = (outs DL_Tensor:$output);
}

def DL_LRNOp : DL_LayerOp<"lrn"> {
  let dlLayout = "channel_blocked";
  let summary = "Caffe LRN layer (local response normalization)";
  let description = [{
    Caffe's `LRNLayer` (lrn_layer.cpp): `x / (k + alpha/n * sum(x^2))^beta`
    over `local_size` channels (`across_channels`, odd size) or a
    `local_size`^2 window (`within_channel`). Same shape as the input.
  }];
  let arguments = (ins DL_Tensor:$input, DL_I64<"5">:$local_size,
                       DL_F64<"1.0">:$alpha, DL_F64<"0.75">:$beta,
                       DL_F64<"1.0">:$k,
                       DL_Enum<["across_channels", "within_channel"],
                               "across_channels">:$norm_region);
  let results = (outs DL_Tensor:$output);
}

def DL_SPPOp : DL_LayerOp<"spp"> {
  let summary = "Caffe SPP layer (spatial pyramid pooling)";
  let description = [{
    Caffe's `SPPLayer` (spp_layer.cpp): for each level l < `pyramid_height`,
    pooling into 2^l x 2^l bins (kernel ceil(H / 2^l), stride = kernel, pad
    (kernel * 2^l - H + 1) / 2, per axis), flattened and concatenated:
    `[N, sum over levels of C * bins_h * bins_w]`. With `pyramid_height` 1 it
    is the single pooling, `[N, C, bins_h, bins_w]`.
  }];
  let arguments = (ins DL_Tensor:$input, I64Attr:$pyramid_height,
                       DL_Enum<["max", "ave", "stochastic"], "max">:$pool);
  let results = (outs DL_Tensor:$output);
}

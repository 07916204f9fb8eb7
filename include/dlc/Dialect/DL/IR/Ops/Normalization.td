// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Normalization family: softmax, batch normalization, mean-variance
// normalization, scale, bias.
// Shape rules: lib/Ops/Normalization.cpp.

def DL_SoftmaxOp : DL_LayerOp<"softmax"> {
  let summary = "Caffe Softmax layer";
  let description = [{
    Caffe's `SoftmaxLayer` (softmax_layer.cpp): softmax along `axis`
    (negative counts from the end). Same shape as the input.
  }];
  let arguments = (ins DL_Tensor:$x, DL_I64<"1">:$axis);
  let results = (outs DL_Tensor:$output);
}

def DL_BatchNormOp : DL_LayerOp<"batch_norm"> {
  let dlLayout = "channel_blocked";
  let summary = "Caffe BatchNorm layer";
  let description = [{
    Caffe's `BatchNormLayer` (batch_norm_layer.cpp): normalizes each channel
    (axis 1) with the stored statistics `mean / scale_factor` and
    `variance / scale_factor` (0 if the factor is 0) when `use_global_stats`.
    `mean` and `variance` are `[C]`, `scale_factor` `[1]`. Same shape as `x`.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Statistic:$mean,
                       DL_Statistic:$variance, DL_Statistic:$scale_factor,
                       DL_Bool<"true">:$use_global_stats,
                       DL_F64<"0.999">:$moving_average_fraction,
                       DL_F64<"1e-5">:$eps);
  let results = (outs DL_Tensor:$output);
}

def DL_ScaleOp : DL_LayerOp<"scale"> {
  let dlLayout = "channel_blocked";
  let summary = "Caffe Scale layer";
  let description = [{
    Caffe's `ScaleLayer` (scale_layer.cpp): `x * scale (+ bias)` with `scale`
    broadcast over `x.shape[axis : axis + rank(scale)]` (a learned parameter of
    shape `x.shape[axis : axis + num_axes]`, `num_axes` -1 meaning to the end,
    or a second bottom). `bias` has `scale`'s shape. Same shape as `x`.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Weight:$scale,
                       Optional<DL_Weight>:$bias,
                       DL_I64<"1">:$axis, DL_I64<"1">:$num_axes);
  let results = (outs DL_Tensor:$output);
}

def DL_BiasOp : DL_LayerOp<"bias"> {
  let dlLayout = "channel_blocked";
  let summary = "Caffe Bias layer";
  let description = [{
    Caffe's `BiasLayer` (bias_layer.cpp): `x + bias` with `bias` broadcast
    over `x.shape[axis : axis + rank(bias)]`. Same shape as `x`.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Weight:$bias,
                       DL_I64<"1">:$axis, DL_I64<"1">:$num_axes);
  let results = (outs DL_Tensor:$output);
}

def DL_MVNOp : DL_LayerOp<"mvn"> {
  let summary = "Caffe MVN layer (mean-variance normalization)";
  let description = [{
    Caffe's `MVNLayer` (mvn_layer.cpp), on a blob of at most 4 axes (N, C,
    H, W): subtracts the mean over each (n, c) plane (over each n's C*H*W
    with `across_channels`) and, with `normalize_variance`, divides by
    `sqrt(E[(x - mean)^2]) + eps`. Same shape as `x`.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Bool<"true">:$normalize_variance,
                       DL_Bool<"false">:$across_channels, DL_F64<"1e-9">:$eps);
  let results = (outs DL_Tensor:$output);
}

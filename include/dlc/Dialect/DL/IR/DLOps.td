// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Ops of the `dl` dialect. The op/attribute contract is docs/dialect.md; every
// name, operand order and attribute default here matches it.

#ifndef DLC_DIALECT_DL_IR_DLOPS_TD
#define DLC_DIALECT_DL_IR_DLOPS_TD

include "dlc/Dialect/DL/IR/DLDialect.td"

// Assembly used by most ops: `dl.op %a, %b {attrs} : (types) -> type`.
defvar DL_GenericFormat =
    "operands attr-dict `:` functional-type(operands, results)";

// Shorthands for attributes with Caffe's defaults.
class DL_I64<string v> : DefaultValuedAttr<I64Attr, v>;
class DL_F64<string v> : DefaultValuedAttr<F64Attr, v>;
class DL_Bool<string v> : DefaultValuedAttr<BoolAttr, v>;
class DL_Str<string v> : DefaultValuedAttr<StrAttr, "\"" # v # "\"">;
def DL_I64Array : DefaultValuedAttr<DenseI64ArrayAttr, "{}">;
def DL_F64Array : DefaultValuedAttr<DenseF64ArrayAttr, "{}">;

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

def DL_ParamOp : DL_Op<"param", [Pure]> {
  let summary = "A learnable parameter blob of a Caffe layer";
  let description = [{
    One of a Caffe layer's `blobs_` (weights, biases, statistics), with the
    shape Caffe's `LayerSetUp` gives it. `name` is the Caffe `param { name }`
    (or a name derived from the layer), `filler` the layer's FillerParameter
    (`type`, `value`, `min`, `max`, `mean`, `std`, `sparse`, `variance_norm`),
    and `lr_mult`/`decay_mult` the ParamSpec multipliers. Shared parameters are
    one `dl.param` with several users.

    ```mlir
    %w = dl.param {name = "conv1_w", filler = {type = "xavier"}} : tensor<20x1x5x5xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, DictionaryAttr:$filler,
                       DL_F64<"1.0">:$lr_mult, DL_F64<"1.0">:$decay_mult);
  let results = (outs StaticShapeTensorOf<[F32]>:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Vision layers
//===----------------------------------------------------------------------===//

def DL_ConvolutionOp : DL_InferOp<"convolution", [Pure]> {
  let summary = "Caffe Convolution layer (N-D, grouped, dilated)";
  let description = [{
    Caffe's `ConvolutionLayer` (conv_layer.cpp). Spatial vectors have one
    entry per spatial axis (input rank - 2); empty `stride`/`pad`/`dilation`
    mean Caffe's defaults 1/0/1. Output spatial size:
    `(i + 2p - (d(k-1)+1)) / s + 1` (floor). `weight` is
    `[num_output, C/group, k...]`, `bias` `[num_output]`.
  }];
  let arguments = (ins DL_Tensor:$input, DL_Tensor:$weight,
                       Optional<DL_Tensor>:$bias,
                       I64Attr:$num_output, DenseI64ArrayAttr:$kernel,
                       DL_I64Array:$stride, DL_I64Array:$pad,
                       DL_I64Array:$dilation, DL_I64<"1">:$group);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_DeconvolutionOp : DL_InferOp<"deconvolution", [Pure]> {
  let summary = "Caffe Deconvolution layer (transposed convolution)";
  let description = [{
    Caffe's `DeconvolutionLayer` (deconv_layer.cpp). Output spatial size:
    `s(i-1) + d(k-1)+1 - 2p`. `weight` is `[C, num_output/group, k...]`,
    `bias` `[num_output]`.
  }];
  let arguments = (ins DL_Tensor:$input, DL_Tensor:$weight,
                       Optional<DL_Tensor>:$bias,
                       I64Attr:$num_output, DenseI64ArrayAttr:$kernel,
                       DL_I64Array:$stride, DL_I64Array:$pad,
                       DL_I64Array:$dilation, DL_I64<"1">:$group);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_InnerProductOp : DL_InferOp<"inner_product", [Pure]> {
  let summary = "Caffe InnerProduct layer (fully connected)";
  let description = [{
    Caffe's `InnerProductLayer` (inner_product_layer.cpp): the input is
    flattened from `axis` on (K = prod(shape[axis:])), the output is
    `shape[:axis] + [num_output]`. `weight` is `[num_output, K]`
    (`[K, num_output]` if `transpose`), `bias` `[num_output]`.
  }];
  let arguments = (ins DL_Tensor:$input, DL_Tensor:$weight,
                       Optional<DL_Tensor>:$bias,
                       I64Attr:$num_output, DL_I64<"1">:$axis,
                       DL_Bool<"false">:$transpose);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_PoolingOp : DL_InferOp<"pooling", [Pure]> {
  let summary = "Caffe Pooling layer (max, average, stochastic)";
  let description = [{
    Caffe's `PoolingLayer` (pooling_layer.cpp), 2-D. In `ceil` mode the output
    is `ceil((i + 2p - k)/s) + 1`, minus one when the last window would start
    in the padding (`(o-1)s >= i + p`); `floor` mode uses floor. With
    `global_pooling` the kernel is the input's spatial size and the output
    1x1. `pool` is `"max"`, `"ave"` or `"stochastic"`.
  }];
  let arguments = (ins DL_Tensor:$input, DL_Str<"max">:$pool,
                       DL_I64Array:$kernel, DL_I64Array:$stride,
                       DL_I64Array:$pad, DL_Bool<"false">:$global_pooling,
                       DL_Str<"ceil">:$round_mode);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_LRNOp : DL_InferOp<"lrn", [Pure]> {
  let summary = "Caffe LRN layer (local response normalization)";
  let description = [{
    Caffe's `LRNLayer` (lrn_layer.cpp): `x / (k + alpha/n * sum(x^2))^beta`
    over `local_size` channels (`across_channels`, odd size) or a
    `local_size`^2 window (`within_channel`). Same shape as the input.
  }];
  let arguments = (ins DL_Tensor:$input, DL_I64<"5">:$local_size,
                       DL_F64<"1.0">:$alpha, DL_F64<"0.75">:$beta,
                       DL_F64<"1.0">:$k,
                       DL_Str<"across_channels">:$norm_region);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

//===----------------------------------------------------------------------===//
// Neuron (element-wise) layers
//===----------------------------------------------------------------------===//

class DL_UnaryOp<string mnemonic, string layer, string formula>
    : DL_InferOp<mnemonic, [Pure]> {
  let summary = "Caffe " # layer # " layer";
  let description = "Caffe's `" # layer # "Layer`: element-wise " # formula #
                    ". Same shape as the input.";
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_ReLUOp : DL_UnaryOp<"relu", "ReLU",
    "`max(x, 0) + negative_slope * min(x, 0)`"> {
  let arguments = (ins DL_Tensor:$x, DL_F64<"0.0">:$negative_slope);
}
def DL_SigmoidOp : DL_UnaryOp<"sigmoid", "Sigmoid", "`1 / (1 + exp(-x))`"> {
  let arguments = (ins DL_Tensor:$x);
}
def DL_TanHOp : DL_UnaryOp<"tanh", "TanH", "`tanh(x)`"> {
  let arguments = (ins DL_Tensor:$x);
}
def DL_AbsValOp : DL_UnaryOp<"abs_val", "AbsVal", "`|x|`"> {
  let arguments = (ins DL_Tensor:$x);
}
def DL_BNLLOp : DL_UnaryOp<"bnll", "BNLL", "`log(1 + exp(x))`"> {
  let arguments = (ins DL_Tensor:$x);
}
def DL_ELUOp : DL_UnaryOp<"elu", "ELU",
    "`x > 0 ? x : alpha * (exp(x) - 1)`"> {
  let arguments = (ins DL_Tensor:$x, DL_F64<"1.0">:$alpha);
}
def DL_PowerOp : DL_UnaryOp<"power", "Power",
    "`(shift + scale * x) ^ power`"> {
  let arguments = (ins DL_Tensor:$x, DL_F64<"1.0">:$power,
                       DL_F64<"1.0">:$scale, DL_F64<"0.0">:$shift);
}
def DL_DropoutOp : DL_UnaryOp<"dropout", "Dropout",
    "dropout with probability `ratio` (identity at inference, `train` false; in training the mask is drawn from a stream seeded by `seed`)"> {
  let arguments = (ins DL_Tensor:$x, DL_F64<"0.5">:$ratio,
                       DL_Bool<"false">:$train, DL_I64<"0">:$seed);
}

def DL_PReLUOp : DL_InferOp<"prelu", [Pure]> {
  let summary = "Caffe PReLU layer (parametric ReLU)";
  let description = [{
    Caffe's `PReLULayer` (prelu_layer.cpp): `max(x, 0) + slope_c * min(x, 0)`
    with one slope per channel (axis 1), `slope` `[C]`, or one shared slope
    (`channel_shared`, `slope` `[1]` or a scalar). Same shape as `x`.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Tensor:$slope,
                       DL_Bool<"false">:$channel_shared);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_SoftmaxOp : DL_InferOp<"softmax", [Pure]> {
  let summary = "Caffe Softmax layer";
  let description = [{
    Caffe's `SoftmaxLayer` (softmax_layer.cpp): softmax along `axis`
    (negative counts from the end). Same shape as the input.
  }];
  let arguments = (ins DL_Tensor:$x, DL_I64<"1">:$axis);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_BatchNormOp : DL_InferOp<"batch_norm", [Pure]> {
  let summary = "Caffe BatchNorm layer";
  let description = [{
    Caffe's `BatchNormLayer` (batch_norm_layer.cpp): normalizes each channel
    (axis 1) with the stored statistics `mean / scale_factor` and
    `variance / scale_factor` (0 if the factor is 0) when `use_global_stats`.
    `mean` and `variance` are `[C]`, `scale_factor` `[1]`. Same shape as `x`.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Tensor:$mean, DL_Tensor:$variance,
                       DL_Tensor:$scale_factor,
                       DL_Bool<"true">:$use_global_stats,
                       DL_F64<"0.999">:$moving_average_fraction,
                       DL_F64<"1e-5">:$eps);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_ScaleOp : DL_InferOp<"scale", [Pure]> {
  let summary = "Caffe Scale layer";
  let description = [{
    Caffe's `ScaleLayer` (scale_layer.cpp): `x * scale (+ bias)` with `scale`
    broadcast over `x.shape[axis : axis + rank(scale)]` (a learned parameter of
    shape `x.shape[axis : axis + num_axes]`, `num_axes` -1 meaning to the end,
    or a second bottom). `bias` has `scale`'s shape. Same shape as `x`.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Tensor:$scale,
                       Optional<DL_Tensor>:$bias,
                       DL_I64<"1">:$axis, DL_I64<"1">:$num_axes);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_BiasOp : DL_InferOp<"bias", [Pure]> {
  let summary = "Caffe Bias layer";
  let description = [{
    Caffe's `BiasLayer` (bias_layer.cpp): `x + bias` with `bias` broadcast
    over `x.shape[axis : axis + rank(bias)]`. Same shape as `x`.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Tensor:$bias,
                       DL_I64<"1">:$axis, DL_I64<"1">:$num_axes);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

//===----------------------------------------------------------------------===//
// Common (structural) layers
//===----------------------------------------------------------------------===//

def DL_EltwiseOp : DL_InferOp<"eltwise", [Pure]> {
  let summary = "Caffe Eltwise layer (prod, sum, max)";
  let description = [{
    Caffe's `EltwiseLayer` (eltwise_layer.cpp): element-wise product, sum
    (weighted by `coeff`, one per input, empty = all 1) or max of two or more
    inputs of identical shape. The attribute `operation` is `"prod"`, `"sum"`
    (default) or `"max"`; it is read from the attribute dictionary (a getter
    named `getOperation` would clash with `Op::getOperation`).
  }];
  let arguments = (ins Variadic<DL_Tensor>:$inputs, DL_F64Array:$coeff);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
  let extraClassDeclaration = [{
    /// The `operation` attribute ("prod", "sum" or "max"; default "sum").
    ::llvm::StringRef getOperationKind();
  }];
}

def DL_ConcatOp : DL_InferOp<"concat", [Pure]> {
  let summary = "Caffe Concat layer";
  let description = [{
    Caffe's `ConcatLayer` (concat_layer.cpp): concatenates its inputs along
    `axis`; all other dimensions must agree.
  }];
  let arguments = (ins Variadic<DL_Tensor>:$inputs, DL_I64<"1">:$axis);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

// Not a DL_InferOp: with empty slice_points the number of results (equal
// parts) is not derivable from operands and attributes, so the op refines
// its existing result types (refineReturnTypes) instead.
def DL_SliceOp : DL_Op<"slice", [Pure,
    DeclareOpInterfaceMethods<InferTypeOpInterface,
                              ["refineReturnTypes"]>]> {
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    static bool isCompatibleReturnTypes(::mlir::TypeRange l,
                                        ::mlir::TypeRange r);
  }];
  let summary = "Caffe Slice layer";
  let description = [{
    Caffe's `SliceLayer` (slice_layer.cpp): splits `x` along `axis` at
    `slice_points` (strictly increasing, one fewer than the results), or into
    equal parts when `slice_points` is empty.
  }];
  let arguments = (ins DL_Tensor:$x, DL_I64<"1">:$axis,
                       DL_I64Array:$slice_points);
  let results = (outs Variadic<DL_Tensor>:$outputs);
  let assemblyFormat = DL_GenericFormat;
}

def DL_CropOp : DL_InferOp<"crop", [Pure]> {
  let summary = "Caffe Crop layer";
  let description = [{
    Caffe's `CropLayer` (crop_layer.cpp): dimensions from `axis` on take the
    reference's size, starting at `offset` (0 entries: all 0; 1 entry: used
    for every cropped axis; otherwise one per cropped axis).
  }];
  let arguments = (ins DL_Tensor:$x, DL_Tensor:$reference, DL_I64<"2">:$axis,
                       DL_I64Array:$offset);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_FlattenOp : DL_InferOp<"flatten", [Pure]> {
  let summary = "Caffe Flatten layer";
  let description = [{
    Caffe's `FlattenLayer` (flatten_layer.cpp): collapses axes
    `[axis, end_axis]` (inclusive, negative from the end) into one.
  }];
  let arguments = (ins DL_Tensor:$x, DL_I64<"1">:$axis,
                       DL_I64<"-1">:$end_axis);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_ReshapeOp : DL_InferOp<"reshape", [Pure]> {
  let summary = "Caffe Reshape layer";
  let description = [{
    Caffe's `ReshapeLayer` (reshape_layer.cpp): replaces axes
    `[axis, axis + num_axes)` (`num_axes` -1: to the end) by `shape`, where 0
    copies the corresponding input dimension and one -1 is inferred.
  }];
  let arguments = (ins DL_Tensor:$x, DenseI64ArrayAttr:$shape,
                       DL_I64<"0">:$axis, DL_I64<"-1">:$num_axes);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_EmbedOp : DL_InferOp<"embed", [Pure]> {
  let summary = "Caffe Embed layer";
  let description = [{
    Caffe's `EmbedLayer` (embed_layer.cpp): looks up row `indices[i]` of
    `weight` `[input_dim, num_output]` (plus `bias` `[num_output]`). The output
    is `indices.shape + [num_output]`.
  }];
  let arguments = (ins DL_Tensor:$indices, DL_Tensor:$weight,
                       Optional<DL_Tensor>:$bias,
                       I64Attr:$num_output, I64Attr:$input_dim);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = DL_GenericFormat;
}

def DL_LSTMOp : DL_InferOp<"lstm", [Pure, AttrSizedOperandSegments]> {
  let summary = "Caffe LSTM layer";
  let description = [{
    Caffe's `LSTMLayer` (lstm_layer.cpp, recurrent_layer.cpp): `x` is
    `[T, N, ...]`, `cont` `[T, N]` (0 resets the state), optional `x_static`
    `[N, ...]`. Weights: `w_xc` `[4H, I]` (I = prod(x.shape[2:])), `b_c`
    `[4H]`, `w_xc_static` `[4H, prod(x_static.shape[1:])]` (with `x_static`),
    `w_hc` `[4H, H]`; gate order i, f, o, g. Output `[T, N, num_output]`.
    `expose_hidden` (extra h0/c0 inputs and hT/cT outputs) is not supported.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Tensor:$cont,
                       Optional<DL_Tensor>:$x_static, DL_Tensor:$w_xc,
                       DL_Tensor:$b_c, Optional<DL_Tensor>:$w_xc_static,
                       DL_Tensor:$w_hc,
                       I64Attr:$num_output, DL_Bool<"false">:$expose_hidden);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = [{
    $x `,` $cont `,` (`x_static` $x_static^ `,`)? $w_xc `,` $b_c `,`
    (`w_xc_static` $w_xc_static^ `,`)? $w_hc attr-dict `:`
    functional-type(operands, results)
  }];
}

def DL_SilenceOp : DL_InferOp<"silence", []> {
  let summary = "Caffe Silence layer";
  let description = [{
    Caffe's `SilenceLayer`: consumes its inputs so that they are not net
    outputs. No results.
  }];
  let arguments = (ins Variadic<DL_Tensor>:$inputs);
  let assemblyFormat = DL_GenericFormat;
}

//===----------------------------------------------------------------------===//
// Loss layers and accuracy (rank-0 results)
//===----------------------------------------------------------------------===//

def DL_SoftmaxWithLossOp : DL_InferOp<"softmax_with_loss", [Pure]> {
  let summary = "Caffe SoftmaxWithLoss layer";
  let description = [{
    Caffe's `SoftmaxWithLossLayer` (softmax_loss_layer.cpp): multinomial
    logistic loss of the softmax of `logits` along `axis`. `label` holds
    `outer * inner` class indices (outer = prod(shape[:axis]),
    inner = prod(shape[axis+1:])). `normalization` is `"full"`, `"valid"`,
    `"batch_size"` or `"none"`. The result is a scalar `tensor<f32>`.
  }];
  let arguments = (ins DL_Tensor:$logits, DL_Tensor:$label,
                       DL_I64<"1">:$axis, OptionalAttr<I64Attr>:$ignore_label,
                       DL_Str<"valid">:$normalization,
                       DL_F64<"1.0">:$loss_weight);
  let results = (outs DL_Tensor:$loss);
  let assemblyFormat = DL_GenericFormat;
}

def DL_EuclideanLossOp : DL_InferOp<"euclidean_loss", [Pure]> {
  let summary = "Caffe EuclideanLoss layer";
  let description = [{
    Caffe's `EuclideanLossLayer` (euclidean_loss_layer.cpp):
    `sum((a - b)^2) / (2N)` with N = a.shape[0]; `a` and `b` have the same
    first dimension and the same count. The result is a scalar `tensor<f32>`.
  }];
  let arguments = (ins DL_Tensor:$a, DL_Tensor:$b, DL_F64<"1.0">:$loss_weight);
  let results = (outs DL_Tensor:$loss);
  let assemblyFormat = DL_GenericFormat;
}

def DL_SigmoidCrossEntropyLossOp
    : DL_InferOp<"sigmoid_cross_entropy_loss", [Pure]> {
  let summary = "Caffe SigmoidCrossEntropyLoss layer";
  let description = [{
    Caffe's `SigmoidCrossEntropyLossLayer`: cross-entropy of `sigmoid(x)`
    against `target` (same count). `normalization` defaults to this layer's
    Caffe default, `"batch_size"`. The result is a scalar `tensor<f32>`.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Tensor:$target,
                       DL_F64<"1.0">:$loss_weight,
                       DL_Str<"batch_size">:$normalization);
  let results = (outs DL_Tensor:$loss);
  let assemblyFormat = DL_GenericFormat;
}

def DL_ContrastiveLossOp : DL_InferOp<"contrastive_loss", [Pure]> {
  let summary = "Caffe ContrastiveLoss layer";
  let description = [{
    Caffe's `ContrastiveLossLayer` (contrastive_loss_layer.cpp): `a` and `b`
    are `[N, C, 1, 1]` (or `[N, C]`) feature pairs, `similar` `[N, 1, 1, 1]`
    (or `[N]`, `[N, 1]`) 0/1 labels. The result is a scalar `tensor<f32>`.
  }];
  let arguments = (ins DL_Tensor:$a, DL_Tensor:$b, DL_Tensor:$similar,
                       DL_F64<"1.0">:$margin, DL_Bool<"false">:$legacy_version,
                       DL_F64<"1.0">:$loss_weight);
  let results = (outs DL_Tensor:$loss);
  let assemblyFormat = DL_GenericFormat;
}

def DL_AccuracyOp : DL_InferOp<"accuracy", [Pure]> {
  let summary = "Caffe Accuracy layer";
  let description = [{
    Caffe's `AccuracyLayer` (accuracy_layer.cpp): fraction of the `label`s
    (outer * inner of them, as for SoftmaxWithLoss) found among the `top_k`
    highest `logits` along `axis`. The result is a scalar `tensor<f32>`.
  }];
  let arguments = (ins DL_Tensor:$logits, DL_Tensor:$label,
                       DL_I64<"1">:$top_k, DL_I64<"1">:$axis,
                       OptionalAttr<I64Attr>:$ignore_label);
  let results = (outs DL_Tensor:$accuracy);
  let assemblyFormat = DL_GenericFormat;
}

//===----------------------------------------------------------------------===//
// Gradients (docs/autodiff.md)
//===----------------------------------------------------------------------===//

class DL_BackwardOp<string mnemonic, string what> : DL_Op<mnemonic, [Pure]> {
  let summary = "The " # what # " gradients of a forward dl op";
  let description = [{
    Emitted by `dl-autodiff`. `forward` names the forward op (without
    `dl.`); all of its attributes are copied onto this op. Operands: the
    forward op's `num_forward_operands` operands, then its results, then one
    gradient per result. Results: the gradients of the forward operands
    listed in `wrt` (ascending), with their types. Data gradients
    (`dl.backward_data`) and weight gradients (`dl.backward_weights`) are
    separate ops so they can be scheduled and timed separately.

    ```mlir
    %dw, %db = dl.backward_weights "convolution" %x, %w, %b, %y, %dy
        {num_forward_operands = 3 : i64, wrt = array<i64: 1, 2>, kernel = ...}
        : (...) -> (tensor<20x1x5x5xf32>, tensor<20xf32>)
    ```
  }];
  let arguments = (ins StrAttr:$forward, I64Attr:$num_forward_operands,
                       DenseI64ArrayAttr:$wrt, Variadic<DL_Tensor>:$inputs);
  let results = (outs Variadic<DL_Tensor>:$gradients);
  let assemblyFormat = "$forward $inputs attr-dict `:` functional-type($inputs, results)";
  let hasVerifier = 1;
}

def DL_BackwardDataOp : DL_BackwardOp<"backward_data", "data (activation)">;
def DL_BackwardWeightsOp : DL_BackwardOp<"backward_weights", "weight (parameter)">;

#endif // DLC_DIALECT_DL_IR_DLOPS_TD

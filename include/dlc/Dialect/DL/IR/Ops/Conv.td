// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Convolution family: convolution, deconvolution, im2col, inner product.
// Shape rules: lib/Ops/Conv.cpp.

def DL_ConvolutionOp : DL_LayerOp<"convolution"> {
  let dlWork = 1;
  let dlLayout = "channel_blocked";
  let summary = "Caffe Convolution layer (N-D, grouped, dilated)";
  let description = [{
    Caffe's `ConvolutionLayer` (conv_layer.cpp). Spatial vectors have one
    entry per spatial axis (input rank - 2); empty `stride`/`pad`/`dilation`
    mean Caffe's defaults 1/0/1. Output spatial size:
    `(i + 2p - (d(k-1)+1)) / s + 1` (floor). `weight` is
    `[num_output, C/group, k...]`, `bias` `[num_output]`.
  }];
  let arguments = (ins DL_Tensor:$input, DL_Weight:$weight,
                       Optional<DL_Weight>:$bias,
                       I64Attr:$num_output, DenseI64ArrayAttr:$kernel,
                       DL_I64Array:$stride, DL_I64Array:$pad,
                       DL_I64Array:$dilation, DL_I64<"1">:$group);
  let results = (outs DL_Tensor:$output);
}

def DL_DeconvolutionOp : DL_LayerOp<"deconvolution"> {
  let dlWork = 1;
  let dlLayout = "channel_blocked";
  let summary = "Caffe Deconvolution layer (transposed convolution)";
  let description = [{
    Caffe's `DeconvolutionLayer` (deconv_layer.cpp). Output spatial size:
    `s(i-1) + d(k-1)+1 - 2p`. `weight` is `[C, num_output/group, k...]`,
    `bias` `[num_output]`.
  }];
  let arguments = (ins DL_Tensor:$input, DL_Weight:$weight,
                       Optional<DL_Weight>:$bias,
                       I64Attr:$num_output, DenseI64ArrayAttr:$kernel,
                       DL_I64Array:$stride, DL_I64Array:$pad,
                       DL_I64Array:$dilation, DL_I64<"1">:$group);
  let results = (outs DL_Tensor:$output);
}

def DL_InnerProductOp : DL_LayerOp<"inner_product"> {
  let dlWork = 1;
  let summary = "Caffe InnerProduct layer (fully connected)";
  let description = [{
    Caffe's `InnerProductLayer` (inner_product_layer.cpp): the input is
    flattened from `axis` on (K = prod(shape[axis:])), the output is
    `shape[:axis] + [num_output]`. `weight` is `[num_output, K]`
    (`[K, num_output]` if `transpose`), `bias` `[num_output]`.
  }];
  let arguments = (ins DL_Tensor:$input, DL_Weight:$weight,
                       Optional<DL_Weight>:$bias,
                       I64Attr:$num_output, DL_I64<"1">:$axis,
                       DL_Bool<"false">:$transpose);
  let results = (outs DL_Tensor:$output);
}

def DL_Im2colOp : DL_LayerOp<"im2col"> {
  let summary = "Caffe Im2col layer";
  let description = [{
    Caffe's `Im2colLayer` (im2col_layer.cpp): the columns a convolution with
    this geometry multiplies, `[N, C * prod(kernel), out...]` with the output
    spatial size of a convolution (`kernel`, `stride`, `pad`, `dilation` as
    for `dl.convolution`). The gradient is col2im.
  }];
  let arguments = (ins DL_Tensor:$input, DenseI64ArrayAttr:$kernel,
                       DL_I64Array:$stride, DL_I64Array:$pad,
                       DL_I64Array:$dilation);
  let results = (outs DL_Tensor:$output);
}

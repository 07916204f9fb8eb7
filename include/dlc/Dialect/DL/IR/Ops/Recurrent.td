// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Recurrent family: embedding and recurrent layers.
// Shape rules: lib/Ops/Recurrent.cpp.

def DL_EmbedOp : DL_LayerOp<"embed"> {
  let summary = "Caffe Embed layer";
  let description = [{
    Caffe's `EmbedLayer` (embed_layer.cpp): looks up row `indices[i]` of
    `weight` `[input_dim, num_output]` (plus `bias` `[num_output]`). The output
    is `indices.shape + [num_output]`.
  }];
  let arguments = (ins DL_Index<"", "input_dim">:$indices, DL_Weight:$weight,
                       Optional<DL_Weight>:$bias,
                       I64Attr:$num_output, I64Attr:$input_dim);
  let results = (outs DL_Tensor:$output);
}

def DL_LSTMOp : DL_LayerOp<"lstm", [AttrSizedOperandSegments, DL_JointBackward]> {
  let dlWork = 1;
  let summary = "Caffe LSTM layer";
  let description = [{
    Caffe's `LSTMLayer` (lstm_layer.cpp, recurrent_layer.cpp): `x` is
    `[T, N, ...]`, `cont` `[T, N]` (0 resets the state), optional `x_static`
    `[N, ...]`. Weights: `w_xc` `[4H, I]` (I = prod(x.shape[2:])), `b_c`
    `[4H]`, `w_xc_static` `[4H, prod(x_static.shape[1:])]` (with `x_static`),
    `w_hc` `[4H, H]`; gate order i, f, o, g. Output `[T, N, num_output]`.
    `expose_hidden` (extra h0/c0 inputs and hT/cT outputs) is not supported.

    `mask` `[T, N]` is never imported: `dl-skip-masked-steps` sets it to the
    per-step scale the output is multiplied by (the sequence mask of a padded
    batch). A step (t, n) is *dead* when mask[t][n] is 0 and so is the mask
    of every later step of the same sequence (up to the next cont = 0): no
    result reads it. The output of a dead step is 0 and kernels do not
    compute it, forward or backward; every other value is Caffe's.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Cont:$cont,
                       Optional<DL_Tensor>:$x_static, DL_Weight:$w_xc,
                       DL_Weight:$b_c, Optional<DL_Weight>:$w_xc_static,
                       DL_Weight:$w_hc, Optional<DL_SequenceMask>:$mask,
                       I64Attr:$num_output, DL_Bool<"false">:$expose_hidden);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = [{
    $x `,` $cont `,` (`x_static` $x_static^ `,`)? $w_xc `,` $b_c `,`
    (`w_xc_static` $w_xc_static^ `,`)? $w_hc (`mask` $mask^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def DL_RNNOp : DL_LayerOp<"rnn", [AttrSizedOperandSegments, DL_JointBackward]> {
  let dlWork = 1;
  let summary = "Caffe RNN layer";
  let description = [{
    Caffe's `RNNLayer` (rnn_layer.cpp, recurrent_layer.cpp), the unrolled
    net: `h_t = tanh(w_hh (cont_t * h_{t-1}) + w_xh x_t + b_h
    [+ w_xh_static x_static])`, `o_t = tanh(w_ho h_t + b_o)` with h_0 = 0.
    `x` is `[T, N, ...]`, `cont` `[T, N]`, optional `x_static` `[N, ...]`;
    weights (Caffe's blob order) `w_xh` `[H, I]`, `b_h` `[H]`, `w_xh_static`
    `[H, prod(x_static.shape[1:])]` (with `x_static`), `w_hh` `[H, H]`,
    `w_ho` `[H, H]`, `b_o` `[H]`. Output `o`: `[T, N, num_output]`.
    `expose_hidden` is not supported.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Cont:$cont,
                       Optional<DL_Tensor>:$x_static, DL_Weight:$w_xh,
                       DL_Weight:$b_h, Optional<DL_Weight>:$w_xh_static,
                       DL_Weight:$w_hh, DL_Weight:$w_ho, DL_Weight:$b_o,
                       I64Attr:$num_output, DL_Bool<"false">:$expose_hidden);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat = [{
    $x `,` $cont `,` (`x_static` $x_static^ `,`)? $w_xh `,` $b_h `,`
    (`w_xh_static` $w_xh_static^ `,`)? $w_hh `,` $w_ho `,` $b_o attr-dict `:`
    functional-type(operands, results)
  }];
}

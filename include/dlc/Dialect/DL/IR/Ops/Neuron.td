// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Neuron family: element-wise activations (ReLU ... Swish), dropout, PReLU.
// Shape rules: lib/Ops/Neuron.cpp.

class DL_UnaryOp<string mnemonic, string layer, string formula,
                 list<Trait> traits = []>
    : DL_LayerOp<mnemonic, traits # [DL_Pointwise]> {
  let summary = "Caffe " # layer # " layer";
  let description = "Caffe's `" # layer # "Layer`: element-wise " # formula #
                    ". Same shape as the input.";
  let results = (outs DL_Tensor:$output);
  let dlLayout = "any";
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

def DL_ExpOp : DL_UnaryOp<"exp", "Exp",
    "`base ^ (shift + scale * x)` (`base` -1 means e)"> {
  let arguments = (ins DL_Tensor:$x, DL_F64<"-1.0">:$base,
                       DL_F64<"1.0">:$scale, DL_F64<"0.0">:$shift);
}
def DL_LogOp : DL_UnaryOp<"log", "Log",
    "`log_base(shift + scale * x)` (`base` -1 means e)"> {
  let arguments = (ins DL_Tensor:$x, DL_F64<"-1.0">:$base,
                       DL_F64<"1.0">:$scale, DL_F64<"0.0">:$shift);
}
def DL_ThresholdOp : DL_UnaryOp<"threshold", "Threshold",
    "`x > threshold ? 1 : 0` (no gradient, as in Caffe)", [DL_NoGradient]> {
  let arguments = (ins DL_Tensor:$x, DL_F64<"0.0">:$threshold);
}
def DL_ClipOp : DL_UnaryOp<"clip", "Clip", "`min(max(x, min), max)`"> {
  let arguments = (ins DL_Tensor:$x, F64Attr:$min, F64Attr:$max);
}
def DL_SwishOp : DL_UnaryOp<"swish", "Swish", "`x * sigmoid(beta * x)`"> {
  let arguments = (ins DL_Tensor:$x, DL_F64<"1.0">:$beta);
}

def DL_PReLUOp : DL_LayerOp<"prelu"> {
  let summary = "Caffe PReLU layer (parametric ReLU)";
  let description = [{
    Caffe's `PReLULayer` (prelu_layer.cpp): `max(x, 0) + slope_c * min(x, 0)`
    with one slope per channel (axis 1), `slope` `[C]`, or one shared slope
    (`channel_shared`, `slope` `[1]` or a scalar). Same shape as `x`.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Weight:$slope,
                       DL_Bool<"false">:$channel_shared);
  let results = (outs DL_Tensor:$output);
}

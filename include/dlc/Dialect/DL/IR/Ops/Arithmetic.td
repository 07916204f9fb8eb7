// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Arithmetic family: element-wise combination of blobs, reductions.
// Shape rules: lib/Ops/Arithmetic.cpp.

def DL_EltwiseOp : DL_LayerOp<"eltwise"> {
  let dlLayout = "any";
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
  let dlExtraAttrs = [DL_ExtraAttr<"operation", "str", "\"sum\"",
                                   ["prod", "sum", "max"], "eltwise operation">];
  let extraClassDeclaration = [{
    /// The `operation` attribute ("prod", "sum" or "max"; default "sum").
    ::llvm::StringRef getOperationKind();
  }];
}

def DL_ReductionOp : DL_LayerOp<"reduction"> {
  let summary = "Caffe Reduction layer";
  let description = [{
    Caffe's `ReductionLayer` (reduction_layer.cpp): reduces every axis from
    `axis` on with `operation` ("sum", "asum" = sum of |x|, "sumsq" = sum of
    x^2, "mean") and multiplies by `coeff`. The result has shape
    `x.shape[:axis]` (a scalar for axis 0). Like eltwise's, the `operation`
    attribute is read from the attribute dictionary.
  }];
  let arguments = (ins DL_Tensor:$x, DL_I64<"0">:$axis, DL_F64<"1.0">:$coeff);
  let results = (outs DL_Tensor:$output);
  let dlExtraAttrs = [DL_ExtraAttr<"operation", "str", "\"sum\"",
                                   ["sum", "asum", "sumsq", "mean"],
                                   "reduction operation">];
}

def DL_ArgMaxOp : DL_LayerOp<"argmax", [DL_NoGradient]> {
  let summary = "Caffe ArgMax layer";
  let description = [{
    Caffe's `ArgMaxLayer` (argmax_layer.cpp): the indices of the `top_k`
    largest values (ties: the larger index first, as std::partial_sort with
    std::greater on (value, index) pairs). With `axis`, along that axis (the
    output has `top_k` there; `out_max_val` gives the values instead of the
    indices); without, over each image's flattened values: `[N, 1, top_k]`
    (`[N, 2, top_k]` with `out_max_val`: indices then values), padded with
    1s to the input's rank. No gradient.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Bool<"false">:$out_max_val,
                       DL_I64<"1">:$top_k, OptionalAttr<I64Attr>:$axis);
  let results = (outs DL_Tensor:$output);
}

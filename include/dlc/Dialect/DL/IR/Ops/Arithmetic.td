// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Arithmetic family: element-wise combination of blobs.
// Shape rules: lib/Ops/Arithmetic.cpp.

def DL_EltwiseOp : DL_LayerOp<"eltwise"> {
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

// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Ops of the `dl` dialect. The op/attribute contract is docs/dialect.md; the
// layer ops are defined by family in Ops/*.td (the same families as the
// shape rules in lib/Ops, the importer entries in lib/Frontend/Layers and the
// kernels in lib/Runtime/{Reference,Dnnl}).

#ifndef DLC_DIALECT_DL_IR_DLOPS_TD
#define DLC_DIALECT_DL_IR_DLOPS_TD

include "dlc/Dialect/DL/IR/DLDialect.td"

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
    one `dl.param` with several users. `value`, when present, is the blob's
    contents as the net file gives them (e.g. InfogainLoss's `source` matrix);
    the filler is then unused, and trained weights (`dlc compile --weights`)
    still take precedence.

    ```mlir
    %w = dl.param {name = "conv1_w", filler = {type = "xavier"}} : tensor<20x1x5x5xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, DictionaryAttr:$filler,
                       DL_F64<"1.0">:$lr_mult, DL_F64<"1.0">:$decay_mult,
                       OptionalAttr<FloatElementsAttr<32>>:$value);
  let results = (outs StaticShapeTensorOf<[F32]>:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Layer ops, by family
//===----------------------------------------------------------------------===//

include "dlc/Dialect/DL/IR/Ops/Conv.td"
include "dlc/Dialect/DL/IR/Ops/Pooling.td"
include "dlc/Dialect/DL/IR/Ops/Neuron.td"
include "dlc/Dialect/DL/IR/Ops/Normalization.td"
include "dlc/Dialect/DL/IR/Ops/Arithmetic.td"
include "dlc/Dialect/DL/IR/Ops/Structure.td"
include "dlc/Dialect/DL/IR/Ops/Recurrent.td"
include "dlc/Dialect/DL/IR/Ops/Loss.td"

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

//===----------------------------------------------------------------------===//
// Fusion (docs/fusion.md)
//===----------------------------------------------------------------------===//

def DL_FusedOp : DL_Op<"fused", [IsolatedFromAbove, Pure]> {
  let summary = "Layers that run as one kernel";
  let description = [{
    Made by `dl-fuse-ops`: the region holds the fused layers' ops (dl layer
    ops and `dl.backward_data` / `dl.backward_weights`, in execution order)
    on the block arguments, which stand for the operands one to one, and
    `dl.yield` gives the results. The values inside
    are not stored: a backend runs the region as one kernel (a convolution
    with its BatchNorm folded into the weights and its activation as a
    post-op), and any backend can run it op by op. The op's location is
    the first layer's, named `layer1+layer2+...`, so timings, `--check` and
    dumps map to the prototxt.

    In gradient modules a fused op with `dl.role = "backward_data"` holds
    backward ops: those of a BatchNorm -> Scale -> [ReLU] chain, after
    copies of the chain's forward ops that recompute the blobs they read
    (docs/fusion.md, "Gradient modules"). It has several results, the
    gradients read outside, and the forward chain's layer name.

    ```mlir
    %y = dl.fused(%x, %w, %b) : (tensor<...>, tensor<...>, tensor<...>) -> tensor<...> {
    ^bb0(%a: tensor<...>, %bw: tensor<...>, %bb: tensor<...>):
      %c = dl.convolution %a, %bw, %bb {...} : (...) -> tensor<...>
      %r = dl.relu %c : (tensor<...>) -> tensor<...>
      dl.yield %r : tensor<...>
    }
    ```
  }];
  let arguments = (ins Variadic<DL_Tensor>:$inputs);
  let results = (outs Variadic<DL_Tensor>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat =
      "`(` $inputs `)` attr-dict `:` functional-type($inputs, results) $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Block &getBlock() { return getBody().front(); }
  }];
}

def DL_YieldOp : DL_Op<"yield", [Pure, Terminator, ReturnLike, HasParent<"FusedOp">]> {
  let summary = "The results of a dl.fused region";
  let arguments = (ins Variadic<DL_Tensor>:$values);
  let assemblyFormat = "$values attr-dict `:` type($values)";
}

#endif // DLC_DIALECT_DL_IR_DLOPS_TD

// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Passes on the dl dialect.

#ifndef DLC_DIALECT_DL_TRANSFORMS_PASSES_TD
#define DLC_DIALECT_DL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def DLSeedDropout : Pass<"dl-seed-dropout", "::mlir::ModuleOp"> {
  let summary = "Give every training-phase dropout its own mask seed";
  let description = [{
    Sets `seed` on every `dl.dropout` with `train = true`: FNV-1a-64 over the
    layer name (the op's NameLoc), started from `1469598103934665603 XOR
    seed`, shifted right by one (so it is a non-negative i64). Forward and
    backward regenerate the same mask from it (docs/autodiff.md); the mask is
    a function of the module seed and the layer alone.
  }];
  let options = [
    Option<"seed", "seed", "uint64_t", /*default=*/"1",
           "The module's seed (dlc compile --seed)">,
  ];
}

def DLSkipMaskedSteps : Pass<"dl-skip-masked-steps", "::mlir::ModuleOp"> {
  let summary = "Let LSTMs skip the padded steps of a masked batch";
  let description = [{
    Sets the `mask` operand of every `dl.lstm` whose output is read only by
    `dl.scale` ops multiplying it, along axes 0 and 1, by one and the same
    `[T, N]` tensor that is not a parameter (the sequence mask of a padded
    batch, models/lstm-imdb.prototxt). The LSTM then writes 0 at its dead
    steps and its kernels skip them (see `dl.lstm`); the products, the loss
    and every gradient are unchanged. Not applied in a function with
    `dl.force_backward` (the mask's own gradient would read the dead steps).
    Runs before `dl-autodiff`, so that `lstm_grad` sees the mask too.
  }];
}

def DLShapeInference : Pass<"dl-shape-inference", "::mlir::ModuleOp"> {
  let summary = "Propagate static shapes through a dl graph with Caffe's rules";
  let description = [{
    For every `func.func` of the module: starting from the function's
    argument types, visits the ops of the function in order and recomputes the result types of every dl op from
    its operands (Caffe's Reshape rules, `mlir::dl::inferAndSetResultTypes`),
    then sets the function's result types from its `func.return`. Changing the
    batch size in the signature and re-running the pass updates every shape.
    Fails with the op's diagnostic on inconsistent shapes or bad parameters.
  }];
  let dependentDialects = ["::mlir::dl::DLDialect", "::mlir::func::FuncDialect"];
}

def DLSelectKernels : Pass<"dl-select-kernels", "::mlir::ModuleOp"> {
  let summary = "Choose the runtime implementation of every dl op";
  let description = [{
    Sets `dl.impl` on every dl op (except `dl.param`): "ref" for the reference
    interpreter, "auto" for the optimized library's own choice. The
    algorithms of convolutions are chosen afterwards, per layer and
    direction, by dl-select-conv-algorithms.
  }];
  let options = [
    Option<"impl", "impl", "std::string", /*default=*/"\"auto\"",
           "Kernel implementation: auto (optimized where available) or ref">,
  ];
}

def DLSelectConvAlgorithms : Pass<"dl-select-conv-algorithms", "::mlir::ModuleOp"> {
  let summary = "Choose the algorithm of every direction of every 2-D convolution";
  let description = [{
    Visits every direction of every 2-D convolution layer: `dl.convolution`
    (forward, also inside `dl.fused` bodies, whose later steps are post-ops),
    `dl.backward_data "convolution"` (backward data) and
    `dl.backward_weights "convolution"` (backward weights), all named after
    the forward layer. For each, the candidates are the algorithms of the
    catalog (include/dlc/Ops/ConvAlgorithms.h: direct, gemm, fft, winograd2,
    winograd4, onednn-winograd, sliding) with why each does not apply to the
    problem (its geometry, and the channel block of its input);
    candidates whose workspace is over `workspace-limit` are excluded. A
    cost oracle times the rest: the `cost-table` when given, else the
    oracle dlc compile hands over (measured rates, the tuner), else the
    analytic cost model at `rates`.

    `conv-algorithm` forces algorithms: comma-separated entries `ALGO` (the
    whole net), `LAYER=ALGO` (every direction of a layer),
    `LAYER/DIRECTION=ALGO` (DIRECTION: forward, backward-data,
    backward-weights; the most specific entry wins) and `fallback=ALGO`
    (`auto` or an algorithm: what a layer gets where the whole-net ALGO does
    not apply). ALGO `auto` chooses the fastest. Forcing an algorithm that
    does not apply (or is over the workspace limit) is an error at the op,
    naming the layer, direction, algorithm and reason; every such error is
    reported. Unknown algorithms, layers or directions are errors.
    Otherwise the fastest timed candidate wins (ties: catalog order;
    "direct" when none has a time).

    Sets `dl.impl` to the algorithm's name and `dl.conv_selection` to the
    decision, a dictionary of algorithm, reason, source and candidates (per
    algorithm: seconds, -1 when unknown; workspace in bytes; max_error, -1
    when not measured; source; why_not), which dlc compile --explain prints. Ops whose `dl.impl` is
    "ref", deconvolutions and convolutions of other ranks keep their
    `dl.impl`. Runs after dl-select-kernels.
  }];
  let options = [
    Option<"convAlgorithm", "conv-algorithm", "std::string", /*default=*/"\"auto\"",
           "Forced algorithms: ALGO, LAYER=ALGO, LAYER/DIRECTION=ALGO, fallback=auto|ALGO "
           "(comma-separated)">,
    Option<"costTable", "cost-table", "std::string", /*default=*/"\"\"",
           "Fixed times instead of the cost model: LAYER/DIRECTION/ALGO=MS,... (LAYER and "
           "DIRECTION may be *)">,
    Option<"workspaceLimit", "workspace-limit", "int64_t", /*default=*/"0",
           "Largest workspace in bytes an algorithm may use (0: no limit)">,
    Option<"rates", "rates", "std::string", /*default=*/"\"\"",
           "Machine rates of the cost model: gemm=GFLOPS,vector=GFLOPS,bandwidth=GBS,"
           "onednn-winograd=0|1 (unset: defaults)">,
  ];
}

def DLFuseOps : Pass<"dl-fuse-ops", "::mlir::ModuleOp"> {
  let summary = "Group layers that one kernel can run into dl.fused ops";
  let description = [{
    Moves chains `anchor -> [batch_norm] -> [scale] -> [eltwise sum] ->
    pointwise ops` into `dl.fused` ops (docs/fusion.md). Anchors are
    convolutions, deconvolutions and inner products (BatchNorm with global
    statistics and a learned per-channel Scale may follow them directly; the
    oneDNN backend folds them into the weights), and two-input Eltwise sums
    with unit coefficients. Every value inside a chain has exactly one use,
    the next op: a blob read elsewhere (by a backward op, another layer, the
    function's results) ends the chain, so fused results are exact in
    forward and backward. Each fused op is named after its layers
    (`conv1+bn1+scale1+relu1`) at the first layer's position. Where no
    such anchor starts a chain, an element-wise chain (`pointwise-chains`)
    may: a pointwise op, an Eltwise (any operation; with `eltwise`) or a
    per-channel Scale/Bias with learned parameters, followed by pointwise
    ops, which the code generator turns into one kernel (docs/codegen.md).

    In gradient modules, before those chains, `batch-norm-grad` fuses each
    BatchNorm (global statistics) -> per-channel Scale -> [ReLU] whose
    intermediate blobs are read only by the chain and its backward ops: the
    forward layers become one `dl.fused` op, and their backward ops one
    `dl.fused` op (`dl.role = "backward_data"`, the same layer name) that
    recomputes the intermediate blobs from the chain's input instead of
    keeping them (docs/fusion.md, "Gradient modules").
  }];
  let options = [
    Option<"fuseActivations", "activations", "bool", /*default=*/"true",
           "Append pointwise ops (DL_Pointwise) to convolutions, inner products and sums">,
    Option<"foldBatchNorm", "batch-norm", "bool", /*default=*/"true",
           "Fuse BatchNorm (global statistics) and Scale into the preceding convolution">,
    Option<"fuseEltwise", "eltwise", "bool", /*default=*/"true",
           "Fuse two-input Eltwise sums (as a post-op of a convolution, or with their activations)">,
    Option<"pointwiseChains", "pointwise-chains", "bool", /*default=*/"true",
           "Fuse element-wise chains: a pointwise op, an Eltwise or a per-channel Scale/Bias "
           "followed by pointwise ops (docs/codegen.md)">,
    Option<"fuseBatchNormGrad", "batch-norm-grad", "bool", /*default=*/"true",
           "In gradient modules, fuse BatchNorm (global statistics) + Scale [+ ReLU] and "
           "their backward ops, recomputing the intermediate blobs in the backward op">,
  ];
  let dependentDialects = ["::mlir::dl::DLDialect"];
}

def DLPropagateLayouts : Pass<"dl-propagate-layouts", "::mlir::ModuleOp"> {
  let summary = "Choose each blob's storage layout (plain or channel-blocked)";
  let description = [{
    Walks each network function in order and gives every result a storage
    layout (docs/layouts.md): plain row-major, or with `block` = 8 / 16
    nChw8c / nChw16c. Graph inputs and `dl.param` results are plain. By the
    op definition's layout class (`dlLayout`; a backward op takes its forward
    op's): a "channel_blocked" op (convolution, pooling, BatchNorm, ...)
    whose operand 0 is rank 4 with C a multiple of the block, whose other
    data operands are such tensors or of rank <= 1 and whose `axis`, if it
    has one, is 1 reads its data operands as they are and writes blocked
    results (a backward op writes each gradient in its operand's layout);
    an "any" op (element-wise) reads all its data operands in one layout,
    blocked when one of them is and all can be, and writes that layout; every
    other op reads and writes plain. A `dl.fused` op follows its body (no
    reorder inside: a layer that needs a value computed inside in another
    layout makes the body plain). Weights, statistics and other non-data
    operands are read plain.

    Where a value is read in another layout than its producer wrote, a
    `dl.reorder` goes right before the first such reader, named
    `<reader's layer>:reorder`, with `dl.tops = ["<blob>:<layout>"]` and the
    reader's `dl.role`, and later readers of that layout share it. Layouts
    are recorded as `dl.layouts` (one name per result) on ops with a
    non-plain result and as `dl.layout` on the function. `block` = 0 leaves
    the IR unchanged. Runs after dl-autodiff and dl-fuse-ops.
  }];
  let options = [
    Option<"block", "block", "int", /*default=*/"0",
           "Channel block of the blocked layout: 0 (everything plain), 8 or 16">,
  ];
  let dependentDialects = ["::mlir::dl::DLDialect"];
}

def DLPlanBuffers : Pass<"dl-plan-buffers", "::mlir::ModuleOp"> {
  let summary = "Share activation memory between tensors whose lifetimes do not overlap";
  let description = [{
    Assigns every activation a 64-byte-aligned offset in one arena by greedy
    first-fit in definition order over live intervals (definition to last
    use; net outputs live to the end; graph inputs are never shared). Sets
    `dl.offsets` on each op, `dl.offset` on each function argument and
    `dl.arena_bytes` on the function.

    In place: a result may take the slot of the operand that
    `mlir::dl::inPlaceOperand` names (a pointwise op's input, an Eltwise
    SUM's first input, the blob a fused kernel's sum post-op accumulates
    into) when that operand is not read afterwards. The function also gets
    `dl.naive_bytes` (every activation in its own buffer) and `dl.in_place`
    (how many results were placed in place). See docs/memory.md.
  }];
  let options = [
    Option<"inPlace", "in-place", "bool", /*default=*/"true",
           "Let results overwrite operands that are not read afterwards">,
  ];
}

def DLAutodiff : Pass<"dl-autodiff", "::mlir::ModuleOp"> {
  let summary = "Append the backward graph (reverse-mode gradient) of a net";
  let description = [{
    Differentiates each network function from its loss ops (seeded with 1;
    losses include their loss_weight) and appends, per forward op in reverse
    order, a `dl.backward_data` op for its activation operands and a
    `dl.backward_weights` op for its trainable parameters. Caffe's rules:
    labels/targets/indices get no gradient, `dl.propagate_down` stops it,
    `lr_mult: 0` parameters are skipped, data gradients are computed only where
    they lead to a trainable parameter unless the function has
    `dl.force_backward`, and fan-out (including shared parameters) sums the
    contributions with `dl.eltwise`. The function then also returns every
    trainable parameter's gradient (`<name>@grad`). See docs/autodiff.md.
  }];
  let dependentDialects = ["::mlir::dl::DLDialect", "::mlir::func::FuncDialect"];
}

#endif // DLC_DIALECT_DL_TRANSFORMS_PASSES_TD

// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Structure family: layers that move data without arithmetic.
// Shape rules: lib/Ops/Structure.cpp.

def DL_ConcatOp : DL_LayerOp<"concat"> {
  let summary = "Caffe Concat layer";
  let description = [{
    Caffe's `ConcatLayer` (concat_layer.cpp): concatenates its inputs along
    `axis`; all other dimensions must agree.
  }];
  let arguments = (ins Variadic<DL_Tensor>:$inputs, DL_I64<"1">:$axis);
  let results = (outs DL_Tensor:$output);
}

// With empty slice_points the number of results (equal parts) is not
// derivable from operands and attributes.
def DL_SliceOp : DL_VariadicLayerOp<"slice"> {
  let summary = "Caffe Slice layer";
  let description = [{
    Caffe's `SliceLayer` (slice_layer.cpp): splits `x` along `axis` at
    `slice_points` (strictly increasing, one fewer than the results), or into
    equal parts when `slice_points` is empty.
  }];
  let arguments = (ins DL_Tensor:$x, DL_I64<"1">:$axis,
                       DL_I64Array:$slice_points);
  let results = (outs Variadic<DL_Tensor>:$outputs);
}

def DL_CropOp : DL_LayerOp<"crop"> {
  let summary = "Caffe Crop layer";
  let description = [{
    Caffe's `CropLayer` (crop_layer.cpp): dimensions from `axis` on take the
    reference's size, starting at `offset` (0 entries: all 0; 1 entry: used
    for every cropped axis; otherwise one per cropped axis).
  }];
  let arguments = (ins DL_Tensor:$x, DL_ShapeOnly:$reference,
                       DL_I64<"2">:$axis, DL_I64Array:$offset);
  let results = (outs DL_Tensor:$output);
}

def DL_FlattenOp : DL_LayerOp<"flatten"> {
  let summary = "Caffe Flatten layer";
  let description = [{
    Caffe's `FlattenLayer` (flatten_layer.cpp): collapses axes
    `[axis, end_axis]` (inclusive, negative from the end) into one.
  }];
  let arguments = (ins DL_Tensor:$x, DL_I64<"1">:$axis,
                       DL_I64<"-1">:$end_axis);
  let results = (outs DL_Tensor:$output);
}

def DL_ReshapeOp : DL_LayerOp<"reshape"> {
  let summary = "Caffe Reshape layer";
  let description = [{
    Caffe's `ReshapeLayer` (reshape_layer.cpp): replaces axes
    `[axis, axis + num_axes)` (`num_axes` -1: to the end) by `shape`, where 0
    copies the corresponding input dimension and one -1 is inferred.
  }];
  let arguments = (ins DL_Tensor:$x, DenseI64ArrayAttr:$shape,
                       DL_I64<"0">:$axis, DL_I64<"-1">:$num_axes);
  let results = (outs DL_Tensor:$output);
}

def DL_TileOp : DL_LayerOp<"tile"> {
  let summary = "Caffe Tile layer";
  let description = [{
    Caffe's `TileLayer` (tile_layer.cpp): repeats `x` `tiles` times along
    `axis` (the whole block from `axis` on is repeated). The gradient sums the
    copies.
  }];
  let arguments = (ins DL_Tensor:$x, DL_I64<"1">:$axis, I64Attr:$tiles);
  let results = (outs DL_Tensor:$output);
}

def DL_BatchReindexOp : DL_LayerOp<"batch_reindex"> {
  let summary = "Caffe BatchReindex layer";
  let description = [{
    Caffe's `BatchReindexLayer` (batch_reindex_layer.cpp): output item i is
    `x[indices[i]]`; `indices` is 1-D with integers in [0, N). The gradient
    adds each output gradient into the item it came from; the indices get
    none.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Index<"x", "0">:$indices);
  let results = (outs DL_Tensor:$output);
}

def DL_FilterOp : DL_VariadicLayerOp<"filter", [DL_DataDependentShape]> {
  let summary = "Caffe Filter layer";
  let description = [{
    Caffe's `FilterLayer` (filter_layer.cpp): result i holds the items of
    input i (along axis 0) whose `selector` entry is non-zero, in order. The
    selector is `[N]` or `[N, 1, ...]` and every input has N items. How many
    items pass is known only when the layer runs, so the results' leading
    size is `?` (at most N). The gradient copies each result gradient back
    to the item it came from and zeroes the others; the selector gets none.
  }];
  let arguments = (ins Variadic<DL_Tensor>:$inputs, DL_Binary:$selector);
  let results = (outs Variadic<DL_Tensor>:$outputs);
}

def DL_SilenceOp : DL_LayerOp<"silence", [DL_NoGradient]> {
  let summary = "Caffe Silence layer";
  let description = [{
    Caffe's `SilenceLayer`: consumes its inputs so that they are not net
    outputs. No results.
  }];
  let arguments = (ins Variadic<DL_Tensor>:$inputs);
}

def DL_ReorderOp : DL_LayerOp<"reorder", [DL_NoGradient]> {
  let summary = "Change of storage layout (inserted by dl-propagate-layouts)";
  let description = [{
    Not a Caffe layer: copies `x` into another storage layout (plain
    row-major, nChw8c, nChw16c; docs/layouts.md). The layouts are those of
    its operand and its result (`dl.layouts` of the producing ops); the
    values and the shape are unchanged. dl-propagate-layouts inserts one
    where a consumer cannot read the layout its producer wrote.
  }];
  let arguments = (ins DL_Tensor:$x);
  let results = (outs DL_Tensor:$output);
}

// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Passes on the dl dialect.

#ifndef DLC_DIALECT_DL_TRANSFORMS_PASSES_TD
#define DLC_DIALECT_DL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

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
    interpreter, "auto" for the optimized library's own choice, or, for
    `dl.convolution`, the algorithm given by `conv-algorithm` ("direct",
    "gemm" = im2col + GEMM, "winograd"). Winograd applies only to 3x3,
    stride-1, undilated, ungrouped convolutions; other layers keep "auto" with
    a warning at the layer.
  }];
  let options = [
    Option<"convAlgorithm", "conv-algorithm", "std::string", /*default=*/"\"auto\"",
           "Convolution algorithm: auto, direct, gemm or winograd">,
    Option<"impl", "impl", "std::string", /*default=*/"\"auto\"",
           "Kernel implementation: auto (optimized where available) or ref">,
  ];
}

def DLPlanBuffers : Pass<"dl-plan-buffers", "::mlir::ModuleOp"> {
  let summary = "Share activation memory between tensors whose lifetimes do not overlap";
  let description = [{
    Assigns every activation a 64-byte-aligned offset in one arena by greedy
    first-fit in definition order over live intervals (definition to last
    use; net outputs live to the end; graph inputs are never shared). Sets
    `dl.offsets` on each op, `dl.offset` on each function argument and
    `dl.arena_bytes` on the function.
  }];
}

#endif // DLC_DIALECT_DL_TRANSFORMS_PASSES_TD

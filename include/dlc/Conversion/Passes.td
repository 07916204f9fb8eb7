// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Conversions out of the dl dialect: native code for fused element-wise
// bodies and the gates of recurrent layers (docs/codegen.md).

#ifndef DLC_CONVERSION_PASSES_TD
#define DLC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def DLCodegenPointwise : Pass<"dl-codegen-pointwise", "::mlir::ModuleOp"> {
  let summary = "Generate a kernel function for every element-wise dl.fused op";
  let description = [{
    For each `dl.fused` op whose body is element-wise only (DL_Pointwise
    layers with Caffe's semantics, dropout at test time, an Eltwise of any
    kind and input count first, per-channel Scale and Bias with parameter
    operands), writes a function `@dlc_gen_<n>` with the C signature

      void dlc_gen_<n>(const float *const *in, float *const *out,
                       int64_t begin, int64_t end)

    that computes elements [begin, end) of the fused op's result from its
    operands (in the fused op's operand order): a loop over `unroll` vectors
    of `vector-width` lanes, one over single vectors, then a scalar loop for
    the tail, in the arith, math and scf dialects on `!llvm.ptr` loads and
    stores. Per-channel operands (Scale, Bias) are walked row by row. The
    functions go into one nested module `@dl_codegen` (marked
    `dl.codegen_kernels`), and the fused op gets `dl.codegen =
    "dlc_gen_<n>"`. Other fused ops are left alone (they run as before).
    `dl-codegen-compile` turns the nested module into native code.
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"\"",
           "Target CPU (LLVM name, e.g. x86-64-v3, skylake-avx512); empty: this machine's">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"0",
           "Lanes of a vector (0: 16 with AVX-512, 8 with AVX, else 4)">,
    Option<"unroll", "unroll", "int64_t", /*default=*/"0",
           "Vectors per iteration of the main loop (0: 8 with AVX-512, else 4)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect", "::mlir::func::FuncDialect",
                           "::mlir::vector::VectorDialect", "::mlir::LLVM::LLVMDialect"];
}

def DLCodegenRecurrent : Pass<"dl-codegen-recurrent", "::mlir::ModuleOp"> {
  let summary = "Generate the gate functions of every LSTM and RNN layer";
  let description = [{
    For each `dl.lstm` and `dl.rnn` op and their backward ops (except those
    with `dl.impl = "ref"`), writes the element-wise step functions their
    kernels call once per stream and time step: the fused gate
    nonlinearities, cell and hidden update of the LSTM forward and backward
    (`@dlc_cell_lstm_forward_h<H>`, `@dlc_cell_lstm_backward_h<H>`,
    specialized for the hidden size H), and the RNN's hidden and output
    tanh steps forward and backward (`@dlc_cell_rnn_*`). The signatures
    and formulas are those of `dlc/Ops/RecurrentCells.h`. Each function is
    generated once per module (and hidden size) into the nested module
    `@dl_codegen`, with the loops of `dl-codegen-pointwise`: `unroll`
    vectors of `vector-width` lanes (at most 2 vectors for the LSTM's,
    whose formulas are long), single vectors, a scalar tail. Every op
    names its layer's functions in the string attributes
    `dl.codegen_<name>` (`dl.codegen_lstm_forward`, ...).
    `dl-codegen-compile` turns the nested module into native code.
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"\"",
           "Target CPU (LLVM name, e.g. x86-64-v3, skylake-avx512); empty: this machine's">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"0",
           "Lanes of a vector (0: 16 with AVX-512, 8 with AVX, else 4)">,
    Option<"unroll", "unroll", "int64_t", /*default=*/"0",
           "Vectors per iteration of the main loop (0: 8 with AVX-512, else 4; LSTM at most 2)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect", "::mlir::func::FuncDialect",
                           "::mlir::vector::VectorDialect", "::mlir::LLVM::LLVMDialect"];
}

def DLCodegenUpdate : Pass<"dl-codegen-update", "::mlir::ModuleOp"> {
  let summary = "Generate the parameter update of a Caffe solver";
  let description = [{
    For a module trained with a solver (`dlc compile --solver`), writes the
    function that updates one parameter in one pass: the gradient scaled
    (clipping, iter_size), weight decay (L2 or L1), then the rule of the
    solver type (SGD with momentum, Nesterov, AdaGrad, RMSProp, AdaDelta,
    Adam), reading the gradient, the weight and the history once and
    writing the weight and the history once. The signature and formulas are
    those of `dlc/Ops/SolverUpdate.h`; the per-parameter coefficients
    (learning rate, decay, momentum, ...) are arguments, the solver type and
    regularization are compiled in. The function `@dlc_update_<type>_<l2|l1>`
    goes into the nested module `@dl_codegen`, with the loops of
    `dl-codegen-pointwise`; the module gets `dl.codegen_update` naming it.
    With `solver` empty the pass does nothing. `dl-codegen-compile` turns
    the nested module into native code.
  }];
  let options = [
    Option<"solver", "solver", "std::string", /*default=*/"\"\"",
           "Solver type: sgd, nesterov, adagrad, rmsprop, adadelta or adam; empty: none">,
    Option<"regularization", "regularization", "std::string", /*default=*/"\"L2\"",
           "Weight decay: L2 or L1">,
    Option<"cpu", "cpu", "std::string", /*default=*/"\"\"",
           "Target CPU (LLVM name, e.g. x86-64-v3, skylake-avx512); empty: this machine's">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"0",
           "Lanes of a vector (0: 16 with AVX-512, 8 with AVX, else 4)">,
    Option<"unroll", "unroll", "int64_t", /*default=*/"0",
           "Vectors per iteration of the main loop (0: 8 with AVX-512, else 4)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect", "::mlir::func::FuncDialect",
                           "::mlir::vector::VectorDialect", "::mlir::LLVM::LLVMDialect"];
}

def DLCodegenCompile : Pass<"dl-codegen-compile", "::mlir::ModuleOp"> {
  let summary = "Compile the generated kernels into native code stored in the module";
  let description = [{
    Lowers the nested `@dl_codegen` module (polynomial approximations of
    exp, log, log1p, expm1 and tanh, so the code calls no library; then the
    LLVM dialect), translates it to LLVM IR, optimizes it (`opt-level`) and
    compiles it for `cpu` (empty: this machine's CPU and features) into an
    ELF relocatable object. The nested module is replaced by the attribute
    `dl.native_code` on the module: `{object, triple, cpu, features,
    symbols}`, the CPU features being those the runtime checks before it
    loads the code (docs/codegen.md).
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"\"",
           "Target CPU (LLVM name, e.g. x86-64-v3, skylake-avx512); empty: this machine's">,
    Option<"optLevel", "opt-level", "unsigned", /*default=*/"3",
           "LLVM optimization level (0-3)">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // DLC_CONVERSION_PASSES_TD

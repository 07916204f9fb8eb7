// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Passes on the dl dialect.

#ifndef DLC_DIALECT_DL_TRANSFORMS_PASSES_H
#define DLC_DIALECT_DL_TRANSFORMS_PASSES_H

#include "dlc/Dialect/DL/IR/DLDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <memory>

namespace dlc::ops {
class ConvCostOracle;
} // namespace dlc::ops

namespace mlir::dl {

#define GEN_PASS_DECL
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"

/// dl-select-conv-algorithms with a cost oracle given in C++ (dlc compile:
/// measured machine rates, the tuner): used unless `options.costTable` is
/// set; nullptr: the cost model at `options.rates`.
std::unique_ptr<Pass>
createDLSelectConvAlgorithms(const DLSelectConvAlgorithmsOptions &options,
                             std::shared_ptr<dlc::ops::ConvCostOracle> oracle);

/// Runs Caffe shape inference over `func` (what dl-shape-inference does per
/// function). Emits the failing op's diagnostic and returns failure on
/// inconsistent shapes.
llvm::LogicalResult inferShapes(func::FuncOp func);

/// `dl-compile{layout=...}` (dlc compile --layout): the storage layout of
/// activations (docs/layouts.md).
enum class LayoutChoice {
  Auto,   ///< nChw16c when the target CPU has AVX-512 (avx512f), else nChw8c
  Plain,  ///< every blob plain (dl-propagate-layouts does nothing)
  NChw8c,
  NChw16c
};

/// The channel block `choice` means for `cpu` (an LLVM CPU name; "": this
/// machine): 0, 8 or 16. Auto falls back to 8 when the CPU cannot be
/// resolved (dl-codegen-compile reports an unknown name).
int resolveLayoutBlock(LayoutChoice choice, const std::string &cpu);

/// The options of `dl-compile`, the pipeline `dlc compile` runs
/// (docs/architecture.md): `dl-opt --pass-pipeline='builtin.module(dl-compile{...})'`
/// reproduces it on imported IR.
struct CompilePipelineOptions : public PassPipelineOptions<CompilePipelineOptions> {
  Option<uint64_t> seed{*this, "seed", llvm::cl::desc("Module seed (dropout masks)"),
                        llvm::cl::init(1)};
  Option<bool> gradient{*this, "gradient",
                        llvm::cl::desc("Append the backward graph (dl-autodiff)"),
                        llvm::cl::init(false)};
  Option<std::string> convAlgorithm{
      *this, "conv-algorithm",
      llvm::cl::desc("Convolution algorithms (dl-select-conv-algorithms): ALGO, LAYER=ALGO, "
                     "LAYER/DIRECTION=ALGO, fallback=auto|ALGO, comma-separated"),
      llvm::cl::init("auto")};
  Option<std::string> costTable{
      *this, "cost-table",
      llvm::cl::desc("Fixed convolution times LAYER/DIRECTION/ALGO=MS,... instead of the "
                     "cost model (dl-select-conv-algorithms)"),
      llvm::cl::init("")};
  Option<int64_t> workspaceLimit{
      *this, "workspace-limit",
      llvm::cl::desc("Largest convolution workspace in bytes (0: no limit)"),
      llvm::cl::init(0)};
  Option<std::string> rates{
      *this, "rates",
      llvm::cl::desc("Machine rates of the convolution cost model: gemm=GFLOPS,vector=GFLOPS,"
                     "bandwidth=GBS,onednn-winograd=0|1"),
      llvm::cl::init("")};
  /// Not an option (C++ only): the cost oracle dl-select-conv-algorithms
  /// uses unless `costTable` is given (dlc compile: measured rates, --tune);
  /// nullptr: the cost model at `rates`.
  std::shared_ptr<dlc::ops::ConvCostOracle> convOracle;
  Option<std::string> impl{*this, "impl", llvm::cl::desc("auto or ref"),
                           llvm::cl::init("auto")};
  Option<bool> fuse{*this, "fuse", llvm::cl::desc("Fuse layers into dl.fused ops (dl-fuse-ops)"),
                    llvm::cl::init(true)};
  Option<bool> planBuffers{*this, "plan-buffers",
                           llvm::cl::desc("Share activation memory (dl-plan-buffers)"),
                           llvm::cl::init(true)};
  Option<bool> codegen{*this, "codegen",
                       llvm::cl::desc("Native code for element-wise fused ops "
                                      "(dl-codegen-pointwise, dl-codegen-compile)"),
                       llvm::cl::init(true)};
  Option<std::string> cpu{*this, "cpu",
                          llvm::cl::desc("CPU the native code is for (LLVM name); "
                                         "empty: this machine's"),
                          llvm::cl::init("")};
  Option<std::string> solver{*this, "solver",
                             llvm::cl::desc("Solver type whose update to generate "
                                            "(dl-codegen-update); empty: none"),
                             llvm::cl::init("")};
  Option<std::string> regularization{*this, "regularization",
                                     llvm::cl::desc("The solver's weight decay: L2 or L1"),
                                     llvm::cl::init("L2")};
  Option<LayoutChoice> layout{
      *this, "layout",
      llvm::cl::desc("Storage layout of activations (dl-propagate-layouts)"),
      llvm::cl::init(LayoutChoice::Auto),
      llvm::cl::values(
          clEnumValN(LayoutChoice::Auto, "auto",
                     "nChw16c when `cpu` has AVX-512, else nChw8c"),
          clEnumValN(LayoutChoice::Plain, "plain", "every blob plain"),
          clEnumValN(LayoutChoice::NChw8c, "nChw8c", "channels in blocks of 8"),
          clEnumValN(LayoutChoice::NChw16c, "nChw16c", "channels in blocks of 16"))};
};

/// Adds the passes of `dl-compile` to `pm`: dl-seed-dropout,
/// dl-shape-inference, [dl-autodiff], [dl-fuse-ops], dl-propagate-layouts
/// (the block from `layout` and `cpu`), dl-select-kernels,
/// dl-select-conv-algorithms (with `convOracle`), [dl-plan-buffers],
/// [dl-codegen-pointwise, dl-codegen-recurrent, [dl-codegen-update],
/// dl-codegen-compile] (with `codegen`, unless `impl` is ref; the update
/// with `solver`; docs/codegen.md).
void buildCompilePipeline(OpPassManager &pm, const CompilePipelineOptions &options);

/// Registers the dl passes and the `dl-compile` pipeline.
void registerDLPipelines();

#define GEN_PASS_REGISTRATION
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"

} // namespace mlir::dl

#endif // DLC_DIALECT_DL_TRANSFORMS_PASSES_H

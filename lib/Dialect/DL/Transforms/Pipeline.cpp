//===- Pipeline.cpp - The dl-compile pipeline -----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The one definition of what `dlc compile` does to imported IR, registered
// so that `dl-opt --pass-pipeline='builtin.module(dl-compile{...})'` runs
// exactly the same passes with the same options.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DL/Transforms/Passes.h"

#include "dlc/Conversion/Codegen.h"
#include "dlc/Conversion/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

int mlir::dl::resolveLayoutBlock(LayoutChoice choice, const std::string &cpu) {
  switch (choice) {
  case LayoutChoice::Plain:
    return 0;
  case LayoutChoice::NChw8c:
    return 8;
  case LayoutChoice::NChw16c:
    return 16;
  case LayoutChoice::Auto:
    break;
  }
  bool avx512 = false;
  std::string error;
  if (!dlc::codegen::cpuHasFeature(cpu, "avx512f", avx512, error))
    return 8;
  return avx512 ? 16 : 8;
}

void mlir::dl::buildCompilePipeline(OpPassManager &pm, const CompilePipelineOptions &options) {
  DLSeedDropoutOptions seed;
  seed.seed = options.seed;
  pm.addPass(createDLSeedDropout(seed));
  pm.addPass(createDLShapeInference());
  pm.addPass(createDLSkipMaskedSteps());
  if (options.gradient)
    pm.addPass(createDLAutodiff());
  if (options.fuse)
    pm.addPass(createDLFuseOps());
  // Layouts are chosen for the ops that will run: after the backward graph
  // and fusion exist, before buffers are planned (docs/layouts.md).
  DLPropagateLayoutsOptions layouts;
  layouts.block = resolveLayoutBlock(options.layout, options.cpu);
  pm.addPass(createDLPropagateLayouts(layouts));
  DLSelectKernelsOptions select;
  select.impl = options.impl;
  pm.addPass(createDLSelectKernels(select));
  // Per layer and direction (docs/convolution.md); ops with impl=ref are
  // left alone.
  DLSelectConvAlgorithmsOptions conv;
  conv.convAlgorithm = options.convAlgorithm;
  conv.costTable = options.costTable;
  conv.workspaceLimit = options.workspaceLimit;
  conv.rates = options.rates;
  pm.addPass(createDLSelectConvAlgorithms(conv, options.convOracle));
  if (options.planBuffers)
    pm.addPass(createDLPlanBuffers());
  // Native code for element-wise fused ops and recurrent gates
  // (docs/codegen.md), and the solver's update (docs/training.md); the
  // reference implementation asked for with impl=ref needs none.
  if (options.codegen && options.impl != "ref") {
    DLCodegenPointwiseOptions gen;
    gen.cpu = options.cpu;
    pm.addPass(createDLCodegenPointwise(gen));
    DLCodegenRecurrentOptions cells;
    cells.cpu = options.cpu;
    pm.addPass(createDLCodegenRecurrent(cells));
    if (!options.solver.empty()) {
      DLCodegenUpdateOptions update;
      update.solver = options.solver;
      update.regularization = options.regularization;
      update.cpu = options.cpu;
      pm.addPass(createDLCodegenUpdate(update));
    }
    DLCodegenCompileOptions compile;
    compile.cpu = options.cpu;
    pm.addPass(createDLCodegenCompile(compile));
  }
}

void mlir::dl::registerDLPipelines() {
  registerDLPasses();
  registerDLConversionPasses();
  PassPipelineRegistration<CompilePipelineOptions>(
      "dl-compile",
      "What `dlc compile` runs: dl-seed-dropout, dl-shape-inference, [dl-autodiff], "
      "[dl-fuse-ops], dl-propagate-layouts, dl-select-kernels, dl-select-conv-algorithms, "
      "[dl-plan-buffers], [dl-codegen-pointwise, dl-codegen-recurrent, [dl-codegen-update], "
      "dl-codegen-compile]",
      buildCompilePipeline);
}

//===- dlc.cpp - The dlc compiler command line ----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Argument parsing only (CLI11); the work is done in lib/Driver.
//
//===----------------------------------------------------------------------===//

#include "dlc/Driver/Driver.h"
#include "dlc/Ops/ConvAlgorithms.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

using namespace dlc::driver;

static CLI::Option *addNetOptions(CLI::App *cmd, NetOptions &net) {
  CLI::Option *model = cmd->add_option("model", net.input, "Caffe net (.prototxt)");
  cmd->add_option("--phase", net.phase, "train or test (default: test if the net declares its "
                                        "inputs, else train)")
      ->check(CLI::IsMember({"train", "test"}));
  cmd->add_option("--level", net.level, "NetState level for include/exclude rules");
  cmd->add_option("--stage", net.stages, "NetState stage (repeatable)");
  cmd->add_option("--input-shape", net.inputShapes,
                  "override a graph input's shape: name=1x3x224x224 (repeatable)");
  cmd->add_option("--batch", net.batch, "override dimension 0 of every graph input");
  cmd->add_flag("--random-weights", net.randomWeights,
                "weights whose layer names no filler (deploy files) get a xavier filler "
                "instead of Caffe's constant 0");
  cmd->add_option("--loss", net.loss,
                  "auto: attach SoftmaxWithLoss (with a 'label' input) to a net that has no "
                  "loss layer; none (default)")
      ->check(CLI::IsMember({"none", "auto"}));
  return model;
}

int main(int argc, char **argv) {
  initProcess(argv[0]);
  CLI::App app{"dlc: compile Caffe networks"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dlc 0.1.0");

  ImportOptions importOpts;
  CLI::App *import = app.add_subcommand("import", "print a net as dl dialect IR");
  addNetOptions(import, importOpts.net)->required();
  import->add_option("-o,--output", importOpts.output, "output file (default: stdout)");
  import->add_flag("--mlir-print-debuginfo", importOpts.debugInfo,
                   "print op locations (layer name and file:line:col)");

  CompileOptions compileOpts;
  CLI::App *compile =
      app.add_subcommand("compile", "compile a net into a module (.dlcm) for dlrun");
  CLI::Option *model = addNetOptions(compile, compileOpts.net);
  compile->add_option("--solver", compileOpts.solver,
                      "a Caffe solver (solver.prototxt): compile the train net it names, "
                      "with its gradient and the solver's update, for dlrun --train")
      ->excludes(model);
  compile->add_option("-o,--output", compileOpts.output, "output module (.dlcm)");
  compile->add_option("--emit", compileOpts.emit,
                      "dlcm (default), mlir (IR after the pipeline), or "
                      "mlir-after=<pass> (IR after one pass)");
  compile->add_flag("--mlir-print-ir-after-all", compileOpts.printIRAfterAll,
                    "print the IR after every pass to stderr");
  compile->add_flag("--mlir-print-debuginfo", compileOpts.debugInfo, "print op locations");
  compile->add_option("--seed", compileOpts.seed, "seed of the weight fillers (default 1)");
  compile->add_option("--weights", compileOpts.weights,
                      "trained weights: a binary .caffemodel, or a .npz whose arrays are "
                      "named after the parameters (conv1/0, conv1/1, ...)");
  compile->add_option("--conv-algo", compileOpts.convAlgorithm,
                      "convolution algorithms: auto (default: chosen per layer and direction), "
                      "or comma-separated ALGO (every layer), LAYER=ALGO, "
                      "LAYER/DIRECTION=ALGO, fallback=auto|ALGO; ALGO: " +
                          dlc::ops::convAlgorithmNames());
  compile->add_flag("--tune", compileOpts.tune,
                    "time every applicable convolution algorithm on the real shapes and "
                    "keep the fastest (results kept in the tuning cache)");
  compile->add_option("--tune-budget", compileOpts.tuneBudget,
                      "seconds of timing at most; the rest use the cost model (default: no "
                      "limit)")
      ->check(CLI::NonNegativeNumber);
  compile->add_option("--tuning-cache", compileOpts.tuningCache,
                      "tuning cache file (default: $DLC_TUNING_CACHE, else "
                      "$XDG_CACHE_HOME/dlc/tuning.json or ~/.cache/dlc/tuning.json)");
  compile->add_flag("--require-cache", compileOpts.requireCache,
                    "fail when a convolution is not in the tuning cache (implies --tune "
                    "from the cache only)");
  compile->add_option("--conv-cost-table", compileOpts.costTable,
                      "fixed times instead of the cost model: LAYER/DIRECTION/ALGO=MS,... "
                      "(LAYER and DIRECTION may be *)");
  compile->add_option("--workspace-limit", compileOpts.workspaceLimit,
                      "largest scratch memory a convolution algorithm may use, in bytes "
                      "(default: no limit)")
      ->check(CLI::NonNegativeNumber);
  compile->add_option("--threads", compileOpts.tuneThreads,
                      "threads the convolutions are timed with (default: all; use dlrun's "
                      "--threads)")
      ->check(CLI::NonNegativeNumber);
  compile->add_option("--impl", compileOpts.impl,
                      "kernels: auto (optimized where available) or ref (reference only)")
      ->check(CLI::IsMember({"auto", "ref"}));
  compile->add_flag("--gradient", compileOpts.gradient,
                    "also emit the gradient entry (forward + backward, no weight update)");
  compile->add_flag("--explain", compileOpts.explain,
                    "print the fused kernels, the layers running alone, the memory plan and "
                    "the layouts");
  compile->add_flag("!--no-fuse", compileOpts.fuse,
                    "run every layer as its own kernel (no dl-fuse-ops)");
  compile->add_flag("!--no-codegen", compileOpts.codegen,
                    "no native code for element-wise fused layers (they run composed "
                    "from library kernels)");
  compile->add_option("--cpu", compileOpts.cpu,
                      "CPU the native code is compiled for (LLVM name, e.g. x86-64-v3, "
                      "skylake-avx512; default: this machine's)");
  compile->add_option("--layout", compileOpts.layout,
                      "storage layout of activations: auto (default: nChw16c when the "
                      "target CPU has AVX-512, else nChw8c), plain, nChw8c, nChw16c")
      ->check(CLI::IsMember({"auto", "plain", "nChw8c", "nChw16c"}));
  compile->add_flag("!--no-plan-buffers,!--no-mem-plan", compileOpts.planBuffers,
                    "give every activation its own buffer (no memory sharing)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  try {
    if (*import)
      return runImport(importOpts);
    if (*compile) {
      // Recorded in the module (dlrun's reports): the options it was built with.
      for (int i = 0; i < argc; ++i)
        compileOpts.commandLine += (i ? " " : "") + std::string(argv[i]);
      compileOpts.seedGiven = compile->count("--seed") > 0;
      return runCompile(compileOpts);
    }
  } catch (const std::exception &e) {
    std::fprintf(stderr, "dlc: internal error: %s\n", e.what());
    return kExitInternal;
  }
  return kExitUsage;
}

//===- Driver.cpp - dlc command implementations ---------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Driver/Driver.h"

#include "DlcVersion.h"

#include "Explain.h"
#include "SolverModule.h"

#include "dlc/Caffe/NetLoader.h"
#include "dlc/Caffe/SolverLoader.h"
#include "dlc/Conversion/Passes.h"
#include "dlc/Data/DataLayer.h"
#include "dlc/Dialect/DL/IR/DLDialect.h"
#include "dlc/Dialect/DL/Transforms/Passes.h"
#include "dlc/Frontend/CaffeImporter.h"
#include "dlc/Frontend/Weights.h"
#include "dlc/Ops/SolverUpdate.h"
#include "dlc/Runtime/Module.h"
#include "dlc/Target/ModuleEmitter.h"
#include "dlc/Tuning/Tuner.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <map>
#include <sstream>

using namespace mlir;

namespace dlc::driver {

void initProcess(const char *argv0) {
  llvm::sys::PrintStackTraceOnErrorSignal(argv0);
  llvm::install_fatal_error_handler(
      [](void *, const char *reason, bool) {
        llvm::errs() << "dlc: internal error: " << reason << "\n";
        std::_Exit(kExitInternal);
      },
      nullptr);
}

namespace {

/// Turns NetOptions into loader options; reports bad values on stderr.
bool toLoadOptions(const NetOptions &in, caffe_fe::LoadOptions &out) {
  if (in.phase == "train")
    out.phase = caffe_fe::Phase::Train;
  else if (in.phase == "test")
    out.phase = caffe_fe::Phase::Test;
  else if (!in.phase.empty()) {
    llvm::errs() << "error: --phase must be 'train' or 'test', got '" << in.phase << "'\n";
    return false;
  }
  out.level = in.level;
  out.stages = in.stages;
  for (const auto &spec : in.inputShapes) {
    std::string name, error;
    std::vector<int64_t> shape;
    if (!caffe_fe::parseInputShapeSpec(spec, name, shape, error)) {
      llvm::errs() << "error: --input-shape '" << spec << "': " << error << "\n";
      return false;
    }
    out.inputShapes[name] = shape;
  }
  if (in.batch) {
    if (*in.batch <= 0) {
      llvm::errs() << "error: --batch must be positive, got " << *in.batch << "\n";
      return false;
    }
    out.batch = *in.batch;
  }
  return true;
}

/// Shows MLIR-side diagnostics (dialect verifiers, importer, passes) in
/// file:line:col form against the prototxt's own lines, for as long as it
/// lives.
class PrototxtDiagnostics {
public:
  PrototxtDiagnostics(MLIRContext &ctx, const std::string &path) : handler(sourceMgr, &ctx) {
    ctx.printOpOnDiagnostic(false); // the prototxt line is shown instead
    std::string includedPath;
    sourceMgr.AddIncludeFile(path, llvm::SMLoc(), includedPath);
  }

private:
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler;
};

/// Loads and imports a net (the one `solverNet` names, when given).
/// Diagnostics go to stderr in file:line:col form with the offending source
/// line. Returns null on failure.
OwningOpRef<ModuleOp> loadAndImport(MLIRContext &ctx, const NetOptions &opts, int &exitCode,
                                    std::optional<caffe_fe::LoadedNet> *loaded = nullptr,
                                    const caffe_fe::SolverNet *solverNet = nullptr) {
  exitCode = kExitUserError;
  caffe_fe::LoadOptions lo;
  if (!toLoadOptions(opts, lo)) {
    exitCode = kExitUsage;
    return nullptr;
  }
  // Data layers size their tops from their first record (docs/training.md).
  std::string netFile = solverNet ? (solverNet->path.empty() ? solverNet->loc.file
                                                             : solverNet->path)
                                  : opts.input;
  std::string baseDir = llvm::sys::path::parent_path(netFile).str();
  lo.dataShapes = [baseDir](const caffe::LayerParameter &layer, caffe_fe::Phase phase,
                            std::string &why) {
    if (!data::isReadableDataLayer(layer.type()))
      return std::vector<std::vector<int64_t>>();
    data::SourceOptions so;
    so.train = phase == caffe_fe::Phase::Train;
    so.baseDir = baseDir;
    return data::dataLayerShapes(layer, so, why);
  };
  std::vector<caffe_fe::Diagnostic> diags;
  auto net = solverNet ? caffe_fe::loadSolverNet(*solverNet, lo, diags)
                       : caffe_fe::loadNetFile(opts.input, lo, diags);
  for (const auto &d : diags)
    llvm::errs() << caffe_fe::formatDiagnostic(d) << "\n";
  if (!net)
    return nullptr;

  frontend::ImportOptions io;
  io.randomWeights = opts.randomWeights;
  io.lossAuto = opts.loss == "auto";
  auto module = frontend::importNet(ctx, *net, io);
  if (module)
    exitCode = kExitOk;
  if (loaded)
    *loaded = std::move(net);
  return module;
}

} // namespace

int runImport(const ImportOptions &options) {
  DialectRegistry registry;
  registry.insert<mlir::dl::DLDialect, func::FuncDialect>();
  MLIRContext ctx(registry);
  PrototxtDiagnostics diagnostics(ctx, options.net.input);
  int code;
  auto module = loadAndImport(ctx, options.net, code);
  if (!module)
    return code;
  std::string error;
  auto out = openOutputFile(options.output, &error);
  if (!out) {
    llvm::errs() << "error: " << error << "\n";
    return kExitUserError;
  }
  OpPrintingFlags flags;
  if (options.debugInfo)
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  module->print(out->os(), flags);
  out->os() << "\n";
  out->keep();
  return kExitOk;
}

namespace {

/// The convolution cost oracle of a compilation, created on first use so
/// that a net without convolutions never measures the machine: the cost
/// model at this machine's measured rates, or with --tune the tuner
/// (docs/convolution.md).
class LazyOracle : public dlc::ops::ConvCostOracle {
public:
  explicit LazyOracle(tuning::TunerOptions o) : options_(std::move(o)) {}
  std::string evaluate(const dlc::ops::ConvProblem &p,
                       std::vector<dlc::ops::ConvCandidate> &cs) override {
    if (!get())
      return error_;
    return oracle_->evaluate(p, cs);
  }
  std::string describe() const override {
    return oracle_ ? oracle_->describe() : "cost model (not used)";
  }
  const dlc::ops::MachineRates &rates() const override {
    const_cast<LazyOracle *>(this)->get();
    return oracle_ ? oracle_->rates() : fallback_;
  }

private:
  dlc::ops::ConvCostOracle *get() {
    if (!oracle_ && error_.empty())
      oracle_ = tuning::createOracle(options_, error_);
    return oracle_.get();
  }
  tuning::TunerOptions options_;
  std::shared_ptr<dlc::ops::ConvCostOracle> oracle_;
  std::string error_;
  dlc::ops::MachineRates fallback_;
};

/// The dl-compile pipeline's options for `options` (false after a message
/// for a bad --layout).
bool pipelineOptions(const CompileOptions &options, uint64_t seed, bool gradient,
                     mlir::dl::CompilePipelineOptions &pipeline) {
  pipeline.seed = seed;
  pipeline.gradient = gradient;
  pipeline.convAlgorithm = options.convAlgorithm;
  pipeline.costTable = options.costTable;
  pipeline.workspaceLimit = options.workspaceLimit;
  if (options.impl != "ref") {
    tuning::TunerOptions tuner;
    tuner.tune = options.tune || options.requireCache;
    tuner.budgetSeconds = options.tuneBudget;
    tuner.cachePath = options.tuningCache;
    tuner.requireCache = options.requireCache;
    tuner.measureErrors = options.explain;
    tuner.threads = options.tuneThreads;
    tuner.progress = [](const std::string &line) { llvm::errs() << "dlc: tune " << line << "\n"; };
    pipeline.convOracle = std::make_shared<LazyOracle>(std::move(tuner));
  }
  pipeline.impl = options.impl;
  pipeline.planBuffers = options.planBuffers;
  pipeline.fuse = options.fuse;
  pipeline.codegen = options.codegen;
  pipeline.cpu = options.cpu;
  static const std::map<std::string, mlir::dl::LayoutChoice> layouts = {
      {"auto", mlir::dl::LayoutChoice::Auto},
      {"plain", mlir::dl::LayoutChoice::Plain},
      {"nChw8c", mlir::dl::LayoutChoice::NChw8c},
      {"nChw16c", mlir::dl::LayoutChoice::NChw16c}};
  auto layout = layouts.find(options.layout);
  if (layout == layouts.end()) {
    llvm::errs() << "error: --layout must be auto, plain, nChw8c or nChw16c, got '"
                 << options.layout << "'\n";
    return false;
  }
  pipeline.layout = layout->second;
  return true;
}

/// Compiles one of a solver's test nets (forward only, phase TEST) into
/// `out`; its params are the train net's, by name, at run time.
bool compileTestNet(const CompileOptions &options, const caffe_fe::SolverNet &net, uint64_t seed,
                    dlc::module::Module &out) {
  DialectRegistry registry;
  registry.insert<mlir::dl::DLDialect, func::FuncDialect>();
  MLIRContext ctx(registry);
  PrototxtDiagnostics diagnostics(ctx, net.path.empty() ? net.loc.file : net.path);
  int code;
  std::optional<caffe_fe::LoadedNet> loaded;
  auto module = loadAndImport(ctx, options.net, code, &loaded, &net);
  if (!module)
    return false;
  PassManager pm(&ctx);
  mlir::dl::CompilePipelineOptions pipeline;
  if (!pipelineOptions(options, seed, /*gradient=*/false, pipeline))
    return false;
  mlir::dl::buildCompilePipeline(pm, pipeline);
  if (failed(pm.run(*module)))
    return false;
  rt::ModuleWriter writer;
  target::EmitOptions eo;
  eo.seed = seed;
  eo.producer = "dlc 0.1.0 (" DLC_GIT_COMMIT ")";
  if (failed(target::emitModule(*module, eo, writer)))
    return false;
  recordCaffeBlobs(loaded->net, writer.header());
  recordDataLayers(*loaded, writer.header());
  out = writer.header();
  out.set_version(rt::kFormatVersion);
  return true;
}

} // namespace

int runCompile(const CompileOptions &options) {
  DialectRegistry registry;
  registry.insert<mlir::dl::DLDialect, func::FuncDialect>();
  MLIRContext ctx(registry);
  ctx.disableMultithreading(); // IR printing after passes needs it

  bool emitMLIR = options.emit == "mlir";
  std::string printAfter;
  if (llvm::StringRef(options.emit).starts_with("mlir-after=")) {
    printAfter = options.emit.substr(strlen("mlir-after="));
  } else if (options.emit != "dlcm" && !emitMLIR) {
    llvm::errs() << "error: --emit must be dlcm, mlir or mlir-after=<pass>\n";
    return kExitUsage;
  }
  if (options.output.empty() && options.emit == "dlcm") {
    llvm::errs() << "error: -o <file.dlcm> is required\n";
    return kExitUsage;
  }

  // With --solver: the solver's train net, in phase TRAIN, with its gradient.
  std::optional<caffe_fe::LoadedSolver> solver;
  if (!options.solver.empty()) {
    if (!options.net.input.empty() || !options.net.phase.empty()) {
      llvm::errs() << "error: --solver names the net to compile and its phase; give no net "
                      "file or --phase with it\n";
      return kExitUsage;
    }
    std::vector<caffe_fe::Diagnostic> diags;
    solver = caffe_fe::loadSolverFile(options.solver, diags);
    for (const auto &d : diags)
      llvm::errs() << caffe_fe::formatDiagnostic(d) << "\n";
    if (!solver)
      return kExitUserError;
  } else if (options.net.input.empty()) {
    llvm::errs() << "error: give the net to compile (a .prototxt), or --solver SOLVER\n";
    return kExitUsage;
  }
  const std::string &source =
      solver ? (solver->train.path.empty() ? solver->file : solver->train.path)
             : options.net.input;
  PrototxtDiagnostics diagnostics(ctx, source);
  int code;
  std::optional<caffe_fe::LoadedNet> loaded;
  auto module =
      loadAndImport(ctx, options.net, code, &loaded, solver ? &solver->train : nullptr);
  if (!module)
    return code;
  uint64_t seed = options.seed;
  if (solver && !options.seedGiven && solver->param.random_seed() >= 0)
    seed = uint64_t(solver->param.random_seed());

  // The lowering pipeline, registered as dl-compile so that dl-opt can run
  // exactly this (docs/architecture.md).
  PassManager pm(&ctx);
  mlir::dl::CompilePipelineOptions pipeline;
  if (!pipelineOptions(options, seed, options.gradient || solver.has_value(), pipeline))
    return kExitUsage;
  if (solver) { // the update is compiled too (dl-codegen-update)
    pipeline.solver = dlc::ops::kSolverTypeNames[solver->param.solver_type()];
    pipeline.regularization = solver->param.regularization_type() == "L1" ? "L1" : "L2";
  }
  mlir::dl::buildCompilePipeline(pm, pipeline);

  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> irOut;
  if (!printAfter.empty() || emitMLIR) {
    irOut = openOutputFile(options.output.empty() ? "-" : options.output, &error);
    if (!irOut) {
      llvm::errs() << "error: " << error << "\n";
      return kExitUserError;
    }
  }
  OpPrintingFlags flags;
  if (options.debugInfo)
    flags.enableDebugInfo(true, false);
  if (!printAfter.empty()) {
    bool known = false;
    std::string passes;
    for (auto &p : pm.getPasses()) {
      known |= p.getArgument() == printAfter;
      passes += (passes.empty() ? "" : ", ") + p.getArgument().str();
    }
    if (!known) {
      llvm::errs() << "error: --emit=mlir-after=" << printAfter
                   << ": no such pass in the pipeline (" << passes << ")\n";
      return kExitUsage;
    }
    pm.enableIRPrinting([](Pass *, Operation *) { return false; },
                        [printAfter](Pass *p, Operation *) { return p->getArgument() == printAfter; },
                        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
                        /*printAfterOnlyOnFailure=*/false, irOut->os(), flags);
  } else if (options.printIRAfterAll) {
    pm.enableIRPrinting([](Pass *, Operation *) { return false; },
                        [](Pass *, Operation *) { return true; }, true, false, false,
                        llvm::errs(), flags);
  }
  if (failed(pm.run(*module)))
    return kExitUserError;
  if (options.explain)
    explainModule(*module, llvm::outs(), options.layout);
  if (!printAfter.empty()) {
    irOut->keep();
    return kExitOk;
  }
  if (emitMLIR) {
    module->print(irOut->os(), flags);
    irOut->os() << "\n";
    irOut->keep();
    return kExitOk;
  }

  std::map<std::string, std::vector<float>> weights;
  if (!options.weights.empty() &&
      failed(frontend::loadWeights(options.weights, *loaded, *module, weights)))
    return kExitUserError;
  rt::ModuleWriter writer;
  target::EmitOptions eo;
  eo.seed = seed;
  eo.producer = "dlc 0.1.0 (" DLC_GIT_COMMIT ")";
  eo.compileCommand = options.commandLine;
  eo.weights = options.weights.empty() ? nullptr : &weights;
  if (failed(target::emitModule(*module, eo, writer)))
    return kExitUserError;
  if (solver) {
    *writer.header().mutable_solver() = toModuleSolver(*solver);
    if (auto update = (*module)->getAttrOfType<StringAttr>(mlir::dl::kCodegenUpdateAttr))
      writer.header().mutable_solver()->set_gen_update(update.getValue().str());
  }
  recordCaffeBlobs(loaded->net, writer.header());
  recordDataLayers(*loaded, writer.header());
  // The solver's test nets, each a module of its own inside this one.
  for (size_t i = 0; solver && i < solver->tests.size(); ++i) {
    dlc::module::TestNet *test = writer.header().add_test_nets();
    dlc::module::Module net;
    if (!compileTestNet(options, solver->tests[i], seed, net)) {
      llvm::errs() << solver->tests[i].loc.file << ":" << solver->tests[i].loc.line
                   << ": note: in test net #" << i << " (field '" << solver->tests[i].field
                   << "')\n";
      return kExitUserError;
    }
    test->set_module(net.SerializeAsString());
    test->set_iterations(solver->param.test_iter(int(i)));
  }
  if (!writer.write(options.output, error)) {
    llvm::errs() << error << "\n";
    return kExitUserError;
  }
  return kExitOk;
}

} // namespace dlc::driver

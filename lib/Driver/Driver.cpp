//===- Driver.cpp - dlc command implementations ---------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Driver/Driver.h"

#include "dlc/Caffe/NetLoader.h"
#include "dlc/Dialect/DL/IR/DLDialect.h"
#include "dlc/Frontend/CaffeImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

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

/// Loads and imports a net. Diagnostics go to stderr in file:line:col form
/// with the offending source line. Returns null on failure.
OwningOpRef<ModuleOp> loadAndImport(MLIRContext &ctx, const NetOptions &opts, int &exitCode) {
  exitCode = kExitUserError;
  caffe_fe::LoadOptions lo;
  if (!toLoadOptions(opts, lo)) {
    exitCode = kExitUsage;
    return nullptr;
  }
  std::vector<caffe_fe::Diagnostic> diags;
  auto net = caffe_fe::loadNetFile(opts.input, lo, diags);
  for (const auto &d : diags)
    llvm::errs() << caffe_fe::formatDiagnostic(d) << "\n";
  if (!net)
    return nullptr;

  // Show MLIR-side diagnostics (dialect verifiers, importer) against the
  // prototxt's own lines.
  llvm::SourceMgr sourceMgr;
  std::string includedPath;
  sourceMgr.AddIncludeFile(opts.input, llvm::SMLoc(), includedPath);
  SourceMgrDiagnosticHandler handler(sourceMgr, &ctx);
  auto module = frontend::importNet(ctx, *net);
  if (module)
    exitCode = kExitOk;
  return module;
}

} // namespace

int runImport(const ImportOptions &options) {
  DialectRegistry registry;
  registry.insert<mlir::dl::DLDialect, func::FuncDialect>();
  MLIRContext ctx(registry);
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

} // namespace dlc::driver

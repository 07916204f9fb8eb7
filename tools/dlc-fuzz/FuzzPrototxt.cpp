//===- FuzzPrototxt.cpp - Fuzz target: prototxt loader and importer -------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What `dlc compile net.prototxt` does before its passes: the text parser,
// the V0/V1 upgrade, phase rules and structure checks (loadNetFromString),
// then the importer to the dl dialect. Whatever the text, the result is a
// net that imports to IR the verifier accepts, or diagnostics; IR that
// fails verification after a successful import is a bug (abort).
//
//===----------------------------------------------------------------------===//

#include "dlc/Caffe/NetLoader.h"
#include "dlc/Dialect/DL/IR/DLDialect.h"
#include "dlc/Frontend/CaffeImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace dlc;

namespace {

/// One context for many inputs (creating one is most of an input's cost).
/// Attributes and locations are uniqued in it for its lifetime, so it is
/// replaced every kInputsPerContext inputs to bound its memory.
class Contexts {
public:
  mlir::MLIRContext &get() {
    if (!context_ || ++uses_ > kInputsPerContext) {
      mlir::DialectRegistry registry;
      registry.insert<mlir::dl::DLDialect, mlir::func::FuncDialect>();
      context_ = std::make_unique<mlir::MLIRContext>(registry);
      context_->loadAllAvailableDialects();
      uses_ = 0;
    }
    return *context_;
  }

private:
  static constexpr int kInputsPerContext = 2000;
  std::unique_ptr<mlir::MLIRContext> context_;
  int uses_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Contexts contexts;
  std::string text(reinterpret_cast<const char *>(data), size);
  std::vector<caffe_fe::Diagnostic> diags;
  caffe_fe::LoadOptions options;
  auto net = caffe_fe::loadNetFromString(text, "fuzz.prototxt", options, diags);
  for (const auto &d : diags)
    (void)caffe_fe::formatDiagnostic(d);
  if (!net)
    return 0;
  mlir::MLIRContext &context = contexts.get();
  // Diagnostics are the expected outcome for most inputs: keep only the
  // last, printed if the IR turns out invalid.
  std::string last;
  mlir::ScopedDiagnosticHandler quiet(&context, [&](mlir::Diagnostic &d) {
    last = d.str();
    return mlir::success();
  });
  // Odd-sized inputs also take the --loss auto path (a loss appended to a
  // deploy net), so both stay covered without a second import per input.
  frontend::ImportOptions importOptions;
  importOptions.lossAuto = size % 2 == 1;
  importOptions.randomWeights = size % 4 == 1;
  auto module = frontend::importNet(context, *net, importOptions);
  if (module && mlir::failed(mlir::verify(*module))) {
    fprintf(stderr, "imported IR fails verification: %s\n", last.c_str());
    abort();
  }
  return 0;
}

//===- CodegenApi.cpp - The code generator behind a plain C++ call --------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Conversion/Codegen.h"

#include "Target.h"

#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/DL/IR/DLOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

namespace dlc::codegen {

namespace {

/// Parses `mlirText`, runs the code generators (the update's for a
/// non-empty `solver`) and dl-codegen-compile for `cpu`; `out` gets the
/// native code.
mlir::LogicalResult generate(mlir::MLIRContext &ctx, const std::string &mlirText,
                             const std::string &cpu, const std::string &solver, bool l1,
                             mlir::OwningOpRef<mlir::ModuleOp> &module, NativeObject &out) {
  module = mlir::parseSourceString<mlir::ModuleOp>(mlirText, &ctx);
  if (!module)
    return mlir::failure();
  mlir::PassManager pm(&ctx);
  mlir::dl::DLCodegenPointwiseOptions gen;
  gen.cpu = cpu;
  pm.addPass(mlir::dl::createDLCodegenPointwise(gen));
  mlir::dl::DLCodegenRecurrentOptions cells;
  cells.cpu = cpu;
  pm.addPass(mlir::dl::createDLCodegenRecurrent(cells));
  if (!solver.empty()) {
    mlir::dl::DLCodegenUpdateOptions update;
    update.solver = solver;
    update.regularization = l1 ? "L1" : "L2";
    update.cpu = cpu;
    pm.addPass(mlir::dl::createDLCodegenUpdate(update));
  }
  mlir::dl::DLCodegenCompileOptions compile;
  compile.cpu = cpu;
  pm.addPass(mlir::dl::createDLCodegenCompile(compile));
  if (mlir::failed(pm.run(*module)))
    return mlir::failure();
  out = NativeObject();
  if (auto nc = (*module)->getAttrOfType<mlir::DictionaryAttr>(mlir::dl::kNativeCodeAttr)) {
    auto str = [&](const char *k) {
      auto s = nc.getAs<mlir::StringAttr>(k);
      return s ? s.getValue().str() : std::string();
    };
    auto strs = [&](const char *k) {
      std::vector<std::string> v;
      if (auto a = nc.getAs<mlir::ArrayAttr>(k))
        for (mlir::Attribute e : a)
          v.push_back(llvm::cast<mlir::StringAttr>(e).getValue().str());
      return v;
    };
    out.object = str("object");
    out.triple = str("triple");
    out.cpu = str("cpu");
    out.features = strs("features");
    out.symbols = strs("symbols");
  }
  return mlir::success();
}

/// A context for the code generators whose diagnostics go to `error`.
struct Session {
  explicit Session(std::string &error)
      : ctx([] {
          mlir::DialectRegistry registry;
          registry.insert<mlir::dl::DLDialect, mlir::func::FuncDialect>();
          return registry;
        }()),
        diag(error), handler(&ctx, [this](mlir::Diagnostic &d) {
          diag << d.getLocation() << ": " << d.str() << "\n";
          return mlir::success();
        }) {
    ctx.disableMultithreading();
  }
  mlir::MLIRContext ctx;
  llvm::raw_string_ostream diag;
  mlir::ScopedDiagnosticHandler handler;
};

} // namespace

bool compileModuleText(const std::string &mlirText, const std::string &cpu, NativeObject &out,
                       std::vector<std::string> &fusedSymbols, std::string &error) {
  Session session(error);
  mlir::OwningOpRef<mlir::ModuleOp> module;
  if (mlir::failed(generate(session.ctx, mlirText, cpu, "", false, module, out)))
    return false;
  fusedSymbols.clear();
  module->walk([&](mlir::dl::FusedOp f) {
    auto s = f->getAttrOfType<mlir::StringAttr>(mlir::dl::kCodegenSymbolAttr);
    fusedSymbols.push_back(s ? s.getValue().str() : "");
  });
  return true;
}

bool compileSolverUpdate(const std::string &solver, bool l1, const std::string &cpu,
                         NativeObject &out, std::string &error) {
  Session session(error);
  mlir::OwningOpRef<mlir::ModuleOp> module;
  return mlir::succeeded(generate(session.ctx, "module {}", cpu, solver, l1, module, out));
}

bool cpuHasFeature(const std::string &cpu, const std::string &feature, bool &has,
                   std::string &error) {
  TargetSpec spec;
  if (!resolveTarget(cpu, spec, error))
    return false;
  has = llvm::is_contained(spec.required, feature);
  return true;
}

} // namespace dlc::codegen

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

bool compileModuleText(const std::string &mlirText, const std::string &cpu, NativeObject &out,
                       std::vector<std::string> &fusedSymbols, std::string &error) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::dl::DLDialect, mlir::func::FuncDialect>();
  mlir::MLIRContext ctx(registry);
  ctx.disableMultithreading();
  llvm::raw_string_ostream diag(error);
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
    diag << d.getLocation() << ": " << d.str() << "\n";
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(mlirText, &ctx);
  if (!module)
    return false;
  mlir::PassManager pm(&ctx);
  mlir::dl::DLCodegenPointwiseOptions gen;
  gen.cpu = cpu;
  pm.addPass(mlir::dl::createDLCodegenPointwise(gen));
  mlir::dl::DLCodegenRecurrentOptions cells;
  cells.cpu = cpu;
  pm.addPass(mlir::dl::createDLCodegenRecurrent(cells));
  mlir::dl::DLCodegenCompileOptions compile;
  compile.cpu = cpu;
  pm.addPass(mlir::dl::createDLCodegenCompile(compile));
  if (mlir::failed(pm.run(*module)))
    return false;
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
  fusedSymbols.clear();
  module->walk([&](mlir::dl::FusedOp f) {
    auto s = f->getAttrOfType<mlir::StringAttr>(mlir::dl::kCodegenSymbolAttr);
    fusedSymbols.push_back(s ? s.getValue().str() : "");
  });
  return true;
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

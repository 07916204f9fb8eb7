//===- CompileNative.cpp - Generated kernels to native code ---------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// dl-codegen-compile (docs/codegen.md): the nested module of generated
// kernels (dl-codegen-pointwise) goes through
//
//   math polynomial approximations (exp, log, log1p, expm1, tanh: no libm;
//   fma, floor, roundeven expanded for CPUs without the instructions)
//   -> scf to cf -> LLVM dialect (arith, math, vector, cf, func)
//   -> LLVM IR -> O3 for the target CPU -> an ELF relocatable object
//
// and is replaced by the module attribute `dl.native_code`. The object must
// not reference any symbol it does not define: the runtime's loader
// (lib/Runtime/Generated) resolves none.
//
//===----------------------------------------------------------------------===//

#include "Target.h"

#include "dlc/Conversion/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::dl {
#define GEN_PASS_DEF_DLCODEGENCOMPILE
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;

namespace {

/// The generated functions in the LLVM dialect, for a target with `features`.
LogicalResult lowerToLLVMDialect(ModuleOp kernels, ArrayRef<std::string> features) {
  MLIRContext *ctx = kernels.getContext();
  RewritePatternSet approx(ctx);
  populateMathPolynomialApproximationPatterns(approx);
  if (failed(applyPatternsAndFoldGreedily(kernels, std::move(approx))))
    return kernels.emitError("dl-codegen-compile: math approximations did not converge");
  // What LLVM would otherwise call libm for: fused multiply-add without FMA
  // units, floor and round-to-even without SSE4.1.
  RewritePatternSet expand(ctx);
  vector::populateVectorBroadcastLoweringPatterns(expand);
  if (!llvm::is_contained(features, "fma"))
    populateExpandFmaFPattern(expand);
  if (!llvm::is_contained(features, "sse4.1")) {
    populateExpandFloorFPattern(expand);
    populateExpandCeilFPattern(expand);
    populateExpandRoundEvenPattern(expand);
  }
  if (failed(applyPatternsAndFoldGreedily(kernels, std::move(expand))))
    return kernels.emitError("dl-codegen-compile: expansions did not converge");

  ConversionTarget cfTarget(*ctx);
  cfTarget.addIllegalDialect<scf::SCFDialect>();
  cfTarget.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
  RewritePatternSet scfPatterns(ctx);
  populateSCFToControlFlowConversionPatterns(scfPatterns);
  if (failed(applyPartialConversion(kernels, cfTarget, std::move(scfPatterns))))
    return failure();

  LLVMTypeConverter converter(ctx);
  RewritePatternSet patterns(ctx);
  arith::populateArithToLLVMConversionPatterns(converter, patterns);
  populateMathToLLVMConversionPatterns(converter, patterns);
  populateVectorToLLVMConversionPatterns(converter, patterns);
  cf::populateControlFlowToLLVMConversionPatterns(converter, patterns);
  populateFuncToLLVMConversionPatterns(converter, patterns);
  LLVMConversionTarget target(*ctx);
  target.addLegalOp<ModuleOp>();
  return applyFullConversion(kernels, target, std::move(patterns));
}

/// Symbols the object uses but does not define (the runtime resolves none).
std::string undefinedSymbols(StringRef object) {
  auto obj = llvm::object::ObjectFile::createObjectFile(
      llvm::MemoryBufferRef(object, "dl_codegen.o"));
  if (!obj)
    return "unreadable object: " + llvm::toString(obj.takeError());
  std::string names;
  for (const llvm::object::SymbolRef &sym : (*obj)->symbols()) {
    llvm::Expected<uint32_t> flags = sym.getFlags();
    if (!flags) {
      llvm::consumeError(flags.takeError());
      continue;
    }
    if (!(*flags & llvm::object::SymbolRef::SF_Undefined))
      continue;
    llvm::Expected<StringRef> name = sym.getName();
    if (!name) {
      llvm::consumeError(name.takeError());
      continue;
    }
    if (!name->empty())
      names += (names.empty() ? "" : ", ") + name->str();
  }
  return names;
}

struct CodegenCompile : public mlir::dl::impl::DLCodegenCompileBase<CodegenCompile> {
  using DLCodegenCompileBase::DLCodegenCompileBase;

  void getDependentDialects(DialectRegistry &registry) const override {
    DLCodegenCompileBase::getDependentDialects(registry);
    registry.insert<arith::ArithDialect, math::MathDialect, scf::SCFDialect,
                    cf::ControlFlowDialect, func::FuncDialect, vector::VectorDialect>();
    registerBuiltinDialectTranslation(registry);
    registerLLVMDialectTranslation(registry);
  }

  void runOnOperation() override {
    ModuleOp top = getOperation();
    ModuleOp kernels;
    for (auto m : top.getOps<ModuleOp>())
      if (m->hasAttr(mlir::dl::kCodegenModuleAttr))
        kernels = m;
    if (!kernels)
      return; // nothing was generated
    auto fail = [&](const Twine &msg) {
      top.emitError() << "dl-codegen-compile: " << msg;
      signalPassFailure();
    };

    dlc::codegen::TargetSpec spec;
    std::string error;
    if (!dlc::codegen::resolveTarget(cpu, spec, error))
      return fail(error);
    std::unique_ptr<llvm::TargetMachine> tm =
        dlc::codegen::createTargetMachine(spec, optLevel, error);
    if (!tm)
      return fail(error);

    SmallVector<Attribute> symbols;
    for (auto fn : kernels.getOps<func::FuncOp>())
      symbols.push_back(StringAttr::get(&getContext(), fn.getSymName()));
    OpPassManager reconcile(ModuleOp::getOperationName());
    reconcile.addPass(createReconcileUnrealizedCastsPass());
    if (failed(lowerToLLVMDialect(kernels, spec.required)) ||
        failed(runPipeline(reconcile, kernels)))
      return signalPassFailure();

    llvm::LLVMContext llvmContext;
    std::unique_ptr<llvm::Module> module =
        translateModuleToLLVMIR(kernels, llvmContext, mlir::dl::kCodegenModuleName);
    if (!module)
      return fail("translation to LLVM IR failed");
    module->setDataLayout(tm->createDataLayout());
    module->setTargetTriple(spec.triple);
    for (llvm::Function &f : *module) {
      if (f.isDeclaration())
        continue;
      // No unwind tables: the kernels never throw and the loader maps code only.
      f.addFnAttr(llvm::Attribute::NoUnwind);
      f.addFnAttr("target-cpu", spec.cpu);
      if (!spec.features.empty())
        f.addFnAttr("target-features", spec.features);
    }
    if (llvm::Error err = makeOptimizingTransformer(optLevel, 0, tm.get())(module.get()))
      return fail("LLVM optimization failed: " + llvm::toString(std::move(err)));

    llvm::SmallVector<char, 0> buffer;
    llvm::raw_svector_ostream os(buffer);
    llvm::legacy::PassManager codegen;
    if (tm->addPassesToEmitFile(codegen, os, nullptr, llvm::CodeGenFileType::ObjectFile))
      return fail("the target cannot emit an object file");
    codegen.run(*module);
    StringRef object(buffer.data(), buffer.size());
    if (std::string undefined = undefinedSymbols(object); !undefined.empty())
      return fail("the generated code needs symbols the runtime does not provide: " + undefined);

    Builder b(&getContext());
    SmallVector<Attribute> features;
    for (const std::string &f : spec.required)
      features.push_back(b.getStringAttr(f));
    SmallVector<NamedAttribute> fields = {
        b.getNamedAttr("object", b.getStringAttr(object)),
        b.getNamedAttr("triple", b.getStringAttr(spec.triple)),
        b.getNamedAttr("cpu", b.getStringAttr(spec.cpu)),
        b.getNamedAttr("features", b.getArrayAttr(features)),
        b.getNamedAttr("symbols", b.getArrayAttr(symbols))};
    top->setAttr(mlir::dl::kNativeCodeAttr, b.getDictionaryAttr(fields));
    kernels.erase();
  }
};

} // namespace

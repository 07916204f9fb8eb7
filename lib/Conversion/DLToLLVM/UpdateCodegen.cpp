//===- UpdateCodegen.cpp - The parameter update of a Caffe solver ---------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// dl-codegen-update (docs/training.md, docs/codegen.md): for a module
// compiled with a solver, the function that updates elements [begin, end)
// of one parameter (dlc/Ops/SolverUpdate.h: the signature, the
// coefficients and the formulas), generated with the loops of the pointwise
// kernels. The solver type and the regularization are compiled in; the
// coefficients that change per parameter or per iteration (learning rate,
// decay, gradient scale) are read from the array `c` once per call. The
// operations are those of the runtime's built-in loops
// (lib/Runtime/Training/Update.cpp), in the same order, so both give the
// same floats.
//
//===----------------------------------------------------------------------===//

#include "CodeBuilder.h"

#include "dlc/Conversion/Passes.h"
#include "dlc/Ops/SolverUpdate.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::dl {
#define GEN_PASS_DEF_DLCODEGENUPDATE
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;
namespace ops = dlc::ops;

namespace {

/// The body of `dlc_update_<type>_<reg>(w, grad, h, h2, c, begin, end)`.
class UpdateBuilder : public dlc::codegen::CodeBuilder {
public:
  UpdateBuilder(func::FuncOp fn, ops::SolverType type, bool l1, int64_t width, int64_t unroll)
      : CodeBuilder(fn), type(type), l1(l1), width(width), unroll(unroll) {}

  void build() {
    Block *entry = beginBody();
    for (unsigned k = 0; k < 4; ++k)
      p[k] = entry->getArgument(k);
    Value coefficients = entry->getArgument(4);
    for (int k = 0; k < ops::kNumUpdateCoefficients; ++k)
      c[k] = load(f32, coefficients, index(k));
    Value one = cst(f32, 1.0);
    oneMinus[0] = sub(one, c[ops::kMomentum]);
    oneMinus[1] = sub(one, c[ops::kMomentum2]);
    oneMinus[2] = sub(one, c[ops::kRmsDecay]);
    onePlusMomentum = add(one, c[ops::kMomentum]);
    emitRange(entry->getArgument(5), entry->getArgument(6), width, unroll,
              [&](Value i, Type t) { element(i, t); });
    b.create<func::ReturnOp>(loc);
  }

private:
  void element(Value i, Type t) {
    auto k = [&](int coefficient) { return splat(t, c[coefficient]); };
    Value w = load(t, p[0], i);
    Value g = mul(load(t, p[1], i), k(ops::kGradScale));
    if (l1) {
      Value zero = cst(t, 0.0), one = cst(t, 1.0);
      Value sign = sub(select(less(zero, w), one, zero), select(less(w, zero), one, zero));
      g = add(g, mul(k(ops::kDecay), sign));
    } else {
      g = add(g, mul(k(ops::kDecay), w));
    }
    Value m = k(ops::kMomentum), rate = k(ops::kRate), delta = k(ops::kDelta);
    Value h = load(t, p[2], i);
    switch (type) {
    case ops::SolverType::Sgd: {
      Value hi = add(mul(m, h), mul(rate, g));
      store(hi, p[2], i);
      store(sub(w, hi), p[0], i);
      return;
    }
    case ops::SolverType::Nesterov: {
      Value hi = add(mul(m, h), mul(rate, g));
      store(hi, p[2], i);
      store(sub(w, sub(mul(splat(t, onePlusMomentum), hi), mul(m, h))), p[0], i);
      return;
    }
    case ops::SolverType::AdaGrad: {
      Value hi = add(h, mul(g, g));
      store(hi, p[2], i);
      store(sub(w, mul(rate, div(g, add(sqrt(hi), delta)))), p[0], i);
      return;
    }
    case ops::SolverType::RmsProp: {
      Value hi = add(mul(k(ops::kRmsDecay), h), mul(splat(t, oneMinus[2]), mul(g, g)));
      store(hi, p[2], i);
      store(sub(w, mul(rate, div(g, add(sqrt(hi), delta)))), p[0], i);
      return;
    }
    case ops::SolverType::AdaDelta: {
      Value hi = add(mul(m, h), mul(splat(t, oneMinus[0]), mul(g, g)));
      Value h2 = load(t, p[3], i);
      Value u = mul(g, sqrt(div(add(h2, delta), add(hi, delta))));
      store(hi, p[2], i);
      store(add(mul(m, h2), mul(splat(t, oneMinus[0]), mul(u, u))), p[3], i);
      store(sub(w, mul(rate, u)), p[0], i);
      return;
    }
    case ops::SolverType::Adam: {
      Value hi = add(mul(m, h), mul(splat(t, oneMinus[0]), g));
      Value vi = add(mul(k(ops::kMomentum2), load(t, p[3], i)),
                     mul(splat(t, oneMinus[1]), mul(g, g)));
      store(hi, p[2], i);
      store(vi, p[3], i);
      store(sub(w, mul(rate, div(hi, add(sqrt(vi), delta)))), p[0], i);
      return;
    }
    }
  }

  ops::SolverType type;
  bool l1;
  int64_t width, unroll;
  Value p[4];
  Value c[ops::kNumUpdateCoefficients];
  Value oneMinus[3], onePlusMomentum;
};

struct CodegenUpdate : public mlir::dl::impl::DLCodegenUpdateBase<CodegenUpdate> {
  using DLCodegenUpdateBase::DLCodegenUpdateBase;

  void runOnOperation() override {
    ModuleOp top = getOperation();
    if (solver.empty())
      return;
    int type = 0;
    while (type < ops::kNumSolverTypes && solver != ops::kSolverTypeNames[type])
      ++type;
    if (type == ops::kNumSolverTypes) {
      top.emitError() << "dl-codegen-update: unknown solver '" << solver
                      << "' (sgd, nesterov, adagrad, rmsprop, adadelta or adam)";
      return signalPassFailure();
    }
    if (regularization != "L2" && regularization != "L1") {
      top.emitError() << "dl-codegen-update: regularization must be L2 or L1, got '"
                      << regularization << "'";
      return signalPassFailure();
    }
    int64_t width = vectorWidth, unrollBy = unroll;
    bool failed = false;
    if (!dlc::codegen::vectorShape(top, "dl-codegen-update", cpu, width, unrollBy, failed)) {
      if (failed)
        signalPassFailure();
      return;
    }
    const bool l1 = regularization == "L1";
    const std::string name = ops::updateSymbol(ops::SolverType(type), l1);
    ModuleOp kernels = dlc::codegen::codegenModule(top);
    if (!SymbolTable::lookupSymbolIn(kernels, name)) {
      MLIRContext *ctx = &getContext();
      Type ptr = LLVM::LLVMPointerType::get(ctx), i64 = IntegerType::get(ctx, 64);
      SmallVector<Type> args(5, ptr);
      args.append({i64, i64});
      OpBuilder b = OpBuilder::atBlockEnd(kernels.getBody());
      auto fn = b.create<func::FuncOp>(top.getLoc(), name, b.getFunctionType(args, {}));
      UpdateBuilder(fn, ops::SolverType(type), l1, width, unrollBy).build();
    }
    top->setAttr(mlir::dl::kCodegenUpdateAttr, StringAttr::get(&getContext(), name));
  }
};

} // namespace

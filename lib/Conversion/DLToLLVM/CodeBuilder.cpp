//===- CodeBuilder.cpp - Element-wise loops for generated kernels ---------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "CodeBuilder.h"

#include "Target.h"

#include "dlc/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"

#include <cmath>

using namespace mlir;

namespace dlc::codegen {

CodeBuilder::CodeBuilder(func::FuncOp fn)
    : fn(fn), loc(fn.getLoc()), b(fn.getContext()), f32(Float32Type::get(fn.getContext())),
      i64(IntegerType::get(fn.getContext(), 64)), ptr(LLVM::LLVMPointerType::get(fn.getContext())) {
}

Block *CodeBuilder::beginBody() {
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  return entry;
}

Value CodeBuilder::index(int64_t v) { return constant(i64, b.getI64IntegerAttr(v)); }

Value CodeBuilder::cst(Type t, double v) {
  APFloat f{float(v)};
  if (std::isnan(v))
    f = APFloat::getNaN(APFloat::IEEEsingle());
  if (auto vt = dyn_cast<VectorType>(t))
    return constant(t, DenseElementsAttr::get(vt, ArrayRef<APFloat>(f)));
  return constant(t, b.getFloatAttr(f32, f));
}

Value CodeBuilder::constant(Type t, TypedAttr attr) {
  auto key = std::make_pair(t.getAsOpaquePointer(), attr.getAsOpaquePointer());
  auto it = constants.find(key);
  if (it != constants.end())
    return it->second;
  OpBuilder::InsertionGuard guard(b);
  if (lastConstant)
    b.setInsertionPointAfter(lastConstant);
  else
    b.setInsertionPointToStart(&fn.getBody().front());
  lastConstant = b.create<arith::ConstantOp>(loc, t, attr);
  return constants[key] = lastConstant->getResult(0);
}

Value CodeBuilder::pointerAt(Value array, int64_t k) {
  Value p = b.create<LLVM::GEPOp>(loc, ptr, ptr, array, ValueRange{index(k)});
  return b.create<LLVM::LoadOp>(loc, ptr, p, /*alignment=*/8);
}

Value CodeBuilder::elementAddress(Value base, Value i) {
  return b.create<LLVM::GEPOp>(loc, ptr, f32, base, ValueRange{i});
}

Value CodeBuilder::load(Type t, Value base, Value i) {
  return b.create<LLVM::LoadOp>(loc, t, elementAddress(base, i), /*alignment=*/4);
}

void CodeBuilder::store(Value v, Value base, Value i) {
  b.create<LLVM::StoreOp>(loc, v, elementAddress(base, i), /*alignment=*/4);
}

Value CodeBuilder::splat(Type t, Value s) {
  return isa<VectorType>(t) ? Value(b.create<vector::BroadcastOp>(loc, t, s)) : s;
}

Value CodeBuilder::add(Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y); }
Value CodeBuilder::sub(Value x, Value y) { return b.create<arith::SubFOp>(loc, x, y); }
Value CodeBuilder::mul(Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y); }
Value CodeBuilder::div(Value x, Value y) { return b.create<arith::DivFOp>(loc, x, y); }
Value CodeBuilder::less(Value x, Value y) {
  return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x, y);
}
Value CodeBuilder::select(Value c, Value x, Value y) {
  return b.create<arith::SelectOp>(loc, c, x, y);
}
Value CodeBuilder::stdMax(Value x, Value y) { return select(less(x, y), y, x); }
Value CodeBuilder::stdMin(Value x, Value y) { return select(less(y, x), y, x); }
Value CodeBuilder::scaled(Value x, double a) {
  return a == 1.0 ? x : mul(cst(x.getType(), a), x);
}
Value CodeBuilder::affine(Value x, double scale, double shift) {
  Value v = scaled(x, scale);
  return shift == 0.0 ? v : add(cst(x.getType(), shift), v);
}
Value CodeBuilder::exp(Value x) { return b.create<math::ExpOp>(loc, x); }
Value CodeBuilder::tanh(Value x) { return b.create<math::TanhOp>(loc, x); }
Value CodeBuilder::sqrt(Value x) { return b.create<math::SqrtOp>(loc, x); }

Value CodeBuilder::expm1(Value x) {
  Type t = x.getType();
  double inverseFactorial[] = {1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120,
                               1.0 / 24,    1.0 / 6,    1.0 / 2};
  Value p = cst(t, inverseFactorial[0]);
  for (double c : ArrayRef<double>(inverseFactorial).drop_front())
    p = b.create<math::FmaOp>(loc, p, x, cst(t, c));
  Value taylor = b.create<math::FmaOp>(loc, mul(x, x), p, x);
  Value small = less(b.create<math::AbsFOp>(loc, x), cst(t, 0.5));
  return select(small, taylor, sub(exp(x), cst(t, 1.0)));
}

Value CodeBuilder::sigmoid(Value x) {
  Type t = x.getType();
  return div(cst(t, 1.0), add(cst(t, 1.0), exp(b.create<arith::NegFOp>(loc, x))));
}

Value CodeBuilder::emitLoop(Value lo, Value hi, int64_t step, Type t,
                            function_ref<void(Value, Type)> body) {
  Value end = hi;
  if (step > 1) {
    Value len = b.create<arith::SubIOp>(loc, hi, lo);
    end = b.create<arith::SubIOp>(loc, hi, b.create<arith::RemSIOp>(loc, len, index(step)));
  }
  auto loop = b.create<scf::ForOp>(loc, lo, end, index(step));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  body(loop.getInductionVar(), t);
  return end;
}

void CodeBuilder::emitRange(Value lo, Value hi, int64_t width, int64_t unroll,
                            function_ref<void(Value, Type)> body) {
  Value next = lo;
  if (unroll > 1)
    next = emitLoop(lo, hi, unroll * width, VectorType::get({unroll * width}, f32), body);
  next = emitLoop(next, hi, width, VectorType::get({width}, f32), body);
  emitLoop(next, hi, 1, f32, body);
}

ModuleOp codegenModule(ModuleOp top) {
  for (auto m : top.getOps<ModuleOp>())
    if (m->hasAttr(mlir::dl::kCodegenModuleAttr))
      return m;
  OpBuilder b = OpBuilder::atBlockEnd(top.getBody());
  auto kernels = b.create<ModuleOp>(top.getLoc(), StringRef(mlir::dl::kCodegenModuleName));
  kernels->setAttr(mlir::dl::kCodegenModuleAttr, UnitAttr::get(top.getContext()));
  return kernels;
}

std::string freshSymbol(ModuleOp kernels, const std::string &prefix, int &next) {
  for (;;) {
    std::string name = prefix + std::to_string(next++);
    if (!SymbolTable::lookupSymbolIn(kernels, name))
      return name;
  }
}

bool vectorShape(ModuleOp top, const char *pass, const std::string &cpu, int64_t &width,
                 int64_t &unroll, bool &failed) {
  failed = false;
  if (width <= 0 || unroll <= 0) {
    TargetSpec spec;
    std::string error;
    if (!resolveTarget(cpu, spec, error)) {
      if (cpu.empty()) {
        // This machine has no code generator: the layers run as before.
        top.emitWarning() << pass << ": " << error << "; no code generated";
        return false;
      }
      top.emitError() << pass << ": " << error;
      failed = true;
      return false;
    }
    width = width > 0 ? width : spec.vectorWidth;
    unroll = unroll > 0 ? unroll : spec.unroll;
  }
  if (width > 64 || (width & (width - 1)) != 0 || unroll > 16) {
    top.emitError() << pass
                    << ": vector-width must be a power of two up to 64 and unroll at most 16, "
                       "got "
                    << width << " and " << unroll;
    failed = true;
    return false;
  }
  return true;
}

} // namespace dlc::codegen

//===- RecurrentCodegen.cpp - Gate functions of LSTM and RNN layers -------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// dl-codegen-recurrent (docs/codegen.md, docs/recurrent.md): for every
// dl.lstm and dl.rnn op, and their backward ops, the element-wise step
// functions their kernels call once per stream and step
// (dlc/Ops/RecurrentCells.h: the signatures and formulas), generated on
// `!llvm.ptr` loads and stores with arith / math / scf ops like the
// pointwise kernels, the LSTM's specialized for its hidden size (the gate
// stride). Each function is generated once per module and kind (and
// hidden size); every op names the functions of its layer in the string
// attributes `dl.codegen_<name>`, which become the kernels' `gen_<name>`.
//
//===----------------------------------------------------------------------===//

#include "CodeBuilder.h"

#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Ops/RecurrentCells.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::dl {
#define GEN_PASS_DEF_DLCODEGENRECURRENT
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;
namespace ops = dlc::ops;

namespace {

/// The body of one cell function (ops::CellInfo: pointers, scalars, len).
class CellBuilder : public dlc::codegen::CodeBuilder {
public:
  CellBuilder(func::FuncOp fn, const ops::CellInfo &info, int64_t hidden, int64_t width,
              int64_t unroll)
      : CodeBuilder(fn), info(info), hidden(hidden), width(width), unroll(unroll) {}

  void build() {
    Block *entry = beginBody();
    for (int k = 0; k < info.pointers; ++k)
      p.push_back(entry->getArgument(unsigned(k)));
    for (int k = 0; k < info.scalars; ++k)
      s.push_back(entry->getArgument(unsigned(info.pointers + k)));
    Value len = entry->getArgument(unsigned(info.pointers + info.scalars));
    emitRange(index(0), len, width, unroll, [&](Value i, Type t) { element(i, t); });
    b.create<func::ReturnOp>(loc);
  }

private:
  /// Gate k of unit i (at i + k * H).
  Value gate(int64_t k) { return index(k * hidden); }
  Value at(Value i, int64_t k) { return k ? b.create<arith::AddIOp>(loc, i, gate(k)) : i; }
  /// `x` where the scalar s[k] is not 0, else 0.
  Value unlessReset(Value x, int k) {
    Value zero = cst(f32, 0.0);
    Value reset = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, s[size_t(k)], zero);
    return select(reset, cst(x.getType(), 0.0), x);
  }

  void element(Value i, Type t) {
    Value one = cst(t, 1.0);
    auto scalar = [&](int k) { return splat(t, s[size_t(k)]); };
    switch (info.cell) {
    case ops::Cell::LstmForward: { // g, b, cprev, c, h, hp; ct, ctNext
      Value g[4];
      for (int64_t k = 0; k < 4; ++k) {
        Value pre = add(load(t, p[0], at(i, k)), load(t, p[1], at(i, k)));
        g[k] = k < 3 ? sigmoid(pre) : tanh(pre);
      }
      for (int64_t k = 0; k < 4; ++k)
        store(g[k], p[0], at(i, k));
      Value fc = unlessReset(mul(scalar(0), g[1]), 0);
      Value c = add(mul(fc, load(t, p[2], i)), mul(g[0], g[3]));
      store(c, p[3], i);
      Value h = mul(g[2], tanh(c));
      store(h, p[4], i);
      store(mul(scalar(1), h), p[5], i);
      return;
    }
    case ops::Cell::LstmBackward: { // g, c, cprev, dy, dhn, dc; ct, ctNext
      Value gi = load(t, p[0], at(i, 0)), gf = load(t, p[0], at(i, 1));
      Value go = load(t, p[0], at(i, 2)), gg = load(t, p[0], at(i, 3));
      Value tc = tanh(load(t, p[1], i));
      Value dh = add(load(t, p[3], i), mul(scalar(1), load(t, p[4], i)));
      Value dct = add(load(t, p[5], i), mul(mul(dh, go), sub(one, mul(tc, tc))));
      store(mul(mul(mul(dct, gg), gi), sub(one, gi)), p[0], at(i, 0));
      Value df = mul(mul(mul(mul(dct, load(t, p[2], i)), scalar(0)), gf), sub(one, gf));
      store(unlessReset(df, 0), p[0], at(i, 1));
      store(mul(mul(mul(dh, tc), go), sub(one, go)), p[0], at(i, 2));
      store(mul(mul(dct, gi), sub(one, mul(gg, gg))), p[0], at(i, 3));
      store(unlessReset(mul(mul(dct, scalar(0)), gf), 0), p[5], i);
      return;
    }
    case ops::Cell::RnnForward: { // a, b, hp; ctNext
      Value h = tanh(add(load(t, p[0], i), load(t, p[1], i)));
      store(h, p[0], i);
      store(mul(scalar(0), h), p[2], i);
      return;
    }
    case ops::Cell::RnnBackward: { // d, h, dhn; ctNext
      Value h = load(t, p[1], i);
      Value d = add(load(t, p[0], i), mul(scalar(0), load(t, p[2], i)));
      store(mul(d, sub(one, mul(h, h))), p[0], i);
      return;
    }
    case ops::Cell::RnnOutput: // y, b
      store(tanh(add(load(t, p[0], i), load(t, p[1], i))), p[0], i);
      return;
    case ops::Cell::RnnOutputGrad: { // dy, y, d
      Value y = load(t, p[1], i);
      store(mul(load(t, p[0], i), sub(one, mul(y, y))), p[2], i);
      return;
    }
    }
  }

  const ops::CellInfo &info;
  int64_t hidden, width, unroll;
  SmallVector<Value> p, s;
};

/// "lstm" or "rnn" for the layer `op` runs (forward or backward), else "".
StringRef recurrentLayer(Operation *op) {
  StringRef name = op->getName().getStringRef();
  if (isa<dl::BackwardDataOp, dl::BackwardWeightsOp>(op))
    if (auto fwd = op->getAttrOfType<StringAttr>("forward"))
      name = fwd.getValue();
  name.consume_front("dl.");
  return name == "lstm" || name == "rnn" ? name : StringRef();
}

struct CodegenRecurrent : public mlir::dl::impl::DLCodegenRecurrentBase<CodegenRecurrent> {
  using DLCodegenRecurrentBase::DLCodegenRecurrentBase;

  void runOnOperation() override {
    ModuleOp top = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<Operation *> layers;
    for (auto func : top.getOps<func::FuncOp>())
      func.walk([&](Operation *op) {
        auto impl = op->getAttrOfType<StringAttr>("dl.impl");
        if (!recurrentLayer(op).empty() && !(impl && impl.getValue() == "ref"))
          layers.push_back(op);
      });
    if (layers.empty())
      return;
    int64_t width = vectorWidth, unrollBy = unroll;
    bool failed = false;
    if (!dlc::codegen::vectorShape(top, "dl-codegen-recurrent", cpu, width, unrollBy, failed)) {
      if (failed)
        signalPassFailure();
      return;
    }
    ModuleOp kernels = dlc::codegen::codegenModule(top);
    Type ptr = LLVM::LLVMPointerType::get(ctx), f32 = Float32Type::get(ctx);
    Type i64 = IntegerType::get(ctx, 64);
    for (Operation *op : layers) {
      auto numOutput = op->getAttrOfType<IntegerAttr>("num_output");
      if (!numOutput || numOutput.getInt() <= 0) {
        op->emitError("dl-codegen-recurrent: no positive num_output");
        return signalPassFailure();
      }
      const int64_t hidden = numOutput.getInt();
      for (const ops::CellInfo &info : ops::kCells) {
        if (recurrentLayer(op) != info.op)
          continue;
        std::string name = std::string("dlc_cell_") + info.name;
        if (info.perHidden)
          name += "_h" + std::to_string(hidden);
        if (!SymbolTable::lookupSymbolIn(kernels, name)) {
          SmallVector<Type> args(size_t(info.pointers), ptr);
          args.append(size_t(info.scalars), f32);
          args.push_back(i64);
          OpBuilder b = OpBuilder::atBlockEnd(kernels.getBody());
          auto fn = b.create<func::FuncOp>(op->getLoc(), name, b.getFunctionType(args, {}));
          CellBuilder(fn, info, hidden, width, info.perHidden ? std::min<int64_t>(unrollBy, 2)
                                                              : unrollBy)
              .build();
        }
        op->setAttr(std::string(mlir::dl::kCodegenCellAttrPrefix) + info.name,
                    StringAttr::get(ctx, name));
      }
    }
  }
};

} // namespace

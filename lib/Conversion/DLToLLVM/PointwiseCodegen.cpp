//===- PointwiseCodegen.cpp - Kernels for element-wise fused bodies -------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// dl-codegen-pointwise (docs/codegen.md): a dl.fused op whose body is
// element-wise (DL_Pointwise layers, test-time dropout, an Eltwise of any
// kind, per-channel Scale and Bias) becomes a function
//
//   void dlc_gen_N(const float *const *in, float *const *out,
//                  int64_t begin, int64_t end)
//
// computing elements [begin, end) of its result: a vector loop, then a scalar
// loop for the tail, on `!llvm.ptr` loads and stores with arith / math / scf
// ops in between. With per-channel operands the range is walked row by row
// (a row is `inner` elements of one channel) and the row's parameters are
// loaded once. Every formula is the reference kernel's
// (lib/Runtime/Reference), in float32: the same comparisons (so NaN behaves
// the same: std::max(x, 0) is `x < 0 ? 0 : x`), the same special cases.
//
//===----------------------------------------------------------------------===//

#include "CodeBuilder.h"

#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Ops/Ops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>
#include <map>

namespace mlir::dl {
#define GEN_PASS_DEF_DLCODEGENPOINTWISE
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;
namespace ops = dlc::ops;

namespace {

//===----------------------------------------------------------------------===//
// What a fused op computes, element by element
//===----------------------------------------------------------------------===//

/// One layer of the body. Values are numbered: the fused op's operands
/// [0, numInputs), then one per step.
struct Step {
  std::string op;
  ops::AttrMap attrs;
  SmallVector<int> args;
};

struct Plan {
  int64_t count = 0; ///< elements of the result (and of every full-size value)
  unsigned numInputs = 0;
  /// Per operand: read one value per channel (Scale / Bias parameters).
  SmallVector<bool> perChannel;
  /// Per operand: read element by element.
  SmallVector<bool> perElement;
  /// The channel broadcast [outer, dim, inner]; dim 0 when there is none.
  int64_t dim = 0, inner = 0;
  std::vector<Step> steps;
  int result = -1;
};

const llvm::StringSet<> &unaryOps() {
  static const llvm::StringSet<> ops = {"relu", "sigmoid",   "tanh", "abs_val", "bnll",
                                        "elu",  "power",     "exp",  "log",     "threshold",
                                        "clip", "swish",     "dropout"};
  return ops;
}

std::optional<ops::Shape> shapeOf(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape() || !t.getElementType().isF32())
    return std::nullopt;
  return ops::Shape(t.getShape().begin(), t.getShape().end());
}

int64_t countOf(Value v) {
  std::optional<ops::Shape> s = shapeOf(v);
  return s ? ops::numElements(*s) : -1;
}

/// Why `fused` gets no generated kernel, or "" with `plan` filled in.
std::string planFused(dl::FusedOp fused, Plan &plan) {
  // Gradient bodies (docs/fusion.md) run composed from library kernels.
  for (Operation &op : fused.getBlock().without_terminator())
    if (isa<dl::BackwardDataOp, dl::BackwardWeightsOp>(op))
      return "backward ops (a gradient body)";
  if (fused->getNumResults() != 1)
    return "more than one result";
  Block &block = fused.getBlock();
  plan.count = countOf(fused->getResult(0));
  if (plan.count < 0)
    return "a result of run-time size or not f32";
  plan.numInputs = block.getNumArguments();
  plan.perChannel.assign(plan.numInputs, false);
  plan.perElement.assign(plan.numInputs, false);
  DenseMap<Value, int> valueOf;
  for (BlockArgument a : block.getArguments())
    valueOf[a] = int(a.getArgNumber());
  // A value read element by element: as many elements as the result.
  auto element = [&](Value v, SmallVector<int> &args) {
    auto it = valueOf.find(v);
    if (it == valueOf.end() || countOf(v) != plan.count)
      return false;
    if (it->second < int(plan.numInputs))
      plan.perElement[it->second] = true;
    args.push_back(it->second);
    return true;
  };
  for (Operation &op : block.without_terminator()) {
    StringRef name = op.getName().getStringRef();
    if (!name.consume_front("dl.") || op.getNumResults() != 1 ||
        countOf(op.getResult(0)) != plan.count)
      return "'" + op.getName().getStringRef().str() + "' is not element-wise";
    Step s;
    s.op = name.str();
    if (failed(dl::toAttrMap(op.getAttrDictionary(), s.attrs)))
      return "attributes of '" + s.op + "'";
    if (unaryOps().contains(name)) {
      if (op.getNumOperands() != 1 || !element(op.getOperand(0), s.args))
        return "'" + s.op + "' on a value of another size";
      ops::DropoutAttrs d;
      if (name == "dropout" && (ops::DropoutAttrs::read(s.attrs, d).failed() || d.train))
        return "training-mode dropout (a random mask)";
    } else if (name == "eltwise") {
      for (Value v : op.getOperands())
        if (!element(v, s.args))
          return "an eltwise operand of another size";
    } else if (name == "scale" || name == "bias") {
      if (op.getNumOperands() < 2 || !element(op.getOperand(0), s.args))
        return "'" + s.op + "' on a value of another size";
      int64_t axis = 1, numAxes = 1;
      if (name == "scale") {
        ops::ScaleAttrs a;
        if (ops::ScaleAttrs::read(s.attrs, a).failed())
          return "attributes of 'scale'";
        axis = a.axis, numAxes = a.num_axes;
      } else {
        ops::BiasAttrs a;
        if (ops::BiasAttrs::read(s.attrs, a).failed())
          return "attributes of 'bias'";
        axis = a.axis, numAxes = a.num_axes;
      }
      std::optional<ops::Shape> x = shapeOf(op.getOperand(0));
      for (Value p : op.getOperands().drop_front()) {
        auto arg = dyn_cast<BlockArgument>(p);
        std::optional<ops::Shape> ps = shapeOf(p);
        ops::Broadcast b;
        if (!arg || !ps || ops::broadcastGeometry(*x, *ps, axis, numAxes, b).failed())
          return "a '" + s.op + "' operand computed inside the body or not broadcast";
        if (plan.dim == 0)
          plan.dim = b.dim, plan.inner = b.inner;
        if (b.dim != plan.dim || b.inner != plan.inner || b.inner <= 0 || b.dim <= 0)
          return "per-channel operands of different geometries";
        plan.perChannel[arg.getArgNumber()] = true;
        s.args.push_back(int(arg.getArgNumber()));
      }
    } else {
      return "'" + s.op + "' has no generated code";
    }
    valueOf[op.getResult(0)] = int(plan.numInputs + plan.steps.size());
    plan.steps.push_back(std::move(s));
  }
  Operation *yield = block.getTerminator();
  if (yield->getNumOperands() != 1 || isa<BlockArgument>(yield->getOperand(0)))
    return "a result that is an operand";
  plan.result = valueOf.lookup(yield->getOperand(0));
  for (unsigned i = 0; i < plan.numInputs; ++i)
    if (plan.perChannel[i] && plan.perElement[i])
      return "an operand read both per element and per channel";
  // Rows of one channel exist in the plain layout only (docs/layouts.md):
  // element-wise bodies run on blocked data unchanged, per-channel ones not.
  if (llvm::is_contained(plan.perChannel, true) && dl::getLayout(fused->getResult(0)) != 0)
    return "per-channel operands of a channel-blocked result";
  if (plan.steps.empty())
    return "an empty body";
  return "";
}

//===----------------------------------------------------------------------===//
// The kernel function
//===----------------------------------------------------------------------===//

class KernelBuilder : public dlc::codegen::CodeBuilder {
public:
  KernelBuilder(func::FuncOp fn, const Plan &plan, int64_t width, int64_t unroll)
      : CodeBuilder(fn), plan(plan), width(width), unroll(unroll) {}

  void build();

private:
  Value power(Value v, double p);
  Value emitStep(const Step &s, ArrayRef<Value> args);
  /// The elements at i as values of type t (f32 or a vector type).
  void emitElements(Value i, Type t, ArrayRef<Value> channel);

  const Plan &plan;
  int64_t width, unroll;
  SmallVector<Value> bases; ///< in[k]
  Value outBase;
};

/// pow(v, p) as the reference computes it (std::pow): exact products for
/// small integer powers, else exp(p log|v|) with pow's signs.
Value KernelBuilder::power(Value v, double p) {
  Type t = v.getType();
  if (p == 0.0)
    return cst(t, 1.0);
  if (p == 0.5) { // pow(-inf, 0.5) is +inf
    Value negInf = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, v, cst(t, -INFINITY));
    return select(negInf, cst(t, INFINITY), b.create<math::SqrtOp>(loc, v));
  }
  const bool integer = p == std::floor(p) && std::fabs(p) <= 9007199254740992.0;
  if (integer && std::fabs(p) <= 32) {
    auto n = uint64_t(std::fabs(p));
    Value result, base = v;
    while (n) {
      if (n & 1)
        result = result ? mul(result, base) : base;
      n >>= 1;
      if (n)
        base = mul(base, base);
    }
    return p < 0 ? div(cst(t, 1.0), result) : result;
  }
  Value r = exp(mul(cst(t, p), b.create<math::LogOp>(loc, b.create<math::AbsFOp>(loc, v))));
  if (integer)
    return std::fmod(p, 2.0) != 0.0 ? Value(b.create<math::CopySignOp>(loc, r, v)) : r;
  // A negative base to a non-integer power is NaN, but -inf gives exp(p * inf).
  Value finiteNegative =
      b.create<arith::AndIOp>(loc, less(v, cst(t, 0.0)), less(cst(t, -INFINITY), v));
  return select(finiteNegative, cst(t, NAN), r);
}

Value KernelBuilder::emitStep(const Step &s, ArrayRef<Value> args) {
  Value x = args[0];
  Type t = x.getType();
  // The op's typed attributes, with the ODS defaults (the verifier checked them).
  auto read = [&](auto &a) { (void)std::remove_reference_t<decltype(a)>::read(s.attrs, a); };
  if (s.op == "relu") {
    ops::ReLUAttrs a;
    read(a);
    // std::max(x, 0) + negative_slope * std::min(x, 0).
    return add(stdMax(x, cst(t, 0.0)), mul(cst(t, a.negative_slope), stdMin(x, cst(t, 0.0))));
  }
  if (s.op == "sigmoid")
    return sigmoid(x);
  if (s.op == "tanh")
    return b.create<math::TanhOp>(loc, x);
  if (s.op == "abs_val")
    return b.create<math::AbsFOp>(loc, x);
  if (s.op == "bnll") {
    // x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)).
    Value l = b.create<math::Log1pOp>(
        loc, exp(b.create<arith::NegFOp>(loc, b.create<math::AbsFOp>(loc, x))));
    return select(less(cst(t, 0.0), x), add(x, l), l);
  }
  if (s.op == "elu") {
    ops::ELUAttrs a;
    read(a);
    // x > 0 ? x : alpha (exp(x) - 1), exact for small |x| too.
    Value neg = scaled(expm1(x), a.alpha);
    return select(less(cst(t, 0.0), x), x, neg);
  }
  if (s.op == "power") {
    ops::PowerAttrs a;
    read(a);
    Value v = affine(x, a.scale, a.shift);
    return a.power == 1.0 ? v : power(v, a.power);
  }
  if (s.op == "exp") {
    ops::ExpAttrs a;
    read(a);
    // outer * exp(inner * x), inner = ln(base) scale, outer = base^shift.
    double lnBase = a.base == -1.0 ? 1.0 : std::log(a.base);
    double outer = a.shift == 0.0 ? 1.0 : std::exp(lnBase * a.shift);
    return scaled(exp(scaled(x, lnBase * a.scale)), outer);
  }
  if (s.op == "log") {
    ops::LogAttrs a;
    read(a);
    double lnBase = a.base == -1.0 ? 1.0 : std::log(a.base);
    // log(1 + scale x) without rounding 1 + scale x to float first.
    Value l = a.shift == 1.0 ? Value(b.create<math::Log1pOp>(loc, scaled(x, a.scale)))
                             : Value(b.create<math::LogOp>(loc, affine(x, a.scale, a.shift)));
    return scaled(l, 1.0 / lnBase);
  }
  if (s.op == "threshold") {
    ops::ThresholdAttrs a;
    read(a);
    return select(less(cst(t, a.threshold), x), cst(t, 1.0), cst(t, 0.0));
  }
  if (s.op == "clip") {
    ops::ClipAttrs a;
    read(a);
    return stdMax(cst(t, a.min), stdMin(x, cst(t, a.max)));
  }
  if (s.op == "swish") {
    ops::SwishAttrs a;
    read(a);
    return mul(x, sigmoid(scaled(x, a.beta)));
  }
  if (s.op == "dropout")
    return x; // test time: the identity
  if (s.op == "eltwise") {
    ops::EltwiseAttrs a;
    read(a);
    Value acc = a.operation == "sum" && !a.coeff.empty() ? scaled(args[0], a.coeff[0]) : args[0];
    for (size_t k = 1; k < args.size(); ++k) {
      if (a.operation == "prod")
        acc = mul(acc, args[k]);
      else if (a.operation == "max")
        acc = stdMax(acc, args[k]);
      else
        acc = add(acc, scaled(args[k], a.coeff.empty() ? 1.0 : a.coeff[k]));
    }
    return acc;
  }
  if (s.op == "scale") // x * scale (+ bias)
    return args.size() > 2 ? add(mul(x, args[1]), args[2]) : mul(x, args[1]);
  // bias: x + bias
  return add(x, args[1]);
}

void KernelBuilder::emitElements(Value i, Type t, ArrayRef<Value> channel) {
  SmallVector<Value> values(plan.numInputs + plan.steps.size());
  for (unsigned k = 0; k < plan.numInputs; ++k) {
    if (plan.perElement[k])
      values[k] = load(t, bases[k], i);
    else if (plan.perChannel[k])
      values[k] = splat(t, channel[k]);
  }
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    SmallVector<Value> args;
    for (int a : plan.steps[s].args)
      args.push_back(values[size_t(a)]);
    values[plan.numInputs + s] = emitStep(plan.steps[s], args);
  }
  store(values[size_t(plan.result)], outBase, i);
}

void KernelBuilder::build() {
  Block *entry = beginBody();
  Value in = entry->getArgument(0), out = entry->getArgument(1);
  Value begin = entry->getArgument(2), end = entry->getArgument(3);
  for (unsigned k = 0; k < plan.numInputs; ++k)
    bases.push_back(plan.perElement[k] || plan.perChannel[k] ? pointerAt(in, k) : Value());
  outBase = pointerAt(out, 0);
  auto elements = [&](ArrayRef<Value> channel) {
    return [this, channel](Value i, Type t) { emitElements(i, t, channel); };
  };
  if (plan.dim == 0) {
    emitRange(begin, end, width, unroll, elements({}));
  } else {
    // Row by row: a row is `inner` elements of one channel.
    auto loop = b.create<scf::WhileOp>(loc, TypeRange{i64}, ValueRange{begin});
    Block *before = b.createBlock(&loop.getBefore(), {}, {i64}, {loc});
    Value i = before->getArgument(0);
    Value more = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, i, end);
    b.create<scf::ConditionOp>(loc, more, ValueRange{i});
    Block *after = b.createBlock(&loop.getAfter(), {}, {i64}, {loc});
    i = after->getArgument(0);
    Value row = b.create<arith::DivSIOp>(loc, i, index(plan.inner));
    Value ch = b.create<arith::RemSIOp>(loc, row, index(plan.dim));
    Value next = b.create<arith::MulIOp>(loc, b.create<arith::AddIOp>(loc, row, index(1)),
                                         index(plan.inner));
    Value rowEnd = b.create<arith::MinSIOp>(loc, next, end);
    SmallVector<Value> channel(plan.numInputs);
    for (unsigned k = 0; k < plan.numInputs; ++k)
      if (plan.perChannel[k])
        channel[k] = load(f32, bases[k], ch);
    emitRange(i, rowEnd, width, unroll, elements(channel));
    b.create<scf::YieldOp>(loc, ValueRange{rowEnd});
    b.setInsertionPointAfter(loop);
  }
  b.create<func::ReturnOp>(loc);
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct CodegenPointwise : public mlir::dl::impl::DLCodegenPointwiseBase<CodegenPointwise> {
  using DLCodegenPointwiseBase::DLCodegenPointwiseBase;

  void runOnOperation() override {
    ModuleOp top = getOperation();
    MLIRContext *ctx = &getContext();
    std::vector<std::pair<dl::FusedOp, Plan>> todo;
    for (auto func : top.getOps<func::FuncOp>())
      func.walk([&](dl::FusedOp f) {
        Plan plan;
        if (!f->hasAttr(mlir::dl::kCodegenSymbolAttr) && planFused(f, plan).empty())
          todo.emplace_back(f, std::move(plan));
      });
    if (todo.empty())
      return;
    int64_t width = vectorWidth, unrollBy = unroll;
    bool failed = false;
    if (!dlc::codegen::vectorShape(top, "dl-codegen-pointwise", cpu, width, unrollBy, failed)) {
      if (failed)
        signalPassFailure();
      return;
    }
    ModuleOp kernels = dlc::codegen::codegenModule(top);
    int next = 0;
    for (auto &[fused, plan] : todo) {
      std::string name = dlc::codegen::freshSymbol(kernels, "dlc_gen_", next);
      OpBuilder b = OpBuilder::atBlockEnd(kernels.getBody());
      Type ptr = LLVM::LLVMPointerType::get(ctx), i64 = b.getI64Type();
      auto fn = b.create<func::FuncOp>(fused.getLoc(), name,
                                       b.getFunctionType({ptr, ptr, i64, i64}, {}));
      KernelBuilder(fn, plan, width, unrollBy).build();
      fused->setAttr(mlir::dl::kCodegenSymbolAttr, StringAttr::get(ctx, name));
    }
  }
};

} // namespace

//===- Autodiff.cpp - Reverse-mode differentiation of a dl graph ----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Appends the backward graph of a network function to it (docs/autodiff.md).
// Reverse mode from the loss ops: for each forward op (in reverse order)
// whose results carry a gradient, one dl.backward_data op for the operands
// that are activations and one dl.backward_weights op for the trainable
// parameters, with Caffe's rules: labels and indices get no gradient,
// `propagate_down: false` stops it, `lr_mult: 0` parameters are skipped
// entirely, data gradients are only computed where they lead to a trainable
// parameter (or everywhere with `force_backward`), and a value used several
// times gets the sum of its contributions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DL/Transforms/Passes.h"

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"

#include <limits>

namespace mlir::dl {
#define GEN_PASS_DEF_DLAUTODIFF
#include "dlc/Dialect/DL/Transforms/Passes.h.inc"
} // namespace mlir::dl

using namespace mlir;

namespace {

/// Loss layers seed the gradient (the DL_Loss trait of their definition).
bool isLoss(Operation *op) { return op->hasTrait<dl::OpTrait::IsLoss>(); }

/// Operands that never receive a gradient: labels, targets, indices,
/// sequence-continuation markers, statistics, shape references (their role
/// in the op definition; Caffe refuses to backpropagate to them).
bool isNonDifferentiableOperand(Operation *op, unsigned index) {
  std::optional<dlc::ops::Role> role = dl::getOperandRole(op, index);
  return role && !dlc::ops::isDifferentiable(*role);
}

/// Ops that are not differentiated at all (the DL_NoGradient trait).
bool isNonDifferentiableOp(Operation *op) { return op->hasTrait<dl::OpTrait::NoGradient>(); }

bool isTrainableParam(Value v) {
  auto p = v.getDefiningOp<dl::ParamOp>();
  return p && p.getLrMult().convertToDouble() != 0.0;
}

/// The Caffe name of a value: its top, param name or input name.
std::string nameOf(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    auto func = cast<func::FuncOp>(arg.getOwner()->getParentOp());
    if (auto n = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "dl.name"))
      return n.str();
    return "arg" + std::to_string(arg.getArgNumber());
  }
  Operation *def = v.getDefiningOp();
  if (auto p = dyn_cast<dl::ParamOp>(def))
    return p.getName().str();
  if (auto tops = def->getAttrOfType<ArrayAttr>("dl.tops"))
    if (cast<OpResult>(v).getResultNumber() < tops.size())
      return cast<StringAttr>(tops[cast<OpResult>(v).getResultNumber()]).str();
  return "v";
}

struct Autodiff : public mlir::dl::impl::DLAutodiffBase<Autodiff> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && failed(differentiate(func)))
        return signalPassFailure();
  }

  LogicalResult differentiate(func::FuncOp func);
};

LogicalResult Autodiff::differentiate(func::FuncOp func) {
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  SmallVector<Operation *> forward;
  for (Operation &op : body.without_terminator())
    forward.push_back(&op);
  for (Operation *op : forward)
    if (isa<dl::BackwardDataOp, dl::BackwardWeightsOp>(op))
      return op->emitError("dl-autodiff: the function is already differentiated");

  SmallVector<Operation *> losses;
  for (Operation *op : forward)
    if (isLoss(op))
      losses.push_back(op);
  if (losses.empty())
    return func.emitError() << "the net has no loss layer to differentiate; add one (e.g. "
                               "SoftmaxWithLoss) or compile with --loss auto";

  bool force = false;
  if (auto f = func->getAttrOfType<BoolAttr>("dl.force_backward"))
    force = f.getValue();

  // Operand positions that may carry a gradient at all.
  auto mayPropagate = [](Operation *op, unsigned i) {
    if (isNonDifferentiableOperand(op, i))
      return false;
    if (auto pd = op->getAttrOfType<DenseI64ArrayAttr>("dl.propagate_down"))
      if (i < pd.size() && pd[i] == 0)
        return false;
    Value v = op->getOperand(i);
    if (auto p = v.getDefiningOp<dl::ParamOp>())
      return p.getLrMult().convertToDouble() != 0.0;
    return true;
  };

  // Values whose gradient is wanted: trainable parameters, the values that
  // depend on them, and with force_backward every input that is not a label.
  llvm::DenseSet<Value> wanted;
  if (force)
    for (BlockArgument arg : body.getArguments()) {
      bool label = !arg.use_empty() && llvm::all_of(arg.getUses(), [](OpOperand &u) {
        return isNonDifferentiableOperand(u.getOwner(), u.getOperandNumber());
      });
      if (!label)
        wanted.insert(arg);
    }
  for (Operation *op : forward) {
    if (auto p = dyn_cast<dl::ParamOp>(op)) {
      if (isTrainableParam(p))
        wanted.insert(p);
      continue;
    }
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      if (wanted.contains(op->getOperand(i)) && mayPropagate(op, i)) {
        for (Value r : op->getResults())
          wanted.insert(r);
        break;
      }
  }

  OpBuilder b(func.getContext());
  b.setInsertionPoint(ret);
  // Gradient contributions per forward value, in creation order.
  llvm::MapVector<Value, SmallVector<Value>> contributions;

  // A constant tensor (a dl.param with lr_mult 0 and a constant filler).
  auto constant = [&](Location loc, StringRef name, RankedTensorType type, double value) {
    OperationState st(loc, "dl.param");
    st.addAttribute("name", b.getStringAttr(name));
    st.addAttribute("filler",
                    b.getDictionaryAttr({b.getNamedAttr("type", b.getStringAttr("constant")),
                                         b.getNamedAttr("value", b.getF64FloatAttr(value))}));
    st.addAttribute("lr_mult", b.getF64FloatAttr(0.0));
    st.addAttribute("decay_mult", b.getF64FloatAttr(0.0));
    st.addTypes(type);
    return b.create(st)->getResult(0);
  };

  for (Operation *loss : losses)
    for (Value r : loss->getResults()) {
      auto t = dyn_cast<RankedTensorType>(r.getType());
      if (!t || !t.hasStaticShape())
        return loss->emitError("dl-autodiff needs static shapes; run dl-shape-inference first");
      if (wanted.contains(r))
        contributions[r].push_back(constant(loss->getLoc(), nameOf(r) + "@seed", t, 1.0));
    }

  // The gradient of `v`: the sum of its contributions (materialized once).
  llvm::DenseMap<Value, Value> total;
  auto gradientOf = [&](Value v, Location loc, StringRef role) -> Value {
    auto it = total.find(v);
    if (it != total.end())
      return it->second;
    auto c = contributions.find(v);
    if (c == contributions.end() || c->second.empty())
      return Value();
    Value g = c->second.front();
    if (c->second.size() > 1) {
      OperationState st(loc, "dl.eltwise");
      st.addOperands(c->second);
      st.addAttribute("operation", b.getStringAttr("sum"));
      st.addAttribute("dl.role", b.getStringAttr(role));
      st.addAttribute("dl.tops", b.getStrArrayAttr({nameOf(v) + "@grad"}));
      st.addTypes(v.getType());
      g = b.create(st)->getResult(0);
    }
    total[v] = g;
    return g;
  };

  for (Operation *op : llvm::reverse(forward)) {
    if (isa<dl::ParamOp>(op) || isNonDifferentiableOp(op) || op->getNumResults() == 0)
      continue;
    // Gradients of the results (zeros for a result nobody differentiates
    // through, e.g. an unused slice piece).
    SmallVector<Value> resultGrads;
    bool any = false;
    for (Value r : op->getResults()) {
      Value g = gradientOf(r, op->getLoc(), "backward_data");
      any |= bool(g);
      resultGrads.push_back(g);
    }
    if (!any)
      continue;
    for (unsigned i = 0; i < resultGrads.size(); ++i)
      if (!resultGrads[i]) {
        Value r = op->getResult(i);
        auto type = cast<RankedTensorType>(r.getType());
        if (type.hasStaticShape()) {
          resultGrads[i] = constant(op->getLoc(), nameOf(r) + "@zero", type, 0.0);
          continue;
        }
        // A run-time size (docs/dialect.md): zeros shaped like `r` as
        // threshold(r, +inf), which is 0 for every value, NaN and inf included.
        OperationState st(op->getLoc(), "dl.threshold");
        st.addOperands(r);
        st.addAttribute("threshold",
                        b.getF64FloatAttr(std::numeric_limits<double>::infinity()));
        st.addAttribute("dl.tops", b.getStrArrayAttr({nameOf(r) + "@zero"}));
        st.addAttribute("dl.role", b.getStringAttr("backward_data"));
        st.addTypes(type);
        resultGrads[i] = b.create(st)->getResult(0);
      }

    SmallVector<int64_t> dataWrt, weightWrt;
    for (unsigned i = 0; i < op->getNumOperands(); ++i) {
      Value v = op->getOperand(i);
      if (!wanted.contains(v) || !mayPropagate(op, i))
        continue;
      // DL_JointBackward: one op for all gradients (role backward_data).
      (v.getDefiningOp<dl::ParamOp>() && !op->hasTrait<dl::OpTrait::JointBackward>() ? weightWrt
                                                                                     : dataWrt)
          .push_back(i);
    }
    std::string forwardName = op->getName().getStringRef().drop_front(3).str();
    for (auto [wrt, opName, role] :
         {std::make_tuple(&dataWrt, "dl.backward_data", "backward_data"),
          std::make_tuple(&weightWrt, "dl.backward_weights", "backward_weights")}) {
      if (wrt->empty())
        continue;
      OperationState st(op->getLoc(), opName);
      st.addOperands(op->getOperands());
      st.addOperands(op->getResults());
      st.addOperands(resultGrads);
      for (NamedAttribute na : op->getAttrs()) {
        StringRef n = na.getName().getValue();
        if (n == "dl.tops" || n == "dl.propagate_down" || n == "operandSegmentSizes")
          continue;
        st.addAttribute(na.getName(), na.getValue());
      }
      st.addAttribute("forward", b.getStringAttr(forwardName));
      st.addAttribute("num_forward_operands", b.getI64IntegerAttr(op->getNumOperands()));
      st.addAttribute("wrt", b.getDenseI64ArrayAttr(*wrt));
      st.addAttribute("dl.role", b.getStringAttr(role));
      SmallVector<std::string> names;
      for (int64_t i : *wrt) {
        st.addTypes(op->getOperand(i).getType());
        names.push_back(nameOf(op->getOperand(i)) + "@grad");
      }
      st.addAttribute("dl.tops", b.getStrArrayAttr(SmallVector<StringRef>(names.begin(), names.end())));
      Operation *bw = b.create(st);
      for (auto [i, g] : llvm::zip(*wrt, bw->getResults()))
        contributions[op->getOperand(i)].push_back(g);
    }
  }

  // Return the gradients of the trainable parameters (and, with
  // force_backward, of the inputs) after the forward results.
  SmallVector<Value> results(ret.getOperands());
  SmallVector<std::string> names;
  for (Operation *op : forward)
    if (auto p = dyn_cast<dl::ParamOp>(op))
      if (Value g = gradientOf(p, p.getLoc(), "backward_weights")) {
        results.push_back(g);
        names.push_back(p.getName().str() + "@grad");
      }
  if (force)
    for (BlockArgument arg : body.getArguments())
      if (Value g = gradientOf(arg, func.getLoc(), "backward_data")) {
        results.push_back(g);
        names.push_back(nameOf(arg) + "@grad");
      }
  unsigned numForwardResults = ret.getNumOperands();
  b.create<func::ReturnOp>(ret.getLoc(), results);
  ret.erase();
  SmallVector<Type> types;
  for (Value v : results)
    types.push_back(v.getType());
  func.setType(b.getFunctionType(func.getArgumentTypes(), types));
  for (auto [i, n] : llvm::enumerate(names))
    func.setResultAttr(numForwardResults + i, "dl.name", b.getStringAttr(n));
  return success();
}

} // namespace

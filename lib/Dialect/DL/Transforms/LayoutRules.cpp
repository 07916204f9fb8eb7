//===- LayoutRules.cpp - Which layouts each op reads and writes -----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The per-op rules of dl-propagate-layouts (docs/layouts.md):
//  - Plain ops read and write the plain layout only;
//  - ChannelBlocked ops (convolution, pooling, BatchNorm, ...) whose data is
//    rank 4 with C a multiple of the block read their data operands in
//    whatever layout they have and write blocked results; their weights,
//    statistics and other operands stay plain;
//  - Any ops (element-wise) read every data operand in one layout L, blocked
//    when some operand is blocked and all can be, and write L;
//  - a dl.fused op follows its body's layers, without reorders between them.
// A backward op follows its forward op's class on its forward operands.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DL/Transforms/LayoutRules.h"

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Ops/Layout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cstdlib>

using namespace mlir;
namespace ops = dlc::ops;
using dlc::ops::LayoutClass;
using dlc::ops::Role;

namespace {

using mlir::dl::shapeOf;

bool blockable(Value v, int block) {
  std::optional<ops::Shape> s = shapeOf(v);
  return s && ops::isBlockable(*s, block);
}

/// An op as its forward layer: the op definition, how many of the op's
/// operands are the forward op's, their roles, and for a backward op the
/// forward operand each result is the gradient of.
struct ForwardView {
  const ops::OpSchema *schema = nullptr;
  unsigned numOperands = 0;
  bool backward = false;
  SmallVector<Role> roles;
  SmallVector<int64_t> wrt;

  /// Operand i is data: a forward operand of role Data, or (backward op) a
  /// forward result or a result gradient.
  bool isData(unsigned i) const { return i >= numOperands || roles[i] == Role::Data; }
};

std::optional<ForwardView> forwardView(Operation *op) {
  ForwardView f;
  if (isa<dl::BackwardDataOp, dl::BackwardWeightsOp>(op)) {
    auto fwd = op->getAttrOfType<StringAttr>("forward");
    auto n = op->getAttrOfType<IntegerAttr>("num_forward_operands");
    auto wrt = op->getAttrOfType<DenseI64ArrayAttr>("wrt");
    if (!fwd || !n || !wrt || n.getInt() < 0 || n.getInt() > op->getNumOperands() ||
        wrt.size() != op->getNumResults())
      return std::nullopt;
    f.schema = ops::lookupOp(std::string_view(fwd.getValue().data(), fwd.getValue().size()));
    f.numOperands = unsigned(n.getInt());
    f.backward = true;
    f.wrt.assign(wrt.asArrayRef().begin(), wrt.asArrayRef().end());
    if (!f.schema || llvm::any_of(f.wrt, [&](int64_t i) {
          return i < 0 || i >= int64_t(f.numOperands);
        }))
      return std::nullopt;
    for (unsigned i = 0; i < f.numOperands; ++i) {
      Role r;
      if (ops::operandRole(*f.schema, f.numOperands, i, r).failed())
        return std::nullopt;
      f.roles.push_back(r);
    }
    return f;
  }
  f.schema = dl::getOpSchema(op);
  if (!f.schema)
    return std::nullopt;
  f.numOperands = op->getNumOperands();
  for (unsigned i = 0; i < f.numOperands; ++i) {
    std::optional<Role> r = dl::getOperandRole(op, i);
    if (!r)
      return std::nullopt;
    f.roles.push_back(*r);
  }
  return f;
}

/// Why a ChannelBlocked op cannot run on blocked data ("" when it can): its
/// operand 0 must be blockable (or of rank 4 with a blockable result: a
/// convolution on an image), every other data operand blockable or of rank
/// <= 1, and an `axis` attribute must name the channels (1).
std::string blockedObstacle(Operation *op, const ForwardView &f, int block) {
  auto describe = [&](Value v) -> std::string {
    std::optional<ops::Shape> s = shapeOf(v);
    if (!s)
      return "of unknown shape";
    if (s->size() != 4)
      return "of rank " + std::to_string(s->size());
    if ((*s)[1] == ops::kAnyDim)
      return "with a run-time channel count";
    return "with " + std::to_string((*s)[1]) + " channels (not a multiple of " +
           std::to_string(block) + ")";
  };
  if (f.numOperands == 0)
    return "without operands";
  if (Value in = op->getOperand(0); !blockable(in, block)) {
    // A plain rank-4 input of any channel count (a 3-channel image) is
    // fine when the result can be blocked: a convolution reads it as it is
    // and writes its blocked result.
    std::optional<ops::Shape> s = shapeOf(in);
    Value out = f.backward ? op->getOperand(f.numOperands) : op->getResult(0);
    if (!(s && s->size() == 4 && blockable(out, block)))
      return "on an input " + describe(in);
  }
  for (unsigned i = 1; i < f.numOperands; ++i) {
    if (f.roles[i] != Role::Data)
      continue;
    Value v = op->getOperand(i);
    std::optional<ops::Shape> s = shapeOf(v);
    if (!blockable(v, block) && !(s && s->size() <= 1))
      return "with operand " + std::to_string(i) + " " + describe(v);
  }
  if (const ops::AttrSchema *a = f.schema->findAttr("axis")) {
    int64_t axis = 0;
    if (auto attr = op->getAttrOfType<IntegerAttr>("axis"))
      axis = attr.getInt();
    else if (a->defaultValue && *a->defaultValue)
      axis = std::strtoll(a->defaultValue, nullptr, 10);
    else
      return "without an axis";
    int64_t canonical = axis < 0 ? axis + 4 : axis;
    if (canonical != 1)
      return "with axis " + std::to_string(axis);
  }
  return "";
}

/// Everything plain; `reason` applies when an operand was not.
dl::LayoutDecision plainDecision(Operation *op, ArrayRef<int> given, const std::string &reason) {
  dl::LayoutDecision d;
  d.operands.assign(op->getNumOperands(), 0);
  d.results.assign(op->getNumResults(), 0);
  if (llvm::any_of(given, [](int b) { return b != 0; }))
    d.reason = reason;
  return d;
}

/// Sets `reason` (first one wins) when operand i changes layout.
void require(dl::LayoutDecision &d, ArrayRef<int> given, unsigned i, int layout,
             const std::string &reason) {
  d.operands[i] = layout;
  if (layout != given[i] && d.reason.empty())
    d.reason = reason;
}

std::string roleWords(Role r) { return std::string(ops::roleName(r)) + " operands"; }

dl::LayoutDecision decideChannelBlocked(Operation *op, const ForwardView &f,
                                        ArrayRef<int> given, int block) {
  const std::string kind = dl::opKindOf(op);
  std::string obstacle = blockedObstacle(op, f, block);
  if (!obstacle.empty())
    return plainDecision(op, given, kind + " " + obstacle + " reads the plain layout only");
  dl::LayoutDecision d;
  d.operands.assign(given.begin(), given.end());
  for (unsigned i = 0; i < f.numOperands; ++i)
    if (f.roles[i] != Role::Data)
      require(d, given, i, 0, kind + " reads its " + roleWords(f.roles[i]) + " in the plain layout");
  for (OpResult r : op->getResults()) {
    if (!f.backward) {
      d.results.push_back(blockable(r, block) ? block : 0);
      continue;
    }
    // The gradient of a forward operand is in that operand's layout.
    int64_t of = f.wrt[r.getResultNumber()];
    d.results.push_back(f.roles[of] == Role::Data && blockable(op->getOperand(of), block)
                            ? given[of]
                            : 0);
  }
  bool blockedKernel = llvm::any_of(d.results, [](int b) { return b != 0; });
  for (unsigned i = 0; i < op->getNumOperands(); ++i)
    blockedKernel |= f.isData(i) && d.operands[i] != 0;
  if (blockedKernel)
    for (unsigned i = 0; i < op->getNumOperands(); ++i) {
      std::optional<ops::Shape> s = shapeOf(op->getOperand(i));
      if (f.isData(i) && d.operands[i] == 0 && s && s->size() == 4)
        d.plainReads.push_back(i);
    }
  return d;
}

dl::LayoutDecision decideAny(Operation *op, const ForwardView &f, ArrayRef<int> given,
                             int block) {
  const std::string kind = dl::opKindOf(op);
  // The data operands: of role Data; for a backward op, every operand
  // shaped like the forward op's operand 0 (its operands, result and
  // result gradient).
  Type dataType = op->getNumOperands() ? op->getOperand(0).getType() : Type();
  auto isData = [&](unsigned i) {
    if (i < f.numOperands && f.roles[i] != Role::Data)
      return false;
    return !f.backward || op->getOperand(i).getType() == dataType;
  };
  bool someBlocked = false, allBlockable = true;
  for (unsigned i = 0; i < op->getNumOperands(); ++i)
    if (isData(i)) {
      someBlocked |= given[i] != 0;
      allBlockable &= blockable(op->getOperand(i), block);
    }
  const int layout = someBlocked && allBlockable ? block : 0;
  dl::LayoutDecision d;
  d.operands.assign(given.begin(), given.end());
  for (unsigned i = 0; i < op->getNumOperands(); ++i) {
    if (isData(i))
      require(d, given, i, layout, kind + " operands must share one layout");
    else
      require(d, given, i, 0,
              kind + " reads its " +
                  (i < f.numOperands ? roleWords(f.roles[i]) : std::string("other operands")) +
                  " in the plain layout");
  }
  for (OpResult r : op->getResults())
    d.results.push_back(r.getType() == dataType ? layout : 0);
  return d;
}

dl::LayoutDecision decideFused(dl::FusedOp fused, ArrayRef<int> given, int block) {
  Operation *op = fused;
  Block &body = fused.getBlock();
  auto plainBody = [&](const std::string &reason) {
    dl::LayoutDecision d = plainDecision(op, given, reason);
    for (Operation &inner : body.without_terminator())
      for (Value r : inner.getResults())
        d.body[r] = 0;
    return d;
  };
  if (dl::getLayoutClass(op) == LayoutClass::Plain) {
    for (Operation &inner : body.without_terminator())
      if (dl::getLayoutClass(&inner) == LayoutClass::Plain)
        return plainBody(dl::opKindOf(&inner) + " in the fused kernel reads the plain layout only");
    return plainBody("the fused kernel reads the plain layout only");
  }
  // Layouts flow through the body as through the function, but nothing can
  // be reordered inside: a block argument some layer needs in another
  // layout is reordered outside (once; the body is then tried again), and a
  // value computed inside that needs one makes the whole body plain.
  const unsigned n = op->getNumOperands();
  SmallVector<int> args(given.begin(), given.end());
  SmallVector<bool> changed(n, false);
  std::string argReason;
  for (unsigned attempt = 0; attempt <= n; ++attempt) {
    llvm::DenseMap<Value, int> layouts;
    for (BlockArgument a : body.getArguments())
      layouts[a] = args[a.getArgNumber()];
    SmallVector<unsigned> plainReads;
    std::string failure;
    bool restart = false;
    for (Operation &inner : body.without_terminator()) {
      SmallVector<int> in;
      for (Value v : inner.getOperands())
        in.push_back(layouts.lookup(v));
      dl::LayoutDecision d = dl::decideLayouts(&inner, in, block);
      for (unsigned i = 0; i < in.size() && !restart && failure.empty(); ++i) {
        if (d.operands[i] == in[i])
          continue;
        auto arg = dyn_cast<BlockArgument>(inner.getOperand(i));
        if (arg && !changed[arg.getArgNumber()]) {
          args[arg.getArgNumber()] = d.operands[i];
          changed[arg.getArgNumber()] = true;
          if (argReason.empty())
            argReason = d.reason;
          restart = true;
        } else {
          failure = d.reason;
        }
      }
      if (restart || !failure.empty())
        break;
      for (auto [r, b] : llvm::zip(inner.getResults(), d.results))
        layouts[r] = b;
      for (unsigned i : d.plainReads)
        if (auto arg = dyn_cast<BlockArgument>(inner.getOperand(i));
            arg && !llvm::is_contained(plainReads, arg.getArgNumber()))
          plainReads.push_back(arg.getArgNumber());
    }
    if (!failure.empty())
      return plainBody("the fused kernel would need a reorder between its layers (" + failure +
                       "); it runs in the plain layout");
    if (restart)
      continue;
    dl::LayoutDecision d;
    d.operands = args;
    for (Value v : body.getTerminator()->getOperands())
      d.results.push_back(layouts.lookup(v));
    for (BlockArgument a : body.getArguments())
      layouts.erase(a);
    d.body = std::move(layouts);
    d.plainReads = std::move(plainReads);
    if (args != SmallVector<int>(given.begin(), given.end()))
      d.reason = argReason;
    return d;
  }
  return plainBody("the fused kernel's layers disagree on the layouts of its operands; it runs "
                   "in the plain layout");
}

} // namespace

LayoutClass mlir::dl::getLayoutClass(Operation *op) {
  if (auto fused = dyn_cast<FusedOp>(op)) {
    LayoutClass c = LayoutClass::Any;
    bool any = false;
    for (Operation &inner : fused.getBlock().without_terminator()) {
      any = true;
      LayoutClass ic = getLayoutClass(&inner);
      if (ic == LayoutClass::Plain)
        return LayoutClass::Plain;
      if (ic == LayoutClass::ChannelBlocked)
        c = LayoutClass::ChannelBlocked;
    }
    return any ? c : LayoutClass::Plain;
  }
  if (isa<ReorderOp>(op))
    return LayoutClass::Plain;
  std::optional<ForwardView> f = forwardView(op);
  return f ? f->schema->layout : LayoutClass::Plain;
}

dl::LayoutDecision mlir::dl::decideLayouts(Operation *op, ArrayRef<int> operandLayouts,
                                           int block) {
  assert(operandLayouts.size() == op->getNumOperands() && "one layout per operand");
  const std::string plainOnly = opKindOf(op) + " reads the plain layout only";
  if (isa<ReorderOp>(op)) {
    LayoutDecision d;
    d.operands.assign(operandLayouts.begin(), operandLayouts.end());
    d.results = getResultLayouts(op);
    return d;
  }
  if (block == 0)
    return plainDecision(op, operandLayouts, plainOnly);
  if (auto fused = dyn_cast<FusedOp>(op))
    return decideFused(fused, operandLayouts, block);
  std::optional<ForwardView> f = forwardView(op);
  if (!f)
    return plainDecision(op, operandLayouts, plainOnly);
  switch (f->schema->layout) {
  case LayoutClass::ChannelBlocked:
    return decideChannelBlocked(op, *f, operandLayouts, block);
  case LayoutClass::Any:
    return decideAny(op, *f, operandLayouts, block);
  case LayoutClass::Plain:
    break;
  }
  return plainDecision(op, operandLayouts, plainOnly);
}

std::string mlir::dl::layerNameOf(Operation *op) {
  if (auto n = dyn_cast<NameLoc>(op->getLoc()))
    return n.getName().str();
  StringRef name = op->getName().getStringRef();
  name.consume_front("dl.");
  return name.str();
}

std::string mlir::dl::opKindOf(Operation *op) {
  if (isa<FusedOp>(op))
    return "fused kernel";
  StringRef name = op->getName().getStringRef();
  name.consume_front("dl.");
  if (auto fwd = op->getAttrOfType<StringAttr>("forward"); fwd && isa<BackwardDataOp>(op))
    return fwd.str() + " backward data";
  if (auto fwd = op->getAttrOfType<StringAttr>("forward"); fwd && isa<BackwardWeightsOp>(op))
    return fwd.str() + " backward weights";
  return name.str();
}

std::string mlir::dl::blobNameOf(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    Operation *owner = arg.getOwner()->getParentOp();
    if (auto fused = dyn_cast_or_null<FusedOp>(owner))
      return blobNameOf(fused->getOperand(arg.getArgNumber()));
    if (auto func = dyn_cast_or_null<func::FuncOp>(owner))
      if (auto n = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "dl.name"))
        return n.str();
    return "arg" + std::to_string(arg.getArgNumber());
  }
  auto r = cast<OpResult>(v);
  Operation *def = r.getOwner();
  if (auto p = dyn_cast<ParamOp>(def))
    return p.getName().str();
  if (auto tops = def->getAttrOfType<ArrayAttr>("dl.tops"))
    if (r.getResultNumber() < tops.size())
      if (auto s = dyn_cast<StringAttr>(tops[r.getResultNumber()]))
        return s.str();
  if (auto fused = dyn_cast<FusedOp>(def))
    return blobNameOf(fused.getBlock().getTerminator()->getOperand(r.getResultNumber()));
  return layerNameOf(def) + ":" + std::to_string(r.getResultNumber());
}

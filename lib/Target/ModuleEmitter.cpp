//===- ModuleEmitter.cpp - dl dialect to a .dlcm module -------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/ModuleEmitter.h"

#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Ops/RecurrentCells.h"
#include "dlc/Runtime/Module.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace dlc::target {
namespace {

/// "file:line:col" of an op's location (looking through NameLoc etc.).
std::string locString(Location loc) {
  if (auto n = dyn_cast<NameLoc>(loc))
    return locString(n.getChildLoc());
  if (auto f = dyn_cast<FileLineColLoc>(loc))
    return (f.getFilename().str() + ":" + std::to_string(f.getLine()) + ":" +
            std::to_string(f.getColumn()));
  if (auto f = dyn_cast<FusedLoc>(loc))
    for (Location l : f.getLocations()) {
      std::string s = locString(l);
      if (!s.empty())
        return s;
    }
  return "";
}

/// The prototxt layer name of an op (its NameLoc), or "".
std::string layerName(Location loc) {
  if (auto n = dyn_cast<NameLoc>(loc))
    return n.getName().str();
  if (auto f = dyn_cast<FusedLoc>(loc))
    for (Location l : f.getLocations()) {
      std::string s = layerName(l);
      if (!s.empty())
        return s;
    }
  return "";
}

LogicalResult convertAttr(Operation *op, StringRef name, Attribute attr,
                          dlc::module::Attr &out) {
  out.set_name(name.str());
  if (auto b = dyn_cast<BoolAttr>(attr)) {
    out.set_i(b.getValue() ? 1 : 0);
  } else if (auto i = dyn_cast<IntegerAttr>(attr)) {
    out.set_i(i.getValue().getSExtValue());
  } else if (auto f = dyn_cast<FloatAttr>(attr)) {
    out.set_f(f.getValueAsDouble());
  } else if (auto s = dyn_cast<StringAttr>(attr)) {
    out.set_s(s.getValue().str());
  } else if (auto a = dyn_cast<DenseI64ArrayAttr>(attr)) {
    for (int64_t v : a.asArrayRef())
      out.mutable_ints()->add_v(v);
    out.mutable_ints(); // present even when empty
  } else if (auto a = dyn_cast<DenseF64ArrayAttr>(attr)) {
    for (double v : a.asArrayRef())
      out.mutable_floats()->add_v(v);
    out.mutable_floats();
  } else {
    return op->emitError() << "internal error: attribute '" << name
                           << "' has a type the module format cannot hold: " << attr;
  }
  return success();
}

/// What graph input `arg` is, from the roles of the operands it feeds
/// (DLDialect.td, "Operand roles"): the first label, index, binary or
/// sequence-continuation use decides (through filters, which pass items on);
/// otherwise it is data.
LogicalResult recordInputRole(Value arg, dlc::module::Tensor &t) {
  namespace ops = dlc::ops;
  for (OpOperand &use : arg.getUses()) {
    Operation *op = use.getOwner();
    // A filter passes items through: its input is what its result is used as.
    if (op->hasTrait<mlir::dl::OpTrait::DataDependentShape>() &&
        use.getOperandNumber() < op->getNumResults()) {
      if (failed(recordInputRole(op->getResult(use.getOperandNumber()), t)))
        return failure();
      if (t.role() != dlc::module::Tensor::DATA)
        return success();
      continue;
    }
    std::optional<ops::Role> role = mlir::dl::getOperandRole(op, use.getOperandNumber());
    if (!role)
      continue;
    switch (*role) {
    case ops::Role::Label:
    case ops::Role::Index: {
      ops::AttrMap attrs;
      if (failed(mlir::dl::toAttrMap(op->getAttrDictionary(), attrs)))
        return op->emitError("internal error: attributes the op library cannot read");
      std::vector<ops::Shape> shapes;
      for (Value v : op->getOperands()) {
        auto type = cast<RankedTensorType>(v.getType());
        shapes.emplace_back(type.getShape().begin(), type.getShape().end());
      }
      std::vector<int32_t> segments;
      if (auto seg = op->getAttrOfType<DenseI32ArrayAttr>("operandSegmentSizes"))
        segments.assign(seg.asArrayRef().begin(), seg.asArrayRef().end());
      int64_t range = 0;
      dlc::Status st = ops::valueRange(*mlir::dl::getOpSchema(op), attrs, shapes,
                                       use.getOperandNumber(), range,
                                       segments.empty() ? nullptr : &segments);
      if (st.failed())
        return op->emitError("internal error: ") << st.message();
      t.set_role(*role == ops::Role::Label ? dlc::module::Tensor::LABEL
                                           : dlc::module::Tensor::INDEX);
      t.set_value_range(range);
      return success();
    }
    case ops::Role::Binary:
      t.set_role(dlc::module::Tensor::BINARY);
      return success();
    case ops::Role::Cont:
      t.set_role(dlc::module::Tensor::CONT);
      return success();
    case ops::Role::SequenceMask:
      t.set_role(dlc::module::Tensor::MASK);
      return success();
    default:
      continue;
    }
  }
  return success();
}

class Emitter {
public:
  Emitter(const EmitOptions &options, rt::ModuleWriter &writer)
      : options(options), writer(writer), m(writer.header()) {}

  LogicalResult run(func::FuncOp func);

private:
  /// Adds a tensor for `v` and returns its index.
  FailureOr<int> addTensor(Value v, Location loc, std::string name,
                           dlc::module::Tensor::Kind kind, int64_t offset);
  LogicalResult emitParam(Operation *op);
  /// The kernel of `op` but for its outputs: op name, role, layer, source
  /// position, implementation, inputs, attributes.
  LogicalResult describeKernel(Operation *op, dlc::module::Kernel &k);
  /// The tensor name of result `r` of `op` (its top; "<top>@<layer>" for a
  /// version an in-place layer later overwrites).
  std::string resultName(Operation *op, OpResult r, const std::string &layer);
  LogicalResult emitKernel(Operation *op);
  LogicalResult emitFused(mlir::dl::FusedOp fused, dlc::module::Kernel &k);

  const EmitOptions &options;
  rt::ModuleWriter &writer;
  dlc::module::Module &m;
  llvm::DenseMap<Value, int> tensorOf;
  llvm::StringSet<> names;
  /// How many ops still write each top after the current one (for naming
  /// in-place versions).
  llvm::StringMap<int> remainingWrites;
  /// The largest run-time size (mlir::dl::dynamicSizeBound).
  int64_t sizeBound = 0;
};

FailureOr<int> Emitter::addTensor(Value v, Location loc, std::string name,
                                  dlc::module::Tensor::Kind kind, int64_t offset) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type)
    return emitError(loc) << "cannot compile a tensor of unknown shape (" << v.getType()
                          << "); run shape inference first";
  // `?` sizes are known at run time only (docs/dialect.md); they come from
  // data-dependent ops, so graph inputs and params cannot have them.
  const bool dynamic = !type.hasStaticShape();
  if (dynamic && (kind != dlc::module::Tensor::ACTIVATION || sizeBound <= 0))
    return emitError(loc) << "cannot compile a tensor of run-time size (" << type
                          << "); only results of data-dependent ops (filter) and values "
                             "computed from them may have `?` sizes";
  if (!type.getElementType().isF32())
    return emitError(loc) << "only f32 tensors are supported, got " << type;
  // Names are unique in a module; disambiguate (should not happen for nets
  // coming from the importer).
  std::string unique = name;
  for (int i = 1; names.contains(unique); ++i)
    unique = name + "#" + std::to_string(i);
  names.insert(unique);
  auto *t = m.add_tensors();
  t->set_name(unique);
  for (int64_t d : type.getShape())
    t->add_shape(ShapedType::isDynamic(d) ? -1 : d);
  if (dynamic)
    for (int64_t d : mlir::dl::maxShape(type, sizeBound))
      t->add_max_shape(d);
  t->set_kind(kind);
  t->set_offset(offset);
  // The storage layout its producer writes (dl-propagate-layouts,
  // docs/layouts.md): internal tensors of fused bodies and reorder results
  // included; graph inputs and params are plain.
  if (isa<OpResult>(v) && kind == dlc::module::Tensor::ACTIVATION)
    t->set_block(mlir::dl::getLayout(v));
  int index = m.tensors_size() - 1;
  tensorOf[v] = index;
  return index;
}

LogicalResult Emitter::emitParam(Operation *op) {
  auto name = op->getAttrOfType<StringAttr>("name");
  if (!name)
    return op->emitError("internal error: dl.param without a name");
  auto t = addTensor(op->getResult(0), op->getLoc(), name.str(), dlc::module::Tensor::PARAM, -1);
  if (failed(t))
    return failure();
  auto *p = m.add_params();
  p->set_tensor(*t);
  if (auto lr = op->getAttrOfType<FloatAttr>("lr_mult"))
    p->set_lr_mult(lr.getValueAsDouble());
  if (auto dm = op->getAttrOfType<FloatAttr>("decay_mult"))
    p->set_decay_mult(dm.getValueAsDouble());
  auto *f = p->mutable_filler();
  if (auto dict = op->getAttrOfType<DictionaryAttr>("filler")) {
    for (NamedAttribute na : dict) {
      StringRef key = na.getName().getValue();
      Attribute v = na.getValue();
      double num = 0;
      if (auto fa = dyn_cast<FloatAttr>(v))
        num = fa.getValueAsDouble();
      else if (auto ia = dyn_cast<IntegerAttr>(v))
        num = double(ia.getValue().getSExtValue());
      if (key == "type")
        f->set_type(cast<StringAttr>(v).str());
      else if (key == "value")
        f->set_value(num);
      else if (key == "min")
        f->set_min(num);
      else if (key == "max")
        f->set_max(num);
      else if (key == "mean")
        f->set_mean(num);
      else if (key == "std")
        f->set_std(num);
      else if (key == "sparse")
        f->set_sparse(int64_t(num));
      else if (key == "variance_norm")
        f->set_variance_norm(cast<StringAttr>(v).str());
      else
        return op->emitError() << "unknown filler field '" << key << "'";
    }
  }
  if (options.weights) {
    auto it = options.weights->find(name.str());
    if (it != options.weights->end()) {
      writer.setParamData(m.params_size() - 1, it->second);
      return success();
    }
  }
  if (auto value = op->getAttrOfType<DenseElementsAttr>("value")) {
    auto values = value.getValues<float>();
    writer.setParamData(m.params_size() - 1, std::vector<float>(values.begin(), values.end()));
  }
  return success();
}

LogicalResult Emitter::describeKernel(Operation *op, dlc::module::Kernel &k) {
  StringRef full = op->getName().getStringRef();
  if (!full.consume_front("dl."))
    return op->emitError() << "cannot compile op '" << op->getName()
                           << "': only dl dialect ops reach the runtime";
  // A backward op runs as the kernel "<forward op>_grad" (docs/autodiff.md).
  bool backward = full == "backward_data" || full == "backward_weights";
  if (backward) {
    auto fwd = op->getAttrOfType<StringAttr>("forward");
    if (!fwd)
      return op->emitError("internal error: backward op without 'forward'");
    k.set_op(fwd.str() + "_grad");
    k.set_role(full == "backward_data" ? dlc::module::Kernel::BACKWARD_DATA
                                       : dlc::module::Kernel::BACKWARD_WEIGHTS);
  } else {
    k.set_op(full.str());
    if (auto role = op->getAttrOfType<StringAttr>("dl.role"))
      k.set_role(role.getValue() == "backward_weights" ? dlc::module::Kernel::BACKWARD_WEIGHTS
                                                       : dlc::module::Kernel::BACKWARD_DATA);
  }
  k.set_layer(layerName(op->getLoc()));
  k.set_loc(locString(op->getLoc()));
  if (auto impl = op->getAttrOfType<StringAttr>("dl.impl"))
    k.set_impl(impl.str());
  for (Value v : op->getOperands()) {
    auto it = tensorOf.find(v);
    if (it == tensorOf.end())
      return op->emitError("internal error: operand defined outside the net");
    k.add_inputs(it->second);
  }
  for (NamedAttribute na : op->getAttrs()) {
    StringRef n = na.getName().getValue();
    // Generated cell functions (dl-codegen-recurrent, docs/codegen.md):
    // `dl.codegen_<name>` becomes the kernel attribute `gen_<name>`.
    if (n.consume_front(mlir::dl::kCodegenCellAttrPrefix)) {
      auto *a = k.add_attrs();
      a->set_name(std::string(dlc::ops::kCellAttrPrefix) + n.str());
      a->set_s(cast<StringAttr>(na.getValue()).str());
      continue;
    }
    if (n.starts_with("dl.") || n == "operandSegmentSizes")
      continue;
    if (backward && n == "forward")
      continue;
    // The runtime needs the forward operand count only when neither the
    // operand nor the result count of the forward op is fixed.
    if (backward && n == "num_forward_operands") {
      auto fwd = op->getAttrOfType<StringAttr>("forward");
      const dlc::ops::OpSchema *schema = dlc::ops::lookupOp(fwd.str());
      if (!schema || !dlc::ops::backwardNeedsOperandCount(*schema))
        continue;
    }
    if (failed(convertAttr(op, n, na.getValue(), *k.add_attrs())))
      return failure();
  }
  return success();
}

std::string Emitter::resultName(Operation *op, OpResult r, const std::string &layer) {
  auto tops = op->getAttrOfType<ArrayAttr>("dl.tops");
  std::string name;
  if (tops && r.getResultNumber() < tops.size())
    name = cast<StringAttr>(tops[r.getResultNumber()]).str();
  else
    name = layer + ":" + std::to_string(r.getResultNumber());
  // The last op writing a top gives the tensor the top's own name (what
  // Caffe calls that blob after the net ran); earlier in-place versions
  // are "<top>@<layer>".
  if (--remainingWrites[name] > 0)
    name += "@" + layer;
  return name;
}

LogicalResult Emitter::emitKernel(Operation *op) {
  auto *k = m.add_kernels();
  if (auto fused = dyn_cast<mlir::dl::FusedOp>(op))
    return emitFused(fused, *k);
  if (failed(describeKernel(op, *k)))
    return failure();
  auto offsets = op->getAttrOfType<DenseI64ArrayAttr>("dl.offsets");
  for (OpResult r : op->getResults()) {
    int64_t offset = offsets && r.getResultNumber() < offsets.size()
                         ? offsets[r.getResultNumber()]
                         : -1;
    auto t = addTensor(r, op->getLoc(), resultName(op, r, k->layer()),
                       dlc::module::Tensor::ACTIVATION, offset);
    if (failed(t))
      return failure();
    k->add_outputs(*t);
  }
  return success();
}

/// A dl.fused op: one kernel "fused" whose body lists the region's ops
/// (dlcm.proto), each described as it would be on its own (describeKernel):
/// a backward op of a gradient body (docs/fusion.md) is "<forward>_grad"
/// with its role and attributes. Values yielded are the op's results (arena
/// tensors); the others are internal tensors without a buffer.
LogicalResult Emitter::emitFused(mlir::dl::FusedOp fused, dlc::module::Kernel &k) {
  k.set_op("fused");
  k.set_layer(layerName(fused.getLoc()));
  k.set_loc(locString(fused.getLoc()));
  // Native code for the body (dl-codegen-pointwise, docs/codegen.md): the
  // kernel names its function.
  if (auto sym = fused->getAttrOfType<StringAttr>(mlir::dl::kCodegenSymbolAttr)) {
    auto *a = k.add_attrs();
    a->set_name("gen_symbol");
    a->set_s(sym.str());
  }
  if (auto role = fused->getAttrOfType<StringAttr>("dl.role"))
    k.set_role(role.getValue() == "backward_weights" ? dlc::module::Kernel::BACKWARD_WEIGHTS
                                                     : dlc::module::Kernel::BACKWARD_DATA);
  Block &block = fused.getBlock();
  for (auto [arg, operand] : llvm::zip(block.getArguments(), fused.getOperands())) {
    auto it = tensorOf.find(operand);
    if (it == tensorOf.end())
      return fused.emitError("internal error: operand defined outside the net");
    k.add_inputs(it->second);
    tensorOf[arg] = it->second;
  }
  llvm::DenseMap<Value, unsigned> yieldedAt;
  for (OpOperand &v : block.getTerminator()->getOpOperands())
    if (!yieldedAt.try_emplace(v.get(), v.getOperandNumber()).second ||
        isa<BlockArgument>(v.get()))
      return fused.emitError("internal error: a fused region must yield distinct values "
                             "computed inside it");
  auto offsets = fused->getAttrOfType<DenseI64ArrayAttr>("dl.offsets");
  for (Operation &inner : block.without_terminator()) {
    auto *step = k.add_body();
    if (failed(describeKernel(&inner, *step)))
      return failure();
    for (OpResult r : inner.getResults()) {
      auto y = yieldedAt.find(r);
      const bool internal = y == yieldedAt.end();
      int64_t offset = -1;
      if (!internal && offsets && y->second < offsets.size())
        offset = offsets[y->second];
      auto t = addTensor(r, inner.getLoc(), resultName(&inner, r, step->layer()),
                         dlc::module::Tensor::ACTIVATION, offset);
      if (failed(t))
        return failure();
      m.mutable_tensors(*t)->set_internal(internal);
      if (!internal)
        tensorOf[fused->getResult(y->second)] = *t;
      step->add_outputs(*t);
    }
  }
  for (OpResult r : fused->getResults())
    k.add_outputs(tensorOf.lookup(r));
  return success();
}

LogicalResult Emitter::run(func::FuncOp func) {
  m.set_name(func.getSymName().str());
  sizeBound = mlir::dl::dynamicSizeBound(func);
  m.set_seed(options.seed);
  m.set_producer(options.producer);
  if (!options.compileCommand.empty())
    m.set_compile_command(options.compileCommand);
  if (auto arena = func->getAttrOfType<IntegerAttr>("dl.arena_bytes"))
    m.set_arena_bytes(arena.getInt());
  Block &body = func.getBody().front();
  // The layers inside fused ops write their tops too (the fused op's own
  // dl.tops, if any, repeat them).
  body.walk([&](Operation *op) {
    if (isa<mlir::dl::FusedOp>(op))
      return;
    if (auto tops = op->getAttrOfType<ArrayAttr>("dl.tops"))
      for (Attribute t : tops)
        remainingWrites[cast<StringAttr>(t).getValue()]++;
  });
  for (BlockArgument arg : body.getArguments()) {
    auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "dl.name");
    auto off = func.getArgAttrOfType<IntegerAttr>(arg.getArgNumber(), "dl.offset");
    auto t = addTensor(arg, func.getLoc(),
                       name ? name.str() : "arg" + std::to_string(arg.getArgNumber()),
                       dlc::module::Tensor::INPUT, off ? off.getInt() : -1);
    if (failed(t) || failed(recordInputRole(arg, *m.mutable_tensors(*t))))
      return failure();
    m.add_inputs(*t);
  }
  for (Operation &op : body) {
    if (isa<func::ReturnOp>(op)) {
      for (Value v : op.getOperands())
        m.add_outputs(tensorOf.lookup(v));
      continue;
    }
    if (op.getName().getStringRef() == "dl.param") {
      if (failed(emitParam(&op)))
        return failure();
      continue;
    }
    if (failed(emitKernel(&op)))
      return failure();
  }
  return success();
}

} // namespace

/// The module's native code (dl-codegen-compile's `dl.native_code`,
/// docs/codegen.md), which the fused kernels' `gen_symbol`s name.
static LogicalResult emitNativeCode(ModuleOp module, dlc::module::Module &m) {
  auto nc = module->getAttrOfType<DictionaryAttr>("dl.native_code");
  bool referenced = false;
  module.walk([&](mlir::dl::FusedOp f) { referenced |= f->hasAttr("dl.codegen"); });
  if (!nc) {
    if (referenced)
      return module.emitError("internal error: fused ops name generated kernels but the "
                              "module has no native code (run dl-codegen-compile)");
    return success();
  }
  auto *out = m.mutable_native_code();
  for (auto [key, field] : {std::pair{"object", out->mutable_object()},
                             std::pair{"triple", out->mutable_triple()},
                             std::pair{"cpu", out->mutable_cpu()}}) {
    auto s = nc.getAs<StringAttr>(key);
    if (!s)
      return module.emitError() << "internal error: dl.native_code has no string '" << key << "'";
    field->assign(s.getValue().str());
  }
  for (const char *key : {"features", "symbols"}) {
    auto list = nc.getAs<ArrayAttr>(key);
    if (!list)
      return module.emitError() << "internal error: dl.native_code has no list '" << key << "'";
    for (Attribute a : list) {
      auto s = dyn_cast<StringAttr>(a);
      if (!s)
        return module.emitError() << "internal error: dl.native_code '" << key
                                  << "' holds a non-string";
      (StringRef(key) == "features" ? out->add_features() : out->add_symbols())
          ->assign(s.getValue().str());
    }
  }
  return success();
}

LogicalResult emitModule(ModuleOp module, const EmitOptions &options, rt::ModuleWriter &writer) {
  auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
  if (funcs.size() != 1)
    return module.emitError() << "expected exactly one network function, found " << funcs.size();
  if (failed(Emitter(options, writer).run(funcs.front())))
    return failure();
  return emitNativeCode(module, writer.header());
}

} // namespace dlc::target

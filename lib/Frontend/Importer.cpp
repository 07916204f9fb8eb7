//===- Importer.cpp - Caffe net to dl dialect -----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Walks the layers of a loaded (upgraded, phase-filtered, validated) Caffe net
// in order and hands each to the import function registered for its type
// (Layers/LayerImporter.h), which builds one `dl` op with Caffe's parameters
// as attributes (docs/dialect.md) and its weights as `dl.param` ops carrying
// the layer's filler. This file does what is common to all layers: the
// function and its graph inputs, blob names (in-place layers overwrite),
// locations, tops, result types (inferred by the dialect, which reports
// Caffe-level shape errors at the layer), --loss auto and the net outputs.
//
//===----------------------------------------------------------------------===//

#include "dlc/Frontend/CaffeImporter.h"

#include "Layers/LayerImporter.h"

#include "dlc/Dialect/DL/IR/DLDialect.h"
#include "dlc/Dialect/DL/IR/DLOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"

#include <set>

using namespace mlir;
using dlc::caffe_fe::LoadedNet;
using dlc::caffe_fe::Phase;

namespace dlc::frontend {
namespace {

class Importer {
public:
  Importer(MLIRContext &ctx, const LoadedNet &net, const ImportOptions &options)
      : ctx(ctx), net(net), options(options), b(&ctx), state(options, net.phase) {}

  OwningOpRef<ModuleOp> run();

private:
  Location layerLoc(size_t index) const;
  bool checkSupportedTypes();
  LogicalResult importLayer(size_t index);
  /// Tops, attributes and result types of the op a layer built.
  LogicalResult finishOp(LayerContext &layer, Operation *op);
  LogicalResult attachLoss(Location fileLoc);

  MLIRContext &ctx;
  const LoadedNet &net;
  const ImportOptions &options;
  OpBuilder b;
  func::FuncOp func;
  NetState state;
};

Location Importer::layerLoc(size_t index) const {
  const auto &sl = net.layerLocs.at(index);
  Location fileLoc = FileLineColLoc::get(&ctx, sl.file.empty() ? net.file : sl.file,
                                         std::max(sl.line, 0), std::max(sl.column, 0));
  return NameLoc::get(StringAttr::get(&ctx, net.net.layer(index).name()), fileLoc);
}

bool Importer::checkSupportedTypes() {
  std::vector<size_t> bad;
  for (int i = 0; i < net.net.layer_size(); ++i)
    if (!lookupLayer(net.net.layer(i).type()))
      bad.push_back(i);
  if (bad.empty())
    return true;
  std::set<std::string> types;
  for (size_t i : bad)
    types.insert(net.net.layer(i).type());
  std::string list;
  for (const auto &t : types)
    list += (list.empty() ? "'" : ", '") + t + "'";
  InFlightDiagnostic diag = emitError(layerLoc(bad.front()))
                            << bad.size() << " layer" << (bad.size() == 1 ? " has an" : "s have")
                            << " unsupported type" << (bad.size() == 1 ? "" : "s") << " (" << list
                            << ")";
  for (size_t i : bad) {
    const auto &l = net.net.layer(i);
    diag.attachNote(layerLoc(i)) << "layer '" << l.name() << "' of type '" << l.type() << "'";
  }
  return false;
}

LogicalResult Importer::importLayer(size_t index) {
  const caffe::LayerParameter &layer = net.net.layer(index);
  LayerContext context(state, layer, layerLoc(index), b);
  const LayerRegistration &reg = *lookupLayer(layer.type());
  if (reg.minBottoms != kOwnBottoms &&
      failed(context.expectBottoms(reg.minBottoms, reg.maxBottoms)))
    return failure();
  FailureOr<Operation *> op = reg.import(context);
  if (failed(op))
    return failure();
  return *op ? finishOp(context, *op) : success();
}

LogicalResult Importer::finishOp(LayerContext &context, Operation *op) {
  const caffe::LayerParameter &layer = context.layer;
  Location loc = context.loc;
  unsigned numResults = op->getNumResults();
  if (numResults != unsigned(layer.top_size()))
    return emitError(loc) << layer.type() << " layer produces " << numResults << " top"
                          << (numResults == 1 ? "" : "s") << ", but " << layer.top_size()
                          << (layer.top_size() == 1 ? " is" : " are") << " given";
  SmallVector<Attribute> tops;
  for (const auto &t : layer.top())
    tops.push_back(b.getStringAttr(t));
  if (!tops.empty())
    op->setAttr("dl.tops", b.getArrayAttr(tops));
  if (layer.propagate_down_size()) {
    SmallVector<int64_t> pd;
    for (bool p : layer.propagate_down())
      pd.push_back(p ? 1 : 0);
    op->setAttr("dl.propagate_down", b.getDenseI64ArrayAttr(pd));
  }
  if (failed(mlir::dl::inferAndSetResultTypes(op)))
    return failure();
  for (OpResult r : op->getResults()) {
    auto t = dyn_cast<RankedTensorType>(r.getType());
    if (!t)
      return emitError(loc) << "internal error: could not infer the shape of a result";
    if (failed(checkTensorSize(loc, t.getShape(),
                               "output '" + layer.top(r.getResultNumber()) + "'")))
      return failure();
  }
  context.defineTops(op->getResults());
  return success();
}

LogicalResult Importer::attachLoss(Location fileLoc) {
  bool hasLoss = false;
  func.walk([&](Operation *op) { hasLoss |= op->hasTrait<mlir::dl::OpTrait::IsLoss>(); });
  if (hasLoss)
    return success();
  if (state.available.empty())
    return emitError(fileLoc) << "--loss auto: the net has no output to attach a loss to";
  std::string outName = state.available.back();
  Value out = state.blobs[outName];
  auto outType = dyn_cast<RankedTensorType>(out.getType());
  if (!outType || outType.getRank() < 2)
    return emitError(fileLoc) << "--loss auto: the net's output '" << outName
                              << "' is not N x C x ... (rank >= 2)";
  Value logits = out;
  int64_t axis = 1;
  Operation *def = out.getDefiningOp();
  Location loc = def ? def->getLoc() : fileLoc;
  if (auto softmax = dyn_cast_or_null<mlir::dl::SoftmaxOp>(def); softmax && out.use_empty()) {
    logits = softmax.getX();
    axis = softmax.getAxisAttr().getInt();
    softmax.erase();
  }
  auto lt = cast<RankedTensorType>(logits.getType());
  SmallVector<int64_t> labelShape;
  for (int64_t i = 0; i < lt.getRank(); ++i)
    if (i != axis)
      labelShape.push_back(lt.getDimSize(i));
  std::string labelName = state.blobs.count("label") ? "label_auto" : "label";
  auto labelType = RankedTensorType::get(labelShape, b.getF32Type());
  unsigned argIndex = func.getNumArguments();
  func.insertArgument(argIndex, labelType,
                      b.getDictionaryAttr({b.getNamedAttr("dl.name", b.getStringAttr(labelName))}),
                      fileLoc);
  Value label = func.getArgument(argIndex);
  std::string lossName = state.blobs.count("loss") ? "loss_auto" : "loss";
  auto lossOp = b.create<mlir::dl::SoftmaxWithLossOp>(
      NameLoc::get(b.getStringAttr(lossName + " (--loss auto)"), loc),
      UnrankedTensorType::get(b.getF32Type()), logits, label, b.getI64IntegerAttr(axis),
      /*ignore_label=*/IntegerAttr(), b.getStringAttr("valid"), b.getF64FloatAttr(1.0));
  lossOp->setAttr("dl.tops", b.getStrArrayAttr({lossName}));
  if (failed(mlir::dl::inferAndSetResultTypes(lossOp)))
    return failure();
  state.available.pop_back();
  state.blobs[labelName] = label;
  state.blobs[lossName] = lossOp.getResult();
  state.available.push_back(lossName);
  return success();
}

OwningOpRef<ModuleOp> Importer::run() {
  ctx.loadDialect<mlir::dl::DLDialect, func::FuncDialect>();
  Location fileLoc = FileLineColLoc::get(&ctx, net.file, 1, 1);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  if (!checkSupportedTypes())
    return nullptr;

  SmallVector<Type> argTypes;
  for (const auto &in : net.inputs) {
    if (failed(checkTensorSize(fileLoc, in.shape, "input '" + in.name + "'")))
      return nullptr;
    argTypes.push_back(RankedTensorType::get(in.shape, b.getF32Type()));
  }
  std::string name = net.net.name().empty() ? "net" : net.net.name();
  b.setInsertionPointToEnd(module->getBody());
  func = b.create<func::FuncOp>(fileLoc, name, b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  for (auto [i, in] : llvm::enumerate(net.inputs)) {
    func.setArgAttr(i, "dl.name", b.getStringAttr(in.name));
    state.blobs[in.name] = entry->getArgument(i);
    state.available.push_back(in.name);
  }
  func->setAttr("dl.phase", b.getStringAttr(state.phase == Phase::Train ? "train" : "test"));

  for (int i = 0; i < net.net.layer_size(); ++i)
    if (failed(importLayer(i)))
      return nullptr;

  if (options.lossAuto && failed(attachLoss(fileLoc)))
    return nullptr;
  if (net.net.force_backward())
    func->setAttr("dl.force_backward", b.getBoolAttr(true));

  // Net outputs: blobs nobody consumed afterwards, as Caffe computes them.
  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &n : state.available) {
    results.push_back(state.blobs[n]);
    resultTypes.push_back(state.blobs[n].getType());
  }
  b.create<func::ReturnOp>(fileLoc, results);
  func.setType(b.getFunctionType(func.getArgumentTypes(), resultTypes));
  for (auto [i, n] : llvm::enumerate(state.available))
    func.setResultAttr(i, "dl.name", b.getStringAttr(n));
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace

const std::vector<std::string> &supportedLayerTypes() {
  static const std::vector<std::string> types = registeredLayerTypes();
  return types;
}

OwningOpRef<ModuleOp> importNet(MLIRContext &context, const LoadedNet &net,
                                const ImportOptions &options) {
  return Importer(context, net, options).run();
}

} // namespace dlc::frontend

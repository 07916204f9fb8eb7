//===- Neuron.cpp - Activations, Dropout, PReLU ---------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The neuron family (include/dlc/Dialect/DL/IR/Ops/Neuron.td).
//
//===----------------------------------------------------------------------===//

#include "LayerImporter.h"

using namespace mlir;

namespace dlc::frontend {
namespace {

/// Sigmoid, TanH, AbsVal, BNLL: no parameters.
template <typename OpT>
FailureOr<Operation *> importUnary(LayerContext &L) {
  return L.create<OpT>(L.bottom(0));
}

FailureOr<Operation *> importReLU(LayerContext &L) {
  return L.create<mlir::dl::ReLUOp>(L.bottom(0), L.f64(L.layer.relu_param().negative_slope()));
}

FailureOr<Operation *> importELU(LayerContext &L) {
  return L.create<mlir::dl::ELUOp>(L.bottom(0), L.f64(L.layer.elu_param().alpha()));
}

FailureOr<Operation *> importPower(LayerContext &L) {
  const auto &p = L.layer.power_param();
  return L.create<mlir::dl::PowerOp>(L.bottom(0), L.f64(p.power()), L.f64(p.scale()),
                                     L.f64(p.shift()));
}

FailureOr<Operation *> importDropout(LayerContext &L) {
  float ratio = L.layer.dropout_param().dropout_ratio();
  if (ratio < 0 || ratio >= 1)
    return L.emitError() << "dropout_ratio must be in [0, 1), got " << ratio;
  return L.create<mlir::dl::DropoutOp>(L.bottom(0), L.f64(ratio),
                                       L.boolean(L.phase() == caffe_fe::Phase::Train),
                                       /*seed=*/IntegerAttr());
}

FailureOr<Operation *> importPReLU(LayerContext &L) {
  const auto &p = L.layer.prelu_param();
  auto shape = L.shapeOf(L.bottom(0));
  if (shape.size() < 2)
    return L.emitError() << "PReLU needs an input of rank >= 2";
  caffe::FillerParameter f = p.has_filler() ? p.filler() : LayerContext::constantFiller(0.25f);
  auto slope = L.param(0, {p.channel_shared() ? 1 : shape[1]}, f);
  if (failed(slope))
    return failure();
  return L.create<mlir::dl::PReLUOp>(L.bottom(0), *slope, L.boolean(p.channel_shared()));
}

/// Exp and Log: base, scale, shift (ExpParameter / LogParameter).
template <typename OpT, typename P>
FailureOr<Operation *> importExpLog(LayerContext &L, const P &p) {
  return L.create<OpT>(L.bottom(0), L.f64(p.base()), L.f64(p.scale()), L.f64(p.shift()));
}
FailureOr<Operation *> importExp(LayerContext &L) {
  return importExpLog<mlir::dl::ExpOp>(L, L.layer.exp_param());
}
FailureOr<Operation *> importLog(LayerContext &L) {
  return importExpLog<mlir::dl::LogOp>(L, L.layer.log_param());
}

FailureOr<Operation *> importThreshold(LayerContext &L) {
  return L.create<mlir::dl::ThresholdOp>(L.bottom(0),
                                         L.f64(L.layer.threshold_param().threshold()));
}

FailureOr<Operation *> importClip(LayerContext &L) {
  const auto &p = L.layer.clip_param();
  // Both are required fields of ClipParameter.
  if (!L.layer.has_clip_param() || !p.has_min() || !p.has_max())
    return L.emitError() << "Clip needs clip_param with min and max";
  return L.create<mlir::dl::ClipOp>(L.bottom(0), L.f64(p.min()), L.f64(p.max()));
}

FailureOr<Operation *> importSwish(LayerContext &L) {
  return L.create<mlir::dl::SwishOp>(L.bottom(0), L.f64(L.layer.swish_param().beta()));
}

} // namespace

DLC_REGISTER_LAYERS({"Exp", importExp}, {"Log", importLog}, {"Threshold", importThreshold},
                    {"Clip", importClip}, {"Swish", importSwish});
DLC_REGISTER_LAYERS({"ReLU", importReLU}, {"Sigmoid", importUnary<mlir::dl::SigmoidOp>},
                    {"TanH", importUnary<mlir::dl::TanHOp>},
                    {"AbsVal", importUnary<mlir::dl::AbsValOp>},
                    {"BNLL", importUnary<mlir::dl::BNLLOp>}, {"ELU", importELU},
                    {"Power", importPower}, {"Dropout", importDropout}, {"PReLU", importPReLU});

} // namespace dlc::frontend

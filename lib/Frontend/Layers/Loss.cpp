//===- Loss.cpp - Loss layers, Accuracy -----------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The loss family (include/dlc/Dialect/DL/IR/Ops/Loss.td).
//
//===----------------------------------------------------------------------===//

#include "LayerImporter.h"

using namespace mlir;

namespace dlc::frontend {
namespace {

/// The LossParameter attributes: loss_weight (top 0's, default 1) and, for
/// layers that normalize (`defaultNormalization` non-null), normalization
/// (the legacy `normalize` honored) and ignore_label when given.
struct LossAttrs {
  FloatAttr lossWeight;
  StringAttr normalization;
  IntegerAttr ignoreLabel;
};

LossAttrs lossAttrs(LayerContext &L, const char *defaultNormalization) {
  LossAttrs a;
  a.lossWeight = L.f64(L.layer.loss_weight_size() ? floatToDouble(L.layer.loss_weight(0)) : 1.0);
  if (!defaultNormalization)
    return a;
  const auto &lp = L.layer.loss_param();
  std::string norm = defaultNormalization;
  if (lp.has_normalization()) {
    switch (lp.normalization()) {
    case caffe::LossParameter::FULL: norm = "full"; break;
    case caffe::LossParameter::VALID: norm = "valid"; break;
    case caffe::LossParameter::BATCH_SIZE: norm = "batch_size"; break;
    case caffe::LossParameter::NONE: norm = "none"; break;
    }
  } else if (lp.has_normalize()) {
    norm = lp.normalize() ? "valid" : "batch_size";
  }
  a.normalization = L.str(norm);
  if (lp.has_ignore_label())
    a.ignoreLabel = L.i64(lp.ignore_label());
  return a;
}

FailureOr<Operation *> importSoftmaxWithLoss(LayerContext &L) {
  if (failed(L.expectBottoms(2, 2)))
    return failure();
  int64_t rank = L.rankOf(L.bottom(0));
  auto axis = L.canonicalAxis(L.layer.softmax_param().axis(), rank);
  if (!axis)
    return L.emitError() << "softmax axis out of range for a rank-" << rank << " input";
  LossAttrs a = lossAttrs(L, "valid");
  return L.create<mlir::dl::SoftmaxWithLossOp>(L.bottom(0), L.bottom(1), L.i64(*axis),
                                               a.ignoreLabel, a.normalization, a.lossWeight);
}

FailureOr<Operation *> importEuclideanLoss(LayerContext &L) {
  if (failed(L.expectBottoms(2, 2)))
    return failure();
  return L.create<mlir::dl::EuclideanLossOp>(L.bottom(0), L.bottom(1),
                                             lossAttrs(L, nullptr).lossWeight);
}

FailureOr<Operation *> importSigmoidCrossEntropyLoss(LayerContext &L) {
  if (failed(L.expectBottoms(2, 2)))
    return failure();
  LossAttrs a = lossAttrs(L, "batch_size");
  return L.create<mlir::dl::SigmoidCrossEntropyLossOp>(L.bottom(0), L.bottom(1), a.lossWeight,
                                                       a.normalization, a.ignoreLabel);
}

FailureOr<Operation *> importContrastiveLoss(LayerContext &L) {
  if (failed(L.expectBottoms(3, 3)))
    return failure();
  const auto &p = L.layer.contrastive_loss_param();
  return L.create<mlir::dl::ContrastiveLossOp>(L.bottom(0), L.bottom(1), L.bottom(2),
                                               L.f64(p.margin()), L.boolean(p.legacy_version()),
                                               lossAttrs(L, nullptr).lossWeight);
}

FailureOr<Operation *> importAccuracy(LayerContext &L) {
  if (failed(L.expectBottoms(2, 2)))
    return failure();
  if (L.layer.top_size() > 1)
    return L.emitError() << "Accuracy with a per-class (second) top is not supported";
  const auto &p = L.layer.accuracy_param();
  int64_t rank = L.rankOf(L.bottom(0));
  int64_t axis = p.axis() < 0 ? p.axis() + rank : p.axis();
  return L.create<mlir::dl::AccuracyOp>(L.bottom(0), L.bottom(1), L.i64(p.top_k()), L.i64(axis),
                                        p.has_ignore_label() ? L.i64(p.ignore_label())
                                                             : IntegerAttr());
}

} // namespace

DLC_REGISTER_LAYERS({"SoftmaxWithLoss", importSoftmaxWithLoss},
                    {"EuclideanLoss", importEuclideanLoss},
                    {"SigmoidCrossEntropyLoss", importSigmoidCrossEntropyLoss},
                    {"ContrastiveLoss", importContrastiveLoss}, {"Accuracy", importAccuracy});

} // namespace dlc::frontend

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

#include "llvm/Support/Path.h"

#include <fstream>

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
  int64_t rank = L.rankOf(L.bottom(0));
  auto axis = L.canonicalAxis(L.layer.softmax_param().axis(), rank);
  if (!axis)
    return L.emitError() << "softmax axis out of range for a rank-" << rank << " input";
  LossAttrs a = lossAttrs(L, "valid");
  return L.create<mlir::dl::SoftmaxWithLossOp>(L.bottom(0), L.bottom(1), L.i64(*axis),
                                               a.ignoreLabel, a.normalization, a.lossWeight);
}

FailureOr<Operation *> importEuclideanLoss(LayerContext &L) {
  return L.create<mlir::dl::EuclideanLossOp>(L.bottom(0), L.bottom(1),
                                             lossAttrs(L, nullptr).lossWeight);
}

FailureOr<Operation *> importSigmoidCrossEntropyLoss(LayerContext &L) {
  LossAttrs a = lossAttrs(L, "batch_size");
  return L.create<mlir::dl::SigmoidCrossEntropyLossOp>(L.bottom(0), L.bottom(1), a.lossWeight,
                                                       a.normalization, a.ignoreLabel);
}

FailureOr<Operation *> importContrastiveLoss(LayerContext &L) {
  const auto &p = L.layer.contrastive_loss_param();
  return L.create<mlir::dl::ContrastiveLossOp>(L.bottom(0), L.bottom(1), L.bottom(2),
                                               L.f64(p.margin()), L.boolean(p.legacy_version()),
                                               lossAttrs(L, nullptr).lossWeight);
}

FailureOr<Operation *> importHingeLoss(LayerContext &L) {
  bool l2 = L.layer.hinge_loss_param().norm() == caffe::HingeLossParameter::L2;
  return L.create<mlir::dl::HingeLossOp>(L.bottom(0), L.bottom(1), L.str(l2 ? "l2" : "l1"),
                                         lossAttrs(L, nullptr).lossWeight);
}

FailureOr<Operation *> importMultinomialLogisticLoss(LayerContext &L) {
  return L.create<mlir::dl::MultinomialLogisticLossOp>(L.bottom(0), L.bottom(1),
                                                       lossAttrs(L, nullptr).lossWeight);
}

/// The infogain matrix of `infogain_loss_param.source`: a binary BlobProto.
/// Caffe opens the path as given (relative to the working directory); a
/// relative path is also looked for next to the net file.
FailureOr<Value> infogainFromSource(LayerContext &L, const std::string &source) {
  std::vector<std::string> tried = {source};
  std::string dir = llvm::sys::path::parent_path(L.netFile()).str();
  if (!llvm::sys::path::is_absolute(source) && !dir.empty())
    tried.push_back((llvm::Twine(dir) + llvm::sys::path::get_separator() + source).str());
  for (const std::string &path : tried) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      continue;
    caffe::BlobProto blob;
    if (!blob.ParseFromIstream(&in))
      return L.emitError() << "infogain_loss_param source '" << path
                           << "' is not a binary BlobProto";
    SmallVector<int64_t> shape;
    if (blob.has_shape())
      shape.assign(blob.shape().dim().begin(), blob.shape().dim().end());
    else // Caffe's legacy 4-D blob
      shape = {blob.num(), blob.channels(), blob.height(), blob.width()};
    // The size check first: it refuses absurd shapes before anything
    // multiplies them.
    if (llvm::any_of(shape, [](int64_t d) { return d < 0; }))
      return L.emitError() << "infogain_loss_param source '" << path
                           << "' has a negative dimension";
    if (failed(checkTensorSize(L.loc, shape, "infogain matrix")))
      return failure();
    int64_t expected = 1;
    for (int64_t d : shape)
      expected *= d;
    int64_t count = blob.data_size() ? blob.data_size() : blob.double_data_size();
    if (count != expected)
      return L.emitError() << "infogain_loss_param source '" << path << "' holds " << count
                           << " values for its shape";
    std::vector<float> data(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i)
      data[size_t(i)] = blob.data_size() ? blob.data(int(i)) : float(blob.double_data(int(i)));
    return L.constant("infogain", shape, data);
  }
  InFlightDiagnostic d = L.emitError() << "cannot open infogain_loss_param source '" << source
                                       << "'";
  if (tried.size() > 1)
    d << " (nor '" << tried[1] << "')";
  return failure();
}

/// InfogainLoss: the matrix H is a third bottom or read from `source`.
FailureOr<Operation *> importInfogainLoss(LayerContext &L) {
  const auto &p = L.layer.infogain_loss_param();
  Value h;
  if (L.bottoms().size() == 3) {
    h = L.bottom(2);
  } else {
    if (!p.has_source())
      return L.emitError() << "InfogainLoss needs the infogain matrix as a third bottom or "
                              "infogain_loss_param { source }";
    auto v = infogainFromSource(L, p.source());
    if (failed(v))
      return failure();
    h = *v;
  }
  LossAttrs a = lossAttrs(L, "valid");
  return L.create<mlir::dl::InfogainLossOp>(L.bottom(0), L.bottom(1), h, L.i64(p.axis()),
                                            a.ignoreLabel, a.normalization, a.lossWeight);
}

FailureOr<Operation *> importAccuracy(LayerContext &L) {
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

DLC_REGISTER_LAYERS({"SoftmaxWithLoss", importSoftmaxWithLoss, 2, 2},
                    {"EuclideanLoss", importEuclideanLoss, 2, 2},
                    {"SigmoidCrossEntropyLoss", importSigmoidCrossEntropyLoss, 2, 2},
                    {"ContrastiveLoss", importContrastiveLoss, 3, 3}, {"Accuracy", importAccuracy, 2, 2});
DLC_REGISTER_LAYERS({"HingeLoss", importHingeLoss, 2, 2}, {"InfogainLoss", importInfogainLoss, 2, 3},
                    {"MultinomialLogisticLoss", importMultinomialLogisticLoss, 2, 2});

} // namespace dlc::frontend

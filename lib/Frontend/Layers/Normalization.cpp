//===- Normalization.cpp - Softmax, BatchNorm, Scale, Bias ----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The normalization family (include/dlc/Dialect/DL/IR/Ops/Normalization.td).
//
//===----------------------------------------------------------------------===//

#include "LayerImporter.h"

#include "llvm/ADT/STLExtras.h"

#include <array>

using namespace mlir;

namespace dlc::frontend {
namespace {

FailureOr<Operation *> importSoftmax(LayerContext &L) {
  int64_t rank = L.rankOf(L.bottom(0));
  auto axis = L.canonicalAxis(L.layer.softmax_param().axis(), rank);
  if (!axis)
    return L.emitError() << "softmax axis " << L.layer.softmax_param().axis()
                         << " out of range for a rank-" << rank << " input";
  return L.create<mlir::dl::SoftmaxOp>(L.bottom(0), L.i64(*axis));
}

FailureOr<Operation *> importBatchNorm(LayerContext &L) {
  const auto &p = L.layer.batch_norm_param();
  auto shape = L.shapeOf(L.bottom(0));
  if (shape.size() < 2)
    return L.emitError() << "BatchNorm needs an input of rank >= 2";
  bool global =
      p.has_use_global_stats() ? p.use_global_stats() : L.phase() == caffe_fe::Phase::Test;
  // Caffe initializes all three blobs to 0. dlc starts the variance and the
  // scale factor at 1 so that an untrained net stays finite (documented in
  // docs/dialect.md); weights from a .caffemodel replace them.
  int64_t c = shape[1];
  std::array<Value, 3> stats; // mean, variance, scale factor
  for (auto [i, init] : llvm::enumerate(std::array<float, 3>{0.f, 1.f, 1.f})) {
    auto v = L.param(i, {i == 2 ? 1 : c}, LayerContext::constantFiller(init),
                     LayerContext::ParamKind::Statistic);
    if (failed(v))
      return failure();
    stats[i] = *v;
  }
  return L.create<mlir::dl::BatchNormOp>(L.bottom(0), stats[0], stats[1], stats[2],
                                         L.boolean(global), L.f64(p.moving_average_fraction()),
                                         L.f64(p.eps()));
}

/// Scale and Bias broadcast their second operand over x.shape[axis : ...]:
/// the second bottom, or else a learned blob of shape
/// x.shape[axis : axis + num_axes] (num_axes -1: to the end).
template <typename P>
LogicalResult broadcastOperand(LayerContext &L, const P &p, float defaultFill, int64_t &axis,
                               Value &operand) {
  auto shape = L.shapeOf(L.bottom(0));
  int64_t rank = shape.size();
  int64_t numAxes = p.num_axes();
  axis = p.axis() < 0 ? p.axis() + rank : p.axis();
  if (axis < 0 || axis > rank)
    return L.emitError() << L.layer.type() << " axis " << p.axis() << " out of range for a rank-"
                         << rank << " input";
  if (L.bottoms().size() == 2) {
    operand = L.bottom(1);
    return success();
  }
  if (numAxes < -1 || (numAxes >= 0 && axis + numAxes > rank))
    return L.emitError() << L.layer.type() << " num_axes " << numAxes << " out of range (axis "
                         << axis << ", input rank " << rank << ")";
  SmallVector<int64_t> pshape(shape.begin() + axis,
                              numAxes == -1 ? shape.end() : shape.begin() + axis + numAxes);
  if (pshape.empty())
    pshape.push_back(1);
  auto v = L.param(0, pshape,
                   p.has_filler() ? p.filler() : LayerContext::constantFiller(defaultFill));
  if (failed(v))
    return failure();
  operand = *v;
  return success();
}

FailureOr<Operation *> importScale(LayerContext &L) {
  const auto &p = L.layer.scale_param();
  int64_t axis;
  Value scale, bias;
  if (failed(broadcastOperand(L, p, 1, axis, scale)))
    return failure();
  if (p.bias_term()) {
    auto bf = p.has_bias_filler() ? p.bias_filler() : LayerContext::constantFiller(0);
    auto v = L.param(L.bottoms().size() == 1 ? 1 : 0, L.shapeOf(scale), bf);
    if (failed(v))
      return failure();
    bias = *v;
  }
  return L.create<mlir::dl::ScaleOp>(L.bottom(0), scale, bias, L.i64(axis), L.i64(p.num_axes()));
}

FailureOr<Operation *> importBias(LayerContext &L) {
  const auto &p = L.layer.bias_param();
  int64_t axis;
  Value bias;
  if (failed(broadcastOperand(L, p, 0, axis, bias)))
    return failure();
  return L.create<mlir::dl::BiasOp>(L.bottom(0), bias, L.i64(axis), L.i64(p.num_axes()));
}

FailureOr<Operation *> importMVN(LayerContext &L) {
  const auto &p = L.layer.mvn_param();
  return L.create<mlir::dl::MVNOp>(L.bottom(0), L.boolean(p.normalize_variance()),
                                   L.boolean(p.across_channels()), L.f64(p.eps()));
}

} // namespace

DLC_REGISTER_LAYERS({"MVN", importMVN});
DLC_REGISTER_LAYERS({"Softmax", importSoftmax}, {"BatchNorm", importBatchNorm},
                    {"Scale", importScale, 1, 2}, {"Bias", importBias, 1, 2});

} // namespace dlc::frontend

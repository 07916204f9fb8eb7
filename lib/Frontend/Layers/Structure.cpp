//===- Structure.cpp - Concat, Slice, Crop, Flatten, Reshape, Silence -----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The structure family (include/dlc/Dialect/DL/IR/Ops/Structure.td).
//
//===----------------------------------------------------------------------===//

#include "LayerImporter.h"

using namespace mlir;

namespace dlc::frontend {
namespace {

FailureOr<Operation *> importConcat(LayerContext &L) {
  const auto &p = L.layer.concat_param();
  int64_t rank = L.rankOf(L.bottom(0));
  auto axis = L.canonicalAxis(p.has_concat_dim() ? int64_t(p.concat_dim()) : int64_t(p.axis()),
                              rank);
  if (!axis)
    return L.emitError() << "concat axis out of range for a rank-" << rank << " input";
  return L.create<mlir::dl::ConcatOp>(L.bottoms(), L.i64(*axis));
}

FailureOr<Operation *> importSlice(LayerContext &L) {
  const auto &p = L.layer.slice_param();
  int64_t rank = L.rankOf(L.bottom(0));
  auto axis =
      L.canonicalAxis(p.has_slice_dim() ? int64_t(p.slice_dim()) : int64_t(p.axis()), rank);
  if (!axis)
    return L.emitError() << "slice axis out of range for a rank-" << rank << " input";
  int tops = L.layer.top_size();
  if (p.slice_point_size() && p.slice_point_size() != tops - 1)
    return L.emitError() << "Slice has " << p.slice_point_size() << " slice_point values for "
                         << tops << " tops (expected " << tops - 1 << ")";
  SmallVector<int64_t> points(p.slice_point().begin(), p.slice_point().end());
  return L.createWithResults<mlir::dl::SliceOp>(tops, L.bottom(0), L.i64(*axis),
                                                L.i64s(points));
}

FailureOr<Operation *> importCrop(LayerContext &L) {
  const auto &p = L.layer.crop_param();
  int64_t rank = L.rankOf(L.bottom(0));
  int64_t axis = p.axis() < 0 ? p.axis() + rank : p.axis();
  SmallVector<int64_t> offset(p.offset().begin(), p.offset().end());
  return L.create<mlir::dl::CropOp>(L.bottom(0), L.bottom(1), L.i64(axis), L.i64s(offset));
}

FailureOr<Operation *> importFlatten(LayerContext &L) {
  const auto &p = L.layer.flatten_param();
  return L.create<mlir::dl::FlattenOp>(L.bottom(0), L.i64(p.axis()), L.i64(p.end_axis()));
}

FailureOr<Operation *> importReshape(LayerContext &L) {
  const auto &p = L.layer.reshape_param();
  SmallVector<int64_t> dims(p.shape().dim().begin(), p.shape().dim().end());
  return L.create<mlir::dl::ReshapeOp>(L.bottom(0), L.i64s(dims), L.i64(p.axis()),
                                       L.i64(p.num_axes()));
}

FailureOr<Operation *> importSilence(LayerContext &L) {
  if (failed(L.resolveBottoms()))
    return failure();
  if (L.layer.top_size() != 0)
    return L.emitError() << "Silence layer has no tops";
  return L.createWithResults<mlir::dl::SilenceOp>(0, L.bottoms());
}

FailureOr<Operation *> importTile(LayerContext &L) {
  const auto &p = L.layer.tile_param();
  if (!p.has_tiles())
    return L.emitError() << "Tile needs tile_param { tiles }";
  return L.create<mlir::dl::TileOp>(L.bottom(0), L.i64(p.axis()), L.i64(p.tiles()));
}

FailureOr<Operation *> importBatchReindex(LayerContext &L) {
  return L.create<mlir::dl::BatchReindexOp>(L.bottom(0), L.bottom(1));
}

/// Filter: bottoms to filter, then the selector; one top per filtered bottom.
FailureOr<Operation *> importFilter(LayerContext &L) {
  size_t n = L.bottoms().size() - 1;
  if (size_t(L.layer.top_size()) != n)
    return L.emitError() << "Filter needs one top per bottom except the last (the selector): "
                         << n << " top(s), got " << L.layer.top_size();
  return L.createWithResults<mlir::dl::FilterOp>(unsigned(n), L.bottoms().drop_back(),
                                                 L.bottoms().back());
}

/// Parameter: its one blob (parameter_param.shape) is the top; no op.
FailureOr<Operation *> importParameter(LayerContext &L) {
  if (L.layer.top_size() != 1)
    return L.emitError() << "Parameter has exactly one top";
  const auto &dims = L.layer.parameter_param().shape().dim();
  SmallVector<int64_t> shape(dims.begin(), dims.end());
  // Caffe gives the blob no filler: zeros unless trained weights are loaded.
  auto v = L.param(0, shape, L.weightFiller(false, LayerContext::constantFiller(0.0f)));
  if (failed(v))
    return failure();
  L.defineTops(*v);
  return nullptr;
}

} // namespace

DLC_REGISTER_LAYERS({"Tile", importTile}, {"BatchReindex", importBatchReindex, 2, 2},
                    {"Filter", importFilter, 2, kAnyNumber}, {"Parameter", importParameter, 0, 0});
DLC_REGISTER_LAYERS({"Concat", importConcat, 1, kAnyNumber}, {"Slice", importSlice}, {"Crop", importCrop, 2, 2},
                    {"Flatten", importFlatten}, {"Reshape", importReshape},
                    {"Silence", importSilence, kOwnBottoms});

} // namespace dlc::frontend

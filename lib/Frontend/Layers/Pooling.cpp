//===- Pooling.cpp - Pooling, LRN -----------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The pooling family (include/dlc/Dialect/DL/IR/Ops/Pooling.td).
//
//===----------------------------------------------------------------------===//

#include "LayerImporter.h"

using namespace mlir;

namespace dlc::frontend {
namespace {

const char *poolMethod(caffe::PoolingParameter::PoolMethod m) {
  switch (m) {
  case caffe::PoolingParameter::MAX: return "max";
  case caffe::PoolingParameter::AVE: return "ave";
  case caffe::PoolingParameter::STOCHASTIC: return "stochastic";
  }
  return "max";
}

FailureOr<Operation *> importPooling(LayerContext &L) {
  if (L.layer.top_size() > 1)
    return L.emitError() << "Pooling with a second (mask) top is not supported";
  const auto &p = L.layer.pooling_param();
  int64_t rank = L.rankOf(L.bottom(0));
  if (rank != 4)
    return L.emitError() << "pooling needs a 4-D (NxCxHxW) input, got rank " << rank;
  SmallVector<int64_t> kernel, stride, pad;
  if (p.global_pooling()) {
    if (p.has_kernel_size() || p.has_kernel_h() || p.has_kernel_w())
      return L.emitError() << "with global_pooling: true, kernel size cannot be specified";
    kernel = {0, 0};
  } else if (p.has_kernel_size()) {
    if (p.has_kernel_h() || p.has_kernel_w())
      return L.emitError() << "either kernel_size or kernel_h/kernel_w may be given, not both";
    kernel = {p.kernel_size(), p.kernel_size()};
  } else if (p.has_kernel_h() && p.has_kernel_w()) {
    kernel = {p.kernel_h(), p.kernel_w()};
  } else {
    return L.emitError() << "pooling_param needs kernel_size, kernel_h and kernel_w, or "
                            "global_pooling";
  }
  if (p.has_stride_h() || p.has_stride_w())
    stride = {p.stride_h(), p.stride_w()};
  else
    stride = {p.stride(), p.stride()};
  if (p.has_pad_h() || p.has_pad_w())
    pad = {p.pad_h(), p.pad_w()};
  else
    pad = {p.pad(), p.pad()};
  return L.create<mlir::dl::PoolingOp>(
      L.bottom(0), L.str(poolMethod(p.pool())), L.i64s(kernel), L.i64s(stride), L.i64s(pad),
      L.boolean(p.global_pooling()),
      L.str(p.round_mode() == caffe::PoolingParameter::FLOOR ? "floor" : "ceil"));
}

FailureOr<Operation *> importLRN(LayerContext &L) {
  const auto &p = L.layer.lrn_param();
  return L.create<mlir::dl::LRNOp>(
      L.bottom(0), L.i64(p.local_size()), L.f64(p.alpha()), L.f64(p.beta()), L.f64(p.k()),
      L.str(p.norm_region() == caffe::LRNParameter::WITHIN_CHANNEL ? "within_channel"
                                                                   : "across_channels"));
}

/// SPP: spp_param's pyramid_height and pool (SPPParameter::PoolMethod has
/// the same values as PoolingParameter's).
FailureOr<Operation *> importSPP(LayerContext &L) {
  const auto &p = L.layer.spp_param();
  if (!p.has_pyramid_height())
    return L.emitError() << "SPP needs spp_param { pyramid_height }";
  return L.create<mlir::dl::SPPOp>(
      L.bottom(0), L.i64(p.pyramid_height()),
      L.str(poolMethod(caffe::PoolingParameter::PoolMethod(int(p.pool())))));
}

} // namespace

DLC_REGISTER_LAYERS({"Pooling", importPooling}, {"LRN", importLRN}, {"SPP", importSPP});

} // namespace dlc::frontend

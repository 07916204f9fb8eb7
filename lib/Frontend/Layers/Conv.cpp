//===- Conv.cpp - Convolution, Deconvolution, InnerProduct ----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The convolution family (include/dlc/Dialect/DL/IR/Ops/Conv.td).
//
//===----------------------------------------------------------------------===//

#include "LayerImporter.h"

#include <type_traits>

using namespace mlir;

namespace dlc::frontend {
namespace {

/// Spatial vectors of a ConvolutionParameter, expanded as Caffe does.
struct ConvGeometry {
  SmallVector<int64_t> kernel, stride, pad, dilation;
};

LogicalResult convGeometry(LayerContext &L, const caffe::ConvolutionParameter &p, int64_t rank,
                           ConvGeometry &g) {
  std::optional<int64_t> canonical = L.canonicalAxis(p.axis(), rank);
  if (!canonical)
    return L.emitError() << "convolution axis " << p.axis() << " out of range for a rank-"
                         << rank << " input";
  int64_t axis = *canonical, n = rank - axis - 1;
  if (n < 1)
    return L.emitError() << "convolution needs at least one spatial axis after axis " << axis;
  if (axis != 1)
    return L.emitError() << "convolution with axis " << p.axis()
                         << " is not supported (only the channel axis 1)";
  auto expand = [&](const google::protobuf::RepeatedField<uint32_t> &v, bool hasHW, uint32_t h,
                    uint32_t w, int64_t def, StringRef what,
                    SmallVectorImpl<int64_t> &out) -> LogicalResult {
    if (hasHW) {
      if (v.size() != 0)
        return L.emitError() << "either " << what << "_size/" << what << " or " << what
                             << "_h/" << what << "_w may be given, not both";
      if (n != 2)
        return L.emitError() << what << "_h/" << what << "_w can only be used for 2-D";
      out.assign({int64_t(h), int64_t(w)});
      return success();
    }
    if (v.size() == 0) {
      out.assign(n, def);
    } else if (v.size() == 1) {
      out.assign(n, v.Get(0));
    } else if (v.size() == n) {
      out.assign(v.begin(), v.end());
    } else {
      return L.emitError() << what << " has " << v.size() << " values; expected 1 or " << n;
    }
    return success();
  };
  if (failed(expand(p.kernel_size(), p.has_kernel_h() || p.has_kernel_w(), p.kernel_h(),
                    p.kernel_w(), -1, "kernel", g.kernel)))
    return failure();
  if (p.kernel_size_size() == 0 && !(p.has_kernel_h() || p.has_kernel_w()))
    return L.emitError() << "convolution_param needs kernel_size or kernel_h and kernel_w";
  if (failed(expand(p.stride(), p.has_stride_h() || p.has_stride_w(), p.stride_h(),
                    p.stride_w(), 1, "stride", g.stride)) ||
      failed(expand(p.pad(), p.has_pad_h() || p.has_pad_w(), p.pad_h(), p.pad_w(), 0, "pad",
                    g.pad)))
    return failure();
  if (p.dilation_size() == 0)
    g.dilation.assign(n, 1);
  else if (p.dilation_size() == 1)
    g.dilation.assign(n, p.dilation(0));
  else if (p.dilation_size() == n)
    g.dilation.assign(p.dilation().begin(), p.dilation().end());
  else
    return L.emitError() << "dilation has " << p.dilation_size() << " values; expected 1 or "
                         << n;
  return success();
}

/// Convolution and Deconvolution: the same parameters, the weight blob
/// [num_output, C/group, k...] or [C, num_output/group, k...].
template <typename OpT>
FailureOr<Operation *> importConvolutionLike(LayerContext &L) {
  const auto &p = L.layer.convolution_param();
  ConvGeometry g;
  if (failed(convGeometry(L, p, L.rankOf(L.bottom(0)), g)))
    return failure();
  if (p.num_output() == 0)
    return L.emitError() << "num_output must be positive";
  if (p.group() == 0)
    return L.emitError() << "group must be positive";
  int64_t c = L.shapeOf(L.bottom(0))[1];
  if (c % p.group() != 0)
    return L.emitError() << "group " << p.group() << " does not divide the " << c
                         << " input channels";
  if (p.num_output() % p.group() != 0)
    return L.emitError() << "group " << p.group() << " does not divide num_output "
                         << p.num_output();
  SmallVector<int64_t> wshape;
  if constexpr (std::is_same_v<OpT, mlir::dl::ConvolutionOp>)
    wshape = {int64_t(p.num_output()), c / int64_t(p.group())};
  else
    wshape = {c, int64_t(p.num_output()) / int64_t(p.group())};
  wshape.append(g.kernel.begin(), g.kernel.end());
  Value weight, bias;
  if (failed(L.weightAndBias(wshape, p, weight, bias)))
    return failure();
  return L.create<OpT>(L.bottom(0), weight, bias, L.i64(p.num_output()), L.i64s(g.kernel),
                       L.i64s(g.stride), L.i64s(g.pad), L.i64s(g.dilation), L.i64(p.group()));
}

FailureOr<Operation *> importInnerProduct(LayerContext &L) {
  const auto &p = L.layer.inner_product_param();
  auto shape = L.shapeOf(L.bottom(0));
  int64_t rank = shape.size();
  auto axis = L.canonicalAxis(p.axis(), rank);
  if (!axis)
    return L.emitError() << "inner_product axis " << p.axis() << " out of range for a rank-"
                         << rank << " input";
  if (p.num_output() == 0)
    return L.emitError() << "num_output must be positive";
  int64_t k = 1;
  for (int64_t i = *axis; i < rank; ++i)
    k *= shape[i];
  SmallVector<int64_t> wshape = {int64_t(p.num_output()), k};
  if (p.transpose())
    std::swap(wshape[0], wshape[1]);
  Value weight, bias;
  if (failed(L.weightAndBias(wshape, p, weight, bias)))
    return failure();
  return L.create<mlir::dl::InnerProductOp>(L.bottom(0), weight, bias, L.i64(p.num_output()),
                                            L.i64(*axis), L.boolean(p.transpose()));
}

/// Im2col: the convolution_param geometry, no weights.
FailureOr<Operation *> importIm2col(LayerContext &L) {
  ConvGeometry g;
  if (failed(convGeometry(L, L.layer.convolution_param(), L.rankOf(L.bottom(0)), g)))
    return failure();
  return L.create<mlir::dl::Im2colOp>(L.bottom(0), L.i64s(g.kernel), L.i64s(g.stride),
                                      L.i64s(g.pad), L.i64s(g.dilation));
}

} // namespace

DLC_REGISTER_LAYERS({"Im2col", importIm2col});
DLC_REGISTER_LAYERS({"Convolution", importConvolutionLike<mlir::dl::ConvolutionOp>},
                    {"Deconvolution", importConvolutionLike<mlir::dl::DeconvolutionOp>},
                    {"InnerProduct", importInnerProduct});

} // namespace dlc::frontend

//===- Recurrent.cpp - Embed, LSTM ----------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The recurrent family (include/dlc/Dialect/DL/IR/Ops/Recurrent.td).
//
//===----------------------------------------------------------------------===//

#include "LayerImporter.h"

using namespace mlir;

namespace dlc::frontend {
namespace {

FailureOr<Operation *> importEmbed(LayerContext &L) {
  if (failed(L.expectBottoms(1, 1)))
    return failure();
  const auto &p = L.layer.embed_param();
  if (p.num_output() == 0 || p.input_dim() == 0)
    return L.emitError() << "Embed needs positive num_output and input_dim";
  Value weight, bias;
  if (failed(L.weightAndBias({int64_t(p.input_dim()), int64_t(p.num_output())}, p, weight, bias)))
    return failure();
  return L.create<mlir::dl::EmbedOp>(L.bottom(0), weight, bias, L.i64(p.num_output()),
                                     L.i64(p.input_dim()));
}

/// Caffe's LSTM blobs, in order: W_xc [4H, I], b_c [4H], W_xc_static
/// [4H, I_static] (with a third bottom), W_hc [4H, H].
FailureOr<Operation *> importLSTM(LayerContext &L) {
  if (failed(L.expectBottoms(2, 3)))
    return failure();
  const auto &p = L.layer.recurrent_param();
  if (p.num_output() == 0)
    return L.emitError() << "LSTM needs a positive num_output";
  if (p.expose_hidden())
    return L.emitError() << "LSTM with expose_hidden: true is not supported";
  auto xs = L.shapeOf(L.bottom(0));
  if (xs.size() < 2)
    return L.emitError() << "LSTM input must be T x N x ...";
  int64_t h = p.num_output(), in = 1;
  for (size_t i = 2; i < xs.size(); ++i)
    in *= xs[i];
  bool hasStatic = L.bottoms().size() == 3;
  caffe::FillerParameter wf = L.weightFiller(p.has_weight_filler(), p.weight_filler());
  auto wxc = L.param(0, {4 * h, in}, wf);
  if (failed(wxc))
    return failure();
  auto bc = L.param(1, {4 * h}, p.bias_filler());
  if (failed(bc))
    return failure();
  unsigned next = 2;
  Value xStatic, wxcStatic;
  if (hasStatic) {
    xStatic = L.bottom(2);
    auto ss = L.shapeOf(xStatic);
    int64_t is = 1;
    for (size_t i = 1; i < ss.size(); ++i)
      is *= ss[i];
    auto ws = L.param(next++, {4 * h, is}, wf);
    if (failed(ws))
      return failure();
    wxcStatic = *ws;
  }
  auto whc = L.param(next, {4 * h, h}, wf);
  if (failed(whc))
    return failure();
  return L.create<mlir::dl::LSTMOp>(L.bottom(0), L.bottom(1), xStatic, *wxc, *bc, wxcStatic,
                                    *whc, L.i64(h), L.boolean(false));
}

} // namespace

DLC_REGISTER_LAYERS({"Embed", importEmbed}, {"LSTM", importLSTM});

} // namespace dlc::frontend

//===- Recurrent.cpp - Embed, LSTM, RNN -----------------------------------===//
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
  const auto &p = L.layer.embed_param();
  if (p.num_output() == 0 || p.input_dim() == 0)
    return L.emitError() << "Embed needs positive num_output and input_dim";
  Value weight, bias;
  if (failed(L.weightAndBias({int64_t(p.input_dim()), int64_t(p.num_output())}, p, weight, bias)))
    return failure();
  return L.create<mlir::dl::EmbedOp>(L.bottom(0), weight, bias, L.i64(p.num_output()),
                                     L.i64(p.input_dim()));
}

/// What LSTM and RNN share (recurrent_layer.cpp): x is T x N x ..., cont
/// T x N, an optional static input N x ...; H = num_output, I the size of
/// one x item, Is that of one static item (0 without).
struct RecurrentSizes {
  int64_t h = 0, in = 1, inStatic = 0;
};

LogicalResult recurrentSizes(LayerContext &L, StringRef type, RecurrentSizes &s) {
  const auto &p = L.layer.recurrent_param();
  if (p.num_output() == 0)
    return L.emitError() << type << " needs a positive num_output";
  if (p.expose_hidden())
    return L.emitError() << type << " with expose_hidden: true is not supported";
  auto xs = L.shapeOf(L.bottom(0));
  if (xs.size() < 2)
    return L.emitError() << type << " input must be T x N x ...";
  s.h = p.num_output();
  for (size_t i = 2; i < xs.size(); ++i)
    s.in *= xs[i];
  if (L.bottoms().size() == 3) {
    auto ss = L.shapeOf(L.bottom(2));
    s.inStatic = 1;
    for (size_t i = 1; i < ss.size(); ++i)
      s.inStatic *= ss[i];
  }
  return success();
}

/// Creates the layer's blobs in order, with `shapes` and the weight filler,
/// except those listed in `biases` (bias filler).
LogicalResult recurrentBlobs(LayerContext &L, ArrayRef<SmallVector<int64_t>> shapes,
                             ArrayRef<unsigned> biases, SmallVectorImpl<Value> &blobs) {
  const auto &p = L.layer.recurrent_param();
  caffe::FillerParameter wf = L.weightFiller(p.has_weight_filler(), p.weight_filler());
  for (auto [i, shape] : llvm::enumerate(shapes)) {
    bool bias = llvm::is_contained(biases, unsigned(i));
    auto v = L.param(unsigned(i), shape, bias ? p.bias_filler() : wf);
    if (failed(v))
      return failure();
    blobs.push_back(*v);
  }
  return success();
}

/// Caffe's LSTM blobs, in order: W_xc [4H, I], b_c [4H], W_xc_static
/// [4H, I_static] (with a third bottom), W_hc [4H, H].
FailureOr<Operation *> importLSTM(LayerContext &L) {
  RecurrentSizes s;
  if (failed(recurrentSizes(L, "LSTM", s)))
    return failure();
  SmallVector<SmallVector<int64_t>> shapes = {{4 * s.h, s.in}, {4 * s.h}};
  if (s.inStatic)
    shapes.push_back({4 * s.h, s.inStatic});
  shapes.push_back({4 * s.h, s.h});
  SmallVector<Value> w;
  if (failed(recurrentBlobs(L, shapes, {1}, w)))
    return failure();
  Value xStatic = s.inStatic ? L.bottom(2) : Value(), wStatic = s.inStatic ? w[2] : Value();
  // No mask: dl-skip-masked-steps sets it.
  return L.create<mlir::dl::LSTMOp>(L.bottom(0), L.bottom(1), xStatic, w[0], w[1], wStatic,
                                    w.back(), /*mask=*/Value(), L.i64(s.h), L.boolean(false));
}

/// Caffe's RNN blobs (rnn_layer.cpp, in the order its unrolled net creates
/// them): W_xh [H, I], b_h [H], W_xh_static [H, I_static] (with a third
/// bottom), W_hh [H, H], W_ho [H, H], b_o [H].
FailureOr<Operation *> importRNN(LayerContext &L) {
  RecurrentSizes s;
  if (failed(recurrentSizes(L, "RNN", s)))
    return failure();
  SmallVector<SmallVector<int64_t>> shapes = {{s.h, s.in}, {s.h}};
  if (s.inStatic)
    shapes.push_back({s.h, s.inStatic});
  shapes.append({{s.h, s.h}, {s.h, s.h}, {s.h}});
  unsigned k = s.inStatic ? 3 : 2; // index of W_hh
  SmallVector<Value> w;
  if (failed(recurrentBlobs(L, shapes, {1, k + 2}, w)))
    return failure();
  Value xStatic = s.inStatic ? L.bottom(2) : Value(), wStatic = s.inStatic ? w[2] : Value();
  return L.create<mlir::dl::RNNOp>(L.bottom(0), L.bottom(1), xStatic, w[0], w[1], wStatic, w[k],
                                   w[k + 1], w[k + 2], L.i64(s.h), L.boolean(false));
}

} // namespace

DLC_REGISTER_LAYERS({"Embed", importEmbed}, {"LSTM", importLSTM, 2, 3}, {"RNN", importRNN, 2, 3});

} // namespace dlc::frontend

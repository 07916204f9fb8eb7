//===- RecurrentCells.h - The element-wise steps of LSTM and RNN -*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The fused gate nonlinearities of the recurrent kernels (docs/recurrent.md)
// as functions with a C signature, declared once for the two sides:
// dl-codegen-recurrent (lib/Conversion/DLToLLVM) generates them for the
// target CPU and names them on the layer's kernels (attribute `gen_<name>`);
// the lstm / rnn kernels of the runtime (lib/Runtime/Dnnl) call the
// generated ones, or built-in ones with the same signature when the module
// has no native code. Each function computes hidden units [0, len) of one
// stream at one step; every signature is `pointers` float pointers, then
// `scalars` floats, then `int64_t len`.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_OPS_RECURRENTCELLS_H
#define DLC_OPS_RECURRENTCELLS_H

#include <cstdint>

namespace dlc::ops {

/// LSTM forward, gates in the order i, f, o, g at g + k*H (H the layer's
/// num_output, a constant of the generated code): the pre-activations g +
/// b are replaced by the activated gates (sigmoid; tanh for g),
///   c = (ct == 0 ? 0 : ct f) cprev + i g   (c may be cprev: in place),
///   h = o tanh(c),   hp = ctNext h   (hp may be h).
using LstmForwardCell = void (*)(float *g, const float *b, const float *cprev, float *c,
                                 float *h, float *hp, float ct, float ctNext, int64_t len);
/// LSTM backward: g holds the activated gates and receives the gradients of
/// the pre-activations; dh = dy + ctNext dhn; dc carries d(loss)/dc from
/// the next step in and to the previous step out:
///   dct = dc + dh o (1 - tanh(c)^2)
///   di = dct g i (1 - i), df = ct == 0 ? 0 : dct cprev ct f (1 - f),
///   do = dh tanh(c) o (1 - o), dg = dct i (1 - g^2),
///   dc = ct == 0 ? 0 : dct ct f.
using LstmBackwardCell = void (*)(float *g, const float *c, const float *cprev, const float *dy,
                                  const float *dhn, float *dc, float ct, float ctNext,
                                  int64_t len);
/// RNN hidden state: a = tanh(a + b), hp = ctNext a.
using RnnForwardCell = void (*)(float *a, const float *b, float *hp, float ctNext, int64_t len);
/// RNN hidden state backward: d = (d + ctNext dhn) (1 - h^2).
using RnnBackwardCell = void (*)(float *d, const float *h, const float *dhn, float ctNext,
                                 int64_t len);
/// RNN output: y = tanh(y + b).
using RnnOutputCell = void (*)(float *y, const float *b, int64_t len);
/// RNN output backward: d = dy (1 - y^2).
using RnnOutputGradCell = void (*)(const float *dy, const float *y, float *d, int64_t len);

enum class Cell { LstmForward, LstmBackward, RnnForward, RnnBackward, RnnOutput, RnnOutputGrad };

struct CellInfo {
  Cell cell;
  const char *op;   ///< the layer: "lstm" or "rnn"
  const char *name; ///< kernel attribute "gen_<name>", symbol "dlc_cell_<name>[_h<H>]"
  int pointers, scalars;
  bool perHidden; ///< specialized for the layer's hidden size H
};

inline constexpr CellInfo kCells[] = {
    {Cell::LstmForward, "lstm", "lstm_forward", 6, 2, true},
    {Cell::LstmBackward, "lstm", "lstm_backward", 6, 2, true},
    {Cell::RnnForward, "rnn", "rnn_forward", 3, 1, false},
    {Cell::RnnBackward, "rnn", "rnn_backward", 3, 1, false},
    {Cell::RnnOutput, "rnn", "rnn_output", 2, 0, false},
    {Cell::RnnOutputGrad, "rnn", "rnn_output_grad", 3, 0, false},
};

inline constexpr const CellInfo &cellInfo(Cell c) { return kCells[int(c)]; }

/// The prefix of the kernel attributes that name generated cells.
inline constexpr const char kCellAttrPrefix[] = "gen_";

} // namespace dlc::ops

#endif // DLC_OPS_RECURRENTCELLS_H

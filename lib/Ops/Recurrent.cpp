//===- Recurrent.cpp - Shape rules of the recurrent family ----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// embed, lstm, rnn: Caffe's embed_layer.cpp, recurrent_layer.cpp,
// lstm_layer.cpp and rnn_layer.cpp.
//
//===----------------------------------------------------------------------===//
#include "RuleUtil.h"
#include "dlc/Ops/Geometry.h"

namespace dlc::ops {
using namespace rules;

Status infer(const EmbedAttrs &a, const EmbedOperands &o, Results &r) {
  int64_t n = a.num_output, k = a.input_dim;
  if (n <= 0)
    return fail("embed num_output must be positive, got ", n);
  if (k <= 0)
    return fail("embed input_dim must be positive, got ", k);
  DLC_TRY(expect(o.weight, {k, n}, "embed weight", " (input_dim, num_output)"));
  if (o.bias.present())
    DLC_TRY(expect(o.bias, {n}, "embed bias", " (num_output)"));
  if (!o.indices)
    return r.addUnknown();
  Shape out = *o.indices;
  out.push_back(n);
  return r.add(out);
}

Status infer(const LSTMAttrs &a, const LSTMOperands &o, Results &r) {
  int64_t h = a.num_output;
  if (h <= 0)
    return fail("lstm num_output must be positive, got ", h);
  if (a.expose_hidden)
    return fail("lstm expose_hidden (extra h0/c0 inputs and hT/cT outputs) is not supported");
  if (o.x_static.present() != o.w_xc_static.present())
    return fail("lstm x_static and w_xc_static must be given together");
  if (o.x && o.x.rank() < 2)
    return fail("lstm x must have at least 2 axes (#timesteps, #streams, ...), got rank ",
                o.x.rank());
  int64_t t = o.x ? (*o.x)[0] : kAnyDim, n = o.x ? (*o.x)[1] : kAnyDim;
  int64_t in = o.x ? product(*o.x, 2) : kAnyDim;
  DLC_TRY(expect(o.cont, {t, n}, "lstm cont", " (#timesteps, #streams)"));
  DLC_TRY(expect(o.w_xc, {4 * h, in}, "lstm w_xc", " (4 * num_output, input size)"));
  DLC_TRY(expect(o.b_c, {4 * h}, "lstm b_c", " (4 * num_output)"));
  DLC_TRY(expect(o.w_hc, {4 * h, h}, "lstm w_hc", " (4 * num_output, num_output)"));
  if (o.x_static.present()) {
    const Arg &xs = o.x_static;
    if (xs && xs.rank() == 0)
      return fail("lstm x_static must have at least 1 axis");
    if (xs && n != kAnyDim && (*xs)[0] != n)
      return fail("lstm x_static shape ", fmtShape(*xs), " must have #streams ", n,
                  " as its first dimension");
    int64_t sin = xs ? product(*xs, 1) : kAnyDim;
    DLC_TRY(expect(o.w_xc_static, {4 * h, sin}, "lstm w_xc_static",
                   " (4 * num_output, static input size)"));
  }
  if (o.mask.present())
    DLC_TRY(expect(o.mask, {t, n}, "lstm mask", " (#timesteps, #streams)"));
  if (!o.x)
    return r.addUnknown();
  return r.add({t, n, h});
}

Status infer(const RNNAttrs &a, const RNNOperands &o, Results &r) {
  int64_t h = a.num_output;
  if (h <= 0)
    return fail("rnn num_output must be positive, got ", h);
  if (a.expose_hidden)
    return fail("rnn expose_hidden (an extra h0 input and hT output) is not supported");
  if (o.x_static.present() != o.w_xh_static.present())
    return fail("rnn x_static and w_xh_static must be given together");
  if (o.x && o.x.rank() < 2)
    return fail("rnn x must have at least 2 axes (#timesteps, #streams, ...), got rank ",
                o.x.rank());
  int64_t t = o.x ? (*o.x)[0] : kAnyDim, n = o.x ? (*o.x)[1] : kAnyDim;
  int64_t in = o.x ? product(*o.x, 2) : kAnyDim;
  DLC_TRY(expect(o.cont, {t, n}, "rnn cont", " (#timesteps, #streams)"));
  DLC_TRY(expect(o.w_xh, {h, in}, "rnn w_xh", " (num_output, input size)"));
  DLC_TRY(expect(o.b_h, {h}, "rnn b_h", " (num_output)"));
  DLC_TRY(expect(o.w_hh, {h, h}, "rnn w_hh", " (num_output, num_output)"));
  DLC_TRY(expect(o.w_ho, {h, h}, "rnn w_ho", " (num_output, num_output)"));
  DLC_TRY(expect(o.b_o, {h}, "rnn b_o", " (num_output)"));
  if (o.x_static.present()) {
    const Arg &xs = o.x_static;
    if (xs && xs.rank() == 0)
      return fail("rnn x_static must have at least 1 axis");
    if (xs && n != kAnyDim && (*xs)[0] != n)
      return fail("rnn x_static shape ", fmtShape(*xs), " must have #streams ", n,
                  " as its first dimension");
    int64_t sin = xs ? product(*xs, 1) : kAnyDim;
    DLC_TRY(expect(o.w_xh_static, {h, sin}, "rnn w_xh_static",
                   " (num_output, static input size)"));
  }
  if (!o.x)
    return r.addUnknown();
  return r.add({t, n, h});
}

namespace {
/// The present operands: x, cont, [x_static], nWeights weights of which the
/// second-to-last static one is present with x_static, [mask].
Status recurrentGeometry(const std::vector<Shape> &ops, int64_t h, int nWeights, bool maskAllowed,
                         RecurrentGeometry &g) {
  const size_t base = size_t(2 + nWeights);
  const size_t extra = ops.size() < base ? 0 : ops.size() - base;
  g = RecurrentGeometry();
  g.numOperands = int(ops.size());
  // extra: 0 none, 1 mask, 2 x_static + its weight, 3 all three.
  if (ops.size() < base || extra > (maskAllowed ? 3u : 2u) || extra == (maskAllowed ? 4u : 1u))
    return fail("recurrent op with ", ops.size(), " operands");
  const bool hasStatic = extra >= 2, hasMask = maskAllowed && extra % 2 == 1;
  if (ops[0].size() < 2)
    return fail("recurrent x must have at least 2 axes, got rank ", ops[0].size());
  g.t = ops[0][0];
  g.n = ops[0][1];
  g.in = product(ops[0], 2);
  g.h = h;
  if (hasStatic) {
    g.xStatic = 2;
    g.firstWeight = 3;
    g.wStatic = 3 + 2; // after w_xc and b_c (LSTM) / w_xh and b_h (RNN)
    g.inStatic = product(ops[2], 1);
  }
  if (hasMask)
    g.mask = int(ops.size()) - 1;
  return Status();
}
} // namespace

Status lstmGeometry(const LSTMAttrs &a, const std::vector<Shape> &operands, RecurrentGeometry &g) {
  return recurrentGeometry(operands, a.num_output, 3, true, g);
}

Status rnnGeometry(const RNNAttrs &a, const std::vector<Shape> &operands, RecurrentGeometry &g) {
  return recurrentGeometry(operands, a.num_output, 5, false, g);
}

namespace {
/// The shapes of the present operands, in order.
std::vector<Shape> present(std::initializer_list<const Arg *> args) {
  std::vector<Shape> v;
  for (const Arg *a : args)
    if (a->present())
      v.push_back(**a);
  return v;
}
} // namespace

// Counted in full: steps a padded batch's mask makes dead (which the
// kernels skip) are included. The joint backward (all gradients in the one
// kernel of role backward-data) computes the recurrent products of every
// step once more and two products per weight matrix: twice the forward's.
Status work(const LSTMAttrs &a, const LSTMOperands &o, Work &w) {
  RecurrentGeometry g;
  DLC_TRY(lstmGeometry(a, present({&o.x, &o.cont, &o.x_static, &o.w_xc, &o.b_c, &o.w_xc_static,
                                   &o.w_hc, &o.mask}),
                       g));
  const double gates = 4.0 * double(g.h);
  const double steps = double(g.t) * double(g.n) * gates * double(g.in + g.h);
  const double fwd = steps + double(g.n) * gates * double(g.inStatic);
  w = {fwd, 2 * fwd, 0};
  return Status();
}

Status work(const RNNAttrs &a, const RNNOperands &o, Work &w) {
  RecurrentGeometry g;
  DLC_TRY(rnnGeometry(a, present({&o.x, &o.cont, &o.x_static, &o.w_xh, &o.b_h, &o.w_xh_static,
                                  &o.w_hh, &o.w_ho, &o.b_o}),
                      g));
  const double h = double(g.h);
  const double fwd = double(g.t) * double(g.n) * h * double(g.in + 2 * g.h) +
                     double(g.n) * h * double(g.inStatic);
  w = {fwd, 2 * fwd, 0};
  return Status();
}

void lstmLiveSteps(const float *cont, const float *mask, int64_t t, int64_t n,
                   std::vector<uint8_t> &live) {
  live.assign(size_t(t * n), 1);
  if (!mask)
    return;
  for (int64_t s = 0; s < n; ++s) {
    // Walking back: a step is live when it or a later step of its sequence
    // has a nonzero mask; cont == 0 at t + 1 ends the sequence at t.
    bool laterLive = false;
    for (int64_t i = t; i-- > 0;) {
      if (i + 1 < t && cont[(i + 1) * n + s] == 0.0f)
        laterLive = false;
      laterLive = laterLive || mask[i * n + s] != 0.0f;
      live[size_t(i * n + s)] = laterLive ? 1 : 0;
    }
  }
}

} // namespace dlc::ops

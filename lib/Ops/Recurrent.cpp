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

} // namespace dlc::ops

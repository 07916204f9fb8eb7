//===- Normalization.cpp - Shape rules of the normalization family --------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// softmax, batch_norm, scale, bias: Caffe's softmax_layer.cpp,
// batch_norm_layer.cpp, scale_layer.cpp and bias_layer.cpp.
//
//===----------------------------------------------------------------------===//
#include "RuleUtil.h"

namespace dlc::ops {
using namespace rules;

Status splitAxis(const Shape &s, int64_t axis, const char *what, AxisSplit &out) {
  int64_t rank = int64_t(s.size()), a;
  if (!canonicalAxis(axis, rank, a))
    return fail(what, " axis ", axis, " out of range for rank ", rank);
  out.axis = a;
  out.outer = product(s, 0, a);
  out.channels = s[size_t(a)];
  out.inner = product(s, a + 1);
  return Status();
}

Status infer(const SoftmaxAttrs &a, const SoftmaxOperands &o, Results &r) {
  AxisSplit split;
  if (o.x)
    DLC_TRY(splitAxis(*o.x, a.axis, "softmax", split));
  return r.same(o.x);
}

Status infer(const BatchNormAttrs &a, const BatchNormOperands &o, Results &r) {
  if (o.x && o.x.rank() == 0)
    return fail("batch_norm input must have at least 1 axis");
  int64_t c = kAnyDim;
  if (o.x)
    c = o.x.rank() > 1 ? (*o.x)[1] : 1;
  DLC_TRY(expect(o.mean, {c}, "batch_norm mean", " (channels)"));
  DLC_TRY(expect(o.variance, {c}, "batch_norm variance", " (channels)"));
  DLC_TRY(expect(o.scale_factor, {1}, "batch_norm scale_factor"));
  if (a.eps < 0)
    return fail("batch_norm eps must be non-negative, got ", a.eps);
  return r.same(o.x);
}

Status mvnGeometry(const MVNAttrs &a, const Shape &x, int64_t &num, int64_t &dim) {
  // Caffe's legacy 4-axis view (num, channels, height, width).
  if (x.empty() || x.size() > 4)
    return fail("mvn input must have 1 to 4 axes (num, channels, height, width), got rank ",
                x.size());
  num = a.across_channels ? x[0] : x[0] * legacyDim(x, 1);
  dim = num == 0 ? 0 : product(x) / num;
  return Status();
}

Status infer(const MVNAttrs &a, const MVNOperands &o, Results &r) {
  if (a.eps < 0)
    return fail("mvn eps must be non-negative, got ", a.eps);
  int64_t num, dim;
  if (o.x)
    DLC_TRY(mvnGeometry(a, *o.x, num, dim));
  return r.same(o.x);
}

namespace {
/// Scale / Bias: the operand covers x.shape[axis : axis + rank(operand)].
Status checkBroadcastOperand(const char *what, const Arg &x, const Arg &operand, int64_t axis,
                             int64_t numAxes) {
  if (numAxes < -1)
    return fail("num_axes must be non-negative, or -1 to extend to the end of the input, got ",
                numAxes);
  if (!x || !operand)
    return Status();
  Broadcast b;
  std::string w = what;
  const Shape &xs = *x, &ps = *operand;
  int64_t rank = int64_t(xs.size()), a = 0;
  // Caffe: a scalar (0-axis) operand ignores axis. With num_axes 0 the
  // learned scalar may also be stored as [1] (what the importer creates).
  if (ps.empty() || (numAxes == 0 && ps.size() == 1 && ps[0] == 1))
    return Status();
  if (!canonicalAxis(axis, rank, a))
    return fail(w, " axis ", axis, " out of range for rank ", rank);
  if (a + int64_t(ps.size()) > rank)
    return fail(w, " shape ", fmtShape(ps), " extends past the input shape ", fmtShape(xs),
                " when applied from axis ", a);
  for (size_t i = 0; i < ps.size(); ++i)
    if (ps[i] != xs[size_t(a) + i])
      return fail(w, " shape ", fmtShape(ps), " does not match input shape ", fmtShape(xs),
                  " at axis ", a + int64_t(i));
  return Status();
}
} // namespace

Status broadcastGeometry(const Shape &x, const Shape &operand, int64_t axis, int64_t numAxes,
                         Broadcast &out) {
  int64_t rank = int64_t(x.size()), a = 0;
  if (operand.empty() || (numAxes == 0 && operand.size() == 1 && operand[0] == 1)) {
    out = {1, 1, product(x)};
    return Status();
  }
  if (!canonicalAxis(axis, rank, a) || a + int64_t(operand.size()) > rank)
    return fail("operand shape ", fmtShape(operand), " does not fit input ", fmtShape(x),
                " at axis ", axis);
  int64_t end = a + int64_t(operand.size());
  out = {product(x, 0, a), product(x, a, end), product(x, end)};
  return Status();
}

Status infer(const ScaleAttrs &a, const ScaleOperands &o, Results &r) {
  DLC_TRY(checkBroadcastOperand("scale", o.x, o.scale, a.axis, a.num_axes));
  if (o.bias.present() && o.scale)
    DLC_TRY(expect(o.bias, *o.scale, "scale bias", " (the scale's shape)"));
  return r.same(o.x);
}

Status infer(const BiasAttrs &a, const BiasOperands &o, Results &r) {
  DLC_TRY(checkBroadcastOperand("bias", o.x, o.bias, a.axis, a.num_axes));
  return r.same(o.x);
}

} // namespace dlc::ops

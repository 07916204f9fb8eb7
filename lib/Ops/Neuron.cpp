//===- Neuron.cpp - Shape rules of the neuron family ----------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Element-wise activations (neuron_layer.cpp and its subclasses), dropout,
// PReLU (prelu_layer.cpp).
//
//===----------------------------------------------------------------------===//
#include "RuleUtil.h"

namespace dlc::ops {
using namespace rules;

Status infer(const ReLUAttrs &, const ReLUOperands &o, Results &r) { return r.same(o.x); }
Status infer(const SigmoidAttrs &, const SigmoidOperands &o, Results &r) { return r.same(o.x); }
Status infer(const TanHAttrs &, const TanHOperands &o, Results &r) { return r.same(o.x); }
Status infer(const AbsValAttrs &, const AbsValOperands &o, Results &r) { return r.same(o.x); }
Status infer(const BNLLAttrs &, const BNLLOperands &o, Results &r) { return r.same(o.x); }
Status infer(const ELUAttrs &, const ELUOperands &o, Results &r) { return r.same(o.x); }
Status infer(const PowerAttrs &, const PowerOperands &o, Results &r) { return r.same(o.x); }

namespace {
/// Caffe's Exp/Log base: -1 (e) or strictly positive.
Status checkBase(const char *what, double base) {
  if (base != -1.0 && !(base > 0.0))
    return fail(what, " base must be strictly positive (or -1 for e), got ", base);
  return Status();
}
} // namespace

Status infer(const ExpAttrs &a, const ExpOperands &o, Results &r) {
  DLC_TRY(checkBase("exp", a.base));
  return r.same(o.x);
}
Status infer(const LogAttrs &a, const LogOperands &o, Results &r) {
  DLC_TRY(checkBase("log", a.base));
  return r.same(o.x);
}
Status infer(const ThresholdAttrs &, const ThresholdOperands &o, Results &r) {
  return r.same(o.x);
}
Status infer(const ClipAttrs &, const ClipOperands &o, Results &r) { return r.same(o.x); }
Status infer(const SwishAttrs &, const SwishOperands &o, Results &r) { return r.same(o.x); }

Status infer(const DropoutAttrs &a, const DropoutOperands &o, Results &r) {
  if (!(a.ratio >= 0.0 && a.ratio < 1.0))
    return fail("dropout_ratio must be in [0, 1), got ", a.ratio);
  return r.same(o.x);
}

Status infer(const PReLUAttrs &a, const PReLUOperands &o, Results &r) {
  if (o.x && o.x.rank() < 2)
    return fail("prelu input must have at least 2 axes, got rank ", o.x.rank());
  if (o.slope) {
    if (a.channel_shared) {
      if (o.slope.rank() > 1 || product(*o.slope) != 1)
        return fail("prelu slope shape ", fmtShape(*o.slope),
                    " must be [1] (or a scalar) with channel_shared");
    } else {
      DLC_TRY(expect(o.slope, {o.x ? (*o.x)[1] : kAnyDim}, "prelu slope", " (channels)"));
    }
  }
  return r.same(o.x);
}

} // namespace dlc::ops

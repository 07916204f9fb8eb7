//===- Loss.cpp - Shape rules of the loss family --------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Losses (loss_layer.cpp: bottom[0] and bottom[1] share the first
// dimension) and accuracy; every one produces a scalar.
//
//===----------------------------------------------------------------------===//
#include "RuleUtil.h"

namespace dlc::ops {
using namespace rules;

double lossNormalizer(const std::string &normalization, int64_t outer, int64_t inner,
                      int64_t valid) {
  double n = 1.0;
  if (normalization == "full")
    n = double(outer) * double(inner);
  else if (normalization == "valid")
    n = double(valid);
  else if (normalization == "batch_size")
    n = double(outer);
  return n < 1.0 ? 1.0 : n;
}

namespace {
Status checkSameNum(const char *what, const Arg &a, const Arg &b) {
  if (!a || !b)
    return Status();
  if (a.rank() == 0 || b.rank() == 0)
    return fail(what, " inputs must have at least one axis");
  if ((*a)[0] != (*b)[0])
    return fail(what, ": the data and label should have the same first dimension, got ",
                fmtShape(*a), " and ", fmtShape(*b));
  return Status();
}

/// outer * inner of `logits` around `axis` must equal the label count
/// (softmax_loss_layer.cpp, accuracy_layer.cpp).
Status checkLabelCount(const char *what, const Arg &logits, const Arg &label, int64_t axis) {
  if (!logits)
    return Status();
  AxisSplit s;
  DLC_TRY(splitAxis(*logits, axis, what, s));
  if (!label)
    return Status();
  if (s.outer * s.inner != product(*label))
    return fail(what, ": number of labels ", product(*label), " (label shape ",
                fmtShape(*label), ") must match outer * inner = ", s.outer * s.inner,
                " of logits ", fmtShape(*logits), " at axis ", s.axis);
  return Status();
}
} // namespace

Status infer(const SoftmaxWithLossAttrs &a, const SoftmaxWithLossOperands &o, Results &r) {
  DLC_TRY(checkSameNum("softmax_with_loss", o.logits, o.label));
  DLC_TRY(checkLabelCount("softmax_with_loss", o.logits, o.label, a.axis));
  return r.scalar();
}

Status infer(const EuclideanLossAttrs &, const EuclideanLossOperands &o, Results &r) {
  DLC_TRY(checkSameNum("euclidean_loss", o.a, o.b));
  if (o.a && o.b && product(*o.a) != product(*o.b))
    return fail("euclidean_loss inputs must have the same count, got ", fmtShape(*o.a), " and ",
                fmtShape(*o.b));
  return r.scalar();
}

Status infer(const SigmoidCrossEntropyLossAttrs &, const SigmoidCrossEntropyLossOperands &o,
             Results &r) {
  DLC_TRY(checkSameNum("sigmoid_cross_entropy_loss", o.x, o.target));
  if (o.x && o.target && product(*o.x) != product(*o.target))
    return fail("sigmoid_cross_entropy_loss inputs must have the same count, got ",
                fmtShape(*o.x), " and ", fmtShape(*o.target));
  return r.scalar();
}

Status infer(const ContrastiveLossAttrs &, const ContrastiveLossOperands &o, Results &r) {
  DLC_TRY(checkSameNum("contrastive_loss", o.a, o.b));
  auto checkPair = [&](const char *name, const Arg &s) {
    if (s && (s.rank() < 2 || s.rank() > 4 || legacyDim(*s, 2) != 1 || legacyDim(*s, 3) != 1))
      return fail("contrastive_loss ", name, " shape ", fmtShape(*s),
                  " must be [N, C] or [N, C, 1, 1]");
    return Status();
  };
  DLC_TRY(checkPair("a", o.a));
  DLC_TRY(checkPair("b", o.b));
  if (o.a && o.b && (*o.a)[1] != (*o.b)[1])
    return fail("contrastive_loss a and b must have the same channels, got ", fmtShape(*o.a),
                " and ", fmtShape(*o.b));
  if (const Arg &s = o.similar) {
    if (s.rank() == 0 || s.rank() > 4 || legacyDim(*s, 1) != 1 || legacyDim(*s, 2) != 1 ||
        legacyDim(*s, 3) != 1)
      return fail("contrastive_loss similar shape ", fmtShape(*s),
                  " must be [N] or [N, 1, 1, 1]");
    if (o.a && (*s)[0] != (*o.a)[0])
      return fail("contrastive_loss similar shape ", fmtShape(*s), " must have the batch size ",
                  (*o.a)[0]);
  }
  return r.scalar();
}

Status infer(const HingeLossAttrs &, const HingeLossOperands &o, Results &r) {
  DLC_TRY(checkSameNum("hinge_loss", o.x, o.label));
  if (o.x && o.label && product(*o.label) != (*o.x)[0])
    return fail("hinge_loss takes one label per item: label shape ", fmtShape(*o.label),
                " for input ", fmtShape(*o.x));
  return r.scalar();
}

Status infer(const InfogainLossAttrs &a, const InfogainLossOperands &o, Results &r) {
  DLC_TRY(checkSameNum("infogain_loss", o.logits, o.label));
  DLC_TRY(checkLabelCount("infogain_loss", o.logits, o.label, a.axis));
  if (o.logits && o.infogain) {
    AxisSplit s;
    DLC_TRY(splitAxis(*o.logits, a.axis, "infogain_loss", s));
    if (product(*o.infogain) != s.channels * s.channels)
      return fail("infogain_loss infogain shape ", fmtShape(*o.infogain), " must hold ",
                  s.channels, " x ", s.channels, " values (the number of classes squared)");
  }
  return r.scalar();
}

Status infer(const MultinomialLogisticLossAttrs &, const MultinomialLogisticLossOperands &o,
             Results &r) {
  DLC_TRY(checkSameNum("multinomial_logistic_loss", o.prob, o.label));
  if (const Arg &l = o.label)
    if (l.rank() > 4 || legacyDim(*l, 1) != 1 || legacyDim(*l, 2) != 1 || legacyDim(*l, 3) != 1)
      return fail("multinomial_logistic_loss label shape ", fmtShape(*l),
                  " must be [N] or [N, 1, 1, 1]");
  return r.scalar();
}

Status infer(const AccuracyAttrs &a, const AccuracyOperands &o, Results &r) {
  if (a.top_k <= 0)
    return fail("accuracy top_k must be positive, got ", a.top_k);
  DLC_TRY(checkLabelCount("accuracy", o.logits, o.label, a.axis));
  if (o.logits && o.label && product(*o.label) > 0 &&
      a.top_k > product(*o.logits) / product(*o.label))
    return fail("accuracy top_k ", a.top_k, " must be less than or equal to the number of classes ",
                product(*o.logits) / product(*o.label));
  return r.scalar();
}

} // namespace dlc::ops

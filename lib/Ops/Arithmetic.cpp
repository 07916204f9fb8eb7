//===- Arithmetic.cpp - Shape rules of the arithmetic family --------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// eltwise: Caffe's eltwise_layer.cpp.
//
//===----------------------------------------------------------------------===//
#include "RuleUtil.h"

namespace dlc::ops {
using namespace rules;

Status infer(const EltwiseAttrs &a, const EltwiseOperands &o, Results &r) {
  if (o.inputs.size() < 2)
    return fail("eltwise needs at least 2 inputs, got ", o.inputs.size());
  if (!a.coeff.empty() && a.operation != "sum")
    return fail("eltwise only takes coefficients for summation");
  if (!a.coeff.empty() && a.coeff.size() != o.inputs.size())
    return fail("eltwise takes one coefficient per input: got ", a.coeff.size(),
                " coefficients for ", o.inputs.size(), " inputs");
  if (!allKnown(o.inputs))
    return r.addUnknown();
  const Shape &first = *o.inputs[0];
  for (size_t i = 1; i < o.inputs.size(); ++i)
    if (*o.inputs[i] != first)
      return fail("eltwise operands must have identical shapes, got ", fmtShape(first), " and ",
                  fmtShape(*o.inputs[i]));
  return r.add(first);
}

} // namespace dlc::ops

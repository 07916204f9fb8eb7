//===- Arithmetic.cpp - Shape rules of the arithmetic family --------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// eltwise, reduction, argmax: Caffe's eltwise_layer.cpp, reduction_layer.cpp
// and argmax_layer.cpp.
//
//===----------------------------------------------------------------------===//
#include "RuleUtil.h"

#include <algorithm>

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

Status infer(const ReductionAttrs &a, const ReductionOperands &o, Results &r) {
  if (!o.x)
    return r.addUnknown();
  int64_t axis;
  if (!canonicalAxis(a.axis, o.x.rank(), axis))
    return fail("reduction axis ", a.axis, " out of range for rank ", o.x.rank());
  return r.add(Shape(o.x->begin(), o.x->begin() + axis));
}

Status argMaxGeometry(const ArgMaxAttrs &a, const Shape &x, int64_t &axis, Shape &out) {
  int64_t rank = int64_t(x.size());
  if (rank == 0)
    return fail("argmax input must have at least 1 axis");
  if (a.axis) {
    if (!canonicalAxis(*a.axis, rank, axis))
      return fail("argmax axis ", *a.axis, " out of range for rank ", rank);
    if (a.top_k > x[size_t(axis)])
      return fail("argmax top_k ", a.top_k, " must be less than or equal to the dimension of "
                  "the axis (", x[size_t(axis)], ")");
    out = x;
    out[size_t(axis)] = a.top_k;
    return Status();
  }
  axis = -1;
  if (a.top_k > product(x, 1))
    return fail("argmax top_k ", a.top_k, " must be less than or equal to the dimension of "
                "the flattened input per item (", product(x, 1), ")");
  out.assign(size_t(std::max<int64_t>(rank, 3)), 1);
  out[0] = x[0];
  out[1] = a.out_max_val ? 2 : 1;
  out[2] = a.top_k;
  return Status();
}

Status infer(const ArgMaxAttrs &a, const ArgMaxOperands &o, Results &r) {
  if (a.top_k < 1)
    return fail("argmax top_k must be at least 1, got ", a.top_k);
  if (!o.x)
    return r.addUnknown();
  int64_t axis;
  Shape out;
  DLC_TRY(argMaxGeometry(a, *o.x, axis, out));
  return r.add(out);
}

} // namespace dlc::ops

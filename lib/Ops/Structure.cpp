//===- Structure.cpp - Shape rules of the structure family ----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// concat, slice, crop, flatten, reshape, tile, batch_reindex, silence:
// Caffe's concat_layer.cpp, slice_layer.cpp, crop_layer.cpp,
// flatten_layer.cpp, reshape_layer.cpp, tile_layer.cpp,
// batch_reindex_layer.cpp and silence_layer.cpp.
//
//===----------------------------------------------------------------------===//
#include "RuleUtil.h"

namespace dlc::ops {
using namespace rules;

Status infer(const ConcatAttrs &a, const ConcatOperands &o, Results &r) {
  if (o.inputs.empty())
    return fail("concat needs at least 1 input");
  if (!allKnown(o.inputs))
    return r.addUnknown();
  Shape out = *o.inputs[0];
  int64_t rank = int64_t(out.size()), axis;
  if (!canonicalAxis(a.axis, rank, axis))
    return fail("concat axis ", a.axis, " out of range for rank ", rank);
  for (size_t i = 1; i < o.inputs.size(); ++i) {
    const Shape &s = *o.inputs[i];
    if (int64_t(s.size()) != rank)
      return fail("concat inputs must have the same rank: input ", i, " ", fmtShape(s),
                  " vs input 0 ", fmtShape(out));
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && s[size_t(d)] != out[size_t(d)])
        return fail("concat input ", i, " shape ", fmtShape(s), " does not match input 0 shape ",
                    fmtShape(*o.inputs[0]), " outside the concat axis ", axis);
    out[size_t(axis)] += s[size_t(axis)];
  }
  return r.add(out);
}

Status infer(const SliceAttrs &a, const SliceOperands &o, Results &r) {
  const std::vector<int64_t> &points = a.slice_points;
  int numResults = r.expected();
  if (numResults < 0) {
    if (points.empty())
      return fail("slice with empty slice_points splits into as many equal parts as it has "
                  "results; the count is not inferable from operands (use refineReturnTypes)");
    numResults = int(points.size()) + 1;
  }
  if (!points.empty() && points.size() + 1 != size_t(numResults))
    return fail("slice with ", points.size(), " slice_points has ", points.size() + 1,
                " outputs, got ", numResults);
  if (numResults == 0)
    return fail("slice needs at least one output");
  if (!o.x) {
    for (int i = 0; i < numResults; ++i)
      (void)r.addUnknown();
    return Status();
  }
  int64_t rank = o.x.rank(), axis;
  if (!canonicalAxis(a.axis, rank, axis))
    return fail("slice axis ", a.axis, " out of range for rank ", rank);
  int64_t dim = (*o.x)[size_t(axis)];
  std::vector<int64_t> sizes;
  if (points.empty()) {
    if (dim % numResults != 0)
      return fail("slice axis ", axis, " dimension ", dim, " is not divisible into ", numResults,
                  " equal parts");
    sizes.assign(size_t(numResults), dim / numResults);
  } else {
    int64_t prev = 0;
    for (int64_t p : points) {
      if (p <= prev || p >= dim)
        return fail("slice points must be strictly increasing and inside (0, ", dim, "), got ",
                    fmtShape(points));
      sizes.push_back(p - prev);
      prev = p;
    }
    sizes.push_back(dim - prev);
  }
  for (int64_t s : sizes) {
    Shape out = *o.x;
    out[size_t(axis)] = s;
    (void)r.add(out);
  }
  return Status();
}

Status infer(const CropAttrs &a, const CropOperands &o, Results &r) {
  for (int64_t off : a.offset)
    if (off < 0)
      return fail("crop offset must be non-negative, got ", off);
  if (!o.x || !o.reference)
    return r.addUnknown();
  const Shape &xs = *o.x, &rs = *o.reference;
  int64_t rank = int64_t(xs.size()), axis;
  if (int64_t(rs.size()) != rank)
    return fail("crop input ", fmtShape(xs), " and reference ", fmtShape(rs),
                " must have the same rank");
  if (!canonicalAxis(a.axis, rank, axis))
    return fail("crop axis ", a.axis, " out of range for rank ", rank);
  const std::vector<int64_t> &offset = a.offset;
  if (offset.size() > 1 && int64_t(offset.size()) != rank - axis)
    return fail("crop needs 0, 1 or ", rank - axis, " offsets (one per axis from ", axis,
                "), got ", offset.size());
  Shape out = xs;
  for (int64_t i = axis; i < rank; ++i) {
    int64_t off = offset.empty() ? 0 : offset.size() == 1 ? offset[0] : offset[size_t(i - axis)];
    if (xs[size_t(i)] - off < rs[size_t(i)])
      return fail("crop: input size ", xs[size_t(i)], " at axis ", i, " minus offset ", off,
                  " is smaller than the reference size ", rs[size_t(i)]);
    out[size_t(i)] = rs[size_t(i)];
  }
  return r.add(out);
}

Status infer(const FlattenAttrs &a, const FlattenOperands &o, Results &r) {
  if (!o.x)
    return r.addUnknown();
  const Shape &s = *o.x;
  int64_t rank = int64_t(s.size()), start, end;
  if (!canonicalAxis(a.axis, rank, start))
    return fail("flatten axis ", a.axis, " out of range for rank ", rank);
  if (!canonicalAxis(a.end_axis, rank, end))
    return fail("flatten end_axis ", a.end_axis, " out of range for rank ", rank);
  if (end < start)
    return fail("flatten end_axis ", end, " is before axis ", start);
  Shape out(s.begin(), s.begin() + start);
  out.push_back(product(s, start, end + 1));
  out.insert(out.end(), s.begin() + end + 1, s.end());
  return r.add(out);
}

Status infer(const ReshapeAttrs &a, const ReshapeOperands &o, Results &r) {
  const std::vector<int64_t> &shape = a.shape;
  int64_t inferredAxis = -1, constantCount = 1;
  std::vector<int64_t> copyAxes;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t d = shape[i];
    if (d == 0) {
      copyAxes.push_back(int64_t(i));
    } else if (d == -1) {
      if (inferredAxis != -1)
        return fail("new shape contains multiple -1 dims; at most a single (1) value of -1 may "
                    "be specified");
      inferredAxis = int64_t(i);
    } else if (d < -1) {
      return fail("reshape dimension ", d, " is invalid (use 0 to copy, -1 to infer)");
    } else {
      constantCount = mulSat(constantCount, d);
    }
  }
  if (a.num_axes < -1)
    return fail("reshape num_axes must be >= 0, or -1 for all, got ", a.num_axes);
  if (!o.x)
    return r.addUnknown();
  const Shape &s = *o.x;
  int64_t rank = int64_t(s.size());
  int64_t start = a.axis >= 0 ? a.axis : rank + a.axis + 1;
  if (start < 0 || start > rank)
    return fail("reshape axis ", a.axis, " out of range for rank ", rank);
  int64_t end = a.num_axes == -1 ? rank : start + a.num_axes;
  if (end > rank)
    return fail("reshape end_axis = axis + num_axes = ", end, " is out of range for rank ", rank);
  Shape out(s.begin(), s.begin() + start);
  out.insert(out.end(), shape.begin(), shape.end());
  out.insert(out.end(), s.begin() + end, s.end());
  for (int64_t c : copyAxes) {
    if (start + c >= rank)
      return fail("new shape contains a 0, but there was no corresponding bottom axis to copy");
    out[size_t(start + c)] = s[size_t(start + c)];
  }
  int64_t count = product(s);
  if (inferredAxis >= 0) {
    int64_t explicitCount = mulSat(mulSat(constantCount, product(s, 0, start)), product(s, end));
    for (int64_t c : copyAxes)
      explicitCount = mulSat(explicitCount, out[size_t(start + c)]);
    if (explicitCount == 0 || count % explicitCount != 0)
      return fail("bottom count (", count,
                  ") must be divisible by the product of the specified dimensions (",
                  explicitCount, ")");
    out[size_t(start + inferredAxis)] = count / explicitCount;
  }
  if (product(out) != count)
    return fail("reshape output count ", product(out), " (shape ", fmtShape(out),
                ") must match input count ", count);
  return r.add(out);
}

Status infer(const TileAttrs &a, const TileOperands &o, Results &r) {
  if (a.tiles <= 0)
    return fail("tile tiles must be positive, got ", a.tiles);
  if (!o.x)
    return r.addUnknown();
  int64_t axis;
  if (!canonicalAxis(a.axis, o.x.rank(), axis))
    return fail("tile axis ", a.axis, " out of range for rank ", o.x.rank());
  Shape out = *o.x;
  out[size_t(axis)] = mulSat(out[size_t(axis)], a.tiles);
  return r.add(out);
}

Status infer(const BatchReindexAttrs &, const BatchReindexOperands &o, Results &r) {
  if (o.indices && o.indices.rank() != 1)
    return fail("batch_reindex indices must have 1 axis, got shape ", fmtShape(*o.indices));
  if (o.x && o.x.rank() == 0)
    return fail("batch_reindex input must have at least 1 axis");
  if (!o.x || !o.indices)
    return r.addUnknown();
  Shape out = *o.x;
  out[0] = (*o.indices)[0];
  return r.add(out);
}

Status infer(const FilterAttrs &, const FilterOperands &o, Results &r) {
  if (o.inputs.empty())
    return fail("filter needs at least 1 input besides the selector");
  if (o.selector) {
    const Shape &sel = *o.selector;
    if (sel.empty())
      return fail("filter selector must have at least 1 axis");
    for (size_t d = 1; d < sel.size(); ++d)
      if (sel[d] != 1)
        return fail("filter selector dimensions must be singletons (1), except the first; got ",
                    fmtShape(sel));
  }
  for (size_t i = 0; i < o.inputs.size(); ++i) {
    const Arg &x = o.inputs[i];
    if (!x) {
      DLC_TRY(r.addUnknown());
      continue;
    }
    if (x.rank() == 0)
      return fail("filter input ", i, " must have at least 1 axis");
    if (o.selector && (*x)[0] != (*o.selector)[0])
      return fail("filter input ", i, " ", fmtShape(*x),
                  " must have the same 0th dimension as the selector ", fmtShape(*o.selector));
    Shape out = *x;
    out[0] = kAnyDim;
    DLC_TRY(r.add(out));
  }
  return Status();
}

Status infer(const SilenceAttrs &, const SilenceOperands &o, Results &) {
  if (o.inputs.empty())
    return fail("silence needs at least 1 input");
  return Status();
}

Status infer(const ReorderAttrs &, const ReorderOperands &o, Results &r) {
  if (!o.x)
    return r.addUnknown();
  return r.add(*o.x);
}

} // namespace dlc::ops

//===- RuleUtil.cpp - Helpers of the shape rules ---------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "RuleUtil.h"

namespace dlc::ops::rules {

int64_t product(const Shape &s, int64_t from, int64_t to) {
  if (to < 0)
    to = int64_t(s.size());
  int64_t p = 1;
  for (int64_t i = from; i < to; ++i)
    p = mulSat(p, s[size_t(i)]);
  return p;
}

bool canonicalAxis(int64_t axis, int64_t rank, int64_t &out) {
  if (axis < -rank || axis >= rank)
    return false;
  out = axis < 0 ? axis + rank : axis;
  return true;
}

int64_t legacyDim(const Shape &s, int64_t i) { return i < int64_t(s.size()) ? s[size_t(i)] : 1; }

Status expect(const Arg &a, const Shape &expected, std::string_view what, std::string_view why) {
  if (!a)
    return Status();
  const Shape &s = *a;
  bool ok = s.size() == expected.size();
  for (size_t i = 0; ok && i < expected.size(); ++i)
    ok = expected[i] == kAnyDim || expected[i] == s[i];
  if (ok)
    return Status();
  return fail(what, " shape ", fmtShape(s), " does not match expected ", fmtShape(expected), why);
}

Status spatialVector(std::string_view name, const std::vector<int64_t> &values,
                     size_t numSpatial, int64_t dflt, int64_t minValue,
                     std::vector<int64_t> &out) {
  if (values.empty()) {
    out.assign(numSpatial, dflt);
    return Status();
  }
  if (values.size() != numSpatial)
    return fail(name, " must have ", numSpatial, " entries (one per spatial axis), got ",
                values.size());
  for (int64_t v : values)
    if (v < minValue)
      return fail(name, minValue > 0 ? " must be positive, got " : " must be non-negative, got ",
                  v);
  out = values;
  return Status();
}

} // namespace dlc::ops::rules

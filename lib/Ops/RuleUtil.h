//===- RuleUtil.h - Helpers of the shape rules ------------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Private to lib/Ops. The rules follow the Reshape()/LayerSetUp() of the
// corresponding Caffe layer; messages use Caffe's parameter names.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_OPS_RULEUTIL_H
#define DLC_LIB_OPS_RULEUTIL_H

#include "dlc/Ops/Ops.h"

#include <string_view>

namespace dlc::ops::rules {

/// Product of s[from:to) (to = -1: the end), saturated (mulSat).
int64_t product(const Shape &s, int64_t from = 0, int64_t to = -1);
/// Caffe's Blob::CanonicalAxisIndex: axis in [-rank, rank).
bool canonicalAxis(int64_t axis, int64_t rank, int64_t &out);
/// Caffe's Blob::LegacyShape: dims past the rank read as 1.
int64_t legacyDim(const Shape &s, int64_t i);
/// Checks that `a`, when known, has shape `expected` (kAnyDim matches any
/// size): "<what> shape [..] does not match expected [..]<why>".
Status expect(const Arg &a, const Shape &expected, std::string_view what,
              std::string_view why = "");
/// One value per spatial axis, or empty (then every entry is `dflt`);
/// entries below `minValue` are refused.
Status spatialVector(std::string_view name, const std::vector<int64_t> &values,
                     size_t numSpatial, int64_t dflt, int64_t minValue,
                     std::vector<int64_t> &out);

} // namespace dlc::ops::rules

#endif // DLC_LIB_OPS_RULEUTIL_H

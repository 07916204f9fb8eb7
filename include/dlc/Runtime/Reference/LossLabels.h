//===- LossLabels.h - How losses and accuracy read class labels -*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Class labels are floats converted as Caffe does (static_cast<int>), then
// compared with the layer's ignore_label, then checked against
// [0, classes) (Caffe leaves out-of-range labels undefined; dlc throws).
// The reference losses (lib/Runtime/Reference/Loss.cpp) and the optimized
// ones (lib/Runtime/Dnnl/Loss.cpp) share this code, so they accept the same
// labels and report a bad one with the same message. Header-only: the
// optimized kernels classify labels inside OpenMP regions (classOf, which
// never throws) and report the first bad position afterwards (fail).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_REFERENCE_LOSSLABELS_H
#define DLC_RUNTIME_REFERENCE_LOSSLABELS_H

#include "dlc/Runtime/Kernel.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace dlc::rt {

/// A float label that is a valid integer for static_cast<int64_t>: finite
/// and at most 1e15 in magnitude.
inline bool labelIsNumber(float v) { return std::isfinite(v) && std::fabs(v) <= 1e15f; }

/// Converts a float label as Caffe does (static_cast<int>), rejecting
/// values that are not finite. `prefix`: the layer's Error prefix.
inline int64_t labelOf(const std::string &prefix, float v) {
  if (!labelIsNumber(v))
    throw Error(prefix + "label " + std::to_string(v) + " is not a valid class index");
  return static_cast<int64_t>(v);
}

/// How a loss reads its labels: labelOf, then the ignore_label (if any),
/// then a check against [0, classes).
struct Labels {
  std::string prefix;
  int64_t classes = 0;
  std::optional<int64_t> ignore;

  /// classOf's results other than a class.
  static constexpr int64_t kIgnored = -1, kInvalid = -2;

  /// The class of label value v, kIgnored for the ignore_label, kInvalid
  /// for a value operator() rejects. Never throws.
  int64_t classOf(float v) const {
    if (!labelIsNumber(v))
      return kInvalid;
    int64_t l = static_cast<int64_t>(v);
    if (ignore && l == *ignore)
      return kIgnored;
    return l < 0 || l >= classes ? kInvalid : l;
  }

  /// Throws the Error of label[at], a label classOf found invalid.
  [[noreturn]] void fail(const float *label, int64_t at) const {
    int64_t l = labelOf(prefix, label[at]);
    throw Error(prefix + "label " + std::to_string(l) + " at position " + std::to_string(at) +
                " is out of range [0, " + std::to_string(classes) + ")");
  }

  /// The class of label[at], or -1 (kIgnored) for the ignore_label; throws
  /// for an invalid label.
  int64_t operator()(const float *label, int64_t at) const {
    int64_t c = classOf(label[at]);
    if (c == kInvalid)
      fail(label, at);
    return c;
  }
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_REFERENCE_LOSSLABELS_H

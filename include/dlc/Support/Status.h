//===- Status.h - Success or an error message -------------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The error convention of dlc's MLIR-free libraries (docs/architecture.md,
// "Errors"): a function that can fail on user input returns a Status (or
// fills an out-parameter and returns one); the message is complete, phrased
// in Caffe's terms and without a location or an "error:" prefix - the caller
// adds those (the compiler as an MLIR diagnostic at the layer, the runtime as
// an rt::Error naming the layer). Nothing here throws or prints.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_SUPPORT_STATUS_H
#define DLC_SUPPORT_STATUS_H

#include <sstream>
#include <string>
#include <utility>

namespace dlc {

class [[nodiscard]] Status {
public:
  /// Success.
  Status() = default;
  /// Failure with `message` (must not be empty).
  static Status error(std::string message) {
    Status s;
    s.failed_ = true;
    s.message_ = std::move(message);
    return s;
  }
  bool failed() const { return failed_; }
  bool ok() const { return !failed_; }
  const std::string &message() const { return message_; }

private:
  bool failed_ = false;
  std::string message_;
};

/// Failure whose message is the concatenation of `parts` (streamed).
template <typename... Parts>
Status fail(const Parts &...parts) {
  std::ostringstream os;
  (os << ... << parts);
  return Status::error(os.str());
}

} // namespace dlc

/// Returns from the enclosing function when `expr` (a Status) failed.
#define DLC_TRY(expr)                                                          \
  do {                                                                         \
    if (::dlc::Status dlcTryStatus_ = (expr); dlcTryStatus_.failed())          \
      return dlcTryStatus_;                                                    \
  } while (false)

#endif // DLC_SUPPORT_STATUS_H

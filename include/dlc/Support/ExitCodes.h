//===- ExitCodes.h - Process exit codes of dlc and dlrun --------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_SUPPORT_EXITCODES_H
#define DLC_SUPPORT_EXITCODES_H

namespace dlc {

/// Exit codes shared by every dlc tool (README, "Exit codes").
enum ExitCode : int {
  kExitOk = 0,
  kExitUserError = 1,   ///< bad input: syntax, unsupported layer, bad shape, bad module...
  kExitUsage = 2,       ///< bad command line
  kExitCheckFailed = 3, ///< dlrun --check found a blob beyond the tolerance
  kExitInternal = 70,   ///< a bug in dlc (EX_SOFTWARE)
};

} // namespace dlc

#endif // DLC_SUPPORT_EXITCODES_H

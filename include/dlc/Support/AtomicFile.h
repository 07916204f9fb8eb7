//===- AtomicFile.h - Writing an output file all at once --------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every file dlc and dlrun write (modules, .npy outputs and blob dumps,
// reports, the tuning cache) goes through writeFileAtomically: the bytes go
// to a temporary file beside the target, are flushed to disk, and the
// temporary is renamed over the target. A reader never sees half a file,
// and a failed write (full disk, no permission, a directory in the way)
// leaves the previous file as it was and says why.
//
// Shared by the compiler and the runtime: no MLIR, no LLVM.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_SUPPORT_ATOMICFILE_H
#define DLC_SUPPORT_ATOMICFILE_H

#include "dlc/Support/Status.h"

#include <string>
#include <string_view>

namespace dlc {

/// Replaces `path` with `bytes` atomically. On failure `path` is untouched,
/// the temporary file is removed, and the message reads
/// "<path>: error: cannot write: <reason>".
Status writeFileAtomically(const std::string &path, std::string_view bytes);

} // namespace dlc

#endif // DLC_SUPPORT_ATOMICFILE_H

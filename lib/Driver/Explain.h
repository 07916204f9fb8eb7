//===- Explain.h - What dlc compile did to a net ----------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_DRIVER_EXPLAIN_H
#define DLC_LIB_DRIVER_EXPLAIN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace dlc::driver {
/// `dlc compile --explain`: fused kernels, ops running alone, the memory
/// plan and the layouts of the compiled IR (`layoutOption`: the --layout
/// given, shown beside the layout used).
void explainModule(mlir::ModuleOp module, llvm::raw_ostream &os,
                   llvm::StringRef layoutOption = "");
} // namespace dlc::driver

#endif // DLC_LIB_DRIVER_EXPLAIN_H

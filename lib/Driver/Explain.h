//===- Explain.h - What dlc compile did to a net ----------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_DRIVER_EXPLAIN_H
#define DLC_LIB_DRIVER_EXPLAIN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace dlc::driver {
/// `dlc compile --explain`: fused kernels, ops running alone, the memory
/// plan, the layouts and the convolution algorithms of the compiled IR (`layoutOption`: the --layout
/// given, shown beside the layout used).
void explainModule(mlir::ModuleOp module, llvm::raw_ostream &os,
                   llvm::StringRef layoutOption = "");
/// The "convolution algorithms" section (ExplainConv.cpp): per layer and
/// direction the algorithm chosen and why, and every candidate.
void explainConvAlgorithms(mlir::func::FuncOp func, llvm::raw_ostream &os);
} // namespace dlc::driver

#endif // DLC_LIB_DRIVER_EXPLAIN_H

//===- Passes.h - Conversions out of the dl dialect -------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// dl-codegen-pointwise, dl-codegen-recurrent and dl-codegen-compile: native
// code for element-wise fused bodies and recurrent gates (docs/codegen.md).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CONVERSION_PASSES_H
#define DLC_CONVERSION_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>
#include <string>

namespace mlir::dl {

#define GEN_PASS_DECL
#include "dlc/Conversion/Passes.h.inc"

/// Name of the nested module that holds the generated kernel functions
/// (dl-codegen-pointwise), and of its marker attribute.
inline constexpr const char kCodegenModuleName[] = "dl_codegen";
inline constexpr const char kCodegenModuleAttr[] = "dl.codegen_kernels";
/// On a dl.fused op: the symbol of its generated kernel.
inline constexpr const char kCodegenSymbolAttr[] = "dl.codegen";
/// On a dl.lstm / dl.rnn op or its backward op: `dl.codegen_<name>` is the
/// symbol of its generated cell function <name> (dlc/Ops/RecurrentCells.h).
inline constexpr const char kCodegenCellAttrPrefix[] = "dl.codegen_";
/// On the module: the symbol of its generated solver update
/// (dl-codegen-update, dlc/Ops/SolverUpdate.h).
inline constexpr const char kCodegenUpdateAttr[] = "dl.codegen_update";
/// On the module: the compiled code, {object, triple, cpu, features, symbols}.
inline constexpr const char kNativeCodeAttr[] = "dl.native_code";

#define GEN_PASS_REGISTRATION
#include "dlc/Conversion/Passes.h.inc"

} // namespace mlir::dl

#endif // DLC_CONVERSION_PASSES_H

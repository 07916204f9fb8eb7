//===- ModuleEmitter.h - dl dialect to a .dlcm module -----------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Serializes a lowered `dl` function (shapes inferred, kernels selected,
// buffers planned) into the runtime's module format: tensors, kernels in
// execution order with their attributes copied unchanged, params with their
// fillers (or stored data), graph inputs and outputs.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TARGET_MODULEEMITTER_H
#define DLC_TARGET_MODULEEMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dlc::rt {
class ModuleWriter;
}

namespace dlc::target {

struct EmitOptions {
  uint64_t seed = 1;
  std::string producer = "dlc";
  std::string compileCommand; ///< Module.compile_command
  /// Stored weights by dl.param name (from --weights); others use fillers.
  const std::map<std::string, std::vector<float>> *weights = nullptr;
};

/// Fills `writer` from the single func.func of `module`. Errors are emitted
/// at the offending op's location.
mlir::LogicalResult emitModule(mlir::ModuleOp module, const EmitOptions &options,
                               dlc::rt::ModuleWriter &writer);

} // namespace dlc::target

#endif // DLC_TARGET_MODULEEMITTER_H

//===- CaffeImporter.h - Caffe net to dl dialect ----------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_CAFFEIMPORTER_H
#define DLC_FRONTEND_CAFFEIMPORTER_H

#include "dlc/Caffe/NetLoader.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace dlc::frontend {

/// Layer types the importer turns into dl ops (or graph inputs / aliases).
const std::vector<std::string> &supportedLayerTypes();

/// Largest element count of any tensor the importer accepts (2^32).
constexpr int64_t kMaxTensorElements = int64_t(1) << 32;

struct ImportOptions {
  /// Caffe fills a weight whose layer names no filler with constant 0, which
  /// makes deploy files (which carry no fillers) compute zeros. When set,
  /// such weights get a "xavier" filler instead (biases keep constant 0), so
  /// that benchmarks and --check exercise real arithmetic.
  bool randomWeights = false;
  /// For nets without a loss layer (deploy files): attach SoftmaxWithLoss to
  /// the last net output, with a new graph input "label" (what the framework
  /// comparisons did to time the gradient of a deploy net). A final Softmax is
  /// folded into the loss (SoftmaxWithLoss computes it).
  bool lossAuto = false;
};

/// Builds a module holding one func.func for `net` (see docs/dialect.md).
/// Every error is reported through the context's diagnostic engine at the
/// offending layer's file:line:col; returns null on failure. All layers of
/// unsupported types are reported together, in one diagnostic.
mlir::OwningOpRef<mlir::ModuleOp> importNet(mlir::MLIRContext &context,
                                            const caffe_fe::LoadedNet &net,
                                            const ImportOptions &options = {});

} // namespace dlc::frontend

#endif // DLC_FRONTEND_CAFFEIMPORTER_H

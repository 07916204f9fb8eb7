//===- Weights.h - Trained weights for an imported net ----------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_WEIGHTS_H
#define DLC_FRONTEND_WEIGHTS_H

#include "dlc/Caffe/NetLoader.h"
#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <string>
#include <vector>

namespace dlc::frontend {

/// Reads trained weights for the `dl.param` ops of `module` (imported from
/// `net`) into `out`, keyed by dl.param name ("<layer>/<index>", or the
/// shared `param { name }`). `path` is a .npz archive (members named after
/// the dl.param names) or, for any other extension, a binary .caffemodel
/// (blobs matched to the net's layers by layer name). Every blob's size and
/// shape is checked against its dl.param; each problem is printed to
/// llvm::errs() as "<path>: error: ...", and any makes the result failure.
mlir::LogicalResult loadWeights(const std::string &path, const caffe_fe::LoadedNet &net,
                                mlir::ModuleOp module,
                                std::map<std::string, std::vector<float>> &out);

/// The same, from the bytes of a weights file (the fuzz target's entry):
/// `npz` selects the format and `name` is used in the messages.
mlir::LogicalResult loadWeightsFromBuffer(const std::string &bytes, const std::string &name,
                                          bool npz, const caffe_fe::LoadedNet &net,
                                          mlir::ModuleOp module,
                                          std::map<std::string, std::vector<float>> &out);

} // namespace dlc::frontend

#endif // DLC_FRONTEND_WEIGHTS_H

//===- Data.cpp - Data layers, Split --------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Layers that build no op: data layers, whose tops are the function's
// arguments (the loader lists them as graph inputs with their shapes), and
// Split, whose tops are aliases of its bottom.
//
//===----------------------------------------------------------------------===//

#include "LayerImporter.h"

using namespace mlir;

namespace dlc::frontend {
namespace {

/// Input, Data, ImageData, ...: nothing to build.
FailureOr<Operation *> importGraphInput(LayerContext &) { return nullptr; }

FailureOr<Operation *> importSplit(LayerContext &L) {
  if (failed(L.resolveBottoms()))
    return failure();
  if (L.bottoms().size() != 1)
    return L.emitError() << "Split takes exactly one bottom, got " << L.bottoms().size();
  SmallVector<Value> copies(L.layer.top_size(), L.bottom(0));
  L.defineTops(copies);
  return nullptr;
}

} // namespace

// Data layers' tops are graph inputs: they never consume their bottoms.
DLC_REGISTER_LAYERS({"Input", importGraphInput, kOwnBottoms},
                    {"Data", importGraphInput, kOwnBottoms},
                    {"ImageData", importGraphInput, kOwnBottoms},
                    {"HDF5Data", importGraphInput, kOwnBottoms},
                    {"MemoryData", importGraphInput, kOwnBottoms},
                    {"DummyData", importGraphInput, kOwnBottoms},
                    {"WindowData", importGraphInput, kOwnBottoms},
                    {"Split", importSplit, kOwnBottoms});

} // namespace dlc::frontend

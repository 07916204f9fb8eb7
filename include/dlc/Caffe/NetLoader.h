//===- NetLoader.h - Load and validate a Caffe net --------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Reads a Caffe net in protobuf text format (prototxt), upgrades legacy (V1)
// nets, applies Caffe's phase/level/stage rules and input handling, and checks
// the net's structure, reporting every problem with a file:line:col position.
// This library uses protobuf but not MLIR; lib/Frontend turns its result into
// the `dl` dialect.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CAFFE_NETLOADER_H
#define DLC_CAFFE_NETLOADER_H

#include "dlc/Caffe/caffe.pb.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dlc::caffe_fe {

/// A position in a source file. Line and column are 1-based; line 0 means
/// unknown (the file alone is meaningful).
struct SourceLoc {
  std::string file;
  int line = 0;
  int column = 0;
};

struct Diagnostic {
  enum class Kind { Error, Warning, Note };
  Kind kind = Kind::Error;
  SourceLoc loc;
  std::string message;
};

/// "file:line:col: error: message" (the format of clang and MLIR).
std::string formatDiagnostic(const Diagnostic &diag);

enum class Phase { Train, Test };

struct LoadOptions {
  /// Phase for include/exclude rules. Unset: Test if the net declares its
  /// inputs (Input layer or legacy input fields), else Train.
  std::optional<Phase> phase;
  int level = 0;
  std::vector<std::string> stages;
  /// --input-shape name=1x3x224x224: replaces the shape of a graph input.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// --batch N: replaces dimension 0 of every graph input.
  std::optional<int64_t> batch;
  /// Sizes the tops of a data layer whose shapes the prototxt leaves
  /// incomplete from its data (a Data layer's first record, docs/
  /// training.md): the shapes, one per top, or an empty vector with `why`
  /// set. Unset: such inputs need --input-shape.
  std::function<std::vector<std::vector<int64_t>>(const caffe::LayerParameter &layer, Phase phase,
                                                  std::string &why)>
      dataShapes;
};

/// A graph input: a top of a data layer (Input, Data, ImageData, HDF5Data,
/// MemoryData, DummyData, WindowData) or a legacy `input:` blob.
struct GraphInput {
  std::string name;           ///< top (blob) name
  std::vector<int64_t> shape; ///< fully known after loading
  std::string layerType;      ///< "Input", "Data", ..., or "input" (legacy field)
  std::string layerName;      ///< empty for legacy inputs
  SourceLoc loc;
};

struct LoadedNet {
  std::string file;
  /// The net after upgrade (always V2 `layer`, never `layers`), phase/level/
  /// stage filtering, with legacy `input` fields removed (they are in
  /// `inputs`). Data layers stay in `net.layer()`; their tops are `inputs`.
  caffe::NetParameter net;
  /// Parallel to net.layer(): where each layer's `layer {` (or `layers {`)
  /// starts in the file.
  std::vector<SourceLoc> layerLocs;
  Phase phase = Phase::Test;
  std::vector<GraphInput> inputs;
  bool upgradedFromV1 = false;
};

/// The largest net file the loader reads (docs/reliability.md): real nets
/// are kilobytes, and protobuf's text parser counts in int.
constexpr uint64_t kMaxNetFileBytes = uint64_t(256) << 20;

/// Loads `path`. On failure returns std::nullopt and appends every error
/// found (not only the first) to `diags`; warnings may be appended on success.
std::optional<LoadedNet> loadNetFile(const std::string &path, const LoadOptions &options,
                                     std::vector<Diagnostic> &diags);

/// Same, from text; `filename` is used in diagnostics.
std::optional<LoadedNet> loadNetFromString(const std::string &text, const std::string &filename,
                                           const LoadOptions &options,
                                           std::vector<Diagnostic> &diags);

/// Parses "name=1x3x224x224" (also "name=1,3,224,224"). Returns false and
/// sets `error` on malformed text, a zero or negative dimension, or a shape
/// whose element count exceeds 2^40.
bool parseInputShapeSpec(const std::string &spec, std::string &name, std::vector<int64_t> &shape,
                         std::string &error);

} // namespace dlc::caffe_fe

#endif // DLC_CAFFE_NETLOADER_H

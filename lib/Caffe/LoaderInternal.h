//===- LoaderInternal.h - The Caffe net loader's stages ---------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Caffe: the Loader behind loadNetFromString(), shared by the
// files that implement its stages:
//   NetLoader.cpp    reading: binary and solver files, parse errors, V1 upgrade,
//                    and run(), which calls the stages in order;
//   NetStructure.cpp NetState filtering (Net::FilterNet) and the structure
//                    checks (bottoms, tops, layer names);
//   GraphInputs.cpp  graph inputs: their shapes, --input-shape and --batch.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_CAFFE_LOADERINTERNAL_H
#define DLC_LIB_CAFFE_LOADERINTERNAL_H

#include "dlc/Caffe/NetLoader.h"

#include "TextParse.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dlc::caffe_fe::detail {

namespace pb = google::protobuf;

/// A shape that may be partly known: -1 marks an unknown dimension, and
/// rankKnown=false means that the dimensions after `dims` are unknown too.
struct PartialShape {
  std::vector<int64_t> dims;
  bool rankKnown = true;

  bool complete() const {
    return rankKnown && std::none_of(dims.begin(), dims.end(), [](int64_t d) { return d == -1; });
  }
};

struct PendingInput {
  std::string name;
  PartialShape shape;
  std::string layerType;
  std::string layerName;
  SourceLoc loc;
  /// An error about this input's shape was already reported.
  bool shapeReported = false;
  /// Why its data could not size it (LoadOptions::dataShapes), for the
  /// error about an incomplete shape.
  std::string dataNote;
};

/// The layers left after NetState filtering.
using LayerList = pb::RepeatedPtrField<caffe::LayerParameter>;

class Loader {
public:
  Loader(const std::string &text, const std::string &file, const LoadOptions &options,
         std::vector<Diagnostic> &diags)
      : text_(text), file_(file), options_(options), diags_(diags), src_(text) {}

  std::optional<LoadedNet> run();

private:
  const std::string &text_;
  std::string file_;
  const LoadOptions &options_;
  std::vector<Diagnostic> &diags_;
  SourceText src_;
  bool failed_ = false;

  void error(const SourceLoc &loc, const std::string &message) {
    diags_.push_back({Diagnostic::Kind::Error, loc, message});
    failed_ = true;
  }
  void warning(const SourceLoc &loc, const std::string &message) {
    diags_.push_back({Diagnostic::Kind::Warning, loc, message});
  }
  SourceLoc fileLoc() const { return SourceLoc{file_, 0, 0}; }
  SourceLoc locAt(int pbLine, int pbColumn) const {
    SourceLoc loc;
    loc.file = file_;
    src_.toLineCol(pbLine, pbColumn, loc.line, loc.column);
    return loc;
  }
  SourceLoc locOf(const pb::TextFormat::ParseInfoTree &tree, const char *field, int index) const {
    const pb::FieldDescriptor *fd = caffe::NetParameter::descriptor()->FindFieldByName(field);
    pb::TextFormat::ParseLocation l = tree.GetLocation(fd, index);
    return locAt(l.line, l.column);
  }
  static std::string layerRef(const caffe::LayerParameter &layer, size_t index) {
    if (!layer.name().empty())
      return "layer '" + layer.name() + "'";
    return "unnamed layer #" + std::to_string(index + 1) +
           (layer.type().empty() ? std::string() : " (" + layer.type() + ")");
  }
  static std::string lineRef(const SourceLoc &loc) {
    return loc.line > 0 ? " at line " + std::to_string(loc.line) : std::string();
  }

  // Reading (NetLoader.cpp).
  bool rejectBinary();
  bool rejectSolver();
  /// Parses the text into `net`; false after reporting every parse error.
  bool parse(caffe::NetParameter &net, pb::TextFormat::ParseInfoTree &tree);
  /// Upgrades V1 `layers` to V2 `layer` and BatchNorm params; fills `locs`
  /// with each layer's position. False after an error.
  bool upgrade(caffe::NetParameter &net, const pb::TextFormat::ParseInfoTree &tree,
               std::vector<SourceLoc> &locs, bool &upgradedFromV1);

  // NetState filtering and structure (NetStructure.cpp).
  static bool stateMeetsRule(const caffe::NetState &state, const caffe::NetStateRule &rule);
  /// The NetState to filter with: the options, else the net's `state`, else
  /// the default phase.
  caffe::NetState netState(const caffe::NetParameter &net) const;
  /// Keeps the layers whose include/exclude rules `state` meets. False after
  /// an error (also when no layer is kept).
  bool filterLayers(const caffe::NetParameter &net, const std::vector<SourceLoc> &locs,
                    const caffe::NetState &state, LayerList &kept,
                    std::vector<SourceLoc> &keptLocs);
  /// Checks that every bottom is produced before it is used, that tops are
  /// produced once, and the layer names; the first `legacyInputs` of `inputs`
  /// are the legacy `input` fields.
  void checkStructure(const std::vector<PendingInput> &inputs, size_t legacyInputs,
                      const LayerList &kept, const std::vector<SourceLoc> &keptLocs);

  // Graph inputs (GraphInputs.cpp).
  /// The legacy `input` fields (counted in `legacyInputs`), then the tops of
  /// the kept data layers.
  std::vector<PendingInput> collectInputs(const caffe::NetParameter &net,
                                          const pb::TextFormat::ParseInfoTree &tree,
                                          const LayerList &kept,
                                          const std::vector<SourceLoc> &keptLocs, Phase phase,
                                          size_t &legacyInputs);
  /// Appends the tops of `layer` when it is a data layer, with the shapes it
  /// gives.
  void collectLayerInputs(const caffe::LayerParameter &layer, size_t index, const SourceLoc &loc,
                          Phase phase, std::vector<PendingInput> &inputs);
  /// Applies --input-shape and --batch.
  void applyInputOptions(std::vector<PendingInput> &inputs);
  /// Requires every input's shape to be fully known and of a sane size.
  void checkInputShapes(const std::vector<PendingInput> &inputs);
};

} // namespace dlc::caffe_fe::detail

#endif // DLC_LIB_CAFFE_LOADERINTERNAL_H

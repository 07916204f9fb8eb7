//===- NetLoader.cpp - Load and validate a Caffe net ----------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Reading follows what Caffe does when it builds a Net: parse the text,
// upgrade V1 layers (UpgradeV1Net, UpgradeNetDataTransformation,
// UpgradeNetBatchNorm), filter layers by the NetState (Net::FilterNet,
// Net::StateMeetsRule), then connect bottoms to tops (Net::AppendBottom,
// Net::AppendTop). Unlike Caffe it does not stop at the first problem: every
// error is reported with its position.
//
// This file holds the entry points, the reading stages (binary and solver
// files, parse errors, the V1 upgrade) and Loader::run(), which calls every
// stage in order; NetStructure.cpp filters and checks the net, and
// GraphInputs.cpp finds the graph inputs and their shapes.
//
//===----------------------------------------------------------------------===//

#include "dlc/Caffe/NetLoader.h"

#include "LoaderInternal.h"
#include "TextParse.h"
#include "Upgrade.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dlc::caffe_fe {

/// Parse errors reported before giving up on a file.
static constexpr size_t kMaxParseErrors = 100;

std::string formatDiagnostic(const Diagnostic &diag) {
  std::string out = diag.loc.file.empty() ? std::string("<input>") : diag.loc.file;
  if (diag.loc.line > 0) {
    out += ":" + std::to_string(diag.loc.line);
    if (diag.loc.column > 0)
      out += ":" + std::to_string(diag.loc.column);
  }
  switch (diag.kind) {
  case Diagnostic::Kind::Error: out += ": error: "; break;
  case Diagnostic::Kind::Warning: out += ": warning: "; break;
  case Diagnostic::Kind::Note: out += ": note: "; break;
  }
  return out + diag.message;
}

//===----------------------------------------------------------------------===//
// The loader
//===----------------------------------------------------------------------===//

namespace detail {

namespace {

class SilentErrors : public pb::io::ErrorCollector {
public:
  void AddError(int, pb::io::ColumnNumber, const std::string &) override {}
};

} // namespace

bool Loader::rejectBinary() {
  // Text prototxt never holds control characters other than whitespace.
  size_t limit = std::min<size_t>(text_.size(), 4096);
  size_t bad = std::string::npos;
  for (size_t i = 0; i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(text_[i]);
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\v') {
      bad = i;
      break;
    }
  }
  if (bad == std::string::npos)
    return false;
  caffe::NetParameter binary;
  if (binary.ParseFromString(text_) && binary.layer_size() + binary.layers_size() > 0) {
    error(fileLoc(), "this is a binary Caffe model (.caffemodel, " +
                         std::to_string(binary.layer_size() + binary.layers_size()) +
                         " layers), not a net description; pass the .prototxt that describes "
                         "the net");
  } else {
    std::ostringstream os;
    os << "this file is not text (byte 0x" << std::hex << static_cast<int>(
              static_cast<unsigned char>(text_[bad]))
       << std::dec << " at offset " << bad << "); a Caffe net must be a .prototxt text file";
    error(fileLoc(), os.str());
  }
  return true;
}

bool Loader::rejectSolver() {
  caffe::SolverParameter solver;
  SilentErrors silent;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&silent);
  if (!parser.ParseFromString(text_, &solver))
    return false;
  std::string msg = "this is a Caffe solver file, not a net; ";
  if (solver.has_net())
    msg += "its net is '" + solver.net() + "' (field 'net')";
  else if (solver.has_net_param())
    msg += "its net is embedded inline (field 'net_param')";
  else if (solver.has_train_net())
    msg += "its net is '" + solver.train_net() + "' (field 'train_net')";
  else if (solver.has_train_net_param())
    msg += "its net is embedded inline (field 'train_net_param')";
  else if (solver.test_net_size() > 0)
    msg += "its net is '" + solver.test_net(0) + "' (field 'test_net')";
  else if (solver.test_net_param_size() > 0)
    msg += "its net is embedded inline (field 'test_net_param')";
  else
    msg += "it names no net";
  error(fileLoc(), msg + "; compile it with 'dlc compile --solver " + file_ + "'");
  return true;
}

bool Loader::parse(caffe::NetParameter &net, pb::TextFormat::ParseInfoTree &tree) {
  std::vector<detail::RawError> parseErrors;
  bool outOfBudget = false;
  if (detail::parseTextAllErrors(text_, net, &tree, parseErrors, kMaxParseErrors, &outOfBudget))
    return true;
  if (rejectSolver())
    return false;
  std::string solverField;
  static const std::string kUnknownNetField = "\" has no field named \"";
  for (const detail::RawError &e : parseErrors) {
    error(locAt(e.line, e.column), detail::rewordParseError(e.message));
    // An unknown top-level field that SolverParameter has: a damaged solver.
    size_t at = e.message.find(kUnknownNetField);
    if (solverField.empty() && at != std::string::npos &&
        e.message.rfind("Message type \"caffe.NetParameter\"", 0) == 0) {
      size_t begin = at + kUnknownNetField.size();
      std::string field = e.message.substr(begin, e.message.find('"', begin) - begin);
      if (caffe::SolverParameter::descriptor()->FindFieldByName(field))
        solverField = field;
    }
  }
  if (parseErrors.size() >= kMaxParseErrors)
    diags_.push_back({Diagnostic::Kind::Note, fileLoc(),
                      "too many errors; stopped after " + std::to_string(kMaxParseErrors)});
  else if (outOfBudget)
    diags_.push_back({Diagnostic::Kind::Note, fileLoc(),
                      "stopped looking for more errors after " +
                          std::to_string(parseErrors.size()) +
                          " (each costs a parse of the whole file); fix these first"});
  if (!solverField.empty())
    diags_.push_back({Diagnostic::Kind::Note, fileLoc(),
                      "'" + solverField + "' is a field of Caffe solver files; is this a "
                      "solver rather than a net?"});
  return false;
}

bool Loader::upgrade(caffe::NetParameter &net, const pb::TextFormat::ParseInfoTree &tree,
                     std::vector<SourceLoc> &locs, bool &upgradedFromV1) {
  if (net.layer_size() > 0 && net.layers_size() > 0) {
    error(locOf(tree, "layers", 0),
          "the net mixes V2 'layer' entries and legacy V1 'layers' entries; use only one kind");
    return false;
  }
  if (net.layers_size() > 0) {
    pb::RepeatedPtrField<caffe::LayerParameter> upgraded;
    for (int i = 0; i < net.layers_size(); ++i) {
      caffe::V1LayerParameter v1 = net.layers(i);
      detail::upgradeV1DataTransformation(v1);
      std::string why;
      caffe::LayerParameter *out = upgraded.Add();
      SourceLoc loc = locOf(tree, "layers", i);
      if (!detail::upgradeV1Layer(v1, *out, why))
        error(loc, why);
      locs.push_back(loc);
    }
    if (failed_)
      return false;
    net.clear_layers();
    net.mutable_layer()->Swap(&upgraded);
    upgradedFromV1 = true;
  } else {
    for (int i = 0; i < net.layer_size(); ++i)
      locs.push_back(locOf(tree, "layer", i));
  }
  for (caffe::LayerParameter &layer : *net.mutable_layer())
    detail::upgradeBatchNormParams(layer);
  return true;
}

std::optional<LoadedNet> Loader::run() {
  if (rejectBinary())
    return std::nullopt;
  caffe::NetParameter net;
  pb::TextFormat::ParseInfoTree tree;
  if (!parse(net, tree))
    return std::nullopt;

  LoadedNet result;
  result.file = file_;
  std::vector<SourceLoc> locs;
  if (!upgrade(net, tree, locs, result.upgradedFromV1))
    return std::nullopt;
  if (net.layer_size() == 0) {
    error(fileLoc(), "the net has no layers");
    return std::nullopt;
  }

  caffe::NetState state = netState(net);
  result.phase = state.phase() == caffe::TRAIN ? Phase::Train : Phase::Test;
  LayerList kept;
  std::vector<SourceLoc> keptLocs;
  if (!filterLayers(net, locs, state, kept, keptLocs))
    return std::nullopt;

  size_t legacyInputs = 0;
  std::vector<PendingInput> inputs =
      collectInputs(net, tree, kept, keptLocs, result.phase, legacyInputs);
  applyInputOptions(inputs);
  checkInputShapes(inputs);
  // The structure is checked even after errors about the inputs.
  checkStructure(inputs, legacyInputs, kept, keptLocs);
  if (failed_)
    return std::nullopt;

  // --- Result -----------------------------------------------------------------
  net.clear_input();
  net.clear_input_shape();
  net.clear_input_dim();
  net.clear_layers();
  net.mutable_layer()->Swap(&kept);
  *net.mutable_state() = state;
  result.net = std::move(net);
  result.layerLocs = std::move(keptLocs);
  for (PendingInput &in : inputs)
    result.inputs.push_back({in.name, in.shape.dims, in.layerType, in.layerName, in.loc});
  return result;
}

} // namespace detail

static std::string tooLarge(uint64_t size) {
  return "the net file has " + std::to_string(size) + " bytes; dlc reads net files of at most " +
         std::to_string(kMaxNetFileBytes) + " bytes (" + std::to_string(kMaxNetFileBytes >> 20) +
         " MiB)";
}

std::optional<LoadedNet> loadNetFromString(const std::string &text, const std::string &filename,
                                           const LoadOptions &options,
                                           std::vector<Diagnostic> &diags) {
  if (text.size() > kMaxNetFileBytes) {
    diags.push_back({Diagnostic::Kind::Error, SourceLoc{filename, 0, 0}, tooLarge(text.size())});
    return std::nullopt;
  }
  detail::Loader loader(text, filename, options, diags);
  return loader.run();
}

std::optional<LoadedNet> loadNetFile(const std::string &path, const LoadOptions &options,
                                     std::vector<Diagnostic> &diags) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    diags.push_back({Diagnostic::Kind::Error, SourceLoc{path, 0, 0},
                     "cannot read the net file: it is a directory"});
    return std::nullopt;
  }
  // Refused before reading: the file could be anything (a dataset, a device).
  uint64_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxNetFileBytes) {
    diags.push_back({Diagnostic::Kind::Error, SourceLoc{path, 0, 0}, tooLarge(size)});
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    diags.push_back({Diagnostic::Kind::Error, SourceLoc{path, 0, 0},
                     std::string("cannot open the net file: ") +
                         (err ? std::strerror(err) : "unknown error")});
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    diags.push_back(
        {Diagnostic::Kind::Error, SourceLoc{path, 0, 0}, "cannot read the net file"});
    return std::nullopt;
  }
  return loadNetFromString(buffer.str(), path, options, diags);
}

} // namespace dlc::caffe_fe

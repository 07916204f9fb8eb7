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
//===----------------------------------------------------------------------===//

#include "dlc/Caffe/NetLoader.h"

#include "TextParse.h"
#include "Upgrade.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace dlc::caffe_fe {

namespace pb = google::protobuf;

/// Largest element count accepted for a graph input.
static constexpr int64_t kMaxElements = int64_t(1) << 40;
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
// Shapes
//===----------------------------------------------------------------------===//

namespace {

std::string trim(const std::string &s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
    --e;
  return s.substr(b, e - b);
}

/// A shape that may be partly known: -1 marks an unknown dimension, and
/// rankKnown=false means that the dimensions after `dims` are unknown too.
struct PartialShape {
  std::vector<int64_t> dims;
  bool rankKnown = true;

  bool complete() const {
    return rankKnown && std::none_of(dims.begin(), dims.end(), [](int64_t d) { return d == -1; });
  }
};

std::string dimsToString(const std::vector<int64_t> &dims) {
  if (dims.empty())
    return "[] (a scalar)";
  std::string out;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i)
      out += "x";
    out += dims[i] == -1 ? std::string("?") : std::to_string(dims[i]);
  }
  return out;
}

std::string partialToString(const PartialShape &s) {
  if (s.rankKnown)
    return dimsToString(s.dims);
  if (s.dims.empty())
    return "nothing known";
  return dimsToString(s.dims) + "x... (only the batch size is known)";
}

/// Checks a complete shape: every dimension positive and at most 2^40
/// elements. Returns an empty string or the problem.
std::string checkShapeSize(const std::vector<int64_t> &dims) {
  int64_t count = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] <= 0)
      return "dimension " + std::to_string(i) + " is " + std::to_string(dims[i]) +
             "; every dimension must be positive";
  }
  for (int64_t d : dims) {
    if (count > kMaxElements / d)
      return "absurd size: " + dimsToString(dims) + " has more than 2^40 elements";
    count *= d;
  }
  return "";
}

} // namespace

bool parseInputShapeSpec(const std::string &spec, std::string &name, std::vector<int64_t> &shape,
                         std::string &error) {
  name.clear();
  shape.clear();
  std::string text = trim(spec);
  size_t eq = text.rfind('=');
  if (eq == std::string::npos) {
    error = "expected NAME=DIMS (for example data=1x3x224x224), got '" + spec + "'";
    return false;
  }
  name = trim(text.substr(0, eq));
  std::string dimsText = trim(text.substr(eq + 1));
  if (name.empty()) {
    error = "missing input name before '=' in '" + spec + "'";
    return false;
  }
  if (dimsText.empty()) {
    error = "missing dimensions after '=' in '" + spec + "' (for example " + name + "=1x3x224x224)";
    return false;
  }
  std::vector<std::string> parts;
  std::string cur;
  for (char c : dimsText) {
    if (c == 'x' || c == 'X' || c == ',') {
      parts.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(trim(cur));
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string &p = parts[i];
    if (p.empty()) {
      error = "empty dimension " + std::to_string(i) + " in '" + spec + "'";
      return false;
    }
    size_t start = 0;
    bool negative = false;
    if (p[0] == '-' || p[0] == '+') {
      negative = p[0] == '-';
      start = 1;
    }
    if (start == p.size() || !std::all_of(p.begin() + start, p.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        })) {
      error = "dimension " + std::to_string(i) + " of '" + spec + "' is not an integer: '" + p + "'";
      return false;
    }
    // Saturate instead of overflowing; the size check below refuses it.
    int64_t v = 0;
    for (size_t k = start; k < p.size(); ++k) {
      v = v * 10 + (p[k] - '0');
      if (v > kMaxElements) {
        v = kMaxElements + 1;
        break;
      }
    }
    if (negative)
      v = -v;
    if (v <= 0) {
      error = "dimension " + std::to_string(i) + " of '" + spec + "' is " + std::to_string(v) +
              "; every dimension must be positive";
      return false;
    }
    shape.push_back(v);
  }
  std::string sizeProblem = checkShapeSize(shape);
  if (!sizeProblem.empty()) {
    error = "input shape '" + spec + "': " + sizeProblem;
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// The loader
//===----------------------------------------------------------------------===//

namespace {

class SilentErrors : public pb::io::ErrorCollector {
public:
  void AddError(int, pb::io::ColumnNumber, const std::string &) override {}
};

/// Whether a layer carries learned weights (matched by layer name when a
/// .caffemodel is read).
bool hasLearnedWeights(const caffe::LayerParameter &layer) {
  static const std::set<std::string> weighted = {
      "Convolution", "Deconvolution", "InnerProduct", "Embed", "BatchNorm", "PReLU",
      "LSTM",        "RNN",           "Parameter",    "Scale", "Bias"};
  if (layer.blobs_size() > 0 || layer.param_size() > 0)
    return true;
  if (!weighted.count(layer.type()))
    return false;
  // Scale and Bias learn their operand only when it is not a second bottom.
  if (layer.type() == "Scale" || layer.type() == "Bias")
    return layer.bottom_size() < 2;
  return true;
}

struct PendingInput {
  std::string name;
  PartialShape shape;
  std::string layerType;
  std::string layerName;
  SourceLoc loc;
  /// An error about this input's shape was already reported.
  bool shapeReported = false;
};

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
  detail::SourceText src_;
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

  bool rejectBinary();
  bool rejectSolver();
  static std::string layerRef(const caffe::LayerParameter &layer, size_t index) {
    if (!layer.name().empty())
      return "layer '" + layer.name() + "'";
    return "unnamed layer #" + std::to_string(index + 1) +
           (layer.type().empty() ? std::string() : " (" + layer.type() + ")");
  }
  static std::string lineRef(const SourceLoc &loc) {
    return loc.line > 0 ? " at line " + std::to_string(loc.line) : std::string();
  }
  static bool stateMeetsRule(const caffe::NetState &state, const caffe::NetStateRule &rule);
  void collectLayerInputs(const caffe::LayerParameter &layer, size_t index, const SourceLoc &loc,
                          std::vector<PendingInput> &inputs);
};

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
  error(fileLoc(), msg);
  return true;
}

bool Loader::stateMeetsRule(const caffe::NetState &state, const caffe::NetStateRule &rule) {
  if (rule.has_phase() && rule.phase() != state.phase())
    return false;
  if (rule.has_min_level() && state.level() < rule.min_level())
    return false;
  if (rule.has_max_level() && state.level() > rule.max_level())
    return false;
  auto hasStage = [&state](const std::string &s) {
    return std::find(state.stage().begin(), state.stage().end(), s) != state.stage().end();
  };
  for (const std::string &s : rule.stage())
    if (!hasStage(s))
      return false;
  for (const std::string &s : rule.not_stage())
    if (hasStage(s))
      return false;
  return true;
}

void Loader::collectLayerInputs(const caffe::LayerParameter &layer, size_t index,
                                const SourceLoc &loc, std::vector<PendingInput> &inputs) {
  // After an error about the shapes, the tops are still graph inputs (so that
  // their consumers are not reported as well), with no further complaint.
  bool bad = false;
  const std::string &type = layer.type();
  const int numTops = layer.top_size();
  std::vector<PartialShape> shapes(numTops);
  auto unknownRank = [](int64_t batch) {
    PartialShape s;
    s.rankKnown = false;
    if (batch > 0)
      s.dims.push_back(batch);
    return s;
  };
  auto known = [](int64_t v) { return v > 0 ? v : int64_t(-1); };
  auto fromBlobShape = [](const caffe::BlobShape &b) {
    PartialShape s;
    s.dims.assign(b.dim().begin(), b.dim().end());
    return s;
  };
  // Image-like data layers: top 0 is NxCxHxW, top 1 (label) is N.
  auto imageAndLabel = [&](int64_t n, int64_t c, int64_t h, int64_t w) {
    if (numTops > 0)
      shapes[0].dims = {known(n), known(c), known(h), known(w)};
    for (int t = 1; t < numTops; ++t)
      shapes[t].dims = {known(n)};
  };

  if (type == "Input") {
    const caffe::InputParameter &p = layer.input_param();
    if (p.shape_size() == 0) {
      for (auto &s : shapes)
        s = unknownRank(0);
    } else if (p.shape_size() == 1) {
      for (auto &s : shapes)
        s = fromBlobShape(p.shape(0));
    } else if (p.shape_size() == numTops) {
      for (int t = 0; t < numTops; ++t)
        shapes[t] = fromBlobShape(p.shape(t));
    } else {
      error(loc, layerRef(layer, index) + " (Input) has " + std::to_string(p.shape_size()) +
                     " shapes for " + std::to_string(numTops) +
                     " tops; give one shape for all tops, or one per top");
      bad = true;
    }
  } else if (type == "Data") {
    int64_t n = layer.data_param().batch_size();
    int64_t crop = layer.transform_param().crop_size();
    imageAndLabel(n, -1, crop, crop);
  } else if (type == "ImageData") {
    const caffe::ImageDataParameter &p = layer.image_data_param();
    int64_t crop = layer.transform_param().crop_size();
    int64_t h = -1, w = -1;
    if (crop > 0) {
      h = w = crop;
    } else if (p.new_height() > 0 && p.new_width() > 0) {
      h = p.new_height();
      w = p.new_width();
    }
    imageAndLabel(p.batch_size(), p.is_color() ? 3 : 1, h, w);
  } else if (type == "HDF5Data") {
    for (auto &s : shapes)
      s = unknownRank(layer.hdf5_data_param().batch_size());
  } else if (type == "MemoryData") {
    const caffe::MemoryDataParameter &p = layer.memory_data_param();
    imageAndLabel(p.batch_size(), p.channels(), p.height(), p.width());
  } else if (type == "WindowData") {
    const caffe::WindowDataParameter &p = layer.window_data_param();
    int64_t crop = layer.transform_param().crop_size();
    if (crop == 0)
      crop = p.crop_size();
    imageAndLabel(p.batch_size(), 3, crop, crop);
  } else if (type == "DummyData") {
    const caffe::DummyDataParameter &p = layer.dummy_data_param();
    if (p.shape_size() > 0) {
      if (p.num_size() + p.channels_size() + p.height_size() + p.width_size() > 0) {
        error(loc, layerRef(layer, index) + " (DummyData) gives both 'shape' and the legacy "
                                        "num/channels/height/width; use one of them");
        bad = true;
      } else if (p.shape_size() == 1) {
        for (auto &s : shapes)
          s = fromBlobShape(p.shape(0));
      } else if (p.shape_size() == numTops) {
        for (int t = 0; t < numTops; ++t)
          shapes[t] = fromBlobShape(p.shape(t));
      } else {
        error(loc, layerRef(layer, index) + " (DummyData) has " + std::to_string(p.shape_size()) +
                       " shapes for " + std::to_string(numTops) +
                       " tops; give one shape for all tops, or one per top");
        bad = true;
      }
    } else if (p.num_size() > 0) {
      int n = p.num_size();
      if (p.channels_size() != n || p.height_size() != n || p.width_size() != n ||
          (n != 1 && n != numTops)) {
        error(loc, layerRef(layer, index) +
                       " (DummyData): num, channels, height and width must each be given once, "
                       "or once per top");
        bad = true;
      } else {
        for (int t = 0; t < numTops; ++t) {
          int k = n == 1 ? 0 : t;
          shapes[t].dims = {int64_t(p.num(k)), int64_t(p.channels(k)), int64_t(p.height(k)),
                            int64_t(p.width(k))};
        }
      }
    } else {
      for (auto &s : shapes)
        s = unknownRank(0);
    }
  } else {
    return;
  }
  for (int t = 0; t < numTops; ++t)
    inputs.push_back({layer.top(t), shapes[t], type, layer.name(), loc, bad});
}

std::optional<LoadedNet> Loader::run() {
  if (rejectBinary())
    return std::nullopt;

  caffe::NetParameter net;
  pb::TextFormat::ParseInfoTree tree;
  std::vector<detail::RawError> parseErrors;
  if (!detail::parseTextAllErrors(text_, net, &tree, parseErrors, kMaxParseErrors)) {
    if (rejectSolver())
      return std::nullopt;
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
    if (!solverField.empty())
      diags_.push_back({Diagnostic::Kind::Note, fileLoc(),
                        "'" + solverField + "' is a field of Caffe solver files; is this a "
                        "solver rather than a net?"});
    return std::nullopt;
  }

  LoadedNet result;
  result.file = file_;

  // --- V1 upgrade -----------------------------------------------------------
  std::vector<SourceLoc> locs;
  if (net.layer_size() > 0 && net.layers_size() > 0) {
    error(locOf(tree, "layers", 0),
          "the net mixes V2 'layer' entries and legacy V1 'layers' entries; use only one kind");
    return std::nullopt;
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
      return std::nullopt;
    net.clear_layers();
    net.mutable_layer()->Swap(&upgraded);
    result.upgradedFromV1 = true;
  } else {
    for (int i = 0; i < net.layer_size(); ++i)
      locs.push_back(locOf(tree, "layer", i));
  }
  for (caffe::LayerParameter &layer : *net.mutable_layer())
    detail::upgradeBatchNormParams(layer);

  if (net.layer_size() == 0) {
    error(fileLoc(), "the net has no layers");
    return std::nullopt;
  }

  // --- Net state and filtering ----------------------------------------------
  bool declaresInputs = net.input_size() > 0;
  for (const caffe::LayerParameter &layer : net.layer())
    declaresInputs |= layer.type() == "Input";
  caffe::NetState state;
  Phase phase;
  if (options_.phase)
    phase = *options_.phase;
  else if (net.has_state() && net.state().has_phase())
    phase = net.state().phase() == caffe::TRAIN ? Phase::Train : Phase::Test;
  else
    phase = declaresInputs ? Phase::Test : Phase::Train;
  state.set_phase(phase == Phase::Train ? caffe::TRAIN : caffe::TEST);
  state.set_level(options_.level != 0 ? options_.level : net.state().level());
  if (!options_.stages.empty()) {
    for (const std::string &s : options_.stages)
      state.add_stage(s);
  } else {
    for (const std::string &s : net.state().stage())
      state.add_stage(s);
  }
  result.phase = phase;

  pb::RepeatedPtrField<caffe::LayerParameter> kept;
  std::vector<SourceLoc> keptLocs;
  for (int i = 0; i < net.layer_size(); ++i) {
    const caffe::LayerParameter &layer = net.layer(i);
    if (layer.include_size() > 0 && layer.exclude_size() > 0) {
      error(locs[i], layerRef(layer, i) +
                         " has both include and exclude rules; Caffe allows only one kind");
      continue;
    }
    bool included = layer.include_size() == 0;
    for (const caffe::NetStateRule &rule : layer.exclude())
      if (stateMeetsRule(state, rule))
        included = false;
    for (const caffe::NetStateRule &rule : layer.include())
      if (stateMeetsRule(state, rule))
        included = true;
    if (included) {
      *kept.Add() = layer;
      keptLocs.push_back(locs[i]);
    }
  }
  if (failed_)
    return std::nullopt;
  if (kept.empty()) {
    std::string stages;
    for (const std::string &s : state.stage())
      stages += (stages.empty() ? "" : ", ") + ("'" + s + "'");
    error(fileLoc(), std::string("no layer of the net is in phase ") +
                         (phase == Phase::Train ? "TRAIN" : "TEST") + ", level " +
                         std::to_string(state.level()) + ", stages [" + stages + "]");
    return std::nullopt;
  }

  // --- Graph inputs -----------------------------------------------------------
  std::vector<PendingInput> inputs;
  if (net.input_size() > 0) {
    bool hasShape = net.input_shape_size() > 0;
    bool hasDim = net.input_dim_size() > 0;
    SourceLoc first = locOf(tree, "input", 0);
    bool shapesOk = true;
    if (hasShape && hasDim) {
      error(first, "the net gives both 'input_shape' and 'input_dim'; use one of them");
      shapesOk = false;
    } else if (hasShape && net.input_shape_size() != net.input_size()) {
      error(first, "the net has " + std::to_string(net.input_size()) + " 'input' entries but " +
                       std::to_string(net.input_shape_size()) +
                       " 'input_shape' entries; give exactly one input_shape per input");
      shapesOk = false;
    } else if (hasDim && net.input_dim_size() != 4 * net.input_size()) {
      error(first, "the net has " + std::to_string(net.input_size()) + " 'input' entries but " +
                       std::to_string(net.input_dim_size()) +
                       " 'input_dim' values; give exactly four (num, channels, height, width) "
                       "per input");
      shapesOk = false;
    }
    for (int i = 0; i < net.input_size(); ++i) {
      PendingInput in;
      in.name = net.input(i);
      in.layerType = "input";
      in.loc = locOf(tree, "input", i);
      if (!shapesOk) {
        in.shapeReported = true; // the inputs still exist for the structure checks
      } else if (hasShape) {
        in.shape.dims.assign(net.input_shape(i).dim().begin(), net.input_shape(i).dim().end());
      } else if (hasDim) {
        in.shape.dims.assign(net.input_dim().begin() + 4 * i, net.input_dim().begin() + 4 * i + 4);
      } else {
        in.shape.rankKnown = false;
      }
      inputs.push_back(in);
    }
  } else if (net.input_shape_size() > 0 || net.input_dim_size() > 0) {
    error(fileLoc(), "the net gives 'input_shape' or 'input_dim' without any 'input'");
  }
  size_t legacyInputs = inputs.size();
  for (int i = 0; i < kept.size(); ++i)
    collectLayerInputs(kept.Get(i), i, keptLocs[i], inputs);

  // Overrides.
  for (const auto &[name, dims] : options_.inputShapes) {
    auto it = std::find_if(inputs.begin(), inputs.end(),
                           [&name = name](const PendingInput &in) { return in.name == name; });
    if (it == inputs.end()) {
      std::string names;
      for (const PendingInput &in : inputs)
        names += (names.empty() ? "" : ", ") + in.name;
      error(fileLoc(), "--input-shape names '" + name + "', which is not a graph input of the net; " +
                           (inputs.empty() ? std::string("the net has no graph inputs")
                                           : "its graph inputs are: " + names));
      continue;
    }
    it->shape.dims = dims;
    it->shape.rankKnown = true;
  }
  if (options_.batch) {
    if (*options_.batch <= 0) {
      error(fileLoc(), "--batch must be positive, got " + std::to_string(*options_.batch));
    } else {
      for (PendingInput &in : inputs) {
        if (in.shape.dims.empty()) {
          if (!in.shape.rankKnown)
            in.shape.dims.push_back(*options_.batch);
        } else {
          in.shape.dims[0] = *options_.batch;
        }
      }
    }
  }
  for (const PendingInput &in : inputs) {
    if (in.shapeReported)
      continue;
    std::string owner = in.layerName.empty() && in.layerType == "input"
                            ? std::string("legacy 'input' field")
                            : "layer '" + in.layerName + "' (" + in.layerType + ")";
    if (!in.shape.complete()) {
      error(in.loc, "the shape of graph input '" + in.name + "' (" + owner +
                        ") is not fully known (" + partialToString(in.shape) +
                        "); pass --input-shape " + in.name + "=NxCxHxW");
      continue;
    }
    std::string problem = checkShapeSize(in.shape.dims);
    if (!problem.empty())
      error(in.loc, "graph input '" + in.name + "' (" + owner + "): " + problem);
  }

  // --- Structure ------------------------------------------------------------------
  // Where each blob is produced: layer index, or -1 for a legacy input.
  std::map<std::string, int> producer;
  for (size_t i = 0; i < legacyInputs; ++i) {
    if (producer.count(inputs[i].name))
      error(inputs[i].loc, "Top blob '" + inputs[i].name +
                               "' produced by multiple sources: the net declares input '" +
                               inputs[i].name + "' twice");
    producer[inputs[i].name] = -1;
  }
  std::map<std::string, std::vector<int>> layersByName;
  for (int k = 0; k < kept.size(); ++k) {
    const caffe::LayerParameter &layer = kept.Get(k);
    const SourceLoc &loc = keptLocs[k];
    std::string ref = layerRef(layer, k);
    if (layer.type().empty())
      error(loc, ref + " has no type");
    if (!layer.name().empty())
      layersByName[layer.name()].push_back(k);
    for (const std::string &b : layer.bottom()) {
      if (producer.count(b))
        continue;
      int later = -1;
      for (int j = k; j < kept.size() && later < 0; ++j)
        for (const std::string &t : kept.Get(j).top())
          if (t == b) {
            later = j;
            break;
          }
      if (later == k)
        error(loc, ref + ": bottom blob '" + b +
                       "' is not produced by any earlier layer (only by this layer itself)");
      else if (later > k)
        error(loc, ref + ": bottom blob '" + b + "' is used before it is produced (by " +
                       layerRef(kept.Get(later), later) + lineRef(keptLocs[later]) +
                       "); the net would form a cycle");
      else
        error(loc, ref + ": bottom blob '" + b + "' is not produced by any layer or input");
    }
    for (int t = 0; t < layer.top_size(); ++t) {
      const std::string &top = layer.top(t);
      bool inPlace = t < layer.bottom_size() && layer.bottom(t) == top;
      if (inPlace)
        continue;
      auto it = producer.find(top);
      if (it != producer.end()) {
        std::string other = it->second < 0 ? std::string("the net's input")
                                           : (it->second == k ? std::string("this layer")
                                                              : layerRef(kept.Get(it->second),
                                                                         it->second) +
                                                                    lineRef(keptLocs[it->second]));
        error(loc, ref + ": Top blob '" + top + "' produced by multiple sources (also by " + other +
                       "); only an in-place layer (top equal to its bottom) may reuse a blob");
        continue;
      }
      producer[top] = k;
    }
    if (layer.propagate_down_size() > 0 && layer.propagate_down_size() != layer.bottom_size())
      error(loc, ref + " has " + std::to_string(layer.propagate_down_size()) +
                     " propagate_down entries for " + std::to_string(layer.bottom_size()) +
                     " bottoms; give none or one per bottom");
    if (layer.loss_weight_size() > layer.top_size())
      error(loc, ref + " has " + std::to_string(layer.loss_weight_size()) +
                     " loss_weight entries but only " + std::to_string(layer.top_size()) +
                     " tops");
  }
  // Caffe accepts two layers with one name, and real nets do it (LRCN names
  // several data layers "data", the MNIST autoencoder has two "loss" layers).
  // Weights are matched to layers by name, though, so two layers with learned
  // weights under one name are refused; other duplicates get a warning unless
  // they are all data sources (layers without bottoms).
  for (const auto &[name, indices] : layersByName) {
    if (indices.size() < 2)
      continue;
    int weighted = 0;
    bool allSources = true;
    for (int k : indices) {
      weighted += hasLearnedWeights(kept.Get(k)) ? 1 : 0;
      allSources &= kept.Get(k).bottom_size() == 0;
    }
    std::string first = lineRef(keptLocs[indices[0]]);
    for (size_t j = 1; j < indices.size(); ++j) {
      if (weighted >= 2)
        error(keptLocs[indices[j]], "duplicate layer name '" + name + "' (first used" + first +
                                        "); layers with learned weights need unique names, "
                                        "since weights are matched to layers by name");
      else if (!allSources)
        warning(keptLocs[indices[j]],
                "duplicate layer name '" + name + "' (first used" + first + ")");
    }
  }
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

} // namespace

std::optional<LoadedNet> loadNetFromString(const std::string &text, const std::string &filename,
                                           const LoadOptions &options,
                                           std::vector<Diagnostic> &diags) {
  Loader loader(text, filename, options, diags);
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

//===- GraphInputs.cpp - Graph inputs of a Caffe net ----------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The loader's graph inputs: the legacy `input`/`input_shape`/`input_dim`
// fields and the tops of data layers (Input, Data, ImageData, HDF5Data,
// MemoryData, WindowData, DummyData), with the shapes they give; the
// --input-shape and --batch overrides (and parseInputShapeSpec() for the
// former); and the check that every input ends with a known, sane shape.
//
//===----------------------------------------------------------------------===//

#include "LoaderInternal.h"

#include <algorithm>
#include <cctype>

namespace dlc::caffe_fe {

/// Largest element count accepted for a graph input.
static constexpr int64_t kMaxElements = int64_t(1) << 40;

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

std::string partialToString(const detail::PartialShape &s) {
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
// Collecting and checking the inputs
//===----------------------------------------------------------------------===//

namespace detail {

std::vector<PendingInput> Loader::collectInputs(const caffe::NetParameter &net,
                                                const pb::TextFormat::ParseInfoTree &tree,
                                                const LayerList &kept,
                                                const std::vector<SourceLoc> &keptLocs,
                                                Phase phase, size_t &legacyInputs) {
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
  legacyInputs = inputs.size();
  for (int i = 0; i < kept.size(); ++i)
    collectLayerInputs(kept.Get(i), i, keptLocs[i], phase, inputs);
  return inputs;
}

void Loader::collectLayerInputs(const caffe::LayerParameter &layer, size_t index,
                                const SourceLoc &loc, Phase phase,
                                std::vector<PendingInput> &inputs) {
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
  // One shape for all tops, or one per top (Input, DummyData).
  auto shapesPerTop = [&](const auto &list, const char *what) {
    if (list.size() == 1) {
      for (auto &s : shapes)
        s = fromBlobShape(list.Get(0));
    } else if (list.size() == numTops) {
      for (int t = 0; t < numTops; ++t)
        shapes[t] = fromBlobShape(list.Get(t));
    } else {
      error(loc, layerRef(layer, index) + " (" + what + ") has " + std::to_string(list.size()) +
                     " shapes for " + std::to_string(numTops) +
                     " tops; give one shape for all tops, or one per top");
      bad = true;
    }
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
    } else {
      shapesPerTop(p.shape(), "Input");
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
      } else {
        shapesPerTop(p.shape(), "DummyData");
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
  // Shapes the prototxt leaves open come from the data, when it can be read.
  std::string dataNote;
  bool incomplete = std::any_of(shapes.begin(), shapes.end(),
                                [](const PartialShape &s) { return !s.complete(); });
  if (incomplete && !bad && options_.dataShapes && type != "Input") {
    std::vector<std::vector<int64_t>> fromData = options_.dataShapes(layer, phase, dataNote);
    if (int(fromData.size()) == numTops)
      for (int t = 0; t < numTops; ++t)
        shapes[t] = PartialShape{fromData[t], true};
  }
  for (int t = 0; t < numTops; ++t)
    inputs.push_back({layer.top(t), shapes[t], type, layer.name(), loc, bad, dataNote});
}

void Loader::applyInputOptions(std::vector<PendingInput> &inputs) {
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
}

void Loader::checkInputShapes(const std::vector<PendingInput> &inputs) {
  for (const PendingInput &in : inputs) {
    if (in.shapeReported)
      continue;
    std::string owner = in.layerName.empty() && in.layerType == "input"
                            ? std::string("legacy 'input' field")
                            : "layer '" + in.layerName + "' (" + in.layerType + ")";
    if (!in.shape.complete()) {
      error(in.loc, "the shape of graph input '" + in.name + "' (" + owner +
                        ") is not fully known (" + partialToString(in.shape) +
                        "); pass --input-shape " + in.name + "=NxCxHxW" +
                        (in.dataNote.empty() ? std::string()
                                             : " (its data cannot size it: " + in.dataNote + ")"));
      continue;
    }
    std::string problem = checkShapeSize(in.shape.dims);
    if (!problem.empty())
      error(in.loc, "graph input '" + in.name + "' (" + owner + "): " + problem);
  }
}

} // namespace detail

} // namespace dlc::caffe_fe

//===- LayerImporter.cpp - Services for the layer importers ---------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The layer-type registry, and what every import function uses: bottom
// resolution, parameter blobs (`dl.param` with the layer's filler, shared
// by name), Caffe's float decimals.
//
//===----------------------------------------------------------------------===//

#include "LayerImporter.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/ErrorHandling.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <set>

using namespace mlir;

namespace dlc::frontend {

//===----------------------------------------------------------------------===//
// Registry
//===----------------------------------------------------------------------===//

static std::map<std::string, LayerRegistration> &registry() {
  static std::map<std::string, LayerRegistration> layers;
  return layers;
}

detail::RegisterLayers::RegisterLayers(std::initializer_list<LayerRegistration> layers) {
  for (const LayerRegistration &l : layers)
    if (!registry().emplace(l.type, l).second)
      llvm::report_fatal_error(llvm::Twine("layer type '") + l.type + "' registered twice");
}

const LayerRegistration *lookupLayer(StringRef type) {
  auto it = registry().find(type.str());
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> registeredLayerTypes() {
  std::vector<std::string> types;
  for (const auto &entry : registry())
    types.push_back(entry.first);
  return types;
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

void NetState::consume(const std::string &name) {
  available.erase(std::remove(available.begin(), available.end(), name), available.end());
}

void NetState::define(const std::string &name, Value value) {
  blobs[name] = value;
  consume(name);
  available.push_back(name);
}

LogicalResult checkTensorSize(Location loc, ArrayRef<int64_t> shape, const llvm::Twine &what) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return success(); // unknown; the dialect reports the cause
    if (d != 0 && n > kMaxTensorElements / d)
      return emitError(loc) << what << " is absurdly large (more than 2^32 elements)";
    n *= d;
  }
  if (n > kMaxTensorElements)
    return emitError(loc) << what << " is absurdly large (" << n << " elements, limit 2^32)";
  return success();
}

double floatToDouble(float v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::strtod(std::string(buf, r.ptr).c_str(), nullptr);
}

static std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

//===----------------------------------------------------------------------===//
// LayerContext
//===----------------------------------------------------------------------===//

LogicalResult LayerContext::resolveBottoms() {
  // The loader has checked that each bottom was produced before.
  bottoms_.clear();
  for (const auto &name : layer.bottom()) {
    auto it = net.blobs.find(name);
    if (it == net.blobs.end())
      return emitError() << "bottom '" << name << "' is not produced by any earlier layer";
    bottoms_.push_back(it->second);
    net.consume(name);
  }
  return success();
}

LogicalResult LayerContext::expectBottoms(size_t lo, size_t hi) {
  if (failed(resolveBottoms()))
    return failure();
  if (bottoms_.size() >= lo && bottoms_.size() <= hi)
    return success();
  InFlightDiagnostic d = emitError() << layer.type() << " layer takes ";
  if (lo == hi)
    d << lo;
  else if (hi == SIZE_MAX)
    d << "at least " << lo;
  else
    d << lo << " to " << hi;
  d << " bottom" << (hi == 1 ? "" : "s") << ", got " << bottoms_.size();
  return failure();
}

void LayerContext::defineTops(ValueRange values) {
  for (auto [name, v] : llvm::zip(layer.top(), values))
    net.define(name, v);
}

caffe::FillerParameter LayerContext::weightFiller(bool has,
                                                  const caffe::FillerParameter &f) const {
  if (has || !net.options.randomWeights)
    return f;
  caffe::FillerParameter x;
  x.set_type("xavier");
  return x;
}

Value LayerContext::constant(StringRef suffix, ArrayRef<int64_t> shape, ArrayRef<float> data) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  auto value = cast<DenseFPElementsAttr>(DenseElementsAttr::get(type, data));
  return b.create<mlir::dl::ParamOp>(loc, type, str(layer.name() + "/" + suffix.str()),
                                     fillerAttr(constantFiller(0.0f)), f64(0.0), f64(0.0),
                                     value);
}

std::string LayerContext::netFile() const {
  auto file = loc->findInstanceOf<FileLineColLoc>();
  return file ? file.getFilename().str() : std::string();
}

caffe::FillerParameter LayerContext::constantFiller(float value) {
  caffe::FillerParameter f;
  f.set_type("constant");
  f.set_value(value);
  return f;
}

DictionaryAttr LayerContext::fillerAttr(const caffe::FillerParameter &f) {
  SmallVector<NamedAttribute> a;
  auto add = [&](StringRef name, Attribute value) { a.push_back(b.getNamedAttr(name, value)); };
  add("type", str(lower(f.type())));
  if (f.has_value()) add("value", f64(f.value()));
  if (f.has_min()) add("min", f64(f.min()));
  if (f.has_max()) add("max", f64(f.max()));
  if (f.has_mean()) add("mean", f64(f.mean()));
  if (f.has_std()) add("std", f64(f.std()));
  if (f.has_sparse()) add("sparse", i64(f.sparse()));
  if (f.has_variance_norm()) {
    switch (f.variance_norm()) {
    case caffe::FillerParameter::FAN_IN: add("variance_norm", str("fan_in")); break;
    case caffe::FillerParameter::FAN_OUT: add("variance_norm", str("fan_out")); break;
    case caffe::FillerParameter::AVERAGE: add("variance_norm", str("average")); break;
    }
  }
  return b.getDictionaryAttr(a);
}

FailureOr<Value> LayerContext::param(unsigned index, ArrayRef<int64_t> shape,
                                     const caffe::FillerParameter &filler, ParamKind kind) {
  static const std::set<std::string> kFillers = {"constant", "gaussian", "xavier", "msra",
                                                 "uniform", "positive_unitball", "bilinear"};
  if (!kFillers.count(lower(filler.type())))
    return emitError() << "unknown filler type '" << filler.type()
                       << "' (expected constant, gaussian, xavier, msra, uniform, "
                          "positive_unitball or bilinear)";
  for (int64_t d : shape)
    if (d <= 0)
      return emitError() << "parameter " << index << " of layer '" << layer.name()
                         << "' would have a non-positive dimension";
  if (failed(checkTensorSize(loc, shape, "parameter")))
    return failure();
  bool statistic = kind == ParamKind::Statistic;
  std::string sharedName;
  double lr = statistic && index >= unsigned(layer.param_size()) ? 0 : 1;
  double decay = 1;
  if (index < unsigned(layer.param_size())) {
    const auto &ps = layer.param(index);
    sharedName = ps.name();
    lr = floatToDouble(ps.lr_mult());
    decay = floatToDouble(ps.decay_mult());
  }
  // BatchNorm's statistics are not learned by gradient: Caffe masks them
  // with lr_mult 0 and refuses any other value (batch_norm_layer.cpp).
  if (statistic) {
    if (lr != 0)
      return emitError() << "cannot configure batch normalization statistics as layer "
                            "parameters (param "
                         << index << " of layer '" << layer.name() << "' has lr_mult " << lr
                         << "; Caffe requires 0)";
    decay = 0;
  }
  auto type = RankedTensorType::get(shape, b.getF32Type());
  if (!sharedName.empty()) {
    auto it = net.sharedParams.find(sharedName);
    if (it != net.sharedParams.end()) {
      if (it->second.getType() != type)
        return emitError() << "shared parameter '" << sharedName << "' has shape "
                           << it->second.getType() << " here but " << type
                           << " where it was first declared";
      return it->second;
    }
  }
  std::string name = sharedName.empty() ? layer.name() + "/" + std::to_string(index) : sharedName;
  Value v = b.create<mlir::dl::ParamOp>(loc, type, str(name), fillerAttr(filler), f64(lr),
                                        f64(decay), /*value=*/DenseFPElementsAttr());
  if (!sharedName.empty())
    net.sharedParams[sharedName] = v;
  return v;
}

} // namespace dlc::frontend

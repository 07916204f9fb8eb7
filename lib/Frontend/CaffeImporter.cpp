//===- CaffeImporter.cpp - Caffe net to dl dialect ------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Walks the layers of a loaded (upgraded, phase-filtered, validated) Caffe net
// in order and emits one `dl` op per layer. Each op is created generically by
// name with Caffe's parameters as attributes (docs/dialect.md), then its
// result types are inferred by the dialect, which reports Caffe-level shape
// errors at the layer's location. Weights become `dl.param` ops carrying the
// layer's filler, so the runtime can materialize them.
//
//===----------------------------------------------------------------------===//

#include "dlc/Frontend/CaffeImporter.h"

#include "dlc/Dialect/DL/IR/DLDialect.h"
#include "dlc/Dialect/DL/IR/DLOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <set>

using namespace mlir;
using dlc::caffe_fe::LoadedNet;
using dlc::caffe_fe::Phase;

namespace dlc::frontend {
namespace {

/// Layer types whose tops are graph inputs.
const std::set<std::string> kDataLayers = {"Input",      "Data",      "ImageData",
                                           "HDF5Data",   "MemoryData", "DummyData",
                                           "WindowData"};

/// Caffe layer type -> dl op name (without the prefix), for layers that map
/// to exactly one op.
const std::map<std::string, std::string> kOpNames = {
    {"Convolution", "convolution"},
    {"Deconvolution", "deconvolution"},
    {"InnerProduct", "inner_product"},
    {"Pooling", "pooling"},
    {"LRN", "lrn"},
    {"ReLU", "relu"},
    {"Sigmoid", "sigmoid"},
    {"TanH", "tanh"},
    {"AbsVal", "abs_val"},
    {"BNLL", "bnll"},
    {"ELU", "elu"},
    {"Power", "power"},
    {"PReLU", "prelu"},
    {"Dropout", "dropout"},
    {"Softmax", "softmax"},
    {"BatchNorm", "batch_norm"},
    {"Scale", "scale"},
    {"Bias", "bias"},
    {"Eltwise", "eltwise"},
    {"Concat", "concat"},
    {"Slice", "slice"},
    {"Crop", "crop"},
    {"Flatten", "flatten"},
    {"Reshape", "reshape"},
    {"Embed", "embed"},
    {"LSTM", "lstm"},
    {"Silence", "silence"},
    {"SoftmaxWithLoss", "softmax_with_loss"},
    {"EuclideanLoss", "euclidean_loss"},
    {"SigmoidCrossEntropyLoss", "sigmoid_cross_entropy_loss"},
    {"ContrastiveLoss", "contrastive_loss"},
    {"Accuracy", "accuracy"},
};

const std::set<std::string> kLossLayers = {"SoftmaxWithLoss", "EuclideanLoss",
                                           "SigmoidCrossEntropyLoss", "ContrastiveLoss"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

/// Per-layer import context: the layer, its location, its input values, and
/// the attributes/operands being assembled.
class Importer {
public:
  Importer(MLIRContext &ctx, const LoadedNet &net, const ImportOptions &options)
      : ctx(ctx), net(net), options(options), b(&ctx) {}

  OwningOpRef<ModuleOp> run();

private:
  using Layer = caffe::LayerParameter;

  Location layerLoc(size_t index) const;
  bool checkSupportedTypes();
  LogicalResult importLayer(size_t index);
  LogicalResult checkSize(Location loc, ArrayRef<int64_t> shape, StringRef what);
  LogicalResult attachLoss(Location fileLoc);

  // Attribute helpers.
  NamedAttribute i64(StringRef name, int64_t v) { return b.getNamedAttr(name, b.getI64IntegerAttr(v)); }
  NamedAttribute f64(StringRef name, double v) { return b.getNamedAttr(name, b.getF64FloatAttr(v)); }
  /// Caffe stores most reals as float: keep the decimal the user wrote
  /// (0.0001f becomes 1.0e-4, not 9.9999997473787516e-5).
  NamedAttribute f64(StringRef name, float v) { return f64(name, floatToDouble(v)); }
  static double floatToDouble(float v) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::strtod(std::string(buf, r.ptr).c_str(), nullptr);
  }
  NamedAttribute boolean(StringRef name, bool v) { return b.getNamedAttr(name, b.getBoolAttr(v)); }
  NamedAttribute str(StringRef name, StringRef v) { return b.getNamedAttr(name, b.getStringAttr(v)); }
  NamedAttribute i64s(StringRef name, ArrayRef<int64_t> v) {
    return b.getNamedAttr(name, b.getDenseI64ArrayAttr(v));
  }
  NamedAttribute f64s(StringRef name, ArrayRef<double> v) {
    return b.getNamedAttr(name, b.getDenseF64ArrayAttr(v));
  }

  /// Creates (or reuses, for a shared name) the layer's `index`-th parameter.
  FailureOr<Value> param(const Layer &layer, Location loc, unsigned index, ArrayRef<int64_t> shape,
                         const caffe::FillerParameter &filler);
  DictionaryAttr fillerAttr(const caffe::FillerParameter &f);

  static ArrayRef<int64_t> shapeOf(Value v) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    return t ? t.getShape() : ArrayRef<int64_t>();
  }

  /// Spatial vectors of convolution-like parameters, expanded as Caffe does.
  LogicalResult convGeometry(const caffe::ConvolutionParameter &p, Location loc, int64_t rank,
                             SmallVectorImpl<NamedAttribute> &attrs);
  LogicalResult poolingAttrs(const caffe::PoolingParameter &p, Location loc, int64_t rank,
                             SmallVectorImpl<NamedAttribute> &attrs);
  void lossAttrs(const Layer &layer, SmallVectorImpl<NamedAttribute> &attrs,
                 const char *defaultNormalization);

  /// The filler of a weight blob: the layer's own, or (when the layer gives
  /// none and randomWeights is set) xavier.
  caffe::FillerParameter weightFiller(bool has, const caffe::FillerParameter &f) const {
    if (has || !options.randomWeights)
      return f;
    caffe::FillerParameter x;
    x.set_type("xavier");
    return x;
  }

  /// Blob 0 (weights of `wshape`) and, with bias_term, blob 1 ([num_output])
  /// of a Convolution/Deconvolution/InnerProduct/Embed layer.
  template <typename P>
  LogicalResult weightAndBias(const Layer &layer, Location loc, ArrayRef<int64_t> wshape,
                              const P &p, SmallVectorImpl<Value> &operands) {
    auto w = param(layer, loc, 0, wshape, weightFiller(p.has_weight_filler(), p.weight_filler()));
    if (failed(w))
      return failure();
    operands.push_back(*w);
    if (!p.bias_term())
      return success();
    auto bias = param(layer, loc, 1, {int64_t(p.num_output())}, p.bias_filler());
    if (failed(bias))
      return failure();
    operands.push_back(*bias);
    return success();
  }

  MLIRContext &ctx;
  const LoadedNet &net;
  const ImportOptions &options;
  OpBuilder b;
  func::FuncOp func;
  /// Current value of each blob (top) name; in-place layers overwrite.
  llvm::StringMap<Value> blobs;
  /// Blobs produced and not consumed since (Caffe's net outputs), in order.
  std::vector<std::string> available;
  /// Shared parameters by their `param { name }`, with their shape.
  llvm::StringMap<Value> sharedParams;
  Phase phase;
};

Location Importer::layerLoc(size_t index) const {
  const auto &sl = net.layerLocs.at(index);
  Location fileLoc = FileLineColLoc::get(&ctx, sl.file.empty() ? net.file : sl.file,
                                         std::max(sl.line, 0), std::max(sl.column, 0));
  return NameLoc::get(StringAttr::get(&ctx, net.net.layer(index).name()), fileLoc);
}

bool Importer::checkSupportedTypes() {
  std::vector<size_t> bad;
  for (int i = 0; i < net.net.layer_size(); ++i) {
    const std::string &type = net.net.layer(i).type();
    if (!kDataLayers.count(type) && !kOpNames.count(type) && type != "Split")
      bad.push_back(i);
  }
  if (bad.empty())
    return true;
  std::set<std::string> types;
  for (size_t i : bad)
    types.insert(net.net.layer(i).type());
  std::string list;
  for (const auto &t : types)
    list += (list.empty() ? "'" : ", '") + t + "'";
  InFlightDiagnostic diag = emitError(layerLoc(bad.front()))
                            << bad.size() << " layer" << (bad.size() == 1 ? " has an" : "s have")
                            << " unsupported type" << (bad.size() == 1 ? "" : "s") << " (" << list
                            << ")";
  for (size_t i : bad) {
    const auto &l = net.net.layer(i);
    diag.attachNote(layerLoc(i)) << "layer '" << l.name() << "' of type '" << l.type() << "'";
  }
  return false;
}

LogicalResult Importer::checkSize(Location loc, ArrayRef<int64_t> shape, StringRef what) {
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

DictionaryAttr Importer::fillerAttr(const caffe::FillerParameter &f) {
  SmallVector<NamedAttribute> a;
  a.push_back(str("type", lower(f.type())));
  if (f.has_value()) a.push_back(f64("value", f.value()));
  if (f.has_min()) a.push_back(f64("min", f.min()));
  if (f.has_max()) a.push_back(f64("max", f.max()));
  if (f.has_mean()) a.push_back(f64("mean", f.mean()));
  if (f.has_std()) a.push_back(f64("std", f.std()));
  if (f.has_sparse()) a.push_back(i64("sparse", f.sparse()));
  if (f.has_variance_norm()) {
    switch (f.variance_norm()) {
    case caffe::FillerParameter::FAN_IN: a.push_back(str("variance_norm", "fan_in")); break;
    case caffe::FillerParameter::FAN_OUT: a.push_back(str("variance_norm", "fan_out")); break;
    case caffe::FillerParameter::AVERAGE: a.push_back(str("variance_norm", "average")); break;
    }
  }
  return b.getDictionaryAttr(a);
}

FailureOr<Value> Importer::param(const Layer &layer, Location loc, unsigned index,
                                 ArrayRef<int64_t> shape, const caffe::FillerParameter &filler) {
  static const std::set<std::string> kFillers = {"constant", "gaussian", "xavier", "msra",
                                                 "uniform", "positive_unitball", "bilinear"};
  if (!kFillers.count(lower(filler.type())))
    return emitError(loc) << "unknown filler type '" << filler.type()
                          << "' (expected constant, gaussian, xavier, msra, uniform, "
                             "positive_unitball or bilinear)";
  for (int64_t d : shape)
    if (d <= 0)
      return emitError(loc) << "parameter " << index << " of layer '" << layer.name()
                            << "' would have a non-positive dimension";
  if (failed(checkSize(loc, shape, "parameter")))
    return failure();
  std::string sharedName;
  double lr = layer.type() == "BatchNorm" && index >= unsigned(layer.param_size()) ? 0 : 1;
  double decay = 1;
  if (index < unsigned(layer.param_size())) {
    const auto &ps = layer.param(index);
    sharedName = ps.name();
    lr = floatToDouble(ps.lr_mult());
    decay = floatToDouble(ps.decay_mult());
  }
  // BatchNorm's statistics are not learned by gradient: Caffe masks them
  // with lr_mult 0 and refuses any other value (batch_norm_layer.cpp).
  if (layer.type() == "BatchNorm") {
    if (lr != 0)
      return emitError(loc) << "cannot configure batch normalization statistics as layer "
                               "parameters (param "
                            << index << " of layer '" << layer.name() << "' has lr_mult " << lr
                            << "; Caffe requires 0)";
    decay = 0;
  }
  auto type = RankedTensorType::get(shape, b.getF32Type());
  if (!sharedName.empty()) {
    auto it = sharedParams.find(sharedName);
    if (it != sharedParams.end()) {
      if (it->second.getType() != type)
        return emitError(loc) << "shared parameter '" << sharedName << "' has shape "
                              << it->second.getType() << " here but " << type
                              << " where it was first declared";
      return it->second;
    }
  }
  std::string name = sharedName.empty() ? layer.name() + "/" + std::to_string(index) : sharedName;
  OperationState st(loc, "dl.param");
  st.addAttribute("name", b.getStringAttr(name));
  st.addAttribute("filler", fillerAttr(filler));
  st.addAttribute("lr_mult", b.getF64FloatAttr(lr));
  st.addAttribute("decay_mult", b.getF64FloatAttr(decay));
  st.addTypes(type);
  Value v = b.create(st)->getResult(0);
  if (!sharedName.empty())
    sharedParams[sharedName] = v;
  return v;
}

static caffe::FillerParameter constantFiller(float value) {
  caffe::FillerParameter f;
  f.set_type("constant");
  f.set_value(value);
  return f;
}

LogicalResult Importer::convGeometry(const caffe::ConvolutionParameter &p, Location loc,
                                     int64_t rank, SmallVectorImpl<NamedAttribute> &attrs) {
  int64_t axis = p.axis() < 0 ? p.axis() + rank : p.axis();
  if (axis < 0 || axis >= rank)
    return emitError(loc) << "convolution axis " << p.axis() << " out of range for a rank-"
                          << rank << " input";
  int64_t n = rank - axis - 1;
  if (n < 1)
    return emitError(loc) << "convolution needs at least one spatial axis after axis " << axis;
  if (axis != 1)
    return emitError(loc) << "convolution with axis " << p.axis()
                          << " is not supported (only the channel axis 1)";
  auto expand = [&](const google::protobuf::RepeatedField<uint32_t> &v, bool hasHW, uint32_t h,
                    uint32_t w, int64_t def, StringRef what,
                    SmallVectorImpl<int64_t> &out) -> LogicalResult {
    if (hasHW) {
      if (v.size() != 0)
        return emitError(loc) << "either " << what << "_size/" << what << " or " << what << "_h/"
                              << what << "_w may be given, not both";
      if (n != 2)
        return emitError(loc) << what << "_h/" << what << "_w can only be used for 2-D";
      out.assign({int64_t(h), int64_t(w)});
      return success();
    }
    if (v.size() == 0) {
      out.assign(n, def);
    } else if (v.size() == 1) {
      out.assign(n, v.Get(0));
    } else if (v.size() == n) {
      out.assign(v.begin(), v.end());
    } else {
      return emitError(loc) << what << " has " << v.size() << " values; expected 1 or " << n;
    }
    return success();
  };
  SmallVector<int64_t> kernel, stride, pad, dilation;
  if (failed(expand(p.kernel_size(), p.has_kernel_h() || p.has_kernel_w(), p.kernel_h(),
                    p.kernel_w(), -1, "kernel", kernel)))
    return failure();
  if (p.kernel_size_size() == 0 && !(p.has_kernel_h() || p.has_kernel_w()))
    return emitError(loc) << "convolution_param needs kernel_size or kernel_h and kernel_w";
  if (failed(expand(p.stride(), p.has_stride_h() || p.has_stride_w(), p.stride_h(), p.stride_w(),
                    1, "stride", stride)) ||
      failed(expand(p.pad(), p.has_pad_h() || p.has_pad_w(), p.pad_h(), p.pad_w(), 0, "pad", pad)))
    return failure();
  if (p.dilation_size() == 0)
    dilation.assign(n, 1);
  else if (p.dilation_size() == 1)
    dilation.assign(n, p.dilation(0));
  else if (p.dilation_size() == n)
    dilation.assign(p.dilation().begin(), p.dilation().end());
  else
    return emitError(loc) << "dilation has " << p.dilation_size() << " values; expected 1 or " << n;
  attrs.push_back(i64s("kernel", kernel));
  attrs.push_back(i64s("stride", stride));
  attrs.push_back(i64s("pad", pad));
  attrs.push_back(i64s("dilation", dilation));
  attrs.push_back(i64("num_output", p.num_output()));
  attrs.push_back(i64("group", p.group()));
  return success();
}

LogicalResult Importer::poolingAttrs(const caffe::PoolingParameter &p, Location loc, int64_t rank,
                                     SmallVectorImpl<NamedAttribute> &attrs) {
  if (rank != 4)
    return emitError(loc) << "pooling needs a 4-D (NxCxHxW) input, got rank " << rank;
  SmallVector<int64_t> kernel, stride, pad;
  if (p.global_pooling()) {
    if (p.has_kernel_size() || p.has_kernel_h() || p.has_kernel_w())
      return emitError(loc) << "with global_pooling: true, kernel size cannot be specified";
    kernel = {0, 0};
  } else if (p.has_kernel_size()) {
    if (p.has_kernel_h() || p.has_kernel_w())
      return emitError(loc) << "either kernel_size or kernel_h/kernel_w may be given, not both";
    kernel = {p.kernel_size(), p.kernel_size()};
  } else if (p.has_kernel_h() && p.has_kernel_w()) {
    kernel = {p.kernel_h(), p.kernel_w()};
  } else {
    return emitError(loc) << "pooling_param needs kernel_size, kernel_h and kernel_w, or "
                             "global_pooling";
  }
  if (p.has_stride_h() || p.has_stride_w())
    stride = {p.stride_h(), p.stride_w()};
  else
    stride = {p.stride(), p.stride()};
  if (p.has_pad_h() || p.has_pad_w())
    pad = {p.pad_h(), p.pad_w()};
  else
    pad = {p.pad(), p.pad()};
  const char *method = "max";
  switch (p.pool()) {
  case caffe::PoolingParameter::MAX: method = "max"; break;
  case caffe::PoolingParameter::AVE: method = "ave"; break;
  case caffe::PoolingParameter::STOCHASTIC: method = "stochastic"; break;
  }
  attrs.push_back(str("pool", method));
  attrs.push_back(i64s("kernel", kernel));
  attrs.push_back(i64s("stride", stride));
  attrs.push_back(i64s("pad", pad));
  attrs.push_back(boolean("global_pooling", p.global_pooling()));
  attrs.push_back(
      str("round_mode", p.round_mode() == caffe::PoolingParameter::FLOOR ? "floor" : "ceil"));
  return success();
}

void Importer::lossAttrs(const Layer &layer, SmallVectorImpl<NamedAttribute> &attrs,
                         const char *defaultNormalization) {
  attrs.push_back(f64("loss_weight", layer.loss_weight_size() ? floatToDouble(layer.loss_weight(0)) : 1.0));
  if (!defaultNormalization)
    return;
  const auto &lp = layer.loss_param();
  std::string norm = defaultNormalization;
  if (lp.has_normalization()) {
    switch (lp.normalization()) {
    case caffe::LossParameter::FULL: norm = "full"; break;
    case caffe::LossParameter::VALID: norm = "valid"; break;
    case caffe::LossParameter::BATCH_SIZE: norm = "batch_size"; break;
    case caffe::LossParameter::NONE: norm = "none"; break;
    }
  } else if (lp.has_normalize()) {
    norm = lp.normalize() ? "valid" : "batch_size";
  }
  attrs.push_back(str("normalization", norm));
  if (lp.has_ignore_label())
    attrs.push_back(i64("ignore_label", lp.ignore_label()));
}

LogicalResult Importer::importLayer(size_t index) {
  const Layer &layer = net.net.layer(index);
  const std::string &type = layer.type();
  Location loc = layerLoc(index);
  if (kDataLayers.count(type))
    return success(); // tops are function arguments

  // Resolve bottoms (the loader has checked that each was produced before).
  SmallVector<Value> bottoms;
  for (const auto &name : layer.bottom()) {
    auto it = blobs.find(name);
    if (it == blobs.end())
      return emitError(loc) << "bottom '" << name << "' is not produced by any earlier layer";
    bottoms.push_back(it->second);
    available.erase(std::remove(available.begin(), available.end(), name), available.end());
  }
  auto defineTops = [&](ValueRange values) {
    for (auto [name, v] : llvm::zip(layer.top(), values)) {
      blobs[name] = v;
      available.erase(std::remove(available.begin(), available.end(), name), available.end());
      available.push_back(name);
    }
  };
  if (type == "Split") {
    if (bottoms.size() != 1)
      return emitError(loc) << "Split takes exactly one bottom, got " << bottoms.size();
    SmallVector<Value> copies(layer.top_size(), bottoms[0]);
    defineTops(copies);
    return success();
  }

  auto expectBottoms = [&](size_t lo, size_t hi) -> LogicalResult {
    if (bottoms.size() < lo || bottoms.size() > hi) {
      InFlightDiagnostic d = emitError(loc) << type << " layer takes ";
      if (lo == hi)
        d << lo;
      else if (hi == SIZE_MAX)
        d << "at least " << lo;
      else
        d << lo << " to " << hi;
      d << " bottom" << (hi == 1 ? "" : "s") << ", got " << bottoms.size();
      return failure();
    }
    return success();
  };
  auto rankOf = [&](Value v) -> int64_t { return shapeOf(v).size(); };

  std::string opName = "dl." + kOpNames.at(type);
  SmallVector<NamedAttribute> attrs;
  SmallVector<Value> operands(bottoms.begin(), bottoms.end());
  unsigned numResults = 1;

  if (type == "Convolution" || type == "Deconvolution") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    const auto &p = layer.convolution_param();
    int64_t rank = rankOf(bottoms[0]);
    if (failed(convGeometry(p, loc, rank, attrs)))
      return failure();
    if (p.num_output() == 0)
      return emitError(loc) << "num_output must be positive";
    if (p.group() == 0)
      return emitError(loc) << "group must be positive";
    int64_t c = shapeOf(bottoms[0])[1];
    if (c % p.group() != 0)
      return emitError(loc) << "group " << p.group() << " does not divide the " << c
                            << " input channels";
    if (p.num_output() % p.group() != 0)
      return emitError(loc) << "group " << p.group() << " does not divide num_output "
                            << p.num_output();
    SmallVector<int64_t> wshape;
    if (type == "Convolution")
      wshape = {int64_t(p.num_output()), c / int64_t(p.group())};
    else
      wshape = {c, int64_t(p.num_output()) / int64_t(p.group())};
    for (auto &na : attrs)
      if (na.getName() == "kernel")
        for (int64_t k : cast<DenseI64ArrayAttr>(na.getValue()).asArrayRef())
          wshape.push_back(k);
    if (failed(weightAndBias(layer, loc, wshape, p, operands)))
      return failure();
  } else if (type == "InnerProduct") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    const auto &p = layer.inner_product_param();
    auto shape = shapeOf(bottoms[0]);
    int64_t rank = shape.size();
    int64_t axis = p.axis() < 0 ? p.axis() + rank : p.axis();
    if (axis < 0 || axis >= rank)
      return emitError(loc) << "inner_product axis " << p.axis() << " out of range for a rank-"
                            << rank << " input";
    if (p.num_output() == 0)
      return emitError(loc) << "num_output must be positive";
    int64_t k = 1;
    for (int64_t i = axis; i < rank; ++i)
      k *= shape[i];
    attrs.push_back(i64("num_output", p.num_output()));
    attrs.push_back(i64("axis", axis));
    attrs.push_back(boolean("transpose", p.transpose()));
    SmallVector<int64_t> wshape = {int64_t(p.num_output()), k};
    if (p.transpose())
      std::swap(wshape[0], wshape[1]);
    if (failed(weightAndBias(layer, loc, wshape, p, operands)))
      return failure();
  } else if (type == "Pooling") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    if (layer.top_size() > 1)
      return emitError(loc) << "Pooling with a second (mask) top is not supported";
    if (failed(poolingAttrs(layer.pooling_param(), loc, rankOf(bottoms[0]), attrs)))
      return failure();
  } else if (type == "LRN") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    const auto &p = layer.lrn_param();
    attrs.push_back(i64("local_size", p.local_size()));
    attrs.push_back(f64("alpha", p.alpha()));
    attrs.push_back(f64("beta", p.beta()));
    attrs.push_back(f64("k", p.k()));
    attrs.push_back(str("norm_region", p.norm_region() == caffe::LRNParameter::WITHIN_CHANNEL
                                           ? "within_channel"
                                           : "across_channels"));
  } else if (type == "ReLU") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    attrs.push_back(f64("negative_slope", layer.relu_param().negative_slope()));
  } else if (type == "Sigmoid" || type == "TanH" || type == "AbsVal" || type == "BNLL") {
    if (failed(expectBottoms(1, 1)))
      return failure();
  } else if (type == "ELU") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    attrs.push_back(f64("alpha", layer.elu_param().alpha()));
  } else if (type == "Power") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    const auto &p = layer.power_param();
    attrs.push_back(f64("power", p.power()));
    attrs.push_back(f64("scale", p.scale()));
    attrs.push_back(f64("shift", p.shift()));
  } else if (type == "PReLU") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    const auto &p = layer.prelu_param();
    auto shape = shapeOf(bottoms[0]);
    if (shape.size() < 2)
      return emitError(loc) << "PReLU needs an input of rank >= 2";
    attrs.push_back(boolean("channel_shared", p.channel_shared()));
    caffe::FillerParameter f = p.has_filler() ? p.filler() : constantFiller(0.25f);
    auto slope = param(layer, loc, 0, {p.channel_shared() ? 1 : shape[1]}, f);
    if (failed(slope))
      return failure();
    operands.push_back(*slope);
  } else if (type == "Dropout") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    float ratio = layer.dropout_param().dropout_ratio();
    if (ratio < 0 || ratio >= 1)
      return emitError(loc) << "dropout_ratio must be in [0, 1), got " << ratio;
    attrs.push_back(f64("ratio", ratio));
    attrs.push_back(boolean("train", phase == Phase::Train));
  } else if (type == "Softmax") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    int64_t rank = rankOf(bottoms[0]);
    int64_t axis = layer.softmax_param().axis();
    axis = axis < 0 ? axis + rank : axis;
    if (axis < 0 || axis >= rank)
      return emitError(loc) << "softmax axis " << layer.softmax_param().axis()
                            << " out of range for a rank-" << rank << " input";
    attrs.push_back(i64("axis", axis));
  } else if (type == "BatchNorm") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    const auto &p = layer.batch_norm_param();
    auto shape = shapeOf(bottoms[0]);
    if (shape.size() < 2)
      return emitError(loc) << "BatchNorm needs an input of rank >= 2";
    bool global = p.has_use_global_stats() ? p.use_global_stats() : phase == Phase::Test;
    attrs.push_back(boolean("use_global_stats", global));
    attrs.push_back(f64("moving_average_fraction", p.moving_average_fraction()));
    attrs.push_back(f64("eps", p.eps()));
    // Caffe initializes all three blobs to 0. dlc starts the variance and the
    // scale factor at 1 so that an untrained net stays finite (documented in
    // docs/dialect.md); weights from a .caffemodel replace them.
    int64_t c = shape[1];
    for (auto [i, init] : llvm::enumerate(std::array<float, 3>{0.f, 1.f, 1.f})) {
      auto v = param(layer, loc, i, {i == 2 ? 1 : c}, constantFiller(init));
      if (failed(v))
        return failure();
      operands.push_back(*v);
    }
  } else if (type == "Scale" || type == "Bias") {
    if (failed(expectBottoms(1, 2)))
      return failure();
    bool isScale = type == "Scale";
    int64_t axisP = isScale ? layer.scale_param().axis() : layer.bias_param().axis();
    int64_t numAxes = isScale ? layer.scale_param().num_axes() : layer.bias_param().num_axes();
    auto shape = shapeOf(bottoms[0]);
    int64_t rank = shape.size();
    int64_t axis = axisP < 0 ? axisP + rank : axisP;
    if (axis < 0 || axis > rank)
      return emitError(loc) << type << " axis " << axisP << " out of range for a rank-" << rank
                            << " input";
    attrs.push_back(i64("axis", axis));
    attrs.push_back(i64("num_axes", numAxes));
    if (bottoms.size() == 1) {
      if (numAxes < -1 || (numAxes >= 0 && axis + numAxes > rank))
        return emitError(loc) << type << " num_axes " << numAxes << " out of range (axis "
                              << axis << ", input rank " << rank << ")";
      SmallVector<int64_t> pshape(shape.begin() + axis,
                                  numAxes == -1 ? shape.end() : shape.begin() + axis + numAxes);
      caffe::FillerParameter f;
      if (isScale)
        f = layer.scale_param().has_filler() ? layer.scale_param().filler() : constantFiller(1);
      else
        f = layer.bias_param().has_filler() ? layer.bias_param().filler() : constantFiller(0);
      if (pshape.empty())
        pshape.push_back(1);
      auto v = param(layer, loc, 0, pshape, f);
      if (failed(v))
        return failure();
      operands.push_back(*v);
    }
    if (isScale && layer.scale_param().bias_term()) {
      auto sshape = shapeOf(operands[1]);
      auto bf = layer.scale_param().has_bias_filler() ? layer.scale_param().bias_filler()
                                                      : constantFiller(0);
      auto v = param(layer, loc, bottoms.size() == 1 ? 1 : 0, sshape, bf);
      if (failed(v))
        return failure();
      operands.push_back(*v);
    }
  } else if (type == "Eltwise") {
    if (failed(expectBottoms(2, SIZE_MAX)))
      return failure();
    const auto &p = layer.eltwise_param();
    const char *op = "sum";
    switch (p.operation()) {
    case caffe::EltwiseParameter::PROD: op = "prod"; break;
    case caffe::EltwiseParameter::SUM: op = "sum"; break;
    case caffe::EltwiseParameter::MAX: op = "max"; break;
    }
    if (p.coeff_size() && p.coeff_size() != int(bottoms.size()))
      return emitError(loc) << "Eltwise has " << p.coeff_size() << " coeff values for "
                            << bottoms.size() << " bottoms";
    if (p.coeff_size() && p.operation() != caffe::EltwiseParameter::SUM)
      return emitError(loc) << "Eltwise coeff is only allowed for operation SUM";
    attrs.push_back(str("operation", op));
    SmallVector<double> coeff;
    for (float c : p.coeff())
      coeff.push_back(floatToDouble(c));
    attrs.push_back(f64s("coeff", coeff));
  } else if (type == "Concat") {
    if (failed(expectBottoms(1, SIZE_MAX)))
      return failure();
    const auto &p = layer.concat_param();
    int64_t rank = rankOf(bottoms[0]);
    int64_t axis = p.has_concat_dim() ? int64_t(p.concat_dim()) : int64_t(p.axis());
    axis = axis < 0 ? axis + rank : axis;
    if (axis < 0 || axis >= rank)
      return emitError(loc) << "concat axis out of range for a rank-" << rank << " input";
    attrs.push_back(i64("axis", axis));
  } else if (type == "Slice") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    const auto &p = layer.slice_param();
    int64_t rank = rankOf(bottoms[0]);
    int64_t axis = p.has_slice_dim() ? int64_t(p.slice_dim()) : int64_t(p.axis());
    axis = axis < 0 ? axis + rank : axis;
    if (axis < 0 || axis >= rank)
      return emitError(loc) << "slice axis out of range for a rank-" << rank << " input";
    if (p.slice_point_size() && p.slice_point_size() != layer.top_size() - 1)
      return emitError(loc) << "Slice has " << p.slice_point_size() << " slice_point values for "
                            << layer.top_size() << " tops (expected " << layer.top_size() - 1
                            << ")";
    attrs.push_back(i64("axis", axis));
    SmallVector<int64_t> points(p.slice_point().begin(), p.slice_point().end());
    attrs.push_back(i64s("slice_points", points));
    numResults = layer.top_size();
  } else if (type == "Crop") {
    if (failed(expectBottoms(2, 2)))
      return failure();
    const auto &p = layer.crop_param();
    int64_t rank = rankOf(bottoms[0]);
    int64_t axis = p.axis() < 0 ? p.axis() + rank : p.axis();
    attrs.push_back(i64("axis", axis));
    SmallVector<int64_t> offset(p.offset().begin(), p.offset().end());
    attrs.push_back(i64s("offset", offset));
  } else if (type == "Flatten") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    attrs.push_back(i64("axis", layer.flatten_param().axis()));
    attrs.push_back(i64("end_axis", layer.flatten_param().end_axis()));
  } else if (type == "Reshape") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    const auto &p = layer.reshape_param();
    SmallVector<int64_t> dims(p.shape().dim().begin(), p.shape().dim().end());
    attrs.push_back(i64s("shape", dims));
    attrs.push_back(i64("axis", p.axis()));
    attrs.push_back(i64("num_axes", p.num_axes()));
  } else if (type == "Embed") {
    if (failed(expectBottoms(1, 1)))
      return failure();
    const auto &p = layer.embed_param();
    if (p.num_output() == 0 || p.input_dim() == 0)
      return emitError(loc) << "Embed needs positive num_output and input_dim";
    attrs.push_back(i64("num_output", p.num_output()));
    attrs.push_back(i64("input_dim", p.input_dim()));
    if (failed(weightAndBias(layer, loc, {int64_t(p.input_dim()), int64_t(p.num_output())}, p,
                             operands)))
      return failure();
  } else if (type == "LSTM") {
    if (failed(expectBottoms(2, 3)))
      return failure();
    const auto &p = layer.recurrent_param();
    if (p.num_output() == 0)
      return emitError(loc) << "LSTM needs a positive num_output";
    if (p.expose_hidden())
      return emitError(loc) << "LSTM with expose_hidden: true is not supported";
    auto xs = shapeOf(bottoms[0]);
    if (xs.size() < 2)
      return emitError(loc) << "LSTM input must be T x N x ...";
    int64_t h = p.num_output(), in = 1;
    for (size_t i = 2; i < xs.size(); ++i)
      in *= xs[i];
    attrs.push_back(i64("num_output", h));
    attrs.push_back(boolean("expose_hidden", false));
    bool hasStatic = bottoms.size() == 3;
    caffe::FillerParameter wf = weightFiller(p.has_weight_filler(), p.weight_filler());
    auto wxc = param(layer, loc, 0, {4 * h, in}, wf);
    if (failed(wxc))
      return failure();
    auto bc = param(layer, loc, 1, {4 * h}, p.bias_filler());
    if (failed(bc))
      return failure();
    operands.assign({bottoms[0], bottoms[1]});
    if (hasStatic)
      operands.push_back(bottoms[2]);
    operands.push_back(*wxc);
    operands.push_back(*bc);
    unsigned next = 2;
    if (hasStatic) {
      auto ss = shapeOf(bottoms[2]);
      int64_t is = 1;
      for (size_t i = 1; i < ss.size(); ++i)
        is *= ss[i];
      auto ws = param(layer, loc, next++, {4 * h, is}, wf);
      if (failed(ws))
        return failure();
      operands.push_back(*ws);
    }
    auto whc = param(layer, loc, next, {4 * h, h}, wf);
    if (failed(whc))
      return failure();
    operands.push_back(*whc);
    int32_t one = 1, none = 0;
    attrs.push_back(b.getNamedAttr(
        "operandSegmentSizes",
        b.getDenseI32ArrayAttr({one, one, hasStatic ? one : none, one, one,
                                hasStatic ? one : none, one})));
  } else if (type == "Silence") {
    numResults = 0;
  } else if (type == "SoftmaxWithLoss") {
    if (failed(expectBottoms(2, 2)))
      return failure();
    int64_t rank = rankOf(bottoms[0]);
    int64_t axis = layer.softmax_param().axis();
    axis = axis < 0 ? axis + rank : axis;
    if (axis < 0 || axis >= rank)
      return emitError(loc) << "softmax axis out of range for a rank-" << rank << " input";
    attrs.push_back(i64("axis", axis));
    lossAttrs(layer, attrs, "valid");
  } else if (type == "EuclideanLoss") {
    if (failed(expectBottoms(2, 2)))
      return failure();
    lossAttrs(layer, attrs, nullptr);
  } else if (type == "SigmoidCrossEntropyLoss") {
    if (failed(expectBottoms(2, 2)))
      return failure();
    lossAttrs(layer, attrs, "batch_size");
  } else if (type == "ContrastiveLoss") {
    if (failed(expectBottoms(3, 3)))
      return failure();
    attrs.push_back(f64("margin", layer.contrastive_loss_param().margin()));
    attrs.push_back(boolean("legacy_version", layer.contrastive_loss_param().legacy_version()));
    lossAttrs(layer, attrs, nullptr);
  } else if (type == "Accuracy") {
    if (failed(expectBottoms(2, 2)))
      return failure();
    if (layer.top_size() > 1)
      return emitError(loc) << "Accuracy with a per-class (second) top is not supported";
    const auto &p = layer.accuracy_param();
    int64_t rank = rankOf(bottoms[0]);
    int64_t axis = p.axis() < 0 ? p.axis() + rank : p.axis();
    attrs.push_back(i64("top_k", p.top_k()));
    attrs.push_back(i64("axis", axis));
    if (p.has_ignore_label())
      attrs.push_back(i64("ignore_label", p.ignore_label()));
  }

  if (numResults != unsigned(layer.top_size()) && type != "Silence")
    return emitError(loc) << type << " layer produces " << numResults << " top"
                          << (numResults == 1 ? "" : "s") << ", but " << layer.top_size()
                          << (layer.top_size() == 1 ? " is" : " are") << " given";
  if (type == "Silence" && layer.top_size() != 0)
    return emitError(loc) << "Silence layer has no tops";

  OperationState st(loc, opName);
  if (!st.name.isRegistered())
    return emitError(loc) << "internal error: op '" << opName << "' is not registered";
  st.addOperands(operands);
  st.addAttributes(attrs);
  auto unranked = UnrankedTensorType::get(b.getF32Type());
  st.addTypes(SmallVector<Type>(numResults, unranked));
  Operation *op = b.create(st);
  SmallVector<Attribute> tops;
  for (const auto &t : layer.top())
    tops.push_back(b.getStringAttr(t));
  if (!tops.empty())
    op->setAttr("dl.tops", b.getArrayAttr(tops));
  if (layer.propagate_down_size()) {
    SmallVector<int64_t> pd;
    for (bool p : layer.propagate_down())
      pd.push_back(p ? 1 : 0);
    op->setAttr("dl.propagate_down", b.getDenseI64ArrayAttr(pd));
  }
  if (failed(mlir::dl::inferAndSetResultTypes(op)))
    return failure();
  for (OpResult r : op->getResults()) {
    auto t = dyn_cast<RankedTensorType>(r.getType());
    if (!t)
      return emitError(loc) << "internal error: could not infer the shape of a result";
    if (failed(checkSize(loc, t.getShape(), "output '" + layer.top(r.getResultNumber()) + "'")))
      return failure();
  }
  defineTops(op->getResults());
  return success();
}

LogicalResult Importer::attachLoss(Location fileLoc) {
  bool hasLoss = false;
  func.walk([&](Operation *op) {
    StringRef n = op->getName().getStringRef();
    hasLoss |= n.ends_with("_loss") || n == "dl.softmax_with_loss";
  });
  if (hasLoss)
    return success();
  if (available.empty())
    return emitError(fileLoc) << "--loss auto: the net has no output to attach a loss to";
  std::string outName = available.back();
  Value out = blobs[outName];
  auto outType = dyn_cast<RankedTensorType>(out.getType());
  if (!outType || outType.getRank() < 2)
    return emitError(fileLoc) << "--loss auto: the net's output '" << outName
                              << "' is not N x C x ... (rank >= 2)";
  Value logits = out;
  int64_t axis = 1;
  Operation *def = out.getDefiningOp();
  Location loc = def ? def->getLoc() : fileLoc;
  if (def && def->getName().getStringRef() == "dl.softmax" && out.use_empty()) {
    logits = def->getOperand(0);
    axis = cast<IntegerAttr>(def->getAttr("axis")).getInt();
    def->erase();
  }
  auto lt = cast<RankedTensorType>(logits.getType());
  SmallVector<int64_t> labelShape;
  for (int64_t i = 0; i < lt.getRank(); ++i)
    if (i != axis)
      labelShape.push_back(lt.getDimSize(i));
  std::string labelName = blobs.count("label") ? "label_auto" : "label";
  auto labelType = RankedTensorType::get(labelShape, b.getF32Type());
  unsigned argIndex = func.getNumArguments();
  func.insertArgument(argIndex, labelType,
                      b.getDictionaryAttr({b.getNamedAttr("dl.name", b.getStringAttr(labelName))}),
                      fileLoc);
  Value label = func.getArgument(argIndex);
  std::string lossName = blobs.count("loss") ? "loss_auto" : "loss";
  OperationState st(NameLoc::get(b.getStringAttr(lossName + " (--loss auto)"), loc),
                    "dl.softmax_with_loss");
  st.addOperands({logits, label});
  st.addAttribute("axis", b.getI64IntegerAttr(axis));
  st.addAttribute("normalization", b.getStringAttr("valid"));
  st.addAttribute("loss_weight", b.getF64FloatAttr(1.0));
  st.addAttribute("dl.tops", b.getStrArrayAttr({lossName}));
  st.addTypes(UnrankedTensorType::get(b.getF32Type()));
  Operation *lossOp = b.create(st);
  if (failed(mlir::dl::inferAndSetResultTypes(lossOp)))
    return failure();
  available.pop_back();
  blobs[labelName] = label;
  blobs[lossName] = lossOp->getResult(0);
  available.push_back(lossName);
  return success();
}

OwningOpRef<ModuleOp> Importer::run() {
  ctx.loadDialect<mlir::dl::DLDialect, func::FuncDialect>();
  phase = net.phase;
  Location fileLoc = FileLineColLoc::get(&ctx, net.file, 1, 1);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  if (!checkSupportedTypes())
    return nullptr;

  SmallVector<Type> argTypes;
  for (const auto &in : net.inputs) {
    if (failed(checkSize(fileLoc, in.shape, "input '" + in.name + "'")))
      return nullptr;
    argTypes.push_back(RankedTensorType::get(in.shape, b.getF32Type()));
  }
  std::string name = net.net.name().empty() ? "net" : net.net.name();
  b.setInsertionPointToEnd(module->getBody());
  func = b.create<func::FuncOp>(fileLoc, name, b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  for (auto [i, in] : llvm::enumerate(net.inputs)) {
    func.setArgAttr(i, "dl.name", b.getStringAttr(in.name));
    blobs[in.name] = entry->getArgument(i);
    available.push_back(in.name);
  }
  func->setAttr("dl.phase", b.getStringAttr(phase == Phase::Train ? "train" : "test"));

  for (int i = 0; i < net.net.layer_size(); ++i)
    if (failed(importLayer(i)))
      return nullptr;

  if (options.lossAuto && failed(attachLoss(fileLoc)))
    return nullptr;
  if (net.net.force_backward())
    func->setAttr("dl.force_backward", b.getBoolAttr(true));

  // Net outputs: blobs nobody consumed afterwards, as Caffe computes them.
  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &n : available) {
    results.push_back(blobs[n]);
    resultTypes.push_back(blobs[n].getType());
  }
  b.create<func::ReturnOp>(fileLoc, results);
  func.setType(b.getFunctionType(func.getArgumentTypes(), resultTypes));
  for (auto [i, n] : llvm::enumerate(available))
    func.setResultAttr(i, "dl.name", b.getStringAttr(n));
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace

const std::vector<std::string> &supportedLayerTypes() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> t(kDataLayers.begin(), kDataLayers.end());
    for (const auto &[k, v] : kOpNames)
      t.push_back(k);
    t.push_back("Split");
    std::sort(t.begin(), t.end());
    return t;
  }();
  return types;
}

OwningOpRef<ModuleOp> importNet(MLIRContext &context, const LoadedNet &net,
                                const ImportOptions &options) {
  return Importer(context, net, options).run();
}

} // namespace dlc::frontend

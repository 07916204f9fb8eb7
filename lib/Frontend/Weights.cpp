//===- Weights.cpp - Trained weights for an imported net ------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Reads .caffemodel (binary NetParameter) and .npz weights and matches them to
// the module's dl.param ops, checking every size and shape.
//
//===----------------------------------------------------------------------===//

#include "dlc/Frontend/Weights.h"

#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Runtime/Npy.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <filesystem>
#include <fstream>

using namespace mlir;

namespace dlc::frontend {
namespace {

using WeightMap = std::map<std::string, std::vector<float>>;
using ShapeMap = std::map<std::string, std::vector<int64_t>>;

/// dl.param name -> shape.
ShapeMap paramShapes(ModuleOp module) {
  ShapeMap shapes;
  module.walk([&](mlir::dl::ParamOp op) {
    auto shape = cast<RankedTensorType>(op.getType()).getShape();
    shapes[op.getName().str()] = std::vector<int64_t>(shape.begin(), shape.end());
  });
  return shapes;
}

/// Protobuf parses at most 2 GiB - 1 (its sizes are int): says so for a
/// larger .caffemodel.
bool tooLargeForProtobuf(const std::string &path, uint64_t size) {
  if (size <= uint64_t(INT32_MAX))
    return false;
  llvm::errs() << path << ": error: the weights file has " << size
               << " bytes; a binary Caffe model holds at most " << INT32_MAX
               << " (protobuf's limit)\n";
  return true;
}

/// Reads a binary .caffemodel, following the loaded net's layers: blob i of
/// layer L is dl.param "L/i" (or the param's shared name).
bool loadCaffeModel(const std::string &bytes, const std::string &path,
                    const caffe_fe::LoadedNet &net, ModuleOp module, WeightMap &out) {
  if (tooLargeForProtobuf(path, bytes.size()))
    return false;
  caffe::NetParameter weights;
  if (!weights.ParseFromArray(bytes.data(), int(bytes.size()))) {
    llvm::errs() << path << ": error: not a binary Caffe model (NetParameter)\n";
    return false;
  }
  // Layer name -> blobs (V2 `layer` or legacy V1 `layers`).
  std::map<std::string, const google::protobuf::RepeatedPtrField<caffe::BlobProto> *> byName;
  for (const auto &l : weights.layer())
    byName[l.name()] = &l.blobs();
  for (const auto &l : weights.layers())
    byName[l.name()] = &l.blobs();
  ShapeMap shapes = paramShapes(module);
  bool ok = true;
  for (const auto &layer : net.net.layer()) {
    auto it = byName.find(layer.name());
    if (it == byName.end())
      continue;
    for (int i = 0; i < it->second->size(); ++i) {
      std::string key = i < layer.param_size() && !layer.param(i).name().empty()
                            ? layer.param(i).name()
                            : layer.name() + "/" + std::to_string(i);
      auto sh = shapes.find(key);
      if (sh == shapes.end()) {
        llvm::errs() << path << ": error: layer '" << layer.name() << "' has blob " << i
                     << " in the weights file but no such parameter in the net\n";
        ok = false;
        continue;
      }
      const caffe::BlobProto &blob = it->second->Get(i);
      int64_t expected = 1;
      for (int64_t d : sh->second)
        expected *= d;
      int64_t count = blob.data_size() ? blob.data_size() : blob.double_data_size();
      if (count != expected) {
        llvm::errs() << path << ": error: blob " << i << " of layer '" << layer.name()
                     << "' has " << count << " values; the net needs " << expected << "\n";
        ok = false;
        continue;
      }
      if (blob.has_shape() && blob.shape().dim_size() == int(sh->second.size())) {
        for (int d = 0; d < blob.shape().dim_size(); ++d)
          if (blob.shape().dim(d) != sh->second[d]) {
            llvm::errs() << path << ": error: blob " << i << " of layer '" << layer.name()
                         << "' has a different shape than the net's parameter\n";
            ok = false;
            break;
          }
      }
      std::vector<float> data(count);
      for (int64_t j = 0; j < count; ++j)
        data[j] = blob.data_size() ? blob.data(j) : float(blob.double_data(j));
      out.emplace(key, std::move(data));
    }
  }
  return ok;
}

/// Reads a .npz archive whose members are named after the dl.param names;
/// each shape must equal the parameter's.
bool loadNpz(const std::string &bytes, const std::string &path, ModuleOp module,
             WeightMap &out) {
  std::vector<std::pair<std::string, rt::NpyArray>> arrays;
  std::string error;
  if (!rt::parseNpz(bytes, arrays, error)) {
    llvm::errs() << path << ": error: " << error << "\n";
    return false;
  }
  ShapeMap shapes = paramShapes(module);
  bool ok = true;
  for (auto &[name, arr] : arrays) {
    auto it = shapes.find(name);
    if (it == shapes.end()) {
      llvm::errs() << path << ": error: array '" << name
                   << "' names no parameter of the net (parameters are named like '"
                   << (shapes.empty() ? std::string("layer/0") : shapes.begin()->first)
                   << "': the layer name and the blob index, or the shared param name)\n";
      ok = false;
      continue;
    }
    if (arr.shape != it->second) {
      llvm::errs() << path << ": error: array '" << name << "' has shape "
                   << rt::shapeToString(arr.shape) << "; the parameter has "
                   << rt::shapeToString(it->second) << "\n";
      ok = false;
      continue;
    }
    out[name] = std::move(arr.data);
  }
  return ok;
}

} // namespace

LogicalResult loadWeights(const std::string &path, const caffe_fe::LoadedNet &net,
                          ModuleOp module, std::map<std::string, std::vector<float>> &out) {
  bool npz = llvm::StringRef(path).ends_with(".npz");
  // The size first: a directory or a missing file is an error, and a
  // .caffemodel over protobuf's limit is refused before reading.
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(path, ec);
  const uint64_t size = regular ? std::filesystem::file_size(path, ec) : 0;
  if (!regular || ec) {
    llvm::errs() << path << ": error: cannot open weights file: "
                 << (ec ? ec.message() : std::string("not a regular file")) << "\n";
    return failure();
  }
  if (!npz && tooLargeForProtobuf(path, size))
    return failure();
  std::ifstream in(path, std::ios::binary);
  std::string bytes(size, '\0');
  if (!in || !in.read(bytes.data(), std::streamsize(size))) {
    llvm::errs() << path << ": error: cannot read weights file\n";
    return failure();
  }
  return loadWeightsFromBuffer(bytes, path, npz, net, module, out);
}

LogicalResult loadWeightsFromBuffer(const std::string &bytes, const std::string &name, bool npz,
                                    const caffe_fe::LoadedNet &net, ModuleOp module,
                                    std::map<std::string, std::vector<float>> &out) {
  return success(npz ? loadNpz(bytes, name, module, out)
                     : loadCaffeModel(bytes, name, net, module, out));
}

} // namespace dlc::frontend

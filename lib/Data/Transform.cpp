//===- Transform.cpp - Caffe's DataTransformer ----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "DataInternal.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace dlc::data::detail {

std::string layerRef(const caffe::LayerParameter &layer) {
  return "layer '" + layer.name() + "' (" + layer.type() + ")";
}

std::string resolvePath(const std::string &path, const SourceOptions &options) {
  std::error_code ec;
  if (path.empty() || fs::path(path).is_absolute() || fs::exists(path, ec) ||
      options.baseDir.empty())
    return path;
  fs::path beside = fs::path(options.baseDir) / path;
  return fs::exists(beside, ec) ? beside.string() : path;
}

Random::Random(uint64_t seed, const std::string &layerName) {
  // FNV-1a of the name, mixed with the seed (splitmix64's finalizer).
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : layerName)
    h = (h ^ c) * 1099511628211ull;
  uint64_t z = seed ^ h;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  gen_.seed(z ^ (z >> 31));
}

Transformer::Transformer(const caffe::TransformationParameter &param,
                         const SourceOptions &options, const std::string &layerName)
    : param_(param), train_(options.train), layerName_(layerName),
      rng_(options.seed, "transform:" + layerName) {
  if (param.has_mean_file() && param.mean_value_size() > 0)
    throw Error("layer '" + layerName + "': give mean_file or mean_value, not both");
  if (!param.has_mean_file())
    return;
  std::string path = resolvePath(param.mean_file(), options);
  std::error_code ec;
  uint64_t size = fs::file_size(path, ec);
  if (ec)
    throw Error("layer '" + layerName + "': cannot read mean_file '" + path + "': " +
                ec.message());
  if (size >= (uint64_t(1) << 31))
    throw Error("layer '" + layerName + "': mean_file '" + path + "' is over 2 GiB");
  std::ifstream in(path, std::ios::binary);
  std::string bytes(size_t(size), '\0');
  caffe::BlobProto blob;
  if (!in.read(bytes.data(), std::streamsize(size)) || !blob.ParseFromString(bytes))
    throw Error("layer '" + layerName + "': mean_file '" + path +
                "' is not a binary BlobProto (.binaryproto)");
  // Caffe's mean files are 1 x C x H x W (legacy num/channels/height/width).
  std::vector<int64_t> dims(blob.shape().dim().begin(), blob.shape().dim().end());
  if (dims.empty())
    dims = {blob.num(), blob.channels(), blob.height(), blob.width()};
  while (dims.size() > 3 && dims.front() == 1)
    dims.erase(dims.begin());
  int64_t count = blob.data_size() ? blob.data_size() : blob.double_data_size();
  if (dims.size() != 3 || dims[0] <= 0 || dims[1] <= 0 || dims[2] <= 0 ||
      dims[0] * dims[1] * dims[2] != count)
    throw Error("layer '" + layerName + "': mean_file '" + path +
                "' is not one C x H x W blob with its values");
  meanC_ = dims[0];
  meanH_ = dims[1];
  meanW_ = dims[2];
  meanFile_.resize(size_t(count));
  for (int64_t i = 0; i < count; ++i)
    meanFile_[size_t(i)] = blob.data_size() ? blob.data(int(i)) : float(blob.double_data(int(i)));
}

Shape Transformer::outputShape(int64_t c, int64_t h, int64_t w) const {
  int64_t crop = param_.crop_size();
  return crop ? Shape{c, crop, crop} : Shape{c, h, w};
}

void Transformer::apply(const uint8_t *u8, const float *f32, int64_t c, int64_t h, int64_t w,
                        float *out) {
  const int64_t crop = param_.crop_size();
  const int64_t oh = crop ? crop : h, ow = crop ? crop : w;
  if (crop && (h < crop || w < crop))
    throw Error("layer '" + layerName_ + "': a record of " + std::to_string(h) + "x" +
                std::to_string(w) + " is smaller than crop_size " + std::to_string(crop));
  const int nMean = param_.mean_value_size();
  if (nMean > 1 && nMean != c)
    throw Error("layer '" + layerName_ + "': " + std::to_string(nMean) +
                " mean_values for a record of " + std::to_string(c) + " channels");
  if (!meanFile_.empty() && (meanC_ != c || meanH_ != h || meanW_ != w))
    throw Error("layer '" + layerName_ + "': the mean_file is " + std::to_string(meanC_) + "x" +
                std::to_string(meanH_) + "x" + std::to_string(meanW_) + ", the record " +
                std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w));
  int64_t hOff = 0, wOff = 0;
  bool mirror = false;
  // Caffe draws the mirror, then the crop offsets.
  if (train_ && param_.mirror())
    mirror = rng_.uniformInt(2) == 1;
  if (crop) {
    if (train_) {
      hOff = int64_t(rng_.uniformInt(uint64_t(h - crop + 1)));
      wOff = int64_t(rng_.uniformInt(uint64_t(w - crop + 1)));
    } else {
      hOff = (h - crop) / 2;
      wOff = (w - crop) / 2;
    }
  }
  const float scale = param_.scale();
  for (int64_t ch = 0; ch < c; ++ch) {
    float meanValue = nMean == 0 ? 0.0f : param_.mean_value(nMean == 1 ? 0 : int(ch));
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x) {
        int64_t in = (ch * h + hOff + y) * w + wOff + x;
        int64_t o = (ch * oh + y) * ow + (mirror ? ow - 1 - x : x);
        float v = u8 ? float(u8[in]) : f32[in];
        if (!meanFile_.empty())
          v -= meanFile_[size_t(in)];
        else
          v -= meanValue;
        out[o] = v * scale;
      }
  }
}

} // namespace dlc::data::detail

namespace dlc::data::detail {

void Transformer::skipRecords(int64_t records) {
  const uint64_t draws =
      (train_ && param_.mirror() ? 1 : 0) + (train_ && param_.crop_size() ? 2 : 0);
  rng_.engine().discard(uint64_t(records) * draws);
}

} // namespace dlc::data::detail

//===- DataInternal.h - What the data layers share --------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Data: the factory of each layer type (one file each), path
// resolution, the random stream, and Caffe's DataTransformer.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_DATA_DATAINTERNAL_H
#define DLC_LIB_DATA_DATAINTERNAL_H

#include "dlc/Data/DataLayer.h"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace dlc::data::detail {

// One factory per layer type (DataLayer.cpp holds the table).
std::unique_ptr<BatchSource> openDbData(const caffe::LayerParameter &layer,
                                        const SourceOptions &options);
std::unique_ptr<BatchSource> openHdf5Data(const caffe::LayerParameter &layer,
                                          const SourceOptions &options);
std::unique_ptr<BatchSource> openImageData(const caffe::LayerParameter &layer,
                                           const SourceOptions &options);
std::unique_ptr<BatchSource> openDummyData(const caffe::LayerParameter &layer,
                                           const SourceOptions &options);

/// Decodes a PNG or JPEG held in memory into C x H x W bytes, channels in
/// OpenCV's order (BGR), as Caffe's cv::imdecode: `channels` 3 (color), 1
/// (gray) or 0 (as stored: 1 for gray images, 3 otherwise). False with a
/// message for anything else (ImageData.cpp).
bool decodeImage(std::string_view bytes, int channels, std::vector<uint8_t> &out, int64_t &c,
                 int64_t &h, int64_t &w, std::string &error);

/// "layer 'name' (Type)" for messages.
std::string layerRef(const caffe::LayerParameter &layer);

/// `path` as given when it exists (or is absolute), else in options.baseDir
/// when it exists there, else as given (the caller's open then fails with
/// the path the user wrote).
std::string resolvePath(const std::string &path, const SourceOptions &options);

/// The random stream of one layer's shuffles, crops and mirrors:
/// std::mt19937_64 seeded from the seed and the layer's name, so that two
/// layers draw independently. uniformInt(n) is in [0, n).
class Random {
public:
  Random(uint64_t seed, const std::string &layerName);
  uint64_t uniformInt(uint64_t n) { return n ? gen_() % n : 0; }
  std::mt19937_64 &engine() { return gen_; }

private:
  std::mt19937_64 gen_;
};

/// Fisher-Yates with Random::uniformInt (std::shuffle's order is the
/// library's, this one is fixed).
template <typename T> void shuffle(std::vector<T> &v, Random &rng) {
  for (size_t i = v.size(); i > 1; --i)
    std::swap(v[i - 1], v[rng.uniformInt(i)]);
}

/// Caffe's DataTransformer: crop (random in TRAIN, center in TEST), mirror
/// (TRAIN only, with probability 1/2), mean subtraction (mean_file: a
/// binaryproto BlobProto of C x H x W, or mean_value: one value or one per
/// channel), then scale:
///   out[c][y][x'] = (in[c][y + h_off][x + w_off] - mean) * scale,
///   x' = mirror ? crop_w - 1 - x : x.
class Transformer {
public:
  /// Loads mean_file (resolved like a source). Throws Error.
  Transformer(const caffe::TransformationParameter &param, const SourceOptions &options,
              const std::string &layerName);
  /// The shape of one transformed record of c x h x w (no batch dimension).
  Shape outputShape(int64_t c, int64_t h, int64_t w) const;
  /// Transforms one record given as bytes (`u8`) or floats (`f32`), c x h x w,
  /// into `out` (outputShape floats). Throws Error when the record is
  /// smaller than the crop or does not fit the mean.
  void apply(const uint8_t *u8, const float *f32, int64_t c, int64_t h, int64_t w, float *out);
  /// Advances the random stream past `records` records (what apply draws
  /// for each in TRAIN: the mirror, the crop offsets), skipping them unread.
  void skipRecords(int64_t records);

private:
  caffe::TransformationParameter param_;
  bool train_;
  std::vector<float> meanFile_;
  int64_t meanC_ = 0, meanH_ = 0, meanW_ = 0;
  std::string layerName_;
  Random rng_;
};

} // namespace dlc::data::detail

#endif // DLC_LIB_DATA_DATAINTERNAL_H

//===- DbData.cpp - Caffe's Data layer: Datum records in LMDB/LevelDB -----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// As Caffe's DataLayer: records in key order, rand_skip records skipped at
// the start (TRAIN only in dlc, so that every test pass sees the same data;
// Caffe skips in both), back to the first record after the last. The first
// record gives the data's shape; every record must have it. Datum.data is
// raw uint8 pixels (C x H x W) or, with Datum.encoded, a PNG or JPEG image
// (decoded as ImageData decodes); Datum.float_data is floats.
//
//===----------------------------------------------------------------------===//

#include "DataInternal.h"

#include "dlc/Data/Database.h"

#include <cstring>

namespace dlc::data::detail {

namespace {

class DbDataSource : public BatchSource {
public:
  DbDataSource(const caffe::LayerParameter &layer, const SourceOptions &options)
      : layer_(layer), transformer_(layer.transform_param(), options, layer.name()) {
    const caffe::DataParameter &p = layer.data_param();
    if (!p.has_source() || p.source().empty())
      throw Error(layerRef(layer) + ": data_param has no 'source'");
    if (p.batch_size() == 0)
      throw Error(layerRef(layer) + ": data_param's batch_size must be positive");
    if (layer.top_size() < 1 || layer.top_size() > 2)
      throw Error(layerRef(layer) + ": a Data layer has 1 or 2 tops (data, label)");
    backend_ = p.backend() == caffe::DataParameter::LMDB ? Backend::LMDB : Backend::LevelDB;
    source_ = resolvePath(p.source(), options);
    reader_ = DbReader::open(source_, backend_);
    records_ = reader_->count();
    if (records_ == 0 || !reader_->valid())
      throw Error(source_ + ": error: " + backendName(backend_) + ": the database is empty");
    // The shape comes from the first record.
    decode();
    int64_t batch = p.batch_size();
    Shape one = transformer_.outputShape(c_, h_, w_);
    shapes_.push_back({batch, one[0], one[1], one[2]});
    if (layer.top_size() > 1)
      shapes_.push_back({batch});
    if (options.train && p.rand_skip() > 0) {
      Random skip(options.seed, "skip:" + layer.name());
      for (uint64_t n = skip.uniformInt(p.rand_skip()); n > 0; --n)
        advance();
    }
  }

  const std::vector<Shape> &shapes() const override { return shapes_; }
  int64_t records() const override { return records_; }

  void next(const std::vector<float *> &tops) override {
    const Shape &s = shapes_[0];
    int64_t per = s[1] * s[2] * s[3];
    for (int64_t i = 0; i < s[0]; ++i) {
      int64_t c, h, w;
      decode(&c, &h, &w);
      if (c != c_ || h != h_ || w != w_)
        throw Error(source_ + ": error: record '" + std::string(reader_->key()) + "' is " +
                    dims(c, h, w) + "; the first record is " + dims(c_, h_, w_));
      const float *f = datum_.float_data_size() ? datum_.float_data().data() : nullptr;
      transformer_.apply(f ? nullptr : pixels(), f, c, h, w, tops[0] + i * per);
      if (tops.size() > 1)
        tops[1][i] = float(datum_.label());
      advance();
    }
  }

  bool skip(int64_t batches) override {
    const int64_t records = batches * shapes_[0][0];
    for (int64_t i = 0; i < records; ++i)
      advance();
    transformer_.skipRecords(records);
    return true;
  }

private:
  static std::string dims(int64_t c, int64_t h, int64_t w) {
    return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
  }
  void advance() {
    reader_->next();
    if (!reader_->valid())
      reader_->seekToFirst();
  }
  const uint8_t *pixels() const {
    return datum_.encoded() ? image_.data()
                            : reinterpret_cast<const uint8_t *>(datum_.data().data());
  }
  /// Parses the current record into datum_ (and image_ when encoded).
  void decode(int64_t *c = nullptr, int64_t *h = nullptr, int64_t *w = nullptr) {
    std::string_view v = reader_->value();
    std::string where = source_ + ": error: record '" + std::string(reader_->key()) + "'";
    if (v.size() >= (size_t(1) << 31) || !datum_.ParseFromArray(v.data(), int(v.size())))
      throw Error(where + " is not a Caffe Datum");
    int64_t dc = datum_.channels(), dh = datum_.height(), dw = datum_.width();
    if (datum_.encoded()) {
      std::string error;
      // Caffe's DecodeDatumToCVMatNative, or forced to color or gray.
      const caffe::TransformationParameter &t = layer_.transform_param();
      int channels = t.force_color() || layer_.data_param().force_encoded_color() ? 3
                     : t.force_gray()                                             ? 1
                                                                                  : 0;
      if (!decodeImage(datum_.data(), channels, image_, dc, dh, dw, error))
        throw Error(where + ": " + error);
    } else {
      if (dc <= 0 || dh <= 0 || dw <= 0 || dc > (1 << 16) || dh > (1 << 16) || dw > (1 << 16))
        throw Error(where + " has shape " + dims(dc, dh, dw));
      int64_t n = dc * dh * dw;
      bool bytes = int64_t(datum_.data().size()) == n;
      bool floats = datum_.float_data_size() == n;
      if (!bytes && !floats)
        throw Error(where + " is " + dims(dc, dh, dw) + " but holds " +
                    std::to_string(datum_.data().size()) + " bytes and " +
                    std::to_string(datum_.float_data_size()) + " floats");
    }
    if (c) {
      *c = dc;
      *h = dh;
      *w = dw;
    } else {
      c_ = dc;
      h_ = dh;
      w_ = dw;
    }
  }

  caffe::LayerParameter layer_;
  Transformer transformer_;
  Backend backend_ = Backend::LMDB;
  std::string source_;
  std::unique_ptr<DbReader> reader_;
  int64_t records_ = 0;
  int64_t c_ = 0, h_ = 0, w_ = 0;
  caffe::Datum datum_;
  std::vector<uint8_t> image_;
  std::vector<Shape> shapes_;
};

} // namespace

std::unique_ptr<BatchSource> openDbData(const caffe::LayerParameter &layer,
                                        const SourceOptions &options) {
  return std::make_unique<DbDataSource>(layer, options);
}

} // namespace dlc::data::detail

//===- DummyData.cpp - Caffe's DummyData layer ----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// As Caffe's DummyDataLayer: shapes (one for all tops or one per top; or the
// legacy num/channels/height/width), fillers (none: constant 0; one for all
// tops; or one per top). Constant tops are filled once; the others are
// refilled for every batch. dlc supports the constant, uniform and gaussian
// fillers here (what DummyData is used with).
//
//===----------------------------------------------------------------------===//

#include "DataInternal.h"

#include <cmath>

namespace dlc::data::detail {

namespace {

class DummyDataSource : public BatchSource {
public:
  DummyDataSource(const caffe::LayerParameter &layer, const SourceOptions &options)
      : rng_(options.seed, "dummy:" + layer.name()) {
    const caffe::DummyDataParameter &p = layer.dummy_data_param();
    const int tops = layer.top_size();
    auto pick = [&](int n, int t, const char *what) {
      if (n != 1 && n != tops)
        throw Error(layerRef(layer) + ": " + std::to_string(n) + " " + what + " for " +
                    std::to_string(tops) + " tops; give one, or one per top");
      return n == 1 ? 0 : t;
    };
    for (int t = 0; t < tops; ++t) {
      Shape s;
      if (p.shape_size() > 0) {
        const caffe::BlobShape &b = p.shape(pick(p.shape_size(), t, "shapes"));
        s.assign(b.dim().begin(), b.dim().end());
      } else if (p.num_size() > 0) {
        s = {p.num(pick(p.num_size(), t, "nums")),
             p.channels(pick(p.channels_size(), t, "channels")),
             p.height(pick(p.height_size(), t, "heights")),
             p.width(pick(p.width_size(), t, "widths"))};
      } else {
        throw Error(layerRef(layer) + ": no shape");
      }
      for (int64_t d : s)
        if (d <= 0 || d > (int64_t(1) << 31))
          throw Error(layerRef(layer) + ": bad dimension " + std::to_string(d));
      shapes_.push_back(s);
      caffe::FillerParameter f;
      if (p.data_filler_size() > 0)
        f = p.data_filler(pick(p.data_filler_size(), t, "fillers"));
      if (f.type() != "constant" && f.type() != "uniform" && f.type() != "gaussian")
        throw Error(layerRef(layer) + ": filler '" + f.type() +
                    "' (dlc's DummyData takes constant, uniform and gaussian)");
      fillers_.push_back(f);
    }
  }
  const std::vector<Shape> &shapes() const override { return shapes_; }
  int64_t records() const override { return 0; }

  void next(const std::vector<float *> &tops) override {
    for (size_t t = 0; t < tops.size() && t < shapes_.size(); ++t) {
      int64_t n = 1;
      for (int64_t d : shapes_[t])
        n *= d;
      const caffe::FillerParameter &f = fillers_[t];
      for (int64_t i = 0; i < n; ++i) {
        double u = double(rng_.engine()() >> 11) * 0x1.0p-53;
        if (f.type() == "constant") {
          tops[t][i] = f.value();
        } else if (f.type() == "uniform") {
          tops[t][i] = float(f.min() + (f.max() - f.min()) * u);
        } else {
          // Box-Muller with a second uniform in (0, 1].
          double v = 1.0 - double(rng_.engine()() >> 11) * 0x1.0p-53;
          tops[t][i] = float(f.mean() + f.std() * std::sqrt(-2 * std::log(v)) *
                                            std::cos(2 * M_PI * u));
        }
      }
    }
  }

private:
  Random rng_;
  std::vector<Shape> shapes_;
  std::vector<caffe::FillerParameter> fillers_;
};

} // namespace

std::unique_ptr<BatchSource> openDummyData(const caffe::LayerParameter &layer,
                                           const SourceOptions &options) {
  return std::make_unique<DummyDataSource>(layer, options);
}

} // namespace dlc::data::detail

//===- DataFeed.cpp - A module's data layers feeding its inputs -----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/DataFeed.h"

#include "dlc/Data/DataLayer.h"

#include <algorithm>

namespace pb = dlc::module;

namespace dlc::rt {

namespace {

std::string shapeText(const std::vector<int64_t> &s) {
  std::string out;
  for (int64_t d : s)
    out += (out.empty() ? "" : "x") + std::to_string(d);
  return out.empty() ? "scalar" : out;
}

} // namespace

DataFeed::DataFeed(Executor &executor, int rank, int ranks) : ex_(executor) {
  const pb::Module &m = executor.module().header;
  for (const pb::DataLayer &d : m.data_layers()) {
    caffe::LayerParameter layer;
    if (!layer.ParseFromString(d.caffe_layer()))
      throw Error(executor.module().path + ": error: a data layer record is corrupt");
    data::SourceOptions options;
    options.train = d.train();
    options.seed = executor.seed();
    options.baseDir = d.base_dir();
    std::string where = (d.loc().empty() ? std::string() : d.loc() + ": ") + "layer '" +
                        layer.name() + "' (" + layer.type() + ")";
    Layer l;
    try {
      l.source = data::openDataLayer(layer, options);
    } catch (const data::Error &e) {
      throw Error(std::string(e.what()) + "\n  (the data of " + where +
                  "; dlrun --no-data-layers feeds --input files or random data instead)");
    }
    const std::vector<data::Shape> &shapes = l.source->shapes();
    if (shapes.size() != size_t(d.tops_size()))
      throw Error(where + ": its data has " + std::to_string(shapes.size()) + " tops, the module " +
                  std::to_string(d.tops_size()));
    for (int i = 0; i < d.tops_size(); ++i) {
      int t = d.tops(i);
      l.tops.push_back(t);
      if (t < 0) {
        int64_t n = 1;
        for (int64_t v : shapes[size_t(i)])
          n *= v;
        l.unused.emplace_back(size_t(n));
        continue;
      }
      if (shapes[size_t(i)] != executor.tensorShape(t))
        throw Error(where + ": its data gives '" + executor.tensorName(t) + "' the shape " +
                    shapeText(shapes[size_t(i)]) + ", the module was compiled for " +
                    shapeText(executor.tensorShape(t)) + "; compile it again");
      names_.push_back(executor.tensorName(t));
    }
    records_ = std::max(records_, l.source->records());
    if (batch_ == 0 && !shapes.empty() && !shapes[0].empty())
      batch_ = shapes[0][0];
    int depth = layer.type() == "Data" ? int(layer.data_param().prefetch()) : 4;
    l.source = data::prefetch(data::shard(std::move(l.source), rank, ranks), std::max(depth, 1));
    layers_.push_back(std::move(l));
  }
}

DataFeed::~DataFeed() = default;

void DataFeed::next() {
  for (Layer &l : layers_) {
    std::vector<float *> tops;
    size_t unused = 0;
    for (int t : l.tops)
      tops.push_back(t >= 0 ? ex_.tensorData(t) : l.unused[unused++].data());
    try {
      l.source->next(tops);
    } catch (const data::Error &e) {
      throw Error(e.what());
    }
  }
}

void DataFeed::skip(int64_t batches) {
  std::vector<std::vector<float>> scratch;
  for (Layer &l : layers_) {
    std::vector<float *> tops;
    scratch.clear();
    for (const data::Shape &s : l.source->shapes()) {
      int64_t n = 1;
      for (int64_t d : s)
        n *= d;
      scratch.emplace_back(size_t(n));
      tops.push_back(scratch.back().data());
    }
    try {
      for (int64_t b = 0; b < batches; ++b)
        l.source->next(tops);
    } catch (const data::Error &e) {
      throw Error(e.what());
    }
  }
}

} // namespace dlc::rt

//===- DataLayer.cpp - Data layer types and prefetching -------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "DataInternal.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

namespace dlc::data {

namespace {

using Factory = std::unique_ptr<BatchSource> (*)(const caffe::LayerParameter &,
                                                 const SourceOptions &);

/// Layer type -> its source (one file each in lib/Data).
const std::map<std::string, Factory> &factories() {
  static const std::map<std::string, Factory> table = {
      {"Data", detail::openDbData},
      {"HDF5Data", detail::openHdf5Data},
      {"ImageData", detail::openImageData},
      {"DummyData", detail::openDummyData},
  };
  return table;
}

int64_t numElements(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

/// A background thread runs the source `depth` batches ahead. The batches
/// are produced in order by one thread, so they are those of the source
/// alone; an error in the thread is rethrown by the next() that would have
/// received the batch.
class Prefetcher : public BatchSource {
public:
  Prefetcher(std::unique_ptr<BatchSource> source, int depth)
      : source_(std::move(source)), depth_(std::max(depth, 1)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Prefetcher() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  const std::vector<Shape> &shapes() const override { return source_->shapes(); }
  int64_t records() const override { return source_->records(); }

  void next(const std::vector<float *> &tops) override {
    Slot slot;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return !ready_.empty(); });
      slot = std::move(ready_.front());
      ready_.pop_front();
    }
    changed_.notify_all();
    if (slot.error)
      std::rethrow_exception(slot.error);
    for (size_t t = 0; t < tops.size() && t < slot.tops.size(); ++t)
      std::copy(slot.tops[t].begin(), slot.tops[t].end(), tops[t]);
  }

private:
  struct Slot {
    std::vector<std::vector<float>> tops;
    std::exception_ptr error;
  };
  void run() {
    bool failed = false;
    while (!failed) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return stop_ || int(ready_.size()) < depth_; });
        if (stop_)
          return;
      }
      Slot slot;
      try {
        std::vector<float *> ptrs;
        for (const Shape &s : source_->shapes()) {
          slot.tops.emplace_back(size_t(numElements(s)));
          ptrs.push_back(slot.tops.back().data());
        }
        source_->next(ptrs);
      } catch (...) {
        slot.error = std::current_exception();
        failed = true; // the source is in an unknown state: no more batches
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.push_back(std::move(slot));
      }
      changed_.notify_all();
    }
  }

  std::unique_ptr<BatchSource> source_;
  int depth_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Slot> ready_;
  bool stop_ = false;
  std::thread thread_;
};

} // namespace

bool isReadableDataLayer(const std::string &type) { return factories().count(type) > 0; }

std::unique_ptr<BatchSource> openDataLayer(const caffe::LayerParameter &layer,
                                           const SourceOptions &options) {
  auto it = factories().find(layer.type());
  if (it == factories().end())
    throw Error(detail::layerRef(layer) + ": dlc reads the data of Data (LMDB, LevelDB), "
                                          "HDF5Data, ImageData and DummyData layers; this "
                                          "one's data must be given as an input");
  return it->second(layer, options);
}

std::vector<Shape> dataLayerShapes(const caffe::LayerParameter &layer,
                                   const SourceOptions &options, std::string &why) noexcept {
  try {
    return openDataLayer(layer, options)->shapes();
  } catch (const std::exception &e) {
    why = e.what();
  } catch (...) {
    why = "unknown error";
  }
  return {};
}

std::unique_ptr<BatchSource> prefetch(std::unique_ptr<BatchSource> source, int depth) {
  return std::make_unique<Prefetcher>(std::move(source), depth);
}

namespace {

/// Batches rank, rank + ranks, rank + 2 ranks, ... of the inner source; the
/// others are skipped (BatchSource::skip: LMDB/LevelDB move their cursor and
/// random stream) or read into scratch buffers and dropped, so that records,
/// shuffles and random crops stay those of the whole sequence.
class Shard : public BatchSource {
public:
  Shard(std::unique_ptr<BatchSource> inner, int rank, int ranks)
      : inner_(std::move(inner)), rank_(rank), ranks_(ranks) {
    for (const Shape &s : inner_->shapes()) {
      int64_t n = 1;
      for (int64_t d : s)
        n *= d;
      scratch_.emplace_back(size_t(n));
      scratchTops_.push_back(scratch_.back().data());
    }
  }
  const std::vector<Shape> &shapes() const override { return inner_->shapes(); }
  int64_t records() const override { return inner_->records(); }
  void next(const std::vector<float *> &tops) override {
    const int skip = started_ ? ranks_ - 1 : rank_;
    if (skip > 0 && !inner_->skip(skip))
      for (int i = 0; i < skip; ++i)
        inner_->next(scratchTops_);
    started_ = true;
    inner_->next(tops);
  }

private:
  std::unique_ptr<BatchSource> inner_;
  int rank_, ranks_;
  bool started_ = false;
  std::vector<std::vector<float>> scratch_;
  std::vector<float *> scratchTops_;
};

} // namespace

std::unique_ptr<BatchSource> shard(std::unique_ptr<BatchSource> source, int rank, int ranks) {
  if (ranks <= 1)
    return source;
  return std::make_unique<Shard>(std::move(source), rank, ranks);
}

} // namespace dlc::data

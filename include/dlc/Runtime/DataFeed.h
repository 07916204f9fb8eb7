//===- DataFeed.h - A module's data layers feeding its inputs ---*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// When a net reads real data (Data, HDF5Data, ImageData, DummyData layers,
// recorded in the module by the compiler), training and testing take their
// batches from it (docs/training.md): each layer is opened with the
// module's seed, prefetched on a background thread (Caffe's `prefetch`, 4
// batches by default), and written into its graph inputs before each pass.
// Part of the runtime: no MLIR, no LLVM.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_DATAFEED_H
#define DLC_RUNTIME_DATAFEED_H

#include "dlc/Runtime/Executor.h"

#include <memory>
#include <string>
#include <vector>

namespace dlc::data {
class BatchSource;
}

namespace dlc::rt {

class DataFeed {
public:
  /// Opens every data layer of the executor's module (none: empty()).
  /// Throws Error when a source cannot be read or its shapes differ from the
  /// inputs the module was compiled for.
  /// Rank `rank` of `ranks` reads its share (data::shard: every ranks-th
  /// batch, from its rank-th).
  explicit DataFeed(Executor &executor, int rank = 0, int ranks = 1);
  ~DataFeed();

  bool empty() const { return layers_.empty(); }
  /// Writes the next batch of every data layer into its graph inputs.
  void next();
  /// Reads and drops `batches` batches (a resumed run goes on with the
  /// batches, shuffles and crops the uninterrupted one would have had).
  void skip(int64_t batches);
  /// Records in one epoch: the largest record count of the data layers
  /// (0 when none has an end).
  int64_t epochRecords() const { return records_; }
  /// Records per batch (dimension 0 of the first data layer's first top).
  int64_t batchSize() const { return batch_; }
  /// The inputs fed ("data", "label", ...).
  const std::vector<std::string> &inputNames() const { return names_; }

private:
  struct Layer {
    std::unique_ptr<data::BatchSource> source;
    std::vector<int> tops;                   ///< tensor index or -1
    std::vector<std::vector<float>> unused;  ///< buffers of tops the net does not use
  };
  Executor &ex_;
  std::vector<Layer> layers_;
  std::vector<std::string> names_;
  int64_t records_ = 0, batch_ = 0;
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_DATAFEED_H

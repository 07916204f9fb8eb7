//===- DataLayer.h - Caffe's data layers, reading real data -----*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The data layers of a Caffe net as batch sources (docs/training.md): Data
// (LMDB or LevelDB of Caffe Datum records), HDF5Data, ImageData and
// DummyData, each with Caffe's semantics (transform_param: scale, mean,
// crop, mirror; shuffling where Caffe has it; wrap-around at the end of the
// data). Sources are deterministic under their seed. The compiler opens a
// layer to size its graph inputs from the first record; the runtime feeds
// batches into the graph inputs, prefetched on a background thread.
// No MLIR, no runtime kernels: a library of its own (dlcData).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_DATA_DATALAYER_H
#define DLC_DATA_DATALAYER_H

#include "dlc/Caffe/caffe.pb.h"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace dlc::data {

/// A data source that cannot be opened or read, or a record that does not
/// fit: the message names the source (and the record).
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

using Shape = std::vector<int64_t>;

struct SourceOptions {
  bool train = true;  ///< TRAIN: random crops and mirrors, shuffling; TEST: center crops
  uint64_t seed = 1;  ///< shuffles, crops and mirrors draw from streams of this seed
  /// Relative source, mean_file and image paths are looked for as given
  /// (Caffe's way: from the current directory), then in this directory.
  std::string baseDir;
};

/// The batches of one data layer, in the order of its tops.
class BatchSource {
public:
  virtual ~BatchSource() = default;
  /// The tops' shapes, batch dimension first.
  virtual const std::vector<Shape> &shapes() const = 0;
  /// Fills the next batch: top t gets numElements(shapes()[t]) floats,
  /// row-major. Wraps around at the end of the data.
  virtual void next(const std::vector<float *> &tops) = 0;
  /// Records in the data (one epoch), or 0 when the source has no end
  /// (DummyData).
  virtual int64_t records() const = 0;
  /// Goes past `batches` batches as next() would without producing them
  /// (records unread, random draws skipped); false when the source cannot,
  /// and then the caller reads them.
  virtual bool skip(int64_t batches) {
    (void)batches;
    return false;
  }
};

/// Opens a data layer of type Data, HDF5Data, ImageData or DummyData.
/// Throws Error naming the layer and the source when it cannot be read, and
/// for other types ("MemoryData's data is given by the caller").
std::unique_ptr<BatchSource> openDataLayer(const caffe::LayerParameter &layer,
                                           const SourceOptions &options);

/// The types openDataLayer takes.
bool isReadableDataLayer(const std::string &type);

/// The shapes of a data layer's tops, from its data; empty with `why` set
/// when it cannot be opened. Does not throw (the compiler is built without
/// exceptions).
std::vector<Shape> dataLayerShapes(const caffe::LayerParameter &layer,
                                   const SourceOptions &options, std::string &why) noexcept;

/// Rank `rank` of `ranks`'s share of `source` (data-parallel training):
/// batches rank, rank + ranks, rank + 2 ranks, ... of the sequence one
/// process would read, so that the ranks' batches of one step are the
/// batches one process would read in `ranks` steps.
std::unique_ptr<BatchSource> shard(std::unique_ptr<BatchSource> source, int rank, int ranks);

/// Runs `source` on a background thread, `depth` batches ahead (Caffe's
/// prefetch): the same batches in the same order as the source alone.
std::unique_ptr<BatchSource> prefetch(std::unique_ptr<BatchSource> source, int depth);

} // namespace dlc::data

#endif // DLC_DATA_DATALAYER_H

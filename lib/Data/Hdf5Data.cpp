//===- Hdf5Data.cpp - Caffe's HDF5Data layer ------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// As Caffe's HDF5DataLayer: hdf5_data_param.source is a text file listing
// .h5 files, one a line (blank lines skipped, whitespace trimmed; a listed
// path is looked for as given, then beside the list file, then in
// SourceOptions::baseDir). Each file holds one dataset per top, named after
// the top; dims[0] counts the rows (equal across a file's datasets) and the
// top is {batch_size, dims[1], ...}. Batches take consecutive rows, go on to
// the next file at the end of one (a batch may span files) and back to the
// first after the last. With shuffle (in TRAIN and TEST alike, as Caffe) the
// file order is shuffled at the start and at every wrap, and the row order of
// a file each time it is used. Integer and double datasets are converted to
// float by HDF5 (H5Dread to H5T_NATIVE_FLOAT).
//
// Opening reads the dims of every file (records() is the rows of all of
// them) and checks that all files have the rows of the first; the data of one
// file at a time is loaded, when its first row is needed. Limit: a file holds
// at most 2^31 elements (8 GiB of floats) over its datasets, and a batch at
// most 2^31 elements per top; larger ones are refused before allocating.
// HDF5's own error printing is silenced; its failures become Error.
//
//===----------------------------------------------------------------------===//

#include "DataInternal.h"

#include <hdf5.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>

namespace fs = std::filesystem;

namespace dlc::data::detail {

namespace {

/// Elements per file (over its datasets) and per batch of a top.
constexpr uint64_t kMaxElements = uint64_t(1) << 31;

/// HDF5 calls from this file are serialized (a build of HDF5 without its
/// thread-safety option must not be entered from two threads; prefetching
/// runs sources on threads of their own).
std::mutex &hdf5Mutex() {
  static std::mutex m;
  return m;
}

/// Silences HDF5's printing of its error stack. The setting belongs to the
/// calling thread in thread-safe builds, hence called before each use.
void quietHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

/// An HDF5 identifier, closed with `Close` when it goes.
template <herr_t (*Close)(hid_t)> class Handle {
public:
  explicit Handle(hid_t id = -1) : id_(id) {}
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  ~Handle() {
    if (id_ >= 0)
      Close(id_);
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

private:
  hid_t id_;
};
using FileHandle = Handle<H5Fclose>;
using DatasetHandle = Handle<H5Dclose>;
using SpaceHandle = Handle<H5Sclose>;
using TypeHandle = Handle<H5Tclose>;

std::string joinDims(const std::vector<uint64_t> &dims) {
  std::string s;
  for (uint64_t d : dims)
    s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

std::string trim(const std::string &s) {
  const char *ws = " \t\r\n\f\v";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos)
    return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

/// One listed file: where it is, where it was listed, and its datasets' dims
/// (one per top, rows first).
struct FileInfo {
  std::string path;
  std::string listedAt; ///< "list:line"
  std::vector<std::vector<uint64_t>> dims;
  uint64_t rows() const { return dims[0][0]; }
};

/// Opens dataset `name` of `file`; throws Error naming `path` when missing.
hid_t openDataset(hid_t file, const std::string &path, const std::string &name) {
  hid_t ds = H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0
                 ? H5Dopen2(file, name.c_str(), H5P_DEFAULT)
                 : -1;
  if (ds < 0)
    throw Error(path + ": error: no dataset '" + name +
                "' (HDF5Data reads one dataset per top, named after the top)");
  return ds;
}

/// The dims of dataset `ds` (`name` in `path`), checked: a simple dataspace
/// of at least one dimension, none of them 0, an integer or floating-point
/// type, and at most kMaxElements elements. Throws Error naming both.
std::vector<uint64_t> datasetDims(hid_t ds, const std::string &path, const std::string &name) {
  std::string where = path + ": error: dataset '" + name + "'";
  TypeHandle type(H5Dget_type(ds));
  H5T_class_t cls = type.valid() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw Error(where + " does not hold numbers (HDF5Data reads integer and floating-point "
                        "datasets)");
  SpaceHandle space(H5Dget_space(ds));
  int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0)
    throw Error(where + ": cannot read its dimensions");
  if (rank == 0)
    throw Error(where + " is a scalar; HDF5Data needs rows (dims[0] is the row count)");
  std::vector<hsize_t> h(size_t(rank), 0);
  if (H5Sget_simple_extent_dims(space.get(), h.data(), nullptr) != rank)
    throw Error(where + ": cannot read its dimensions");
  std::vector<uint64_t> dims(h.begin(), h.end());
  uint64_t n = 1;
  bool overflow = false;
  for (uint64_t d : dims) {
    if (d == 0)
      throw Error(where + " is " + joinDims(dims) +
                  (dims[0] == 0 ? ": it has no rows" : ": its rows are empty"));
    if (n > UINT64_MAX / d)
      overflow = true;
    n *= d;
  }
  if (overflow)
    throw Error(where + " is " + joinDims(dims) + ": its element count overflows 64 bits");
  if (n > kMaxElements)
    throw Error(where + " is " + joinDims(dims) + " = " + std::to_string(n) +
                " elements; dlc reads at most " + std::to_string(kMaxElements) +
                " elements per file");
  return dims;
}

/// Opens `path` for reading; throws Error when it is missing or not HDF5.
hid_t openFile(const std::string &path, const std::string &listedAt) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw Error(path + ": error: no such HDF5 file (listed at " + listedAt + ")");
  htri_t isHdf5 = H5Fis_hdf5(path.c_str());
  if (isHdf5 < 0)
    throw Error(path + ": error: cannot read the file (listed at " + listedAt + ")");
  if (isHdf5 == 0)
    throw Error(path + ": error: not an HDF5 file (listed at " + listedAt + ")");
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0)
    throw Error(path + ": error: cannot open the HDF5 file (listed at " + listedAt + ")");
  return file;
}

class Hdf5DataSource : public BatchSource {
public:
  Hdf5DataSource(const caffe::LayerParameter &layer, const SourceOptions &options)
      : rng_(options.seed, "hdf5:" + layer.name()) {
    const caffe::HDF5DataParameter &p = layer.hdf5_data_param();
    if (!p.has_source() || p.source().empty())
      throw Error(layerRef(layer) + ": hdf5_data_param has no 'source'");
    if (p.batch_size() == 0)
      throw Error(layerRef(layer) + ": hdf5_data_param's batch_size must be positive");
    if (layer.top_size() < 1)
      throw Error(layerRef(layer) + ": an HDF5Data layer needs at least one top");
    tops_.assign(layer.top().begin(), layer.top().end());
    batch_ = p.batch_size();
    shuffle_ = p.shuffle();
    readList(resolvePath(p.source(), options), options);

    std::lock_guard<std::mutex> lock(hdf5Mutex());
    quietHdf5();
    for (FileInfo &f : files_) {
      FileHandle file(openFile(f.path, f.listedAt));
      uint64_t elements = 0;
      for (size_t t = 0; t < tops_.size(); ++t) {
        DatasetHandle ds(openDataset(file.get(), f.path, tops_[t]));
        f.dims.push_back(datasetDims(ds.get(), f.path, tops_[t]));
        const std::vector<uint64_t> &d = f.dims.back();
        if (d[0] != f.dims[0][0])
          throw Error(f.path + ": error: dataset '" + tops_[t] + "' has " +
                      std::to_string(d[0]) + " rows, dataset '" + tops_[0] + "' has " +
                      std::to_string(f.dims[0][0]) +
                      " (the datasets of a file need the same rows)");
        uint64_t n = d[0] * rowElements(d);
        if (elements + n > kMaxElements)
          throw Error(f.path + ": error: its datasets hold " + std::to_string(elements + n) +
                      " elements or more; dlc reads at most " + std::to_string(kMaxElements) +
                      " elements per file");
        elements += n;
        const std::vector<uint64_t> &first = files_[0].dims[t];
        if (&f != &files_[0] && !std::equal(d.begin() + 1, d.end(), first.begin() + 1,
                                            first.end()))
          throw Error(f.path + ": error: dataset '" + tops_[t] + "' is " + joinDims(d) +
                      " but " + joinDims(first) + " in " + files_[0].path +
                      " (the rows of every file must have the same dims)");
      }
      records_ += int64_t(f.rows());
    }
    for (const std::vector<uint64_t> &d : files_[0].dims) {
      uint64_t per = rowElements(d);
      if (per > kMaxElements / batch_)
        throw Error(layerRef(layer) + ": a batch of " + std::to_string(batch_) + " rows of " +
                    joinDims({d.begin() + 1, d.end()}) + " is " + std::to_string(per) + " x " +
                    std::to_string(batch_) + " elements; dlc takes at most " +
                    std::to_string(kMaxElements) + " per top");
      per_.push_back(int64_t(per));
      Shape s = {int64_t(batch_)};
      s.insert(s.end(), d.begin() + 1, d.end());
      shapes_.push_back(s);
    }
    order_.resize(files_.size());
    std::iota(order_.begin(), order_.end(), size_t(0));
    if (shuffle_)
      shuffle(order_, rng_);
  }

  const std::vector<Shape> &shapes() const override { return shapes_; }
  int64_t records() const override { return records_; }

  void next(const std::vector<float *> &tops) override {
    if (loaded_ < 0)
      use(order_[pos_]);
    for (int64_t i = 0; i < int64_t(batch_); ++i) {
      if (row_ == files_[size_t(loaded_)].rows()) {
        if (++pos_ == order_.size()) {
          pos_ = 0;
          if (shuffle_)
            shuffle(order_, rng_);
        }
        use(order_[pos_]);
      }
      uint64_t r = shuffle_ ? rowOrder_[row_] : row_;
      ++row_;
      for (size_t t = 0; t < tops.size() && t < data_.size(); ++t)
        std::copy_n(data_[t].data() + r * per_[t], per_[t], tops[t] + i * per_[t]);
    }
  }

private:
  static uint64_t rowElements(const std::vector<uint64_t> &dims) {
    uint64_t n = 1;
    for (size_t i = 1; i < dims.size(); ++i)
      n *= dims[i];
    return n;
  }

  /// Reads the list of files: one path a line, trimmed, blank lines skipped.
  void readList(const std::string &list, const SourceOptions &options) {
    std::ifstream in(list);
    if (!in)
      throw Error(list + ": error: cannot open the list of HDF5 files "
                         "(hdf5_data_param.source)");
    fs::path dir = fs::path(list).parent_path();
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      std::string name = trim(line);
      if (name.empty())
        continue;
      FileInfo f;
      f.listedAt = list + ":" + std::to_string(n);
      std::error_code ec;
      if (fs::path(name).is_absolute() || fs::exists(name, ec))
        f.path = name;
      else if (!dir.empty() && fs::exists(dir / name, ec))
        f.path = (dir / name).string();
      else
        f.path = resolvePath(name, options);
      files_.push_back(std::move(f));
    }
    if (in.bad())
      throw Error(list + ": error: cannot read the list of HDF5 files");
    if (files_.empty())
      throw Error(list + ": error: lists no HDF5 files (hdf5_data_param.source)");
  }

  /// Makes file `index` the current one from its first row: loads its data
  /// unless it is loaded already, and shuffles its rows when shuffling.
  void use(size_t index) {
    if (loaded_ != int64_t(index))
      load(index);
    row_ = 0;
    if (shuffle_) {
      rowOrder_.resize(size_t(files_[index].rows()));
      std::iota(rowOrder_.begin(), rowOrder_.end(), uint32_t(0));
      shuffle(rowOrder_, rng_);
    }
  }

  void load(size_t index) {
    const FileInfo &f = files_[index];
    loaded_ = -1;
    std::lock_guard<std::mutex> lock(hdf5Mutex());
    quietHdf5();
    FileHandle file(openFile(f.path, f.listedAt));
    data_.resize(tops_.size());
    for (size_t t = 0; t < tops_.size(); ++t) {
      DatasetHandle ds(openDataset(file.get(), f.path, tops_[t]));
      std::vector<uint64_t> dims = datasetDims(ds.get(), f.path, tops_[t]);
      if (dims != f.dims[t])
        throw Error(f.path + ": error: dataset '" + tops_[t] + "' is " + joinDims(dims) +
                    " but was " + joinDims(f.dims[t]) + " when the layer was opened");
      data_[t].assign(size_t(dims[0] * rowElements(dims)), 0.0f);
      if (H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                  data_[t].data()) < 0)
        throw Error(f.path + ": error: cannot read dataset '" + tops_[t] +
                    "' (a damaged file, or a filter HDF5 lacks)");
    }
    loaded_ = int64_t(index);
  }

  Random rng_;
  std::vector<std::string> tops_;
  uint64_t batch_ = 0;
  bool shuffle_ = false;
  std::vector<FileInfo> files_;
  int64_t records_ = 0;
  std::vector<Shape> shapes_;
  std::vector<int64_t> per_; ///< elements of one row, per top
  std::vector<size_t> order_; ///< the files' order in this pass
  size_t pos_ = 0;            ///< the current file in order_
  int64_t loaded_ = -1;       ///< the file data_ holds, -1 for none
  uint64_t row_ = 0;          ///< the next row of the current file (in rowOrder_)
  std::vector<uint32_t> rowOrder_;
  std::vector<std::vector<float>> data_; ///< per top: rows x row elements
};

} // namespace

std::unique_ptr<BatchSource> openHdf5Data(const caffe::LayerParameter &layer,
                                          const SourceOptions &options) {
  return std::make_unique<Hdf5DataSource>(layer, options);
}

} // namespace dlc::data::detail

//===- Hdf5DataTest.cpp - HDF5Data layer tests -----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The HDF5Data source on .h5 files written here with HDF5's C API: values
// and order across files and wrap-arounds, type conversion, shuffling, and
// the errors for missing, foreign, damaged and ill-shaped data.
//
//===----------------------------------------------------------------------===//

#include "dlc/Data/DataLayer.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

using namespace dlc;
namespace fs = std::filesystem;

namespace {

/// One dataset to write: its name, dims, file type and values (converted by
/// HDF5 from double). `values` empty: the dataset is created but not written.
struct Dataset {
  std::string name;
  std::vector<hsize_t> dims;
  hid_t type;
  std::vector<double> values;
  bool checksum = false; ///< chunked with HDF5's Fletcher-32 checksum
};

/// Writes `datasets` to a new .h5 file at `path` (chunked when not written,
/// so that huge dataspaces take no room, or when checksummed).
void writeH5(const std::string &path, const std::vector<Dataset> &datasets) {
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0) << path;
  for (const Dataset &d : datasets) {
    hid_t space = H5Screate_simple(int(d.dims.size()), d.dims.data(), nullptr);
    ASSERT_GE(space, 0);
    hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
    if (d.values.empty() || d.checksum) {
      std::vector<hsize_t> chunk(d.dims.size(), 1);
      if (d.checksum)
        chunk = d.dims;
      H5Pset_chunk(plist, int(chunk.size()), chunk.data());
    }
    if (d.checksum)
      H5Pset_fletcher32(plist);
    hid_t ds = H5Dcreate2(file, d.name.c_str(), d.type, space, H5P_DEFAULT, plist, H5P_DEFAULT);
    ASSERT_GE(ds, 0) << d.name;
    if (!d.values.empty()) {
      ASSERT_GE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.values.data()),
                0);
    }
    H5Dclose(ds);
    H5Pclose(plist);
    H5Sclose(space);
  }
  H5Fclose(file);
}

void writeText(const std::string &path, const std::string &text) {
  std::ofstream(path, std::ios::binary) << text;
}

class Hdf5DataTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = ::testing::TempDir() + "dlc-hdf5-" + info->name() + "-" + std::to_string(getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string &name) const { return dir_ + "/" + name; }

  /// File `index` of the standard data: `rows` rows numbered from `first`;
  /// row r has data 2x3 (float) {100r, 100r + 1, ..., 100r + 5} and label
  /// (double, one per row) r + 0.5.
  void writeRows(const std::string &name, int first, int rows) {
    Dataset data{"data", {hsize_t(rows), 2, 3}, H5T_IEEE_F32LE, {}};
    Dataset label{"label", {hsize_t(rows), 1}, H5T_IEEE_F64LE, {}};
    for (int r = first; r < first + rows; ++r) {
      for (int k = 0; k < 6; ++k)
        data.values.push_back(100 * r + k);
      label.values.push_back(r + 0.5);
    }
    writeH5(path(name), {data, label});
  }

  /// a.h5 (rows 0..4) and b.h5 (rows 5..7), listed with blank lines and
  /// blanks around the names, relative to the list file.
  void writeStandard() {
    writeRows("a.h5", 0, 5);
    writeRows("b.h5", 5, 3);
    writeText(path("list.txt"), "  a.h5 \n\n\tb.h5\n\n");
  }

  caffe::LayerParameter layer(const std::string &source, int batch, bool shuffle = false,
                              std::vector<std::string> tops = {"data", "label"}) const {
    caffe::LayerParameter l;
    l.set_name("h5");
    l.set_type("HDF5Data");
    for (const std::string &t : tops)
      l.add_top(t);
    caffe::HDF5DataParameter *p = l.mutable_hdf5_data_param();
    p->set_source(source);
    p->set_batch_size(batch);
    p->set_shuffle(shuffle);
    return l;
  }

  std::unique_ptr<data::BatchSource> open(const caffe::LayerParameter &l, uint64_t seed = 1,
                                          bool train = true) const {
    data::SourceOptions o;
    o.seed = seed;
    o.train = train;
    o.baseDir = dir_;
    return data::openDataLayer(l, o);
  }

  /// The error message of opening `l` and reading one batch ("" when none).
  std::string errorOf(const caffe::LayerParameter &l) const {
    try {
      auto s = open(l);
      std::vector<std::vector<float>> bufs;
      std::vector<float *> tops;
      for (const data::Shape &sh : s->shapes()) {
        int64_t n = 1;
        for (int64_t d : sh)
          n *= d;
        bufs.emplace_back(size_t(n));
        tops.push_back(bufs.back().data());
      }
      s->next(tops);
    } catch (const data::Error &e) {
      return e.what();
    }
    return "";
  }

  std::string dir_;
};

/// Reads `n` batches of data (2x3 a row) and labels; returns the rows (by
/// label) in order, checking that each row's data belongs to its label.
std::vector<int> readRows(data::BatchSource &s, int n) {
  const data::Shape &ds = s.shapes()[0];
  int64_t batch = ds[0];
  std::vector<float> dataBuf(size_t(batch * 6)), labelBuf(static_cast<size_t>(batch));
  std::vector<int> rows;
  for (int b = 0; b < n; ++b) {
    std::fill(dataBuf.begin(), dataBuf.end(), -1.0f);
    s.next({dataBuf.data(), labelBuf.data()});
    for (int64_t i = 0; i < batch; ++i) {
      int r = int(labelBuf[size_t(i)]);
      EXPECT_EQ(labelBuf[size_t(i)], r + 0.5f);
      for (int k = 0; k < 6; ++k)
        EXPECT_EQ(dataBuf[size_t(i * 6 + k)], float(100 * r + k)) << "row " << r << " k " << k;
      rows.push_back(r);
    }
  }
  return rows;
}

TEST_F(Hdf5DataTest, RoundTripAcrossFilesAndWrapAround) {
  writeStandard();
  // A relative source, found in baseDir; the files beside the list.
  auto s = open(layer("list.txt", 4));
  EXPECT_EQ(s->records(), 8);
  ASSERT_EQ(s->shapes().size(), 2u);
  EXPECT_EQ(s->shapes()[0], (data::Shape{4, 2, 3}));
  EXPECT_EQ(s->shapes()[1], (data::Shape{4, 1}));
  // Batch 2 spans a.h5's last row and b.h5; batch 3 is back at a.h5.
  EXPECT_EQ(readRows(*s, 5),
            (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3}));

  // Exact values of the first batch, spelled out.
  auto t = open(layer(path("list.txt"), 4));
  std::vector<float> d(24), l(4);
  t->next({d.data(), l.data()});
  EXPECT_EQ(d[0], 0.0f);
  EXPECT_EQ(d[5], 5.0f);
  EXPECT_EQ(d[6], 100.0f);
  EXPECT_EQ(d[23], 305.0f);
  EXPECT_EQ(l, (std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f}));
}

TEST_F(Hdf5DataTest, BatchSpansTheWrapAround) {
  writeStandard();
  auto s = open(layer("list.txt", 3));
  EXPECT_EQ(s->shapes()[0], (data::Shape{3, 2, 3}));
  EXPECT_EQ(readRows(*s, 6), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7,
                                               0, 1}));
}

TEST_F(Hdf5DataTest, OneFileBiggerThanTheBatch) {
  writeRows("a.h5", 0, 5);
  writeText(path("one.txt"), path("a.h5") + "\n"); // absolute path in the list
  auto s = open(layer(path("one.txt"), 7));
  EXPECT_EQ(s->records(), 5);
  EXPECT_EQ(readRows(*s, 2), (std::vector<int>{0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3}));
}

TEST_F(Hdf5DataTest, ListedFilesBesideTheListOrInBaseDir) {
  // sub/list.txt names sub/a.h5 (beside the list) and b.h5 (in baseDir).
  fs::create_directories(path("sub"));
  writeRows("sub/a.h5", 0, 5);
  writeRows("b.h5", 5, 3);
  writeText(path("sub/list.txt"), "a.h5\nb.h5\n");
  auto s = open(layer("sub/list.txt", 8));
  EXPECT_EQ(s->records(), 8);
  EXPECT_EQ(readRows(*s, 1), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST_F(Hdf5DataTest, OneDimensionalAndIntegerDatasets) {
  writeH5(path("i.h5"), {{"data", {4}, H5T_STD_I32LE, {7, -3, 100000, 42}},
                         {"label", {4, 2}, H5T_STD_U8LE, {1, 2, 3, 4, 5, 6, 7, 255}}});
  writeText(path("i.txt"), "i.h5\n");
  auto s = open(layer("i.txt", 3));
  EXPECT_EQ(s->records(), 4);
  EXPECT_EQ(s->shapes()[0], (data::Shape{3}));
  EXPECT_EQ(s->shapes()[1], (data::Shape{3, 2}));
  std::vector<float> d(3), l(6);
  s->next({d.data(), l.data()});
  EXPECT_EQ(d, (std::vector<float>{7, -3, 100000}));
  EXPECT_EQ(l, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  s->next({d.data(), l.data()});
  EXPECT_EQ(d, (std::vector<float>{42, 7, -3}));
  EXPECT_EQ(l, (std::vector<float>{7, 255, 1, 2, 3, 4}));
}

TEST_F(Hdf5DataTest, OneTop) {
  writeStandard();
  auto s = open(layer("list.txt", 2, false, {"label"}));
  ASSERT_EQ(s->shapes().size(), 1u);
  EXPECT_EQ(s->shapes()[0], (data::Shape{2, 1}));
  std::vector<float> l(2);
  for (int b = 0; b < 5; ++b) {
    s->next({l.data()});
    EXPECT_EQ(l, (std::vector<float>{(2 * b) % 8 + 0.5f, (2 * b + 1) % 8 + 0.5f}));
  }
}

TEST_F(Hdf5DataTest, ShuffleIsAPermutationPerEpochAndFollowsTheSeed) {
  writeStandard();
  // 3 epochs of 8 rows in batches of 4.
  std::vector<int> a = readRows(*open(layer("list.txt", 4, true), 7), 6);
  std::vector<int> again = readRows(*open(layer("list.txt", 4, true), 7), 6);
  std::vector<int> other = readRows(*open(layer("list.txt", 4, true), 8), 6);
  EXPECT_EQ(a, again);
  EXPECT_NE(a, other);
  std::vector<int> plain{0, 1, 2, 3, 4, 5, 6, 7};
  std::set<std::vector<int>> epochs;
  for (const std::vector<int> &seq : {a, other}) {
    for (int e = 0; e < 3; ++e) {
      std::vector<int> epoch(seq.begin() + 8 * e, seq.begin() + 8 * e + 8);
      epochs.insert(epoch);
      // A file's rows come together: all of a.h5 (0..4), then b.h5 (5..7),
      // or the other way round.
      bool aFirst = epoch[0] < 5;
      for (int i = 0; i < 8; ++i)
        EXPECT_EQ(epoch[size_t(i)] < 5, aFirst ? i < 5 : i >= 3) << "epoch " << e;
      std::sort(epoch.begin(), epoch.end());
      EXPECT_EQ(epoch, plain) << "epoch " << e;
    }
  }
  EXPECT_FALSE(epochs.count(plain)) << "shuffle left an epoch in order";
  EXPECT_GT(epochs.size(), 3u) << "epochs repeat their order";
  // The file order is shuffled at the start (first epochs of 8 seeds) and
  // at each wrap (8 epochs of one seed): both orders show up.
  std::set<bool> firstAtStart, firstAtWrap;
  for (uint64_t seed = 1; seed <= 8; ++seed)
    firstAtStart.insert(readRows(*open(layer("list.txt", 4, true), seed), 1)[0] < 5);
  std::vector<int> long8 = readRows(*open(layer("list.txt", 4, true), 7), 16);
  for (int e = 0; e < 8; ++e)
    firstAtWrap.insert(long8[size_t(8 * e)] < 5);
  EXPECT_EQ(firstAtStart.size(), 2u) << "the file order is not shuffled at the start";
  EXPECT_EQ(firstAtWrap.size(), 2u) << "the file order is not shuffled at each wrap";
  // Caffe shuffles in TEST too.
  EXPECT_EQ(readRows(*open(layer("list.txt", 4, true), 7, false), 6), a);
}

TEST_F(Hdf5DataTest, PrefetchedOnAThreadGivesTheSameBatches) {
  writeStandard();
  std::vector<int> alone = readRows(*open(layer("list.txt", 3, true), 5), 9);
  auto s = data::prefetch(open(layer("list.txt", 3, true), 5), 2);
  EXPECT_EQ(s->records(), 8);
  EXPECT_EQ(readRows(*s, 9), alone);
}

TEST_F(Hdf5DataTest, ShuffleOneFileEachEpoch) {
  writeRows("a.h5", 0, 5);
  writeText(path("one.txt"), "a.h5\n");
  std::vector<int> rows = readRows(*open(layer("one.txt", 5, true), 3), 4);
  std::set<std::vector<int>> epochs;
  for (int e = 0; e < 4; ++e) {
    std::vector<int> epoch(rows.begin() + 5 * e, rows.begin() + 5 * e + 5);
    epochs.insert(epoch);
    std::sort(epoch.begin(), epoch.end());
    EXPECT_EQ(epoch, (std::vector<int>{0, 1, 2, 3, 4}));
  }
  EXPECT_GT(epochs.size(), 1u) << "the rows are not reshuffled at each epoch";
}

TEST_F(Hdf5DataTest, MissingListFile) {
  std::string e = errorOf(layer("no-such-list.txt", 4));
  EXPECT_NE(e.find("no-such-list.txt: error: cannot open the list"), std::string::npos) << e;
}

TEST_F(Hdf5DataTest, EmptyList) {
  writeText(path("empty.txt"), "\n  \n");
  std::string e = errorOf(layer("empty.txt", 4));
  EXPECT_NE(e.find("empty.txt: error: lists no HDF5 files"), std::string::npos) << e;
}

TEST_F(Hdf5DataTest, BadParameters) {
  writeStandard();
  std::string e = errorOf(layer("list.txt", 0));
  EXPECT_NE(e.find("layer 'h5' (HDF5Data): hdf5_data_param's batch_size"), std::string::npos)
      << e;
  e = errorOf(layer("list.txt", 4, false, {}));
  EXPECT_NE(e.find("at least one top"), std::string::npos) << e;
  e = errorOf(layer("", 4));
  EXPECT_NE(e.find("no 'source'"), std::string::npos) << e;
}

TEST_F(Hdf5DataTest, ListedFileMissing) {
  writeRows("a.h5", 0, 5);
  writeText(path("list.txt"), "a.h5\nmissing.h5\n");
  std::string e = errorOf(layer("list.txt", 4));
  EXPECT_NE(e.find("missing.h5: error: no such HDF5 file"), std::string::npos) << e;
  EXPECT_NE(e.find("list.txt:2"), std::string::npos) << e;
}

TEST_F(Hdf5DataTest, NotAnHdf5File) {
  writeText(path("junk.h5"), std::string(4096, 'x') + "not HDF5 at all");
  writeText(path("list.txt"), "junk.h5\n");
  std::string e = errorOf(layer("list.txt", 4));
  EXPECT_NE(e.find("junk.h5: error: not an HDF5 file"), std::string::npos) << e;
}

TEST_F(Hdf5DataTest, DamagedFilesThrow) {
  writeRows("a.h5", 0, 50);
  std::ifstream in(path("a.h5"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  writeText(path("list.txt"), "cut.h5\n");
  // Cut short at several places; corrupted in the middle.
  for (size_t cut : {size_t(8), size_t(100), bytes.size() / 2, bytes.size() - 16}) {
    writeText(path("cut.h5"), bytes.substr(0, cut));
    EXPECT_NE(errorOf(layer("list.txt", 4)).find("cut.h5: error:"), std::string::npos) << cut;
  }
  for (size_t at = 0; at + 64 <= bytes.size(); at += 64) {
    std::string bad = bytes;
    for (size_t i = at; i < at + 64; ++i)
      bad[i] = char(bad[i] ^ 0x5a);
    writeText(path("cut.h5"), bad);
    errorOf(layer("list.txt", 4)); // an error or data; no crash
  }
}

TEST_F(Hdf5DataTest, DataThatFailsItsChecksumThrowsOnRead) {
  // 12345.0f is 00 e4 40 46 in the file; one value is changed after writing.
  writeH5(path("c.h5"), {{"data", {4, 2}, H5T_IEEE_F32LE, std::vector<double>(8, 12345.0), true}});
  std::ifstream in(path("c.h5"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t at = bytes.find(std::string("\x00\xe4\x40\x46", 4));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 3] = '\x47';
  writeText(path("c.h5"), bytes);
  writeText(path("list.txt"), "c.h5\n");
  auto s = open(layer("list.txt", 2, false, {"data"})); // the dims are intact
  EXPECT_EQ(s->shapes()[0], (data::Shape{2, 2}));
  std::string e = errorOf(layer("list.txt", 2, false, {"data"}));
  EXPECT_NE(e.find("c.h5: error: cannot read dataset 'data'"), std::string::npos) << e;
  // The same from the prefetching thread, at the next() of the batch.
  auto p = data::prefetch(std::move(s), 2);
  std::vector<float> buf(4);
  EXPECT_THROW(p->next({buf.data()}), data::Error);
}

TEST_F(Hdf5DataTest, MissingDataset) {
  writeH5(path("d.h5"), {{"data", {2, 3}, H5T_IEEE_F32LE, {1, 2, 3, 4, 5, 6}}});
  writeText(path("list.txt"), "d.h5\n");
  std::string e = errorOf(layer("list.txt", 4));
  EXPECT_NE(e.find("d.h5: error: no dataset 'label'"), std::string::npos) << e;
}

TEST_F(Hdf5DataTest, RowsDifferBetweenDatasets) {
  writeH5(path("d.h5"), {{"data", {5, 1}, H5T_IEEE_F32LE, {1, 2, 3, 4, 5}},
                         {"label", {4}, H5T_IEEE_F32LE, {1, 2, 3, 4}}});
  writeText(path("list.txt"), "d.h5\n");
  std::string e = errorOf(layer("list.txt", 4));
  EXPECT_NE(e.find("d.h5: error: dataset 'label' has 4 rows, dataset 'data' has 5"),
            std::string::npos)
      << e;
}

TEST_F(Hdf5DataTest, DimsDifferBetweenFiles) {
  writeRows("a.h5", 0, 5);
  Dataset data{"data", {3, 3, 2}, H5T_IEEE_F32LE, std::vector<double>(18, 1.0)};
  Dataset label{"label", {3, 1}, H5T_IEEE_F64LE, {1, 2, 3}};
  writeH5(path("b.h5"), {data, label});
  writeText(path("list.txt"), "a.h5\nb.h5\n");
  std::string e = errorOf(layer("list.txt", 4));
  EXPECT_NE(e.find("b.h5: error: dataset 'data' is 3x3x2 but 5x2x3 in "), std::string::npos)
      << e;
  EXPECT_NE(e.find("a.h5"), std::string::npos) << e;
  // A different rank is refused too.
  writeH5(path("b.h5"), {{"data", {3, 6}, H5T_IEEE_F32LE, std::vector<double>(18, 1.0)},
                         label});
  e = errorOf(layer("list.txt", 4));
  EXPECT_NE(e.find("b.h5: error: dataset 'data' is 3x6 but 5x2x3"), std::string::npos) << e;
}

TEST_F(Hdf5DataTest, EmptyAndNonNumericDatasets) {
  writeH5(path("z.h5"), {{"data", {0, 2}, H5T_IEEE_F32LE, {}}});
  writeText(path("list.txt"), "z.h5\n");
  std::string e = errorOf(layer("list.txt", 1, false, {"data"}));
  EXPECT_NE(e.find("z.h5: error: dataset 'data' is 0x2: it has no rows"), std::string::npos)
      << e;

  hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, 8);
  writeH5(path("z.h5"), {{"data", {2}, str, {}}});
  H5Tclose(str);
  e = errorOf(layer("list.txt", 1, false, {"data"}));
  EXPECT_NE(e.find("z.h5: error: dataset 'data' does not hold numbers"), std::string::npos) << e;
}

TEST_F(Hdf5DataTest, AbsurdSizesAreRefused) {
  writeText(path("list.txt"), "big.h5\n");
  // 2^32 elements, never written (chunked: the file stays small).
  writeH5(path("big.h5"), {{"data", {65536, 65536}, H5T_IEEE_F32LE, {}}});
  std::string e = errorOf(layer("list.txt", 1, false, {"data"}));
  EXPECT_NE(e.find("big.h5: error: dataset 'data' is 65536x65536 = 4294967296 elements; dlc "
                   "reads at most 2147483648"),
            std::string::npos)
      << e;
  // Two datasets of 2^30 + 1 elements each: too much for one file.
  writeH5(path("big.h5"), {{"data", {1, 1073741825}, H5T_IEEE_F32LE, {}},
                           {"label", {1, 1073741825}, H5T_IEEE_F32LE, {}}});
  e = errorOf(layer("list.txt", 1));
  EXPECT_NE(e.find("big.h5: error: its datasets hold 2147483650 elements"), std::string::npos)
      << e;
  // Rows of 2^30 elements in batches of 4.
  writeH5(path("big.h5"), {{"data", {1, 32768, 32768}, H5T_IEEE_F32LE, {}}});
  e = errorOf(layer("list.txt", 4, false, {"data"}));
  EXPECT_NE(e.find("a batch of 4 rows of 32768x32768"), std::string::npos) << e;
  // Element counts that overflow 64 bits.
  writeH5(path("big.h5"), {{"data", {1u << 30, 1u << 30, 1u << 30}, H5T_IEEE_F32LE, {}}});
  e = errorOf(layer("list.txt", 1, false, {"data"}));
  EXPECT_NE(e.find("is 1073741824x1073741824x1073741824: its element count overflows"),
            std::string::npos)
      << e;
}

} // namespace

//===- dlc-data.cpp - Dataset converters for Caffe's data layers ----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// dlc-data convert-mnist IMAGES LABELS OUT [--backend lmdb|leveldb] [--limit N]
//   Caffe's convert_mnist_data: MNIST-format idx files (plain or .gz, as
//   MNIST and Fashion-MNIST are distributed) into a database of Datum
//   records (1 x rows x cols bytes, the label), keys "%08d".
// dlc-data compute-mean DB OUT.binaryproto [--backend lmdb|leveldb]
//   Caffe's compute_image_mean: the mean record, for transform_param's
//   mean_file.
// dlc-data info DB [--backend lmdb|leveldb]
//   The record count and the first record's shape and label.
//
// No MLIR, no LLVM. Exit codes as every dlc tool (dlc/Support/ExitCodes.h).
//
//===----------------------------------------------------------------------===//

#include "dlc/Data/Database.h"
#include "dlc/Support/AtomicFile.h"
#include "dlc/Support/ExitCodes.h"

#include <CLI/CLI.hpp>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace dlc::data;

namespace {

/// Reads a whole file, decompressing gzip (zlib reads plain files as they are).
std::string readAll(const std::string &path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    throw Error(path + ": error: cannot open: " + std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) {
    out.append(buf, size_t(n));
    if (out.size() > (size_t(1) << 32)) {
      gzclose(f);
      throw Error(path + ": error: over 4 GiB uncompressed; not an MNIST file");
    }
  }
  int err = 0;
  const char *msg = gzerror(f, &err);
  bool bad = n < 0 || (err != Z_OK && err != Z_STREAM_END);
  std::string what = bad ? msg : "";
  gzclose(f);
  if (bad)
    throw Error(path + ": error: cannot read: " + what);
  return out;
}

uint32_t bigEndian(const std::string &b, size_t at) {
  const auto *p = reinterpret_cast<const unsigned char *>(b.data() + at);
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

Backend parseBackend(const std::string &name) {
  return name == "leveldb" ? Backend::LevelDB : Backend::LMDB;
}

int convertMnist(const std::string &imagesPath, const std::string &labelsPath,
                 const std::string &out, Backend backend, int64_t limit) {
  std::string images = readAll(imagesPath), labels = readAll(labelsPath);
  if (images.size() < 16 || bigEndian(images, 0) != 2051)
    throw Error(imagesPath + ": error: not an MNIST image file (idx3-ubyte, magic 2051)");
  if (labels.size() < 8 || bigEndian(labels, 0) != 2049)
    throw Error(labelsPath + ": error: not an MNIST label file (idx1-ubyte, magic 2049)");
  uint64_t count = bigEndian(images, 4), rows = bigEndian(images, 8), cols = bigEndian(images, 12);
  if (bigEndian(labels, 4) != count)
    throw Error(labelsPath + ": error: " + std::to_string(bigEndian(labels, 4)) +
                " labels for " + std::to_string(count) + " images");
  if (rows == 0 || cols == 0 || rows > 4096 || cols > 4096 ||
      images.size() != 16 + count * rows * cols || labels.size() != 8 + count)
    throw Error(imagesPath + ": error: the file's size does not match its header (" +
                std::to_string(count) + " images of " + std::to_string(rows) + "x" +
                std::to_string(cols) + ")");
  if (limit > 0 && uint64_t(limit) < count)
    count = uint64_t(limit);
  std::unique_ptr<DbWriter> db = DbWriter::create(out, backend);
  caffe::Datum datum;
  datum.set_channels(1);
  datum.set_height(int(rows));
  datum.set_width(int(cols));
  std::string value;
  for (uint64_t i = 0; i < count; ++i) {
    datum.set_data(images.data() + 16 + i * rows * cols, rows * cols);
    datum.set_label(static_cast<unsigned char>(labels[8 + i]));
    datum.SerializeToString(&value);
    char key[16];
    std::snprintf(key, sizeof key, "%08llu", static_cast<unsigned long long>(i));
    db->put(key, value);
    if ((i + 1) % 1000 == 0)
      db->commit();
  }
  db->commit();
  std::printf("%s: %llu records of 1x%llux%llu (%s)\n", out.c_str(),
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(rows),
              static_cast<unsigned long long>(cols), backendName(backend));
  return dlc::kExitOk;
}

/// The record's values as floats; its shape in c, h, w.
std::vector<float> datumValues(std::string_view v, const std::string &where, int64_t &c,
                               int64_t &h, int64_t &w, int &label) {
  caffe::Datum d;
  if (v.size() >= (size_t(1) << 31) || !d.ParseFromArray(v.data(), int(v.size())) || d.encoded())
    throw Error(where + " is not a raw Caffe Datum (encoded records are not averaged)");
  c = d.channels();
  h = d.height();
  w = d.width();
  label = d.label();
  int64_t n = c * h * w;
  if (c <= 0 || h <= 0 || w <= 0 ||
      (int64_t(d.data().size()) != n && d.float_data_size() != n))
    throw Error(where + ": its size does not match its shape");
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    out[size_t(i)] = d.float_data_size() ? d.float_data(int(i))
                                         : float(static_cast<unsigned char>(d.data()[size_t(i)]));
  return out;
}

int computeMean(const std::string &path, const std::string &out, Backend backend) {
  std::unique_ptr<DbReader> db = DbReader::open(path, backend);
  std::vector<double> sum;
  int64_t c0 = 0, h0 = 0, w0 = 0, n = 0;
  for (db->seekToFirst(); db->valid(); db->next()) {
    int64_t c, h, w;
    int label;
    std::string where = path + ": error: record '" + std::string(db->key()) + "'";
    std::vector<float> v = datumValues(db->value(), where, c, h, w, label);
    if (n == 0) {
      c0 = c, h0 = h, w0 = w;
      sum.assign(v.size(), 0.0);
    } else if (c != c0 || h != h0 || w != w0) {
      throw Error(where + " differs in shape from the first record");
    }
    for (size_t i = 0; i < v.size(); ++i)
      sum[i] += v[i];
    ++n;
  }
  if (n == 0)
    throw Error(path + ": error: the database is empty");
  caffe::BlobProto blob;
  for (int64_t d : {int64_t(1), c0, h0, w0})
    blob.mutable_shape()->add_dim(d);
  for (double s : sum)
    blob.add_data(float(s / double(n)));
  std::string bytes;
  blob.SerializeToString(&bytes);
  if (dlc::Status st = dlc::writeFileAtomically(out, bytes); st.failed())
    throw Error(st.message());
  std::printf("%s: the mean of %lld records of %lldx%lldx%lld\n", out.c_str(),
              static_cast<long long>(n), static_cast<long long>(c0), static_cast<long long>(h0),
              static_cast<long long>(w0));
  return dlc::kExitOk;
}

int info(const std::string &path, Backend backend) {
  std::unique_ptr<DbReader> db = DbReader::open(path, backend);
  std::printf("%s: %s, %lld records\n", path.c_str(), backendName(backend),
              static_cast<long long>(db->count()));
  if (db->valid()) {
    int64_t c, h, w;
    int label;
    datumValues(db->value(), path + ": error: record '" + std::string(db->key()) + "'", c, h, w,
                label);
    std::printf("first record '%s': %lldx%lldx%lld, label %d\n", std::string(db->key()).c_str(),
                static_cast<long long>(c), static_cast<long long>(h), static_cast<long long>(w),
                label);
  }
  return dlc::kExitOk;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"dlc-data: datasets for Caffe's data layers"};
  app.require_subcommand(1);
  std::string images, labels, out, db, backend = "lmdb";
  int64_t limit = 0;
  auto addBackend = [&](CLI::App *cmd) {
    cmd->add_option("--backend", backend, "lmdb (default) or leveldb")
        ->check(CLI::IsMember({"lmdb", "leveldb"}));
  };
  CLI::App *mnist = app.add_subcommand("convert-mnist", "MNIST idx files (or .gz) to a database");
  mnist->add_option("images", images, "idx3-ubyte images")->required();
  mnist->add_option("labels", labels, "idx1-ubyte labels")->required();
  mnist->add_option("out", out, "the database to create (a new directory)")->required();
  mnist->add_option("--limit", limit, "convert the first N images only")
      ->check(CLI::PositiveNumber);
  addBackend(mnist);
  CLI::App *mean = app.add_subcommand("compute-mean", "the mean record, as a .binaryproto");
  mean->add_option("db", db, "database")->required();
  mean->add_option("out", out, "output .binaryproto")->required();
  addBackend(mean);
  CLI::App *inf = app.add_subcommand("info", "record count and first record");
  inf->add_option("db", db, "database")->required();
  addBackend(inf);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? dlc::kExitOk : dlc::kExitUsage;
  }
  try {
    if (*mnist)
      return convertMnist(images, labels, out, parseBackend(backend), limit);
    if (*mean)
      return computeMean(db, out, parseBackend(backend));
    return info(db, parseBackend(backend));
  } catch (const Error &e) {
    std::fprintf(stderr, "dlc-data: %s\n", e.what());
    return dlc::kExitUserError;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "dlc-data: internal error: %s\n", e.what());
    return dlc::kExitInternal;
  }
}

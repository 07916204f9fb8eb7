//===- DataLayerTest.cpp - Data layers on databases written here ----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Caffe's Data layer over LMDB and LevelDB, its DataTransformer, DummyData
// and prefetching: values checked against what Caffe's formulas give on
// records written by the test.
//
//===----------------------------------------------------------------------===//

#include "DataInternal.h"

#include "dlc/Data/Database.h"
#include "dlc/Data/DataLayer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

using namespace dlc::data;
namespace fs = std::filesystem;

namespace {

std::string freshDir(const std::string &name) {
  std::string dir = ::testing::TempDir() + "dlc-data-" + name;
  fs::remove_all(dir);
  return dir;
}

/// n records of c x h x w bytes: record r, element i holds (r * 7 + i) % 251;
/// label r % 10.
std::string writeDb(const std::string &name, Backend backend, int n, int c, int h, int w) {
  std::string path = freshDir(name);
  auto db = DbWriter::create(path, backend);
  for (int r = 0; r < n; ++r) {
    caffe::Datum d;
    d.set_channels(c);
    d.set_height(h);
    d.set_width(w);
    std::string bytes(size_t(c * h * w), '\0');
    for (int i = 0; i < c * h * w; ++i)
      bytes[size_t(i)] = char((r * 7 + i) % 251);
    d.set_data(bytes);
    d.set_label(r % 10);
    char key[16];
    std::snprintf(key, sizeof key, "%08d", r);
    db->put(key, d.SerializeAsString());
  }
  db->commit();
  return path;
}

caffe::LayerParameter dataLayer(const std::string &source, Backend backend, int batch) {
  caffe::LayerParameter l;
  l.set_name("data");
  l.set_type("Data");
  l.add_top("data");
  l.add_top("label");
  l.mutable_data_param()->set_source(source);
  l.mutable_data_param()->set_batch_size(uint32_t(batch));
  l.mutable_data_param()->set_backend(backend == Backend::LMDB ? caffe::DataParameter::LMDB
                                                               : caffe::DataParameter::LEVELDB);
  return l;
}

std::vector<std::vector<float>> nextBatch(BatchSource &s) {
  std::vector<std::vector<float>> out;
  std::vector<float *> ptrs;
  for (const Shape &sh : s.shapes()) {
    int64_t n = 1;
    for (int64_t d : sh)
      n *= d;
    out.emplace_back(size_t(n), -1.0f);
  }
  for (auto &v : out)
    ptrs.push_back(v.data());
  s.next(ptrs);
  return out;
}

float element(int r, int i) { return float((r * 7 + i) % 251); }

} // namespace

TEST(DataLayer, ReadsBothBackendsInKeyOrderAndWraps) {
  for (Backend backend : {Backend::LMDB, Backend::LevelDB}) {
    std::string path = writeDb(std::string("order-") + backendName(backend), backend, 5, 2, 3, 4);
    SourceOptions o;
    auto src = openDataLayer(dataLayer(path, backend, 3), o);
    ASSERT_EQ(src->shapes().size(), 2u);
    EXPECT_EQ(src->shapes()[0], (Shape{3, 2, 3, 4}));
    EXPECT_EQ(src->shapes()[1], (Shape{3}));
    EXPECT_EQ(src->records(), 5);
    int record = 0;
    for (int b = 0; b < 4; ++b) {
      auto batch = nextBatch(*src);
      for (int k = 0; k < 3; ++k, record = (record + 1) % 5) {
        EXPECT_EQ(batch[1][size_t(k)], float(record % 10)) << backendName(backend);
        for (int i = 0; i < 24; ++i)
          ASSERT_EQ(batch[0][size_t(k * 24 + i)], element(record, i))
              << backendName(backend) << " batch " << b << " item " << k;
      }
    }
  }
}

TEST(DataLayer, TransformScaleMeanValueCropMirror) {
  std::string path = writeDb("transform", Backend::LMDB, 2, 2, 4, 5);
  caffe::LayerParameter l = dataLayer(path, Backend::LMDB, 1);
  caffe::TransformationParameter *t = l.mutable_transform_param();
  t->set_scale(0.5f);
  t->add_mean_value(10);
  t->add_mean_value(20);
  t->set_crop_size(3);
  // TEST: the center crop (offsets (4-3)/2 = 0 and (5-3)/2 = 1), no mirror.
  SourceOptions test;
  test.train = false;
  auto src = openDataLayer(l, test);
  EXPECT_EQ(src->shapes()[0], (Shape{1, 2, 3, 3}));
  auto batch = nextBatch(*src);
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x)
        EXPECT_FLOAT_EQ(batch[0][size_t((c * 3 + y) * 3 + x)],
                        (element(0, (c * 4 + y) * 5 + x + 1) - (c ? 20.f : 10.f)) * 0.5f);
  // TRAIN with mirror: every output is some crop, mirrored or not, and over
  // many draws every offset and both mirrors occur.
  t->set_mirror(true);
  SourceOptions train;
  auto rnd = openDataLayer(l, train);
  std::set<std::tuple<int, int, bool>> seen;
  for (int draw = 0; draw < 200; ++draw) {
    int r = draw % 2;
    auto b = nextBatch(*rnd);
    bool found = false;
    for (int h0 = 0; h0 <= 1 && !found; ++h0)
      for (int w0 = 0; w0 <= 2 && !found; ++w0)
        for (bool mirror : {false, true}) {
          bool match = true;
          for (int c = 0; c < 2 && match; ++c)
            for (int y = 0; y < 3 && match; ++y)
              for (int x = 0; x < 3 && match; ++x) {
                int sx = mirror ? 2 - x : x;
                float mean = c ? 20.f : 10.f;
                float want = (element(r, (c * 4 + h0 + y) * 5 + w0 + sx) - mean) * 0.5f;
                match = b[0][size_t((c * 3 + y) * 3 + x)] == want;
              }
          if (match) {
            seen.insert({h0, w0, mirror});
            found = true;
            break;
          }
        }
    ASSERT_TRUE(found) << "draw " << draw;
  }
  EXPECT_EQ(seen.size(), 12u);
}

TEST(DataLayer, MeanFile) {
  std::string path = writeDb("meanfile", Backend::LevelDB, 1, 1, 2, 2);
  caffe::BlobProto mean;
  for (int d : {1, 1, 2, 2})
    mean.mutable_shape()->add_dim(d);
  for (float v : {1.f, 2.f, 3.f, 4.f})
    mean.add_data(v);
  std::string meanPath = ::testing::TempDir() + "dlc-data-mean.binaryproto";
  std::ofstream(meanPath, std::ios::binary) << mean.SerializeAsString();
  caffe::LayerParameter l = dataLayer(path, Backend::LevelDB, 1);
  l.mutable_transform_param()->set_mean_file(meanPath);
  auto src = openDataLayer(l, SourceOptions());
  auto b = nextBatch(*src);
  for (int i = 0; i < 4; ++i)
    EXPECT_FLOAT_EQ(b[0][size_t(i)], element(0, i) - float(i + 1));
  src.reset(); // LevelDB takes one reader at a time
  // A mean of another shape is refused at the first record.
  mean.mutable_shape()->set_dim(3, 3);
  mean.add_data(5);
  mean.add_data(6);
  std::ofstream(meanPath, std::ios::binary | std::ios::trunc) << mean.SerializeAsString();
  auto bad = openDataLayer(l, SourceOptions());
  EXPECT_THROW(nextBatch(*bad), Error);
}

TEST(DataLayer, RandSkipIsDeterministic) {
  std::string path = writeDb("skip", Backend::LMDB, 50, 1, 1, 1);
  caffe::LayerParameter l = dataLayer(path, Backend::LMDB, 1);
  l.mutable_data_param()->set_rand_skip(40);
  auto first = [&](uint64_t seed) {
    SourceOptions o;
    o.seed = seed;
    return nextBatch(*openDataLayer(l, o))[1][0];
  };
  EXPECT_EQ(first(3), first(3));
  std::set<float> starts;
  for (uint64_t s = 1; s < 20; ++s)
    starts.insert(first(s));
  EXPECT_GT(starts.size(), 3u);
}

/// An LMDB Data layer of 7 records 1x4x4, batch 3, random 2x2 crops and
/// mirrors (TRAIN): batches that depend on the random stream.
caffe::LayerParameter randomCropLayer(const std::string &name) {
  caffe::LayerParameter l = dataLayer(writeDb(name, Backend::LMDB, 7, 1, 4, 4), Backend::LMDB, 3);
  l.mutable_transform_param()->set_crop_size(2);
  l.mutable_transform_param()->set_mirror(true);
  return l;
}

TEST(DataLayer, PrefetchGivesTheSameBatches) {
  caffe::LayerParameter l = randomCropLayer("prefetch");
  SourceOptions o;
  o.seed = 11;
  auto plain = openDataLayer(l, o);
  auto ahead = prefetch(openDataLayer(l, o), 4);
  EXPECT_EQ(ahead->shapes(), plain->shapes());
  for (int b = 0; b < 10; ++b)
    EXPECT_EQ(nextBatch(*ahead), nextBatch(*plain)) << "batch " << b;
}

TEST(DataLayer, ShardsTakeEveryRanksthBatch) {
  // Rank r of n reads batches r, r + n, ... of the sequence one process
  // reads (random crops and mirrors included), in any of the ranks.
  caffe::LayerParameter l = randomCropLayer("shard");
  SourceOptions o;
  o.seed = 5;
  // LMDB skips without reading (cursor and random stream moved); DummyData
  // cannot skip, so the shard reads and drops the other ranks' batches.
  caffe::LayerParameter dummy;
  dummy.set_name("dummy");
  dummy.set_type("DummyData");
  dummy.add_top("a");
  dummy.mutable_dummy_data_param()->add_shape()->add_dim(3);
  dummy.mutable_dummy_data_param()->mutable_shape(0)->add_dim(5);
  dummy.mutable_dummy_data_param()->add_data_filler()->set_type("uniform");
  for (const caffe::LayerParameter &layer : {l, dummy}) {
    SCOPED_TRACE(layer.type());
    auto whole = openDataLayer(layer, o);
    std::vector<decltype(nextBatch(*whole))> sequence;
    for (int b = 0; b < 12; ++b)
      sequence.push_back(nextBatch(*whole));
    EXPECT_NE(sequence[0], sequence[1]);
    for (int ranks : {1, 2, 3}) {
      for (int rank = 0; rank < ranks; ++rank) {
        auto mine = prefetch(shard(openDataLayer(layer, o), rank, ranks), 2);
        EXPECT_EQ(mine->shapes(), whole->shapes());
        EXPECT_EQ(mine->records(), whole->records());
        for (int b = rank; b < 12; b += ranks)
          EXPECT_EQ(nextBatch(*mine), sequence[size_t(b)])
              << "rank " << rank << " of " << ranks << ", batch " << b;
      }
    }
  }
}

TEST(DataLayer, Errors) {
  auto message = [](const caffe::LayerParameter &l) {
    try {
      auto src = openDataLayer(l, SourceOptions());
      nextBatch(*src);
    } catch (const Error &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string missing = freshDir("missing");
  EXPECT_NE(message(dataLayer(missing, Backend::LMDB, 2)).find("No such file or directory"),
            std::string::npos);
  EXPECT_NE(message(dataLayer(missing, Backend::LevelDB, 2)).find("leveldb"), std::string::npos);
  // A file where a database belongs.
  std::string file = ::testing::TempDir() + "dlc-data-not-a-db";
  std::ofstream(file) << "hello";
  EXPECT_NE(message(dataLayer(file, Backend::LMDB, 2)).find("not a directory"), std::string::npos);
  // Records that are not Datums, or of a different shape than the first.
  std::string junk = freshDir("junk");
  {
    auto db = DbWriter::create(junk, Backend::LMDB);
    db->put("00000000", "\xff\xff\xff garbage");
    db->commit();
  }
  EXPECT_NE(message(dataLayer(junk, Backend::LMDB, 2)).find("is not a Caffe Datum"),
            std::string::npos);
  std::string mixed = freshDir("mixed");
  {
    auto db = DbWriter::create(mixed, Backend::LMDB);
    for (int r = 0; r < 2; ++r) {
      caffe::Datum d;
      d.set_channels(1);
      d.set_height(2);
      d.set_width(2 + r);
      d.set_data(std::string(size_t(2 * (2 + r)), 'a'));
      db->put("k" + std::to_string(r), d.SerializeAsString());
    }
    db->commit();
  }
  EXPECT_NE(message(dataLayer(mixed, Backend::LMDB, 2)).find("record 'k1' is 1x2x3; the first "
                                                              "record is 1x2x2"),
            std::string::npos);
  caffe::LayerParameter noBatch = dataLayer(mixed, Backend::LMDB, 0);
  EXPECT_NE(message(noBatch).find("batch_size must be positive"), std::string::npos);
  caffe::LayerParameter memory;
  memory.set_name("m");
  memory.set_type("MemoryData");
  EXPECT_NE(message(memory).find("must be given as an input"), std::string::npos);
  // Writing over an existing database is refused.
  EXPECT_THROW(DbWriter::create(mixed, Backend::LMDB), Error);
}

TEST(DataLayer, DummyData) {
  caffe::LayerParameter l;
  l.set_name("dummy");
  l.set_type("DummyData");
  l.add_top("a");
  l.add_top("b");
  caffe::DummyDataParameter *p = l.mutable_dummy_data_param();
  caffe::BlobShape *s = p->add_shape();
  s->add_dim(4);
  s->add_dim(1000);
  p->add_shape()->add_dim(4);
  caffe::FillerParameter *g = p->add_data_filler();
  g->set_type("gaussian");
  g->set_mean(2);
  g->set_std(3);
  caffe::FillerParameter *c = p->add_data_filler();
  c->set_value(7);
  auto src = openDataLayer(l, SourceOptions());
  EXPECT_EQ(src->shapes()[0], (Shape{4, 1000}));
  auto b1 = nextBatch(*src), b2 = nextBatch(*src);
  double mean = 0, var = 0;
  for (float v : b1[0])
    mean += v;
  mean /= 4000;
  for (float v : b1[0])
    var += (v - mean) * (v - mean);
  EXPECT_NEAR(mean, 2, 0.2);
  EXPECT_NEAR(std::sqrt(var / 4000), 3, 0.2);
  EXPECT_NE(b1[0], b2[0]) << "gaussian tops are refilled";
  EXPECT_EQ(b1[1], std::vector<float>(4, 7.0f));
  p->mutable_data_filler(0)->set_type("xavier");
  EXPECT_THROW(openDataLayer(l, SourceOptions()), Error);
}

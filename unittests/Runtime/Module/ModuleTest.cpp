//===- ModuleTest.cpp - .dlcm format reader/writer tests -------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TestModules.h"

#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Module.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>

using namespace dlc;
using namespace dlc::rt;
namespace pb = dlc::module;

namespace {

std::vector<uint8_t> toBytes(const std::string &s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::string serialized(ModuleWriter w) {
  std::string bytes, error;
  EXPECT_TRUE(w.serialize(bytes, error)) << error;
  return bytes;
}

std::string parseError(const std::string &bytes) {
  LoadedModule lm;
  std::string error;
  if (parseModule(toBytes(bytes), "t.dlcm", lm, error))
    return "";
  return error;
}

} // namespace

TEST(ModuleFormat, RoundTrip) {
  ModuleWriter w = test::tinyCnn();
  std::string bytes, error;
  ASSERT_TRUE(w.serialize(bytes, error)) << error;
  EXPECT_EQ(bytes.compare(0, 4, "DLCM"), 0);
  LoadedModule lm;
  ASSERT_TRUE(parseModule(toBytes(bytes), "t.dlcm", lm, error)) << error;
  EXPECT_EQ(lm.header.SerializeAsString(), w.header().SerializeAsString());
  EXPECT_EQ(lm.header.version(), kFormatVersion);
  EXPECT_EQ(lm.header.name(), "tiny_cnn");
  ASSERT_EQ(lm.header.tensors_size(), 9);
  EXPECT_EQ(lm.findTensor("pool1"), 5);
  EXPECT_EQ(lm.findTensor("nope"), -1);
  // conv1_w (param 0) is stored, conv1_b (param 1) uses a filler.
  ASSERT_NE(lm.paramData(0), nullptr);
  EXPECT_EQ(lm.paramData(1), nullptr);
  EXPECT_EQ(lm.header.params(0).data_size(), 4u * 108);
  EXPECT_EQ(lm.header.params(0).data_offset() % kWeightsAlignment, 0u);
  float w0[108];
  std::memcpy(w0, lm.paramData(0), sizeof(w0));
  for (int i = 0; i < 108; ++i)
    EXPECT_FLOAT_EQ(w0[i], float(std::sin(0.37 * i) * 0.5));
  float b[5];
  std::memcpy(b, lm.paramData(3), sizeof(b));
  EXPECT_EQ(b[1], -0.25f);
  EXPECT_EQ(lm.paramOfTensor.at(lm.header.params(3).tensor()), 3);
}

TEST(ModuleFormat, FileRoundTripAndMissingFile) {
  std::string path = testing::TempDir() + "/roundtrip.dlcm";
  ModuleWriter w = test::tinyCnn(true);
  std::string error;
  ASSERT_TRUE(w.write(path, error)) << error;
  LoadedModule lm;
  ASSERT_TRUE(readModule(path, lm, error)) << error;
  EXPECT_EQ(lm.header.arena_bytes(), 2688);
  EXPECT_EQ(lm.path, path);
  std::remove(path.c_str());
  EXPECT_FALSE(readModule(path, lm, error));
  EXPECT_EQ(error.rfind(path + ": error: cannot open", 0), 0u) << error;
}

TEST(ModuleFormat, WriterRejectsInvalidModules) {
  ModuleWriter w = test::tinyCnn();
  w.header().mutable_kernels(1)->set_inputs(0, 1000);
  std::string bytes, error;
  EXPECT_FALSE(w.serialize(bytes, error));
  EXPECT_NE(error.find("input index 1000 out of range"), std::string::npos) << error;

  ModuleWriter w2 = test::tinyCnn();
  w2.setParamData(0, std::vector<float>(3)); // wrong element count
  EXPECT_FALSE(w2.serialize(bytes, error));
  EXPECT_NE(error.find("data_size 12 != 4 * 108"), std::string::npos) << error;

  ModuleWriter w3 = test::tinyCnn();
  w3.header().mutable_params(1)->clear_tensor(); // required field
  EXPECT_FALSE(w3.serialize(bytes, error));
  EXPECT_NE(error.find("missing required fields: params[1].tensor"), std::string::npos) << error;
}

TEST(ModuleFormat, PreambleErrors) {
  std::string good = serialized(test::tinyCnn());
  EXPECT_EQ(parseError(""), "t.dlcm: error: file too small to be a dlc module (0 bytes, need at least 16)");
  std::string bad = good;
  bad[0] = 'X';
  EXPECT_NE(parseError(bad).find("bad magic"), std::string::npos);

  pb::Module m = test::tinyCnn().header();
  const uint32_t v = rt::kFormatVersion;
  const std::string reads = "(this runtime reads version " + std::to_string(v) + "; ";
  m.set_version(v + 1);
  std::string newer = parseError(test::rawModuleBytes(m, "", v + 1));
  EXPECT_NE(newer.find("unsupported module format version " + std::to_string(v + 1) + " " + reads +
                       "the module is newer"),
            std::string::npos)
      << newer;
  m.set_version(v - 1);
  std::string older = parseError(test::rawModuleBytes(m, "", v - 1));
  EXPECT_NE(older.find("version " + std::to_string(v - 1) + " " + reads + "the module is older"),
            std::string::npos)
      << older;
  // Header version disagreeing with the preamble.
  m.set_version(v + 2);
  EXPECT_NE(parseError(test::rawModuleBytes(m, "", v)).find("header version " + std::to_string(v + 2) +
                                                 " does not match"),
            std::string::npos);

  bad = good;
  bad[15] = 0x7f; // header size ~ 2^62
  EXPECT_NE(parseError(bad).find("exceeds the file"), std::string::npos);
  bad = good;
  for (int i = 16; i < 30; ++i)
    bad[i] = char(0xff);
  EXPECT_NE(parseError(bad).find("cannot parse the module header"), std::string::npos);
}

TEST(ModuleFormat, StructuralErrors) {
  auto errorOf = [](auto mutate) {
    ModuleWriter w = test::tinyCnn();
    std::string bytes, error;
    EXPECT_TRUE(w.serialize(bytes, error));
    pb::Module m = w.header();
    std::string weights = bytes.substr((16 + m.ByteSizeLong() + 63) / 64 * 64);
    mutate(m);
    return parseError(test::rawModuleBytes(m, weights));
  };
  EXPECT_NE(errorOf([](pb::Module &m) { m.mutable_kernels(2)->set_outputs(0, 4); })
                .find("output 'relu1' is already produced by kernel #1"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) { m.mutable_kernels(1)->set_inputs(0, 5); })
                .find("input 'pool1' is not produced by an earlier kernel"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) { m.mutable_kernels(1)->set_outputs(0, -3); })
                .find("output index -3 out of range"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) { test::addIntAttr(*m.mutable_kernels(0), "group", 1); })
                .find("duplicate attribute 'group'"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) { m.mutable_tensors(4)->set_name("conv1"); })
                .find("duplicate tensor name"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) { m.mutable_tensors(3)->set_shape(0, -2); })
                .find("negative dimension -2"),
            std::string::npos);
  // Run-time sizes (max_shape): activations only, same rank, static
  // dimensions equal, at least one -1.
  EXPECT_NE(errorOf([](pb::Module &m) {
              m.mutable_tensors(0)->set_shape(0, -1);
              m.mutable_tensors(0)->add_max_shape(2);
            }).find("only activations can have a run-time size"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) {
              m.mutable_tensors(3)->set_shape(0, -1);
              m.mutable_tensors(3)->add_max_shape(2);
            }).find("max_shape has rank 1, shape has rank 4"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) {
              pb::Tensor *t = m.mutable_tensors(3);
              for (int64_t d : t->shape())
                t->add_max_shape(d + 1);
              t->set_shape(0, -1);
            }).find("max_shape differs from shape at static dimension 1"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) {
              pb::Tensor *t = m.mutable_tensors(3);
              for (int64_t d : t->shape())
                t->add_max_shape(d);
            }).find("max_shape given for a static shape"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) { m.mutable_params(0)->set_data_size(8); })
                .find("data_size 8 != 4 * 108 elements"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) { m.mutable_params(0)->set_data_offset(1u << 20); })
                .find("lies outside the weights section"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) { m.mutable_params()->RemoveLast(); })
                .find("param tensor 'ip_b' has no param entry"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) { m.mutable_params(1)->mutable_filler()->set_type("magic"); })
                .find("unknown filler type 'magic'"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) { m.add_outputs(99); }).find("graph output index 99"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) { m.clear_inputs(); })
                .find("input tensor 'data' is not listed"),
            std::string::npos);
  EXPECT_NE(errorOf([](pb::Module &m) {
              m.set_arena_bytes(100);
              m.mutable_tensors(3)->set_offset(0);
            }).find("exceeds arena_bytes 100"),
            std::string::npos);
}

TEST(ModuleFormat, ArenaPlanLiveness) {
  std::string bytes, error;
  ModuleWriter ok = test::tinyCnn(true);
  ASSERT_TRUE(ok.serialize(bytes, error)) << error;
  // Writing an operand's memory at its last use is allowed (the executor
  // handles the aliasing)...
  ModuleWriter inPlace = test::tinyCnn(true);
  inPlace.header().mutable_tensors(3)->set_offset(512); // conv1 over data
  EXPECT_TRUE(inPlace.serialize(bytes, error)) << error;
  // ...but not while the operand stays live: here data is also a net output.
  ModuleWriter bad = test::tinyCnn(true);
  bad.header().mutable_tensors(3)->set_offset(512);
  bad.header().add_outputs(0);
  EXPECT_FALSE(bad.serialize(bytes, error));
  EXPECT_NE(error.find("arena plan: tensors 'data' and 'pool1' overlap"), std::string::npos) << error;
  // pool1 over relu1's memory (its operand) while relu1 is still read later.
  ModuleWriter bad2 = test::tinyCnn(true);
  bad2.header().mutable_tensors(5)->set_offset(1536);
  bad2.header().mutable_tensors(8)->set_offset(2000); // ip over relu1/pool1? no: pool1 is ip's operand
  EXPECT_TRUE(bad2.serialize(bytes, error)) << error;
  bad2.header().add_outputs(4); // relu1 live to the end now
  EXPECT_FALSE(bad2.serialize(bytes, error));
  EXPECT_NE(error.find("arena plan: tensors 'relu1' and 'pool1' overlap"), std::string::npos) << error;
}

TEST(ModuleFormat, AbsurdShapesRefusedBeforeAllocation) {
  // 2^41 elements in one tensor.
  pb::Module m = test::tinyCnn().header();
  pb::Tensor *t = m.mutable_tensors(2); // conv1_b, filler-initialised
  t->clear_shape();
  t->add_shape(int64_t(1) << 21);
  t->add_shape(int64_t(1) << 20);
  std::string e = parseError(test::rawModuleBytes(m));
  EXPECT_NE(e.find("more than 2^40 elements"), std::string::npos) << e;
  // Overflowing products are caught too.
  t->clear_shape();
  for (int i = 0; i < 4; ++i)
    t->add_shape(int64_t(1) << 40);
  EXPECT_NE(parseError(test::rawModuleBytes(m)).find("more than 2^40 elements"), std::string::npos);
  // Stored data claiming 2^38 elements in a tiny file.
  pb::Module s = test::tinyCnn().header();
  pb::Tensor *w = s.mutable_tensors(1);
  w->clear_shape();
  w->add_shape(int64_t(1) << 38);
  s.mutable_params(0)->set_data_offset(0);
  s.mutable_params(0)->set_data_size(uint64_t(4) << 38);
  EXPECT_NE(parseError(test::rawModuleBytes(s)).find("outside the weights section"), std::string::npos);
  // Absurd arena.
  pb::Module a = test::tinyCnn().header();
  a.set_arena_bytes(int64_t(1) << 62);
  EXPECT_NE(parseError(test::rawModuleBytes(a)).find("absurdly large"), std::string::npos);
}

TEST(ModuleFormat, EveryTruncationIsAnError) {
  std::string good = serialized(test::tinyCnn());
  for (size_t n = 0; n < good.size(); ++n) {
    std::string e = parseError(good.substr(0, n));
    EXPECT_EQ(e.rfind("t.dlcm: error: ", 0), 0u) << "truncated to " << n << " bytes: '" << e << "'";
  }
  EXPECT_EQ(parseError(good), "");
}

TEST(ModuleFormat, RandomCorruptionNeverCrashes) {
  std::string good = serialized(test::tinyCnn());
  std::mt19937 gen(12345);
  int valid = 0, invalid = 0, runnable = 0;
  for (int iter = 0; iter < 400; ++iter) {
    std::string bad = good;
    int flips = 1 + int(gen() % 4);
    for (int f = 0; f < flips; ++f) {
      // Mostly the preamble and header, sometimes anywhere.
      size_t limit = (gen() % 4) ? std::min<size_t>(bad.size(), 16 + good.size() / 2) : bad.size();
      bad[gen() % limit] = char(gen() & 0xff);
    }
    LoadedModule lm;
    std::string error;
    if (!parseModule(toBytes(bad), "c.dlcm", lm, error)) {
      ++invalid;
      EXPECT_EQ(error.rfind("c.dlcm: error: ", 0), 0u) << error;
      continue;
    }
    ++valid;
    // A structurally valid module must build and run, or fail with Error.
    ExecutorOptions o;
    o.mode = ExecMode::Reference;
    o.memoryLimit = uint64_t(64) << 20;
    try {
      Executor ex(std::make_shared<const LoadedModule>(std::move(lm)), o);
      fillDefaultInputs(ex, 1);
      ex.run();
      ++runnable;
    } catch (const Error &) {
    }
  }
  EXPECT_GT(invalid, 0);
  EXPECT_GT(valid, 0); // flips in weights or padding keep the module valid
  EXPECT_GT(runnable, 0);
}

TEST(ModuleFormat, ExecutorRefusesHugeActivations) {
  ModuleWriter w = test::tinyCnn();
  // A 2^32-element activation is structurally fine but over a 1 GiB limit.
  pb::Module &m = w.header();
  m.mutable_tensors(5)->set_shape(0, int64_t(1) << 28); // relu1 [2^28,4,6,6]
  std::string bytes, error;
  ASSERT_TRUE(w.serialize(bytes, error)) << error;
  LoadedModule lm;
  ASSERT_TRUE(parseModule(toBytes(bytes), "big.dlcm", lm, error)) << error;
  ExecutorOptions o;
  o.memoryLimit = uint64_t(1) << 30;
  try {
    Executor ex(std::make_shared<const LoadedModule>(std::move(lm)), o);
    FAIL() << "expected an Error";
  } catch (const Error &e) {
    // The figures: tensor 5 holds 2^28 x 36 floats, 36 GiB, over 1 GiB.
    EXPECT_NE(std::string(e.what()).find("the module needs 36.0 GiB"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("other activations 36.0 GiB"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("more than the memory limit of 1.0 GiB"),
              std::string::npos)
        << e.what();
  }
}

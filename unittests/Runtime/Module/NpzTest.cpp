//===- NpzTest.cpp - .npz archives ----------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Npy.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

using namespace dlc::rt;

namespace {

std::string fixture(const char *name) {
  std::ifstream in(std::string(DLC_SOURCE_DIR) + "/test/Target/Inputs/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Npz, ReadsNumpySavezStoredAndCompressed) {
  for (const char *name : {"tiny-ip-weights.npz", "tiny-ip-weights-compressed.npz"}) {
    std::vector<std::pair<std::string, NpyArray>> arrays;
    std::string error;
    ASSERT_TRUE(parseNpz(fixture(name), arrays, error)) << name << ": " << error;
    ASSERT_EQ(arrays.size(), 2u) << name;
    EXPECT_EQ(arrays[0].first, "ip/0");
    EXPECT_EQ(arrays[0].second.shape, (Shape{2, 3}));
    EXPECT_EQ(arrays[0].second.data, std::vector<float>(6, 0.0f));
    EXPECT_EQ(arrays[1].first, "ip/1");
    EXPECT_EQ(arrays[1].second.data, (std::vector<float>{1.5f, -2.0f}));
  }
}

TEST(Npz, TruncatedOrDamagedArchivesNeverCrash) {
  for (const char *name : {"tiny-ip-weights.npz", "tiny-ip-weights-compressed.npz"}) {
    std::string good = fixture(name);
    ASSERT_FALSE(good.empty());
    for (size_t n = 0; n < good.size(); ++n) {
      std::vector<std::pair<std::string, NpyArray>> arrays;
      std::string error;
      EXPECT_FALSE(parseNpz(good.substr(0, n), arrays, error)) << name << " cut at " << n;
      EXPECT_FALSE(error.empty());
    }
    std::mt19937 rng(7);
    for (int trial = 0; trial < 500; ++trial) {
      std::string bad = good;
      for (int k = 0; k < 3; ++k)
        bad[rng() % bad.size()] = char(rng());
      std::vector<std::pair<std::string, NpyArray>> arrays;
      std::string error;
      if (!parseNpz(bad, arrays, error)) {
        EXPECT_FALSE(error.empty());
      }
    }
  }
}

} // namespace

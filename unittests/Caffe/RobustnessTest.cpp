//===- RobustnessTest.cpp - Damaged input never crashes the loader --------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

using namespace dlc::caffe_fe;
using namespace dlc::caffe_fe::test;

namespace {

// A small V2 net with most kinds of syntax: strings, enums, nested blocks,
// repeated fields, comments, a list, include rules.
const char *kNet = R"(name: "robust" # comment
layer {
  name: "data"
  type: "Input"
  top: "data"
  input_param { shape: { dim: [1, 3, 8, 8] } }
}
layer {
  name: "conv"; type: "Convolution"; bottom: "data"; top: "conv"
  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 weight_filler { type: 'xavier' } }
}
layer < name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param < pool: AVE kernel_size: 2 stride: 2 > >
layer { name: "drop" type: "Dropout" bottom: "pool" top: "pool" include { phase: TRAIN } }
layer { name: "prob" type: "Softmax" bottom: "pool" top: "prob" }
)";

/// Loads `text`; a failure must come with at least one error and a success
/// with none. Returns whether it loaded.
bool loadsConsistently(const std::string &text) {
  LoadResult r = loadText(text);
  if (r.net) {
    EXPECT_EQ(r.errorCount(), 0u) << r.all();
    return true;
  }
  EXPECT_GT(r.errorCount(), 0u) << "failed without an error for:\n" << text;
  for (const Diagnostic &d : r.diags) {
    EXPECT_FALSE(d.message.empty());
    EXPECT_GE(d.loc.line, 0);
  }
  return false;
}

TEST(Robustness, OriginalLoads) {
  LoadResult r = loadText(kNet);
  ASSERT_TRUE(r.net) << r.all();
  EXPECT_EQ(r.net->net.layer_size(), 4); // drop is TRAIN only
  EXPECT_EQ(r.net->inputs[0].shape, (std::vector<int64_t>{1, 3, 8, 8}));
  EXPECT_EQ(r.net->net.layer(2).pooling_param().pool(), caffe::PoolingParameter::AVE);
}

TEST(Robustness, EveryTruncation) {
  std::string text = kNet;
  size_t loaded = 0;
  for (size_t n = 0; n < text.size(); ++n)
    loaded += loadsConsistently(text.substr(0, n));
  // Cutting right after a complete layer still gives a loadable net.
  EXPECT_GT(loaded, 0u);
  EXPECT_LT(loaded, text.size());
}

TEST(Robustness, RandomByteDamage) {
  std::string text = kNet;
  std::mt19937 rng(1234);
  const std::string alphabet = "{}<>[]:;,#\"'\\ \n\tx0-.e";
  for (int round = 0; round < 2000; ++round) {
    std::string t = text;
    int edits = 1 + rng() % 4;
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % t.size();
      switch (rng() % 3) {
      case 0: t[pos] = alphabet[rng() % alphabet.size()]; break;
      case 1: t.erase(pos, 1 + rng() % 3); break;
      default: t.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
      }
      if (t.empty())
        t = "x";
    }
    loadsConsistently(t);
  }
}

TEST(Robustness, DeepNestingAndManyErrors) {
  std::string deep = "layer " + std::string(100000, '{') + std::string(100000, '}');
  EXPECT_FALSE(loadsConsistently(deep));

  auto manyErrors = [](int layers) {
    std::string many;
    for (int i = 0; i < layers; ++i)
      many += "layer { name: \"l" + std::to_string(i) + "\" bogus: " + std::to_string(i) + " }\n";
    return many;
  };
  LoadResult r = loadText(manyErrors(300));
  EXPECT_FALSE(r.net);
  // Every layer has its own error; the report is capped.
  EXPECT_GE(r.errorCount(), 50u);
  EXPECT_LE(r.errorCount(), 100u);
  EXPECT_EQ(r.lines.back(), "t.prototxt: note: too many errors; stopped after 100");

  // Each error found costs a parse of the whole file: in a large file the
  // search stops after kMaxRecoveryBytes of re-parsing (here 2 MiB of a
  // 1.2 MB file: 2 parses, so 2 or 3 errors) and says so.
  r = loadText(manyErrors(30000));
  EXPECT_FALSE(r.net);
  EXPECT_GE(r.errorCount(), 2u);
  EXPECT_LE(r.errorCount(), 3u);
  EXPECT_EQ(r.lines.back().rfind("t.prototxt: note: stopped looking for more errors after ", 0),
            0u)
      << r.lines.back();
  EXPECT_EQ(r.lines[0], "t.prototxt:1:20: error: unknown field 'bogus' in caffe.LayerParameter");
  EXPECT_EQ(r.lines[1], "t.prototxt:2:20: error: unknown field 'bogus' in caffe.LayerParameter");
}

} // namespace

//===- NetStructureTest.cpp - Caffe NetState filtering and structure ------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The loader's phase/level/stage filtering (include/exclude rules) and its
// structure checks (bottoms, tops, layer names), on small inline nets.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <gtest/gtest.h>

using namespace dlc::caffe_fe;
using namespace dlc::caffe_fe::test;

namespace {

//===----------------------------------------------------------------------===//
// Phase / level / stage filtering
//===----------------------------------------------------------------------===//

const char *kRulesNet = R"(layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } }
layer { name: "always" type: "ReLU" bottom: "data" top: "a" }
layer { name: "train" type: "ReLU" bottom: "data" top: "t" include { phase: TRAIN } }
layer { name: "test" type: "ReLU" bottom: "data" top: "t" include { phase: TEST } }
layer { name: "level2" type: "ReLU" bottom: "data" top: "l2" include { min_level: 2 } }
layer { name: "upto1" type: "ReLU" bottom: "data" top: "u1" include { max_level: 1 } }
layer { name: "deploy" type: "ReLU" bottom: "data" top: "d" include { stage: "deploy" } }
layer { name: "both" type: "ReLU" bottom: "data" top: "b" include { stage: "x" stage: "y" } }
layer { name: "either" type: "ReLU" bottom: "data" top: "e" include { stage: "x" } include { stage: "y" } }
layer { name: "notx" type: "ReLU" bottom: "data" top: "nx" include { not_stage: "x" } }
layer { name: "exclx" type: "ReLU" bottom: "data" top: "ex" exclude { stage: "x" } }
)";

TEST(Filtering, DefaultStateOfANetWithInputsIsTest) {
  LoadResult r = loadText(kRulesNet);
  ASSERT_TRUE(r.net) << r.all();
  EXPECT_EQ(r.net->phase, Phase::Test);
  EXPECT_EQ(layerNames(*r.net),
            (std::vector<std::string>{"in", "always", "test", "upto1", "notx", "exclx"}));
  ASSERT_EQ(r.net->layerLocs.size(), 6u);
  EXPECT_EQ(r.net->layerLocs[2].line, 4);
  EXPECT_EQ(r.net->layerLocs[5].line, 11);
}

TEST(Filtering, PhaseLevelAndStagesFromOptions) {
  LoadOptions opt;
  opt.phase = Phase::Train;
  opt.level = 2;
  opt.stages = {"x", "deploy"};
  LoadResult r = loadText(kRulesNet, opt);
  ASSERT_TRUE(r.net) << r.all();
  EXPECT_EQ(r.net->phase, Phase::Train);
  EXPECT_EQ(layerNames(*r.net),
            (std::vector<std::string>{"in", "always", "train", "level2", "deploy", "either"}));
  EXPECT_EQ(r.net->net.state().phase(), caffe::TRAIN);
  EXPECT_EQ(r.net->net.state().level(), 2);

  opt.stages = {"y", "x"};
  opt.level = 0;
  LoadResult both = loadText(kRulesNet, opt);
  ASSERT_TRUE(both.net) << both.all();
  EXPECT_EQ(layerNames(*both.net),
            (std::vector<std::string>{"in", "always", "train", "upto1", "both", "either"}));
}

TEST(Filtering, StateBlockOfTheFileAndOverride) {
  std::string text = std::string("state { phase: TRAIN level: 3 stage: \"deploy\" }\n") + kRulesNet;
  LoadResult r = loadText(text);
  ASSERT_TRUE(r.net) << r.all();
  EXPECT_EQ(r.net->phase, Phase::Train);
  EXPECT_EQ(layerNames(*r.net), (std::vector<std::string>{"in", "always", "train", "level2",
                                                           "deploy", "notx", "exclx"}));
  LoadOptions opt;
  opt.phase = Phase::Test;
  opt.stages = {"x"};
  LoadResult o = loadText(text, opt);
  ASSERT_TRUE(o.net) << o.all();
  EXPECT_EQ(o.net->phase, Phase::Test);
  EXPECT_EQ(layerNames(*o.net), (std::vector<std::string>{"in", "always", "test", "level2",
                                                           "either"}));
}

TEST(Filtering, NetWithoutInputsDefaultsToTrain) {
  const char *text = R"(layer { name: "d" type: "DummyData" top: "x" dummy_data_param { shape { dim: 2 dim: 3 } } }
layer { name: "train" type: "ReLU" bottom: "x" top: "y" include { phase: TRAIN } }
layer { name: "test" type: "Sigmoid" bottom: "x" top: "y" include { phase: TEST } }
)";
  LoadResult r = loadText(text);
  ASSERT_TRUE(r.net) << r.all();
  EXPECT_EQ(r.net->phase, Phase::Train);
  EXPECT_EQ(layerNames(*r.net), (std::vector<std::string>{"d", "train"}));
}

TEST(Filtering, IncludeAndExcludeTogetherIsAnError) {
  std::string text = std::string(kInputLayer) +
                     "layer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"r\"\n"
                     "  include { phase: TRAIN } exclude { stage: \"x\" } }\n"
                     "layer { name: \"q\" type: \"ReLU\" bottom: \"data\" top: \"q\" include { "
                     "phase: TEST } exclude { phase: TRAIN } }\n";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  std::vector<std::string> expected = {
      "t.prototxt:7:1: error: layer 'r' has both include and exclude rules; Caffe allows only one "
      "kind",
      "t.prototxt:9:1: error: layer 'q' has both include and exclude rules; Caffe allows only one "
      "kind"};
  EXPECT_EQ(r.lines, expected) << r.all();
}

//===----------------------------------------------------------------------===//
// Structure checks
//===----------------------------------------------------------------------===//

TEST(Structure, MissingBottom) {
  std::string text = std::string(kInputLayer) + R"(layer {
  name: "fc"
  type: "InnerProduct"
  bottom: "dta"
  top: "fc"
}
)";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0],
            "t.prototxt:7:1: error: layer 'fc': bottom blob 'dta' is not produced by any layer or "
            "input");
}

TEST(Structure, Cycle) {
  const char *text =
      R"(layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } }
layer { name: "a" type: "Eltwise" bottom: "data" bottom: "b" top: "a" }
  layer { name: "b" type: "ReLU" bottom: "a" top: "b" }
)";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:2:1: error: layer 'a': bottom blob 'b' is used before it is "
                        "produced (by layer 'b' at line 3); the net would form a cycle");
}

TEST(Structure, DuplicateTop) {
  const char *text =
      R"(layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } }
layer { name: "r1" type: "ReLU" bottom: "data" top: "x" }
layer { name: "r2" type: "Sigmoid" bottom: "data" top: "x" }
layer { name: "r3" type: "ReLU" bottom: "x" top: "x" }
)";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0],
            "t.prototxt:3:1: error: layer 'r2': Top blob 'x' produced by multiple sources (also by "
            "layer 'r1' at line 2); only an in-place layer (top equal to its bottom) may reuse a "
            "blob");
}

TEST(Structure, InPlaceAndFanOutAreLegal) {
  const char *text =
      R"(layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } }
layer { name: "r1" type: "ReLU" bottom: "data" top: "data" }
layer { name: "a" type: "Sigmoid" bottom: "data" top: "a" }
layer { name: "b" type: "TanH" bottom: "data" top: "b" }
layer { name: "c" type: "Eltwise" bottom: "a" bottom: "b" top: "c" }
layer { name: "d" type: "Dropout" bottom: "c" top: "c" }
)";
  LoadResult r = loadText(text);
  ASSERT_TRUE(r.net) << r.all();
  EXPECT_TRUE(r.diags.empty()) << r.all();
  EXPECT_EQ(layerNames(*r.net), (std::vector<std::string>{"in", "r1", "a", "b", "c", "d"}));
}

TEST(Structure, InPlaceMustBeAtTheSameIndex) {
  // Caffe treats top(i) == bottom(i) as in-place; top(1) == bottom(0) reuses
  // a blob that another layer produced.
  const char *text =
      R"(layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } }
layer { name: "s" type: "Slice" bottom: "data" top: "p" top: "data" }
)";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_NE(r.lines[0].find("t.prototxt:2:1: error: layer 's': Top blob 'data' produced by "
                            "multiple sources (also by layer 'in' at line 1)"),
            std::string::npos)
      << r.all();
}

TEST(Structure, UnknownLayerTypesLoad) {
  // Whether dlc supports a layer type is the importer's business.
  LoadResult r = loadText(std::string(kInputLayer) +
                          "layer { name: \"z\" type: \"NoSuchLayerType\" bottom: \"data\" top: "
                          "\"z\" }\n");
  ASSERT_TRUE(r.net) << r.all();
  EXPECT_EQ(r.net->net.layer(1).type(), "NoSuchLayerType");
}

TEST(Structure, ManyStructureErrorsAtOnce) {
  const char *text =
      R"(layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } }
layer { name: "a" type: "ReLU" bottom: "nothing" top: "a" }
layer { name: "b" type: "ReLU" bottom: "data" top: "a" }
layer { name: "c" type: "Eltwise" bottom: "data" bottom: "a" top: "c" propagate_down: true }
layer { name: "d" type: "EuclideanLoss" bottom: "c" bottom: "a" top: "d" loss_weight: 1 loss_weight: 2 }
layer { name: "e" bottom: "d" top: "e" }
)";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  std::vector<std::string> expected = {
      "t.prototxt:2:1: error: layer 'a': bottom blob 'nothing' is not produced by any layer or "
      "input",
      "t.prototxt:3:1: error: layer 'b': Top blob 'a' produced by multiple sources (also by layer "
      "'a' at line 2); only an in-place layer (top equal to its bottom) may reuse a blob",
      "t.prototxt:4:1: error: layer 'c' has 1 propagate_down entries for 2 bottoms; give none or "
      "one per bottom",
      "t.prototxt:5:1: error: layer 'd' has 2 loss_weight entries but only 1 tops",
      "t.prototxt:6:1: error: layer 'e' has no type",
  };
  EXPECT_EQ(r.lines, expected) << r.all();
}

TEST(Structure, DuplicateLayerNames) {
  // Two layers with weights under one name: refused.
  const char *conv =
      R"(layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "c1" convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "conv" type: "Convolution" bottom: "c1" top: "c2" convolution_param { num_output: 2 kernel_size: 1 } }
)";
  LoadResult r = loadText(conv);
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0].rfind("t.prototxt:3:1: error: duplicate layer name 'conv' (first used at "
                             "line 2)",
                             0),
            0u)
      << r.all();

  // Weightless layers under one name (as in Caffe's MNIST autoencoder): a
  // warning only.
  const char *relu =
      R"(layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } }
layer { name: "act" type: "ReLU" bottom: "data" top: "a" }
layer { name: "act" type: "Sigmoid" bottom: "data" top: "b" }
)";
  LoadResult w = loadText(relu);
  ASSERT_TRUE(w.net) << w.all();
  ASSERT_EQ(w.lines.size(), 1u) << w.all();
  EXPECT_EQ(w.lines[0], "t.prototxt:3:1: warning: duplicate layer name 'act' (first used at line 2)");
}

} // namespace

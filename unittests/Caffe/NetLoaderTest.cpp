//===- NetLoaderTest.cpp - Caffe net loader on small inline nets ----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace dlc::caffe_fe;
using namespace dlc::caffe_fe::test;

namespace {

// An Input layer producing "data" (1x3), used as the first lines of many nets.
const char *kInputLayer = R"(layer {
  name: "in"
  type: "Input"
  top: "data"
  input_param { shape { dim: 1 dim: 3 } }
}
)";

//===----------------------------------------------------------------------===//
// Parse errors and their positions
//===----------------------------------------------------------------------===//

TEST(ParseErrors, UnknownFieldPointsAtTheFieldName) {
  std::string text = std::string(kInputLayer) + R"(layer {
  name: "relu"
  type: "ReLU"
  bottom: "data"
  top: "data"
  relu_parm { negative_slope: 0.1 }
}
)";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:12:3: error: unknown field 'relu_parm' in caffe.LayerParameter");
}

TEST(ParseErrors, UnknownTopLevelField) {
  LoadResult r = loadText("name: \"n\"\nlayres {\n  name: \"a\"\n}\n");
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:2:1: error: unknown field 'layres' in caffe.NetParameter");
}

TEST(ParseErrors, SyntaxErrorMissingColon) {
  LoadResult r = loadText("layer {\n  name: \"in\"\n  type \"Input\"\n  top: \"data\"\n}\n");
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:3:8: error: expected \":\", found \"\"Input\"\"");
}

TEST(ParseErrors, UnbalancedBraceAtEndOfFile) {
  LoadResult r = loadText("layer {\n  name: \"a\"\n  type: \"ReLU\"\n");
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:4:1: error: unexpected end of file (is a '}' missing?)");
}

TEST(ParseErrors, BadEnumValuePointsAtTheValue) {
  std::string text = std::string(kInputLayer) + R"(layer {
  name: "pool"
  type: "Pooling"
  bottom: "data"
  top: "p"
  pooling_param { pool: MAXX kernel_size: 2 }
}
)";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:12:25: error: invalid value 'MAXX' for enum field 'pool'");
}

TEST(ParseErrors, BadV1LayerTypeEnum) {
  LoadResult r = loadText("layers {\n  name: \"c\"\n  type: CONVOLUTON\n}\n");
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0],
            "t.prototxt:3:9: error: invalid value 'CONVOLUTON' for enum field 'type'");
}

TEST(ParseErrors, NegativeValueForUnsignedField) {
  LoadResult r = loadText(std::string(kInputLayer) +
                          "layer { name: \"ip\" type: \"InnerProduct\" bottom: \"data\" top: "
                          "\"ip\"\n  inner_product_param { num_output: -4 } }\n");
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0],
            "t.prototxt:8:37: error: expected a non-negative integer, got a negative value");
}

TEST(ParseErrors, TabsCountAsOneColumn) {
  LoadResult r = loadText("layer {\n\tname: \"a\"\n\t\ttipe: \"ReLU\"\n}\n");
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:3:3: error: unknown field 'tipe' in caffe.LayerParameter");
}

TEST(ParseErrors, ReportsEveryErrorAtOnce) {
  const char *text = R"(layer {
  name: "in"
  type: "Input"
  top: "data"
  input_parm { shape { dim: 1 } }
}
layer {
  name: "pool"
  type: "Pooling"
  bottom: "data"
  top: "p"
  pooling_param { pool: MAXX kernel_size: 2 }
  name: "again"
}
layer {
	tipe: "ReLU"
  propagate_down: maybe
}
layer {
  name: "fc"
  type: "InnerProduct"
  kernel_size: 3 3
}
)";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  std::vector<std::string> expected = {
      "t.prototxt:5:3: error: unknown field 'input_parm' in caffe.LayerParameter",
      "t.prototxt:12:25: error: invalid value 'MAXX' for enum field 'pool'",
      "t.prototxt:13:3: error: field 'name' is given more than once (it is not repeated)",
      "t.prototxt:16:2: error: unknown field 'tipe' in caffe.LayerParameter",
      "t.prototxt:17:19: error: invalid value 'maybe' for boolean field 'propagate_down'",
      "t.prototxt:22:3: error: unknown field 'kernel_size' in caffe.LayerParameter",
      "t.prototxt:22:18: error: expected identifier, got: 3",
  };
  EXPECT_EQ(r.lines, expected) << r.all();
}

TEST(ParseErrors, RecoveryStopsAtUnbalancedBraceButKeepsEarlierErrors) {
  const char *text = R"(layer {
  name: "a"
  colour: 3
}
layer {
  name: "b"
  top: "c2
}
)";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  ASSERT_GE(r.lines.size(), 2u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:3:3: error: unknown field 'colour' in caffe.LayerParameter");
  EXPECT_NE(r.lines[1].find("t.prototxt:7:8: error:"), std::string::npos) << r.all();
}

TEST(ParseErrors, MissingRequiredFieldHasNoPosition) {
  LoadResult r = loadText(std::string(kInputLayer) +
                          "layer { name: \"c\" type: \"Clip\" bottom: \"data\" top: \"c\" "
                          "clip_param { min: 0 } }\n");
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0].rfind("t.prototxt: error: ", 0), 0u) << r.all();
  EXPECT_NE(r.lines[0].find("clip_param.max"), std::string::npos) << r.all();
}

//===----------------------------------------------------------------------===//
// Solver files, binary files, unreadable files
//===----------------------------------------------------------------------===//

TEST(NotANet, SolverWithNetPath) {
  LoadResult r = loadText("net: \"models/x/train_val.prototxt\"\nbase_lr: 0.01\nmax_iter: 100\n",
                          {}, "solver.prototxt");
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "solver.prototxt: error: this is a Caffe solver file, not a net; its net "
                        "is 'models/x/train_val.prototxt' (field 'net')");
}

TEST(NotANet, SolverWithTrainNet) {
  LoadResult r = loadText("train_net: \"a.prototxt\"\ntest_net: \"b.prototxt\"\ntest_iter: 5\n");
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt: error: this is a Caffe solver file, not a net; its net is "
                        "'a.prototxt' (field 'train_net')");
}

TEST(NotANet, SolverWithInlineNet) {
  LoadResult r = loadText("base_lr: 0.1\nnet_param {\n  name: \"n\"\n  layer { name: \"a\" type: "
                          "\"ReLU\" }\n}\n");
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt: error: this is a Caffe solver file, not a net; its net is "
                        "embedded inline (field 'net_param')");
}

TEST(NotANet, DamagedSolverGetsANote) {
  // Not a valid solver either (a typo), but its fields say what it is.
  LoadResult r = loadText("net: \"train.prototxt\"\nbase_lr: 0.01\nmax_itr: 10\n");
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 4u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:1:1: error: unknown field 'net' in caffe.NetParameter");
  EXPECT_EQ(r.lines[1], "t.prototxt:2:1: error: unknown field 'base_lr' in caffe.NetParameter");
  EXPECT_EQ(r.lines[2], "t.prototxt:3:1: error: unknown field 'max_itr' in caffe.NetParameter");
  EXPECT_EQ(r.lines[3], "t.prototxt: note: 'net' is a field of Caffe solver files; is this a "
                        "solver rather than a net?");
}

TEST(NotANet, BinaryCaffeModel) {
  caffe::NetParameter net;
  net.set_name("weights");
  caffe::LayerParameter *l = net.add_layer();
  l->set_name("conv1");
  l->set_type("Convolution");
  caffe::BlobProto *b = l->add_blobs();
  for (int i = 0; i < 16; ++i)
    b->add_data(0.5f * i);
  b->mutable_shape()->add_dim(16);
  std::string bytes;
  ASSERT_TRUE(net.SerializeToString(&bytes));
  LoadResult r = loadText(bytes, {}, "w.caffemodel");
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0].rfind("w.caffemodel: error: this is a binary Caffe model", 0), 0u)
      << r.all();
}

TEST(NotANet, ControlCharactersAreNotText) {
  LoadResult r = loadText(std::string("name: \"x\"\n\x01\x02\x03", 13));
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_NE(r.lines[0].find("this file is not text"), std::string::npos) << r.all();
}

TEST(NotANet, MissingFileAndDirectory) {
  LoadResult missing = loadPath("/nonexistent/dir/net.prototxt");
  EXPECT_FALSE(missing.net);
  ASSERT_EQ(missing.lines.size(), 1u);
  EXPECT_EQ(missing.lines[0].rfind("/nonexistent/dir/net.prototxt: error: cannot open", 0), 0u)
      << missing.all();

  LoadResult dir = loadPath(std::filesystem::temp_directory_path().string());
  EXPECT_FALSE(dir.net);
  ASSERT_EQ(dir.lines.size(), 1u);
  EXPECT_NE(dir.lines[0].find("is a directory"), std::string::npos) << dir.all();
}

TEST(NotANet, EmptyNet) {
  LoadResult r = loadText("name: \"empty\"\n");
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], "t.prototxt: error: the net has no layers");
}

TEST(LoadFile, ReadsFromDisk) {
  auto path = std::filesystem::temp_directory_path() / "dlc_caffe_loadfile_test.prototxt";
  {
    std::ofstream out(path);
    out << kInputLayer << "layer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"r\" }\n";
  }
  LoadResult r = loadPath(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(r.net) << r.all();
  EXPECT_EQ(r.net->file, path.string());
  EXPECT_EQ(r.net->net.layer_size(), 2);
  ASSERT_EQ(r.net->layerLocs.size(), 2u);
  EXPECT_EQ(r.net->layerLocs[1].file, path.string());
  EXPECT_EQ(r.net->layerLocs[1].line, 7);
  EXPECT_EQ(r.net->layerLocs[1].column, 1);
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

//===----------------------------------------------------------------------===//
// V1 upgrade
//===----------------------------------------------------------------------===//

TEST(Upgrade, V1LayersBecomeV2) {
  const char *text = R"(name: "v1"
input: "data"
input_dim: 2 input_dim: 1 input_dim: 8 input_dim: 8
layers {
  name: "conv"
  type: CONVOLUTION
  bottom: "data"
  top: "conv"
  blobs_lr: 1
  blobs_lr: 2
  weight_decay: 1
  weight_decay: 0
  param: "conv_w"
  param: "conv_b"
  convolution_param { num_output: 4 kernel_size: 3 }
}
layers { name: "relu" type: RELU bottom: "conv" top: "conv" }
layers { name: "drop" type: DROPOUT bottom: "conv" top: "conv" include { phase: TRAIN } }
layers { name: "loss" type: SOFTMAX_LOSS bottom: "conv" bottom: "data" top: "loss" loss_weight: 2 }
)";
  LoadOptions opt;
  opt.phase = Phase::Test;
  LoadResult r = loadText(text, opt);
  ASSERT_TRUE(r.net) << r.all();
  const LoadedNet &n = *r.net;
  EXPECT_TRUE(n.upgradedFromV1);
  EXPECT_EQ(n.net.layers_size(), 0);
  ASSERT_EQ(n.net.layer_size(), 3); // drop is TRAIN only
  const caffe::LayerParameter &conv = n.net.layer(0);
  EXPECT_EQ(conv.type(), "Convolution");
  ASSERT_EQ(conv.param_size(), 2);
  EXPECT_EQ(conv.param(0).name(), "conv_w");
  EXPECT_EQ(conv.param(1).name(), "conv_b");
  EXPECT_FLOAT_EQ(conv.param(0).lr_mult(), 1.f);
  EXPECT_FLOAT_EQ(conv.param(1).lr_mult(), 2.f);
  EXPECT_FLOAT_EQ(conv.param(0).decay_mult(), 1.f);
  EXPECT_FLOAT_EQ(conv.param(1).decay_mult(), 0.f);
  EXPECT_EQ(conv.convolution_param().num_output(), 4u);
  EXPECT_EQ(n.net.layer(1).type(), "ReLU");
  EXPECT_EQ(n.net.layer(2).type(), "SoftmaxWithLoss");
  ASSERT_EQ(n.net.layer(2).loss_weight_size(), 1);
  EXPECT_FLOAT_EQ(n.net.layer(2).loss_weight(0), 2.f);
  // Locations are those of the `layers {` entries (after filtering).
  ASSERT_EQ(n.layerLocs.size(), 3u);
  EXPECT_EQ(n.layerLocs[0].line, 4);
  EXPECT_EQ(n.layerLocs[1].line, 17);
  EXPECT_EQ(n.layerLocs[2].line, 19);
  ASSERT_EQ(n.inputs.size(), 1u);
  EXPECT_EQ(n.inputs[0].shape, (std::vector<int64_t>{2, 1, 8, 8}));
}

TEST(Upgrade, V1DataTransformationMovesToTransformParam) {
  const char *text = R"(layers {
  name: "d"
  type: DATA
  top: "data"
  top: "label"
  data_param { source: "db" batch_size: 16 crop_size: 24 scale: 0.5 mirror: true mean_file: "m" }
}
layers { name: "s" type: SILENCE bottom: "data" bottom: "label" }
)";
  LoadOptions opt;
  opt.inputShapes["data"] = {16, 3, 24, 24};
  LoadResult r = loadText(text, opt);
  ASSERT_TRUE(r.net) << r.all();
  const caffe::LayerParameter &d = r.net->net.layer(0);
  EXPECT_EQ(d.type(), "Data");
  EXPECT_EQ(d.transform_param().crop_size(), 24u);
  EXPECT_FLOAT_EQ(d.transform_param().scale(), 0.5f);
  EXPECT_TRUE(d.transform_param().mirror());
  EXPECT_EQ(d.transform_param().mean_file(), "m");
  EXPECT_FALSE(d.data_param().has_crop_size());
  EXPECT_FALSE(d.data_param().has_scale());
  EXPECT_EQ(r.net->net.layer(1).type(), "Silence");
  // Without the override, the crop size moved into transform_param gives H and W.
  LoadResult bare = loadText(text);
  EXPECT_FALSE(bare.net);
  EXPECT_NE(bare.all().find("(16x?x24x24)"), std::string::npos) << bare.all();
}

TEST(Upgrade, AllV1TypeNames) {
  const std::pair<const char *, const char *> cases[] = {
      {"ABSVAL", "AbsVal"}, {"ACCURACY", "Accuracy"}, {"ARGMAX", "ArgMax"}, {"BNLL", "BNLL"},
      {"CONCAT", "Concat"}, {"CONTRASTIVE_LOSS", "ContrastiveLoss"},
      {"CONVOLUTION", "Convolution"}, {"DECONVOLUTION", "Deconvolution"},
      {"DROPOUT", "Dropout"}, {"EUCLIDEAN_LOSS", "EuclideanLoss"}, {"ELTWISE", "Eltwise"},
      {"EXP", "Exp"}, {"FLATTEN", "Flatten"}, {"HDF5_OUTPUT", "HDF5Output"},
      {"HINGE_LOSS", "HingeLoss"}, {"IM2COL", "Im2col"}, {"INFOGAIN_LOSS", "InfogainLoss"},
      {"INNER_PRODUCT", "InnerProduct"}, {"LRN", "LRN"},
      {"MULTINOMIAL_LOGISTIC_LOSS", "MultinomialLogisticLoss"}, {"MVN", "MVN"},
      {"POOLING", "Pooling"}, {"POWER", "Power"}, {"RELU", "ReLU"}, {"SIGMOID", "Sigmoid"},
      {"SIGMOID_CROSS_ENTROPY_LOSS", "SigmoidCrossEntropyLoss"}, {"SILENCE", "Silence"},
      {"SOFTMAX", "Softmax"}, {"SOFTMAX_LOSS", "SoftmaxWithLoss"}, {"SPLIT", "Split"},
      {"SLICE", "Slice"}, {"TANH", "TanH"}, {"THRESHOLD", "Threshold"}};
  for (const auto &[v1, v2] : cases) {
    std::string text = std::string("input: \"data\"\ninput_shape { dim: 1 dim: 2 }\nlayers { name: "
                                   "\"l\" type: ") +
                       v1 + " bottom: \"data\" top: \"out\" }\n";
    LoadResult r = loadText(text);
    ASSERT_TRUE(r.net) << v1 << "\n" << r.all();
    EXPECT_EQ(r.net->net.layer(0).type(), v2) << v1;
  }
  // Data-source types.
  const std::pair<const char *, const char *> sources[] = {
      {"DATA", "Data"}, {"DUMMY_DATA", "DummyData"}, {"HDF5_DATA", "HDF5Data"},
      {"IMAGE_DATA", "ImageData"}, {"MEMORY_DATA", "MemoryData"}, {"WINDOW_DATA", "WindowData"}};
  for (const auto &[v1, v2] : sources) {
    std::string text = std::string("layers { name: \"l\" type: ") + v1 + " top: \"out\" }\n";
    LoadOptions opt;
    opt.inputShapes["out"] = {1, 2};
    LoadResult r = loadText(text, opt);
    ASSERT_TRUE(r.net) << v1 << "\n" << r.all();
    EXPECT_EQ(r.net->net.layer(0).type(), v2) << v1;
  }
}

TEST(Upgrade, MixingLayerAndLayersIsAnError) {
  std::string text = std::string(kInputLayer) +
                     "layers {\n  name: \"r\"\n  type: RELU\n  bottom: \"data\"\n  top: \"r\"\n}\n";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:7:1: error: the net mixes V2 'layer' entries and legacy V1 "
                        "'layers' entries; use only one kind");
}

TEST(Upgrade, V0IsRefused) {
  const char *text = R"(name: "v0"
input: "data"
layers {
  layer {
    name: "conv1"
    type: "conv"
    num_output: 4
    kernelsize: 3
  }
  bottom: "data"
  top: "conv1"
}
)";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0].rfind("t.prototxt:3:1: error: V0 nets are not supported: layer 'conv1'", 0),
            0u)
      << r.all();
}

TEST(Upgrade, BatchNormWithThreeParamsIsFrozen) {
  const char *text =
      R"(layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } }
layer { name: "bn" type: "BatchNorm" bottom: "data" top: "data"
  param { lr_mult: 1 } param { lr_mult: 1 decay_mult: 5 } param { name: "s" lr_mult: 1 } }
)";
  LoadResult r = loadText(text);
  ASSERT_TRUE(r.net) << r.all();
  const caffe::LayerParameter &bn = r.net->net.layer(1);
  ASSERT_EQ(bn.param_size(), 3);
  for (const caffe::ParamSpec &p : bn.param()) {
    EXPECT_FLOAT_EQ(p.lr_mult(), 0.f);
    EXPECT_FLOAT_EQ(p.decay_mult(), 0.f);
  }
  EXPECT_EQ(bn.param(2).name(), "s");
}

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
// Graph inputs
//===----------------------------------------------------------------------===//

TEST(Inputs, LegacyInputDimAndInputShape) {
  const char *dims = R"(name: "n"
input: "a"
input_dim: 1
input_dim: 3
input_dim: 4
input_dim: 5
input: "b"
input_dim: 2
input_dim: 1
input_dim: 1
input_dim: 1
layer { name: "s" type: "Eltwise" bottom: "a" bottom: "b" top: "s" }
)";
  LoadResult r = loadText(dims);
  ASSERT_TRUE(r.net) << r.all();
  ASSERT_EQ(r.net->inputs.size(), 2u);
  EXPECT_EQ(r.net->inputs[0].name, "a");
  EXPECT_EQ(r.net->inputs[0].shape, (std::vector<int64_t>{1, 3, 4, 5}));
  EXPECT_EQ(r.net->inputs[0].layerType, "input");
  EXPECT_EQ(r.net->inputs[0].layerName, "");
  EXPECT_EQ(r.net->inputs[0].loc.line, 2);
  EXPECT_EQ(r.net->inputs[1].shape, (std::vector<int64_t>{2, 1, 1, 1}));
  EXPECT_EQ(r.net->inputs[1].loc.line, 7);
  EXPECT_EQ(r.net->phase, Phase::Test);
  // The legacy fields are gone from the net.
  EXPECT_EQ(r.net->net.input_size(), 0);
  EXPECT_EQ(r.net->net.input_dim_size(), 0);

  const char *shapes = R"(input: "a"
input_shape { dim: 7 dim: 9 }
input: "b"
input_shape { dim: 7 dim: 9 }
layer { name: "s" type: "Eltwise" bottom: "a" bottom: "b" top: "s" }
)";
  LoadResult s = loadText(shapes);
  ASSERT_TRUE(s.net) << s.all();
  EXPECT_EQ(s.net->inputs[1].shape, (std::vector<int64_t>{7, 9}));
  EXPECT_EQ(s.net->net.input_shape_size(), 0);
}

TEST(Inputs, LegacyInputCountMismatch) {
  LoadResult r = loadText("input: \"a\"\ninput_dim: 1\ninput_dim: 3\nlayer { name: \"r\" type: "
                          "\"ReLU\" bottom: \"a\" top: \"r\" }\n");
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:1:1: error: the net has 1 'input' entries but 2 'input_dim' "
                        "values; give exactly four (num, channels, height, width) per input");
}

TEST(Inputs, DataLayerShapes) {
  const char *text = R"(layer { name: "img" type: "ImageData" top: "gray" top: "glabel"
  image_data_param { source: "l.txt" batch_size: 4 new_height: 30 new_width: 40 is_color: false } }
layer { name: "img2" type: "ImageData" top: "color" top: "clabel"
  transform_param { crop_size: 20 } image_data_param { source: "l.txt" new_height: 30 new_width: 40 } }
layer { name: "mem" type: "MemoryData" top: "m" top: "mlabel"
  memory_data_param { batch_size: 2 channels: 5 height: 6 width: 7 } }
layer { name: "win" type: "WindowData" top: "w" top: "wlabel"
  window_data_param { source: "w.txt" batch_size: 8 crop_size: 11 } }
layer { name: "dummy" type: "DummyData" top: "d1" top: "d2"
  dummy_data_param { shape { dim: 3 dim: 4 } shape { dim: 5 } } }
layer { name: "dummy4" type: "DummyData" top: "e1" top: "e2"
  dummy_data_param { num: 1 channels: 2 height: 3 width: 4 } }
layer { name: "input" type: "Input" top: "i1" top: "i2" input_param { shape { dim: 9 } } }
layer { name: "sink" type: "Silence" bottom: "gray" bottom: "glabel" bottom: "color" bottom: "clabel"
  bottom: "m" bottom: "mlabel" bottom: "w" bottom: "wlabel" bottom: "d1" bottom: "d2"
  bottom: "e1" bottom: "e2" bottom: "i1" bottom: "i2" }
)";
  LoadResult r = loadText(text);
  ASSERT_TRUE(r.net) << r.all();
  std::map<std::string, std::vector<int64_t>> shapes;
  std::map<std::string, std::string> types;
  for (const GraphInput &in : r.net->inputs) {
    shapes[in.name] = in.shape;
    types[in.name] = in.layerType;
  }
  using V = std::vector<int64_t>;
  EXPECT_EQ(shapes["gray"], (V{4, 1, 30, 40}));
  EXPECT_EQ(shapes["glabel"], (V{4}));
  EXPECT_EQ(shapes["color"], (V{1, 3, 20, 20}));
  EXPECT_EQ(shapes["clabel"], (V{1}));
  EXPECT_EQ(shapes["m"], (V{2, 5, 6, 7}));
  EXPECT_EQ(shapes["mlabel"], (V{2}));
  EXPECT_EQ(shapes["w"], (V{8, 3, 11, 11}));
  EXPECT_EQ(shapes["wlabel"], (V{8}));
  EXPECT_EQ(shapes["d1"], (V{3, 4}));
  EXPECT_EQ(shapes["d2"], (V{5}));
  EXPECT_EQ(shapes["e1"], (V{1, 2, 3, 4}));
  EXPECT_EQ(shapes["e2"], (V{1, 2, 3, 4}));
  EXPECT_EQ(shapes["i1"], (V{9}));
  EXPECT_EQ(shapes["i2"], (V{9}));
  EXPECT_EQ(types["gray"], "ImageData");
  EXPECT_EQ(types["m"], "MemoryData");
  EXPECT_EQ(types["w"], "WindowData");
  EXPECT_EQ(types["d1"], "DummyData");
  EXPECT_EQ(types["i2"], "Input");
  EXPECT_EQ(r.net->inputs.size(), 14u);
  EXPECT_EQ(r.net->inputs[0].layerName, "img");
  EXPECT_EQ(r.net->inputs[0].loc.line, 1);
  EXPECT_EQ(r.net->inputs[4].loc.line, 5);
}

TEST(Inputs, UnknownShapesAreAllReportedWithTheFix) {
  const char *text = R"(layer {
  name: "mnist"
  type: "Data"
  top: "data"
  top: "label"
  data_param { source: "db" batch_size: 64 }
}
layer {
  name: "h5"
  type: "HDF5Data"
  top: "seq"
  hdf5_data_param { source: "h.txt" batch_size: 20 }
}
layer { name: "in" type: "Input" top: "free" }
layer { name: "s" type: "Silence" bottom: "data" bottom: "label" bottom: "seq" bottom: "free" }
)";
  LoadResult r = loadText(text);
  EXPECT_FALSE(r.net);
  std::vector<std::string> expected = {
      "t.prototxt:1:1: error: the shape of graph input 'data' (layer 'mnist' (Data)) is not fully "
      "known (64x?x?x?); pass --input-shape data=NxCxHxW",
      "t.prototxt:8:1: error: the shape of graph input 'seq' (layer 'h5' (HDF5Data)) is not fully "
      "known (20x... (only the batch size is known)); pass --input-shape seq=NxCxHxW",
      "t.prototxt:14:1: error: the shape of graph input 'free' (layer 'in' (Input)) is not fully "
      "known (nothing known); pass --input-shape free=NxCxHxW"};
  EXPECT_EQ(r.lines, expected) << r.all();

  LoadOptions opt;
  opt.inputShapes["data"] = {64, 1, 28, 28};
  opt.inputShapes["seq"] = {20, 5};
  opt.inputShapes["free"] = {3};
  LoadResult ok = loadText(text, opt);
  ASSERT_TRUE(ok.net) << ok.all();
  ASSERT_EQ(ok.net->inputs.size(), 4u);
  EXPECT_EQ(ok.net->inputs[0].shape, (std::vector<int64_t>{64, 1, 28, 28}));
  EXPECT_EQ(ok.net->inputs[1].name, "label");
  EXPECT_EQ(ok.net->inputs[1].shape, (std::vector<int64_t>{64}));
  EXPECT_EQ(ok.net->inputs[2].shape, (std::vector<int64_t>{20, 5}));
  EXPECT_EQ(ok.net->inputs[3].shape, (std::vector<int64_t>{3}));
}

TEST(Inputs, OverrideOfAnUnknownNameListsTheInputs) {
  std::string text = std::string(kInputLayer) +
                     "layer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"r\" }\n";
  LoadOptions opt;
  opt.inputShapes["dat"] = {1, 3};
  LoadResult r = loadText(text, opt);
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt: error: --input-shape names 'dat', which is not a graph input "
                        "of the net; its graph inputs are: data");
}

TEST(Inputs, BatchOverride) {
  const char *text =
      R"(layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }
layer { name: "h5" type: "HDF5Data" top: "seq" hdf5_data_param { source: "h" batch_size: 2 } }
layer { name: "s" type: "Silence" bottom: "data" bottom: "seq" }
)";
  LoadOptions opt;
  opt.batch = 6;
  opt.inputShapes["seq"] = {2, 10};
  LoadResult r = loadText(text, opt);
  ASSERT_TRUE(r.net) << r.all();
  EXPECT_EQ(r.net->inputs[0].shape, (std::vector<int64_t>{6, 3, 8, 8}));
  EXPECT_EQ(r.net->inputs[1].shape, (std::vector<int64_t>{6, 10}));

  opt.batch = 0;
  LoadResult bad = loadText(text, opt);
  EXPECT_FALSE(bad.net);
  EXPECT_NE(bad.all().find("--batch must be positive, got 0"), std::string::npos) << bad.all();
}

TEST(Inputs, AbsurdAndZeroSizesAreRefused) {
  const char *huge =
      R"(layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1000000 dim: 1000000 dim: 2 } } }
)";
  LoadResult r = loadText(huge);
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:1:1: error: graph input 'data' (layer 'in' (Input)): absurd "
                        "size: 1000000x1000000x2 has more than 2^40 elements");

  const char *zero =
      R"(input: "data"
input_shape { dim: 1 dim: 0 dim: 4 }
layer { name: "r" type: "ReLU" bottom: "data" top: "r" }
)";
  LoadResult z = loadText(zero);
  EXPECT_FALSE(z.net);
  ASSERT_EQ(z.lines.size(), 1u) << z.all();
  EXPECT_EQ(z.lines[0], "t.prototxt:1:1: error: graph input 'data' (legacy 'input' field): "
                        "dimension 1 is 0; every dimension must be positive");

  // Overrides are checked too.
  LoadOptions opt;
  opt.inputShapes["data"] = {int64_t(1) << 21, int64_t(1) << 20};
  LoadResult o = loadText(kInputLayer, opt);
  EXPECT_FALSE(o.net);
  EXPECT_NE(o.all().find("absurd size"), std::string::npos) << o.all();

  opt.inputShapes["data"] = {int64_t(1) << 62, int64_t(1) << 62};
  LoadResult ov = loadText(kInputLayer, opt);
  EXPECT_FALSE(ov.net);
  EXPECT_NE(ov.all().find("absurd size"), std::string::npos) << ov.all();

  LoadOptions neg;
  neg.batch = -3;
  LoadResult n = loadText(kInputLayer, neg);
  EXPECT_FALSE(n.net);
}

TEST(Inputs, InputLayerShapeCountMismatch) {
  LoadResult r = loadText("layer { name: \"in\" type: \"Input\" top: \"a\" top: \"b\" top: \"c\"\n"
                          "  input_param { shape { dim: 1 } shape { dim: 2 } } }\n");
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt:1:1: error: layer 'in' (Input) has 2 shapes for 3 tops; give "
                        "one shape for all tops, or one per top");
}

} // namespace

//===- NetLoaderTest.cpp - Caffe net loader on small inline nets ----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Reading a net: parse errors and their positions, files that are not a net
// (solver, binary, missing), loading from disk, and the V1 upgrade. Filtering
// and structure checks are in NetStructureTest.cpp, graph inputs in
// GraphInputsTest.cpp.
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
                        "is 'models/x/train_val.prototxt' (field 'net'); compile it with 'dlc "
                        "compile --solver solver.prototxt'");
}

TEST(NotANet, SolverWithTrainNet) {
  LoadResult r = loadText("train_net: \"a.prototxt\"\ntest_net: \"b.prototxt\"\ntest_iter: 5\n");
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt: error: this is a Caffe solver file, not a net; its net is "
                        "'a.prototxt' (field 'train_net'); compile it with 'dlc compile --solver "
                        "t.prototxt'");
}

TEST(NotANet, SolverWithInlineNet) {
  LoadResult r = loadText("base_lr: 0.1\nnet_param {\n  name: \"n\"\n  layer { name: \"a\" type: "
                          "\"ReLU\" }\n}\n");
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], "t.prototxt: error: this is a Caffe solver file, not a net; its net is "
                        "embedded inline (field 'net_param'); compile it with 'dlc compile "
                        "--solver t.prototxt'");
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

} // namespace

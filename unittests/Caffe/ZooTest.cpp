//===- ZooTest.cpp - Caffe net loader on real third-party Caffe files -----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every .prototxt under DLC_ZOO_DIR (shared/zoo, outside the repository) is
// loaded: nets must load (those whose data layers leave dimensions unknown get
// --input-shape style overrides below), solver files must be recognised.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

using namespace dlc::caffe_fe;
using namespace dlc::caffe_fe::test;
namespace fs = std::filesystem;

namespace {

const fs::path kZoo = DLC_ZOO_DIR;

#define REQUIRE_ZOO()                                                                              \
  do {                                                                                             \
    if (!fs::is_directory(kZoo))                                                                   \
      GTEST_SKIP() << "zoo not found at " << kZoo;                                                 \
  } while (0)

std::string zoo(const std::string &rel) { return (kZoo / rel).string(); }

using Shapes = std::map<std::string, std::vector<int64_t>>;

/// Options for nets that need them: overrides for dimensions their data
/// layers leave unknown (channels of LMDB data, HDF5 datasets), and the stages
/// that select a complete LRCN variant.
std::map<std::string, LoadOptions> zooOptions() {
  auto shapes = [](Shapes s) {
    LoadOptions o;
    o.inputShapes = std::move(s);
    return o;
  };
  std::map<std::string, LoadOptions> m;
  m["SqueezeNet_v1.0/train_val.prototxt"] = shapes({{"data", {32, 3, 227, 227}}});
  m["SqueezeNet_v1.1/train_val.prototxt"] = shapes({{"data", {32, 3, 227, 227}}});
  m["bvlc_alexnet/train_val.prototxt"] = shapes({{"data", {256, 3, 227, 227}}});
  m["bvlc_googlenet/train_val.prototxt"] = shapes({{"data", {32, 3, 224, 224}}});
  m["bvlc_reference_caffenet/train_val.prototxt"] = shapes({{"data", {256, 3, 227, 227}}});
  m["cifar10/cifar10_full_sigmoid_train_test_bn.prototxt"] = shapes({{"data", {100, 3, 32, 32}}});
  m["cifar10/cifar10_quick_train_test.prototxt"] = shapes({{"data", {100, 3, 32, 32}}});
  m["hdf5_classification/train_val.prototxt"] = shapes({{"data", {10, 4}}, {"label", {10}}});
  m["legacy_v1/mnist/lenet_train_test.prototxt"] = shapes({{"data", {64, 1, 28, 28}}});
  m["mnist/lenet_train_test.prototxt"] = shapes({{"data", {64, 1, 28, 28}}});
  m["mnist/mnist_autoencoder.prototxt"] = shapes({{"data", {100, 1, 28, 28}}});
  m["siamese/mnist_siamese_train_test.prototxt"] = shapes({{"pair_data", {64, 2, 28, 28}}});
  Shapes sentences = {{"cont_sentence", {20, 100}},
                      {"input_sentence", {20, 100}},
                      {"target_sentence", {20, 100}}};
  m["coco_caption/lstm_language_model.prototxt"] = shapes(sentences);
  LoadOptions lrcn = shapes(sentences);
  lrcn.stages = {"factored", "2-layer"};
  m["coco_caption/lrcn.prototxt"] = lrcn;
  return m;
}

bool isSolver(const fs::path &p) { return p.filename().string().find("solver") != std::string::npos; }

std::vector<fs::path> zooFiles() {
  std::vector<fs::path> files;
  for (const auto &e : fs::recursive_directory_iterator(kZoo))
    if (e.is_regular_file() && e.path().extension() == ".prototxt")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Zoo, EveryNetLoadsAndEverySolverIsRecognised) {
  REQUIRE_ZOO();
  std::map<std::string, LoadOptions> options = zooOptions();
  size_t nets = 0, solvers = 0;
  for (const fs::path &path : zooFiles()) {
    std::string rel = fs::relative(path, kZoo).string();
    SCOPED_TRACE(rel);
    auto it = options.find(rel);
    LoadResult r = loadPath(path.string(), it == options.end() ? LoadOptions() : it->second);
    if (isSolver(path)) {
      ++solvers;
      EXPECT_FALSE(r.net);
      ASSERT_EQ(r.lines.size(), 1u) << r.all();
      EXPECT_EQ(r.lines[0].rfind(path.string() +
                                     ": error: this is a Caffe solver file, not a net; its net is ",
                                 0),
                0u)
          << r.all();
      continue;
    }
    ++nets;
    ASSERT_TRUE(r.net) << r.all();
    EXPECT_EQ(r.errorCount(), 0u) << r.all();
    const LoadedNet &n = *r.net;
    EXPECT_GT(n.net.layer_size(), 0);
    EXPECT_EQ(n.net.layers_size(), 0);
    EXPECT_EQ(n.net.input_size(), 0);
    ASSERT_EQ(n.layerLocs.size(), static_cast<size_t>(n.net.layer_size()));
    for (const SourceLoc &loc : n.layerLocs) {
      EXPECT_EQ(loc.file, path.string());
      EXPECT_GT(loc.line, 0);
      EXPECT_GT(loc.column, 0);
    }
    EXPECT_FALSE(n.inputs.empty());
    for (const GraphInput &in : n.inputs) {
      EXPECT_FALSE(in.shape.empty()) << in.name;
      for (int64_t d : in.shape)
        EXPECT_GT(d, 0) << in.name;
      EXPECT_GT(in.loc.line, 0) << in.name;
    }
    for (const caffe::LayerParameter &l : n.net.layer())
      EXPECT_FALSE(l.type().empty()) << l.name();
  }
  // The zoo has 6 solver files and 39 nets; fewer means files went missing.
  EXPECT_EQ(solvers, 6u);
  EXPECT_GE(nets, 39u);
  // Every override above names a file that exists.
  for (const auto &[rel, opt] : options)
    EXPECT_TRUE(fs::exists(kZoo / rel)) << rel;
}

TEST(Zoo, SolverMessages) {
  REQUIRE_ZOO();
  LoadResult lenet = loadPath(zoo("mnist/lenet_solver.prototxt"));
  ASSERT_EQ(lenet.lines.size(), 1u);
  EXPECT_EQ(lenet.lines[0], zoo("mnist/lenet_solver.prototxt") +
                                ": error: this is a Caffe solver file, not a net; its net is "
                                "'examples/mnist/lenet_train_test.prototxt' (field 'net'); "
                                "compile it with 'dlc compile --solver " +
                                zoo("mnist/lenet_solver.prototxt") + "'");
  LoadResult consolidated = loadPath(zoo("mnist/lenet_consolidated_solver.prototxt"));
  ASSERT_EQ(consolidated.lines.size(), 1u);
  EXPECT_EQ(consolidated.lines[0], zoo("mnist/lenet_consolidated_solver.prototxt") +
                                       ": error: this is a Caffe solver file, not a net; its "
                                       "net is embedded inline (field 'net_param'); compile it "
                                       "with 'dlc compile --solver " +
                                       zoo("mnist/lenet_consolidated_solver.prototxt") + "'");
}

TEST(Zoo, DataLayersNeedOverridesAndSayHow) {
  REQUIRE_ZOO();
  LoadResult r = loadPath(zoo("bvlc_alexnet/train_val.prototxt"));
  EXPECT_FALSE(r.net);
  ASSERT_EQ(r.lines.size(), 1u) << r.all();
  EXPECT_EQ(r.lines[0], zoo("bvlc_alexnet/train_val.prototxt") +
                            ":2:1: error: the shape of graph input 'data' (layer 'data' (Data)) is "
                            "not fully known (256x?x227x227); pass --input-shape data=NxCxHxW");
  // In TEST phase the other Data layer (batch 50) is the one that counts.
  LoadOptions test;
  test.phase = Phase::Test;
  LoadResult t = loadPath(zoo("bvlc_alexnet/train_val.prototxt"), test);
  EXPECT_FALSE(t.net);
  EXPECT_NE(t.all().find(":21:1: error: the shape of graph input 'data' (layer 'data' (Data)) is "
                         "not fully known (50x?x227x227)"),
            std::string::npos)
      << t.all();
}

TEST(Zoo, V1AlexNetUpgradesToTheSameLayersAsTheV2Deploy) {
  REQUIRE_ZOO();
  LoadResult v1 = loadPath(zoo("legacy_v1/bvlc_alexnet/deploy.prototxt"));
  LoadResult v2 = loadPath(zoo("bvlc_alexnet/deploy.prototxt"));
  ASSERT_TRUE(v1.net) << v1.all();
  ASSERT_TRUE(v2.net) << v2.all();
  EXPECT_TRUE(v1.net->upgradedFromV1);
  EXPECT_FALSE(v2.net->upgradedFromV1);
  // V2 declares its input with an Input layer, V1 with legacy fields.
  ASSERT_EQ(v2.net->net.layer(0).type(), "Input");
  ASSERT_EQ(v1.net->net.layer_size() + 1, v2.net->net.layer_size());
  ASSERT_EQ(v1.net->inputs.size(), 1u);
  ASSERT_EQ(v2.net->inputs.size(), 1u);
  EXPECT_EQ(v1.net->inputs[0].shape, v2.net->inputs[0].shape);
  EXPECT_EQ(v1.net->inputs[0].layerType, "input");
  EXPECT_EQ(v2.net->inputs[0].layerType, "Input");

  for (int i = 0; i < v1.net->net.layer_size(); ++i) {
    const caffe::LayerParameter &a = v1.net->net.layer(i);
    const caffe::LayerParameter &b = v2.net->net.layer(i + 1);
    SCOPED_TRACE(a.name());
    EXPECT_EQ(a.name(), b.name());
    EXPECT_EQ(a.type(), b.type());
    EXPECT_EQ(std::vector<std::string>(a.bottom().begin(), a.bottom().end()),
              std::vector<std::string>(b.bottom().begin(), b.bottom().end()));
    EXPECT_EQ(std::vector<std::string>(a.top().begin(), a.top().end()),
              std::vector<std::string>(b.top().begin(), b.top().end()));
    // Same param specs (blobs_lr/weight_decay -> lr_mult/decay_mult) and the
    // same per-type parameters.
    caffe::LayerParameter ca = a, cb = b;
    ca.clear_name();
    cb.clear_name();
    std::string diff;
    google::protobuf::util::MessageDifferencer d;
    d.ReportDifferencesToString(&diff);
    EXPECT_TRUE(d.Compare(ca, cb)) << diff;
  }
  // Spot check of the mapping itself.
  const caffe::LayerParameter &conv1 = v1.net->net.layer(0);
  EXPECT_EQ(conv1.type(), "Convolution");
  ASSERT_EQ(conv1.param_size(), 2);
  EXPECT_FLOAT_EQ(conv1.param(0).lr_mult(), 1.f);
  EXPECT_FLOAT_EQ(conv1.param(1).lr_mult(), 2.f);
  EXPECT_FLOAT_EQ(conv1.param(0).decay_mult(), 1.f);
  EXPECT_FLOAT_EQ(conv1.param(1).decay_mult(), 0.f);
  EXPECT_EQ(v1.net->net.layer(v1.net->net.layer_size() - 1).type(), "Softmax");
}

TEST(Zoo, LenetPhaseFiltering) {
  REQUIRE_ZOO();
  LoadOptions train;
  train.inputShapes["data"] = {64, 1, 28, 28};
  LoadResult t = loadPath(zoo("mnist/lenet_train_test.prototxt"), train);
  ASSERT_TRUE(t.net) << t.all();
  EXPECT_EQ(t.net->phase, Phase::Train); // no Input layer: TRAIN by default
  EXPECT_EQ(layerNames(*t.net), (std::vector<std::string>{"mnist", "conv1", "pool1", "conv2",
                                                           "pool2", "ip1", "relu1", "ip2",
                                                           "loss"}));
  EXPECT_EQ(t.net->layerLocs[0].line, 2);
  EXPECT_EQ(t.net->net.layer(0).data_param().batch_size(), 64u);
  ASSERT_EQ(t.net->inputs.size(), 2u);
  EXPECT_EQ(t.net->inputs[1].name, "label");
  EXPECT_EQ(t.net->inputs[1].shape, (std::vector<int64_t>{64}));

  LoadOptions test;
  test.phase = Phase::Test;
  test.inputShapes["data"] = {100, 1, 28, 28};
  LoadResult s = loadPath(zoo("mnist/lenet_train_test.prototxt"), test);
  ASSERT_TRUE(s.net) << s.all();
  EXPECT_EQ(layerNames(*s.net), (std::vector<std::string>{"mnist", "conv1", "pool1", "conv2",
                                                           "pool2", "ip1", "relu1", "ip2",
                                                           "accuracy", "loss"}));
  EXPECT_EQ(s.net->layerLocs[0].line, 19);
  EXPECT_EQ(s.net->net.layer(0).data_param().batch_size(), 100u);
  EXPECT_EQ(s.net->inputs[1].shape, (std::vector<int64_t>{100}));

  // The V1 version of the same net filters the same way.
  LoadResult v1 = loadPath(zoo("legacy_v1/mnist/lenet_train_test.prototxt"), test);
  ASSERT_TRUE(v1.net) << v1.all();
  EXPECT_TRUE(v1.net->upgradedFromV1);
  EXPECT_EQ(layerNames(*v1.net), layerNames(*s.net));
  EXPECT_FLOAT_EQ(v1.net->net.layer(0).transform_param().scale(), 0.00390625f);
}

TEST(Zoo, LegacyInputFieldsGoogLeNet) {
  REQUIRE_ZOO();
  LoadResult r = loadPath(zoo("legacy_inputdim/bvlc_googlenet/deploy.prototxt"));
  ASSERT_TRUE(r.net) << r.all();
  ASSERT_EQ(r.net->inputs.size(), 1u);
  const GraphInput &in = r.net->inputs[0];
  EXPECT_EQ(in.name, "data");
  EXPECT_EQ(in.shape, (std::vector<int64_t>{10, 3, 224, 224}));
  EXPECT_EQ(in.layerType, "input");
  EXPECT_EQ(in.layerName, "");
  EXPECT_EQ(in.loc.line, 2);
  EXPECT_EQ(in.loc.column, 1);
  EXPECT_EQ(r.net->phase, Phase::Test);
  EXPECT_EQ(r.net->net.input_size(), 0);
  EXPECT_EQ(r.net->net.input_shape_size(), 0);
  EXPECT_EQ(r.net->net.layer(0).name(), "conv1/7x7_s2");
  // The modern version has the same layers after its Input layer.
  LoadResult modern = loadPath(zoo("bvlc_googlenet/deploy.prototxt"));
  ASSERT_TRUE(modern.net) << modern.all();
  EXPECT_EQ(modern.net->net.layer_size(), r.net->net.layer_size() + 1);
  // --batch replaces dimension 0.
  LoadOptions batch;
  batch.batch = 1;
  LoadResult b = loadPath(zoo("legacy_inputdim/bvlc_googlenet/deploy.prototxt"), batch);
  ASSERT_TRUE(b.net) << b.all();
  EXPECT_EQ(b.net->inputs[0].shape, (std::vector<int64_t>{1, 3, 224, 224}));
}

TEST(Zoo, VggStateBlock) {
  REQUIRE_ZOO();
  LoadResult r = loadPath(zoo("vgg/VGG_ILSVRC_16_layers_deploy.prototxt"));
  ASSERT_TRUE(r.net) << r.all();
  EXPECT_EQ(r.net->phase, Phase::Test);
  ASSERT_EQ(r.net->net.state().stage_size(), 1);
  EXPECT_EQ(r.net->net.state().stage(0), "");
  EXPECT_EQ(r.net->inputs[0].shape, (std::vector<int64_t>{1, 3, 224, 224}));
  EXPECT_EQ(r.net->inputs[0].loc.line, 6);
}

TEST(Zoo, SiameseSharedParamNames) {
  REQUIRE_ZOO();
  LoadOptions opt;
  opt.inputShapes["pair_data"] = {64, 2, 28, 28};
  LoadResult r = loadPath(zoo("siamese/mnist_siamese_train_test.prototxt"), opt);
  ASSERT_TRUE(r.net) << r.all();
  const caffe::LayerParameter *conv1 = nullptr, *conv1p = nullptr, *loss = nullptr;
  for (const caffe::LayerParameter &l : r.net->net.layer()) {
    if (l.name() == "conv1")
      conv1 = &l;
    if (l.name() == "conv1_p")
      conv1p = &l;
    if (l.type() == "ContrastiveLoss")
      loss = &l;
  }
  ASSERT_TRUE(conv1 && conv1p && loss);
  ASSERT_EQ(conv1->param_size(), 2);
  ASSERT_EQ(conv1p->param_size(), 2);
  EXPECT_EQ(conv1->param(0).name(), "conv1_w");
  EXPECT_EQ(conv1p->param(0).name(), "conv1_w");
  EXPECT_EQ(conv1p->param(1).name(), "conv1_b");
  EXPECT_FLOAT_EQ(loss->contrastive_loss_param().margin(), 1.f);
}

TEST(Zoo, LrcnStagesSelectAVariant) {
  REQUIRE_ZOO();
  std::map<std::string, LoadOptions> options = zooOptions();
  LoadOptions opt = options["coco_caption/lrcn.prototxt"];
  LoadResult factored = loadPath(zoo("coco_caption/lrcn.prototxt"), opt);
  ASSERT_TRUE(factored.net) << factored.all();
  std::vector<std::string> names = layerNames(*factored.net);
  EXPECT_EQ(std::count(names.begin(), names.end(), "lstm2"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "conv1"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "accuracy"), 0); // TEST only
  for (const caffe::LayerParameter &l : factored.net->net.layer()) {
    if (l.name() == "predict") {
      ASSERT_EQ(l.bottom_size(), 1);
      EXPECT_EQ(l.bottom(0), "lstm2");
      EXPECT_EQ(l.inner_product_param().axis(), 2);
    }
    if (l.name() == "lstm2") {
      EXPECT_EQ(l.type(), "LSTM");
      EXPECT_EQ(l.recurrent_param().num_output(), 1000u);
    }
    if (l.name() == "conv1") { // the unfrozen variant
      EXPECT_FLOAT_EQ(l.param(0).lr_mult(), 0.1f);
    }
  }
  // ImageData: batch 100, crop 227, colour.
  EXPECT_EQ(factored.net->inputs[0].name, "data");
  EXPECT_EQ(factored.net->inputs[0].shape, (std::vector<int64_t>{100, 3, 227, 227}));

  // Without the stages no LSTM layer is selected and `predict` has no bottom.
  LoadOptions bare = opt;
  bare.stages.clear();
  LoadResult none = loadPath(zoo("coco_caption/lrcn.prototxt"), bare);
  EXPECT_FALSE(none.net);
  EXPECT_NE(none.all().find("layer 'predict': bottom blob 'lstm1' is not produced by any layer"),
            std::string::npos)
      << none.all();
}

TEST(Zoo, SpecialLayers) {
  REQUIRE_ZOO();
  LoadResult fcn = loadPath(zoo("voc-fcn8s/deploy.prototxt"));
  ASSERT_TRUE(fcn.net) << fcn.all();
  int deconv = 0, crop = 0;
  for (const caffe::LayerParameter &l : fcn.net->net.layer()) {
    deconv += l.type() == "Deconvolution";
    crop += l.type() == "Crop";
  }
  EXPECT_EQ(deconv, 3);
  EXPECT_EQ(crop, 3);

  LoadResult mobile = loadPath(zoo("mobilenet/mobilenet_deploy.prototxt"));
  ASSERT_TRUE(mobile.net) << mobile.all();
  bool depthwise = false;
  for (const caffe::LayerParameter &l : mobile.net->net.layer())
    if (l.type() == "Convolution" && l.convolution_param().group() > 1 &&
        l.convolution_param().group() == l.convolution_param().num_output())
      depthwise = true;
  EXPECT_TRUE(depthwise);
}

} // namespace

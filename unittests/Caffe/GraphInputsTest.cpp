//===- GraphInputsTest.cpp - Graph inputs of a Caffe net ------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The loader's graph inputs: legacy input fields, data layer shapes, the
// --input-shape and --batch overrides, and the shape checks.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <gtest/gtest.h>

using namespace dlc::caffe_fe;
using namespace dlc::caffe_fe::test;

namespace {

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

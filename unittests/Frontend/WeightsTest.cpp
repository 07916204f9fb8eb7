//===- WeightsTest.cpp - Trained weights for an imported net --------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Caffe/NetLoader.h"
#include "dlc/Dialect/DL/IR/DLDialect.h"
#include "dlc/Frontend/CaffeImporter.h"
#include "dlc/Frontend/Weights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace mlir;
using namespace dlc;

namespace {

std::string inputPath(const char *name) {
  return std::string(DLC_SOURCE_DIR) + "/test/Target/Inputs/" + name;
}

/// tiny-ip.prototxt: data [1, 3] -> InnerProduct 'ip' (num_output 2), so the
/// parameters are ip/0 [2, 3] and ip/1 [2].
struct TinyNet {
  TinyNet() {
    DialectRegistry registry;
    registry.insert<dl::DLDialect, func::FuncDialect>();
    ctx = std::make_unique<MLIRContext>(registry);
    std::vector<caffe_fe::Diagnostic> diags;
    net = caffe_fe::loadNetFile(inputPath("tiny-ip.prototxt"), {}, diags);
    if (net)
      module = frontend::importNet(*ctx, *net, {});
  }
  std::unique_ptr<MLIRContext> ctx;
  std::optional<caffe_fe::LoadedNet> net;
  OwningOpRef<ModuleOp> module;
};

std::string writeCaffeModel(const caffe::NetParameter &weights, const char *name) {
  std::string path = testing::TempDir() + name;
  std::ofstream out(path, std::ios::binary);
  weights.SerializeToOstream(&out);
  return path;
}

TEST(Weights, CaffeModelBlobsFollowTheLayers) {
  TinyNet t;
  ASSERT_TRUE(t.module);
  caffe::NetParameter weights;
  caffe::LayerParameter *ip = weights.add_layer();
  ip->set_name("ip");
  caffe::BlobProto *w = ip->add_blobs();
  for (int i = 0; i < 6; ++i)
    w->add_data(float(i));
  caffe::BlobProto *b = ip->add_blobs();
  b->add_double_data(1.5);
  b->add_double_data(-2);
  weights.add_layer()->set_name("not-in-the-net");
  std::map<std::string, std::vector<float>> out;
  ASSERT_TRUE(succeeded(frontend::loadWeights(writeCaffeModel(weights, "tiny.caffemodel"),
                                              *t.net, *t.module, out)));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out["ip/0"], std::vector<float>({0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(out["ip/1"], std::vector<float>({1.5f, -2.f}));
}

TEST(Weights, CaffeModelSizeMismatchFails) {
  TinyNet t;
  ASSERT_TRUE(t.module);
  caffe::NetParameter weights;
  caffe::LayerParameter *ip = weights.add_layer();
  ip->set_name("ip");
  ip->add_blobs()->add_data(1);
  std::map<std::string, std::vector<float>> out;
  EXPECT_TRUE(failed(frontend::loadWeights(writeCaffeModel(weights, "bad.caffemodel"), *t.net,
                                           *t.module, out)));
  EXPECT_TRUE(out.empty());
}

TEST(Weights, NpzByExtension) {
  TinyNet t;
  ASSERT_TRUE(t.module);
  std::map<std::string, std::vector<float>> out;
  ASSERT_TRUE(succeeded(
      frontend::loadWeights(inputPath("tiny-ip-weights.npz"), *t.net, *t.module, out)));
  EXPECT_EQ(out["ip/0"], std::vector<float>(6, 0.f));
  EXPECT_EQ(out["ip/1"], std::vector<float>({1.5f, -2.f}));
  out.clear();
  EXPECT_TRUE(failed(
      frontend::loadWeights(inputPath("tiny-ip-badshape.npz"), *t.net, *t.module, out)));
}

} // namespace

//===- ImporterTest.cpp - Caffe net to dl dialect -------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Caffe/NetLoader.h"
#include "dlc/Dialect/DL/IR/DLDialect.h"
#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Frontend/CaffeImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace dlc;

namespace {

struct Imported {
  std::unique_ptr<MLIRContext> ctx;
  OwningOpRef<ModuleOp> module;
  std::vector<std::string> errors;
};

Imported importText(const std::string &text, frontend::ImportOptions options = {}) {
  Imported r;
  DialectRegistry registry;
  registry.insert<dl::DLDialect, func::FuncDialect>();
  r.ctx = std::make_unique<MLIRContext>(registry);
  std::vector<caffe_fe::Diagnostic> diags;
  auto net = caffe_fe::loadNetFromString(text, "t.prototxt", {}, diags);
  EXPECT_TRUE(net.has_value());
  if (!net)
    return r;
  ScopedDiagnosticHandler handler(r.ctx.get(), [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error)
      r.errors.push_back(d.str());
    return success();
  });
  r.module = frontend::importNet(*r.ctx, *net, options);
  return r;
}

func::FuncOp netFunc(Imported &r) { return *r.module->getOps<func::FuncOp>().begin(); }

const char *kHeader =
    "layer { name: 'data' type: 'Input' top: 'data' input_param { shape { dim: 2 dim: 3 dim: 8 "
    "dim: 8 } } }\n";

TEST(Importer, ConvolutionWeightsFollowCaffesLayout) {
  auto r = importText(std::string(kHeader) +
                      "layer { name: 'c' type: 'Convolution' bottom: 'data' top: 'c' "
                      "convolution_param { num_output: 4 kernel_h: 3 kernel_w: 1 pad_w: 1 "
                      "stride: 2 weight_filler { type: 'msra' } } }");
  ASSERT_TRUE(r.module);
  SmallVector<dl::ParamOp> params(netFunc(r).getOps<dl::ParamOp>());
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].getName(), "c/0");
  EXPECT_EQ(cast<RankedTensorType>(params[0].getType()).getShape(),
            ArrayRef<int64_t>({4, 3, 3, 1}));
  EXPECT_EQ(cast<StringAttr>(params[0].getFiller().get("type")).getValue(), "msra");
  EXPECT_EQ(cast<RankedTensorType>(params[1].getType()).getShape(), ArrayRef<int64_t>({4}));
  auto conv = *netFunc(r).getOps<dl::ConvolutionOp>().begin();
  // (8 - 3)/2 + 1 = 3 rows; (8 + 2 - 1)/2 + 1 = 5 columns.
  EXPECT_EQ(cast<RankedTensorType>(conv.getType()).getShape(), ArrayRef<int64_t>({2, 4, 3, 5}));
}

TEST(Importer, InPlaceLayersChainValuesAndKeepTopNames) {
  auto r = importText(std::string(kHeader) +
                      "layer { name: 'r' type: 'ReLU' bottom: 'data' top: 'data' }\n"
                      "layer { name: 's' type: 'Sigmoid' bottom: 'data' top: 'data' }");
  ASSERT_TRUE(r.module);
  auto relu = *netFunc(r).getOps<dl::ReLUOp>().begin();
  auto sig = *netFunc(r).getOps<dl::SigmoidOp>().begin();
  EXPECT_EQ(sig.getOperand(), relu.getResult());
  EXPECT_EQ(cast<StringAttr>(cast<ArrayAttr>(sig->getAttr("dl.tops"))[0]).getValue(), "data");
  auto loc = dyn_cast<NameLoc>(sig.getLoc());
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc.getName(), "s");
  auto file = dyn_cast<FileLineColLoc>(loc.getChildLoc());
  ASSERT_TRUE(file);
  EXPECT_EQ(file.getLine(), 3u);
  // The net output is the last value of the in-place chain.
  auto ret = cast<func::ReturnOp>(netFunc(r).getBody().front().getTerminator());
  ASSERT_EQ(ret.getNumOperands(), 1u);
  EXPECT_EQ(ret.getOperand(0), sig.getResult());
}

TEST(Importer, SharedParametersAreOneValue) {
  auto r = importText(
      "layer { name: 'data' type: 'Input' top: 'a' top: 'b' input_param { shape { dim: 2 dim: "
      "5 } } }\n"
      "layer { name: 'x' type: 'InnerProduct' bottom: 'a' top: 'x' param { name: 'w' } "
      "param { name: 'bias' } inner_product_param { num_output: 3 } }\n"
      "layer { name: 'y' type: 'InnerProduct' bottom: 'b' top: 'y' param { name: 'w' } "
      "param { name: 'bias' } inner_product_param { num_output: 3 } }");
  ASSERT_TRUE(r.module);
  SmallVector<dl::ParamOp> params(netFunc(r).getOps<dl::ParamOp>());
  EXPECT_EQ(params.size(), 2u);
  auto ips = SmallVector<dl::InnerProductOp>(netFunc(r).getOps<dl::InnerProductOp>());
  ASSERT_EQ(ips.size(), 2u);
  EXPECT_EQ(ips[0].getWeight(), ips[1].getWeight());
}

TEST(Importer, SharedParameterShapeMismatchIsAnError) {
  auto r = importText(
      "layer { name: 'data' type: 'Input' top: 'a' input_param { shape { dim: 2 dim: 5 } } }\n"
      "layer { name: 'x' type: 'InnerProduct' bottom: 'a' top: 'x' param { name: 'w' } "
      "inner_product_param { num_output: 3 } }\n"
      "layer { name: 'y' type: 'InnerProduct' bottom: 'x' top: 'y' param { name: 'w' } "
      "inner_product_param { num_output: 3 } }");
  EXPECT_FALSE(r.module);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("shared parameter 'w'"), std::string::npos) << r.errors[0];
}

TEST(Importer, LossAutoReplacesTheFinalSoftmax) {
  frontend::ImportOptions options;
  options.lossAuto = true;
  auto r = importText(std::string(kHeader) +
                          "layer { name: 'ip' type: 'InnerProduct' bottom: 'data' top: 'ip' "
                          "inner_product_param { num_output: 10 } }\n"
                          "layer { name: 'prob' type: 'Softmax' bottom: 'ip' top: 'prob' }",
                      options);
  ASSERT_TRUE(r.module);
  auto f = netFunc(r);
  EXPECT_TRUE(f.getOps<dl::SoftmaxOp>().empty());
  auto loss = *f.getOps<dl::SoftmaxWithLossOp>().begin();
  EXPECT_EQ(f.getNumArguments(), 2u);
  EXPECT_EQ(cast<RankedTensorType>(f.getArgument(1).getType()).getShape(),
            ArrayRef<int64_t>({2}));
  EXPECT_EQ(loss.getLabel(), f.getArgument(1));
  ASSERT_EQ(f.getNumResults(), 1u);
  EXPECT_EQ(f.getResultAttrOfType<StringAttr>(0, "dl.name").getValue(), "loss");
}

TEST(Importer, RandomWeightsOnlyReplacesMissingFillers) {
  frontend::ImportOptions options;
  options.randomWeights = true;
  auto r = importText(std::string(kHeader) +
                          "layer { name: 'a' type: 'InnerProduct' bottom: 'data' top: 'a' "
                          "inner_product_param { num_output: 4 } }\n"
                          "layer { name: 'b' type: 'InnerProduct' bottom: 'a' top: 'b' "
                          "inner_product_param { num_output: 4 weight_filler { type: "
                          "'gaussian' std: 0.5 } } }",
                      options);
  ASSERT_TRUE(r.module);
  SmallVector<dl::ParamOp> params(netFunc(r).getOps<dl::ParamOp>());
  ASSERT_EQ(params.size(), 4u);
  auto type = [](dl::ParamOp p) {
    return cast<StringAttr>(p.getFiller().get("type")).getValue().str();
  };
  EXPECT_EQ(type(params[0]), "xavier");   // a's weight: no filler given
  EXPECT_EQ(type(params[1]), "constant"); // a's bias: Caffe's default
  EXPECT_EQ(type(params[2]), "gaussian"); // b's weight: as written
  EXPECT_DOUBLE_EQ(cast<FloatAttr>(params[2].getFiller().get("std")).getValueAsDouble(), 0.5);
}

TEST(Importer, UnsupportedTypesAreReportedTogether) {
  auto r = importText(std::string(kHeader) +
                      "layer { name: 'a' type: 'Python' bottom: 'data' top: 'a' }\n"
                      "layer { name: 'b' type: 'NoSuchLayer' bottom: 'a' top: 'b' }\n"
                      "layer { name: 'c' type: 'Python' bottom: 'b' top: 'c' }");
  EXPECT_FALSE(r.module);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("3 layers have unsupported types ('NoSuchLayer', 'Python')"),
            std::string::npos)
      << r.errors[0];
}

TEST(Importer, SupportedTypesCoverTheZoo) {
  const auto &types = frontend::supportedLayerTypes();
  for (const char *t : {"Accuracy", "BatchNorm", "Concat", "ContrastiveLoss", "Convolution",
                        "Crop", "Data", "Deconvolution", "Dropout", "Eltwise", "Embed",
                        "EuclideanLoss", "Flatten", "HDF5Data", "ImageData", "InnerProduct",
                        "Input", "LRN", "LSTM", "Pooling", "ReLU", "Scale", "Sigmoid",
                        "SigmoidCrossEntropyLoss", "Silence", "Slice", "Softmax",
                        "SoftmaxWithLoss", "TanH", "Reshape", "Split", "Bias", "PReLU", "ELU",
                        "Power", "AbsVal"})
    EXPECT_TRUE(std::find(types.begin(), types.end(), t) != types.end()) << t;
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  EXPECT_TRUE(std::adjacent_find(types.begin(), types.end()) == types.end());
}

TEST(Importer, EveryLayerGetsItsOwnTypedOp) {
  auto r = importText(std::string(kHeader) +
                      "layer { name: 'c' type: 'Convolution' bottom: 'data' top: 'c' "
                      "convolution_param { num_output: 4 kernel_size: 3 bias_term: false } }\n"
                      "layer { name: 'bn' type: 'BatchNorm' bottom: 'c' top: 'c' }\n"
                      "layer { name: 'p' type: 'Pooling' bottom: 'c' top: 'p' "
                      "pooling_param { pool: AVE global_pooling: true } }\n"
                      "layer { name: 'e' type: 'Eltwise' bottom: 'p' bottom: 'p' top: 'e' "
                      "eltwise_param { operation: MAX } }");
  ASSERT_TRUE(r.module);
  auto f = netFunc(r);
  auto conv = *f.getOps<dl::ConvolutionOp>().begin();
  EXPECT_FALSE(conv.getBias());
  EXPECT_EQ(conv.getKernel(), ArrayRef<int64_t>({3, 3}));
  auto bn = *f.getOps<dl::BatchNormOp>().begin();
  EXPECT_EQ(bn.getX(), conv.getResult());
  // Resolved from the phase (test) and set explicitly, as Caffe decides it.
  ASSERT_TRUE(bn.getUseGlobalStatsAttr());
  EXPECT_TRUE(bn.getUseGlobalStats());
  auto pool = *f.getOps<dl::PoolingOp>().begin();
  EXPECT_EQ(pool.getPool(), "ave");
  EXPECT_EQ(cast<RankedTensorType>(pool.getType()).getShape(), ArrayRef<int64_t>({2, 4, 1, 1}));
  auto eltwise = *f.getOps<dl::EltwiseOp>().begin();
  EXPECT_EQ(eltwise.getOperationKind(), "max");
  EXPECT_EQ(eltwise.getInputs().size(), 2u);
}

TEST(Importer, LstmOperandSegments) {
  auto r = importText(
      "layer { name: 'data' type: 'Input' top: 'x' top: 'cont' top: 's' input_param { "
      "shape { dim: 5 dim: 2 dim: 3 } shape { dim: 5 dim: 2 } shape { dim: 2 dim: 7 } } }\n"
      "layer { name: 'a' type: 'LSTM' bottom: 'x' bottom: 'cont' top: 'a' "
      "recurrent_param { num_output: 4 } }\n"
      "layer { name: 'b' type: 'LSTM' bottom: 'x' bottom: 'cont' bottom: 's' top: 'b' "
      "recurrent_param { num_output: 4 } }");
  ASSERT_TRUE(r.module);
  auto lstms = SmallVector<dl::LSTMOp>(netFunc(r).getOps<dl::LSTMOp>());
  ASSERT_EQ(lstms.size(), 2u);
  EXPECT_FALSE(lstms[0].getXStatic());
  EXPECT_FALSE(lstms[0].getWXcStatic());
  EXPECT_EQ(lstms[1].getXStatic(), netFunc(r).getArgument(2));
  EXPECT_EQ(cast<RankedTensorType>(lstms[1].getWXcStatic().getType()).getShape(),
            ArrayRef<int64_t>({16, 7}));
  EXPECT_EQ(cast<RankedTensorType>(lstms[1].getType()).getShape(),
            ArrayRef<int64_t>({5, 2, 4}));
}

} // namespace

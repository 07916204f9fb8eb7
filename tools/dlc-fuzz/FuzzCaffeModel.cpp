//===- FuzzCaffeModel.cpp - Fuzz target: the .caffemodel reader -----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// `dlc compile --weights FILE.caffemodel`: a binary NetParameter whose blobs
// are matched to the net's parameters by layer name and blob index (or the
// shared param name), every count and shape checked. The net is fixed (one
// with convolution, batch norm, scale, inner products and a shared
// parameter); the weights file is the input.
//
//===----------------------------------------------------------------------===//

#include "dlc/Caffe/NetLoader.h"
#include "dlc/Dialect/DL/IR/DLDialect.h"
#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Frontend/CaffeImporter.h"
#include "dlc/Frontend/Weights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

using namespace dlc;

namespace {

// Its blob counts and shapes are in corpus/caffemodel-seed.txt, the seed.
constexpr const char *kNet = R"(
name: "fuzz"
input: "data"
input_shape { dim: 2 dim: 3 dim: 6 dim: 6 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 4 kernel_size: 3 } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" }
layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1"
        scale_param { bias_term: true } }
layer { name: "ip1" type: "InnerProduct" bottom: "conv1" top: "ip1"
        inner_product_param { num_output: 5 } }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" param { name: "shared" }
        inner_product_param { num_output: 5 bias_term: false } }
layer { name: "ip3" type: "InnerProduct" bottom: "ip2" top: "ip3" param { name: "shared" }
        inner_product_param { num_output: 5 bias_term: false } }
)";

struct Net {
  Net() {
    mlir::DialectRegistry registry;
    registry.insert<mlir::dl::DLDialect, mlir::func::FuncDialect>();
    context = std::make_unique<mlir::MLIRContext>(registry);
    std::vector<caffe_fe::Diagnostic> diags;
    auto l = caffe_fe::loadNetFromString(kNet, "fuzz-net.prototxt", {}, diags);
    if (l)
      module = frontend::importNet(*context, *l, {});
    if (!l || !module) {
      fprintf(stderr, "the fuzz target's own net does not import\n");
      abort();
    }
    loaded = std::move(*l);
  }
  std::unique_ptr<mlir::MLIRContext> context;
  caffe_fe::LoadedNet loaded;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Net net;
  std::string bytes(reinterpret_cast<const char *>(data), size);
  std::map<std::string, std::vector<float>> weights;
  // The reader reports through llvm::errs(); the fuzz scripts close stderr
  // (-close_fd_mask), the replay driver shows it.
  (void)frontend::loadWeightsFromBuffer(bytes, "fuzz.caffemodel", /*npz=*/false, net.loaded,
                                        *net.module, weights);
  // Whatever is read fits the parameter it is for, element for element.
  net.module->walk([&](mlir::dl::ParamOp op) {
    auto it = weights.find(op.getName().str());
    auto type = mlir::cast<mlir::RankedTensorType>(op.getType());
    if (it != weights.end() && int64_t(it->second.size()) != type.getNumElements())
      abort();
  });
  return 0;
}

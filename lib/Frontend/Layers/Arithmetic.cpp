//===- Arithmetic.cpp - Eltwise -------------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The arithmetic family (include/dlc/Dialect/DL/IR/Ops/Arithmetic.td).
//
//===----------------------------------------------------------------------===//

#include "LayerImporter.h"

using namespace mlir;

namespace dlc::frontend {
namespace {

FailureOr<Operation *> importEltwise(LayerContext &L) {
  const auto &p = L.layer.eltwise_param();
  const char *operation = "sum";
  switch (p.operation()) {
  case caffe::EltwiseParameter::PROD: operation = "prod"; break;
  case caffe::EltwiseParameter::SUM: operation = "sum"; break;
  case caffe::EltwiseParameter::MAX: operation = "max"; break;
  }
  size_t n = L.bottoms().size();
  if (p.coeff_size() && p.coeff_size() != int(n))
    return L.emitError() << "Eltwise has " << p.coeff_size() << " coeff values for " << n
                         << " bottoms";
  if (p.coeff_size() && p.operation() != caffe::EltwiseParameter::SUM)
    return L.emitError() << "Eltwise coeff is only allowed for operation SUM";
  SmallVector<double> coeff;
  for (float c : p.coeff())
    coeff.push_back(floatToDouble(c));
  Operation *op = L.create<mlir::dl::EltwiseOp>(L.bottoms(), L.f64s(coeff));
  // Not an ODS argument: a getter named getOperation would clash with Op's.
  op->setAttr("operation", L.str(operation));
  return op;
}

FailureOr<Operation *> importReduction(LayerContext &L) {
  const auto &p = L.layer.reduction_param();
  const char *operation = "sum";
  switch (p.operation()) {
  case caffe::ReductionParameter::SUM: operation = "sum"; break;
  case caffe::ReductionParameter::ASUM: operation = "asum"; break;
  case caffe::ReductionParameter::SUMSQ: operation = "sumsq"; break;
  case caffe::ReductionParameter::MEAN: operation = "mean"; break;
  }
  Operation *op =
      L.create<mlir::dl::ReductionOp>(L.bottom(0), L.i64(p.axis()), L.f64(p.coeff()));
  op->setAttr("operation", L.str(operation)); // as for Eltwise
  return op;
}

FailureOr<Operation *> importArgMax(LayerContext &L) {
  const auto &p = L.layer.argmax_param();
  return L.create<mlir::dl::ArgMaxOp>(L.bottom(0), L.boolean(p.out_max_val()), L.i64(p.top_k()),
                                      p.has_axis() ? L.i64(p.axis()) : IntegerAttr());
}

} // namespace

DLC_REGISTER_LAYERS({"Eltwise", importEltwise, 2, kAnyNumber}, {"Reduction", importReduction},
                    {"ArgMax", importArgMax});

} // namespace dlc::frontend

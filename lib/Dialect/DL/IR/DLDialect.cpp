// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// The `dl` dialect: registration and verification of its discardable
// attributes (`dl.tops` and `dl.layouts` on ops, `dl.layout` on functions,
// `dl.name` on function arguments/results).

#include "dlc/Dialect/DL/IR/DLDialect.h"
#include "dlc/Dialect/DL/IR/DLOps.h"

#include "dlc/Ops/Layout.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace mlir::dl;

#include "dlc/Dialect/DL/IR/DLOpsDialect.cpp.inc"

void DLDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dlc/Dialect/DL/IR/DLOps.cpp.inc"
      >();
}

void mlir::dl::registerDLDialect(DialectRegistry &registry) {
  registry.insert<DLDialect>();
}

/// `dl.layouts` (docs/layouts.md): one layout name per result, a blocked
/// one only on a result that can hold it.
static LogicalResult verifyLayouts(Operation *op, Attribute value) {
  auto array = dyn_cast<ArrayAttr>(value);
  if (!array || array.size() != op->getNumResults())
    return op->emitError("'dl.layouts' must be an array of one layout name per result (")
           << op->getNumResults() << ")";
  for (auto [a, r] : llvm::zip(array, op->getResults())) {
    auto name = dyn_cast<StringAttr>(a);
    int block = 0;
    if (!name || !dlc::ops::parseLayout(std::string_view(name.getValue()), block))
      return op->emitError("'dl.layouts' entries must be \"plain\", \"nChw8c\" or "
                           "\"nChw16c\", got ")
             << a;
    auto type = dyn_cast<RankedTensorType>(r.getType());
    if (block != 0 &&
        (!type || !dlc::ops::isBlockable(dlc::ops::Shape(type.getShape().begin(),
                                                         type.getShape().end()),
                                         block)))
      return op->emitError("result ")
             << r.getResultNumber() << " of type " << r.getType() << " cannot be stored as "
             << name.getValue() << " (rank 4, channels a multiple of " << block << ")";
  }
  return success();
}

/// `dl.tops` must be an array of strings; `dl.layouts` and `dl.layout` name
/// layouts. Other `dl.*` discardable attributes are left to their users.
LogicalResult DLDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attr) {
  if (attr.getName() == "dl.tops") {
    auto array = dyn_cast<ArrayAttr>(attr.getValue());
    if (!array || !llvm::all_of(array, [](Attribute a) {
          return isa<StringAttr>(a);
        }))
      return op->emitError("'dl.tops' must be an array of strings");
  }
  if (attr.getName() == kLayoutsAttrName)
    return verifyLayouts(op, attr.getValue());
  if (attr.getName() == kLayoutAttrName) {
    auto name = dyn_cast<StringAttr>(attr.getValue());
    int block = 0;
    if (!name || !dlc::ops::parseLayout(std::string_view(name.getValue()), block))
      return op->emitError("'dl.layout' must be \"plain\", \"nChw8c\" or \"nChw16c\"");
  }
  return success();
}

static LogicalResult verifyNameAttr(Operation *op, NamedAttribute attr,
                                    StringRef where) {
  if (attr.getName() == "dl.name" && !isa<StringAttr>(attr.getValue()))
    return op->emitError("'dl.name' on a ")
           << where << " must be a string attribute";
  return success();
}

LogicalResult DLDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                  unsigned,
                                                  NamedAttribute attr) {
  return verifyNameAttr(op, attr, "function argument");
}

LogicalResult DLDialect::verifyRegionResultAttribute(Operation *op, unsigned,
                                                     unsigned,
                                                     NamedAttribute attr) {
  return verifyNameAttr(op, attr, "function result");
}

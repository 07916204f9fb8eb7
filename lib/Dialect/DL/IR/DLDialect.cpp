// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// The `dl` dialect: registration and verification of its discardable
// attributes (`dl.tops` on ops, `dl.name` on function arguments/results).

#include "dlc/Dialect/DL/IR/DLDialect.h"
#include "dlc/Dialect/DL/IR/DLOps.h"

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

/// `dl.tops` must be an array of strings. Other `dl.*` discardable
/// attributes are left to their users.
LogicalResult DLDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attr) {
  if (attr.getName() == "dl.tops") {
    auto array = dyn_cast<ArrayAttr>(attr.getValue());
    if (!array || !llvm::all_of(array, [](Attribute a) {
          return isa<StringAttr>(a);
        }))
      return op->emitError("'dl.tops' must be an array of strings");
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

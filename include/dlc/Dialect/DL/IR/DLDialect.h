// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// The `dl` dialect: one op per Caffe layer type (see docs/dialect.md).

#ifndef DLC_DIALECT_DL_IR_DLDIALECT_H
#define DLC_DIALECT_DL_IR_DLDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dlc/Dialect/DL/IR/DLOpsDialect.h.inc"

#endif // DLC_DIALECT_DL_IR_DLDIALECT_H

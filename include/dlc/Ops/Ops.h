//===- Ops.h - Typed attributes, operands and shape rules of dl ops -*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The generated per-op declarations (see OpSchema.h): `<Op>Attrs`,
// `<Op>Operands` and the shape rule `infer()` of every layer op, plus the
// derived geometry the kernels share with the rules (Geometry.h).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_OPS_OPS_H
#define DLC_OPS_OPS_H

#include "dlc/Ops/OpSchema.h"

namespace dlc::ops {
#include "dlc/Ops/OpDefs.h.inc"
} // namespace dlc::ops

#include "dlc/Ops/Geometry.h"

#endif // DLC_OPS_OPS_H

//===- MaxPool2x2.h - Max pooling over exactly tiling 2x2 windows -*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Runtime/Dnnl: the plain-layout fast path of the direct max
// pooling kernels (Pooling.cpp, PoolingGrad.cpp) for 2x2 windows of stride 2
// that tile the input exactly (MaxPool2x2.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_RUNTIME_DNNL_MAXPOOL2X2_H
#define DLC_LIB_RUNTIME_DNNL_MAXPOOL2X2_H

#include "dlc/Ops/Ops.h"

namespace dlc::rt::dnnlk {

/// 2x2 windows, stride 2, no padding, H = 2 OH and W = 2 OW.
bool maxPool2x2Tiles(const ops::PoolGeometry &g);
/// y = the windows' maxima; plain NCHW x and y (OpenMP over output rows).
void maxPool2x2Forward(const ops::PoolGeometry &g, const float *x, float *y);
/// dx = dy routed to each window's first maximum, 0 elsewhere (every
/// element of dx written); plain x, dy, dx.
void maxPool2x2Backward(const ops::PoolGeometry &g, const float *x, const float *dy, float *dx);

} // namespace dlc::rt::dnnlk

#endif // DLC_LIB_RUNTIME_DNNL_MAXPOOL2X2_H

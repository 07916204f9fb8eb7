//===- Pooling.cpp - Shape rules of the pooling family --------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// pooling, lrn: Caffe's pooling_layer.cpp and lrn_layer.cpp.
//
//===----------------------------------------------------------------------===//
#include "RuleUtil.h"

#include <algorithm>

namespace dlc::ops {
using namespace rules;

Status poolGeometry(const std::string &pool, const std::vector<int64_t> &kernelAttr,
                    const std::vector<int64_t> &strideAttr, const std::vector<int64_t> &padAttr,
                    bool global, const std::string &roundMode, const Arg &input,
                    PoolGeometry &g) {
  g = PoolGeometry();
  std::vector<int64_t> kernel, stride, pad;
  if (global) {
    // The kernel is the input's spatial size; it may be given as empty or
    // as [0, 0] ("unspecified", what the importer writes), nothing else.
    if (!std::all_of(kernelAttr.begin(), kernelAttr.end(), [](int64_t k) { return k == 0; }) ||
        (!kernelAttr.empty() && kernelAttr.size() != 2))
      return fail("with global_pooling the kernel size cannot be specified (kernel must be "
                  "empty or [0, 0])");
  } else {
    if (kernelAttr.size() != 2)
      return fail("pooling kernel must have 2 entries (kernel_h, kernel_w), got ",
                  kernelAttr.size());
    DLC_TRY(spatialVector("kernel", kernelAttr, 2, 1, 1, kernel));
  }
  DLC_TRY(spatialVector("stride", strideAttr, 2, 1, 1, stride));
  DLC_TRY(spatialVector("pad", padAttr, 2, 0, 0, pad));
  if (global && (pad[0] != 0 || pad[1] != 0 || stride[0] != 1 || stride[1] != 1))
    return fail("with global_pooling only pad = 0 and stride = 1 are allowed");
  bool padded = pad[0] != 0 || pad[1] != 0;
  if (padded) {
    if (pool == "stochastic")
      return fail("padding is implemented only for average and max pooling");
    if (!global && (pad[0] >= kernel[0] || pad[1] >= kernel[1]))
      return fail("pad ", fmtX(pad), " must be smaller than kernel ", fmtX(kernel));
  }
  g.sh = stride[0], g.sw = stride[1], g.ph = pad[0], g.pw = pad[1];
  if (!global)
    g.kh = kernel[0], g.kw = kernel[1];
  if (!input)
    return Status();
  if (input.rank() != 4)
    return fail("pooling input must have 4 axes (num, channels, height, width), got rank ",
                input.rank());
  const Shape &x = *input;
  g.batch = x[0], g.channels = x[1], g.height = x[2], g.width = x[3];
  if (global) {
    g.kh = g.height, g.kw = g.width;
    g.oh = g.ow = 1;
    return Status();
  }
  bool ceil = roundMode == "ceil";
  std::vector<int64_t> paddedSize = {x[2] + 2 * pad[0], x[3] + 2 * pad[1]};
  if (kernel[0] > paddedSize[0] || kernel[1] > paddedSize[1])
    return fail("kernel ", fmtX(kernel), " is larger than padded input ", fmtX(paddedSize));
  int64_t out[2];
  for (int i = 0; i < 2; ++i) {
    int64_t span = paddedSize[i] - kernel[i];
    int64_t o = (ceil ? (span + stride[i] - 1) / stride[i] : span / stride[i]) + 1;
    // Caffe: make sure the last pooling window starts inside the image.
    if (padded && (o - 1) * stride[i] >= x[2 + i] + pad[i])
      --o;
    out[i] = o;
  }
  g.oh = out[0], g.ow = out[1];
  return Status();
}

Status poolGeometry(const PoolingAttrs &a, const Shape &input, PoolGeometry &g) {
  return poolGeometry(a.pool, a.kernel, a.stride, a.pad, a.global_pooling, a.round_mode,
                      Arg::of(input), g);
}

Status infer(const PoolingAttrs &a, const PoolingOperands &o, Results &r) {
  PoolGeometry g;
  DLC_TRY(poolGeometry(a.pool, a.kernel, a.stride, a.pad, a.global_pooling, a.round_mode,
                       o.input, g));
  if (!o.input)
    return r.addUnknown();
  return r.add({g.batch, g.channels, g.oh, g.ow});
}

Status sppLevelGeometry(const SPPAttrs &a, const Shape &input, int64_t level, PoolGeometry &g) {
  // Caffe's SPPLayer::GetPoolingParam: 2^level bins per axis.
  int64_t bins = int64_t(1) << level;
  std::vector<int64_t> kernel, pad;
  for (int i = 0; i < 2; ++i) {
    int64_t k = (input[size_t(2 + i)] + bins - 1) / bins;
    kernel.push_back(k);
    pad.push_back((k * bins - input[size_t(2 + i)] + 1) / 2);
  }
  return poolGeometry(a.pool, kernel, kernel, pad, false, "ceil", Arg::of(input), g);
}

Status infer(const SPPAttrs &a, const SPPOperands &o, Results &r) {
  if (a.pyramid_height < 1 || a.pyramid_height > 30)
    return fail("spp pyramid_height must be in [1, 30], got ", a.pyramid_height);
  if (!o.input)
    return r.addUnknown();
  if (o.input.rank() != 4)
    return fail("spp input must have 4 axes (num, channels, height, width), got rank ",
                o.input.rank());
  const Shape &x = *o.input;
  if (x[2] <= 0 || x[3] <= 0)
    return fail("spp input dimensions cannot be zero, got ", fmtShape(x));
  int64_t total = 0;
  for (int64_t l = 0; l < a.pyramid_height; ++l) {
    PoolGeometry g;
    if (Status s = sppLevelGeometry(a, x, l, g); s.failed())
      return fail("spp level ", l, ": ", s.message());
    if (a.pyramid_height == 1)
      return r.add({x[0], x[1], g.oh, g.ow});
    total += x[1] * g.oh * g.ow;
  }
  return r.add({x[0], total});
}

Status infer(const LRNAttrs &a, const LRNOperands &o, Results &r) {
  if (a.local_size <= 0 || a.local_size % 2 != 1)
    return fail("LRN only supports odd positive values for local_size, got ", a.local_size);
  if (o.input && o.input.rank() != 4)
    return fail("lrn input must have 4 axes (num, channels, height, width), got rank ",
                o.input.rank());
  return r.same(o.input);
}

} // namespace dlc::ops

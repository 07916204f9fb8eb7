//===- Pooling.cpp - oneDNN pooling and LRN kernels -----------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Pooling reproduces Caffe's output size (ceil mode with its clip) by giving
// oneDNN an explicit right/bottom padding. Max pooling then matches Caffe
// directly (padding never wins a max). Caffe's average divides by the number
// of window positions inside [-pad, H+pad) - padded positions count, but
// positions beyond the padded input (ceil-mode overhang) do not - while
// oneDNN's avg_include_padding divides by the full kernel area; outputs whose
// window overhangs are rescaled by kh*kw / caffe_count afterwards.
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

#include <cmath>

namespace dlc::rt {
namespace dnnlk {
namespace {

/// Runs a src -> dst primitive, possibly in a blocked layout: the caller's
/// plain NCHW buffers are reordered in and out around it.
class BlockedIO {
public:
  BlockedIO() = default;
  BlockedIO(const dnnl::engine &eng, const dnnl::memory::desc &userSrc,
            const dnnl::memory::desc &userDst, const dnnl::memory::desc &src,
            const dnnl::memory::desc &dst) {
    userSrc_ = handleMem(userSrc, eng);
    userDst_ = handleMem(userDst, eng);
    reorderSrc_ = src != userSrc;
    reorderDst_ = dst != userDst;
    src_ = reorderSrc_ ? dnnl::memory(src, eng) : userSrc_;
    dst_ = reorderDst_ ? dnnl::memory(dst, eng) : userDst_;
    if (reorderSrc_)
      srcR_ = dnnl::reorder(userSrc_, src_);
    if (reorderDst_)
      dstR_ = dnnl::reorder(dst_, userDst_);
  }
  template <typename Exec>
  void run(const float *in, float *out, dnnl::primitive &prim, Exec &&exec) {
    bind(userSrc_, in);
    bind(userDst_, out);
    if (reorderSrc_)
      exec(srcR_, {{DNNL_ARG_FROM, userSrc_}, {DNNL_ARG_TO, src_}});
    exec(prim, {{DNNL_ARG_SRC, src_}, {DNNL_ARG_DST, dst_}});
    if (reorderDst_)
      exec(dstR_, {{DNNL_ARG_FROM, dst_}, {DNNL_ARG_TO, userDst_}});
  }

private:
  bool reorderSrc_ = false, reorderDst_ = false;
  dnnl::memory userSrc_, userDst_, src_, dst_;
  dnnl::reorder srcR_, dstR_;
};

class PoolingKernel : public DnnlKernelBase {
public:
  PoolingKernel(const KernelDesc &desc, DnnlContext &ctx,
                const dnnl::pooling_forward::primitive_desc &pd, int64_t planes,
                int64_t planeSize, std::vector<std::pair<int64_t, float>> fix)
      : DnnlKernelBase(desc, ctx), prim_(pd), planes_(planes), planeSize_(planeSize),
        fix_(std::move(fix)),
        io_(eng_, plainDesc(desc.inputs[0]), plainDesc(desc.outputs[0]), pd.src_desc(),
            pd.dst_desc()) {
    impl_ = implOf(pd);
  }

  void forward(const float *const *in, float *const *out) override {
    io_.run(in[0], out[0], prim_, [this](dnnl::primitive &p, const Args &a) { exec(p, a); });
    wait();
    if (fix_.empty())
      return;
    float *y = out[0];
    for (int64_t p = 0; p < planes_; ++p) {
      float *plane = y + p * planeSize_;
      for (const auto &[idx, f] : fix_)
        plane[idx] *= f;
    }
  }

private:
  dnnl::pooling_forward prim_;
  int64_t planes_, planeSize_;
  std::vector<std::pair<int64_t, float>> fix_; // (offset in an output plane, factor)
  BlockedIO io_;
};

class LrnKernel : public DnnlKernelBase {
public:
  LrnKernel(const KernelDesc &desc, DnnlContext &ctx,
            const dnnl::lrn_forward::primitive_desc &pd)
      : DnnlKernelBase(desc, ctx), prim_(pd),
        io_(eng_, plainDesc(desc.inputs[0]), plainDesc(desc.outputs[0]), pd.src_desc(),
            pd.dst_desc()) {
    impl_ = implOf(pd);
  }
  void forward(const float *const *in, float *const *out) override {
    io_.run(in[0], out[0], prim_, [this](dnnl::primitive &p, const Args &a) { exec(p, a); });
    wait();
  }

private:
  dnnl::lrn_forward prim_;
  BlockedIO io_;
};

} // namespace

PoolGeom poolGeometry(const KernelDesc &desc) {
  checkArity(desc, 1, 1, 1);
  checkNonEmpty(desc);
  const Shape &x = desc.inputs[0];
  if (x.size() != 4)
    throw Unsupported{"only 2-D pooling"};
  std::string pool = desc.attrs.getString("pool", "max");
  if (pool != "max" && pool != "ave" && pool != "stochastic")
    fail(desc, "unknown pool method '" + pool + "'");
  if (pool == "stochastic")
    throw Unsupported{"stochastic pooling"};
  const int64_t H[2] = {x[2], x[3]};
  bool global = desc.attrs.getBool("global_pooling", false);
  std::vector<int64_t> k, s, p;
  if (global) {
    k = {H[0], H[1]};
    s = spatialAttr(desc, "stride", 2, 1);
    p = spatialAttr(desc, "pad", 2, 0);
    if (s != std::vector<int64_t>{1, 1} || p != std::vector<int64_t>{0, 0})
      fail(desc, "global pooling requires stride 1 and pad 0");
  } else {
    k = spatialAttr(desc, "kernel", 2, 0, /*required=*/true);
    s = spatialAttr(desc, "stride", 2, 1);
    p = spatialAttr(desc, "pad", 2, 0);
  }
  for (int i = 0; i < 2; ++i) {
    if (k[i] < 1 || s[i] < 1 || p[i] < 0)
      fail(desc, "kernel and stride must be >= 1 and pad >= 0");
    if (p[i] >= k[i])
      fail(desc, "pad must be smaller than the kernel");
    if (H[i] + 2 * p[i] < k[i])
      fail(desc, "kernel larger than the padded input " + shapeToString(x));
  }
  std::string round = desc.attrs.getString("round_mode", "ceil");
  if (round != "ceil" && round != "floor")
    fail(desc, "unknown round_mode '" + round + "'");
  int64_t O[2];
  for (int i = 0; i < 2; ++i) {
    if (global) {
      O[i] = 1;
    } else if (round == "ceil") {
      O[i] = (H[i] + 2 * p[i] - k[i] + s[i] - 1) / s[i] + 1;
      // Caffe's clip: the last window must start inside the image (+pad).
      if ((p[i] > 0) && (O[i] - 1) * s[i] >= H[i] + p[i])
        --O[i];
    } else {
      O[i] = (H[i] + 2 * p[i] - k[i]) / s[i] + 1;
    }
  }
  checkOutputShape(desc, Shape{x[0], x[1], O[0], O[1]});

  dims padR(2);
  for (int i = 0; i < 2; ++i) {
    // A window starting beyond the input (Caffe without pad, kernel < stride)
    // pools nothing in Caffe; oneDNN cannot express that.
    if ((O[i] - 1) * s[i] - p[i] >= H[i])
      throw Unsupported{"window entirely outside the input"};
    padR[i] = std::max<int64_t>(0, (O[i] - 1) * s[i] + k[i] - H[i] - p[i]);
  }

  std::vector<std::pair<int64_t, float>> fix;
  dnnl::algorithm alg = dnnl::algorithm::pooling_max;
  if (pool == "ave") {
    alg = dnnl::algorithm::pooling_avg_include_padding;
    auto count = [&](int i, int64_t o) {
      int64_t start = o * s[i] - p[i];
      int64_t end = std::min(start + k[i], H[i] + p[i]);
      return end - start;
    };
    for (int64_t oy = 0; oy < O[0]; ++oy)
      for (int64_t ox = 0; ox < O[1]; ++ox) {
        int64_t c = count(0, oy) * count(1, ox);
        if (c != k[0] * k[1])
          fix.emplace_back(oy * O[1] + ox, float(double(k[0] * k[1]) / double(c)));
      }
  }
  PoolGeom g;
  g.alg = alg;
  g.strides = {s[0], s[1]};
  g.kernel = {k[0], k[1]};
  g.padL = {p[0], p[1]};
  g.padR = padR;
  g.planes = x[0] * x[1];
  g.planeSize = O[0] * O[1];
  g.fix = std::move(fix);
  return g;
}

namespace {
/// Caffe's max pooling as direct loops (OpenMP over planes): on plain NCHW
/// buffers it avoids the reorders to and from the channel-blocked layout that
/// oneDNN's JIT pooling needs on AVX2. Same window rule as Caffe and the
/// reference: clipped to the input, strictly greater from -FLT_MAX.
class MaxPoolDirectKernel : public Kernel {
public:
  MaxPoolDirectKernel(const KernelDesc &desc, const PoolGeom &g) : win_(desc, g) {}
  void forward(const float *const *in, float *const *out) override {
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < win_.planes(); ++p) {
      const float *xp = in[0] + p * win_.inPlane();
      float *yp = out[0] + p * win_.outPlane();
      win_.forEachWindow(xp, [&](int64_t o, int64_t arg) { yp[o] = arg < 0 ? -FLT_MAX : xp[arg]; });
    }
  }
  std::string implName() const override { return "direct:max-pool"; }

private:
  MaxPoolWindows win_;
};
} // namespace

std::unique_ptr<Kernel> createPooling(const KernelDesc &desc, DnnlContext &ctx) {
  PoolGeom g = poolGeometry(desc);
  if (g.alg == dnnl::algorithm::pooling_max)
    return std::make_unique<MaxPoolDirectKernel>(desc, g);
  const Shape &x = desc.inputs[0];
  using PoolPD = dnnl::pooling_forward::primitive_desc;
  PoolPD pd = pickLayout<PoolPD>(x, desc.outputs[0], [&](const dnnl::memory::desc &src,
                                                         const dnnl::memory::desc &dst) {
    dnnl::pooling_forward::desc pdsc(dnnl::prop_kind::forward_inference, g.alg, src, dst,
                                     g.strides, g.kernel, g.padL, g.padR);
    return PoolPD(pdsc, ctx.engine);
  });
  return std::make_unique<PoolingKernel>(desc, ctx, pd, g.planes, g.planeSize,
                                         std::move(g.fix));
}

LrnGeom lrnGeometry(const KernelDesc &desc) {
  checkArity(desc, 1, 1, 1);
  checkNonEmpty(desc);
  const Shape &x = desc.inputs[0];
  if (x.size() != 4)
    fail(desc, "LRN needs a 4-D input, got " + shapeToString(x));
  checkOutputShape(desc, x);
  int64_t size = desc.attrs.getInt("local_size", 5);
  if (size < 1 || size % 2 == 0)
    fail(desc, "local_size must be a positive odd number, got " + std::to_string(size));
  double alpha = desc.attrs.getFloat("alpha", 1.0);
  double beta = desc.attrs.getFloat("beta", 0.75);
  double k = desc.attrs.getFloat("k", 1.0);
  std::string region = desc.attrs.getString("norm_region", "across_channels");
  dnnl::algorithm alg;
  if (region == "across_channels") {
    // Caffe: y = x * (k + alpha/n * sum_window x^2)^-beta; oneDNN divides
    // alpha by local_size the same way.
    alg = dnnl::algorithm::lrn_across_channels;
  } else if (region == "within_channel") {
    // Caffe: y = x * (1 + alpha * avgpool_nxn(x^2))^-beta, the average over
    // n*n positions including zero padding (stride 1, pad (n-1)/2, so no
    // window overhangs the padded input); k is not used. oneDNN computes
    // (k + alpha/(n*n) * sum)^-beta: identical with k = 1.
    alg = dnnl::algorithm::lrn_within_channel;
    k = 1.0;
  } else {
    fail(desc, "unknown norm_region '" + region + "'");
  }
  return LrnGeom{alg, size, float(alpha), float(beta), float(k)};
}

std::unique_ptr<Kernel> createLrn(const KernelDesc &desc, DnnlContext &ctx) {
  LrnGeom g = lrnGeometry(desc);
  const Shape &x = desc.inputs[0];
  using LrnPD = dnnl::lrn_forward::primitive_desc;
  LrnPD pd = pickLayout<LrnPD>(x, x, [&](const dnnl::memory::desc &src,
                                         const dnnl::memory::desc &) {
    dnnl::lrn_forward::desc ld(dnnl::prop_kind::forward_inference, g.alg, src, g.size,
                               g.alpha, g.beta, g.k);
    return LrnPD(ld, ctx.engine);
  });
  return std::make_unique<LrnKernel>(desc, ctx, pd);
}

} // namespace dnnlk
} // namespace dlc::rt

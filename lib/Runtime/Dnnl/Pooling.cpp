//===- Pooling.cpp - oneDNN pooling and LRN kernels -----------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Pooling reproduces Caffe's output size (the op library's PoolGeometry:
// ceil mode with its clip) by giving oneDNN an explicit right/bottom
// padding. Max pooling runs as direct loops on the plain NCHW buffers and
// matches Caffe exactly (padding never wins a max). Caffe's average divides
// by the number of window positions inside [-pad, H+pad) - padded positions
// count, but positions beyond the padded input (ceil-mode overhang) do not -
// while oneDNN's avg_include_padding divides by the full kernel area; outputs
// whose window overhangs are rescaled by kh*kw / caffe_count afterwards.
// Stochastic pooling and windows that start beyond the input (no pad,
// kernel < stride) have no oneDNN equivalent: poolWhyNot says so.
// LRN: oneDNN lrn_across_channels / lrn_within_channel.
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"
#include "MaxPool2x2.h"

#include <optional>

namespace dlc::rt {
namespace dnnlk {
namespace {

ops::PoolGeometry libraryGeometry(const KernelDesc &desc, const ops::PoolingAttrs &a) {
  ops::PoolGeometry g;
  check(desc, ops::poolGeometry(a, desc.inputs[0], g));
  return g;
}

/// Number of window positions of output `o` inside [-pad, size + pad).
int64_t caffeCount(int64_t o, int64_t stride, int64_t pad, int64_t kernel, int64_t size) {
  int64_t start = o * stride - pad;
  return std::min(start + kernel, size + pad) - start;
}

} // namespace

std::string poolWhyNot(const KernelDesc &desc) {
  auto a = attrsOf<ops::PoolingAttrs>(desc);
  if (a.pool == "stochastic")
    return "stochastic pooling has no oneDNN primitive";
  ops::PoolGeometry g = libraryGeometry(desc, a);
  // Caffe without pad and kernel < stride: the ceil-mode last window starts
  // beyond the input and pools nothing; oneDNN cannot express that.
  if ((g.oh - 1) * g.sh - g.ph >= g.height || (g.ow - 1) * g.sw - g.pw >= g.width)
    return "a pooling window starts beyond the input (ceil mode, kernel < stride); oneDNN "
           "windows always overlap the input";
  return "";
}

PoolGeom poolGeometry(const KernelDesc &desc) {
  auto a = attrsOf<ops::PoolingAttrs>(desc);
  PoolGeom p;
  p.g = libraryGeometry(desc, a);
  const ops::PoolGeometry &g = p.g;
  p.strides = {g.sh, g.sw};
  p.kernel = {g.kh, g.kw};
  p.padL = {g.ph, g.pw};
  p.padR = {std::max<int64_t>(0, (g.oh - 1) * g.sh + g.kh - g.height - g.ph),
            std::max<int64_t>(0, (g.ow - 1) * g.sw + g.kw - g.width - g.pw)};
  p.alg = dnnl::algorithm::pooling_max;
  if (a.pool == "ave") {
    p.alg = dnnl::algorithm::pooling_avg_include_padding;
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        int64_t c = caffeCount(oy, g.sh, g.ph, g.kh, g.height) *
                    caffeCount(ox, g.sw, g.pw, g.kw, g.width);
        if (c != g.kh * g.kw)
          p.fix.emplace_back(oy * g.ow + ox, float(double(g.kh * g.kw) / double(c)));
      }
  }
  return p;
}

void PoolGeom::rescale(float *y) const {
  const int64_t planes = g.batch * g.channels, plane = g.oh * g.ow;
  for (int64_t p = 0; p < planes; ++p)
    for (const auto &[idx, f] : fix)
      y[p * plane + idx] *= f;
}

dnnl::pooling_forward::desc PoolGeom::forwardDesc(dnnl::prop_kind prop,
                                                  const dnnl::memory::desc &src,
                                                  const dnnl::memory::desc &dst) const {
  return dnnl::pooling_forward::desc(prop, alg, src, dst, strides, kernel, padL, padR);
}

dnnl::pooling_backward::desc PoolGeom::backwardDesc(const dnnl::memory::desc &src,
                                                    const dnnl::memory::desc &dst) const {
  return dnnl::pooling_backward::desc(alg, src, dst, strides, kernel, padL, padR);
}

LrnGeom lrnGeometry(const ops::LRNAttrs &a) {
  LrnGeom g{dnnl::algorithm::lrn_across_channels, a.local_size, float(a.alpha), float(a.beta),
            float(a.k)};
  // across_channels, Caffe: y = x * (k + alpha/n * sum_window x^2)^-beta;
  // oneDNN divides alpha by local_size the same way.
  if (a.norm_region == "within_channel") {
    // Caffe: y = x * (1 + alpha * avgpool_nxn(x^2))^-beta, the average over
    // n*n positions including zero padding (stride 1, pad (n-1)/2, so no
    // window overhangs the padded input); k is not used. oneDNN computes
    // (k + alpha/(n*n) * sum)^-beta: identical with k = 1.
    g.alg = dnnl::algorithm::lrn_within_channel;
    g.k = 1.f;
  }
  return g;
}

dnnl::lrn_forward::desc LrnGeom::forwardDesc(dnnl::prop_kind prop,
                                             const dnnl::memory::desc &src) const {
  return dnnl::lrn_forward::desc(prop, alg, src, size, alpha, beta, k);
}

dnnl::lrn_backward::desc LrnGeom::backwardDesc(const dnnl::memory::desc &src) const {
  return dnnl::lrn_backward::desc(alg, src, src, size, alpha, beta, k);
}

namespace {

/// A src -> dst primitive (average pooling, LRN) on the caller's buffers in
/// their layouts (docs/layouts.md), reordered in and out when it runs in
/// another one; average
/// pooling then rescales the outputs whose window overhangs the padded input.
class SrcDstKernel : public DnnlKernelBase {
public:
  SrcDstKernel(const KernelDesc &desc, DnnlContext &ctx, dnnl::primitive prim,
               const dnnl::primitive_desc_base &pd, std::optional<PoolGeom> pool = {})
      : DnnlKernelBase(desc, ctx), prim_(std::move(prim)), pool_(std::move(pool)),
        x_(eng_, inDesc(desc, 0), pd.src_desc(), true),
        y_(eng_, outDesc(desc, 0), pd.dst_desc(), false) {
    impl_ = implOf(pd);
    if (pool_ && pool_->fix.empty())
      pool_.reset();
  }

  void forward(const float *const *in, float *const *out) override {
    pull(x_, in[0]);
    bindOut(y_, out[0]);
    exec(prim_, {{DNNL_ARG_SRC, x_.mem()}, {DNNL_ARG_DST, y_.mem()}});
    push(y_);
    wait();
    if (pool_)
      pool_->rescale(out[0]);
  }

private:
  dnnl::primitive prim_;
  std::optional<PoolGeom> pool_;
  Port x_, y_;
};

/// Caffe's max pooling as direct loops (OpenMP over planes) on the caller's
/// buffers in their layouts: it avoids the reorders to and from the
/// channel-blocked layout that oneDNN's JIT pooling needs on AVX2 for plain
/// tensors. Same window rule as Caffe and the reference: clipped to the
/// input, strictly greater from -FLT_MAX.
class MaxPoolDirectKernel : public Kernel {
public:
  MaxPoolDirectKernel(const KernelDesc &desc, const PoolGeom &g)
      : win_(g.g, desc.inBlock(0), desc.outBlock(0)), g_(g.g),
        tiles2x2_(!desc.inBlock(0) && !desc.outBlock(0) && maxPool2x2Tiles(g.g)) {}
  void forward(const float *const *in, float *const *out) override {
    if (tiles2x2_)
      return maxPool2x2Forward(g_, in[0], out[0]);
    const int64_t is = win_.inStep(), os = win_.outStep();
    if (is == os && is == 16)
      return forwardBlocked<16>(in[0], out[0]);
    if (is == os && is == 8)
      return forwardBlocked<8>(in[0], out[0]);
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < win_.planes(); ++p) {
      const float *xp = in[0] + win_.inBase(p);
      float *yp = out[0] + win_.outBase(p);
      if (is == 1 && os == 1)
        win_.maxPlain(xp, yp);
      else
        win_.forEachWindow(xp, [&](int64_t o, int64_t arg) {
          yp[o * os] = arg < 0 ? -FLT_MAX : xp[arg * is];
        });
    }
  }
  std::string implName() const override {
    return tiles2x2_ ? "direct:max-pool-2x2" : "direct:max-pool";
  }

private:
  /// One channel block at a time, its B lanes together.
  template <int B>
  void forwardBlocked(const float *x, float *y) {
    const int64_t in = win_.inPlane() * B, on = win_.outPlane() * B;
#pragma omp parallel for schedule(static)
    for (int64_t nb = 0; nb < win_.blocks(B); ++nb) {
      float *yb = y + nb * on;
      win_.forEachWindowBlocked<B>(x + nb * in, [&](int64_t o, const float *best) {
        for (int l = 0; l < B; ++l)
          yb[o * B + l] = best[l];
      });
    }
  }

public:

private:
  MaxPoolWindows win_;
  ops::PoolGeometry g_;
  bool tiles2x2_;
};

std::unique_ptr<Kernel> createPooling(const KernelDesc &desc, DnnlContext &ctx) {
  PoolGeom g = poolGeometry(desc);
  if (g.alg == dnnl::algorithm::pooling_max)
    return std::make_unique<MaxPoolDirectKernel>(desc, g);
  if (!g.fix.empty() && desc.hasBlocked()) // the rescale indexes plain planes
    return plainLayoutKernel(desc, createPooling(plainLayoutDesc(desc), ctx));
  using PD = dnnl::pooling_forward::primitive_desc;
  PD pd = pickLayout<PD>(
      desc.inputs[0], desc.outputs[0],
      [&](const dnnl::memory::desc &src, const dnnl::memory::desc &dst) {
        return PD(g.forwardDesc(dnnl::prop_kind::forward_inference, src, dst), ctx.engine);
      },
      desc.inBlock(0), desc.outBlock(0));
  return std::make_unique<SrcDstKernel>(desc, ctx, dnnl::pooling_forward(pd), pd, g);
}

std::unique_ptr<Kernel> createLrn(const KernelDesc &desc, DnnlContext &ctx) {
  LrnGeom g = lrnGeometry(attrsOf<ops::LRNAttrs>(desc));
  const Shape &x = desc.inputs[0];
  using PD = dnnl::lrn_forward::primitive_desc;
  PD pd = pickLayout<PD>(
      x, x,
      [&](const dnnl::memory::desc &src, const dnnl::memory::desc &) {
        return PD(g.forwardDesc(dnnl::prop_kind::forward_inference, src), ctx.engine);
      },
      desc.inBlock(0), desc.inBlock(0));
  return std::make_unique<SrcDstKernel>(desc, ctx, dnnl::lrn_forward(pd), pd);
}

} // namespace

DLC_REGISTER_KERNELS(DLC_DNNL_LAYOUT_KERNEL("pooling", Forward, createPooling,
                                            whyNot<poolWhyNot>),
                     DLC_DNNL_LAYOUT_KERNEL("lrn", Forward, createLrn, emptyWhyNot));

} // namespace dnnlk
} // namespace dlc::rt

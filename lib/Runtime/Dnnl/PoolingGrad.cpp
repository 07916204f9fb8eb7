//===- PoolingGrad.cpp - oneDNN pooling and LRN backward kernels ----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// pooling_grad, max: oneDNN's pooling_backward needs the forward's
// workspace (the argmax), which a separate backward kernel would have to
// recompute with an extra forward_training pooling plus reorders to a blocked
// layout (5 ms of LeNet's 18 ms gradient). Instead a direct kernel routes each
// dy to the first maximum of its window in Caffe's scan order (what Caffe's
// mask records), reading x in place: one pass over x, OpenMP over planes.
// pooling_grad, ave: oneDNN pooling_backward with the forward's geometry
// (Pooling.cpp: Caffe's output size through padding_r). The forward rescales
// windows that overhang the padded input (Caffe's divisor), so dy is scaled
// by the same factors before oneDNN's avg_include_padding backward.
// Stochastic pooling has no gradient kernel here (poolWhyNot).
// lrn_grad: oneDNN lrn_backward; like max pooling it needs the workspace of a
// forward_training LRN, which the kernel re-runs on x (one extra forward).
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"
#include "MaxPool2x2.h"

#include <cstring>

namespace dlc::rt {
namespace dnnlk {
namespace {

/// A forward_training primitive descriptor and the backward one it hints.
template <typename Fwd, typename Bwd>
using PdPair = std::pair<typename Fwd::primitive_desc, typename Bwd::primitive_desc>;

/// pickLayout for a (forward hint, backward) pair, judged by the backward.
template <typename Fwd, typename Bwd, typename Make>
PdPair<Fwd, Bwd> pickGradLayout(const Shape &x, const Shape &y, Make &&make, int xBlock,
                                int yBlock) {
  return pickLayout<PdPair<Fwd, Bwd>>(
      x, y, make, [](const PdPair<Fwd, Bwd> &p) { return isJit(p.second); }, xBlock, yBlock);
}

/// Max pooling backward without a workspace: operands x, y, dy; output dx.
class MaxPoolGradKernel : public Kernel {
public:
  /// x and dx share a layout, and dy y's (docs/layouts.md).
  MaxPoolGradKernel(const KernelDesc &desc, const GradDesc &gd, const PoolGeom &g)
      : dyIdx_(gd.gradIn()), win_(g.g, desc.inBlock(0), desc.inBlock(gd.gradIn())), g_(g.g),
        tiles2x2_(!desc.inBlock(0) && !desc.inBlock(gd.gradIn()) && maxPool2x2Tiles(g.g)) {
    if (desc.outBlock(0) != desc.inBlock(0) || desc.inBlock(gd.resultIn()) != desc.inBlock(dyIdx_))
      throw NotApplicable{"the direct max-pooling backward needs dx in x's layout and dy in y's"};
  }

  void forward(const float *const *in, float *const *out) override {
    if (tiles2x2_)
      return maxPool2x2Backward(g_, in[0], in[dyIdx_], out[0]);
    const int64_t is = win_.inStep(), os = win_.outStep(), n = win_.inPlane();
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < win_.planes(); ++p) {
      const float *xp = in[0] + win_.inBase(p);
      const float *dyp = in[dyIdx_] + win_.outBase(p);
      float *dxp = out[0] + win_.inBase(p);
      for (int64_t i = 0; i < n; ++i)
        dxp[i * is] = 0.0f;
      win_.forEachWindow(xp, [&](int64_t o, int64_t arg) {
        if (arg >= 0)
          dxp[arg * is] += dyp[o * os];
      });
    }
  }
  std::string implName() const override {
    return tiles2x2_ ? "direct:max-pool-2x2-bwd" : "direct:max-pool-bwd";
  }

private:
  size_t dyIdx_;
  MaxPoolWindows win_;
  ops::PoolGeometry g_;
  bool tiles2x2_;
};

/// Average pooling backward: operands x, y, dy; output dx.
class AvePoolGradKernel : public DnnlKernelBase {
public:
  AvePoolGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                    const PoolGeom &g)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIn()), g_(g) {
    const Shape &x = gd.fwd.inputs[0], &y = gd.fwd.outputs[0];
    using F = dnnl::pooling_forward;
    using B = dnnl::pooling_backward;
    auto pds = pickGradLayout<F, B>(
        x, y,
        [&](const dnnl::memory::desc &src, const dnnl::memory::desc &dst) {
          F::primitive_desc f(g.forwardDesc(dnnl::prop_kind::forward_training, src, dst), eng_);
          return std::make_pair(f, B::primitive_desc(g.backwardDesc(src, dst), eng_, f));
        },
        desc.outBlock(0), desc.inBlock(dyIdx_));
    bwd_ = B(pds.second);
    impl_ = implOf(pds.second);
    dy_ = Port(eng_, inDesc(desc, dyIdx_), pds.second.diff_dst_desc(), true);
    dx_ = Port(eng_, outDesc(desc, 0), pds.second.diff_src_desc(), false);
    if (!g_.fix.empty())
      dyScaled_.resize(size_t(numElements(y)));
  }

  void forward(const float *const *in, float *const *out) override {
    const float *dy = in[dyIdx_];
    if (!g_.fix.empty()) {
      // The forward multiplied these outputs by f: d(oneDNN's output) = f*dy.
      std::memcpy(dyScaled_.data(), dy, dyScaled_.size() * sizeof(float));
      g_.rescale(dyScaled_.data());
      dy = dyScaled_.data();
    }
    pull(dy_, dy);
    bindOut(dx_, out[0]);
    exec(bwd_, {{DNNL_ARG_DIFF_DST, dy_.mem()}, {DNNL_ARG_DIFF_SRC, dx_.mem()}});
    push(dx_);
    wait();
  }

private:
  size_t dyIdx_;
  PoolGeom g_;
  std::vector<float> dyScaled_;
  dnnl::pooling_backward bwd_;
  Port dy_, dx_;
};

/// Operands x, y, dy; output dx. oneDNN's backward needs the workspace of a
/// forward_training LRN, re-run on x.
class LrnGradKernel : public DnnlKernelBase {
public:
  LrnGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd, const LrnGeom &g)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIn()) {
    const Shape &x = gd.fwd.inputs[0];
    using F = dnnl::lrn_forward;
    using B = dnnl::lrn_backward;
    auto [fpd, bpd] = pickGradLayout<F, B>(
        x, x,
        [&](const dnnl::memory::desc &src, const dnnl::memory::desc &) {
          F::primitive_desc f(g.forwardDesc(dnnl::prop_kind::forward_training, src), eng_);
          return std::make_pair(f, B::primitive_desc(g.backwardDesc(src), eng_, f));
        },
        desc.inBlock(0), desc.inBlock(0));
    fwd_ = F(fpd);
    bwd_ = B(bpd);
    impl_ = implOf(fpd) + "+" + implOf(bpd);
    x_ = Port(eng_, inDesc(desc, 0), fpd.src_desc(), true);
    yScratch_ = dnnl::memory(fpd.dst_desc(), eng_);
    ws_ = dnnl::memory(fpd.workspace_desc(), eng_);
    dy_ = Port(eng_, inDesc(desc, dyIdx_), bpd.diff_dst_desc(), true);
    dx_ = Port(eng_, outDesc(desc, 0), bpd.diff_src_desc(), false);
  }

  void forward(const float *const *in, float *const *out) override {
    pull(x_, in[0]);
    exec(fwd_, {{DNNL_ARG_SRC, x_.mem()}, {DNNL_ARG_DST, yScratch_}, {DNNL_ARG_WORKSPACE, ws_}});
    pull(dy_, in[dyIdx_]);
    bindOut(dx_, out[0]);
    exec(bwd_, {{DNNL_ARG_SRC, x_.mem()},
                {DNNL_ARG_DIFF_DST, dy_.mem()},
                {DNNL_ARG_WORKSPACE, ws_},
                {DNNL_ARG_DIFF_SRC, dx_.mem()}});
    push(dx_);
    wait();
  }

private:
  size_t dyIdx_;
  dnnl::lrn_forward fwd_;
  dnnl::lrn_backward bwd_;
  Port x_, dy_, dx_;
  dnnl::memory yScratch_, ws_;
};

std::unique_ptr<Kernel> createPoolingGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  PoolGeom g = poolGeometry(gd.fwd);
  const bool mixed = desc.outBlock(0) != desc.inBlock(0) ||
                     desc.inBlock(gd.resultIn()) != desc.inBlock(gd.gradIn());
  // The direct max kernel, and the ave rescale of dy, index plain planes /
  // one layout per pair: otherwise plain copies (docs/layouts.md).
  if (desc.hasBlocked() && (mixed || (g.alg != dnnl::algorithm::pooling_max && !g.fix.empty())))
    return plainLayoutKernel(desc, createPoolingGrad(plainLayoutDesc(desc), ctx));
  if (g.alg == dnnl::algorithm::pooling_max)
    return std::make_unique<MaxPoolGradKernel>(desc, gd, g);
  return std::make_unique<AvePoolGradKernel>(desc, ctx, gd, g);
}

std::unique_ptr<Kernel> createLrnGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  return std::make_unique<LrnGradKernel>(desc, ctx, gd,
                                         lrnGeometry(attrsOf<ops::LRNAttrs>(gd.fwd)));
}

} // namespace

DLC_REGISTER_KERNELS(DLC_DNNL_LAYOUT_KERNEL("pooling", Backward, createPoolingGrad,
                                            whyNot<poolWhyNot>),
                     DLC_DNNL_LAYOUT_KERNEL("lrn", Backward, createLrnGrad, emptyWhyNot));

} // namespace dnnlk
} // namespace dlc::rt

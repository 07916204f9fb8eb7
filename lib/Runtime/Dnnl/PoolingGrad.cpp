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
// (Caffe's output size through padding_r).
// Average pooling: the forward rescales windows that overhang the padded
// input (Caffe's divisor), so dy is scaled by the same factors before
// oneDNN's avg_include_padding backward.
// lrn_grad: oneDNN lrn_backward; like max pooling it needs the workspace of a
// forward_training LRN, which the kernel re-runs on x (one extra forward).
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

#include <cstring>

namespace dlc::rt {
namespace dnnlk {
namespace {

bool isJit(const dnnl::primitive_desc_base &pd) {
  return std::string(pd.impl_info_str()).find("jit") != std::string::npos;
}

/// Picks the layout of a (forward hint, backward) pair as pickLayout does for
/// forward primitives, judging by the backward primitive: plain NCHW when its
/// backward is JIT, else nChw16c / nChw8c, else plain.
template <typename FPD, typename BPD, typename Make>
std::pair<FPD, BPD> pickGradLayout(const Shape &x, const Shape &y, Make &&make) {
  std::pair<FPD, BPD> plain = make(plainDesc(x), plainDesc(y));
  if (isJit(plain.second))
    return plain;
  dims xd(x.begin(), x.end()), yd(y.begin(), y.end());
  for (tag t : {tag::nChw16c, tag::nChw8c}) {
    try {
      auto p = make(dnnl::memory::desc(xd, dt::f32, t), dnnl::memory::desc(yd, dt::f32, t));
      if (isJit(p.second))
        return p;
    } catch (const dnnl::error &e) {
      if (e.status != dnnl_unimplemented)
        throw;
    }
  }
  return plain;
}

/// Max pooling backward without a workspace: operands x, y, dy; output dx.
class MaxPoolGradKernel : public Kernel {
public:
  MaxPoolGradKernel(const GradDesc &gd, const PoolGeom &g)
      : dyIdx_(gd.gradIdx()), win_(gd.fwd, g) {}

  void forward(const float *const *in, float *const *out) override {
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < win_.planes(); ++p) {
      const float *xp = in[0] + p * win_.inPlane();
      const float *dyp = in[dyIdx_] + p * win_.outPlane();
      float *dxp = out[0] + p * win_.inPlane();
      std::fill(dxp, dxp + win_.inPlane(), 0.0f);
      win_.forEachWindow(xp, [&](int64_t o, int64_t arg) {
        if (arg >= 0)
          dxp[arg] += dyp[o];
      });
    }
  }
  std::string implName() const override { return "direct:max-pool-bwd"; }

private:
  size_t dyIdx_;
  MaxPoolWindows win_;
};

/// Operands x, y, dy; output dx.
class PoolingGradKernel : public DnnlKernelBase {
public:
  PoolingGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                    const PoolGeom &g)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIdx()), max_(g.alg == dnnl::algorithm::pooling_max),
        planes_(g.planes), planeSize_(g.planeSize), fix_(g.fix) {
    const Shape &x = gd.fwd.inputs[0], &y = gd.fwd.outputs[0];
    using FPD = dnnl::pooling_forward::primitive_desc;
    using BPD = dnnl::pooling_backward::primitive_desc;
    auto [fpd, bpd] = pickGradLayout<FPD, BPD>(
        x, y, [&](const dnnl::memory::desc &src, const dnnl::memory::desc &dst) {
          FPD f(dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, g.alg, src, dst,
                                            g.strides, g.kernel, g.padL, g.padR),
                eng_);
          BPD b(dnnl::pooling_backward::desc(g.alg, src, dst, g.strides, g.kernel, g.padL,
                                             g.padR),
                eng_, f);
          return std::make_pair(f, b);
        });
    bwd_ = dnnl::pooling_backward(bpd);
    impl_ = implOf(bpd);
    if (max_) {
      fwd_ = dnnl::pooling_forward(fpd);
      impl_ = implOf(fpd) + "+" + impl_;
      x_ = Port(eng_, plainDesc(x), fpd.src_desc(), true);
      yScratch_ = dnnl::memory(fpd.dst_desc(), eng_);
      ws_ = dnnl::memory(fpd.workspace_desc(), eng_);
    }
    dy_ = Port(eng_, plainDesc(y), bpd.diff_dst_desc(), true);
    dx_ = Port(eng_, plainDesc(x), bpd.diff_src_desc(), false);
    if (!fix_.empty())
      dyScaled_.resize(size_t(numElements(y)));
  }

  void forward(const float *const *in, float *const *out) override {
    if (max_) {
      pull(x_, in[0]);
      exec(fwd_, {{DNNL_ARG_SRC, x_.mem()}, {DNNL_ARG_DST, yScratch_}, {DNNL_ARG_WORKSPACE, ws_}});
    }
    const float *dy = in[dyIdx_];
    if (!fix_.empty()) {
      // The forward multiplied these outputs by f: d(oneDNN's output) = f*dy.
      std::memcpy(dyScaled_.data(), dy, dyScaled_.size() * sizeof(float));
      for (int64_t p = 0; p < planes_; ++p) {
        float *plane = dyScaled_.data() + p * planeSize_;
        for (const auto &[idx, f] : fix_)
          plane[idx] *= f;
      }
      dy = dyScaled_.data();
    }
    pull(dy_, dy);
    bindOut(dx_, out[0]);
    Args args{{DNNL_ARG_DIFF_DST, dy_.mem()}, {DNNL_ARG_DIFF_SRC, dx_.mem()}};
    if (max_)
      args[DNNL_ARG_WORKSPACE] = ws_;
    exec(bwd_, args);
    push(dx_);
    wait();
  }

private:
  size_t dyIdx_;
  bool max_;
  int64_t planes_, planeSize_;
  std::vector<std::pair<int64_t, float>> fix_;
  std::vector<float> dyScaled_;
  dnnl::pooling_forward fwd_;
  dnnl::pooling_backward bwd_;
  Port x_, dy_, dx_;
  dnnl::memory yScratch_, ws_;
};

/// Operands x, y, dy; output dx.
class LrnGradKernel : public DnnlKernelBase {
public:
  LrnGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd, const LrnGeom &g)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIdx()) {
    const Shape &x = gd.fwd.inputs[0];
    using FPD = dnnl::lrn_forward::primitive_desc;
    using BPD = dnnl::lrn_backward::primitive_desc;
    auto [fpd, bpd] = pickGradLayout<FPD, BPD>(
        x, x, [&](const dnnl::memory::desc &src, const dnnl::memory::desc &) {
          FPD f(dnnl::lrn_forward::desc(dnnl::prop_kind::forward_training, g.alg, src, g.size,
                                        g.alpha, g.beta, g.k),
                eng_);
          BPD b(dnnl::lrn_backward::desc(g.alg, src, src, g.size, g.alpha, g.beta, g.k), eng_,
                f);
          return std::make_pair(f, b);
        });
    fwd_ = dnnl::lrn_forward(fpd);
    bwd_ = dnnl::lrn_backward(bpd);
    impl_ = implOf(fpd) + "+" + implOf(bpd);
    x_ = Port(eng_, plainDesc(x), fpd.src_desc(), true);
    yScratch_ = dnnl::memory(fpd.dst_desc(), eng_);
    ws_ = dnnl::memory(fpd.workspace_desc(), eng_);
    dy_ = Port(eng_, plainDesc(x), bpd.diff_dst_desc(), true);
    dx_ = Port(eng_, plainDesc(x), bpd.diff_src_desc(), false);
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

} // namespace

std::unique_ptr<Kernel> createPoolingGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = parseGrad(desc);
  PoolGeom g = poolGeometry(gd.fwd);
  if (g.alg == dnnl::algorithm::pooling_max)
    return std::make_unique<MaxPoolGradKernel>(gd, g);
  return std::make_unique<PoolingGradKernel>(desc, ctx, gd, g);
}

std::unique_ptr<Kernel> createLrnGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = parseGrad(desc);
  LrnGeom g = lrnGeometry(gd.fwd);
  return std::make_unique<LrnGradKernel>(desc, ctx, gd, g);
}

} // namespace dnnlk
} // namespace dlc::rt

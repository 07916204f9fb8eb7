//===- Structure.cpp - oneDNN concat --------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// concat: oneDNN concat along the op library's canonical axis. Backward:
// each wanted dx_i is a reorder of its sub-block of dy.
// reorder: a oneDNN reorder between storage layouts (docs/layouts.md).
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

namespace dlc::rt {
namespace dnnlk {
namespace {

/// The canonical concat axis of a validated description.
int64_t concatAxis(const KernelDesc &fwd) {
  return axisSplit(fwd, attrsOf<ops::ConcatAttrs>(fwd).axis).axis;
}

/// Operands x_0..x_{n-1}, y, dy; dx_i = dy's block of x_i along the axis.
class ConcatGradKernel : public DnnlKernelBase {
public:
  ConcatGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIn()) {
    const size_t axis = size_t(concatAxis(gd.fwd));
    const Shape &y = gd.fwd.outputs[0];
    auto ymd = plainDesc(y);
    std::vector<int64_t> offsets(gd.numOperands, 0);
    for (size_t i = 1; i < gd.numOperands; ++i)
      offsets[i] = offsets[i - 1] + gd.fwd.inputs[i - 1][axis];
    for (int64_t i : gd.wrt) {
      const Shape &xs = gd.fwd.inputs[size_t(i)];
      dims sub(xs.begin(), xs.end()), off(y.size(), 0);
      off[axis] = offsets[size_t(i)];
      auto smd = ymd.submemory_desc(sub, off);
      auto xmd = plainDesc(xs);
      srcs_.push_back(handleMem(smd, eng_));
      dsts_.push_back(handleMem(xmd, eng_));
      dnnl::reorder::primitive_desc pd(eng_, smd, eng_, xmd);
      prims_.emplace_back(pd);
      if (impl_.empty())
        impl_ = implOf(pd);
    }
  }

  void forward(const float *const *in, float *const *out) override {
    for (size_t k = 0; k < prims_.size(); ++k) {
      bind(srcs_[k], in[dyIdx_]);
      bind(dsts_[k], out[k]);
      exec(prims_[k], {{DNNL_ARG_FROM, srcs_[k]}, {DNNL_ARG_TO, dsts_[k]}});
    }
    wait();
  }

private:
  size_t dyIdx_;
  std::vector<dnnl::reorder> prims_;
  std::vector<dnnl::memory> srcs_, dsts_;
};

std::unique_ptr<Kernel> createConcat(const KernelDesc &desc, DnnlContext &ctx) {
  std::vector<dnnl::memory::desc> mds;
  for (const Shape &s : desc.inputs)
    mds.push_back(plainDesc(s));
  auto dmd = plainDesc(desc.outputs[0]);
  dnnl::concat::primitive_desc pd(dmd, int(concatAxis(desc)), mds, ctx.engine);
  return std::make_unique<MultiSrcKernel>(desc, ctx, dnnl::concat(pd), pd, mds, dmd,
                                          /*inPlace=*/false);
}

/// reorder (docs/layouts.md): a oneDNN reorder between the layouts.
class ReorderKernel : public DnnlKernelBase {
public:
  ReorderKernel(const KernelDesc &desc, DnnlContext &ctx)
      : DnnlKernelBase(desc, ctx), src_(handleMem(layoutDesc(desc.inputs[0], desc.inBlock(0)), eng_)),
        dst_(handleMem(layoutDesc(desc.outputs[0], desc.outBlock(0)), eng_)) {
    dnnl::reorder::primitive_desc pd(eng_, src_.get_desc(), eng_, dst_.get_desc());
    prim_ = dnnl::reorder(pd);
    impl_ = implOf(pd);
  }
  void forward(const float *const *in, float *const *out) override {
    bind(src_, in[0]);
    bind(dst_, out[0]);
    exec(prim_, {{DNNL_ARG_FROM, src_}, {DNNL_ARG_TO, dst_}});
    wait();
  }

private:
  dnnl::memory src_, dst_;
  dnnl::reorder prim_;
};

std::unique_ptr<Kernel> createReorder(const KernelDesc &desc, DnnlContext &ctx) {
  return std::make_unique<ReorderKernel>(desc, ctx);
}

std::unique_ptr<Kernel> createConcatGrad(const KernelDesc &desc, DnnlContext &ctx) {
  return std::make_unique<ConcatGradKernel>(desc, ctx, gradDesc(desc));
}

} // namespace

DLC_REGISTER_KERNELS(DLC_DNNL_KERNEL("concat", Forward, createConcat, emptyWhyNot),
                     DLC_DNNL_KERNEL("concat", Backward, createConcatGrad, emptyWhyNot),
                     DLC_DNNL_LAYOUT_KERNEL("reorder", Forward, createReorder, emptyWhyNot));

} // namespace dnnlk
} // namespace dlc::rt

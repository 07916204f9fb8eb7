//===- FusedNorm.cpp - BatchNorm + Scale (+ ReLU) as one oneDNN kernel ----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Fused kernels of a BatchNorm with global statistics, a per-channel Scale
// and an optional ReLU (docs/fusion.md, "Gradient modules"):
//
//   forward:  one oneDNN batch normalization with scale and shift (Caffe's
//             mean / variance blobs divided by the scale factor, the Scale's
//             gamma and beta) and fused ReLU;
//   backward: the fused backward body (the BatchNorm and Scale recomputed,
//             then the ReLU, Scale and BatchNorm backward ops) as the ReLU
//             backward from the result (eltwise_relu_use_dst_for_bwd) and one
//             oneDNN batch normalization backward, which gives dx =
//             g * gamma / sqrt(var + eps), dgamma = sum(g * xhat) and
//             dbeta = sum(g): exactly Caffe's three backward layers.
//
// Both read and write their data in the caller's layouts.
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

namespace dlc::rt {
namespace dnnlk {
namespace {

/// The steps of a BatchNorm + Scale (+ ReLU) body, forward or backward.
struct NormPlan {
  bool backward = false;
  int bn = -1, scale = -1, relu = -1;      ///< forward steps
  int reluGrad = -1, bnGrad = -1;          ///< backward steps
  std::vector<int> scaleGrads;             ///< scale_grad steps
  /// Kernel inputs: x, mean, variance, factor, gamma, beta (-1: none), and
  /// for the backward the chain's result y and the incoming gradient dy.
  int x = -1, mean = -1, var = -1, factor = -1, gamma = -1, beta = -1, y = -1, dy = -1;
  /// Kernel output index of dx, dgamma, dbeta (-1: not an output).
  int outDx = -1, outDgamma = -1, outDbeta = -1;
  float eps = 0;
  std::string why;
};

/// The kernel output that is value v, or -1.
int outputOf(const KernelDesc &desc, int v) {
  for (size_t o = 0; o < desc.results.size(); ++o)
    if (desc.results[o] == v)
      return int(o);
  return -1;
}

NormPlan normPlan(const KernelDesc &desc) {
  NormPlan p;
  auto no = [&](std::string why) {
    p.why = std::move(why);
    return p;
  };
  const int numIn = int(desc.inputs.size());
  auto isInput = [&](int v) { return v >= 0 && v < numIn; };
  // Value index of step s's output k.
  std::vector<int> first(desc.body.size());
  for (size_t s = 0, v = size_t(numIn); s < desc.body.size(); ++s) {
    first[s] = int(v);
    v += desc.body[s].desc.outputs.size();
  }
  for (size_t s = 0; s < desc.body.size(); ++s) {
    const KernelDesc &d = desc.body[s].desc;
    const std::vector<int> &a = desc.body[s].args;
    const std::string op = d.forwardOp();
    if (!d.requestedImpl().empty() && d.requestedImpl() != "auto")
      return no("a layer asks for the '" + d.requestedImpl() + "' implementation");
    if (!d.isGradient()) {
      if (op == "batch_norm" && p.bn < 0 && s == 0) {
        if (!attrsOf<ops::BatchNormAttrs>(d).use_global_stats)
          return no("BatchNorm with batch statistics");
        if (d.inputs[0].size() < 2 || !std::all_of(a.begin(), a.end(), isInput))
          return no("the BatchNorm must read the kernel's inputs");
        p.bn = int(s), p.x = a[0], p.mean = a[1], p.var = a[2], p.factor = a[3];
        p.eps = float(attrsOf<ops::BatchNormAttrs>(d).eps);
      } else if (op == "scale" && p.bn >= 0 && p.scale < 0 && a[0] == first[size_t(p.bn)]) {
        auto sa = attrsOf<ops::ScaleAttrs>(d);
        const int64_t c = d.inputs[0][1];
        if (sa.axis != 1 || d.inputs[1] != Shape{c} || !isInput(a[1]) ||
            (a.size() > 2 && !isInput(a[2])))
          return no("only a per-channel Scale of the BatchNorm's channels");
        p.scale = int(s), p.gamma = a[1], p.beta = a.size() > 2 ? a[2] : -1;
      } else if (op == "relu" && p.scale >= 0 && p.relu < 0 && a[0] == first[size_t(p.scale)]) {
        if (attrsOf<ops::ReLUAttrs>(d).negative_slope != 0.0)
          return no("a leaky ReLU does not fuse into the batch normalization");
        p.relu = int(s);
      } else {
        return no("no oneDNN batch-normalization fusion with " + op + " at step " +
                  std::to_string(s));
      }
      continue;
    }
    p.backward = true;
    GradDesc gd = gradDesc(d);
    if (op == "relu" && p.reluGrad < 0) {
      if (attrsOf<ops::ReLUAttrs>(gd.fwd).negative_slope != 0.0)
        return no("a leaky ReLU backward");
      if (!isInput(a[1]) || !isInput(a[2]))
        return no("the ReLU backward must read the kernel's result and gradient inputs");
      p.reluGrad = int(s), p.y = a[1], p.dy = a[2];
    } else if (op == "scale" && p.bn >= 0) {
      if (a[0] != first[size_t(p.bn)])
        return no("the Scale backward must read the recomputed BatchNorm");
      const int64_t c = gd.fwd.inputs[0][1];
      if (attrsOf<ops::ScaleAttrs>(gd.fwd).axis != 1 || gd.fwd.inputs[1] != Shape{c} ||
          !isInput(a[1]) || (gd.numOperands > 2 && !isInput(a[2])))
        return no("only a per-channel Scale of the BatchNorm's channels");
      const int beta = gd.numOperands > 2 ? a[2] : -1;
      if (p.scale >= 0 ? (a[1] != p.gamma || beta != p.beta)
                       : (!p.scaleGrads.empty() && (a[1] != p.gamma || beta != p.beta)))
        return no("the Scale backward steps read other parameters");
      p.gamma = a[1], p.beta = beta; // (not recomputed without a ReLU)
      p.scaleGrads.push_back(int(s));
    } else if (op == "batch_norm" && p.bnGrad < 0 && p.bn >= 0) {
      p.bnGrad = int(s);
    } else {
      return no("no oneDNN batch-normalization fusion with " + d.op);
    }
  }
  if (p.bn < 0 || (p.scale < 0 && p.scaleGrads.empty()))
    return no("no BatchNorm followed by a Scale");
  if (!p.backward) {
    const int last = p.relu >= 0 ? p.relu : p.scale;
    if (desc.results.size() != 1 || desc.results[0] != first[size_t(last)])
      return no("the output is not the end of the chain");
    return p;
  }
  // Backward: the recomputed ReLU forward is not needed (its result is y).
  if (p.relu >= 0 || p.scaleGrads.empty())
    return no("not a BatchNorm + Scale (+ ReLU) backward body");
  // The gradient reaching the Scale: the ReLU backward's, or an input.
  const int g = p.reluGrad >= 0 ? first[size_t(p.reluGrad)] : -1;
  for (int s : p.scaleGrads) {
    const auto &a = desc.body[size_t(s)].args;
    GradDesc gd = gradDesc(desc.body[size_t(s)].desc);
    int sy = a[gd.resultIn()], sdy = a[gd.gradIn()];
    if (p.reluGrad >= 0 ? sdy != g : !isInput(sdy) || !isInput(sy))
      return no("the Scale backward must read the ReLU backward's gradient");
    if (p.reluGrad < 0) {
      if (p.dy >= 0 && (p.dy != sdy || p.y != sy))
        return no("the Scale backward steps read different gradients");
      p.dy = sdy, p.y = sy;
    }
    for (size_t k = 0; k < gd.wrt.size(); ++k) {
      const int v = first[size_t(s)] + int(k), o = outputOf(desc, v);
      if (gd.wrt[k] == 0) {
        if (p.bnGrad < 0)
          return no("the Scale's data gradient is not taken through the BatchNorm");
        if (o >= 0)
          return no("the Scale's data gradient is an output");
        const auto &b = desc.body[size_t(p.bnGrad)].args;
        if (b.back() != v || b[0] != p.x)
          return no("the BatchNorm backward does not continue the Scale's");
      } else {
        (gd.wrt[k] == 1 ? p.outDgamma : p.outDbeta) = o;
      }
    }
  }
  if (p.bnGrad >= 0)
    p.outDx = outputOf(desc, first[size_t(p.bnGrad)]);
  if (p.reluGrad >= 0 && outputOf(desc, first[size_t(p.reluGrad)]) >= 0)
    return no("the ReLU's gradient is an output");
  size_t named = (p.outDx >= 0) + (p.outDgamma >= 0) + (p.outDbeta >= 0);
  if (named != desc.results.size())
    return no("an output that is not dx, dgamma or dbeta");
  return p;
}

/// Caffe's statistics (blob / factor) and the Scale's gamma and beta in
/// oneDNN's mean, variance, scale and shift memories.
class NormParams {
public:
  NormParams(const dnnl::batch_normalization_forward::primitive_desc &pd, const NormPlan &p,
             const KernelDesc &desc, const dnnl::engine &eng, int64_t c)
      : c_(c), plan_(p), mean_(pd.mean_desc(), eng), var_(pd.variance_desc(), eng),
        scale_(dnnl::memory::desc({c}, dt::f32, tag::x), eng),
        shift_(dnnl::memory::desc({c}, dt::f32, tag::x), eng) {
    cache_ = true;
    for (int i : {p.mean, p.var, p.factor, p.gamma, p.beta})
      cache_ = cache_ && (i < 0 || desc.param(size_t(i)));
  }
  void prepare(const float *const *in) {
    if (valid_)
      return;
    const float sf = in[plan_.factor][0], f = sf == 0.f ? 0.f : 1.f / sf;
    auto *m = static_cast<float *>(mean_.get_data_handle());
    auto *v = static_cast<float *>(var_.get_data_handle());
    auto *s = static_cast<float *>(scale_.get_data_handle());
    auto *t = static_cast<float *>(shift_.get_data_handle());
    for (int64_t i = 0; i < c_; ++i) {
      m[i] = in[plan_.mean][i] * f;
      v[i] = in[plan_.var][i] * f;
      s[i] = in[plan_.gamma][i];
      t[i] = plan_.beta >= 0 ? in[plan_.beta][i] : 0.f;
    }
    valid_ = cache_;
  }
  void invalidate() { valid_ = false; }
  Args args() const {
    return {{DNNL_ARG_MEAN, mean_},
            {DNNL_ARG_VARIANCE, var_},
            {DNNL_ARG_SCALE, scale_},
            {DNNL_ARG_SHIFT, shift_}};
  }

private:
  int64_t c_;
  NormPlan plan_;
  bool cache_ = false, valid_ = false;
  dnnl::memory mean_, var_, scale_, shift_;
};

const auto kFlags = dnnl::normalization_flags::use_global_stats |
                        dnnl::normalization_flags::use_scale |
                        dnnl::normalization_flags::use_shift;

/// The forward primitive descriptor on x's shape, in x's layout when
/// oneDNN has a JIT kernel for it (pickLayout).
dnnl::batch_normalization_forward::primitive_desc
normForward(const Shape &x, int block, float eps, dnnl::normalization_flags flags,
            dnnl::prop_kind prop, const dnnl::engine &eng) {
  using PD = dnnl::batch_normalization_forward::primitive_desc;
  return pickLayout<PD>(
      x, x,
      [&](const dnnl::memory::desc &src, const dnnl::memory::desc &) {
        return PD(dnnl::batch_normalization_forward::desc(prop, src, eps, flags), eng);
      },
      block, block);
}

class FusedNormKernel : public DnnlKernelBase {
public:
  FusedNormKernel(const KernelDesc &desc, DnnlContext &ctx, const NormPlan &p)
      : DnnlKernelBase(desc, ctx), p_(p),
        pd_(normForward(desc.inputs[size_t(p.x)], desc.inBlock(size_t(p.x)), p.eps,
                        p.relu >= 0 ? kFlags | dnnl::normalization_flags::fuse_norm_relu
                                    : kFlags,
                        dnnl::prop_kind::forward_inference, eng_)),
        params_(pd_, p, desc, eng_, desc.inputs[size_t(p.x)][1]), prim_(pd_) {
    impl_ = "fused:" + implOf(pd_);
    src_ = Port(eng_, inDesc(desc, size_t(p.x)), pd_.src_desc(), true);
    dst_ = Port(eng_, outDesc(desc, 0), pd_.dst_desc(), false);
  }
  void forward(const float *const *in, float *const *out) override {
    params_.prepare(in);
    pull(src_, in[p_.x]);
    bindOut(dst_, out[0]);
    Args a = params_.args();
    a[DNNL_ARG_SRC] = src_.mem();
    a[DNNL_ARG_DST] = dst_.mem();
    exec(prim_, a);
    push(dst_);
    wait();
  }
  bool supportsInPlace() const override { return p_.x == 0; }
  void paramsChanged() override { params_.invalidate(); }

private:
  NormPlan p_;
  dnnl::batch_normalization_forward::primitive_desc pd_;
  NormParams params_;
  dnnl::batch_normalization_forward prim_;
  Port src_, dst_;
};

class FusedNormGradKernel : public DnnlKernelBase {
public:
  FusedNormGradKernel(const KernelDesc &desc, DnnlContext &ctx, const NormPlan &p)
      : DnnlKernelBase(desc, ctx), p_(p),
        fpd_(normForward(desc.inputs[size_t(p.x)], desc.inBlock(size_t(p.x)), p.eps, kFlags,
                         dnnl::prop_kind::forward_training, eng_)),
        params_(fpd_, p, desc, eng_, desc.inputs[size_t(p.x)][1]) {
    const dnnl::memory::desc md = fpd_.src_desc();
    const int64_t c = desc.inputs[size_t(p.x)][1];
    dnnl::batch_normalization_backward::primitive_desc bpd(
        dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, md, md, p.eps,
                                                 kFlags),
        eng_, fpd_);
    bwd_ = dnnl::batch_normalization_backward(bpd);
    impl_ = "fused:" + implOf(bpd);
    x_ = Port(eng_, inDesc(desc, size_t(p.x)), md, true);
    dy_ = Port(eng_, inDesc(desc, size_t(p.dy)), md, true);
    if (p.reluGrad >= 0) {
      using F = dnnl::eltwise_forward;
      using B = dnnl::eltwise_backward;
      F::primitive_desc rf(F::desc(dnnl::prop_kind::forward_training,
                                   dnnl::algorithm::eltwise_relu_use_dst_for_bwd, md, 0.f),
                           eng_);
      B::primitive_desc rb(B::desc(dnnl::algorithm::eltwise_relu_use_dst_for_bwd, md, md, 0.f),
                           eng_, rf);
      relu_ = B(rb);
      impl_ = "fused:" + implOf(rb) + "+" + implOf(bpd);
      y_ = Port(eng_, inDesc(desc, size_t(p.y)), md, true);
      g_ = dnnl::memory(md, eng_);
    }
    if (p.outDx >= 0)
      dx_ = Port(eng_, outDesc(desc, size_t(p.outDx)), bpd.diff_src_desc(), false);
    else
      dxScratch_ = dnnl::memory(bpd.diff_src_desc(), eng_);
    auto cmd = dnnl::memory::desc({c}, dt::f32, tag::x);
    dscale_ = handleMem(cmd, eng_);
    dshift_ = handleMem(cmd, eng_);
    spare_ = dnnl::memory(cmd, eng_); // parameter gradients not asked for
  }

  void forward(const float *const *in, float *const *out) override {
    params_.prepare(in);
    pull(x_, in[p_.x]);
    pull(dy_, in[p_.dy]);
    dnnl::memory g = dy_.mem();
    if (p_.reluGrad >= 0) {
      pull(y_, in[p_.y]);
      exec(relu_, {{DNNL_ARG_DST, y_.mem()}, {DNNL_ARG_DIFF_DST, dy_.mem()},
                   {DNNL_ARG_DIFF_SRC, g_}});
      g = g_;
    }
    Args a = params_.args();
    a[DNNL_ARG_SRC] = x_.mem();
    a[DNNL_ARG_DIFF_DST] = g;
    if (p_.outDx >= 0)
      bindOut(dx_, out[p_.outDx]);
    a[DNNL_ARG_DIFF_SRC] = p_.outDx >= 0 ? dx_.mem() : dxScratch_;
    if (p_.outDgamma >= 0)
      bind(dscale_, out[p_.outDgamma]);
    if (p_.outDbeta >= 0)
      bind(dshift_, out[p_.outDbeta]);
    a[DNNL_ARG_DIFF_SCALE] = p_.outDgamma >= 0 ? dscale_ : spare_;
    a[DNNL_ARG_DIFF_SHIFT] = p_.outDbeta >= 0 ? dshift_ : spare_;
    exec(bwd_, a);
    if (p_.outDx >= 0)
      push(dx_);
    wait();
  }
  void paramsChanged() override { params_.invalidate(); }

private:
  NormPlan p_;
  dnnl::batch_normalization_forward::primitive_desc fpd_;
  NormParams params_;
  dnnl::batch_normalization_backward bwd_;
  dnnl::eltwise_backward relu_;
  Port x_, dy_, y_, dx_;
  dnnl::memory g_, dxScratch_, dscale_, dshift_, spare_;
};

} // namespace

std::string fusedNormWhyNot(const KernelDesc &desc) { return normPlan(desc).why; }

std::unique_ptr<Kernel> createFusedNorm(const KernelDesc &desc, DnnlContext &ctx) {
  NormPlan p = normPlan(desc);
  if (!p.why.empty())
    throw NotApplicable{p.why};
  if (p.backward)
    return std::make_unique<FusedNormGradKernel>(desc, ctx, p);
  return std::make_unique<FusedNormKernel>(desc, ctx, p);
}

} // namespace dnnlk
} // namespace dlc::rt

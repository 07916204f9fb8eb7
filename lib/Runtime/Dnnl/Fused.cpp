//===- Fused.cpp - oneDNN kernels for fused layers ------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A fused body (docs/fusion.md) that one oneDNN primitive runs:
//
//   convolution | deconvolution | inner_product
//       [batch_norm (global statistics)] [scale]   folded into weights and bias
//       [eltwise sum with another blob]            post-op sum
//       [pointwise layers]                         post-op eltwise steps
//
//   eltwise sum of two blobs [pointwise layers]   binary add + post-ops
//
// BatchNorm and Scale fold into the weights (W' = W s, b' = b s + t per
// output channel, s = gamma / sqrt(var + eps), t = beta - mean s, computed in
// double from the stored statistics when the kernel first runs and after
// paramsChanged). Anything else runs composed (lib/Runtime/Core/Fused.cpp).
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

#include <cmath>
#include <cstring>

namespace dlc::rt {
namespace dnnlk {
namespace {

/// oneDNN's limit on post-ops per primitive.
constexpr size_t kMaxPostOps = 32;

/// How a fused body maps onto one primitive.
struct Plan {
  enum Anchor { Conv, Deconv, InnerProduct, Sum } anchor = Conv;
  int bn = -1, scale = -1;   ///< step indices
  int sumOther = -1;         ///< input index of the blob added by the sum post-op
  std::vector<EltwiseStep> post;
  std::string why;           ///< non-empty: not applicable
};

Plan plan(const KernelDesc &desc) {
  Plan p;
  auto no = [&](std::string why) {
    p.why = std::move(why);
    return p;
  };
  if (desc.results.size() != 1)
    return no("a fused kernel with several outputs");
  const int numIn = int(desc.inputs.size());
  const auto &body = desc.body;
  const KernelDesc &a = body[0].desc;
  if (!a.requestedImpl().empty() && a.requestedImpl() != "auto")
    return no("the layer asks for the '" + a.requestedImpl() + "' algorithm");
  if (a.op == "convolution")
    p.anchor = Plan::Conv;
  else if (a.op == "deconvolution")
    p.anchor = Plan::Deconv;
  else if (a.op == "inner_product")
    p.anchor = Plan::InnerProduct;
  else if (a.op == "eltwise")
    p.anchor = Plan::Sum;
  else
    return no("no oneDNN fusion starts at " + a.op);
  for (int arg : body[0].args)
    if (arg >= numIn)
      return no("the first layer reads a value computed inside the fused kernel");
  if (p.anchor == Plan::Sum) {
    auto e = attrsOf<ops::EltwiseAttrs>(a);
    if (e.operation != "sum" || a.inputs.size() != 2 || body[0].args[0] == body[0].args[1] ||
        !std::all_of(e.coeff.begin(), e.coeff.end(), [](double c) { return c == 1.0; }))
      return no("only a plain sum of two blobs fuses");
  }
  int cur = numIn; // the value the chain has reached: step 0's output
  bool sumSeen = p.anchor == Plan::Sum, affine = p.anchor != Plan::Sum;
  for (size_t s = 1; s < body.size(); ++s) {
    const FusedStep &st = body[s];
    const KernelDesc &d = st.desc;
    // The chain's value is operand 0 (either operand of a sum, which commutes).
    size_t at = st.args.size() == 2 && d.op == "eltwise" && st.args[1] == cur ? 1 : 0;
    if (st.args.empty() || st.args[at] != cur || st.desc.outputs.size() != 1)
      return no("step " + std::to_string(s) + " does not continue the chain");
    for (size_t j = 0; j < st.args.size(); ++j)
      if (j != at && st.args[j] >= numIn)
        return no("step " + std::to_string(s) + " reads another value of the fused kernel");
    if (d.op == "batch_norm" && affine && p.bn < 0 && p.scale < 0) {
      if (!attrsOf<ops::BatchNormAttrs>(d).use_global_stats)
        return no("BatchNorm with batch statistics does not fold");
      p.bn = int(s);
    } else if (d.op == "scale" && affine && p.scale < 0) {
      auto sa = attrsOf<ops::ScaleAttrs>(d);
      if (sa.axis != 1 || d.inputs[1].size() != 1 || !desc.param(size_t(st.args[1])))
        return no("only a learned per-channel Scale folds");
      p.scale = int(s);
    } else if (d.op == "eltwise" && !sumSeen) {
      auto e = attrsOf<ops::EltwiseAttrs>(d);
      if (e.operation != "sum" || d.inputs.size() != 2 ||
          !std::all_of(e.coeff.begin(), e.coeff.end(), [](double c) { return c == 1.0; }))
        return no("only a plain two-blob sum is a post-op");
      p.sumOther = st.args[1 - at];
      sumSeen = true;
      affine = false;
    } else {
      std::string why = activationSteps(d, p.post);
      if (!why.empty())
        return no(why);
      affine = false;
      sumSeen = true;
    }
    cur = numIn + int(s);
  }
  if (desc.results[0] != cur)
    return no("the output is not the end of the chain");
  // Consecutive linear steps compose: a2 (a1 x + b1) + b2.
  std::vector<EltwiseStep> merged;
  for (const EltwiseStep &e : p.post) {
    if (!merged.empty() && e.alg == dnnl::algorithm::eltwise_linear &&
        merged.back().alg == dnnl::algorithm::eltwise_linear) {
      EltwiseStep &m = merged.back();
      m.beta = e.alpha * m.beta + e.beta;
      m.alpha = e.alpha * m.alpha;
      continue;
    }
    merged.push_back(e);
  }
  p.post = std::move(merged);
  // oneDNN 2.6's JIT post-op injectors are keyed by algorithm: the same
  // algorithm twice with other parameters would run with the first's.
  for (size_t i = 0; i < p.post.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (p.post[i].alg == p.post[j].alg &&
          (p.post[i].alpha != p.post[j].alpha || p.post[i].beta != p.post[j].beta))
        return no("oneDNN 2.6 post-ops cannot repeat an eltwise algorithm with other "
                  "parameters");
  if (p.post.size() + (p.sumOther >= 0) > kMaxPostOps)
    return no("more than " + std::to_string(kMaxPostOps) + " post-ops");
  if ((p.bn >= 0 || p.scale >= 0) && p.anchor == Plan::Deconv)
    return no("BatchNorm/Scale after a deconvolution are not folded");
  // BatchNorm and Scale work on axis 1: the inner product's outputs only
  // when its result is [M, N].
  if ((p.bn >= 0 || p.scale >= 0) && p.anchor == Plan::InnerProduct &&
      a.outputs[0].size() != 2)
    return no("BatchNorm/Scale fold into an inner product only when its result is 2-D");
  if (p.anchor == Plan::Conv && a.inputs[0].size() != 4)
    return no("only 2-D convolutions");
  return p;
}

std::string fusedWhyNot(const KernelDesc &desc) {
  if (std::string why = emptyWhyNot(desc); !why.empty())
    return why;
  std::string why = plan(desc).why;
  if (why.empty() || fusedNormWhyNot(desc).empty())
    return "";
  return why;
}

dnnl::primitive_attr postOpsAttr(const Plan &p) {
  dnnl::post_ops po;
  if (p.sumOther >= 0)
    po.append_sum(1.f);
  for (const EltwiseStep &s : p.post)
    po.append_eltwise(1.f, s.alg, s.alpha, s.beta);
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  return attr;
}

/// A convolution, deconvolution or inner product (as a matmul) with the
/// plan's folded affine layers and post-ops.
class FusedWeightedKernel : public DnnlKernelBase {
public:
  FusedWeightedKernel(const KernelDesc &desc, DnnlContext &ctx, const Plan &p)
      : DnnlKernelBase(desc, ctx), desc_(desc), plan_(p) {
    const FusedStep &anchor = desc.body[0];
    const KernelDesc &a = anchor.desc;
    attr_ = postOpsAttr(p);
    hasBias_ = a.inputs.size() == 3;
    fold_ = p.bn >= 0 || p.scale >= 0;
    // The folded weights are kept while every input they come from is a
    // parameter (a blob computed at run time is read on every run).
    cacheW_ = true;
    for (size_t j = 1; j < anchor.args.size(); ++j)
      cacheW_ = cacheW_ && desc.param(size_t(anchor.args[j]));
    for (int step : {p.bn, p.scale})
      if (step >= 0)
        for (size_t j = 1; j < desc.body[size_t(step)].args.size(); ++j)
          cacheW_ = cacheW_ && desc.param(size_t(desc.body[size_t(step)].args[j]));
    dnnl::memory::desc userSrc, userW, userDst, biasMd, primSrc, primW, primDst;
    if (p.anchor == Plan::InnerProduct) {
      ops::InnerProductGeometry g = ipGeometry(a);
      channels_ = g.n;
      div_ = g.transpose ? 1 : g.k;
      userSrc = plainDesc({g.m, g.k});
      userDst = plainDesc({g.m, g.n});
      userW = dnnl::memory::desc({g.k, g.n}, dt::f32, g.transpose ? tag::ab : tag::ba);
      biasMd = plainDesc({1, g.n});
      adopt<dnnl::matmul>(
          dnnl::matmul::desc(userSrc, dnnl::memory::desc({g.k, g.n}, dt::f32, tag::any),
                             hasBias_ || fold_ ? biasMd : dnnl::memory::desc(), userDst),
          primSrc, primW, primDst);
    } else {
      const bool deconv = p.anchor == Plan::Deconv;
      ConvGeom g = convGeometry(a, deconv);
      channels_ = g.o;
      div_ = g.c / g.g * g.kh * g.kw;
      // The caller's layouts (docs/layouts.md): the anchor's input and the
      // kernel's output.
      userSrc = inDesc(desc, size_t(anchor.args[0]));
      userDst = outDesc(desc, 0);
      userW = convWeightDesc(g, deconv);
      biasMd = dnnl::memory::desc({g.o}, dt::f32, tag::x);
      auto b = hasBias_ || fold_ ? biasMd : dnnl::memory::desc();
      dims strides{g.sh, g.sw}, dil{g.dh - 1, g.dw - 1}, pad{g.ph, g.pw};
      const auto prop = dnnl::prop_kind::forward_inference;
      auto make = [&](const dnnl::memory::desc &x, const dnnl::memory::desc &y) {
        if (deconv)
          adopt<dnnl::deconvolution_forward>(
              dnnl::deconvolution_forward::desc(prop, dnnl::algorithm::deconvolution_direct, x,
                                                convWeightAny(g), b, y, strides, dil, pad, pad),
              primSrc, primW, primDst);
        else
          adopt<dnnl::convolution_forward>(
              dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_auto, x,
                                              convWeightAny(g), b, y, strides, dil, pad, pad),
              primSrc, primW, primDst);
      };
      // Blocked tensors: exactly their layouts when oneDNN has a JIT kernel
      // for them (no reorder at the edges), else oneDNN's choice.
      bool forced = false;
      if (userSrc != plainDesc(a.inputs[0]) || userDst != plainDesc(desc.outputs[0])) {
        try {
          make(userSrc, userDst);
          forced = impl_.find("jit") != std::string::npos;
        } catch (const dnnl::error &e) {
          if (e.status != dnnl_unimplemented)
            throw;
        }
      }
      if (!forced)
        make(anyDesc(a.inputs[0]), anyDesc(a.outputs[0]));
    }
    impl_ = "fused:" + impl_;
    src_ = Port(eng_, userSrc, primSrc, true);
    dst_ = Port(eng_, userDst, primDst, false);
    dstReorders_ = primDst != userDst;
    if (p.sumOther >= 0) {
      // The added blob, in its own layout.
      const int otherBlock = desc.inBlock(size_t(p.sumOther));
      auto otherMd = otherBlock ? layoutDesc(desc.outputs[0], otherBlock) : plainDesc({});
      if (!otherBlock) // the caller's plain layout, in the primitive's view
        otherMd = p.anchor == Plan::InnerProduct ? userDst : plainDesc(desc.outputs[0]);
      otherReorders_ = otherMd != primDst;
      sumInPlace_ = otherMd == userDst;
      if (otherReorders_) {
        other_ = handleMem(otherMd, eng_);
        otherR_ = dnnl::reorder(other_, dst_.mem());
      }
    }
    userW_ = handleMem(userW, eng_);
    w_ = dnnl::memory(primW, eng_);
    wR_ = dnnl::reorder(userW_, w_);
    if (hasBias_ || fold_)
      bias_ = dnnl::memory(biasMd, eng_);
    if (fold_)
      folded_.resize(userW.get_size() / sizeof(float));
  }

  void forward(const float *const *in, float *const *out) override {
    const std::vector<int> &args = desc_.body[0].args;
    if (!wValid_) {
      prepareWeights(in);
      wValid_ = cacheW_;
    }
    pull(src_, in[args[0]]);
    bindOut(dst_, out[0]);
    if (plan_.sumOther >= 0) {
      // The sum post-op adds to what dst holds: the other blob, in the
      // primitive's layout.
      if (otherReorders_) {
        bind(other_, in[plan_.sumOther]);
        exec(otherR_, {{DNNL_ARG_FROM, other_}, {DNNL_ARG_TO, dst_.mem()}});
      } else if (out[0] != in[plan_.sumOther]) {
        std::memcpy(out[0], in[plan_.sumOther], dstBytes());
      }
    }
    Args a{{DNNL_ARG_SRC, src_.mem()}, {DNNL_ARG_WEIGHTS, w_}, {DNNL_ARG_DST, dst_.mem()}};
    if (hasBias_ || fold_)
      a[DNNL_ARG_BIAS] = bias_;
    exec(prim_, a);
    push(dst_);
    wait();
  }

  void paramsChanged() override { wValid_ = false; }
  /// The sum post-op accumulates into dst: dst may be the added blob (when
  /// both have one layout).
  int inPlaceInput() const override { return sumInPlace_ ? plan_.sumOther : -1; }

private:
  /// Builds the primitive of `d` with the post-ops and records its layouts.
  template <typename Prim>
  void adopt(const typename Prim::desc &d, dnnl::memory::desc &src, dnnl::memory::desc &w,
             dnnl::memory::desc &dst) {
    typename Prim::primitive_desc pd(d, attr_, eng_);
    prim_ = Prim(pd);
    impl_ = implOf(pd);
    src = pd.src_desc(), w = pd.weights_desc(), dst = pd.dst_desc();
  }
  size_t dstBytes() const { return size_t(numElements(desc_.outputs[0])) * sizeof(float); }

  /// Reorders (and, with BatchNorm/Scale, folds) the weights and bias.
  void prepareWeights(const float *const *in) {
    const std::vector<int> &args = desc_.body[0].args;
    const float *w = in[args[1]];
    const float *b = hasBias_ ? in[args[2]] : nullptr;
    float *bias = (hasBias_ || fold_) ? static_cast<float *>(bias_.get_data_handle()) : nullptr;
    if (!fold_) {
      bind(userW_, w);
      if (hasBias_)
        std::memcpy(bias, b, size_t(channels_) * sizeof(float));
    } else {
      std::vector<double> s(size_t(channels_), 1.0), t(size_t(channels_), 0.0);
      if (plan_.bn >= 0) {
        const FusedStep &bn = desc_.body[size_t(plan_.bn)];
        double eps = attrsOf<ops::BatchNormAttrs>(bn.desc).eps;
        const float *mean = in[bn.args[1]], *var = in[bn.args[2]], *sf = in[bn.args[3]];
        double factor = sf[0] == 0.0f ? 0.0 : 1.0 / double(sf[0]);
        for (int64_t c = 0; c < channels_; ++c) {
          s[size_t(c)] = 1.0 / std::sqrt(double(var[c]) * factor + eps);
          t[size_t(c)] = -double(mean[c]) * factor * s[size_t(c)];
        }
      }
      if (plan_.scale >= 0) {
        const FusedStep &sc = desc_.body[size_t(plan_.scale)];
        const float *gamma = in[sc.args[1]];
        const float *beta = sc.args.size() > 2 ? in[sc.args[2]] : nullptr;
        for (int64_t c = 0; c < channels_; ++c) {
          s[size_t(c)] *= gamma[c];
          t[size_t(c)] = t[size_t(c)] * gamma[c] + (beta ? beta[c] : 0.0);
        }
      }
      for (size_t i = 0; i < folded_.size(); ++i)
        folded_[i] = float(double(w[i]) * s[size_t((int64_t(i) / div_) % channels_)]);
      for (int64_t c = 0; c < channels_; ++c)
        bias[c] = float((b ? double(b[c]) : 0.0) * s[size_t(c)] + t[size_t(c)]);
      bind(userW_, folded_.data());
    }
    exec(wR_, {{DNNL_ARG_FROM, userW_}, {DNNL_ARG_TO, w_}});
  }

  KernelDesc desc_;
  Plan plan_;
  dnnl::primitive_attr attr_;
  dnnl::primitive prim_;
  bool hasBias_ = false, fold_ = false, cacheW_ = false, wValid_ = false;
  int64_t channels_ = 0, div_ = 1;
  Port src_, dst_;
  bool dstReorders_ = false, otherReorders_ = false, sumInPlace_ = false;
  dnnl::memory other_, userW_, w_, bias_;
  dnnl::reorder wR_, otherR_;
  std::vector<float> folded_;
};

/// eltwise sum of two blobs with post-ops: oneDNN binary add.
class FusedSumKernel : public DnnlKernelBase {
public:
  FusedSumKernel(const KernelDesc &desc, DnnlContext &ctx, const Plan &p)
      : DnnlKernelBase(desc, ctx), a_(desc.body[0].args[0]), b_(desc.body[0].args[1]) {
    auto md = plainDesc({numElements(desc.outputs[0])});
    dnnl::binary::primitive_desc pd(
        dnnl::binary::desc(dnnl::algorithm::binary_add, md, md, md), postOpsAttr(p), eng_);
    prim_ = dnnl::binary(pd);
    impl_ = "fused:" + implOf(pd);
    x_ = handleMem(md, eng_);
    y_ = handleMem(md, eng_);
    z_ = handleMem(md, eng_);
  }
  /// oneDNN's binary primitive may write over its first source.
  int inPlaceInput() const override { return a_; }
  void forward(const float *const *in, float *const *out) override {
    bind(x_, in[a_]);
    bind(y_, in[b_]);
    bind(z_, out[0]);
    exec(prim_, {{DNNL_ARG_SRC_0, x_}, {DNNL_ARG_SRC_1, y_}, {DNNL_ARG_DST, z_}});
    wait();
  }

private:
  int a_, b_;
  dnnl::binary prim_;
  dnnl::memory x_, y_, z_;
};

std::unique_ptr<Kernel> createFused(const KernelDesc &desc, DnnlContext &ctx) {
  Plan p = plan(desc);
  if (!p.why.empty()) {
    if (fusedNormWhyNot(desc).empty()) // BatchNorm + Scale (+ ReLU), FusedNorm.cpp
      return createFusedNorm(desc, ctx);
    throw NotApplicable{p.why};
  }
  // The matmul and the flat binary add assume one plain / shared layout
  // (docs/layouts.md): otherwise on plain copies.
  if (desc.hasBlocked() &&
      (p.anchor == Plan::InnerProduct ||
       (p.anchor == Plan::Sum &&
        !(desc.inBlock(size_t(desc.body[0].args[0])) == desc.outBlock(0) &&
          desc.inBlock(size_t(desc.body[0].args[1])) == desc.outBlock(0)))))
    return plainLayoutKernel(desc, createFused(plainLayoutDesc(desc), ctx));
  if (p.anchor == Plan::Sum)
    return std::make_unique<FusedSumKernel>(desc, ctx, p);
  return std::make_unique<FusedWeightedKernel>(desc, ctx, p);
}

} // namespace

DLC_REGISTER_KERNELS(DLC_DNNL_LAYOUT_KERNEL("fused", Forward, createFused, fusedWhyNot));

} // namespace dnnlk
} // namespace dlc::rt

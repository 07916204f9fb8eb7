//===- Normalization.cpp - oneDNN softmax, batch norm, scale, bias --------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
//   softmax      softmax / softmax_backward (from y) on the op library's
//                [outer, C, inner] split of the axis
//   batch_norm   batch_normalization on x viewed as [N, C, S, 1]; global
//                statistics (blob / scale_factor) prepared once per parameter
//                change; batch statistics from forward_training (the
//                backward recomputes them: one extra forward)
//   scale, bias  binary mul / add with a [1, S, 1] broadcast over the op
//                library's [outer, S, inner] view (scale's bias as a binary
//                post-op); backward: binary mul for dx, OpenMP reductions
//                (float64 partial sums) for the parameter gradients
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

#include <cstring>
#include <type_traits>

namespace dlc::rt {
namespace dnnlk {
namespace {

// ---------------------------------------------------------------------------
// BatchNorm: operands x, mean, variance, scale_factor; x viewed as
// [N, C, S, 1] (C = 1 for a 1-D x).
// ---------------------------------------------------------------------------

/// The forward_training (backward hint, batch statistics) or inference
/// batch normalization of a batch_norm description, and the statistics it
/// reads or writes: Caffe's global ones are blob / scale_factor (0 when the
/// factor is 0), prepared at the first run and again after paramsChanged()
/// when the blobs are parameters.
class BatchNormSetup {
public:
  /// `block`: the channel block of the caller's x (docs/layouts.md); every
  /// data tensor of the kernel has it.
  BatchNormSetup(const KernelDesc &fwd, const dnnl::engine &eng, bool training, int block) {
    const Shape &x = fwd.inputs[0];
    auto a = attrsOf<ops::BatchNormAttrs>(fwd);
    global = a.use_global_stats;
    c_ = x.size() > 1 ? x[1] : 1;
    int64_t n = x.empty() ? 1 : x[0];
    Shape view{n, c_, numElements(x) / (n * c_), 1};
    if (block)
      view = x; // rank 4 (ops::isBlockable)
    user = layoutDesc(view, block);
    auto flags = global ? dnnl::normalization_flags::use_global_stats
                        : dnnl::normalization_flags::none;
    // Batch statistics need forward_training to expose mean/variance.
    auto prop = training || !global ? dnnl::prop_kind::forward_training
                                    : dnnl::prop_kind::forward_inference;
    eps = float(a.eps);
    // oneDNN's plain-layout batch normalization is not a JIT kernel on every
    // ISA; its JIT kernels want channel blocks: the layout of the first JIT
    // implementation (pickLayout), the data reordered at the kernel's edges.
    pd = pickLayout<dnnl::batch_normalization_forward::primitive_desc>(
        view, view,
        [&](const dnnl::memory::desc &src, const dnnl::memory::desc &) {
          return dnnl::batch_normalization_forward::primitive_desc(
              dnnl::batch_normalization_forward::desc(prop, src, eps, flags), eng);
        },
        block, block);
    md = pd.src_desc();
    mean_ = dnnl::memory(pd.mean_desc(), eng);
    var_ = dnnl::memory(pd.variance_desc(), eng);
    cache_ = fwd.param(1) && fwd.param(2) && fwd.param(3);
  }

  /// The global statistics from the blobs in[1..3], unless still valid.
  void prepare(const float *const *in) {
    if (!global || valid_)
      return;
    float sf = in[3][0];
    float f = sf == 0.f ? 0.f : 1.f / sf;
    auto *m = static_cast<float *>(mean_.get_data_handle());
    auto *v = static_cast<float *>(var_.get_data_handle());
    for (int64_t c = 0; c < c_; ++c) {
      m[c] = in[1][c] * f;
      v[c] = in[2][c] * f;
    }
    valid_ = cache_;
  }
  void invalidate() { valid_ = false; }
  /// The statistics arguments of a primitive.
  Args stats() const { return {{DNNL_ARG_MEAN, mean_}, {DNNL_ARG_VARIANCE, var_}}; }

  bool global;
  float eps;
  dnnl::memory::desc user; ///< the caller's [N, C, S, 1], or x when blocked
  dnnl::memory::desc md;   ///< the primitive's layout
  dnnl::batch_normalization_forward::primitive_desc pd;

private:
  int64_t c_;
  bool cache_ = false, valid_ = false;
  dnnl::memory mean_, var_;
};

class BatchNormKernel : public DnnlKernelBase {
public:
  BatchNormKernel(const KernelDesc &desc, DnnlContext &ctx)
      : DnnlKernelBase(desc, ctx), bn_(desc, eng_, /*training=*/false, desc.inBlock(0)),
        prim_(bn_.pd) {
    impl_ = implOf(bn_.pd);
    src_ = Port(eng_, bn_.user, bn_.md, true);
    dst_ = Port(eng_, bn_.user, bn_.md, false);
  }

  void forward(const float *const *in, float *const *out) override {
    bn_.prepare(in);
    pull(src_, in[0]);
    bindOut(dst_, out[0]);
    Args args = bn_.stats();
    args[DNNL_ARG_SRC] = src_.mem();
    args[DNNL_ARG_DST] = dst_.mem();
    exec(prim_, args);
    push(dst_);
    wait();
  }
  bool supportsInPlace() const override { return true; }
  void paramsChanged() override { bn_.invalidate(); }

private:
  BatchNormSetup bn_;
  dnnl::batch_normalization_forward prim_;
  Port src_, dst_;
};

/// Operands x, mean, variance, scale_factor, y, dy; output dx (the only
/// differentiable operand). Global statistics: dx = dy / sqrt(var + eps).
/// Batch statistics: the full backward through the batch mean and variance,
/// which oneDNN takes as inputs: the kernel recomputes them with a
/// forward_training pass into a scratch output.
class BatchNormGradKernel : public DnnlKernelBase {
public:
  BatchNormGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIn()),
        bn_(gd.fwd, eng_, /*training=*/true, desc.inBlock(0)) {
    auto flags = bn_.global ? dnnl::normalization_flags::use_global_stats
                            : dnnl::normalization_flags::none;
    dnnl::batch_normalization_backward::primitive_desc bpd(
        dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward_data, bn_.md, bn_.md,
                                                 bn_.eps, flags),
        eng_, bn_.pd);
    bwd_ = dnnl::batch_normalization_backward(bpd);
    impl_ = implOf(bpd);
    x_ = Port(eng_, bn_.user, bn_.md, true);
    dy_ = Port(eng_, bn_.user, bpd.diff_dst_desc(), true);
    dx_ = Port(eng_, bn_.user, bpd.diff_src_desc(), false);
    if (!bn_.global) {
      fwd_ = dnnl::batch_normalization_forward(bn_.pd);
      impl_ = implOf(bn_.pd) + "+" + impl_;
      yScratch_ = dnnl::memory(bn_.pd.dst_desc(), eng_);
    }
  }

  void forward(const float *const *in, float *const *out) override {
    pull(x_, in[0]);
    Args args = bn_.stats();
    args[DNNL_ARG_SRC] = x_.mem();
    if (bn_.global) {
      bn_.prepare(in);
    } else {
      Args f = args;
      f[DNNL_ARG_DST] = yScratch_;
      exec(fwd_, f);
    }
    pull(dy_, in[dyIdx_]);
    bindOut(dx_, out[0]);
    args[DNNL_ARG_DIFF_DST] = dy_.mem();
    args[DNNL_ARG_DIFF_SRC] = dx_.mem();
    exec(bwd_, args);
    push(dx_);
    wait();
  }
  void paramsChanged() override { bn_.invalidate(); }

private:
  size_t dyIdx_;
  BatchNormSetup bn_;
  dnnl::batch_normalization_forward fwd_;
  dnnl::batch_normalization_backward bwd_;
  Port x_, dy_, dx_;
  dnnl::memory yScratch_;
};

// ---------------------------------------------------------------------------
// Scale / Bias: x as [outer, S, inner] (op) [1, S, 1].
// ---------------------------------------------------------------------------

/// The op library's [outer, S, inner] view of x around operand 1.
template <typename AttrsT>
ops::Broadcast broadcastOf(const KernelDesc &fwd) {
  auto a = attrsOf<AttrsT>(fwd);
  ops::Broadcast b;
  check(fwd, ops::broadcastGeometry(fwd.inputs[0], fwd.inputs[1], a.axis, a.num_axes, b));
  return b;
}

/// y = x (op) p, optionally + b as a binary post-op.
class BroadcastKernel : public DnnlKernelBase {
public:
  BroadcastKernel(const KernelDesc &desc, DnnlContext &ctx, dnnl::algorithm alg,
                  const ops::Broadcast &b, bool biasPostOp)
      : DnnlKernelBase(desc, ctx), biasPostOp_(biasPostOp) {
    auto md = plainDesc({b.outer, b.dim, b.inner});
    auto pmd = plainDesc({1, b.dim, 1});
    if (int block = desc.inBlock(0)) { // per channel of a blocked [N, C, H, W]
      md = layoutDesc(desc.inputs[0], block);
      // [1, C, 1, 1] blocked is the same bytes as plain [C], and what
      // oneDNN's JIT binary wants for a per-channel operand.
      pmd = layoutDesc({1, b.dim, 1, 1}, block);
    }
    dnnl::primitive_attr attr;
    if (biasPostOp) {
      dnnl::post_ops po;
      po.append_binary(dnnl::algorithm::binary_add, pmd);
      attr.set_post_ops(po);
    }
    dnnl::binary::primitive_desc pd(dnnl::binary::desc(alg, md, pmd, md), attr, eng_);
    prim_ = dnnl::binary(pd);
    impl_ = implOf(pd);
    src_ = handleMem(md, eng_);
    dst_ = handleMem(md, eng_);
    p_ = handleMem(pmd, eng_);
    b_ = handleMem(pmd, eng_);
  }
  void forward(const float *const *in, float *const *out) override {
    bind(src_, in[0]);
    bind(dst_, out[0]);
    bind(p_, in[1]);
    Args args{{DNNL_ARG_SRC_0, src_}, {DNNL_ARG_SRC_1, p_}, {DNNL_ARG_DST, dst_}};
    if (biasPostOp_) {
      bind(b_, in[2]);
      args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] = b_;
    }
    exec(prim_, args);
    wait();
  }
  bool supportsInPlace() const override { return true; }

private:
  bool biasPostOp_;
  dnnl::binary prim_;
  dnnl::memory src_, dst_, p_, b_;
};

/// Scale: operands x, s, [b], y, dy; dx = dy * s (broadcast), ds = sum(dy * x),
/// db = sum(dy) over outer and inner. Bias: operands x, b, y, dy; dx = dy,
/// db = sum(dy).
class ScaleBiasGradKernel : public DnnlKernelBase {
public:
  ScaleBiasGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                      bool isScale, const ops::Broadcast &b)
      : DnnlKernelBase(desc, ctx), isScale_(isScale), dyIdx_(gd.gradIn()),
        outDx_(gd.outputOf(0)), outDp_(gd.outputOf(1)), outDb_(gd.outputOf(2)),
        outer_(b.outer), S_(b.dim), inner_(b.inner), block_(desc.inBlock(0)) {
    if (outDx_ >= 0 && isScale) {
      auto md = plainDesc({outer_, S_, inner_});
      auto pmd = plainDesc({1, S_, 1});
      if (block_) { // per channel of a blocked [N, C, H, W] (docs/layouts.md)
        md = layoutDesc(gd.fwd.inputs[0], block_);
        pmd = layoutDesc({1, S_, 1, 1}, block_); // the bytes of plain [C]
      }
      dnnl::binary::primitive_desc pd(
          dnnl::binary::desc(dnnl::algorithm::binary_mul, md, pmd, md), eng_);
      mul_ = dnnl::binary(pd);
      impl_ = "data:" + implOf(pd) + " ";
      dy_ = handleMem(md, eng_);
      s_ = handleMem(pmd, eng_);
      dx_ = handleMem(md, eng_);
    }
    impl_ += "onednn-kernels:omp-reduction";
    if (outDp_ >= 0 || outDb_ >= 0)
      partial_.resize(size_t(outer_ * S_) * 2);
  }

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *dy = in[dyIdx_];
    if (outDx_ >= 0) {
      if (isScale_) {
        bind(dy_, dy);
        bind(s_, in[1]);
        bind(dx_, out[outDx_]);
        exec(mul_, {{DNNL_ARG_SRC_0, dy_}, {DNNL_ARG_SRC_1, s_}, {DNNL_ARG_DST, dx_}});
      } else if (out[outDx_] != dy) {
        std::memcpy(out[outDx_], dy, size_t(outer_ * S_ * inner_) * sizeof(float));
      }
    }
    // Bias: operand 1 is the bias. Scale: operand 1 the scale, 2 the bias.
    int outScale = isScale_ ? outDp_ : -1;
    int outBias = isScale_ ? outDb_ : outDp_;
    if (outScale >= 0 || outBias >= 0)
      reduce(x, dy, outScale >= 0 ? out[outScale] : nullptr,
             outBias >= 0 ? out[outBias] : nullptr);
    wait();
  }

private:
  /// ds[s] = sum(dy * x), db[s] = sum(dy) over outer and inner (those not
  /// null): per (outer, channel) partial sums, then a sum over outer.
  void reduce(const float *x, const float *dy, float *ds, float *db) {
    const int64_t O = outer_, S = S_, I = inner_;
    double *part = partial_.data();
    if (block_) {
      // Blocked [N, C/B, H*W, B]: channel c of image o at block c/B, lane c%B.
      const int64_t B = block_, CB = S / B;
#pragma omp parallel for
      for (int64_t ob = 0; ob < O * CB; ++ob) {
        double ps[16] = {}, pb[16] = {};
        const float *d = dy + ob * I * B, *xs = x + ob * I * B;
        for (int64_t i = 0; i < I; ++i)
          for (int64_t j = 0; j < B; ++j) {
            if (ds)
              ps[j] += double(d[i * B + j]) * double(xs[i * B + j]);
            pb[j] += double(d[i * B + j]);
          }
        const int64_t o = ob / CB, c0 = (ob % CB) * B;
        for (int64_t j = 0; j < B; ++j) {
          part[2 * (o * S + c0 + j)] = ps[j];
          part[2 * (o * S + c0 + j) + 1] = pb[j];
        }
      }
    } else {
#pragma omp parallel for
    for (int64_t os = 0; os < O * S; ++os) {
      const float *d = dy + os * I, *xs = x + os * I;
      double ps = 0, pb = 0;
      if (ds)
        for (int64_t i = 0; i < I; ++i)
          ps += double(d[i]) * double(xs[i]);
      if (db)
        for (int64_t i = 0; i < I; ++i)
          pb += double(d[i]);
      part[2 * os] = ps;
      part[2 * os + 1] = pb;
    }
    }
#pragma omp parallel for
    for (int64_t s = 0; s < S; ++s) {
      double as = 0, ab = 0;
      for (int64_t o = 0; o < O; ++o) {
        as += part[2 * (o * S + s)];
        ab += part[2 * (o * S + s) + 1];
      }
      if (ds)
        ds[s] = float(as);
      if (db)
        db[s] = float(ab);
    }
  }

  bool isScale_;
  size_t dyIdx_;
  int outDx_, outDp_, outDb_;
  int64_t outer_, S_, inner_;
  int block_; ///< x's, dy's and dx's channel block (docs/layouts.md)
  std::vector<double> partial_;
  dnnl::binary mul_;
  dnnl::memory dy_, s_, dx_;
};

// ---------------------------------------------------------------------------
// Factories
// ---------------------------------------------------------------------------
/// Softmax over one axis of x viewed as [outer, C, inner].
dnnl::memory::desc softmaxDesc(const KernelDesc &fwd) {
  ops::AxisSplit s = axisSplit(fwd, attrsOf<ops::SoftmaxAttrs>(fwd).axis);
  return plainDesc({s.outer, s.channels, s.inner});
}

std::unique_ptr<Kernel> createSoftmax(const KernelDesc &desc, DnnlContext &ctx) {
  auto md = softmaxDesc(desc);
  auto k = std::make_unique<ChainKernel>(desc, ctx, md);
  k->append<dnnl::softmax_forward>(dnnl::softmax_forward::primitive_desc(
      dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, md, 1), ctx.engine));
  return k;
}

/// Operands x, y, dy; output dx = y * (dy - sum_axis(dy * y)).
std::unique_ptr<Kernel> createSoftmaxGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  auto md = softmaxDesc(gd.fwd);
  dnnl::softmax_forward::primitive_desc fpd(
      dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, md, 1), ctx.engine);
  dnnl::softmax_backward::primitive_desc bpd(dnnl::softmax_backward::desc(md, md, 1),
                                             ctx.engine, fpd);
  return std::make_unique<UnaryGradKernel>(desc, ctx, md, dnnl::softmax_backward(bpd), bpd,
                                           DNNL_ARG_DST, gd.resultIn(), gd.gradIn());
}

/// Whether every data tensor of a batch_norm / scale / bias description
/// (input 0, the output 0 and, for a backward one, y and dy) shares input 0's
/// layout, and a blocked one has per-channel parameters, which these kernels
/// assume (docs/layouts.md).
bool oneDataLayout(const KernelDesc &desc) {
  const int b = desc.inBlock(0);
  // Blocked: operand 1 (mean, scale, bias) must be per channel.
  if (b && (desc.inputs.size() < 2 || numElements(desc.inputs[1]) != desc.inputs[0][1]))
    return false;
  if (!desc.isGradient())
    return desc.outBlock(0) == b;
  // dx (when wanted) in x's layout; parameter gradients are plain.
  GradDesc gd = gradDesc(desc);
  const int dx = gd.outputOf(0);
  return (dx < 0 || desc.outBlock(size_t(dx)) == b) && desc.inBlock(gd.resultIn()) == b &&
         desc.inBlock(gd.gradIn()) == b;
}

/// make(desc, ctx), or on plain copies when the data layouts differ.
template <typename F>
std::unique_ptr<Kernel> inOneLayout(const KernelDesc &desc, DnnlContext &ctx, F &&make) {
  if (oneDataLayout(desc))
    return make(desc, ctx);
  return plainLayoutKernel(desc, make(plainLayoutDesc(desc), ctx));
}

std::unique_ptr<Kernel> createBatchNorm(const KernelDesc &desc, DnnlContext &ctx) {
  return inOneLayout(desc, ctx, [](const KernelDesc &d, DnnlContext &c) {
    return std::unique_ptr<Kernel>(std::make_unique<BatchNormKernel>(d, c));
  });
}

std::unique_ptr<Kernel> createBatchNormGrad(const KernelDesc &desc, DnnlContext &ctx) {
  return inOneLayout(desc, ctx, [](const KernelDesc &d, DnnlContext &c) {
    return std::unique_ptr<Kernel>(std::make_unique<BatchNormGradKernel>(d, c, gradDesc(d)));
  });
}

std::unique_ptr<Kernel> createScaleImpl(const KernelDesc &desc, DnnlContext &ctx) {
  return std::make_unique<BroadcastKernel>(desc, ctx, dnnl::algorithm::binary_mul,
                                           broadcastOf<ops::ScaleAttrs>(desc),
                                           desc.inputs.size() == 3);
}

std::unique_ptr<Kernel> createScale(const KernelDesc &desc, DnnlContext &ctx) {
  return inOneLayout(desc, ctx, createScaleImpl);
}

std::unique_ptr<Kernel> createBias(const KernelDesc &desc, DnnlContext &ctx) {
  return inOneLayout(desc, ctx, [](const KernelDesc &d, DnnlContext &c) {
    return std::unique_ptr<Kernel>(std::make_unique<BroadcastKernel>(
        d, c, dnnl::algorithm::binary_add, broadcastOf<ops::BiasAttrs>(d), false));
  });
}

template <bool IsScale>
std::unique_ptr<Kernel> createScaleBiasGrad(const KernelDesc &desc, DnnlContext &ctx) {
  using AttrsT = std::conditional_t<IsScale, ops::ScaleAttrs, ops::BiasAttrs>;
  return inOneLayout(desc, ctx, [](const KernelDesc &d, DnnlContext &c) {
    GradDesc gd = gradDesc(d);
    return std::unique_ptr<Kernel>(std::make_unique<ScaleBiasGradKernel>(
        d, c, gd, IsScale, broadcastOf<AttrsT>(gd.fwd)));
  });
}

} // namespace

DLC_REGISTER_KERNELS(
    DLC_DNNL_KERNEL("softmax", Forward, createSoftmax, emptyWhyNot),
    DLC_DNNL_KERNEL("softmax", Backward, createSoftmaxGrad, emptyWhyNot),
    DLC_DNNL_LAYOUT_KERNEL("batch_norm", Forward, createBatchNorm, emptyWhyNot),
    DLC_DNNL_LAYOUT_KERNEL("batch_norm", Backward, createBatchNormGrad, emptyWhyNot),
    DLC_DNNL_LAYOUT_KERNEL("scale", Forward, createScale, emptyWhyNot),
    DLC_DNNL_LAYOUT_KERNEL("scale", Backward, createScaleBiasGrad<true>, emptyWhyNot),
    DLC_DNNL_LAYOUT_KERNEL("bias", Forward, createBias, emptyWhyNot),
    DLC_DNNL_LAYOUT_KERNEL("bias", Backward, createScaleBiasGrad<false>, emptyWhyNot));

} // namespace dnnlk
} // namespace dlc::rt

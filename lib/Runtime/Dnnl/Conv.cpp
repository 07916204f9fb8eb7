//===- Conv.cpp - oneDNN convolution, deconvolution, inner product --------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// convolution: the algorithm named by "impl" (chosen per layer and
// direction by dl-select-conv-algorithms, docs/convolution.md): oneDNN's
// convolution_{auto,direct,winograd} primitives ("auto", "direct",
// "onednn-winograd") on the caller's layouts, or one of dlc's own
// algorithms registered in ConvAlgos.h (gemm, fft, winograd2, winograd4,
// sliding).
// deconvolution: oneDNN deconvolution_direct.
// inner_product: Caffe's x viewed as [M, K] (M = prod(shape[:axis])),
// y[M, N] = x * W^T + b with W [N, K], or x * W with W [K, N] when
// transpose is set, as a oneDNN matmul whose weight layout is chosen by
// oneDNN; the reordered weight is cached until paramsChanged().
//
//===----------------------------------------------------------------------===//

#include "ConvAlgos.h"

#include <algorithm>
#include <cstring>

#include <omp.h>

namespace dlc::rt {
namespace dnnlk {
namespace {

/// A convolution-like primitive (src, weights, optional bias, dst) whose
/// src/weights/dst layouts were chosen by oneDNN: activations are reordered
/// on every run, weights once and cached while they are parameters.
template <typename Prim>
class WeightedKernel : public DnnlKernelBase {
public:
  WeightedKernel(const KernelDesc &desc, DnnlContext &ctx,
                 const typename Prim::primitive_desc &pd, const dnnl::memory::desc &userSrc,
                 const dnnl::memory::desc &userW, const dnnl::memory::desc &userDst,
                 bool hasBias, const std::string &prefix = "")
      : DnnlKernelBase(desc, ctx), prim_(pd), hasBias_(hasBias),
        cacheW_(isParam(desc, 1)) {
    impl_ = prefix + implOf(pd);
    userSrc_ = handleMem(userSrc, eng_);
    userW_ = handleMem(userW, eng_);
    userDst_ = handleMem(userDst, eng_);
    if (hasBias_)
      userB_ = handleMem(pd.bias_desc(), eng_);
    reorderSrc_ = pd.src_desc() != userSrc;
    reorderW_ = pd.weights_desc() != userW;
    reorderDst_ = pd.dst_desc() != userDst;
    src_ = reorderSrc_ ? dnnl::memory(pd.src_desc(), eng_) : userSrc_;
    w_ = reorderW_ ? dnnl::memory(pd.weights_desc(), eng_) : userW_;
    dst_ = reorderDst_ ? dnnl::memory(pd.dst_desc(), eng_) : userDst_;
    if (reorderSrc_)
      srcR_ = dnnl::reorder(userSrc_, src_);
    if (reorderW_)
      wR_ = dnnl::reorder(userW_, w_);
    if (reorderDst_)
      dstR_ = dnnl::reorder(dst_, userDst_);
  }

  void forward(const float *const *in, float *const *out) override {
    bind(userSrc_, in[0]);
    bind(userDst_, out[0]);
    if (reorderSrc_)
      exec(srcR_, {{DNNL_ARG_FROM, userSrc_}, {DNNL_ARG_TO, src_}});
    if (!reorderW_) {
      bind(userW_, in[1]);
    } else if (!wValid_) {
      bind(userW_, in[1]);
      exec(wR_, {{DNNL_ARG_FROM, userW_}, {DNNL_ARG_TO, w_}});
      wValid_ = cacheW_;
    }
    Args args{{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, w_}, {DNNL_ARG_DST, dst_}};
    if (hasBias_) {
      bind(userB_, in[2]);
      args[DNNL_ARG_BIAS] = userB_;
    }
    exec(prim_, args);
    if (reorderDst_)
      exec(dstR_, {{DNNL_ARG_FROM, dst_}, {DNNL_ARG_TO, userDst_}});
    wait();
  }

  void paramsChanged() override { wValid_ = false; }

private:
  Prim prim_;
  bool hasBias_, cacheW_;
  bool reorderSrc_ = false, reorderW_ = false, reorderDst_ = false;
  bool wValid_ = false;
  dnnl::memory userSrc_, userW_, userB_, userDst_, src_, w_, dst_;
  dnnl::reorder srcR_, wR_, dstR_;
};

} // namespace

ConvGeom convGeometry(const KernelDesc &desc, bool deconv) {
  ops::ConvGeometry og;
  if (deconv)
    check(desc, ops::convGeometry(attrsOf<ops::DeconvolutionAttrs>(desc), desc.inputs[0], og));
  else
    check(desc, ops::convGeometry(attrsOf<ops::ConvolutionAttrs>(desc), desc.inputs[0], og));
  if (og.numSpatial() != 2)
    throw NotApplicable{"only 2-D (rank-4) convolutions"};
  ConvGeom g{};
  g.n = og.batch, g.c = og.channels, g.h = og.input[0], g.w = og.input[1];
  g.o = og.numOutput, g.oh = og.output[0], g.ow = og.output[1], g.g = og.group;
  g.kh = og.kernel[0], g.kw = og.kernel[1], g.sh = og.stride[0], g.sw = og.stride[1];
  g.ph = og.pad[0], g.pw = og.pad[1], g.dh = og.dilation[0], g.dw = og.dilation[1];
  g.hasBias = desc.inputs.size() == 3;
  return g;
}

dnnl::memory::desc convWeightDesc(const ConvGeom &g, bool deconv) {
  if (g.g == 1) {
    dims d{g.o, g.c, g.kh, g.kw};
    return dnnl::memory::desc(d, dt::f32, deconv ? tag::iohw : tag::oihw);
  }
  dims d{g.g, g.o / g.g, g.c / g.g, g.kh, g.kw};
  return dnnl::memory::desc(d, dt::f32, deconv ? tag::giohw : tag::goihw);
}

dnnl::memory::desc convWeightAny(const ConvGeom &g) {
  if (g.g == 1)
    return dnnl::memory::desc({g.o, g.c, g.kh, g.kw}, dt::f32, tag::any);
  return dnnl::memory::desc({g.g, g.o / g.g, g.c / g.g, g.kh, g.kw}, dt::f32, tag::any);
}

namespace {

std::unique_ptr<Kernel> createConvolution(const KernelDesc &desc, DnnlContext &ctx) {
  ConvGeom g = convGeometry(desc, /*deconv=*/false);
  std::string impl = desc.requestedImpl().empty() ? "auto" : desc.requestedImpl();
  if (impl != "auto")
    impl = requireApplicable(desc, convProblem(desc, ops::ConvDirection::Forward), impl);
  if (const ConvAlgoKernels *own = findConvAlgoKernels(impl))
    return own->forward(desc, ctx);

  dnnl::algorithm alg;
  if (impl == "auto")
    alg = dnnl::algorithm::convolution_auto;
  else if (impl == "direct")
    alg = dnnl::algorithm::convolution_direct;
  else if (impl == "onednn-winograd")
    alg = dnnl::algorithm::convolution_winograd;
  else
    fail(desc, "no kernel for convolution algorithm '" + impl + "'");

  Shape x = desc.inputs[0], y = desc.outputs[0];
  auto userSrc = inDesc(desc, 0), userDst = outDesc(desc, 0);
  auto userW = convWeightDesc(g, false);
  auto biasMd = g.hasBias ? dnnl::memory::desc({g.o}, dt::f32, tag::x) : dnnl::memory::desc();
  dims strides{g.sh, g.sw}, dil{g.dh - 1, g.dw - 1}, pad{g.ph, g.pw};
  dnnl::convolution_forward::primitive_desc pd;
  try {
    pd = withUserLayouts<dnnl::convolution_forward::primitive_desc>(
        desc, [&](const dnnl::memory::desc &src, const dnnl::memory::desc &dst) {
          dnnl::convolution_forward::desc cd(dnnl::prop_kind::forward_inference, alg, src,
                                             convWeightAny(g), biasMd, dst, strides, dil, pad,
                                             pad);
          return dnnl::convolution_forward::primitive_desc(cd, ctx.engine);
        });
  } catch (const dnnl::error &e) {
    if (e.status != dnnl_unimplemented)
      throw;
    if (impl == "onednn-winograd")
      throw Error("onednn-winograd not available for layer '" + desc.layer +
                  "': oneDNN 2.6 has no Winograd convolution for this shape on this CPU");
    if (impl == "direct")
      fail(desc, "oneDNN has no direct convolution for this configuration");
    throw NotApplicable{"oneDNN has no convolution for this configuration"};
  }
  return std::make_unique<WeightedKernel<dnnl::convolution_forward>>(
      desc, ctx, pd, userSrc, userW, userDst, g.hasBias);
}

std::unique_ptr<Kernel> createDeconvolution(const KernelDesc &desc, DnnlContext &ctx) {
  ConvGeom g = convGeometry(desc, /*deconv=*/true);
  std::string impl = desc.requestedImpl().empty() ? "auto" : desc.requestedImpl();
  if (impl == "fft")
    throw NotApplicable{"fft is not a oneDNN algorithm"};
  if (impl != "auto" && impl != "direct")
    fail(desc, "unknown deconvolution impl '" + impl + "' (expected auto or direct)");
  Shape x = desc.inputs[0], y = desc.outputs[0];
  auto userSrc = inDesc(desc, 0), userDst = outDesc(desc, 0);
  auto userW = convWeightDesc(g, true);
  auto biasMd = g.hasBias ? dnnl::memory::desc({g.o}, dt::f32, tag::x) : dnnl::memory::desc();
  dims strides{g.sh, g.sw}, dil{g.dh - 1, g.dw - 1}, pad{g.ph, g.pw};
  auto pd = withUserLayouts<dnnl::deconvolution_forward::primitive_desc>(
      desc, [&](const dnnl::memory::desc &src, const dnnl::memory::desc &dst) {
        dnnl::deconvolution_forward::desc dd(dnnl::prop_kind::forward_inference,
                                             dnnl::algorithm::deconvolution_direct, src,
                                             convWeightAny(g), biasMd, dst, strides, dil, pad,
                                             pad);
        return dnnl::deconvolution_forward::primitive_desc(dd, ctx.engine);
      });
  return std::make_unique<WeightedKernel<dnnl::deconvolution_forward>>(
      desc, ctx, pd, userSrc, userW, userDst, g.hasBias);
}


class InnerProductKernel : public DnnlKernelBase {
public:
  InnerProductKernel(const KernelDesc &desc, DnnlContext &ctx, int64_t M, int64_t K,
                     int64_t N, bool transpose, bool hasBias)
      : DnnlKernelBase(desc, ctx), hasBias_(hasBias), cacheW_(isParam(desc, 1)) {
    auto srcMd = plainDesc({M, K});
    auto dstMd = plainDesc({M, N});
    // Caffe's W [N, K] is the matmul's B [K, N] stored column-major (ba);
    // with transpose W is [K, N] row-major (ab).
    auto userWMd = dnnl::memory::desc({K, N}, dt::f32, transpose ? tag::ab : tag::ba);
    auto anyWMd = dnnl::memory::desc({K, N}, dt::f32, tag::any);
    auto biasMd = hasBias ? plainDesc({1, N}) : dnnl::memory::desc();
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(srcMd, anyWMd, biasMd, dstMd), eng_);
    prim_ = dnnl::matmul(pd);
    impl_ = implOf(pd);
    src_ = handleMem(srcMd, eng_);
    dst_ = handleMem(dstMd, eng_);
    userW_ = handleMem(userWMd, eng_);
    if (hasBias)
      bias_ = handleMem(biasMd, eng_);
    reorderW_ = pd.weights_desc() != userWMd;
    if (reorderW_) {
      w_ = dnnl::memory(pd.weights_desc(), eng_);
      wR_ = dnnl::reorder(userW_, w_);
    } else {
      w_ = userW_;
    }
  }

  void forward(const float *const *in, float *const *out) override {
    bind(src_, in[0]);
    bind(dst_, out[0]);
    if (!reorderW_) {
      bind(userW_, in[1]);
    } else if (!wValid_) {
      bind(userW_, in[1]);
      exec(wR_, {{DNNL_ARG_FROM, userW_}, {DNNL_ARG_TO, w_}});
      wValid_ = cacheW_;
    }
    Args args{{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, w_}, {DNNL_ARG_DST, dst_}};
    if (hasBias_) {
      bind(bias_, in[2]);
      args[DNNL_ARG_BIAS] = bias_;
    }
    exec(prim_, args);
    wait();
  }

  void paramsChanged() override { wValid_ = false; }

private:
  bool hasBias_, cacheW_, reorderW_ = false, wValid_ = false;
  dnnl::matmul prim_;
  dnnl::memory src_, dst_, userW_, w_, bias_;
  dnnl::reorder wR_;
};


std::unique_ptr<Kernel> createInnerProduct(const KernelDesc &desc, DnnlContext &ctx) {
  ops::InnerProductGeometry g = ipGeometry(desc);
  return std::make_unique<InnerProductKernel>(desc, ctx, g.m, g.k, g.n, g.transpose,
                                              desc.inputs.size() == 3);
}

} // namespace

namespace {
std::vector<ConvAlgoKernels> &convAlgoRegistry() {
  static std::vector<ConvAlgoKernels> r;
  return r;
}
} // namespace

ConvAlgoRegistration::ConvAlgoRegistration(ConvAlgoKernels kernels) {
  convAlgoRegistry().push_back(kernels);
}

const ConvAlgoKernels *findConvAlgoKernels(const std::string &name) {
  for (const ConvAlgoKernels &k : convAlgoRegistry())
    if (name == k.name)
      return &k;
  return nullptr;
}

int workspaceThreads(uint64_t memoryLimit, int64_t bytesPerThread) {
  uint64_t threads = omp_in_parallel() ? 1 : uint64_t(omp_get_max_threads());
  if (memoryLimit && bytesPerThread > 0)
    threads = std::min(threads, memoryLimit / uint64_t(bytesPerThread));
  return int(std::max<uint64_t>(threads, 1));
}

ops::ConvProblem convProblem(const KernelDesc &fwd, ops::ConvDirection d) {
  ops::ConvProblem p;
  p.layer = fwd.layer;
  p.direction = d;
  check(fwd, ops::convGeometry(attrsOf<ops::ConvolutionAttrs>(fwd), fwd.inputs[0], p.geometry));
  p.block = fwd.inBlock(0);
  return p;
}

std::string requireApplicable(const KernelDesc &desc, const ops::ConvProblem &p,
                              const std::string &algorithm) {
  const ops::ConvAlgorithmInfo *a = ops::findConvAlgorithm(algorithm);
  if (!a)
    fail(desc, "unknown convolution algorithm '" + algorithm + "' (known: auto, " +
                   ops::convAlgorithmNames() + ")");
  ops::MachineRates here;
  here.onednnWinograd = true; // probed by creating the primitive
  std::string why = a->whyNot(p, here);
  if (!why.empty())
    throw Error(std::string(a->name) + " does not apply to the " +
                ops::convDirectionName(p.direction) + " convolution of layer '" + desc.layer +
                "': " + why);
  // Refused before allocating: a module may name any algorithm (--workspace-limit
  // only steers dlc's own choice).
  const int64_t workspace = a->work(p).workspaceBytes;
  if (desc.memoryLimit && workspace > 0 && uint64_t(workspace) > desc.memoryLimit)
    throw Error(std::string(a->name) + " needs a workspace of " + formatBytes(workspace) +
                " for the " + ops::convDirectionName(p.direction) + " convolution of layer '" +
                desc.layer + "', more than the " + formatBytes(desc.memoryLimit) +
                " the memory limit leaves after the module's tensors");
  return std::string(a->name);
}

ops::InnerProductGeometry ipGeometry(const KernelDesc &desc) {
  ops::InnerProductGeometry g;
  check(desc, ops::innerProductGeometry(attrsOf<ops::InnerProductAttrs>(desc), desc.inputs[0], g));
  return g;
}

DLC_REGISTER_KERNELS(DLC_DNNL_LAYOUT_KERNEL("convolution", Forward, createConvolution, nullptr),
                     DLC_DNNL_LAYOUT_KERNEL("deconvolution", Forward, createDeconvolution,
                                            nullptr),
                     DLC_DNNL_KERNEL("inner_product", Forward, createInnerProduct, nullptr));

} // namespace dnnlk
} // namespace dlc::rt

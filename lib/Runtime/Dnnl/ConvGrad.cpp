//===- ConvGrad.cpp - oneDNN convolution / inner product backward ---------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// convolution_grad / deconvolution_grad: oneDNN (de)convolution_backward_data
// for wrt 0 and (de)convolution_backward_weights for wrt 1 and/or 2 (weights,
// bias), hinted by a forward_training primitive descriptor of the same
// configuration; layouts chosen by oneDNN, with reorders from/to the caller's
// plain buffers; dlc's own algorithms (gemm, fft, winograd) are in their
// files (ConvAlgos.h).
// inner_product_grad: matmuls (dx = dy * W, dW = dy^T * x or x^T * dy for
// transpose, db = ones^T * dy).
//
//===----------------------------------------------------------------------===//

#include "ConvAlgos.h"

#include <algorithm>
#include <cstring>

namespace dlc::rt {
namespace dnnlk {
namespace {

template <bool Deconv> struct ConvPrims;
template <> struct ConvPrims<false> {
  using Fwd = dnnl::convolution_forward;
  using BwdData = dnnl::convolution_backward_data;
  using BwdWeights = dnnl::convolution_backward_weights;
};
template <> struct ConvPrims<true> {
  using Fwd = dnnl::deconvolution_forward;
  using BwdData = dnnl::deconvolution_backward_data;
  using BwdWeights = dnnl::deconvolution_backward_weights;
};

/// Operands: x, w, [b], y, dy. Outputs: the gradients listed in wrt.
template <bool Deconv> class ConvGradKernel : public DnnlKernelBase {
  using P = ConvPrims<Deconv>;

public:
  ConvGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                 const ConvGeom &g, dnnl::algorithm alg)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIn()), outDx_(gd.outputOf(0)),
        outDw_(gd.outputOf(1)), outDb_(gd.outputOf(2)), cacheW_(isParam(desc, 1)) {
    const Shape &x = gd.fwd.inputs[0], &y = gd.fwd.outputs[0];
    dims strides{g.sh, g.sw}, dil{g.dh - 1, g.dw - 1}, pad{g.ph, g.pw};
    auto biasMd = dnnl::memory::desc({g.o}, dt::f32, tag::x);
    typename P::Fwd::desc fd(dnnl::prop_kind::forward_training, alg, anyDesc(x),
                             convWeightAny(g), g.hasBias ? biasMd : dnnl::memory::desc(),
                             anyDesc(y), strides, dil, pad, pad);
    typename P::Fwd::primitive_desc fpd(fd, eng_);
    auto userW = convWeightDesc(g, Deconv);
    // The caller's x, dy and dx in their layouts (docs/layouts.md).
    auto userX = inDesc(desc, 0), userDy = inDesc(desc, dyIdx_);
    if (outDx_ >= 0) {
      typename P::BwdData::desc dd(alg, anyDesc(x), convWeightAny(g), anyDesc(y), strides, dil,
                                   pad, pad);
      typename P::BwdData::primitive_desc dpd(dd, eng_, fpd);
      data_ = typename P::BwdData(dpd);
      dyData_ = Port(eng_, userDy, dpd.diff_dst_desc(), true);
      w_ = Port(eng_, userW, dpd.weights_desc(), true);
      dx_ = Port(eng_, outDesc(desc, size_t(outDx_)), dpd.diff_src_desc(), false);
      impl_ = "data:" + implOf(dpd);
    }
    if (outDw_ >= 0 || outDb_ >= 0) {
      typename P::BwdWeights::desc wd(alg, anyDesc(x), convWeightAny(g),
                                      outDb_ >= 0 ? biasMd : dnnl::memory::desc(), anyDesc(y),
                                      strides, dil, pad, pad);
      typename P::BwdWeights::primitive_desc wpd(wd, eng_, fpd);
      weights_ = typename P::BwdWeights(wpd);
      x_ = Port(eng_, userX, wpd.src_desc(), true);
      shareDy_ = outDx_ >= 0 && wpd.diff_dst_desc() == dyData_.primDesc();
      if (!shareDy_)
        dyWeights_ = Port(eng_, userDy, wpd.diff_dst_desc(), true);
      if (outDw_ >= 0)
        dw_ = Port(eng_, userW, wpd.diff_weights_desc(), false);
      else
        dwScratch_ = dnnl::memory(wpd.diff_weights_desc(), eng_);
      if (outDb_ >= 0)
        db_ = handleMem(biasMd, eng_);
      impl_ += (impl_.empty() ? "weights:" : " weights:") + implOf(wpd);
    }
  }

  void forward(const float *const *in, float *const *out) override {
    const float *dy = in[dyIdx_];
    if (outDx_ >= 0) {
      pull(dyData_, dy);
      pullCached(w_, in[1], wValid_, cacheW_);
      bindOut(dx_, out[outDx_]);
      exec(data_, {{DNNL_ARG_DIFF_DST, dyData_.mem()},
                   {DNNL_ARG_WEIGHTS, w_.mem()},
                   {DNNL_ARG_DIFF_SRC, dx_.mem()}});
      push(dx_);
    }
    if (outDw_ >= 0 || outDb_ >= 0) {
      pull(x_, in[0]);
      if (!shareDy_)
        pull(dyWeights_, dy);
      Args args{{DNNL_ARG_SRC, x_.mem()},
                {DNNL_ARG_DIFF_DST, shareDy_ ? dyData_.mem() : dyWeights_.mem()}};
      if (outDw_ >= 0) {
        bindOut(dw_, out[outDw_]);
        args[DNNL_ARG_DIFF_WEIGHTS] = dw_.mem();
      } else {
        args[DNNL_ARG_DIFF_WEIGHTS] = dwScratch_;
      }
      if (outDb_ >= 0) {
        bind(db_, out[outDb_]);
        args[DNNL_ARG_DIFF_BIAS] = db_;
      }
      exec(weights_, args);
      if (outDw_ >= 0)
        push(dw_);
    }
    wait();
  }

  void paramsChanged() override { wValid_ = false; }

private:
  size_t dyIdx_;
  int outDx_, outDw_, outDb_;
  bool cacheW_, wValid_ = false, shareDy_ = false;
  typename P::BwdData data_;
  typename P::BwdWeights weights_;
  Port dyData_, w_, dx_, x_, dyWeights_, dw_;
  dnnl::memory dwScratch_, db_;
};

/// Inner product backward on the [M, K] view of x: dx = dy * W (W as [N, K]),
/// dW = dy^T * x ([N, K]) or, with transpose (W is [K, N]), x^T * dy; db is
/// the column sum of dy.
class InnerProductGradKernel : public DnnlKernelBase {
public:
  InnerProductGradKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc &gd,
                         int64_t M, int64_t K, int64_t N, bool transpose)
      : DnnlKernelBase(desc, ctx), dyIdx_(gd.gradIn()), outDx_(gd.outputOf(0)),
        outDw_(gd.outputOf(1)), outDb_(gd.outputOf(2)), cacheW_(isParam(desc, 1)) {
    auto dyMd = plainDesc({M, N});
    if (outDx_ >= 0) {
      auto dxMd = plainDesc({M, K});
      // W as the [N, K] matmul B: Caffe's [N, K] row-major (ab) or, with
      // transpose, [K, N] row-major (ba).
      dnnl::memory::desc userW({N, K}, dt::f32, transpose ? tag::ba : tag::ab);
      dnnl::memory::desc anyW({N, K}, dt::f32, tag::any);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(dyMd, anyW, dxMd), eng_);
      data_ = dnnl::matmul(pd);
      impl_ = "data:" + implOf(pd);
      dyD_ = handleMem(dyMd, eng_);
      dx_ = handleMem(dxMd, eng_);
      w_ = Port(eng_, userW, pd.weights_desc(), true);
    }
    if (outDw_ >= 0) {
      dnnl::memory::desc a, b, c;
      if (!transpose) { // [N, K] = dy^T [N, M] * x [M, K]
        a = dnnl::memory::desc({N, M}, dt::f32, tag::ba);
        b = plainDesc({M, K});
        c = plainDesc({N, K});
      } else { // [K, N] = x^T [K, M] * dy [M, N]
        a = dnnl::memory::desc({K, M}, dt::f32, tag::ba);
        b = plainDesc({M, N});
        c = plainDesc({K, N});
      }
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), eng_);
      weights_ = dnnl::matmul(pd);
      impl_ += std::string(impl_.empty() ? "" : " ") + "weights:" + implOf(pd);
      transpose_ = transpose;
      wa_ = handleMem(a, eng_);
      wb_ = handleMem(b, eng_);
      dw_ = handleMem(c, eng_);
    }
    if (outDb_ >= 0) {
      // db [1, N] = ones [1, M] * dy [M, N] (a GEMV; oneDNN's sum reduction
      // over the rows is a reference implementation).
      auto onesMd = plainDesc({1, M});
      auto dbMd = plainDesc({1, N});
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(onesMd, dyMd, dbMd), eng_);
      bias_ = dnnl::matmul(pd);
      impl_ += std::string(impl_.empty() ? "" : " ") + "bias:" + implOf(pd);
      ones_.assign(size_t(M), 1.f);
      onesMem_ = handleMem(onesMd, eng_);
      bind(onesMem_, ones_.data());
      dyB_ = handleMem(dyMd, eng_);
      db_ = handleMem(dbMd, eng_);
    }
  }

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *dy = in[dyIdx_];
    if (outDx_ >= 0) {
      bind(dyD_, dy);
      bind(dx_, out[outDx_]);
      pullCached(w_, in[1], wValid_, cacheW_);
      exec(data_, {{DNNL_ARG_SRC, dyD_}, {DNNL_ARG_WEIGHTS, w_.mem()}, {DNNL_ARG_DST, dx_}});
    }
    if (outDw_ >= 0) {
      bind(wa_, transpose_ ? x : dy);
      bind(wb_, transpose_ ? dy : x);
      bind(dw_, out[outDw_]);
      exec(weights_, {{DNNL_ARG_SRC, wa_}, {DNNL_ARG_WEIGHTS, wb_}, {DNNL_ARG_DST, dw_}});
    }
    if (outDb_ >= 0) {
      bind(dyB_, dy);
      bind(db_, out[outDb_]);
      exec(bias_, {{DNNL_ARG_SRC, onesMem_}, {DNNL_ARG_WEIGHTS, dyB_}, {DNNL_ARG_DST, db_}});
    }
    wait();
  }

  void paramsChanged() override { wValid_ = false; }

private:
  size_t dyIdx_;
  int outDx_, outDw_, outDb_;
  bool cacheW_, wValid_ = false, transpose_ = false;
  dnnl::matmul data_, weights_;
  dnnl::matmul bias_;
  std::vector<float> ones_;
  Port w_;
  dnnl::memory dyD_, dx_, wa_, wb_, dw_, onesMem_, dyB_, db_;
};

} // namespace

template <bool Deconv>
static std::unique_ptr<Kernel> createConvGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  ConvGeom g = convGeometry(gd.fwd, Deconv);
  std::string impl = desc.requestedImpl().empty() ? "auto" : desc.requestedImpl();
  dnnl::algorithm alg = dnnl::algorithm::convolution_direct;
  if (Deconv) {
    if (impl != "auto" && impl != "direct")
      fail(desc, "unknown deconvolution impl '" + impl + "' (expected auto or direct)");
    alg = dnnl::algorithm::deconvolution_direct;
  } else {
    if (impl != "auto") {
      // Data and weight gradients are separate kernels after dl-autodiff; a
      // kernel computing both must suit both directions.
      if (gd.wants(0))
        impl = requireApplicable(desc, convProblem(gd.fwd, ops::ConvDirection::BackwardData),
                                 impl);
      if (gd.wants(1) || gd.wants(2))
        impl = requireApplicable(
            desc, convProblem(gd.fwd, ops::ConvDirection::BackwardWeights), impl);
    }
    if (const ConvAlgoKernels *own = findConvAlgoKernels(impl))
      return own->backward(desc, ctx);
    if (impl == "auto")
      alg = dnnl::algorithm::convolution_auto;
    else if (impl == "onednn-winograd")
      alg = dnnl::algorithm::convolution_winograd;
    else if (impl != "direct")
      fail(desc, "no kernel for convolution algorithm '" + impl + "'");
  }
  try {
    return std::make_unique<ConvGradKernel<Deconv>>(desc, ctx, gd, g, alg);
  } catch (const dnnl::error &e) {
    if (e.status != dnnl_unimplemented)
      throw;
    if (impl == "onednn-winograd")
      throw Error("onednn-winograd not available for layer '" + desc.layer +
                  "': oneDNN 2.6 has no Winograd convolution backward for this shape on this "
                  "CPU");
    if (impl == "direct")
      fail(desc, "oneDNN has no direct backward for this configuration");
    throw NotApplicable{"oneDNN has no convolution backward for this configuration"};
  }
}

static std::unique_ptr<Kernel> createInnerProductGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  ops::InnerProductGeometry g = ipGeometry(gd.fwd);
  return std::make_unique<InnerProductGradKernel>(desc, ctx, gd, g.m, g.k, g.n, g.transpose);
}

DLC_REGISTER_KERNELS(
    DLC_DNNL_LAYOUT_KERNEL("convolution", Backward, createConvGrad<false>, nullptr),
    DLC_DNNL_LAYOUT_KERNEL("deconvolution", Backward, createConvGrad<true>, nullptr),
    DLC_DNNL_KERNEL("inner_product", Backward, createInnerProductGrad, nullptr));

} // namespace dnnlk
} // namespace dlc::rt

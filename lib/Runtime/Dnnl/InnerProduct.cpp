//===- InnerProduct.cpp - oneDNN inner product (matmul) kernel ------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Caffe's InnerProduct: x viewed as [M, K] (M = prod(shape[:axis])),
// y[M, N] = x * W^T + b with W [N, K], or x * W with W [K, N] when
// transpose is set. Implemented as a oneDNN matmul whose weight layout is
// chosen by oneDNN; the reordered weight is cached until paramsChanged().
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

namespace dlc::rt {
namespace dnnlk {
namespace {

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

} // namespace

IpGeom ipGeometry(const KernelDesc &desc) {
  checkArity(desc, 2, 3, 1);
  checkNonEmpty(desc);
  const Shape &x = desc.inputs[0];
  int64_t rank = int64_t(x.size());
  if (rank < 1)
    fail(desc, "input must have rank >= 1");
  int64_t axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), rank);
  bool transpose = desc.attrs.getBool("transpose", false);
  int64_t M = prod(x, 0, axis), K = prod(x, axis, rank);
  const Shape &w = desc.inputs[1];
  int64_t N = desc.attrs.getInt("num_output", w.size() == 2 ? (transpose ? w[1] : w[0]) : -1);
  if (N < 1)
    fail(desc, "num_output must be >= 1");
  Shape wantW = transpose ? Shape{K, N} : Shape{N, K};
  if (w != wantW)
    fail(desc, "weight shape " + shapeToString(w) + " does not match the expected " +
                   shapeToString(wantW) + (transpose ? " (transpose)" : ""));
  bool hasBias = desc.inputs.size() == 3;
  if (hasBias && numElements(desc.inputs[2]) != N)
    fail(desc, "bias must have " + std::to_string(N) + " elements, got " +
                   shapeToString(desc.inputs[2]));
  Shape y(x.begin(), x.begin() + axis);
  y.push_back(N);
  checkOutputShape(desc, y);
  return {M, K, N, transpose, hasBias};
}

std::unique_ptr<Kernel> createInnerProduct(const KernelDesc &desc, DnnlContext &ctx) {
  IpGeom g = ipGeometry(desc);
  return std::make_unique<InnerProductKernel>(desc, ctx, g.m, g.k, g.n, g.transpose, g.hasBias);
}

} // namespace dnnlk
} // namespace dlc::rt

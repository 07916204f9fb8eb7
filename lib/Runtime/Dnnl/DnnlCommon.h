//===- DnnlCommon.h - Shared helpers of the oneDNN kernels ------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Runtime/Dnnl: the DnnlContext definition, a kernel base
// class and description-checking helpers used by every oneDNN kernel.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_RUNTIME_DNNL_DNNLCOMMON_H
#define DLC_LIB_RUNTIME_DNNL_DNNLCOMMON_H

#include "dlc/Runtime/Dnnl.h"

#include <algorithm>
#include <cfloat>

#include <oneapi/dnnl/dnnl.hpp>

#include <string>
#include <unordered_map>
#include <vector>

namespace dlc::rt {

/// One CPU engine (index 0) and one in-order stream.
class DnnlContext {
public:
  DnnlContext() : engine(dnnl::engine::kind::cpu, 0), stream(engine) {}
  dnnl::engine engine;
  dnnl::stream stream;
};

namespace dnnlk {

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using Args = std::unordered_map<int, dnnl::memory>;

/// Throws Error("layer 'name' (op): msg").
[[noreturn]] void fail(const KernelDesc &desc, const std::string &msg);

/// Signals "oneDNN has no primitive for this configuration": the factory
/// turns it into nullptr so that the caller falls back to the reference.
struct Unsupported {
  std::string why;
};

/// Dense row-major f32 descriptor of `shape` (rank 0 is treated as [1]).
dnnl::memory::desc plainDesc(const Shape &shape);
/// The same with format_tag::any (lets oneDNN choose a blocked layout).
dnnl::memory::desc anyDesc(const Shape &shape);

/// A memory object without a buffer; bind() gives it the caller's pointer.
inline dnnl::memory handleMem(const dnnl::memory::desc &md, const dnnl::engine &eng) {
  return dnnl::memory(md, eng, DNNL_MEMORY_NONE);
}
inline void bind(dnnl::memory &m, const float *p) {
  m.set_data_handle(const_cast<float *>(p));
}

/// Checks operand/result counts: min..max inputs, exactly `outputs` results,
/// and that isParam (when given) has one entry per input.
void checkArity(const KernelDesc &desc, size_t minIn, size_t maxIn, size_t outputs);
/// Checks that every input and output has a positive element count.
void checkNonEmpty(const KernelDesc &desc);
/// Checks desc.outputs[idx] == expected.
void checkOutputShape(const KernelDesc &desc, const Shape &expected, size_t idx = 0);
/// Normalizes a possibly negative axis against `rank`.
int64_t canonicalAxis(const KernelDesc &desc, int64_t axis, int64_t rank,
                      const char *what = "axis");
/// A per-spatial-axis attribute (`kernel`, `stride`, ...): empty/absent -> def
/// for every axis, one entry -> broadcast, else exactly `n` entries.
std::vector<int64_t> spatialAttr(const KernelDesc &desc, const std::string &name,
                                 size_t n, int64_t def, bool required = false);
/// desc.isParam[i] (false when isParam is shorter).
bool isParam(const KernelDesc &desc, size_t i);
/// Product of shape[from:to).
int64_t prod(const Shape &shape, int64_t from, int64_t to);

/// A caller buffer (dense row-major) seen by a primitive that may want another
/// layout: `mem()` is what the primitive gets; inputs are reordered in
/// (DnnlKernelBase::pull), outputs reordered out (DnnlKernelBase::push).
class Port {
public:
  Port() = default;
  Port(const dnnl::engine &eng, const dnnl::memory::desc &user,
       const dnnl::memory::desc &prim, bool input);
  dnnl::memory &mem() { return mem_; }
  const dnnl::memory::desc &primDesc() const { return primMd_; }
  bool reorders() const { return reorder_; }

private:
  friend class DnnlKernelBase;
  dnnl::memory user_, mem_;
  dnnl::memory::desc primMd_;
  dnnl::reorder r_;
  bool reorder_ = false, input_ = true;
};

/// Common base: engine/stream, name, and error translation around execution.
class DnnlKernelBase : public Kernel {
public:
  DnnlKernelBase(const KernelDesc &desc, DnnlContext &ctx)
      : eng_(ctx.engine), strm_(ctx.stream), layer_(desc.layer), op_(desc.op) {}
  std::string implName() const override { return impl_; }

protected:
  /// Executes `p` on the stream; dnnl errors become Error naming the layer.
  void exec(dnnl::primitive &p, const Args &args);
  /// Waits for the stream (end of forward()).
  void wait();
  /// Input port: binds `p` and reorders it into the primitive's layout.
  void pull(Port &port, const float *p);
  /// The same for a parameter-like input whose reordered copy is kept while
  /// `valid` (set to `cache` after a reorder).
  void pullCached(Port &port, const float *p, bool &valid, bool cache);
  /// Output port: binds `p` (before the primitive runs).
  void bindOut(Port &port, float *p);
  /// Output port: reorders the primitive's result to the caller's buffer.
  void push(Port &port);

  dnnl::engine eng_;
  dnnl::stream strm_;
  std::string layer_, op_;
  std::string impl_;
};

/// "onednn:<impl info>" of a primitive descriptor.
std::string implOf(const dnnl::primitive_desc_base &pd);

/// Validated geometry of a 2-D (de)convolution (Convolution.cpp).
struct ConvGeom {
  int64_t n, c, h, w;   // input
  int64_t o, oh, ow;    // output
  int64_t g;            // groups
  int64_t kh, kw, sh, sw, ph, pw, dh, dw; // Caffe conventions (dilation >= 1)
  bool hasBias;
};
/// Checks a (de)convolution description; throws Unsupported for non-2-D.
ConvGeom convGeometry(const KernelDesc &desc, bool deconv);
/// Caffe's weight layout ([O, C/g, kh, kw], deconvolution [C, O/g, kh, kw]).
dnnl::memory::desc convWeightDesc(const ConvGeom &g, bool deconv);
/// The weight dims with format_tag::any.
dnnl::memory::desc convWeightAny(const ConvGeom &g);
/// Caffe's im2col of one image [C, H, W] into col [C*kh*kw, OH*OW] (the rows
/// of group g are contiguous, so col is [G, K, OH*OW], K = C/G*kh*kw).
void convIm2col(const ConvGeom &g, const float *x, float *col);
/// The adjoint of convIm2col: x = sum of col's entries at their positions
/// (x is overwritten).
void convCol2im(const ConvGeom &g, const float *col, float *x);

/// Validated geometry of a 2-D pooling (Pooling.cpp): oneDNN algorithm
/// (max / avg_include_padding), padding_r reproducing Caffe's output size,
/// and the ave rescale factors (offset in an output plane, kh*kw / count).
struct PoolGeom {
  dnnl::algorithm alg;
  dims strides, kernel, padL, padR;
  int64_t planes, planeSize;
  std::vector<std::pair<int64_t, float>> fix;
};
PoolGeom poolGeometry(const KernelDesc &desc);

/// Caffe's max-pooling windows over plain NCHW planes, for the direct max
/// pooling kernels (forward in Pooling.cpp, backward in PoolingGrad.cpp).
/// `desc` is the forward description.
class MaxPoolWindows {
public:
  MaxPoolWindows(const KernelDesc &desc, const PoolGeom &g)
      : planes_(desc.inputs[0][0] * desc.inputs[0][1]), h_(desc.inputs[0][2]),
        w_(desc.inputs[0][3]), oh_(desc.outputs[0][2]), ow_(desc.outputs[0][3]),
        kh_(g.kernel[0]), kw_(g.kernel[1]), sh_(g.strides[0]), sw_(g.strides[1]),
        ph_(g.padL[0]), pw_(g.padL[1]) {}

  int64_t planes() const { return planes_; }
  int64_t inPlane() const { return h_ * w_; }
  int64_t outPlane() const { return oh_ * ow_; }

  /// Calls f(output index, index of the window's first maximum or -1 for an
  /// empty window) for every window of plane `xp`: the window clipped to the
  /// input, a later element winning only when strictly greater than the
  /// running maximum started at -FLT_MAX (Caffe's forward and its mask).
  template <typename F>
  void forEachWindow(const float *xp, F &&f) const {
    for (int64_t oh = 0; oh < oh_; ++oh) {
      int64_t hs = oh * sh_ - ph_, he = std::min(hs + kh_, h_);
      hs = std::max<int64_t>(hs, 0);
      for (int64_t ow = 0; ow < ow_; ++ow) {
        int64_t ws = ow * sw_ - pw_, we = std::min(ws + kw_, w_);
        ws = std::max<int64_t>(ws, 0);
        float best = -FLT_MAX;
        int64_t arg = -1;
        for (int64_t i = hs; i < he; ++i)
          for (int64_t j = ws; j < we; ++j)
            if (xp[i * w_ + j] > best) {
              best = xp[i * w_ + j];
              arg = i * w_ + j;
            }
        f(oh * ow_ + ow, arg);
      }
    }
  }

private:
  int64_t planes_, h_, w_, oh_, ow_, kh_, kw_, sh_, sw_, ph_, pw_;
};

/// Validated inner-product geometry (InnerProduct.cpp): y[M, N] = x[M, K] W.
struct IpGeom {
  int64_t m, k, n;
  bool transpose, hasBias;
};
IpGeom ipGeometry(const KernelDesc &desc);
/// Validated LRN parameters (Pooling.cpp), Caffe's k already applied.
struct LrnGeom {
  dnnl::algorithm alg;
  int64_t size;
  float alpha, beta, k;
};
LrnGeom lrnGeometry(const KernelDesc &desc);

/// oneDNN's plain-NCHW pooling and LRN are reference-grade on some ISAs; its
/// JIT kernels want channel-blocked layouts. `make(src, dst)` builds a
/// primitive descriptor (or throws dnnl_unimplemented); returns the one for
/// plain NCHW when it is a JIT implementation, else the first JIT one in
/// nChw16c / nChw8c, else the plain one.
template <typename PD, typename Make>
PD pickLayout(const Shape &x, const Shape &y, Make &&make) {
  PD plain = make(plainDesc(x), plainDesc(y));
  if (std::string(plain.impl_info_str()).find("jit") != std::string::npos)
    return plain;
  dims xd(x.begin(), x.end()), yd(y.begin(), y.end());
  for (tag t : {tag::nChw16c, tag::nChw8c}) {
    try {
      PD pd = make(dnnl::memory::desc(xd, dt::f32, t), dnnl::memory::desc(yd, dt::f32, t));
      if (std::string(pd.impl_info_str()).find("jit") != std::string::npos)
        return pd;
    } catch (const dnnl::error &e) {
      if (e.status != dnnl_unimplemented)
        throw;
    }
  }
  return plain;
}

/// A parsed `<op>_grad` description (docs/autodiff.md): operands are the
/// forward operands, the forward results, then one gradient per result;
/// results are the gradients of the `wrt` operands.
struct GradDesc {
  KernelDesc fwd;            ///< the forward op's description (op without _grad)
  std::vector<int64_t> wrt;  ///< ascending forward operand indices
  size_t numOperands = 0;    ///< forward operands
  size_t numResults = 0;     ///< forward results
  size_t resultIdx(size_t r = 0) const { return numOperands + r; }
  size_t gradIdx(size_t r = 0) const { return numOperands + numResults + r; }
  /// Index of operand `i`'s gradient among the kernel's outputs, or -1.
  int outputOf(int64_t i) const;
};
/// Checks the grad layout (counts, `wrt`, gradient and output shapes) for a
/// forward op with `numResults` results; throws Error.
GradDesc parseGrad(const KernelDesc &desc, size_t numResults = 1);

// Per-family factories (return nullptr when oneDNN cannot do it exactly).
std::unique_ptr<Kernel> createConvolution(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createDeconvolution(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createInnerProduct(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createPooling(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createLrn(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createActivation(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createSoftmax(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createBatchNorm(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createScaleBias(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createEltwise(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createConcat(const KernelDesc &desc, DnnlContext &ctx);

// Backward (`<op>_grad`) factories, same conventions.
std::unique_ptr<Kernel> createConvolutionGrad(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createDeconvolutionGrad(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createInnerProductGrad(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createPoolingGrad(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createLrnGrad(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createActivationGrad(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createSoftmaxGrad(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createBatchNormGrad(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createScaleBiasGrad(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createEltwiseGrad(const KernelDesc &desc, DnnlContext &ctx);
std::unique_ptr<Kernel> createConcatGrad(const KernelDesc &desc, DnnlContext &ctx);

} // namespace dnnlk
} // namespace dlc::rt

#endif // DLC_LIB_RUNTIME_DNNL_DNNLCOMMON_H

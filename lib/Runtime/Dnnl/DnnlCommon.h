//===- DnnlCommon.h - Shared helpers of the oneDNN kernels ------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Runtime/Dnnl: the DnnlContext definition, a kernel base
// class and the helpers the kernel families share: memory descriptors and
// ports, the op library's geometry in oneDNN's terms, the reasons a valid
// description is left to another backend (whyNot), and the registration
// macro. Factories receive descriptions already validated against the op
// library (validateKernelDesc) and do not re-check them.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_RUNTIME_DNNL_DNNLCOMMON_H
#define DLC_LIB_RUNTIME_DNNL_DNNLCOMMON_H

#include "dlc/Runtime/Dnnl.h"
#include "dlc/Runtime/KernelRegistry.h"

#include <algorithm>
#include <cfloat>

#include <oneapi/dnnl/dnnl.hpp>

#include <optional>
#include <string>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dlc::rt {

/// One CPU engine (index 0) and one in-order stream: the oneDNN backend's
/// per-executor state.
class DnnlContext : public BackendContext {
public:
  DnnlContext() : engine(dnnl::engine::kind::cpu, 0), stream(engine) {}
  dnnl::engine engine;
  dnnl::stream stream;
  /// State that kernels of one executor share, one object per key, created
  /// on first use (an LSTM's forward hands its gates to its backward:
  /// RecurrentLstm.cpp). Users must check the state is theirs: the key is
  /// only a hint.
  template <typename T>
  std::shared_ptr<T> shared(const std::string &key) {
    std::shared_ptr<void> &p = shared_[key];
    if (!p)
      p = std::make_shared<T>();
    return std::static_pointer_cast<T>(p);
  }

private:
  std::map<std::string, std::shared_ptr<void>> shared_;
};

namespace dnnlk {

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using Args = std::unordered_map<int, dnnl::memory>;

/// Throws Error("layer 'name' (op): msg").
[[noreturn]] inline void fail(const KernelDesc &desc, const std::string &msg) { desc.fail(msg); }

/// Dense row-major f32 descriptor of `shape` (rank 0 is treated as [1]).
dnnl::memory::desc plainDesc(const Shape &shape);
/// `shape` in the storage layout with channel block `block` (docs/layouts.md):
/// plainDesc for 0, nChw8c / nChw16c otherwise.
dnnl::memory::desc layoutDesc(const Shape &shape, int block);
/// The caller's buffer of input / output i of `desc`, in its layout.
inline dnnl::memory::desc inDesc(const KernelDesc &desc, size_t i) {
  return layoutDesc(desc.inputs[i], desc.inBlock(i));
}
inline dnnl::memory::desc outDesc(const KernelDesc &desc, size_t i) {
  return layoutDesc(desc.outputs[i], desc.outBlock(i));
}
/// The same with format_tag::any (lets oneDNN choose a blocked layout).
dnnl::memory::desc anyDesc(const Shape &shape);

/// A memory object without a buffer; bind() gives it the caller's pointer.
inline dnnl::memory handleMem(const dnnl::memory::desc &md, const dnnl::engine &eng) {
  return dnnl::memory(md, eng, DNNL_MEMORY_NONE);
}
inline void bind(dnnl::memory &m, const float *p) {
  m.set_data_handle(const_cast<float *>(p));
}

/// desc.isParam[i] (false when isParam is shorter).
inline bool isParam(const KernelDesc &desc, size_t i) { return desc.param(i); }

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

/// Primitives on the caller's plain buffers (activations, softmax, a
/// reduction): the first reads input 0 (DNNL_ARG_SRC, `src`) into output 0
/// (DNNL_ARG_DST, `dst`), the others run in place on output 0. Supports in
/// place when src and dst have the same size.
class ChainKernel : public DnnlKernelBase {
public:
  ChainKernel(const KernelDesc &desc, DnnlContext &ctx, const dnnl::memory::desc &md)
      : ChainKernel(desc, ctx, md, md) {}
  ChainKernel(const KernelDesc &desc, DnnlContext &ctx, const dnnl::memory::desc &src,
              const dnnl::memory::desc &dst);
  /// Appends the primitive of `pd` to the chain.
  template <typename Prim>
  void append(const typename Prim::primitive_desc &pd) {
    prims_.push_back(Prim(pd));
    impl_ += (impl_.empty() ? "" : "+") + implOf(pd);
  }
  void forward(const float *const *in, float *const *out) override;
  bool supportsInPlace() const override { return inPlace_; }

private:
  std::vector<dnnl::primitive> prims_;
  dnnl::memory src_, dst_;
  bool inPlace_;
};

/// One oneDNN eltwise step: the algorithm and its alpha, beta.
struct EltwiseStep {
  dnnl::algorithm alg;
  float alpha = 0.f, beta = 0.f;
};
/// The inference primitive descriptor of `s` on `md`.
dnnl::eltwise_forward::primitive_desc
eltwisePd(const EltwiseStep &s, const dnnl::memory::desc &md, const dnnl::engine &eng,
          dnnl::prop_kind prop = dnnl::prop_kind::forward_inference);
/// The eltwise steps (post-op form) of a validated pointwise layer
/// (relu, sigmoid, ..., power, clip, dropout at inference: none), appended
/// to `steps`; returns why there are none ("" on success).
std::string activationSteps(const KernelDesc &desc, std::vector<EltwiseStep> &steps);
/// A ChainKernel of eltwise primitives (Neuron.cpp) on input 0 viewed as
/// output 0's dense buffer of the same size.
std::unique_ptr<Kernel> eltwiseChain(const KernelDesc &desc, DnnlContext &ctx,
                                     const std::vector<EltwiseStep> &steps);

/// A same-shape backward primitive (activations, softmax): output 0
/// (DNNL_ARG_DIFF_SRC) from the incoming gradient, input `dyIdx`
/// (DNNL_ARG_DIFF_DST), and input `dataIdx` as `dataArg` (x as
/// DNNL_ARG_SRC or y as DNNL_ARG_DST).
class UnaryGradKernel : public DnnlKernelBase {
public:
  UnaryGradKernel(const KernelDesc &desc, DnnlContext &ctx, const dnnl::memory::desc &md,
                  dnnl::primitive prim, const dnnl::primitive_desc_base &pd, int dataArg,
                  size_t dataIdx, size_t dyIdx);
  void forward(const float *const *in, float *const *out) override;

private:
  dnnl::primitive prim_;
  int dataArg_;
  size_t dataIdx_, dyIdx_;
  dnnl::memory data_, dy_, dx_;
};

/// A primitive with sources DNNL_ARG_MULTIPLE_SRC + i (input i) and one
/// destination (output 0): oneDNN sum and concat.
class MultiSrcKernel : public DnnlKernelBase {
public:
  MultiSrcKernel(const KernelDesc &desc, DnnlContext &ctx, dnnl::primitive prim,
                 const dnnl::primitive_desc_base &pd,
                 const std::vector<dnnl::memory::desc> &srcs, const dnnl::memory::desc &dst,
                 bool inPlace);
  void forward(const float *const *in, float *const *out) override;
  bool supportsInPlace() const override { return inPlace_; }

private:
  dnnl::primitive prim_;
  bool inPlace_;
  std::vector<dnnl::memory> srcs_;
  dnnl::memory dst_;
};

/// The op library's [outer, channels, inner] split of a validated
/// description's input 0 around `axis` (canonical in the result).
ops::AxisSplit axisSplit(const KernelDesc &desc, int64_t axis);

/// Validated geometry of a 2-D (de)convolution (Convolution.cpp).
struct ConvGeom {
  int64_t n, c, h, w;   // input
  int64_t o, oh, ow;    // output
  int64_t g;            // groups
  int64_t kh, kw, sh, sw, ph, pw, dh, dw; // Caffe conventions (dilation >= 1)
  bool hasBias;
};
/// The op library's geometry of a validated (de)convolution description, in
/// oneDNN's 2-D terms; NotApplicable for other than 2 spatial axes.
ConvGeom convGeometry(const KernelDesc &desc, bool deconv);
/// Caffe's weight layout ([O, C/g, kh, kw], deconvolution [C, O/g, kh, kw]).
dnnl::memory::desc convWeightDesc(const ConvGeom &g, bool deconv);
/// The weight dims with format_tag::any.
dnnl::memory::desc convWeightAny(const ConvGeom &g);

/// A validated 2-D pooling in oneDNN's terms (Pooling.cpp): the op library's
/// geometry, the oneDNN algorithm (max / avg_include_padding), the padding_r
/// that reproduces Caffe's output size, and the ave rescale factors (offset
/// in an output plane, kh*kw / Caffe's count) of the windows that overhang
/// the padded input.
struct PoolGeom {
  ops::PoolGeometry g;
  dnnl::algorithm alg;
  dims strides, kernel, padL, padR;
  std::vector<std::pair<int64_t, float>> fix;
  /// Multiplies the outputs of every plane of `y` (the pooling's output
  /// shape) by their rescale factor.
  void rescale(float *y) const;
  /// The oneDNN pooling on src / dst memory descriptors in a layout.
  dnnl::pooling_forward::desc forwardDesc(dnnl::prop_kind prop, const dnnl::memory::desc &src,
                                          const dnnl::memory::desc &dst) const;
  dnnl::pooling_backward::desc backwardDesc(const dnnl::memory::desc &src,
                                            const dnnl::memory::desc &dst) const;
};
/// The geometry of a validated pooling description that poolWhyNot accepts.
PoolGeom poolGeometry(const KernelDesc &desc);
/// Why oneDNN cannot run a validated pooling description, or "": stochastic
/// pooling, a window that starts beyond the input.
std::string poolWhyNot(const KernelDesc &desc);

/// Caffe's max-pooling windows over plain NCHW planes, for the direct max
/// pooling kernels (forward in Pooling.cpp, backward in PoolingGrad.cpp).
class MaxPoolWindows {
public:
  /// `inBlock` / `outBlock`: the channel blocks of the input and output
  /// layouts (docs/layouts.md; 0 = plain): a plane's elements are then
  /// `inStep()` / `outStep()` floats apart.
  MaxPoolWindows(const ops::PoolGeometry &g, int inBlock = 0, int outBlock = 0)
      : planes_(g.batch * g.channels), c_(g.channels), h_(g.height), w_(g.width), oh_(g.oh),
        ow_(g.ow), kh_(g.kh), kw_(g.kw), sh_(g.sh), sw_(g.sw), ph_(g.ph), pw_(g.pw),
        inBlock_(inBlock), outBlock_(outBlock) {}

  int64_t planes() const { return planes_; }
  int64_t inPlane() const { return h_ * w_; }
  int64_t outPlane() const { return oh_ * ow_; }
  int64_t inStep() const { return inBlock_ ? inBlock_ : 1; }
  int64_t outStep() const { return outBlock_ ? outBlock_ : 1; }
  /// Offset of plane p's first element in the input / output.
  int64_t inBase(int64_t p) const { return base(p, inPlane(), inBlock_); }
  int64_t outBase(int64_t p) const { return base(p, outPlane(), outBlock_); }

  /// Calls f(output index, index of the window's first maximum or -1 for an
  /// empty window) for every window of plane `xp`: the window clipped to the
  /// input, a later element winning only when strictly greater than the
  /// running maximum started at -FLT_MAX (Caffe's forward and its mask).
  /// `xp` is the plane's first element (inBase); positions are plane
  /// indices (h * W + w), not offsets.
  template <typename F>
  void forEachWindow(const float *xp, F &&f) const {
    const int64_t step = inStep();
    forEachOutput([&](int64_t o, int64_t hs, int64_t he, int64_t ws, int64_t we) {
      float best = -FLT_MAX;
      int64_t arg = -1;
      for (int64_t i = hs; i < he; ++i)
        for (int64_t j = ws; j < we; ++j)
          if (float v = xp[(i * w_ + j) * step]; v > best) {
            best = v;
            arg = i * w_ + j;
          }
      f(o, arg);
    });
  }

  /// The maxima over the B channels of one channel block at once, when input
  /// and output share the blocked layout: `xb` is the block's first input
  /// element (nb * H * W * B, nb = n * C/B + c/B); f(output position, best)
  /// with best[l] lane l's maximum (-FLT_MAX for an empty window). The lanes
  /// are contiguous, so the scan vectorizes.
  template <int B, typename F>
  void forEachWindowBlocked(const float *xb, F &&f) const {
    float best[B];
    forEachOutput([&](int64_t o, int64_t hs, int64_t he, int64_t ws, int64_t we) {
      for (int l = 0; l < B; ++l)
        best[l] = -FLT_MAX;
      for (int64_t i = hs; i < he; ++i)
        for (int64_t j = ws; j < we; ++j) {
          const float *v = xb + (i * w_ + j) * B;
          for (int l = 0; l < B; ++l)
            best[l] = v[l] > best[l] ? v[l] : best[l];
        }
      f(o, static_cast<const float *>(best));
    });
  }
  /// Channel blocks of the blocked layout (N * C / B).
  int64_t blocks(int block) const { return planes_ / block; }

  /// Plain layout: the maxima of plane `xp` into `yp` (forEachWindow's
  /// values). Rows and columns of outputs whose windows lie inside the input
  /// are swept one window offset at a time across a whole output row, which
  /// vectorizes; `v > best ? v : best` in Caffe's scan order gives Caffe's
  /// values (NaN never wins, -0 does not replace +0 seen first).
  void maxPlain(const float *xp, float *yp) const {
    int64_t oh0, oh1, ow0, ow1;
    interior(oh0, oh1, ow0, ow1);
    // Rows of fewer than 8 interior outputs: the loops' overhead outweighs
    // the vectors (measured on LeNet's pool2, 4 outputs a row).
    if (oh0 >= oh1 || ow1 - ow0 < 8)
      return forEachWindow(xp, [&](int64_t o, int64_t arg) {
        yp[o] = arg < 0 ? -FLT_MAX : xp[arg];
      });
    forEachBorderOutput(oh0, oh1, ow0, ow1, [&](int64_t o, int64_t hs, int64_t he, int64_t ws,
                                                 int64_t we) {
      float best = -FLT_MAX;
      for (int64_t i = hs; i < he; ++i)
        for (int64_t j = ws; j < we; ++j)
          best = xp[i * w_ + j] > best ? xp[i * w_ + j] : best;
      yp[o] = best;
    });
    const int64_t n = ow1 - ow0, sw = sw_;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      float *__restrict y = yp + oh * ow_ + ow0;
      for (int64_t k = 0; k < n; ++k)
        y[k] = -FLT_MAX;
      const float *row = xp + (oh * sh_ - ph_) * w_ + (ow0 * sw_ - pw_);
      for (int64_t i = 0; i < kh_; ++i)
        for (int64_t j = 0; j < kw_; ++j) {
          const float *__restrict x = row + i * w_ + j;
          for (int64_t k = 0; k < n; ++k)
            y[k] = x[k * sw] > y[k] ? x[k * sw] : y[k];
        }
    }
  }

private:
  /// Outputs whose windows lie inside the input: rows [oh0, oh1), columns
  /// [ow0, ow1) (empty ranges when there are none).
  void interior(int64_t &oh0, int64_t &oh1, int64_t &ow0, int64_t &ow1) const {
    auto range = [](int64_t out, int64_t s, int64_t p, int64_t k, int64_t size, int64_t &lo,
                    int64_t &hi) {
      lo = (p + s - 1) / s; // first o with o * s - p >= 0
      hi = size - k + p >= 0 ? std::min(out, (size - k + p) / s + 1) : 0;
      hi = std::max(hi, lo);
    };
    range(oh_, sh_, ph_, kh_, h_, oh0, oh1);
    range(ow_, sw_, pw_, kw_, w_, ow0, ow1);
  }
  /// forEachOutput for the outputs outside rows [oh0, oh1) x columns
  /// [ow0, ow1) only (all of them when the range is empty).
  template <typename F>
  void forEachBorderOutput(int64_t oh0, int64_t oh1, int64_t ow0, int64_t ow1, F &&f) const {
    for (int64_t oh = 0; oh < oh_; ++oh) {
      int64_t hs = oh * sh_ - ph_, he = std::min(hs + kh_, h_);
      hs = std::max<int64_t>(hs, 0);
      const bool inner = oh >= oh0 && oh < oh1 && ow0 < ow1;
      for (int64_t ow = 0; ow < ow_; ++ow) {
        if (inner && ow == ow0) {
          ow = ow1 - 1;
          continue;
        }
        int64_t ws = ow * sw_ - pw_, we = std::min(ws + kw_, w_);
        ws = std::max<int64_t>(ws, 0);
        f(oh * ow_ + ow, hs, he, ws, we);
      }
    }
  }
  /// f(output position, window rows [hs, he), columns [ws, we)) for every
  /// output of a plane: Caffe's window clipped to the input.
  template <typename F>
  void forEachOutput(F &&f) const {
    forEachBorderOutput(0, 0, 0, 0, std::forward<F>(f));
  }
  int64_t base(int64_t p, int64_t plane, int block) const {
    if (!block)
      return p * plane;
    const int64_t n = p / c_, c = p % c_;
    return ((n * (c_ / block) + c / block) * plane) * block + c % block;
  }
  int64_t planes_, c_, h_, w_, oh_, ow_, kh_, kw_, sh_, sw_, ph_, pw_;
  int inBlock_, outBlock_;
};

/// The op library's inner-product geometry of a validated description:
/// y[m, n] = x[m, k] W.
ops::InnerProductGeometry ipGeometry(const KernelDesc &desc);
/// LRN parameters in oneDNN's terms (Pooling.cpp), Caffe's k already applied.
struct LrnGeom {
  dnnl::algorithm alg;
  int64_t size;
  float alpha, beta, k;
  /// The oneDNN LRN on a src (= dst) memory descriptor in a layout.
  dnnl::lrn_forward::desc forwardDesc(dnnl::prop_kind prop, const dnnl::memory::desc &src) const;
  dnnl::lrn_backward::desc backwardDesc(const dnnl::memory::desc &src) const;
};
LrnGeom lrnGeometry(const ops::LRNAttrs &a);

/// True when oneDNN picked a JIT implementation.
inline bool isJit(const dnnl::primitive_desc_base &pd) {
  return std::string(pd.impl_info_str()).find("jit") != std::string::npos;
}

/// oneDNN's plain-NCHW pooling and LRN are reference-grade on some ISAs; its
/// JIT kernels want channel-blocked layouts. `make(src, dst)` builds a
/// primitive descriptor (or a forward/backward pair; or throws
/// dnnl_unimplemented) and `jit(result)` says whether it is a JIT
/// implementation. When the caller's tensors are blocked (`xBlock`,
/// `yBlock`: their channel blocks, docs/layouts.md) their own layouts come
/// first; then plain NCHW; then nChw16c / nChw8c; the first JIT one wins,
/// else the plain one.
template <typename R, typename Make, typename Jit>
R pickLayout(const Shape &x, const Shape &y, Make &&make, Jit &&jit, int xBlock = 0,
             int yBlock = 0) {
  auto attempt = [&](const dnnl::memory::desc &src, const dnnl::memory::desc &dst,
                     std::optional<R> &out) {
    try {
      R r = make(src, dst);
      if (jit(r))
        out = r;
    } catch (const dnnl::error &e) {
      if (e.status != dnnl_unimplemented)
        throw;
    }
    return out.has_value();
  };
  std::optional<R> found;
  if ((xBlock || yBlock) && attempt(layoutDesc(x, xBlock), layoutDesc(y, yBlock), found))
    return *found;
  R plain = make(plainDesc(x), plainDesc(y));
  if (jit(plain))
    return plain;
  dims xd(x.begin(), x.end()), yd(y.begin(), y.end());
  for (tag t : {tag::nChw16c, tag::nChw8c})
    if (attempt(dnnl::memory::desc(xd, dt::f32, t), dnnl::memory::desc(yd, dt::f32, t), found))
      return *found;
  return plain;
}
template <typename PD, typename Make>
PD pickLayout(const Shape &x, const Shape &y, Make &&make, int xBlock = 0, int yBlock = 0) {
  return pickLayout<PD>(
      x, y, make, [](const PD &pd) { return isJit(pd); }, xBlock, yBlock);
}

/// A primitive descriptor for a description whose activations may be
/// channel-blocked (docs/layouts.md): `make(src, dst)` builds one from the
/// memory descriptors of input 0 and output 0. When either is blocked,
/// first with exactly those layouts (no reorder at the kernel's edges), kept
/// if oneDNN has a JIT implementation for them; otherwise with
/// format_tag::any (oneDNN's choice, reordered at the edges).
template <typename PD, typename Make>
PD withUserLayouts(const KernelDesc &desc, Make &&make) {
  if (desc.inBlock(0) || desc.outBlock(0)) {
    try {
      PD pd = make(inDesc(desc, 0), outDesc(desc, 0));
      if (isJit(pd))
        return pd;
    } catch (const dnnl::error &e) {
      if (e.status != dnnl_unimplemented)
        throw;
    }
  }
  return make(anyDesc(desc.inputs[0]), anyDesc(desc.outputs[0]));
}

/// A fused BatchNorm (global statistics) + per-channel Scale (+ ReLU), or
/// the fused backward body of one (FusedNorm.cpp, docs/fusion.md): why
/// oneDNN cannot run `desc` ("" when it can), and its kernel.
std::string fusedNormWhyNot(const KernelDesc &desc);
std::unique_ptr<Kernel> createFusedNorm(const KernelDesc &desc, DnnlContext &ctx);

/// Why oneDNN cannot run `desc` (forward or backward): a tensor without
/// elements (the primitives and the reductions here assume non-empty
/// tensors); "" otherwise.
std::string emptyWhyNot(const KernelDesc &desc);
/// A registration's whyNot: emptyWhyNot, then F on the forward description
/// (a backward kernel's forward op).
template <std::string (*F)(const KernelDesc &)>
std::string whyNot(const KernelDesc &desc) {
  std::string why = emptyWhyNot(desc);
  if (why.empty())
    why = F(desc.isGradient() ? gradDesc(desc).fwd : desc);
  return why;
}

/// oneDNN kernel factories: `create(desc, ctx)` for a validated description;
/// they throw NotApplicable (or let oneDNN report dnnl_unimplemented) when
/// oneDNN cannot reproduce Caffe's semantics for it.
using DnnlMaker = std::unique_ptr<Kernel> (*)(const KernelDesc &, DnnlContext &);
template <DnnlMaker M>
std::unique_ptr<Kernel> adapt(const KernelDesc &desc, BackendContext &ctx) {
  try {
    return M(desc, static_cast<DnnlContext &>(ctx));
  } catch (const dnnl::error &e) {
    if (e.status == dnnl_unimplemented)
      throw NotApplicable{"oneDNN has no primitive for this configuration"};
    desc.fail(std::string("oneDNN rejected the configuration: ") + e.what());
  }
}

} // namespace dnnlk
} // namespace dlc::rt

/// A registry entry of the oneDNN backend: op, Forward/Backward, factory
/// (DnnlMaker), and an optional `std::string whyNot(const KernelDesc &)`.
#define DLC_DNNL_KERNEL(op, kind, maker, whyNot)                                          \
  ::dlc::rt::KernelFactory {                                                             \
    "onednn", op, ::dlc::rt::KernelKind::kind, whyNot, &::dlc::rt::dnnlk::adapt<maker>   \
  }

/// The same for a kernel that reads and writes the layouts of its
/// description itself (KernelFactory::layouts, docs/layouts.md).
#define DLC_DNNL_LAYOUT_KERNEL(op, kind, maker, whyNot)                                   \
  ::dlc::rt::KernelFactory {                                                             \
    "onednn", op, ::dlc::rt::KernelKind::kind, whyNot, &::dlc::rt::dnnlk::adapt<maker>,  \
        /*layouts=*/true                                                                 \
  }

#endif // DLC_LIB_RUNTIME_DNNL_DNNLCOMMON_H

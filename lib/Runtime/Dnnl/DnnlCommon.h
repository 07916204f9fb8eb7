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

  dnnl::engine eng_;
  dnnl::stream strm_;
  std::string layer_, op_;
  std::string impl_;
};

/// "onednn:<impl info>" of a primitive descriptor.
std::string implOf(const dnnl::primitive_desc_base &pd);

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

} // namespace dnnlk
} // namespace dlc::rt

#endif // DLC_LIB_RUNTIME_DNNL_DNNLCOMMON_H

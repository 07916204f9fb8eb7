//===- Dnnl.cpp - The oneDNN backend and shared helpers -------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Registers the oneDNN backend (its kernels register themselves from their
// family files) and implements the helpers of DnnlCommon.h.
//
//===----------------------------------------------------------------------===//

#include "DnnlCommon.h"

namespace dlc::rt {
namespace dnnlk {

static dims toDims(const Shape &shape) {
  if (shape.empty())
    return {1};
  return dims(shape.begin(), shape.end());
}

dnnl::memory::desc plainDesc(const Shape &shape) {
  dims d = toDims(shape);
  dims strides(d.size());
  int64_t s = 1;
  for (size_t i = d.size(); i-- > 0;) {
    strides[i] = s;
    s *= d[i];
  }
  return dnnl::memory::desc(d, dt::f32, strides);
}

dnnl::memory::desc layoutDesc(const Shape &shape, int block) {
  if (block == 0)
    return plainDesc(shape);
  return dnnl::memory::desc(toDims(shape), dt::f32, block == 16 ? tag::nChw16c : tag::nChw8c);
}

dnnl::memory::desc anyDesc(const Shape &shape) {
  return dnnl::memory::desc(toDims(shape), dt::f32, tag::any);
}

std::string emptyWhyNot(const KernelDesc &desc) {
  for (const auto *list : {&desc.inputs, &desc.outputs})
    for (size_t i = 0; i < list->size(); ++i)
      if (numElements((*list)[i]) == 0)
        return std::string(list == &desc.inputs ? "input " : "output ") + std::to_string(i) +
               " (" + shapeToString((*list)[i]) +
               ") has no elements; the oneDNN kernels need non-empty tensors";
  return "";
}

std::string implOf(const dnnl::primitive_desc_base &pd) {
  return std::string("onednn:") + pd.impl_info_str();
}

ChainKernel::ChainKernel(const KernelDesc &desc, DnnlContext &ctx,
                         const dnnl::memory::desc &src, const dnnl::memory::desc &dst)
    : DnnlKernelBase(desc, ctx), src_(handleMem(src, eng_)), dst_(handleMem(dst, eng_)),
      inPlace_(src.get_size() == dst.get_size()) {}

void ChainKernel::forward(const float *const *in, float *const *out) {
  bind(src_, in[0]);
  bind(dst_, out[0]);
  for (size_t i = 0; i < prims_.size(); ++i)
    exec(prims_[i], {{DNNL_ARG_SRC, i == 0 ? src_ : dst_}, {DNNL_ARG_DST, dst_}});
  wait();
}

UnaryGradKernel::UnaryGradKernel(const KernelDesc &desc, DnnlContext &ctx,
                                 const dnnl::memory::desc &md, dnnl::primitive prim,
                                 const dnnl::primitive_desc_base &pd, int dataArg,
                                 size_t dataIdx, size_t dyIdx)
    : DnnlKernelBase(desc, ctx), prim_(std::move(prim)), dataArg_(dataArg), dataIdx_(dataIdx),
      dyIdx_(dyIdx), data_(handleMem(md, eng_)), dy_(handleMem(md, eng_)),
      dx_(handleMem(md, eng_)) {
  impl_ = implOf(pd);
}

void UnaryGradKernel::forward(const float *const *in, float *const *out) {
  bind(data_, in[dataIdx_]);
  bind(dy_, in[dyIdx_]);
  bind(dx_, out[0]);
  exec(prim_, {{dataArg_, data_}, {DNNL_ARG_DIFF_DST, dy_}, {DNNL_ARG_DIFF_SRC, dx_}});
  wait();
}

MultiSrcKernel::MultiSrcKernel(const KernelDesc &desc, DnnlContext &ctx, dnnl::primitive prim,
                               const dnnl::primitive_desc_base &pd,
                               const std::vector<dnnl::memory::desc> &srcs,
                               const dnnl::memory::desc &dst, bool inPlace)
    : DnnlKernelBase(desc, ctx), prim_(std::move(prim)), inPlace_(inPlace),
      dst_(handleMem(dst, eng_)) {
  impl_ = implOf(pd);
  for (const auto &md : srcs)
    srcs_.push_back(handleMem(md, eng_));
}

void MultiSrcKernel::forward(const float *const *in, float *const *out) {
  Args args;
  for (size_t i = 0; i < srcs_.size(); ++i) {
    bind(srcs_[i], in[i]);
    args[DNNL_ARG_MULTIPLE_SRC + int(i)] = srcs_[i];
  }
  bind(dst_, out[0]);
  args[DNNL_ARG_DST] = dst_;
  exec(prim_, args);
  wait();
}

ops::AxisSplit axisSplit(const KernelDesc &desc, int64_t axis) {
  ops::AxisSplit s;
  check(desc, ops::splitAxis(desc.inputs[0], axis, desc.op.c_str(), s));
  return s;
}

void DnnlKernelBase::exec(dnnl::primitive &p, const Args &args) {
  try {
    p.execute(strm_, args);
  } catch (const dnnl::error &e) {
    throw Error("layer '" + layer_ + "' (" + op_ + "): oneDNN execution failed: " + e.what());
  }
}

void DnnlKernelBase::wait() {
  try {
    strm_.wait();
  } catch (const dnnl::error &e) {
    throw Error("layer '" + layer_ + "' (" + op_ + "): oneDNN stream failed: " + e.what());
  }
}

Port::Port(const dnnl::engine &eng, const dnnl::memory::desc &user,
           const dnnl::memory::desc &prim, bool input)
    : primMd_(prim), input_(input) {
  user_ = handleMem(user, eng);
  reorder_ = prim != user;
  mem_ = reorder_ ? dnnl::memory(prim, eng) : user_;
  if (reorder_)
    r_ = input ? dnnl::reorder(user_, mem_) : dnnl::reorder(mem_, user_);
}

void DnnlKernelBase::pull(Port &port, const float *p) {
  bind(port.user_, p);
  if (port.reorder_)
    exec(port.r_, {{DNNL_ARG_FROM, port.user_}, {DNNL_ARG_TO, port.mem_}});
}

void DnnlKernelBase::pullCached(Port &port, const float *p, bool &valid, bool cache) {
  if (!port.reorder_) {
    bind(port.user_, p);
    return;
  }
  if (valid)
    return;
  pull(port, p);
  valid = cache;
}

void DnnlKernelBase::bindOut(Port &port, float *p) { bind(port.user_, p); }

void DnnlKernelBase::push(Port &port) {
  if (port.reorder_)
    exec(port.r_, {{DNNL_ARG_FROM, port.mem_}, {DNNL_ARG_TO, port.user_}});
}

} // namespace dnnlk

namespace {
std::unique_ptr<BackendContext> makeContext() {
  try {
    return std::make_unique<DnnlContext>();
  } catch (const dnnl::error &e) {
    throw Error(std::string("cannot create the oneDNN CPU engine: ") + e.what());
  }
}
} // namespace

// Preferred over the reference backend.
DLC_REGISTER_BACKEND({"onednn", "oneDNN", 10, makeContext});

std::shared_ptr<DnnlContext> createDnnlContext() {
  std::unique_ptr<BackendContext> c = makeContext();
  return std::shared_ptr<DnnlContext>(static_cast<DnnlContext *>(c.release()));
}

bool hasDnnlKernel(const std::string &op) { return KernelRegistry::instance().has("onednn", op); }

std::unique_ptr<Kernel> createDnnlKernel(const KernelDesc &desc, DnnlContext &ctx) {
  const KernelFactory *f = KernelRegistry::instance().find(
      "onednn", desc.forwardOp(), desc.isGradient() ? KernelKind::Backward : KernelKind::Forward);
  if (!f)
    return nullptr;
  validateKernelDesc(desc);
  if (f->whyNot && !f->whyNot(desc).empty())
    return nullptr;
  try {
    return f->create(desc, ctx);
  } catch (const NotApplicable &) {
    return nullptr;
  } catch (const Error &e) {
    std::string msg = e.what();
    if (msg.find("layer '") == std::string::npos)
      desc.fail(msg);
    throw;
  }
}

} // namespace dlc::rt

//===- Layout.cpp - Kernels on channel-blocked tensors --------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A module may store activations channel-blocked (docs/layouts.md). Kernels
// that handle those layouts say so at registration (KernelFactory::layouts);
// element-wise kernels need not, since a blocked tensor has the same elements
// as its plain form, only in another order; every other kernel runs on plain
// copies made here. The reference backend relies on that.
//
//===----------------------------------------------------------------------===//
#include "dlc/Ops/Layout.h"
#include "dlc/Runtime/KernelRegistry.h"

#include <cstdlib>

namespace dlc::rt {

ops::LayoutClass layoutClassOf(const KernelDesc &desc) {
  using ops::LayoutClass;
  if (desc.isFused()) {
    LayoutClass c = LayoutClass::Any;
    for (const FusedStep &s : desc.body) {
      LayoutClass sc = layoutClassOf(s.desc);
      if (sc == LayoutClass::Plain)
        return LayoutClass::Plain;
      if (sc == LayoutClass::ChannelBlocked)
        c = LayoutClass::ChannelBlocked;
    }
    return c;
  }
  const ops::OpSchema *schema = ops::lookupOp(desc.forwardOp());
  return schema ? schema->layout : LayoutClass::Plain;
}

KernelDesc plainLayoutDesc(const KernelDesc &desc) {
  KernelDesc d = desc;
  d.inBlocks.clear();
  d.outBlocks.clear();
  for (FusedStep &s : d.body) {
    s.desc.inBlocks.clear();
    s.desc.outBlocks.clear();
  }
  return d;
}

namespace {

struct FreeFloats {
  void operator()(float *p) const { std::free(p); }
};

class PlainLayoutKernel : public Kernel {
public:
  PlainLayoutKernel(const KernelDesc &desc, std::unique_ptr<Kernel> inner)
      : inner_(std::move(inner)), inShapes_(desc.inputs), outShapes_(desc.outputs) {
    for (size_t i = 0; i < desc.inputs.size(); ++i)
      inTemp_.push_back(temp(desc, desc.inputs[i], desc.inBlock(i), inBlocks_));
    for (size_t o = 0; o < desc.outputs.size(); ++o)
      outTemp_.push_back(temp(desc, desc.outputs[o], desc.outBlock(o), outBlocks_));
    in_.resize(inShapes_.size());
    out_.resize(outShapes_.size());
  }

  void forward(const float *const *in, float *const *out) override {
    for (size_t i = 0; i < in_.size(); ++i) {
      in_[i] = in[i];
      if (inBlocks_[i]) {
        ops::toPlain(inShapes_[i], inBlocks_[i], in[i], inTemp_[i].get());
        in_[i] = inTemp_[i].get();
      }
    }
    for (size_t o = 0; o < out_.size(); ++o)
      out_[o] = outBlocks_[o] ? outTemp_[o].get() : out[o];
    inner_->forward(in_.data(), out_.data());
    for (size_t o = 0; o < out_.size(); ++o)
      if (outBlocks_[o])
        ops::toBlocked(outShapes_[o], outBlocks_[o], outTemp_[o].get(), out[o]);
  }
  void paramsChanged() override { inner_->paramsChanged(); }
  void setStep(uint64_t step) override { inner_->setStep(step); }
  std::string implName() const override { return inner_->implName() + "+plain-copies"; }
  std::vector<Shape> producedShapes() const override { return inner_->producedShapes(); }

private:
  static std::unique_ptr<float, FreeFloats> temp(const KernelDesc &desc, const Shape &shape,
                                                 int block, std::vector<int> &blocks) {
    blocks.push_back(block);
    if (!block)
      return nullptr;
    uint64_t bytes = std::max<uint64_t>(64, (4 * uint64_t(numElements(shape)) + 63) / 64 * 64);
    auto *p = static_cast<float *>(std::aligned_alloc(64, bytes));
    if (!p)
      desc.fail("out of memory for a plain copy of " + shapeToString(shape));
    return std::unique_ptr<float, FreeFloats>(p);
  }

  std::unique_ptr<Kernel> inner_;
  std::vector<Shape> inShapes_, outShapes_;
  std::vector<int> inBlocks_, outBlocks_;
  std::vector<std::unique_ptr<float, FreeFloats>> inTemp_, outTemp_;
  std::vector<const float *> in_;
  std::vector<float *> out_;
};

} // namespace

std::unique_ptr<Kernel> plainLayoutKernel(const KernelDesc &desc, std::unique_ptr<Kernel> inner) {
  if (!inner)
    return nullptr;
  bool blocked = false;
  for (size_t i = 0; i < desc.inputs.size(); ++i)
    blocked = blocked || desc.inBlock(i) != 0;
  for (size_t o = 0; o < desc.outputs.size(); ++o)
    blocked = blocked || desc.outBlock(o) != 0;
  if (!blocked) // nothing to convert: the kernel itself
    return inner;
  return std::make_unique<PlainLayoutKernel>(desc, std::move(inner));
}

} // namespace dlc::rt

//===- Fused.cpp - Kernels of fused layers --------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A fused kernel (op "fused", docs/fusion.md) runs several layers as one.
// A backend that can do the whole body at once registers a "fused" kernel
// whose whyNot says which bodies it takes; any other body runs as a
// composed kernel: each step's own kernel, from the same backends, in
// order, on temporaries for the values inside. So fusion never loses an
// exact result and never needs a backend to know every combination.
//
//===----------------------------------------------------------------------===//
#include "dlc/Runtime/KernelRegistry.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace dlc::rt {
namespace {

struct FreeFloats {
  void operator()(float *p) const { std::free(p); }
};

class ComposedKernel : public Kernel {
public:
  ComposedKernel(const KernelDesc &desc, const std::vector<std::string> &backends,
                 BackendContexts &contexts, std::string &backend) {
    const size_t numIn = desc.inputs.size();
    size_t numValues = numIn;
    for (const FusedStep &s : desc.body)
      numValues += s.desc.outputs.size();
    // Where each value lives: an input, an output, or a temporary.
    std::vector<int> outputOf(numValues, -1);
    for (size_t o = 0; o < desc.results.size(); ++o)
      outputOf[size_t(desc.results[o])] = int(o);
    where_.assign(numValues, Slot{});
    for (size_t v = 0; v < numIn; ++v)
      where_[v] = Slot{Slot::Input, int(v)};
    size_t v = numIn;
    for (const FusedStep &s : desc.body) {
      Step step;
      KernelChoice c = createKernel(s.desc, backends, contexts);
      backend = backend.empty() || backend == c.backend ? c.backend : "mixed";
      step.kernel = std::move(c.kernel);
      step.args = s.args;
      impl_ += (impl_.empty() ? "" : "+") + step.kernel->implName();
      for (const Shape &shape : s.desc.outputs) {
        if (outputOf[v] >= 0) {
          where_[v] = Slot{Slot::Output, outputOf[v]};
        } else {
          uint64_t bytes = std::max<uint64_t>(64, (4 * uint64_t(numElements(shape)) + 63) / 64 * 64);
          float *p = static_cast<float *>(std::aligned_alloc(64, bytes));
          if (!p)
            desc.fail("out of memory for a fused temporary of " + shapeToString(shape));
          temps_.emplace_back(p);
          where_[v] = Slot{Slot::Temp, int(temps_.size() - 1)};
        }
        step.results.push_back(int(v++));
      }
      steps_.push_back(std::move(step));
    }
    impl_ = "composed(" + impl_ + ")";
  }

  void forward(const float *const *in, float *const *out) override {
    for (Step &s : steps_) {
      s.in.clear();
      s.out.clear();
      for (int a : s.args)
        s.in.push_back(pointer(a, in, out));
      for (int r : s.results)
        s.out.push_back(const_cast<float *>(pointer(r, in, out)));
      s.kernel->forward(s.in.data(), s.out.data());
    }
  }
  void paramsChanged() override {
    for (Step &s : steps_)
      s.kernel->paramsChanged();
  }
  void setStep(uint64_t step) override {
    for (Step &s : steps_)
      s.kernel->setStep(step);
  }
  std::string implName() const override { return impl_; }

private:
  struct Slot {
    enum Kind { Input, Output, Temp } kind = Input;
    int index = 0;
  };
  struct Step {
    std::unique_ptr<Kernel> kernel;
    std::vector<int> args, results;
    std::vector<const float *> in;
    std::vector<float *> out;
  };
  const float *pointer(int v, const float *const *in, float *const *out) const {
    const Slot &s = where_[size_t(v)];
    switch (s.kind) {
    case Slot::Input:
      return in[s.index];
    case Slot::Output:
      return out[s.index];
    case Slot::Temp:
      break;
    }
    return temps_[size_t(s.index)].get();
  }

  std::vector<Step> steps_;
  std::vector<Slot> where_;
  std::vector<std::unique_ptr<float, FreeFloats>> temps_;
  std::string impl_;
};

} // namespace

KernelChoice createFusedKernel(const KernelDesc &desc, const std::vector<std::string> &backends,
                               BackendContexts &contexts) {
  validateKernelDesc(desc);
  KernelChoice choice;
  if (detail::tryBackends(desc, "fused", KernelKind::Forward, backends, contexts,
                          /*noteMissing=*/false, choice))
    return choice;
  std::string backend;
  choice.kernel = std::make_unique<ComposedKernel>(desc, backends, contexts, backend);
  choice.backend = backend;
  return choice;
}

} // namespace dlc::rt

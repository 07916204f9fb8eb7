//===- Executor.cpp - Running a compiled module ----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "ExecutorImpl.h"

#include "dlc/Ops/Layout.h"

#include "dlc/Runtime/Generated.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <new>
#include <sstream>

#include <malloc.h>
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DLC_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define DLC_SANITIZER_ALLOCATOR 1
#endif
#endif
#ifndef DLC_SANITIZER_ALLOCATOR
#define DLC_SANITIZER_ALLOCATOR 0
#endif
#if DLC_SANITIZER_ALLOCATOR
// The sanitizer runtime's allocator statistics (sanitizer/allocator_interface.h,
// which GCC does not install).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif
#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace dlc::rt;
namespace pb = dlc::module;

namespace {

/// While alive, with `on`: OpenMP regions of this thread use one thread;
/// then `threads` again.
class OneThread {
public:
  OneThread(bool on, int threads) : on_(on), threads_(threads) {
    if (on_)
      omp_set_num_threads(1);
  }
  ~OneThread() {
    if (on_)
      omp_set_num_threads(threads_);
  }
  OneThread(const OneThread &) = delete;
  OneThread &operator=(const OneThread &) = delete;

private:
  bool on_;
  int threads_;
};

} // namespace

Buffer dlc::rt::allocate(uint64_t bytes) {
  uint64_t rounded = std::max<uint64_t>(64, (bytes + 63) / 64 * 64);
  void *p = std::aligned_alloc(64, rounded);
  if (!p)
    throw Error("out of memory allocating " + std::to_string(bytes) + " bytes");
  std::memset(p, 0, rounded);
  return Buffer(static_cast<float *>(p));
}

uint64_t dlc::rt::heapInUse() {
#if DLC_SANITIZER_ALLOCATOR
  // A sanitizer's allocator replaces malloc (mallinfo2 then reads zeros).
  return uint64_t(__sanitizer_get_current_allocated_bytes());
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  // Sums every arena; hblkhd counts the blocks malloc took with mmap.
  const struct mallinfo2 mi = mallinfo2();
  return uint64_t(mi.uordblks) + uint64_t(mi.hblkhd);
#else
  return 0;
#endif
}

namespace {

/// The growth of the heap in use since `before` (0 when it shrank).
uint64_t heapGrowth(uint64_t before) {
  const uint64_t now = heapInUse();
  return now > before ? now - before : 0;
}


uint64_t physicalMemory() {
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || pageSize <= 0)
    return uint64_t(1) << 40;
  return uint64_t(pages) * uint64_t(pageSize);
}

Attrs::Value convertAttr(const pb::Attr &a) {
  switch (a.value_case()) {
  case pb::Attr::kI:
    return a.i();
  case pb::Attr::kF:
    return a.f();
  case pb::Attr::kS:
    return a.s();
  case pb::Attr::kInts:
    return std::vector<int64_t>(a.ints().v().begin(), a.ints().v().end());
  case pb::Attr::kFloats:
    return std::vector<double>(a.floats().v().begin(), a.floats().v().end());
  case pb::Attr::VALUE_NOT_SET:
    break;
  }
  throw Error("attribute '" + a.name() + "' has no value");
}

/// Whether [a, a + na) and [b, b + nb) share an element. A null pointer (a
/// tensor without a buffer) overlaps nothing; the comparison is on
/// addresses, as pointer arithmetic on null is undefined.
bool rangesOverlap(const float *a, int64_t na, const float *b, int64_t nb) {
  if (!a || !b || na == 0 || nb == 0)
    return false;
  auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return pa < pb + uint64_t(nb) * sizeof(float) && pb < pa + uint64_t(na) * sizeof(float);
}

KernelRole roleOf(const pb::Kernel &k) {
  switch (k.role()) {
  case pb::Kernel::FORWARD:
    return KernelRole::Forward;
  case pb::Kernel::BACKWARD_DATA:
    return KernelRole::BackwardData;
  case pb::Kernel::BACKWARD_WEIGHTS:
    return KernelRole::BackwardWeights;
  }
  return KernelRole::Forward;
}

void checkIndex(int t, int n) {
  if (t < 0 || t >= n)
    throw Error("tensor index " + std::to_string(t) + " out of range");
}

} // namespace

const char *dlc::rt::roleName(KernelRole role) {
  switch (role) {
  case KernelRole::Forward:
    return "forward";
  case KernelRole::BackwardData:
    return "backward_data";
  case KernelRole::BackwardWeights:
    return "backward_weights";
  }
  return "?";
}

const char *dlc::rt::entryName(Entry entry) {
  return entry == Entry::Forward ? "forward" : "gradient";
}

Executor::Executor(std::shared_ptr<const LoadedModule> module, const ExecutorOptions &options)
    : module_(std::move(module)), options_(options), impl_(std::make_unique<Impl>()) {
  if (!module_)
    throw Error("executor created without a module");
  const pb::Module &m = module_->header;
  const std::string prefix = module_->path + ": error: ";
  seed_ = options_.seed ? *options_.seed : m.seed();
  if (options_.threads > 0)
    omp_set_num_threads(options_.threads);

  Impl &I = *impl_;
  I.threads = omp_get_max_threads();
  const int numTensors = m.tensors_size();
  I.shapes.resize(numTensors);
  I.numel.resize(numTensors);
  I.capacity.resize(numTensors);
  I.dynamic.resize(numTensors);
  I.data.assign(numTensors, nullptr);
  for (int t = 0; t < numTensors; ++t) {
    const pb::Tensor &tensor = m.tensors(t);
    // A tensor with a run-time size starts at its largest shape.
    I.dynamic[t] = module_->hasDynamicShape(t);
    const auto &dims = I.dynamic[t] ? tensor.max_shape() : tensor.shape();
    I.shapes[t].assign(dims.begin(), dims.end());
    I.numel[t] = I.capacity[t] = module_->numElements(t);
    I.byName[tensor.name()] = t;
  }
  I.inputs.assign(m.inputs().begin(), m.inputs().end());
  I.outputs.assign(m.outputs().begin(), m.outputs().end());

  // Memory budget, checked before allocating anything.
  const bool useArena = !options_.ignoreArenaPlan && m.arena_bytes() > 0;
  const uint64_t arenaBytes = useArena ? uint64_t(m.arena_bytes()) : 0;
  uint64_t paramBytes = 0, otherBytes = 0;
  for (int t = 0; t < numTensors; ++t)
    if (!(useArena && m.tensors(t).offset() >= 0) && !m.tensors(t).internal())
      (m.tensors(t).kind() == pb::Tensor::PARAM ? paramBytes : otherBytes) +=
          4 * uint64_t(I.numel[t]);
  const uint64_t total = arenaBytes + paramBytes + otherBytes;
  const uint64_t limit = options_.memoryLimit ? options_.memoryLimit : physicalMemory();
  if (total > limit) {
    throw Error(prefix + "the module needs " + formatBytes(total) +
                " (planned activation arena " + formatBytes(arenaBytes) + ", weights " +
                formatBytes(paramBytes) + ", other activations " + formatBytes(otherBytes) +
                "), more than the memory limit of " + formatBytes(limit) +
                (options_.memoryLimit ? "" : " (this machine's memory)"));
  }

  if (useArena)
    I.arena = allocate(uint64_t(m.arena_bytes()));
  for (int t = 0; t < numTensors; ++t) {
    const pb::Tensor &tensor = m.tensors(t);
    if (tensor.internal()) {
      continue; // inside a fused kernel: no buffer (Executor::fusedInto)
    } else if (useArena && tensor.offset() >= 0) {
      I.data[t] = reinterpret_cast<float *>(reinterpret_cast<char *>(I.arena.get()) + tensor.offset());
    } else {
      I.owned.push_back(allocate(4 * uint64_t(I.numel[t])));
      I.data[t] = I.owned.back().get();
    }
  }
  if (useArena) {
    for (int in : I.inputs) {
      if (m.tensors(in).offset() < 0)
        continue;
      for (int t = 0; t < numTensors; ++t)
        if (t != in && rangesOverlap(I.data[in], I.numel[in], I.data[t], I.numel[t])) {
          I.inputStaging[in].assign(size_t(I.numel[in]), 0.0f);
          break;
        }
    }
  }

  // Params: stored data or filler.
  for (int p = 0; p < m.params_size(); ++p) {
    const pb::Param &param = m.params(p);
    int t = param.tensor();
    if (const uint8_t *src = module_->paramData(p)) {
      std::memcpy(I.data[t], src, param.data_size());
    } else {
      try {
        fillParam(param.filler(), I.shapes[t], seed_, m.tensors(t).name(), I.data[t]);
      } catch (const Error &e) {
        throw Error(prefix + e.what());
      }
    }
  }

  // Native code compiled into the module (docs/codegen.md), for the kernels
  // of the "generated" backend: refused on a CPU that lacks a feature it
  // needs. The reference kernels need none.
  std::shared_ptr<const NativeCode> native;
  if (m.has_native_code() && options_.mode != ExecMode::Reference) {
    const pb::NativeCode &nc = m.native_code();
    try {
      native = loadNativeCode(nc.object(), nc.cpu(), {nc.features().begin(), nc.features().end()},
                              {nc.symbols().begin(), nc.symbols().end()});
    } catch (const Error &e) {
      throw Error(prefix + e.what());
    }
  }
  I.native = native;

  // Kernels, created once.
  I.steps.resize(m.kernels_size());
  I.infos.resize(m.kernels_size());
  for (int k = 0; k < m.kernels_size(); ++k) {
    const pb::Kernel &kern = m.kernels(k);
    KernelInfo &info = I.infos[k];
    info.op = kern.op();
    info.layer = kern.layer();
    info.loc = kern.loc();
    info.requestedImpl = kern.impl();
    info.role = roleOf(kern);
    auto convAlgo = [](const std::string &impl) { return impl.empty() ? "auto" : impl; };
    if (kern.op() == "convolution" || kern.op() == "convolution_grad")
      info.convAlgorithm = convAlgo(kern.impl());
    for (const pb::Kernel &body : kern.body())
      if (body.op() == "convolution" && info.convAlgorithm.empty())
        info.convAlgorithm = convAlgo(body.impl());
    std::string where = "kernel #" + std::to_string(k) + " (" + kern.op() +
                        (kern.layer().empty() ? "" : " '" + kern.layer() + "'") + ")";
    if (!kern.loc().empty())
      where = kern.loc() + ": " + where;

    KernelDesc desc;
    desc.op = kern.op();
    desc.layer = kern.layer().empty() ? kern.op() + "#" + std::to_string(k) : kern.layer();
    for (const pb::Attr &a : kern.attrs())
      desc.attrs.set(a.name(), convertAttr(a));
    for (int in : kern.inputs()) {
      desc.inputs.push_back(I.shapes[in]);
      desc.isParam.push_back(m.tensors(in).kind() == pb::Tensor::PARAM);
      desc.inBlocks.push_back(m.tensors(in).block());
    }
    for (int out : kern.outputs()) {
      desc.outputs.push_back(I.shapes[out]);
      desc.outBlocks.push_back(m.tensors(out).block());
    }
    describeBody(kern, k, desc);
    desc.nativeCode = native;
    desc.memoryLimit = limit - total;

    // The backends to try, in preference order: the module may ask for the
    // reference implementation ("ref"); otherwise every registered backend
    // by priority (the reference one last), and an algorithm name is passed
    // on as the reserved attribute `impl`.
    const std::string &impl = kern.impl();
    std::vector<std::string> backends = KernelRegistry::instance().backends();
    if (options_.mode == ExecMode::Reference || impl == "ref")
      backends = {"ref"};
    else if (!impl.empty() && impl != "auto" && impl != "onednn")
      desc.attrs.set("impl", impl);
    std::unique_ptr<Kernel> kernel;
    info.macs = kernelMacs(desc);
    for (const auto *shapes : {&desc.inputs, &desc.outputs})
      for (const Shape &sh : *shapes)
        info.bytes += 4.0 * double(numElements(sh));
    // Small kernels run (and are created, for libraries that size their
    // work then) on one thread.
    info.serial = I.threads > 1 && info.macs < options_.serialMacs &&
                  info.bytes < options_.serialBytes;
    const uint64_t heapBefore = heapInUse();
    try {
      OneThread serial(info.serial, I.threads);
      KernelChoice choice = createKernel(desc, backends, I.backends);
      kernel = std::move(choice.kernel);
      info.backend = choice.backend;
      info.fallbackReason = choice.notes;
      info.fellBack = isFallback(choice.backend, backends);
    } catch (const std::exception &e) {
      throw Error(prefix + where + ": " + e.what());
    }
    info.workspace = heapGrowth(heapBefore);
    info.impl = kernel->implName();

    Impl::Step &step = I.steps[k];
    step.serial = info.serial;
    step.outputTensors.assign(kern.outputs().begin(), kern.outputs().end());
    for (int in : kern.inputs()) {
      step.in.push_back(I.data[in]);
      step.inputTensors.push_back(in);
      step.dynamic = step.dynamic || I.dynamic[in];
    }
    const ops::OpSchema *schema = ops::lookupOp(desc.op);
    step.dataDependent = schema && schema->dataDependent;
    for (int o = 0; o < kern.outputs_size(); ++o) {
      int out = kern.outputs(o);
      float *ptr = I.data[out];
      step.realOut.push_back(ptr);
      bool conflict = false;
      for (int i = 0; i < kern.inputs_size(); ++i) {
        int in = kern.inputs(i);
        if (!rangesOverlap(ptr, I.numel[out], I.data[in], I.numel[in]))
          continue;
        // A re-specialized kernel may not support in-place: none for
        // kernels with run-time sizes.
        bool allowedInPlace = o == 0 && i == kernel->inPlaceInput() && ptr == I.data[in] &&
                              !step.dynamic && I.numel[out] == I.numel[in];
        if (!allowedInPlace)
          conflict = true;
      }
      // In place on an operand is only safe if no other operand aliases it too.
      if (const int ip = kernel->inPlaceInput();
          !conflict && o == 0 && ip >= 0 && ip < kern.inputs_size() &&
          ptr == I.data[kern.inputs(ip)])
        for (int i = 0; i < kern.inputs_size(); ++i)
          if (i != ip &&
              rangesOverlap(ptr, I.numel[out], I.data[kern.inputs(i)], I.numel[kern.inputs(i)]))
            conflict = true;
      if (conflict) {
        step.scratch.emplace_back(allocate(4 * uint64_t(I.numel[out])), ptr);
        step.scratchTensor.push_back(out);
        ptr = step.scratch.back().first.get();
      }
      step.out.push_back(ptr);
    }
    step.kernel = kernel.get();
    step.variants[desc.inputs] = Impl::Variant{std::move(kernel), desc.outputs};
    step.desc = std::move(desc);
    step.backends = std::move(backends);
    step.where = prefix + where;
  }
  I.numForward = module_->numForwardKernels();
}

/// The body of fused kernel `k` (dlcm.proto, Kernel.body) in the terms of
/// KernelDesc::body: values numbered as the kernel's inputs, then each
/// step's outputs.
void Executor::describeBody(const pb::Kernel &kern, int k, KernelDesc &desc) {
  if (kern.body_size() == 0)
    return;
  Impl &I = *impl_;
  const pb::Module &m = module_->header;
  std::map<int, int> valueOf;
  for (int i = 0; i < kern.inputs_size(); ++i)
    valueOf.emplace(kern.inputs(i), i);
  int next = kern.inputs_size();
  for (const pb::Kernel &body : kern.body()) {
    FusedStep step;
    step.desc.op = body.op();
    step.desc.layer = body.layer().empty() ? desc.layer : body.layer();
    for (const pb::Attr &a : body.attrs())
      step.desc.attrs.set(a.name(), convertAttr(a));
    if (!body.impl().empty() && body.impl() != "auto" && body.impl() != "ref" &&
        body.impl() != "onednn")
      step.desc.attrs.set("impl", body.impl());
    for (int in : body.inputs()) {
      int v = valueOf.at(in); // the module reader checked the body
      step.args.push_back(v);
      step.desc.inputs.push_back(I.shapes[in]);
      step.desc.isParam.push_back(v < kern.inputs_size() && desc.param(size_t(v)));
      step.desc.inBlocks.push_back(m.tensors(in).block());
    }
    for (int out : body.outputs()) {
      step.desc.outputs.push_back(I.shapes[out]);
      step.desc.outBlocks.push_back(m.tensors(out).block());
      valueOf.emplace(out, next++);
      if (m.tensors(out).internal())
        I.fusedInto[out] = k;
    }
    desc.body.push_back(std::move(step));
  }
  for (int out : kern.outputs())
    desc.results.push_back(valueOf.at(out));
}

MemoryReport Executor::memory() const {
  const Impl &I = *impl_;
  const pb::Module &m = module_->header;
  MemoryReport r;
  auto aligned = [](uint64_t b) { return (b + 63) / 64 * 64; };
  const bool arena = I.arena != nullptr;
  r.arena = arena ? uint64_t(m.arena_bytes()) : 0;
  for (int t = 0; t < m.tensors_size(); ++t) {
    const pb::Tensor &tensor = m.tensors(t);
    const uint64_t bytes = aligned(4 * uint64_t(I.capacity[size_t(t)]));
    if (tensor.kind() == pb::Tensor::PARAM)
      r.params += bytes;
    else if (!tensor.internal()) {
      r.naive += bytes;
      if (!(arena && tensor.offset() >= 0))
        r.unplanned += bytes;
    }
  }
  std::set<std::string> gradientNames;
  for (int p = 0; p < m.params_size(); ++p)
    gradientNames.insert(m.tensors(m.params(p).tensor()).name() + "@grad");
  for (int t = 0; t < m.tensors_size(); ++t)
    if (gradientNames.count(m.tensors(t).name()))
      r.gradients += aligned(4 * uint64_t(I.capacity[size_t(t)]));
  for (const Impl::Step &s : I.steps) {
    for (size_t i = 0; i < s.scratch.size(); ++i)
      r.scratch += aligned(4 * uint64_t(I.capacity[size_t(s.scratchTensor[i])]));
    for (size_t o = 0; o < s.out.size(); ++o)
      for (const float *in : s.in)
        if (s.out[o] == in && in != nullptr)
          ++r.inPlace;
  }
  for (const KernelInfo &info : I.infos)
    r.workspace += info.workspace;
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    r.peakRss = uint64_t(ru.ru_maxrss) * 1024;
  return r;
}

int Executor::fusedKernel(int t) const {
  auto it = impl_->fusedInto.find(t);
  return it == impl_->fusedInto.end() ? -1 : it->second;
}

std::string Executor::fusedInto(int t) const {
  checkIndex(t, numTensors());
  auto it = impl_->fusedInto.find(t);
  return it == impl_->fusedInto.end() ? "" : impl_->infos[size_t(it->second)].layer;
}

//===----------------------------------------------------------------------===//
// Running, with run-time sizes
//===----------------------------------------------------------------------===//
//
// A DL_DataDependentShape op (dl.filter) reports the shapes of its results
// after each run (Kernel::producedShapes). Every later kernel that reads a
// tensor with a run-time size checks its operand shapes before running; when
// they differ from what its kernel was made for, it switches to the kernel
// for the new shapes (created on first use through the registry, validated
// against the op's shape rule like any other, then kept), whose result
// shapes follow from the same rule (a backward kernel's from the forward
// operands it differentiates). Buffers are sized for the largest shapes, so
// nothing is reallocated.

void Executor::Impl::respecialize(Step &s) {
  std::vector<Shape> in;
  in.reserve(s.inputTensors.size());
  for (int t : s.inputTensors)
    in.push_back(shapes[size_t(t)]);
  auto it = s.variants.find(in);
  if (it == s.variants.end()) {
    KernelDesc desc = s.desc;
    desc.inputs = in;
    try {
      reshapeFusedBody(desc);
      // A data-dependent size (a filter's count) at its largest: the kernel
      // reports the actual one after it ran.
      desc.outputs = inferKernelOutputs(desc);
      if (desc.outputs.size() != s.outputTensors.size())
        desc.fail("the shape rule gave " + std::to_string(desc.outputs.size()) +
                  " results for " + std::to_string(s.outputTensors.size()) + " outputs");
      for (size_t r = 0; r < desc.outputs.size(); ++r) {
        int t = s.outputTensors[r];
        if (numElements(desc.outputs[r]) > capacity[size_t(t)])
          desc.fail("result " + std::to_string(r) + " would have shape " +
                    shapeToString(desc.outputs[r]) + ", more than the " +
                    std::to_string(capacity[size_t(t)]) + " elements its buffer holds");
      }
      KernelChoice choice = createKernel(desc, s.backends, backends);
      it = s.variants.emplace(in, Variant{std::move(choice.kernel), desc.outputs}).first;
    } catch (const std::exception &e) {
      throw Error(s.where + ": " + e.what());
    }
  }
  s.kernel = it->second.kernel.get();
  for (size_t r = 0; r < s.outputTensors.size(); ++r) {
    int t = s.outputTensors[r];
    shapes[size_t(t)] = it->second.outputs[r];
    numel[size_t(t)] = numElements(shapes[size_t(t)]);
  }
}

void Executor::Impl::runStep(size_t k) {
  Step &s = steps[k];
  if (s.dynamic)
    respecialize(s);
  // What the kernel allocates for itself on its first run and keeps.
  const uint64_t heapBefore = s.measured ? 0 : heapInUse();
  {
    OneThread serial(s.serial, threads);
    s.kernel->forward(s.in.data(), s.out.data());
  }
  if (!s.measured) {
    infos[k].workspace += heapGrowth(heapBefore);
    s.measured = true;
  }
  if (s.dataDependent) {
    std::vector<Shape> produced = s.kernel->producedShapes();
    if (produced.size() != s.outputTensors.size())
      throw Error(s.where + ": the kernel reported " + std::to_string(produced.size()) +
                  " result shapes for " + std::to_string(s.outputTensors.size()) + " results");
    for (size_t r = 0; r < produced.size(); ++r) {
      int t = s.outputTensors[r];
      if (numElements(produced[r]) > capacity[size_t(t)])
        throw Error(s.where + ": result " + std::to_string(r) + " has " +
                    shapeToString(produced[r]) + ", more than its buffer holds");
      shapes[size_t(t)] = produced[r];
      numel[size_t(t)] = numElements(produced[r]);
    }
  }
  for (size_t i = 0; i < s.scratch.size(); ++i)
    std::memcpy(s.scratch[i].second, s.scratch[i].first.get(),
                4 * size_t(numel[size_t(s.scratchTensor[i])]));
}

Executor::~Executor() = default;

bool Executor::hasGradient() const { return impl_->numForward < int(impl_->steps.size()); }

std::shared_ptr<const NativeCode> Executor::nativeCode() const { return impl_->native; }

int Executor::numForwardKernels() const { return impl_->numForward; }

int Executor::numKernels(Entry entry) const {
  if (entry == Entry::Forward)
    return impl_->numForward;
  if (!hasGradient())
    throw Error(module_->path + ": error: module has no gradient; compile with dlc compile --gradient");
  return int(impl_->steps.size());
}

void Executor::run(Entry entry, const std::function<void(int)> &afterKernel) {
  const int K = numKernels(entry);
  Impl &I = *impl_;
  I.stageInputs();
  for (int k = 0; k < K; ++k) {
    I.runStep(size_t(k));
    if (afterKernel)
      afterKernel(k);
  }
}

int Executor::numTensors() const { return int(impl_->shapes.size()); }

int Executor::tensorIndex(const std::string &name) const {
  auto it = impl_->byName.find(name);
  return it == impl_->byName.end() ? -1 : it->second;
}


const std::string &Executor::tensorName(int t) const {
  checkIndex(t, numTensors());
  return module_->header.tensors(t).name();
}
const Shape &Executor::tensorShape(int t) const {
  checkIndex(t, numTensors());
  return impl_->shapes[t];
}
int64_t Executor::tensorElements(int t) const {
  checkIndex(t, numTensors());
  return impl_->numel[t];
}
float *Executor::tensorData(int t) {
  checkIndex(t, numTensors());
  auto it = impl_->inputStaging.find(t);
  return it != impl_->inputStaging.end() ? it->second.data() : impl_->data[t];
}
const float *Executor::tensorData(int t) const {
  return const_cast<Executor *>(this)->tensorData(t);
}
const std::vector<int> &Executor::inputs() const { return impl_->inputs; }
const std::vector<int> &Executor::outputs() const { return impl_->outputs; }

void Executor::setInput(const std::string &name, const std::vector<float> &values) {
  int t = tensorIndex(name);
  if (t < 0 || std::find(impl_->inputs.begin(), impl_->inputs.end(), t) == impl_->inputs.end())
    throw Error("'" + name + "' is not a graph input of the module");
  if (int64_t(values.size()) != impl_->numel[t])
    throw Error("input '" + name + "' needs " + std::to_string(impl_->numel[t]) +
                " values (" + shapeToString(impl_->shapes[t]) + "), got " +
                std::to_string(values.size()));
  std::copy(values.begin(), values.end(), tensorData(t));
}

std::vector<float> Executor::read(const std::string &name) const {
  int t = tensorIndex(name);
  if (t < 0)
    throw Error("no tensor named '" + name + "' in the module");
  if (std::string fused = fusedInto(t); !fused.empty())
    throw Error("'" + name + "' is computed inside the fused kernel '" + fused +
                "' and not kept");
  const float *p = tensorData(t);
  std::vector<float> v(p, p + impl_->numel[t]);
  if (int block = tensorBlock(t))
    ops::toPlain(tensorShape(t), block, p, v.data());
  return v;
}

int Executor::tensorBlock(int t) const {
  checkIndex(t, numTensors());
  return module_->header.tensors(t).block();
}

void Executor::setParam(int t, const std::vector<float> &values) {
  checkIndex(t, numTensors());
  if (module_->header.tensors(t).kind() != pb::Tensor::PARAM)
    throw Error("'" + tensorName(t) + "' is not a param");
  if (int64_t(values.size()) != impl_->numel[t])
    throw Error("param '" + tensorName(t) + "' needs " + std::to_string(impl_->numel[t]) +
                " values, got " + std::to_string(values.size()));
  std::copy(values.begin(), values.end(), impl_->data[t]);
  for (Impl::Step &s : impl_->steps)
    if (std::find(s.inputTensors.begin(), s.inputTensors.end(), t) != s.inputTensors.end())
      for (auto &[shapes, variant] : s.variants)
        variant.kernel->paramsChanged();
}

void Executor::paramsUpdated() {
  for (Impl::Step &s : impl_->steps)
    if (std::any_of(s.inputTensors.begin(), s.inputTensors.end(), [&](int t) {
          return module_->header.tensors(t).kind() == pb::Tensor::PARAM;
        }))
      for (auto &[shapes, variant] : s.variants)
        variant.kernel->paramsChanged();
}

void Executor::setStep(uint64_t step) {
  for (Impl::Step &s : impl_->steps)
    for (auto &[shapes, variant] : s.variants)
      variant.kernel->setStep(step);
}

int Executor::numKernels() const { return int(impl_->steps.size()); }

TensorKind Executor::tensorKind(int t) const {
  checkIndex(t, numTensors());
  switch (module_->header.tensors(t).kind()) {
  case pb::Tensor::INPUT:
    return TensorKind::Input;
  case pb::Tensor::PARAM:
    return TensorKind::Param;
  case pb::Tensor::ACTIVATION:
    break;
  }
  return TensorKind::Activation;
}

const std::vector<int> &Executor::kernelOutputs(int k) const {
  if (k < 0 || k >= numKernels())
    throw Error("kernel index " + std::to_string(k) + " out of range");
  return impl_->steps[size_t(k)].outputTensors;
}

bool Executor::computedBy(Entry entry, int t) const {
  if (tensorKind(t) != TensorKind::Activation)
    return true;
  const int K = entry == Entry::Forward ? impl_->numForward : numKernels();
  for (int k = 0; k < K; ++k)
    for (int out : impl_->steps[size_t(k)].outputTensors)
      if (out == t)
        return true;
  return false;
}

const std::string &Executor::moduleName() const { return module_->header.name(); }
const std::string &Executor::producer() const { return module_->header.producer(); }
const std::string &Executor::compileCommand() const {
  return module_->header.compile_command();
}
const KernelInfo &Executor::kernelInfo(int k) const {
  if (k < 0 || k >= numKernels())
    throw Error("kernel index " + std::to_string(k) + " out of range");
  return impl_->infos[k];
}

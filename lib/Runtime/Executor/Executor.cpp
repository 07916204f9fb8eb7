//===- Executor.cpp - Running a compiled module ----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Executor.h"

#include "dlc/Runtime/KernelRegistry.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <sstream>

#include <omp.h>
#include <unistd.h>

using namespace dlc::rt;
namespace pb = dlc::module;

namespace {

struct FreeDeleter {
  void operator()(float *p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float, FreeDeleter>;

Buffer allocate(uint64_t bytes) {
  uint64_t rounded = std::max<uint64_t>(64, (bytes + 63) / 64 * 64);
  void *p = std::aligned_alloc(64, rounded);
  if (!p)
    throw Error("out of memory allocating " + std::to_string(bytes) + " bytes");
  std::memset(p, 0, rounded);
  return Buffer(static_cast<float *>(p));
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

bool rangesOverlap(const float *a, int64_t na, const float *b, int64_t nb) {
  if (na == 0 || nb == 0)
    return false;
  return a < b + nb && b < a + na;
}

double msSince(std::chrono::steady_clock::time_point t0, std::chrono::steady_clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
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

struct Executor::Impl {
  std::vector<Shape> shapes;
  std::vector<int64_t> numel;
  std::vector<float *> data; ///< where kernels read/write each tensor
  Buffer arena;
  std::vector<Buffer> owned;
  std::vector<int> inputs, outputs;
  std::map<std::string, int> byName;
  /// Inputs living in arena memory that later tensors reuse: the value set by
  /// the caller is kept here and copied into the arena at the start of run().
  std::map<int, std::vector<float>> inputStaging;

  struct Step {
    std::unique_ptr<Kernel> kernel;
    std::vector<const float *> in;
    std::vector<float *> out;
    /// Outputs that alias an input in a way the kernel cannot handle: written
    /// to scratch[i] and copied to target[i] afterwards.
    std::vector<std::pair<Buffer, float *>> scratch;
    std::vector<int64_t> scratchElems;
    std::vector<float *> realOut;
    std::vector<int> inputTensors;
  };
  std::vector<Step> steps;
  std::vector<KernelInfo> infos;
  std::vector<std::vector<int>> outputsOf; ///< tensor indices each kernel writes
  int numForward = 0; ///< steps [0, numForward) are the forward entry

  void runStep(size_t k) {
    Step &s = steps[k];
    s.kernel->forward(s.in.data(), s.out.data());
    for (size_t i = 0; i < s.scratch.size(); ++i)
      std::memcpy(s.scratch[i].second, s.scratch[i].first.get(), 4 * size_t(s.scratchElems[i]));
  }
  void stageInputs() {
    for (auto &[t, values] : inputStaging)
      std::memcpy(data[t], values.data(), values.size() * sizeof(float));
  }
  BackendContexts backends;
};

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
  const int numTensors = m.tensors_size();
  I.shapes.resize(numTensors);
  I.numel.resize(numTensors);
  I.data.assign(numTensors, nullptr);
  for (int t = 0; t < numTensors; ++t) {
    const pb::Tensor &tensor = m.tensors(t);
    I.shapes[t].assign(tensor.shape().begin(), tensor.shape().end());
    I.numel[t] = module_->numElements(t);
    I.byName[tensor.name()] = t;
  }
  I.inputs.assign(m.inputs().begin(), m.inputs().end());
  I.outputs.assign(m.outputs().begin(), m.outputs().end());

  // Memory budget, checked before allocating anything.
  const bool useArena = !options_.ignoreArenaPlan && m.arena_bytes() > 0;
  uint64_t total = useArena ? uint64_t(m.arena_bytes()) : 0;
  for (int t = 0; t < numTensors; ++t)
    if (!(useArena && m.tensors(t).offset() >= 0))
      total += 4 * uint64_t(I.numel[t]);
  uint64_t limit = options_.memoryLimit ? options_.memoryLimit : physicalMemory();
  if (total > limit)
    throw Error(prefix + "the module needs " + std::to_string(total) +
                " bytes of activations and params, more than the limit of " +
                std::to_string(limit) + " bytes");

  if (useArena)
    I.arena = allocate(uint64_t(m.arena_bytes()));
  for (int t = 0; t < numTensors; ++t) {
    const pb::Tensor &tensor = m.tensors(t);
    if (useArena && tensor.offset() >= 0) {
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

  // Kernels, created once.
  I.steps.resize(m.kernels_size());
  I.infos.resize(m.kernels_size());
  I.outputsOf.resize(m.kernels_size());
  for (int k = 0; k < m.kernels_size(); ++k) {
    const pb::Kernel &kern = m.kernels(k);
    KernelInfo &info = I.infos[k];
    info.op = kern.op();
    info.layer = kern.layer();
    info.loc = kern.loc();
    info.requestedImpl = kern.impl();
    info.role = roleOf(kern);
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
    }
    for (int out : kern.outputs())
      desc.outputs.push_back(I.shapes[out]);

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
    try {
      KernelChoice choice = createKernel(desc, backends, I.backends);
      kernel = std::move(choice.kernel);
      info.backend = choice.backend;
      info.fallbackReason = choice.notes;
      info.fellBack = choice.backend != backends.front();
    } catch (const std::exception &e) {
      throw Error(prefix + where + ": " + e.what());
    }
    info.impl = kernel->implName();

    Impl::Step &step = I.steps[k];
    I.outputsOf[k].assign(kern.outputs().begin(), kern.outputs().end());
    for (int in : kern.inputs()) {
      step.in.push_back(I.data[in]);
      step.inputTensors.push_back(in);
    }
    for (int o = 0; o < kern.outputs_size(); ++o) {
      int out = kern.outputs(o);
      float *ptr = I.data[out];
      step.realOut.push_back(ptr);
      bool conflict = false;
      for (int i = 0; i < kern.inputs_size(); ++i) {
        int in = kern.inputs(i);
        if (!rangesOverlap(ptr, I.numel[out], I.data[in], I.numel[in]))
          continue;
        bool allowedInPlace = o == 0 && i == 0 && ptr == I.data[in] &&
                              I.numel[out] == I.numel[in] && kernel->supportsInPlace();
        if (!allowedInPlace)
          conflict = true;
      }
      // In-place on operand 0 is only safe if no other operand aliases it too.
      if (!conflict && o == 0 && kern.inputs_size() > 0 && ptr == I.data[kern.inputs(0)])
        for (int i = 1; i < kern.inputs_size(); ++i)
          if (rangesOverlap(ptr, I.numel[out], I.data[kern.inputs(i)], I.numel[kern.inputs(i)]))
            conflict = true;
      if (conflict) {
        step.scratch.emplace_back(allocate(4 * uint64_t(I.numel[out])), ptr);
        step.scratchElems.push_back(I.numel[out]);
        ptr = step.scratch.back().first.get();
      }
      step.out.push_back(ptr);
    }
    step.kernel = std::move(kernel);
  }
  I.numForward = module_->numForwardKernels();
}

Executor::~Executor() = default;

bool Executor::hasGradient() const { return impl_->numForward < int(impl_->steps.size()); }

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

static void checkIndex(int t, int n) {
  if (t < 0 || t >= n)
    throw Error("tensor index " + std::to_string(t) + " out of range");
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
  const float *p = tensorData(t);
  return std::vector<float>(p, p + impl_->numel[t]);
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
      s.kernel->paramsChanged();
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
  return impl_->outputsOf[size_t(k)];
}

bool Executor::computedBy(Entry entry, int t) const {
  if (tensorKind(t) != TensorKind::Activation)
    return true;
  const int K = entry == Entry::Forward ? impl_->numForward : numKernels();
  for (int k = 0; k < K; ++k)
    for (int out : impl_->outputsOf[size_t(k)])
      if (out == t)
        return true;
  return false;
}

const std::string &Executor::moduleName() const { return module_->header.name(); }
const std::string &Executor::producer() const { return module_->header.producer(); }
const KernelInfo &Executor::kernelInfo(int k) const {
  if (k < 0 || k >= numKernels())
    throw Error("kernel index " + std::to_string(k) + " out of range");
  return impl_->infos[k];
}

//===----------------------------------------------------------------------===//
// Timing
//===----------------------------------------------------------------------===//

Stats Stats::of(std::vector<double> v) {
  Stats s;
  s.count = int(v.size());
  if (v.empty())
    return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
  double sum = 0;
  for (double x : v)
    sum += x;
  s.mean = sum / double(n);
  double var = 0;
  for (double x : v)
    var += (x - s.mean) * (x - s.mean);
  s.stddev = std::sqrt(var / double(n));
  return s;
}

BenchResult Executor::bench(Entry entry, int warmup, int iterations, bool perLayer) {
  if (warmup < 0 || iterations < 1)
    throw Error("bench needs warmup >= 0 and iterations >= 1");
  const int K = numKernels(entry); // throws for a missing gradient entry
  using clock = std::chrono::steady_clock;
  BenchResult r;
  r.entry = entry;
  r.warmup = warmup;
  r.iterations = iterations;
  r.threads = omp_get_max_threads();
  for (int i = 0; i < warmup; ++i)
    run(entry);
  std::vector<double> totals;
  totals.reserve(size_t(iterations));
  for (int i = 0; i < iterations; ++i) {
    auto t0 = clock::now();
    run(entry);
    totals.push_back(msSince(t0, clock::now()));
  }
  r.total = Stats::of(std::move(totals));
  if (!perLayer)
    return r;

  // Layers in order of first appearance; op from the forward kernels, impls
  // deduplicated.
  Impl &I = *impl_;
  std::vector<int> layerOf(static_cast<size_t>(K));
  std::map<std::string, int> layerIndex;
  struct Names {
    std::vector<std::string> fwdOps, bwdOps, impls;
  };
  std::vector<Names> names;
  auto addUnique = [](std::vector<std::string> &v, const std::string &x) {
    if (std::find(v.begin(), v.end(), x) == v.end())
      v.push_back(x);
  };
  for (int k = 0; k < K; ++k) {
    const KernelInfo &info = I.infos[k];
    std::string name = info.layer.empty() ? info.op + "#" + std::to_string(k) : info.layer;
    auto [it, inserted] = layerIndex.emplace(name, int(r.layers.size()));
    if (inserted) {
      LayerTiming lt;
      lt.layer = name;
      r.layers.push_back(lt);
      names.emplace_back();
    }
    Names &n = names[it->second];
    if (info.role == KernelRole::Forward)
      n.fwdOps.push_back(info.op);
    else
      addUnique(n.bwdOps, info.op);
    addUnique(n.impls, info.impl);
    layerOf[k] = it->second;
  }
  auto join = [](const std::vector<std::string> &v) {
    std::string s;
    for (const std::string &x : v)
      s += (s.empty() ? "" : "+") + x;
    return s;
  };
  for (size_t l = 0; l < r.layers.size(); ++l) {
    r.layers[l].op = join(names[l].fwdOps.empty() ? names[l].bwdOps : names[l].fwdOps);
    r.layers[l].impl = join(names[l].impls);
  }

  // samples[l][role]: per run, the sum over the layer's kernels of that role;
  // slot 3 is the sum over all of them.
  const size_t L = r.layers.size();
  std::vector<std::array<bool, 3>> hasRole(L, {false, false, false});
  for (int k = 0; k < K; ++k)
    hasRole[size_t(layerOf[k])][size_t(I.infos[k].role)] = true;
  std::vector<std::array<std::vector<double>, 4>> samples(L);
  std::vector<std::array<double, 4>> perRun(L);
  std::vector<clock::time_point> stamps(static_cast<size_t>(K) + 1);
  for (int i = 0; i < iterations; ++i) {
    for (auto &p : perRun)
      p.fill(0.0);
    I.stageInputs();
    stamps[0] = clock::now();
    for (int k = 0; k < K; ++k) {
      I.runStep(size_t(k));
      stamps[size_t(k) + 1] = clock::now();
    }
    for (int k = 0; k < K; ++k) {
      double ms = msSince(stamps[size_t(k)], stamps[size_t(k) + 1]);
      perRun[size_t(layerOf[k])][size_t(I.infos[k].role)] += ms;
      perRun[size_t(layerOf[k])][3] += ms;
    }
    for (size_t l = 0; l < L; ++l)
      for (size_t j = 0; j < 4; ++j)
        if (j == 3 || hasRole[l][j])
          samples[l][j].push_back(perRun[l][j]);
  }
  for (size_t l = 0; l < L; ++l) {
    LayerTiming &lt = r.layers[l];
    lt.forward = Stats::of(std::move(samples[l][0]));
    lt.backwardData = Stats::of(std::move(samples[l][1]));
    lt.backwardWeights = Stats::of(std::move(samples[l][2]));
    lt.stats = Stats::of(std::move(samples[l][3]));
    r.sumLayerMedians += lt.forward.median + lt.backwardData.median + lt.backwardWeights.median;
  }
  r.ratio = r.total.median > 0 ? r.sumLayerMedians / r.total.median : 0;
  return r;
}

//===----------------------------------------------------------------------===//
// Checking
//===----------------------------------------------------------------------===//

BlobCheck dlc::rt::compareBlob(const std::string &name, const float *a, const float *b, int64_t n,
                               double tolerance) {
  BlobCheck c;
  c.name = name;
  c.elements = n;
  double scale = 0;
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(b[i]))
      scale = std::max(scale, double(std::fabs(b[i])));
  if (scale == 0)
    scale = 1;
  for (int64_t i = 0; i < n; ++i) {
    double x = a[i], y = b[i];
    double absErr, relErr;
    if (std::isnan(x) || std::isnan(y) || std::isinf(x) || std::isinf(y)) {
      bool same = (std::isnan(x) && std::isnan(y)) || x == y;
      absErr = relErr = same ? 0.0 : INFINITY;
    } else {
      absErr = std::fabs(x - y);
      relErr = absErr / std::max(std::fabs(y), 1e-2 * scale);
    }
    if (absErr > c.maxAbs)
      c.maxAbs = absErr;
    if (c.worstIndex < 0 || relErr > c.maxRel) {
      c.worstIndex = i;
      c.maxRel = relErr;
    }
  }
  c.pass = c.maxRel <= tolerance;
  return c;
}

const char *dlc::rt::checkModeName(CheckMode mode) {
  return mode == CheckMode::PerKernel ? "per-kernel" : "end-to-end";
}

CheckResult dlc::rt::checkAgainstReference(Executor &optimized, Executor &reference,
                                           double tolerance, std::optional<Entry> entry,
                                           CheckMode mode) {
  const LoadedModule &mod = optimized.module();
  if (optimized.numTensors() != reference.numTensors() ||
      optimized.numKernels() != reference.numKernels() ||
      optimized.numForwardKernels() != reference.numForwardKernels())
    throw Error("check: the two executors run different modules");
  const Entry e = entry ? *entry : optimized.hasGradient() ? Entry::Gradient : Entry::Forward;
  const int K = optimized.numKernels(e); // throws for a missing gradient entry
  const pb::Module &m = mod.header;
  for (int t : optimized.inputs()) {
    const float *src = optimized.tensorData(t);
    std::copy(src, src + optimized.tensorElements(t), reference.tensorData(t));
  }
  for (const pb::Param &p : m.params()) {
    const float *src = optimized.tensorData(p.tensor());
    reference.setParam(p.tensor(),
                       std::vector<float>(src, src + optimized.tensorElements(p.tensor())));
  }
  // `feed`: after each reference kernel, replace what it wrote by the
  // optimized values, so the next kernels read those (per-kernel mode).
  auto snapshot = [&](Executor &ex, const std::vector<std::vector<float>> *feed) {
    std::vector<std::vector<float>> snaps(size_t(ex.numTensors()));
    ex.run(e, [&](int k) {
      for (int out : m.kernels(k).outputs()) {
        float *p = ex.tensorData(out);
        snaps[out].assign(p, p + ex.tensorElements(out));
        if (feed)
          std::copy((*feed)[out].begin(), (*feed)[out].end(), p);
      }
    });
    return snaps;
  };
  std::vector<std::vector<float>> a = snapshot(optimized, nullptr);
  std::vector<std::vector<float>> b =
      snapshot(reference, mode == CheckMode::PerKernel ? &a : nullptr);

  CheckResult r;
  r.entry = e;
  r.mode = mode;
  r.tolerance = tolerance;
  for (int k = 0; k < K; ++k)
    for (int out : m.kernels(k).outputs()) {
      BlobCheck c = compareBlob(m.tensors(out).name(), a[out].data(), b[out].data(),
                                int64_t(a[out].size()), tolerance);
      c.layer = m.kernels(k).layer();
      c.role = optimized.kernelInfo(k).role;
      if (!c.pass) {
        r.pass = false;
        ++r.failures;
      }
      r.blobs.push_back(std::move(c));
    }
  return r;
}

//===----------------------------------------------------------------------===//
// Default inputs
//===----------------------------------------------------------------------===//

std::vector<InputFill> dlc::rt::fillDefaultInputs(Executor &ex, uint64_t seed,
                                                  const std::vector<std::string> &skip) {
  const pb::Module &m = ex.module().header;
  std::vector<InputFill> fills;
  for (int t : ex.inputs()) {
    const std::string &name = ex.tensorName(t);
    if (std::find(skip.begin(), skip.end(), name) != skip.end())
      continue;
    // What the input is, as the compiler recorded it from the operand roles
    // of the ops it feeds (docs/dialect.md, "Operand roles").
    const pb::Tensor &tensor = m.tensors(t);
    Random rng(streamSeed(seed, "input:" + name));
    float *p = ex.tensorData(t);
    const int64_t n = ex.tensorElements(t);
    InputFill fill{name, ""};
    switch (tensor.role()) {
    case pb::Tensor::DATA:
      for (int64_t i = 0; i < n; ++i)
        p[i] = float(rng.uniform(-1.0, 1.0));
      fill.how = "uniform[-1,1)";
      break;
    case pb::Tensor::LABEL:
    case pb::Tensor::INDEX: {
      int64_t classes = tensor.value_range();
      for (int64_t i = 0; i < n; ++i)
        p[i] = float(std::min<int64_t>(classes - 1, int64_t(rng.uniform() * double(classes))));
      fill.how = "integers in [0," + std::to_string(classes) + ")";
      break;
    }
    case pb::Tensor::BINARY:
      for (int64_t i = 0; i < n; ++i)
        p[i] = rng.uniform() < 0.5 ? 0.0f : 1.0f;
      fill.how = "binary {0,1}";
      break;
    case pb::Tensor::CONT: {
      const Shape &s = ex.tensorShape(t);
      int64_t perStep = s.empty() || s[0] == 0 ? n : n / s[0];
      for (int64_t i = 0; i < n; ++i)
        p[i] = i < perStep ? 0.0f : 1.0f;
      fill.how = "sequence continuation (0 at t=0, then 1)";
      break;
    }
    }
    fills.push_back(fill);
  }
  return fills;
}

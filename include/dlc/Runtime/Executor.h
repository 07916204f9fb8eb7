//===- Executor.h - Running a compiled module -------------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The executor turns a validated LoadedModule into something runnable:
//  - activation buffers (the compiler's arena plan when Tensor.offset >= 0,
//    otherwise one 64-byte aligned allocation per tensor), plain row-major f32;
//  - params: stored data from the weights section, or materialized by the
//    param's Caffe filler, deterministically from the seed (see fillParam);
//  - one Kernel per module kernel, created once: impl "ref" -> reference
//    kernel; "auto", "onednn" or an algorithm name -> oneDNN kernel (the
//    algorithm passed as attribute "impl"), falling back to the reference
//    kernel when oneDNN has none for that configuration. `<op>_grad` kernels
//    (Kernel.role BACKWARD_DATA / BACKWARD_WEIGHTS) are created the same way.
// Entries (docs/autodiff.md): the forward entry runs the FORWARD kernels (a
// prefix of the kernel list, validated by the reader); the gradient entry -
// forward + backward, no weight update - runs all kernels. A module compiled
// without --gradient has only the forward entry.
// It also provides timing (bench) and an optimized-vs-reference check.
//
// Errors are reported by throwing dlc::rt::Error with a clear message.
// This header is part of the runtime: no MLIR, no LLVM.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_EXECUTOR_H
#define DLC_RUNTIME_EXECUTOR_H

#include "dlc/Runtime/Kernel.h"
#include "dlc/Runtime/Module.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace dlc::rt {

//===----------------------------------------------------------------------===//
// Fillers
//===----------------------------------------------------------------------===//

/// Seed of the random stream of one param (or input): splitmix64(seed XOR
/// FNV-1a-64(name)). Each stream is a std::mt19937_64 seeded with this value,
/// so a param's values depend only on the seed and its own name, not on the
/// order or number of other params.
uint64_t streamSeed(uint64_t seed, const std::string &name);

/// Portable deterministic random numbers on top of std::mt19937_64 (the
/// standard distributions are implementation-defined, these are not):
/// uniform() = (x >> 11) * 2^-53 in [0, 1); gaussian() by Box-Muller.
class Random {
public:
  explicit Random(uint64_t seed) : gen_(seed) {}
  uint64_t next() { return gen_(); }
  double uniform();                        ///< [0, 1)
  double uniform(double a, double b);      ///< [a, b)
  double gaussian(double mean, double std);

private:
  std::mt19937_64 gen_;
  bool haveSpare_ = false;
  double spare_ = 0;
};

/// Fills `data` (numElements(shape) floats) with Caffe's filler semantics:
///  constant: value; uniform: U[min, max]; gaussian: N(mean, std), and when
///  sparse >= 0 each element is kept with probability sparse / shape[0]
///  (zeroed otherwise); xavier: U[-sqrt(3/n), sqrt(3/n)]; msra: N(0, sqrt(2/n))
///  with n = fan_in = numel/shape[0], fan_out = numel/shape[1] (numel for
///  rank 1), or average = (fan_in + fan_out)/2; positive_unitball: U[0,1] then
///  every row i of shape[0] rows divided by its sum; bilinear: 4-D, square
///  kernel, f = ceil(K/2), c = (K-1)/(2f), w(x,y) = (1-|x/f-c|)(1-|y/f-c|).
/// The random stream is Random(streamSeed(seed, name)). Throws Error when the
/// filler cannot apply to the shape.
void fillParam(const dlc::module::Filler &filler, const Shape &shape, uint64_t seed,
               const std::string &name, float *data);

//===----------------------------------------------------------------------===//
// Entries and roles
//===----------------------------------------------------------------------===//

/// What a kernel computes (dlc.module.Kernel.role).
enum class KernelRole { Forward, BackwardData, BackwardWeights };
/// "forward", "backward_data", "backward_weights".
const char *roleName(KernelRole role);

/// The runnable entries of a module.
enum class Entry {
  Forward, ///< FORWARD kernels only
  Gradient ///< every kernel: forward, then backward-data and backward-weights
};
/// "forward", "gradient".
const char *entryName(Entry entry);

//===----------------------------------------------------------------------===//
// Statistics
//===----------------------------------------------------------------------===//

/// Summary of a series of timings in milliseconds.
struct Stats {
  double median = 0, min = 0, max = 0, mean = 0, stddev = 0; ///< ms; stddev is the population one
  /// Percentiles, linearly interpolated between the sorted samples (p50 is
  /// the median).
  double p90 = 0, p99 = 0;
  /// Coefficient of variation: stddev / mean (0 for a single sample).
  double cv = 0;
  int count = 0;
  static Stats of(std::vector<double> samplesMs);
};

/// Above this coefficient of variation a timing is noisy (dlrun warns).
inline constexpr double kNoisyCv = 0.05;

/// Per prototxt layer (kernels with the same layer name are aggregated;
/// backward kernels carry their forward layer's name).
struct LayerTiming {
  std::string layer;
  /// The layer's forward op(s) ("a+b" when several forward kernels); for a
  /// layer with backward kernels only, their distinct ops.
  std::string op;
  std::string impl; ///< distinct implementation names, "+"-joined, in kernel order
  /// The convolution algorithms chosen per direction ("fwd:winograd4
  /// data:fft weights:direct"), or "" for a layer without a convolution.
  std::string algorithms;
  Stats stats;      ///< per run: sum over the layer's kernels in the entry
  /// Per run, the layer's kernels of one role; count == 0 when the layer has
  /// no kernel of that role in the entry (always so for backward roles in the
  /// forward entry).
  Stats forward, backwardData, backwardWeights;
  /// Multiply-adds per run of the layer's kernels of each role (the ops'
  /// work rules, dlc/Ops/OpSchema.h; 0 for layers without one) and the bytes
  /// their operands and results take (read and written once each: a lower
  /// bound of the traffic).
  double macsForward = 0, macsBackwardData = 0, macsBackwardWeights = 0;
  double bytesForward = 0, bytesBackwardData = 0, bytesBackwardWeights = 0;
  /// Σ KernelInfo::workspace of the layer's kernels of each role.
  uint64_t workspaceForward = 0, workspaceBackwardData = 0, workspaceBackwardWeights = 0;
  /// What the layer's kernels time of their own parts (Kernel::phases), per
  /// run, named "<role>: <part>" ("forward: recurrence") in order of
  /// appearance; empty for most layers.
  struct Phase {
    std::string name;
    Stats stats;
  };
  std::vector<Phase> phases;
};

/// How long Executor::bench runs.
struct BenchOptions {
  int warmup = 5;             ///< untimed runs, at least
  double warmupSeconds = 0;   ///< ... and until this much time has passed
  int iterations = 50;        ///< timed runs, at least
  double minSeconds = 0;      ///< ... and until this much time has passed
  int maxIterations = 1000000;
  /// Also time each kernel, in a separate pass of as many runs as the timed
  /// pass made.
  bool perLayer = true;
  /// Called after every run: the pass ("warmup", "timing", "per-layer"),
  /// runs done, and the runs the pass will make at least.
  std::function<void(const char *pass, int done, int planned)> progress;
};

struct BenchResult {
  Entry entry = Entry::Forward;
  int warmup = 0, iterations = 0, threads = 0;
  Stats total;                     ///< end-to-end, whole runs, no per-kernel timestamps
  std::vector<LayerTiming> layers; ///< from a separate timed pass (empty if not requested)
  /// Σ over layers of the forward + backwardData + backwardWeights medians
  /// (ms; for the forward entry, Σ of the per-layer forward medians).
  double sumLayerMedians = 0;
  double ratio = 0;                ///< sumLayerMedians / total.median
};

/// What an executor holds in memory (bytes; docs/memory.md).
struct MemoryReport {
  uint64_t params = 0;      ///< weights and statistics
  uint64_t arena = 0;       ///< the planned activation arena (inputs included)
  uint64_t unplanned = 0;   ///< activations and inputs outside the arena
  /// Every activation and input in a buffer of its own (64-byte aligned):
  /// what arena + unplanned would be without the buffer plan.
  uint64_t naive = 0;
  /// The parameters' gradients (tensors "<param>@grad" of the gradient
  /// entry; they are activations, so part of arena + unplanned).
  uint64_t gradients = 0;
  uint64_t scratch = 0;     ///< the executor's copies for unsupported aliasing
  /// Σ KernelInfo::workspace over the kernels that have run.
  uint64_t workspace = 0;
  int inPlace = 0;          ///< kernels writing over one of their inputs
  uint64_t peakRss = 0;     ///< the process's peak resident set so far
};

//===----------------------------------------------------------------------===//
// Executor
//===----------------------------------------------------------------------===//

enum class ExecMode {
  Optimized, ///< honour each kernel's impl (oneDNN where available)
  Reference  ///< every kernel uses the reference implementation
};

struct ExecutorOptions {
  int threads = 0;                 ///< > 0: omp_set_num_threads(threads)
  ExecMode mode = ExecMode::Optimized;
  std::optional<uint64_t> seed;    ///< filler seed; default: the module's seed
  /// Refuse to allocate more than this many bytes for activations and params
  /// (0 = the machine's physical memory).
  uint64_t memoryLimit = 0;
  /// Ignore the compiler's arena plan: every activation gets its own buffer.
  bool ignoreArenaPlan = false;
  /// A kernel with fewer multiply-adds than serialMacs whose operands and
  /// results take fewer bytes than serialBytes runs on one thread: waking
  /// the other threads and joining them costs more than they save
  /// (docs/performance.md). Both 0: every kernel uses all threads.
  double serialMacs = 1 << 20, serialBytes = 1 << 19;
};

struct KernelInfo {
  std::string op, layer, loc;
  std::string requestedImpl; ///< Kernel.impl from the module
  /// The convolution algorithm the compiler chose for this kernel, or for
  /// the convolution inside a fused kernel (docs/convolution.md); "" for
  /// other ops.
  std::string convAlgorithm;
  std::string impl;          ///< Kernel::implName() of what was created
  std::string backend;       ///< the registry backend that created it ("onednn", "ref")
  /// A preferred backend was passed over (e.g. oneDNN for stochastic pooling).
  bool fellBack = false;
  /// Why the preferred backends were passed over ("onednn: ..."), or "".
  std::string fallbackReason;
  KernelRole role = KernelRole::Forward;
  /// Multiply-adds of one run (kernelMacs, dlc/Runtime/KernelRegistry.h)
  /// and the bytes of its operands and results, at creation's shapes.
  double macs = 0, bytes = 0;
  /// Runs on one thread (ExecutorOptions::serialMacs, serialBytes).
  bool serial = false;
  /// Heap memory the kernel keeps for itself (docs/memory.md): measured as
  /// the growth of the C library's heap in use across its creation and its
  /// first run (cached weight copies, im2col and FFT buffers, oneDNN's
  /// scratchpad when this kernel grew it). The creation's share until the
  /// kernel first ran; 0 where the C library cannot tell.
  uint64_t workspace = 0;
};

/// What a module tensor is.
enum class TensorKind { Activation, Input, Param };

class Executor {
public:
  /// Builds buffers, params and kernels. Throws Error (message names the
  /// module and the layer) on failure.
  Executor(std::shared_ptr<const LoadedModule> module, const ExecutorOptions &options = {});
  ~Executor();
  Executor(const Executor &) = delete;
  Executor &operator=(const Executor &) = delete;

  const LoadedModule &module() const { return *module_; }
  const ExecutorOptions &options() const { return options_; }
  uint64_t seed() const { return seed_; }

  /// The module's native code as loaded (docs/codegen.md): null when it has
  /// none or the executor runs the reference kernels.
  std::shared_ptr<const NativeCode> nativeCode() const;
  /// True when the module has backward kernels (a gradient entry).
  bool hasGradient() const;
  /// Kernels [0, numForwardKernels()) are the forward entry.
  int numForwardKernels() const;
  /// Number of kernels `entry` runs; throws Error for the gradient entry of a
  /// module without one.
  int numKernels(Entry entry) const;

  /// Runs the kernels of `entry` in order; after kernel k ran, calls
  /// afterKernel(k) when given. Throws Error ("module has no gradient; compile
  /// with dlc compile --gradient") for the gradient entry of a module
  /// without backward kernels.
  void run(Entry entry, const std::function<void(int kernel)> &afterKernel = nullptr);
  /// The forward entry: FORWARD kernels only.
  void runForward() { run(Entry::Forward); }
  /// The gradient entry: forward then backward kernels (no weight update).
  /// Gradients are written, not accumulated, so repeated runs give the same
  /// values.
  void runGradient() { run(Entry::Gradient); }
  /// Compatibility: the forward entry.
  void run() { run(Entry::Forward); }
  void run(const std::function<void(int kernel)> &afterKernel) { run(Entry::Forward, afterKernel); }

  // Tensors. A tensor with a run-time size (a filter's result and what is
  // computed from it; LoadedModule::hasDynamicShape) has the shape and element
  // count of the last run (its largest shape before the first run); its
  // buffer holds the largest.
  int numTensors() const;
  int tensorIndex(const std::string &name) const; ///< -1 when absent
  const std::string &tensorName(int t) const;
  const Shape &tensorShape(int t) const;
  int64_t tensorElements(int t) const;
  float *tensorData(int t);
  const float *tensorData(int t) const;
  const std::vector<int> &inputs() const;  ///< graph input tensor indices
  const std::vector<int> &outputs() const; ///< net output tensor indices

  /// Copies `values` into graph input `name`; throws Error when the name is
  /// not an input or the element count differs.
  void setInput(const std::string &name, const std::vector<float> &values);
  /// Storage layout of tensor t (docs/layouts.md): 0 when plain row-major,
  /// else the channel block of nChw<B>c. tensorData is in that layout;
  /// read() converts to plain.
  int tensorBlock(int t) const;
  /// Copy of tensor `name`'s contents in Caffe's plain layout; throws Error
  /// for an unknown name.
  std::vector<float> read(const std::string &name) const;
  /// Overwrites param tensor t's data and tells the kernels.
  void setParam(int t, const std::vector<float> &values);
  /// Tells every kernel reading a param that the params were written in
  /// place, through tensorData (the solver's update).
  void paramsUpdated();
  /// The training step about to run (Kernel::setStep): train-mode dropout
  /// draws a new mask per step. Step 0 (the default) is the compiled seed's.
  void setStep(uint64_t step);

  /// Activation (written by a kernel), graph input or param.
  TensorKind tensorKind(int t) const;
  /// True when running `entry` computes (or is given) tensor t: inputs and
  /// params always, activations when a kernel of the entry writes them.
  bool computedBy(Entry entry, int t) const;
  /// For a tensor computed and consumed inside a fused kernel (no buffer:
  /// tensorData is null, it cannot be read or dumped), that kernel's layer
  /// name ("conv1+relu1"); "" for every other tensor (docs/fusion.md).
  std::string fusedInto(int t) const;
  /// The index of that fused kernel, or -1. A backward one (its role not
  /// Forward) holds copies it recomputes from the forward blobs
  /// (docs/fusion.md, "Gradient modules").
  int fusedKernel(int t) const;
  /// Memory held by this executor (docs/memory.md).
  MemoryReport memory() const;

  // Kernels (of the whole module).
  int numKernels() const;
  const KernelInfo &kernelInfo(int k) const;
  /// The tensors kernel k writes.
  const std::vector<int> &kernelOutputs(int k) const;

  /// The module's name (the net's) and the compiler that produced it.
  const std::string &moduleName() const;
  const std::string &producer() const;
  /// The `dlc compile` command line that wrote the module ("" if unknown).
  const std::string &compileCommand() const;

  /// Timing of one entry: untimed warm-up runs, then timed whole runs (at
  /// least `iterations`, and for at least `minSeconds`); when perLayer,
  /// as many runs again with a timestamp around each kernel (a separate
  /// pass, so the end-to-end figure carries no timing overhead), aggregated
  /// per layer and role.
  BenchResult bench(Entry entry, const BenchOptions &options);
  BenchResult bench(Entry entry, int warmup, int iterations, bool perLayer) {
    BenchOptions o;
    o.warmup = warmup;
    o.iterations = iterations;
    o.perLayer = perLayer;
    return bench(entry, o);
  }
  /// Compatibility: the forward entry.
  BenchResult bench(int warmup, int iterations, bool perLayer) {
    return bench(Entry::Forward, warmup, iterations, perLayer);
  }

private:
  struct Impl;
  void describeBody(const dlc::module::Kernel &kern, int k, KernelDesc &desc);
  std::shared_ptr<const LoadedModule> module_;
  ExecutorOptions options_;
  uint64_t seed_ = 0;
  std::unique_ptr<Impl> impl_;
};

//===----------------------------------------------------------------------===//
// Default inputs
//===----------------------------------------------------------------------===//

/// How fillDefaultInputs filled one graph input.
struct InputFill {
  std::string name;
  std::string how; ///< e.g. "uniform[-1,1)", "labels in [0,10)", "binary {0,1}"
};

/// Fills every graph input not named in `skip` with deterministic random data
/// from Random(streamSeed(seed, "input:" + name)), following the role the
/// compiler recorded for it (dlcm.proto Tensor.role, from the operand roles of
/// the op definitions):
///  - LABEL / INDEX: integers in [0, value_range) (e.g. the classes of a
///    SoftmaxWithLoss's logits, an Embed's input_dim);
///  - BINARY: 0 or 1;
///  - CONT ([T, N, ...]): 0 at t = 0, 1 afterwards;
///  - DATA: uniform in [-1, 1).
std::vector<InputFill> fillDefaultInputs(Executor &ex, uint64_t seed,
                                         const std::vector<std::string> &skip = {});

//===----------------------------------------------------------------------===//
// Checking an optimized executor against the reference implementation
//===----------------------------------------------------------------------===//

/// Per blob (tensor produced by a kernel): with a = optimized and b = reference
/// values, scale = max_i |b_i| (1 when the blob is all zeros),
///   maxAbs = max_i |a_i - b_i|,
///   maxRel = max_i |a_i - b_i| / max(|b_i|, 1e-2 * scale).
/// A NaN/Inf mismatch gives maxRel = +inf. pass = maxRel <= tolerance.
struct BlobCheck {
  std::string name, layer;
  KernelRole role = KernelRole::Forward; ///< of the producing kernel
  int64_t elements = 0;
  double maxAbs = 0, maxRel = 0;
  double scale = 1; ///< max |reference|, the floor of the relative error is 1e-2 * scale
  int64_t worstIndex = -1; ///< flat index of the largest relative error
  /// The convolution algorithm of the producing kernel when it declares an
  /// error bound looser than the tolerance (FFT, Winograd: rounding in the
  /// transformed domain spreads over the whole output, so the error scales
  /// with max |b| rather than with each element); such a blob also passes
  /// when max abs <= algorithmBound * scale. "" and 0 otherwise.
  std::string algorithm;
  double algorithmBound = 0;
  bool pass = true;
};

/// How --check feeds the reference. PerKernel: every reference kernel reads
/// the optimized executor's values of its inputs, so each blob's error is the
/// error of the one kernel that produced it (an argmax that flips between two
/// nearly equal values upstream cannot make a correct max-pooling gradient
/// look wrong). EndToEnd: the reference runs the whole net on its own values,
/// so errors accumulate as they would in use.
enum class CheckMode { PerKernel, EndToEnd };
const char *checkModeName(CheckMode mode);

struct CheckResult {
  Entry entry = Entry::Forward; ///< the entry both executors ran
  CheckMode mode = CheckMode::PerKernel;
  double tolerance = 1e-3;
  std::vector<BlobCheck> blobs; ///< in production order
  bool pass = true;
  int failures = 0;
};

/// Element-wise comparison as documented on BlobCheck.
BlobCheck compareBlob(const std::string &name, const float *a, const float *b, int64_t n,
                      double tolerance);
/// Records on `c` the error bound the convolution algorithm `algorithm` (the
/// producing kernel's, "" for none) declares in the catalog, when it is
/// looser than `tolerance`, and passes `c` when within it.
void applyConvAlgorithmBound(BlobCheck &c, std::string_view algorithm, double tolerance);

/// Copies the graph inputs and params of `optimized` into `reference`, runs
/// `entry` on both, and compares every blob right after the kernel producing
/// it ran (so arena reuse does not hide anything). Without `entry`: the
/// gradient entry when the module has one (every forward blob and every
/// gradient blob), else the forward entry. Both executors must come from the
/// same module.
CheckResult checkAgainstReference(Executor &optimized, Executor &reference,
                                  double tolerance = 1e-3,
                                  std::optional<Entry> entry = std::nullopt,
                                  CheckMode mode = CheckMode::PerKernel);

} // namespace dlc::rt

#endif // DLC_RUNTIME_EXECUTOR_H

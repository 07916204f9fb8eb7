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
//    kernel when oneDNN has none for that configuration.
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

class DnnlContext;

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
// Statistics
//===----------------------------------------------------------------------===//

/// Summary of a series of timings in milliseconds.
struct Stats {
  double median = 0, min = 0, max = 0, mean = 0, stddev = 0; ///< ms; stddev is the population one
  int count = 0;
  static Stats of(std::vector<double> samplesMs);
};

/// Per prototxt layer (kernels with the same layer name are aggregated).
struct LayerTiming {
  std::string layer;
  std::string op;   ///< op of the first kernel of the layer ("a+b" when several)
  std::string impl; ///< implementation name(s)
  Stats stats;      ///< per run: sum over the layer's kernels
};

struct BenchResult {
  int warmup = 0, iterations = 0, threads = 0;
  Stats total;                     ///< end-to-end, whole runs, no per-kernel timestamps
  std::vector<LayerTiming> layers; ///< from a separate timed pass (empty if not requested)
  double sumLayerMedians = 0;      ///< Σ per-layer medians (ms)
  double ratio = 0;                ///< sumLayerMedians / total.median
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
};

struct KernelInfo {
  std::string op, layer, loc;
  std::string requestedImpl; ///< Kernel.impl from the module
  std::string impl;          ///< Kernel::implName() of what was created
  bool fellBack = false;     ///< oneDNN was asked for but the reference kernel runs
};

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

  /// Runs every kernel in order.
  void run();
  /// Runs every kernel; after kernel k ran, calls afterKernel(k).
  void run(const std::function<void(int kernel)> &afterKernel);

  // Tensors.
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
  /// Copy of tensor `name`'s contents; throws Error for an unknown name.
  std::vector<float> read(const std::string &name) const;
  /// Overwrites param tensor t's data and tells the kernels.
  void setParam(int t, const std::vector<float> &values);

  // Kernels.
  int numKernels() const;
  const KernelInfo &kernelInfo(int k) const;

  /// Timing: `warmup` untimed runs, then `iterations` timed whole runs; when
  /// perLayer, another `iterations` runs with a timestamp around each kernel
  /// (a separate pass, so the end-to-end figure carries no timing overhead).
  BenchResult bench(int warmup, int iterations, bool perLayer);

private:
  struct Impl;
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
/// from Random(streamSeed(seed, "input:" + name)), following its use:
///  - 2nd operand of softmax_with_loss / accuracy: integer labels in [0, C),
///    C = the logits' dimension along the op's `axis` (default 1);
///  - 2nd operand of sigmoid_cross_entropy_loss, 3rd of contrastive_loss:
///    0 or 1;
///  - 1st operand of embed: integer indices in [0, input_dim);
///  - 2nd operand of lstm (cont, [T, N]): 0 at t = 0, 1 afterwards;
///  - anything else: uniform in [-1, 1).
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
  int64_t elements = 0;
  double maxAbs = 0, maxRel = 0;
  int64_t worstIndex = -1; ///< flat index of the largest relative error
  bool pass = true;
};

struct CheckResult {
  double tolerance = 1e-3;
  std::vector<BlobCheck> blobs; ///< in production order
  bool pass = true;
  int failures = 0;
};

/// Element-wise comparison as documented on BlobCheck.
BlobCheck compareBlob(const std::string &name, const float *a, const float *b, int64_t n,
                      double tolerance);

/// Copies the graph inputs and params of `optimized` into `reference`, runs
/// both, and compares every blob right after the kernel producing it ran (so
/// arena reuse does not hide anything). Both executors must come from the same
/// module.
CheckResult checkAgainstReference(Executor &optimized, Executor &reference,
                                  double tolerance = 1e-3);

} // namespace dlc::rt

#endif // DLC_RUNTIME_EXECUTOR_H

//===- Distributed.h - Data-parallel training across processes --*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Data parallelism (docs/distributed.md), as Caffe's multi-GPU training:
// every rank runs the same module on its own share of the data, the
// gradients are summed over the ranks and divided by their number (the
// gradient of the combined batch), and every rank applies the same update.
//
//  - Communicator: the collectives the training needs, over MPI (Debian's
//    Open MPI). Every MPI call is made by one thread of the communicator
//    (MPI_THREAD_FUNNELED), which polls each collective against a deadline:
//    a rank that died or hangs makes the others fail with an error instead
//    of waiting forever.
//  - GradientSync: the gradients grouped into buckets in the order the
//    gradient entry makes them final (the last kernel that writes each); a
//    bucket is allreduced as soon as its last gradient is written, while the
//    backward pass goes on (Trainer::Reducer).
// Part of the runtime: no MLIR, no LLVM.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_DISTRIBUTED_H
#define DLC_RUNTIME_DISTRIBUTED_H

#include "dlc/Runtime/Training.h"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace dlc::rt {

/// An operation started now and finished later.
struct AsyncOp {
  /// Waits for it; throws Error with its error.
  void wait();
  /// Called once by the thread that ran it ("" = success).
  void finish(const std::string &error, double seconds);
  double seconds = 0; ///< how long it ran (valid after wait())

private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::string error_;
};

/// The collectives of a group of ranks. Every operation blocks until it
/// completed on this rank; it throws Error when it fails or does not complete
/// within the timeout (another rank died or stopped responding).
class Communicator {
public:
  virtual ~Communicator();
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// "mpi (Open MPI 4.1.4)".
  virtual std::string describe() const = 0;
  /// Sums over the ranks, in place.
  virtual void allreduceSum(float *data, int64_t n) = 0;
  virtual void allreduceSum(double *data, int64_t n) = 0;
  /// Rank `root`'s values on every rank.
  virtual void broadcast(float *data, int64_t n, int root) = 0;
  virtual void broadcast(int64_t *data, int64_t n, int root) = 0;
  virtual void barrier() = 0;
  /// Ends every rank's process (MPI_Abort): after an error on one rank, the
  /// others must not wait for it.
  [[noreturn]] virtual void abort(int exitCode) = 0;

  /// An allreduce started now and finished later (GradientSync's buckets):
  /// the communicator's thread runs the started ones in order.
  virtual std::shared_ptr<AsyncOp> allreduceSumAsync(float *data, int64_t n) = 0;
  /// Every rank's `bytes` bytes, rank after rank, into recv (size() * bytes).
  virtual std::shared_ptr<AsyncOp> allgatherAsync(const void *send, int64_t bytes,
                                                  void *recv) = 0;
};

/// Whether this build has MPI (dlc built with Debian's libopenmpi-dev).
bool haveMpi();
/// Initializes MPI (once per process); `timeoutSeconds` bounds every
/// collective. Throws Error when built without MPI or when MPI fails.
std::unique_ptr<Communicator> createMpiCommunicator(double timeoutSeconds);

/// Options of the gradient allreduce.
struct SyncOptions {
  int64_t bucketBytes = int64_t(1) << 20; ///< gradients per allreduce, at most (one larger gradient alone)
  bool overlap = true;                    ///< allreduce buckets during the backward pass
  /// 1-bit SGD with error feedback (Seide et al. 2014, as CNTK): each rank
  /// sends signs and two values per block instead of floats (OneBit).
  bool oneBit = false;
};

/// 1-bit quantization with error feedback: v = x + residual; per block of
/// kOneBitBlock elements a bit v >= 0 and two reconstruction values, the
/// means of the block's non-negative and of its negative v; residual = v -
/// its reconstruction (carried to the next step, so nothing is lost, only
/// delayed). The message: 2 floats per block, then the bits (32 per word).
inline constexpr int64_t kOneBitBlock = 256; ///< a multiple of 32
int64_t oneBitMessageBytes(int64_t n);
void oneBitEncode(const float *x, int64_t n, float *residual, uint8_t *message);
/// out[i] += the reconstruction of element i of `message`.
void oneBitDecodeAdd(const uint8_t *message, int64_t n, float *out);

/// What one step's allreduce cost.
struct SyncStats {
  int buckets = 0;
  int64_t bytes = 0;             ///< bytes each rank sends (gradients, or 1-bit messages)
  double allreduceSeconds = 0;   ///< Σ time of the allreduce calls (on the communicator thread)
  double exposedSeconds = 0;     ///< time the step waited for them after its backward pass
};

/// Sums the gradients of the ranks before each update: Trainer's reducer.
class GradientSync : public Trainer::Reducer {
public:
  /// `grads`: the gradient tensors the update reads, in the trainer's order.
  GradientSync(Executor &ex, Communicator &comm, std::vector<int> grads, SyncOptions options);
  ~GradientSync() override;

  void beginPass(bool final) override;
  void afterKernel(int kernel) override;
  void reduce(const std::vector<float *> &grads) override;
  void reduceLosses(std::vector<double> &sums) override;

  const SyncStats &lastStats() const { return stats_; }
  size_t numBuckets() const { return buckets_.size(); }
  /// Bucket b's gradient tensors, in the order they are packed.
  const std::vector<int> &bucketTensors(size_t b) const { return buckets_[b].tensors; }

private:
  struct Bucket {
    std::vector<int> tensors;       ///< gradient tensors
    std::vector<size_t> params;     ///< their index in the trainer's order
    std::vector<int64_t> offsets;   ///< in data
    std::vector<float> data;
    std::vector<float> residual;    ///< 1-bit SGD's error feedback
    std::vector<uint8_t> message, gathered; ///< 1-bit SGD: this rank's, every rank's
    int lastKernel = -1;            ///< after it, every gradient of the bucket is final
    std::shared_ptr<AsyncOp> pending;
  };
  void start(Bucket &b, const std::vector<const float *> &from);
  Executor &ex_;
  Communicator &comm_;
  std::vector<int> grads_;
  SyncOptions options_;
  std::vector<Bucket> buckets_;
  std::vector<std::vector<size_t>> bucketsAfterKernel_; ///< per kernel: buckets complete after it
  bool overlapThisPass_ = false;
  SyncStats stats_;
};

/// Sums the gradient tensors `grads` over the ranks and divides them by the
/// number of ranks (after a plain gradient run: dlrun --distributed).
void averageGradients(Executor &ex, Communicator &comm, const std::vector<int> &grads);

/// The params of the module (every Param tensor) from rank 0 on every rank.
void broadcastParams(Executor &ex, Communicator &comm);

} // namespace dlc::rt

#endif // DLC_RUNTIME_DISTRIBUTED_H

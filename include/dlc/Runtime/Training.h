//===- Training.h - Caffe's solvers on a compiled module --------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Training a module compiled with `dlc compile --solver` (docs/training.md):
//  - learningRate(): Caffe's lr_policy formulas (SGDSolver::GetLearningRate);
//  - SolverUpdate: the update of every Caffe solver type, with gradient
//    clipping, iter_size normalization and L2/L1 weight decay, fused into one
//    pass over each parameter (plus one reduction pass when clipping): the
//    function the compiler generated for the module's solver, or built-in
//    loops computing the same;
//  - Trainer: one iteration = iter_size gradient entries (gradients summed),
//    then the update; the loss, smoothed as Caffe displays it; BatchNorm's
//    moving averages updated after each gradient entry (MovingAverages).
// Part of the runtime: no MLIR, no LLVM.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_TRAINING_H
#define DLC_RUNTIME_TRAINING_H

#include "dlc/Ops/SolverUpdate.h"
#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/dlcm.pb.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dlc::rt {

/// The learning rate of iteration `iter` (0-based: the number of updates
/// already made), by Caffe's formulas:
///   fixed      base_lr
///   step       base_lr * gamma ^ floor(iter / stepsize)
///   exp        base_lr * gamma ^ iter
///   inv        base_lr * (1 + gamma * iter) ^ (-power)
///   multistep  base_lr * gamma ^ (number of stepvalues <= iter)
///   poly       base_lr * (1 - iter / max_iter) ^ power
///   sigmoid    base_lr / (1 + exp(-gamma * (iter - stepsize)))
double learningRate(const dlc::module::Solver &solver, int64_t iter);

/// Caffe's current_step_ at iteration `iter` (step and multistep; 0 otherwise),
/// as a .solverstate records it.
int64_t learningRateStep(const dlc::module::Solver &solver, int64_t iter);

/// One parameter as the update sees it.
struct UpdateParam {
  float *data = nullptr;       ///< updated in place
  const float *grad = nullptr; ///< Σ of its gradient over the iter_size passes
  int64_t count = 0;
  double lrMult = 1, decayMult = 1;
};

/// The update of a Caffe solver, element by element, in Caffe's order
/// (SGDSolver::ApplyUpdate): g = grad, scaled by clip_gradients / ||grad||
/// when the global L2 norm exceeds clip_gradients, divided by iter_size;
/// then g += decay * w (L2) or decay * sign(w) (L1), decay = weight_decay *
/// decay_mult; then with rate = learningRate(iter) * lr_mult:
///   SGD       h = momentum h + rate g;                       w -= h
///   Nesterov  h' = momentum h + rate g;                      w -= (1 + momentum) h' - momentum h
///   AdaGrad   h += g^2;                                      w -= rate g / (sqrt(h) + delta)
///   RMSProp   h = rms_decay h + (1 - rms_decay) g^2;         w -= rate g / (sqrt(h) + delta)
///   AdaDelta  h = m h + (1 - m) g^2; u = g sqrt((h2 + delta) / (h + delta));
///             h2 = m h2 + (1 - m) u^2;                       w -= rate u       (m = momentum)
///   Adam      h = b1 h + (1 - b1) g; h2 = b2 h2 + (1 - b2) g^2;
///             w -= rate sqrt(1 - b2^t) / (1 - b1^t) h / (sqrt(h2) + delta)
///             (b1 = momentum, b2 = momentum2, t = iter + 1)
/// h is history slot 0, h2 slot 1 (Caffe's history_ and its second half).
class SolverUpdate {
public:
  SolverUpdate(const dlc::module::Solver &solver, const std::vector<int64_t> &counts);

  /// 1 for SGD, Nesterov, AdaGrad and RMSProp; 2 for AdaDelta and Adam.
  int historySlots() const { return slots_; }
  std::vector<float> &history(int slot, int param) { return history_[slot][param]; }
  const std::vector<float> &history(int slot, int param) const { return history_[slot][param]; }
  int numParams() const { return int(counts_.size()); }

  /// Runs the update with `fn`, a function compiled for this solver's type
  /// and regularization (dl-codegen-update, dlc/Ops/SolverUpdate.h), over
  /// ranges of each parameter; null: the built-in loops.
  void setGenerated(dlc::ops::UpdateFunction fn) { generated_ = fn; }
  bool generated() const { return generated_ != nullptr; }

  /// Applies the update of iteration `iter`; `params` in the order of the
  /// constructor's counts. Returns the learning rate used.
  double apply(const std::vector<UpdateParam> &params, int64_t iter);
  /// The global L2 norm of the gradients of the last apply() (before
  /// clipping and normalization; computed only when clipping).
  double gradientNorm() const { return norm_; }

private:
  dlc::module::Solver solver_;
  std::vector<int64_t> counts_;
  int slots_ = 1;
  std::vector<std::vector<float>> history_[2];
  double norm_ = 0;
  dlc::ops::UpdateFunction generated_ = nullptr;
};

/// The moving averages of the BatchNorm layers that normalize with their
/// batch's statistics (phase TRAIN, use_global_stats false): Caffe updates
/// their blobs (mean, variance, scale factor) in every such forward, for
/// the test net (use_global_stats true). See MovingAverages.cpp.
class MovingAverages {
public:
  /// Finds the batch_norm kernels of the gradient entry's forward part
  /// without global statistics, and sets their blobs to Caffe's initial
  /// zeros unless the module stores them. Throws Error for malformed ones.
  explicit MovingAverages(Executor &ex);
  bool empty() const { return layers_.empty(); }
  size_t size() const { return layers_.size(); }
  /// Called after kernel k of a gradient pass ran: for a BatchNorm kernel,
  /// the mean and (biased) variance per channel of its input.
  void afterKernel(const Executor &ex, int k);
  /// After the pass: each layer's blobs = moving_average_fraction * blobs
  /// + the batch's statistics (the variance times m / (m - 1)), the scale
  /// factor * moving_average_fraction + 1. Returns whether any param changed.
  bool update(Executor &ex);

private:
  struct Layer {
    int kernel = 0, x = 0;
    int blobs[3] = {0, 0, 0}; ///< mean, variance, scale factor tensors
    double fraction = 0.999;  ///< moving_average_fraction (Caffe's default)
    std::vector<double> mean, variance;
    int64_t m = 0;
    bool seen = false;
  };
  std::vector<Layer> layers_;
  std::map<int, size_t> byKernel_;
};

/// What Trainer::step reports.
struct StepResult {
  int64_t iter = 0;       ///< the iteration just made (0-based)
  double loss = 0;        ///< this iteration's loss (mean over iter_size passes)
  double smoothedLoss = 0; ///< mean over the last average_loss iterations
  double rate = 0;        ///< learning rate used
  double updateSeconds = 0; ///< time the update took (and BatchNorm's averages)
  /// Each loss output's value (mean over the passes), by name.
  std::vector<std::pair<std::string, double>> outputs;
};

/// Runs the training iterations of a module with a solver.
class Trainer {
public:
  /// Data-parallel training (dlc/Runtime/Distributed.h): sees each gradient
  /// pass and makes the gradients the sum over the ranks before the update.
  class Reducer {
  public:
    virtual ~Reducer() = default;
    /// A gradient pass starts; `final`: its gradient tensors will be the
    /// iteration's gradients (iter_size 1), so they may be reduced as soon
    /// as they are written.
    virtual void beginPass(bool final) = 0;
    /// Kernel k of the pass ran.
    virtual void afterKernel(int kernel) = 0;
    /// Before the update: grads[p] (the trainer's params' order) must become
    /// the mean over the ranks.
    virtual void reduce(const std::vector<float *> &grads) = 0;
    /// The sums of each loss output over the passes: the mean over the ranks.
    virtual void reduceLosses(std::vector<double> &sums) = 0;
  };

  /// Throws Error when the module has no solver or no gradient entry.
  explicit Trainer(Executor &executor);

  /// Called before each gradient pass (iteration, pass in [0, iter_size)) to
  /// put the next batch into the graph inputs; none leaves them as they are.
  using Feed = std::function<void(int64_t iter, int pass)>;

  /// One iteration. Throws Error when the loss is not finite, naming the
  /// first layer whose output is not (before any update is made with it).
  StepResult step(const Feed &feed = nullptr);

  int64_t iter() const { return iter_; }
  void setIter(int64_t iter) { iter_ = iter; }
  Executor &executor() { return ex_; }
  const dlc::module::Solver &solver() const { return solver_; }
  SolverUpdate &update() { return update_; }
  /// How the update runs: "generated:<cpu>" (the module's compiled update)
  /// or "built-in".
  const std::string &updateImplementation() const { return updateImpl_; }
  /// The trained params: tensor indices, in the module's param order.
  const std::vector<int> &paramTensors() const { return paramTensors_; }
  /// The loss outputs (tensors the gradient is seeded at).
  const std::vector<int> &lossTensors() const { return lossTensors_; }
  /// The BatchNorm layers whose moving averages training updates.
  const MovingAverages &movingAverages() const { return averages_; }
  /// Gradients through `r` (not owned; null: this process alone).
  void setReducer(Reducer *r) { reducer_ = r; }
  /// The gradient tensors the update reads, in paramTensors() order.
  const std::vector<int> &gradTensors() const { return gradTensors_; }

private:
  std::string firstNonFinite();
  Executor &ex_;
  dlc::module::Solver solver_;
  std::vector<int> paramTensors_, gradTensors_, lossTensors_;
  std::vector<double> lrMult_, decayMult_;
  std::vector<std::vector<float>> accum_;
  SolverUpdate update_;
  MovingAverages averages_;
  std::deque<double> recent_;
  double recentSum_ = 0;
  int64_t iter_ = 0;
  std::string updateImpl_ = "built-in";
  Reducer *reducer_ = nullptr;
};

//===----------------------------------------------------------------------===//
// Test nets
//===----------------------------------------------------------------------===//

class DataFeed;

struct TestResult {
  int64_t iterations = 0;
  double seconds = 0;
  /// Each output of the test net (accuracy, loss, ...): the mean over the
  /// test iterations of the mean of its elements, in output order.
  std::vector<std::pair<std::string, double>> outputs;
};

/// One of a solver's test nets (dlcm.proto TestNet), run as Caffe's
/// Solver::Test: the train net's params copied in by name, test_iter forward
/// passes on the test net's own data, each output averaged.
class Tester {
public:
  /// Builds test net `index` of the train executor's module, with the train
  /// executor's options (threads, implementations, seed). With readData, its
  /// data layers feed it (DataFeed); otherwise its inputs are random.
  Tester(Executor &train, int index, bool readData = true);
  ~Tester();
  TestResult run();
  /// Drops the data of `tests` earlier tests (a resumed run).
  void skipTests(int64_t tests);
  Executor &executor() { return *ex_; }

private:
  Executor &train_;
  std::shared_ptr<const LoadedModule> module_;
  std::unique_ptr<Executor> ex_;
  std::unique_ptr<DataFeed> feed_;
  std::vector<std::pair<int, int>> shared_; ///< (test tensor, train tensor)
  int64_t iterations_ = 0;
};

//===----------------------------------------------------------------------===//
// Caffe's snapshot files
//===----------------------------------------------------------------------===//

/// The Caffe layer blobs (layer, index) param `p` of the module is:
/// Param.caffe_blobs, else its name "layer/index" (any other name: blob 0 of
/// a layer of that name). Throws Error on a malformed caffe_blobs entry.
std::vector<std::pair<std::string, int>> caffeBlobsOf(const LoadedModule &module, int p);

struct SnapshotFiles {
  std::string caffemodel, solverstate;
};

/// Writes <prefix>_iter_<iter>.caffemodel (a binary NetParameter: every layer
/// that has params, with its blobs, as Caffe's Net::ToProto) and
/// <prefix>_iter_<iter>.solverstate (SolverState: iter, learned_net, the
/// history of every param in module order - zeros for params not trained -
/// then the second history slot of Adam and AdaDelta, current_step), each
/// written atomically (temporary file, then rename).
SnapshotFiles writeSnapshot(Trainer &trainer, const std::string &prefix);

/// Sets the params a .caffemodel holds, matched by layer name and blob index
/// (V2 `layer` or V1 `layers`); returns the number of blobs set. Throws Error
/// for an unreadable file or a blob whose element count differs.
int loadCaffeModel(Executor &ex, const std::string &path);

/// Restores a .solverstate written by writeSnapshot (or Caffe): the
/// iteration, the history, and the weights of its learned_net (looked for as
/// written, then beside the .solverstate).
void restoreSnapshot(Trainer &trainer, const std::string &path);

} // namespace dlc::rt

#endif // DLC_RUNTIME_TRAINING_H

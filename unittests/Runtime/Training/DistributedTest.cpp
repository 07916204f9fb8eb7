//===- DistributedTest.cpp - GradientSync's buckets and overlap -----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// GradientSync on a communicator that stands for N ranks holding the same
// gradients (its allreduce multiplies by N): which buckets it forms, when it
// starts their allreduce (during the backward pass, after the kernel that
// writes a bucket's last gradient), and that the trainer's step with it is
// the step without. The real collectives run in test/tools/dlrun-distributed.test.
//
//===----------------------------------------------------------------------===//

#include "TestModules.h"

#include "dlc/Runtime/Distributed.h"
#include "dlc/Runtime/Module.h"

#include <gtest/gtest.h>

using namespace dlc;
using namespace dlc::rt;
namespace pb = dlc::module;

namespace {

std::shared_ptr<const LoadedModule> load(ModuleWriter w, int iterSize = 1) {
  pb::Solver s;
  s.set_base_lr(0.1);
  s.set_momentum(0.9);
  s.set_max_iter(10);
  s.set_iter_size(iterSize);
  *w.header().mutable_solver() = s;
  std::string bytes, error;
  EXPECT_TRUE(w.serialize(bytes, error)) << error;
  auto lm = std::make_shared<LoadedModule>();
  EXPECT_TRUE(parseModule(std::vector<uint8_t>(bytes.begin(), bytes.end()), "sync.dlcm", *lm,
                          error))
      << error;
  return lm;
}

/// N ranks with equal gradients; records when each allreduce started.
class SameRanks : public Communicator {
public:
  explicit SameRanks(int n) : n_(n) {}
  int rank() const override { return 0; }
  int size() const override { return n_; }
  std::string describe() const override { return "test"; }
  void allreduceSum(float *d, int64_t n) override { scale(d, n); }
  void allreduceSum(double *d, int64_t n) override {
    for (int64_t i = 0; i < n; ++i)
      d[i] *= n_;
  }
  void broadcast(float *, int64_t, int) override {}
  void broadcast(int64_t *, int64_t, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(int) override { std::abort(); }
  std::shared_ptr<AsyncOp> allreduceSumAsync(float *d, int64_t n) override {
    starts.push_back({kernel, n});
    scale(d, n);
    auto op = std::make_shared<AsyncOp>();
    op->finish("", 0);
    return op;
  }
  int kernel = -1; ///< the kernel that ran last (-1: none yet; K: after the pass)
  std::vector<std::pair<int, int64_t>> starts;

private:
  void scale(float *d, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      d[i] *= float(n_);
  }
  int n_;
};

void setData(Executor &ex) {
  std::vector<float> x(size_t(ex.tensorElements(ex.tensorIndex("data"))));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(int(i * 7 % 11) - 5) / 5.0f;
  ex.setInput("data", x);
  std::vector<float> label(size_t(ex.tensorElements(ex.tensorIndex("label"))));
  for (size_t i = 0; i < label.size(); ++i)
    label[i] = float(i % 3);
  ex.setInput("label", label);
}

/// A reducer that tells the communicator which kernel ran.
class Tracking : public Trainer::Reducer {
public:
  Tracking(GradientSync &s, SameRanks &c, int kernels) : s_(s), c_(c), kernels_(kernels) {}
  void beginPass(bool final) override {
    c_.kernel = -1;
    s_.beginPass(final);
  }
  void afterKernel(int k) override {
    c_.kernel = k;
    s_.afterKernel(k);
  }
  void reduce(const std::vector<float *> &g) override {
    c_.kernel = kernels_;
    s_.reduce(g);
  }
  void reduceLosses(std::vector<double> &sums) override { s_.reduceLosses(sums); }

private:
  GradientSync &s_;
  SameRanks &c_;
  int kernels_;
};

} // namespace

TEST(GradientSync, BucketsStartDuringTheBackwardPass) {
  auto lm = load(test::tinyClassifierGradient());
  Executor ex(lm), alone(lm);
  setData(ex);
  setData(alone);
  Trainer trainer(ex), reference(alone);
  SameRanks comm(4); // a power of two: x * 4 / 4 is x exactly
  SyncOptions o;
  o.bucketBytes = 1; // one gradient per bucket
  GradientSync sync(ex, comm, trainer.gradTensors(), o);
  const int K = ex.numKernels(Entry::Gradient);
  ASSERT_EQ(sync.numBuckets(), trainer.gradTensors().size());
  Tracking tracking(sync, comm, K);
  trainer.setReducer(&tracking);
  StepResult a = trainer.step();
  StepResult b = reference.step();
  // Every bucket started during the pass, in the order of the kernels.
  ASSERT_EQ(comm.starts.size(), sync.numBuckets());
  for (size_t i = 0; i < comm.starts.size(); ++i) {
    EXPECT_GE(comm.starts[i].first, ex.numForwardKernels()) << "bucket " << i;
    EXPECT_LT(comm.starts[i].first, K) << "bucket " << i;
    if (i > 0)
      EXPECT_LE(comm.starts[i - 1].first, comm.starts[i].first);
  }
  EXPECT_LT(comm.starts.front().first, K - 1) << "the first bucket waited for the last kernel";
  // The mean of equal gradients: the same step as one process.
  EXPECT_DOUBLE_EQ(a.loss, b.loss);
  for (int t : trainer.paramTensors()) {
    const std::string &name = ex.tensorName(t);
    EXPECT_EQ(ex.read(name), alone.read(name)) << name;
  }
  EXPECT_EQ(sync.lastStats().buckets, int(sync.numBuckets()));
}

TEST(GradientSync, WithoutOverlapOrWithIterSizeAfterThePass) {
  for (int iterSize : {1, 2}) {
    SCOPED_TRACE("iter_size " + std::to_string(iterSize));
    auto lm = load(test::tinyClassifierGradient(), iterSize);
    Executor ex(lm), alone(lm);
    setData(ex);
    setData(alone);
    Trainer trainer(ex), reference(alone);
    SameRanks comm(2);
    SyncOptions o;
    o.overlap = iterSize == 2; // iter_size > 1 never overlaps
    GradientSync sync(ex, comm, trainer.gradTensors(), o);
    EXPECT_EQ(sync.numBuckets(), 1u); // everything fits 1 MiB
    const int K = ex.numKernels(Entry::Gradient);
    Tracking tracking(sync, comm, K);
    trainer.setReducer(&tracking);
    trainer.step();
    reference.step();
    ASSERT_EQ(comm.starts.size(), 1u);
    EXPECT_EQ(comm.starts[0].first, K);
    for (int t : trainer.paramTensors()) {
      const std::string &name = ex.tensorName(t);
      EXPECT_EQ(ex.read(name), alone.read(name)) << name;
    }
  }
}

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

#include <cmath>
#include <cstring>
#include <random>
#include <set>

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
  std::shared_ptr<AsyncOp> allgatherAsync(const void *send, int64_t bytes,
                                          void *recv) override {
    starts.push_back({kernel, bytes});
    for (int r = 0; r < n_; ++r)
      std::memcpy(static_cast<char *>(recv) + r * bytes, send, size_t(bytes));
    auto op = std::make_shared<AsyncOp>();
    op->finish("", 0);
    return op;
  }
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

TEST(OneBit, ErrorFeedbackLosesNothing) {
  // Over steps, the reconstructions sum to the inputs minus the residual
  // left: the quantization error is carried, not dropped.
  const int64_t n = 3 * kOneBitBlock + 17; // a partial last block
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> residual(size_t(n), 0.f), sumIn(size_t(n), 0.f), sumOut(size_t(n), 0.f);
  std::vector<uint8_t> message(size_t(oneBitMessageBytes(n)));
  EXPECT_EQ(int64_t(message.size()), 4 * 2 * 4 + (n + 31) / 32 * 4);
  for (int step = 0; step < 20; ++step) {
    std::vector<float> x(static_cast<size_t>(n));
    for (float &v : x)
      v = normal(rng) + (step % 2 ? 0.5f : -0.25f);
    oneBitEncode(x.data(), n, residual.data(), message.data());
    std::vector<float> out(size_t(n), 0.f);
    oneBitDecodeAdd(message.data(), n, out.data());
    // Two values per block: the means of its non-negative and negative parts.
    for (int64_t b = 0; b * kOneBitBlock < n; ++b) {
      std::set<float> values;
      for (int64_t i = b * kOneBitBlock; i < std::min(n, (b + 1) * kOneBitBlock); ++i)
        values.insert(out[size_t(i)]);
      EXPECT_LE(values.size(), 2u);
    }
    for (int64_t i = 0; i < n; ++i) {
      sumIn[size_t(i)] += x[size_t(i)];
      sumOut[size_t(i)] += out[size_t(i)];
    }
  }
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    worst = std::max(worst, double(std::fabs(sumIn[size_t(i)] - sumOut[size_t(i)] -
                                             residual[size_t(i)])));
  EXPECT_LT(worst, 1e-4);
  // The residual stays bounded (it is not the accumulated input).
  double biggest = 0;
  for (float r : residual)
    biggest = std::max(biggest, double(std::fabs(r)));
  EXPECT_LT(biggest, 8.0);
}

TEST(GradientSync, OneBitSendsSignsAndReconstructs) {
  auto lm = load(test::tinyClassifierGradient());
  Executor ex(lm);
  setData(ex);
  Trainer trainer(ex);
  SameRanks comm(2);
  SyncOptions o;
  o.oneBit = true;
  GradientSync sync(ex, comm, trainer.gradTensors(), o);
  const int K = ex.numKernels(Entry::Gradient);
  Tracking tracking(sync, comm, K);
  // One gradient pass; reduce by hand to see the gradients before and after.
  ex.runGradient();
  std::vector<std::vector<float>> before;
  std::vector<float *> grads;
  int64_t floats = 0;
  for (int t : trainer.gradTensors()) {
    before.push_back(ex.read(ex.tensorName(t)));
    grads.push_back(ex.tensorData(t));
    floats += ex.tensorElements(t);
  }
  sync.beginPass(false);
  sync.reduce(grads);
  EXPECT_EQ(sync.lastStats().bytes, oneBitMessageBytes(floats));
  EXPECT_LT(sync.lastStats().bytes, floats * 4 / 8);
  // Equal ranks: the mean of their reconstructions is this rank's, whose
  // signs are those of the gradient.
  for (size_t p = 0; p < before.size(); ++p) {
    std::vector<float> after = ex.read(ex.tensorName(trainer.gradTensors()[p]));
    for (size_t i = 0; i < after.size(); ++i)
      if (before[p][i] != 0)
        EXPECT_EQ(after[i] >= 0, before[p][i] >= 0) << p << " " << i;
  }
}

//===- GradientTest.cpp - Forward and gradient entries of the executor -----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Modules with backward kernels (docs/autodiff.md): kernel roles in the module
// validation, the forward entry vs the gradient entry, gradients against a
// hand computation and against finite differences, timing per role, and the
// check of gradient blobs against the reference.
//
//===----------------------------------------------------------------------===//

#include "TestModules.h"

#include "dlc/Runtime/Executor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace dlc;
using namespace dlc::rt;
namespace pb = dlc::module;

namespace {

std::shared_ptr<const LoadedModule> load(ModuleWriter w) {
  std::string bytes, error;
  EXPECT_TRUE(w.serialize(bytes, error)) << error;
  auto lm = std::make_shared<LoadedModule>();
  EXPECT_TRUE(parseModule(std::vector<uint8_t>(bytes.begin(), bytes.end()), "grad.dlcm", *lm, error))
      << error;
  return lm;
}

std::string validationError(const pb::Module &m) {
  std::string error;
  EXPECT_FALSE(validateModule(m, 1 << 20, error));
  return error;
}

int tensorOf(const pb::Module &m, const std::string &name) {
  for (int t = 0; t < m.tensors_size(); ++t)
    if (m.tensors(t).name() == name)
      return t;
  ADD_FAILURE() << "no tensor " << name;
  return 0;
}

ExecutorOptions refOptions() {
  ExecutorOptions o;
  o.mode = ExecMode::Reference;
  return o;
}

const std::vector<float> kX = {0.3f, -0.7f, 1.1f, -0.2f, 0.5f, 0.9f};
const std::vector<float> kLabel = {2.0f, 0.0f};

} // namespace

//===----------------------------------------------------------------------===//
// Module validation: roles
//===----------------------------------------------------------------------===//

TEST(GradientModule, ValidModulesHaveAGradient) {
  auto lin = load(test::tinyLinearGradient());
  EXPECT_TRUE(lin->hasGradient());
  EXPECT_EQ(lin->numForwardKernels(), 2);
  auto cls = load(test::tinyClassifierGradient());
  EXPECT_EQ(cls->numForwardKernels(), 6);
  EXPECT_EQ(cls->header.kernels_size(), 12);
  auto fwdOnly = load(test::tinyCnn());
  EXPECT_FALSE(fwdOnly->hasGradient());
  EXPECT_EQ(fwdOnly->numForwardKernels(), 4);
}

TEST(GradientModule, BackwardKernelBeforeForwardIsRejected) {
  pb::Module m = test::tinyClassifierGradient().header();
  // Move the forward accuracy kernel (#5) after the backward kernels.
  pb::Kernel acc = m.kernels(5);
  m.mutable_kernels()->DeleteSubrange(5, 1);
  *m.add_kernels() = acc;
  EXPECT_EQ(validationError(m),
            "kernel #11 (accuracy 'accuracy'): forward kernel after backward kernel #5 "
            "(softmax_with_loss_grad 'loss'); forward kernels must come first");
  // The writer validates too.
  ModuleWriter w(m);
  std::string bytes, error;
  EXPECT_FALSE(w.serialize(bytes, error));
  EXPECT_NE(error.find("forward kernels must come first"), std::string::npos) << error;
}

TEST(GradientModule, MislabelledBackwardKernelIsRejected) {
  // A backward kernel in the middle of the forward ones: the forward kernels
  // after it are out of place.
  pb::Module m = test::tinyCnn().header();
  m.mutable_kernels(1)->set_role(pb::Kernel::BACKWARD_DATA);
  EXPECT_EQ(validationError(m),
            "kernel #2 (pooling 'pool1'): forward kernel reads 'relu1', which is produced by "
            "backward kernel #1 (relu 'relu1')");
  m = test::tinyCnn().header();
  m.mutable_kernels(3)->set_role(pb::Kernel::BACKWARD_WEIGHTS); // the last one: fine
  std::string error;
  EXPECT_TRUE(validateModule(m, 1 << 20, error)) << error;
}

TEST(GradientModule, ForwardKernelReadingAGradientIsRejected) {
  pb::Module m = test::tinyLinearGradient().header();
  int dip = tensorOf(m, "ip@grad");
  int out = test::addTensor(m, "bad", {2, 4}, pb::Tensor::ACTIVATION);
  test::addKernel(m, "relu", "bad", {dip}, {out});
  EXPECT_EQ(validationError(m), "kernel #5 (relu 'bad'): forward kernel reads 'ip@grad', which "
                                "is produced by backward kernel #2 (softmax_with_loss_grad 'loss')");
}

//===----------------------------------------------------------------------===//
// Entries
//===----------------------------------------------------------------------===//

TEST(GradientExecutor, GradientMatchesHandComputation) {
  for (ExecMode mode : {ExecMode::Reference, ExecMode::Optimized}) {
    SCOPED_TRACE(mode == ExecMode::Reference ? "reference" : "optimized");
    auto mod = load(test::tinyLinearGradient());
    ExecutorOptions o;
    o.mode = mode;
    Executor ex(mod, o);
    ASSERT_TRUE(ex.hasGradient());
    EXPECT_EQ(ex.numForwardKernels(), 2);
    EXPECT_EQ(ex.numKernels(Entry::Forward), 2);
    EXPECT_EQ(ex.numKernels(Entry::Gradient), 5);
    EXPECT_EQ(ex.kernelInfo(0).role, KernelRole::Forward);
    EXPECT_EQ(ex.kernelInfo(2).role, KernelRole::BackwardData);
    EXPECT_EQ(ex.kernelInfo(4).role, KernelRole::BackwardWeights);
    ex.setInput("x", kX);
    ex.setInput("label", kLabel);
    ex.runGradient();

    // By hand, in double: y = x W^T + b, p = softmax(y), loss = -mean log p[label],
    // dy = (p - onehot) / N, dW = dy^T x, db = sum_n dy, dx = dy W.
    std::vector<float> W = ex.read("ip_w"), b = ex.read("ip_b");
    const int N = 2, C = 4, D = 3;
    double loss = 0, dW[4][3] = {}, db[4] = {}, dx[2][3] = {};
    for (int n = 0; n < N; ++n) {
      double y[4], mx = -1e300, z = 0;
      for (int c = 0; c < C; ++c) {
        y[c] = b[c];
        for (int d = 0; d < D; ++d)
          y[c] += double(kX[n * D + d]) * W[c * D + d];
        mx = std::max(mx, y[c]);
      }
      for (int c = 0; c < C; ++c)
        z += std::exp(y[c] - mx);
      int label = int(kLabel[n]);
      loss -= (y[label] - mx - std::log(z)) / N;
      for (int c = 0; c < C; ++c) {
        double dy = (std::exp(y[c] - mx) / z - (c == label ? 1.0 : 0.0)) / N;
        db[c] += dy;
        for (int d = 0; d < D; ++d) {
          dW[c][d] += dy * kX[n * D + d];
          dx[n][d] += dy * W[c * D + d];
        }
      }
    }
    EXPECT_NEAR(ex.read("loss")[0], loss, 1e-5);
    std::vector<float> gW = ex.read("ip_w@grad"), gb = ex.read("ip_b@grad"), gx = ex.read("x@grad");
    for (int c = 0; c < C; ++c) {
      EXPECT_NEAR(gb[c], db[c], 1e-6) << "c=" << c;
      for (int d = 0; d < D; ++d)
        EXPECT_NEAR(gW[c * D + d], dW[c][d], 1e-6) << "c=" << c << " d=" << d;
    }
    for (int n = 0; n < N; ++n)
      for (int d = 0; d < D; ++d)
        EXPECT_NEAR(gx[n * D + d], dx[n][d], 1e-6) << "n=" << n << " d=" << d;
    // The seed is an ordinary param: constant 1.
    EXPECT_EQ(ex.read("loss@seed"), std::vector<float>{1.0f});

    // Gradients are written, not accumulated: a second run gives the same.
    ex.runGradient();
    EXPECT_EQ(ex.read("ip_w@grad"), gW);
    EXPECT_EQ(ex.read("x@grad"), gx);
  }
}

TEST(GradientExecutor, ForwardEntryRunsNoBackwardKernel) {
  auto mod = load(test::tinyClassifierGradient());
  Executor ex(mod, refOptions());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const char *grads[] = {"ip@grad", "pool1@grad", "relu1@grad", "conv1@grad",
                         "ip_w@grad", "ip_b@grad", "conv1_w@grad", "conv1_b@grad"};
  for (const char *g : grads) {
    int t = ex.tensorIndex(g);
    ASSERT_GE(t, 0) << g;
    std::fill(ex.tensorData(t), ex.tensorData(t) + ex.tensorElements(t), nan);
  }
  fillDefaultInputs(ex, 42);
  std::vector<int> ran;
  ex.run(Entry::Forward, [&](int k) { ran.push_back(k); });
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  for (const char *g : grads)
    for (float v : ex.read(g))
      ASSERT_TRUE(std::isnan(v)) << g << " was written by the forward entry";
  EXPECT_TRUE(std::isfinite(ex.read("loss")[0]));
  ex.run(); // compatibility: run() is the forward entry
  ex.runForward();
  for (float v : ex.read("conv1_w@grad"))
    ASSERT_TRUE(std::isnan(v));

  ran.clear();
  ex.run(Entry::Gradient, [&](int k) { ran.push_back(k); });
  ASSERT_EQ(ran.size(), 12u);
  for (int k = 0; k < 12; ++k)
    EXPECT_EQ(ran[size_t(k)], k);
  for (const char *g : grads)
    for (float v : ex.read(g))
      ASSERT_TRUE(std::isfinite(v)) << g << " not computed by the gradient entry";
}

TEST(GradientExecutor, ModuleWithoutGradientHasOnlyTheForwardEntry) {
  auto mod = load(test::tinyCnn());
  Executor ex(mod);
  EXPECT_FALSE(ex.hasGradient());
  EXPECT_EQ(ex.numKernels(Entry::Forward), 4);
  const std::string want = "grad.dlcm: error: module has no gradient; compile with dlc compile "
                           "--gradient";
  try {
    ex.runGradient();
    FAIL() << "runGradient on a forward-only module";
  } catch (const Error &e) {
    EXPECT_EQ(std::string(e.what()), want);
  }
  EXPECT_THROW(ex.numKernels(Entry::Gradient), Error);
  EXPECT_THROW(ex.bench(Entry::Gradient, 0, 1, true), Error);
  Executor ref(mod, refOptions());
  EXPECT_THROW(checkAgainstReference(ex, ref, 1e-3, Entry::Gradient), Error);
  ex.runForward(); // still fine
}

TEST(GradientExecutor, GradientMatchesFiniteDifferences) {
  // Whole chain (loss -> ip -> max pool -> relu -> conv): d loss / d param
  // from the gradient entry vs central differences of the forward entry.
  auto mod = load(test::tinyClassifierGradient());
  Executor ex(mod, refOptions());
  fillDefaultInputs(ex, 42);
  ex.runGradient();
  for (const char *param : {"conv1_w", "conv1_b", "ip_w", "ip_b"}) {
    SCOPED_TRACE(param);
    const int t = ex.tensorIndex(param);
    const std::vector<float> grad = ex.read(std::string(param) + "@grad");
    const std::vector<float> base = ex.read(param);
    int checked = 0;
    double worst = 0;
    for (size_t i = 0; i < base.size(); ++i) {
      const float eps = 1e-3f;
      std::vector<float> v = base;
      v[i] = base[i] + eps;
      ex.setParam(t, v);
      ex.runForward();
      double lp = ex.read("loss")[0];
      v[i] = base[i] - eps;
      ex.setParam(t, v);
      ex.runForward();
      double lm = ex.read("loss")[0];
      double fd = (lp - lm) / (2.0 * double(eps));
      double err = std::fabs(fd - grad[i]);
      worst = std::max(worst, err / std::max(1.0, std::fabs(fd)));
      EXPECT_LT(err, 2e-3 + 1e-2 * std::fabs(fd)) << "element " << i << ": fd " << fd
                                                  << " vs gradient " << grad[i];
      ++checked;
    }
    ex.setParam(t, base);
    EXPECT_EQ(checked, int(base.size()));
  }
}

//===----------------------------------------------------------------------===//
// Timing and checking per entry
//===----------------------------------------------------------------------===//

TEST(GradientExecutor, BenchPerEntryAndRole) {
  auto mod = load(test::tinyClassifierGradient());
  Executor ex(mod);
  fillDefaultInputs(ex, 42);

  BenchResult f = ex.bench(Entry::Forward, 1, 4, true);
  EXPECT_EQ(f.entry, Entry::Forward);
  EXPECT_EQ(f.total.count, 4);
  ASSERT_EQ(f.layers.size(), 6u);
  double sum = 0;
  for (const LayerTiming &l : f.layers) {
    EXPECT_EQ(l.forward.count, 4) << l.layer;
    EXPECT_EQ(l.backwardData.count, 0) << l.layer;
    EXPECT_EQ(l.backwardWeights.count, 0) << l.layer;
    EXPECT_DOUBLE_EQ(l.stats.median, l.forward.median) << l.layer;
    sum += l.forward.median;
  }
  EXPECT_DOUBLE_EQ(f.sumLayerMedians, sum);
  EXPECT_EQ(f.layers[0].op, "convolution");

  BenchResult g = ex.bench(Entry::Gradient, 1, 5, true);
  EXPECT_EQ(g.entry, Entry::Gradient);
  EXPECT_EQ(g.total.count, 5);
  // Backward kernels carry their forward layer: still six layers.
  ASSERT_EQ(g.layers.size(), 6u);
  std::vector<std::string> layers, ops;
  for (const LayerTiming &l : g.layers) {
    layers.push_back(l.layer);
    ops.push_back(l.op);
  }
  EXPECT_EQ(layers, (std::vector<std::string>{"conv1", "relu1", "pool1", "ip", "loss", "accuracy"}));
  EXPECT_EQ(ops, (std::vector<std::string>{"convolution", "relu", "pooling", "inner_product",
                                           "softmax_with_loss", "accuracy"}));
  auto counts = [&](const std::string &layer) {
    for (const LayerTiming &l : g.layers)
      if (l.layer == layer)
        return std::vector<int>{l.forward.count, l.backwardData.count, l.backwardWeights.count};
    return std::vector<int>{};
  };
  EXPECT_EQ(counts("conv1"), (std::vector<int>{5, 0, 5}));
  EXPECT_EQ(counts("relu1"), (std::vector<int>{5, 5, 0}));
  EXPECT_EQ(counts("ip"), (std::vector<int>{5, 5, 5}));
  EXPECT_EQ(counts("loss"), (std::vector<int>{5, 5, 0}));
  EXPECT_EQ(counts("accuracy"), (std::vector<int>{5, 0, 0}));
  sum = 0;
  for (const LayerTiming &l : g.layers) {
    sum += l.forward.median + l.backwardData.median + l.backwardWeights.median;
    EXPECT_EQ(l.stats.count, 5);
    EXPECT_GE(l.stats.max, l.forward.min) << l.layer;
  }
  EXPECT_DOUBLE_EQ(g.sumLayerMedians, sum);
  EXPECT_GT(g.ratio, 0);
  EXPECT_TRUE(ex.bench(Entry::Gradient, 0, 2, false).layers.empty());

  // The compatibility overload is the forward entry.
  EXPECT_EQ(ex.bench(0, 2, true).layers[3].backwardData.count, 0);
}

TEST(GradientExecutor, CheckCoversGradientBlobs) {
  auto mod = load(test::tinyClassifierGradient());
  Executor a(mod, refOptions()), b(mod, refOptions());
  fillDefaultInputs(a, 42);
  CheckResult r = checkAgainstReference(a, b, 0.0);
  EXPECT_EQ(r.entry, Entry::Gradient);
  EXPECT_TRUE(r.pass); // reference vs reference: identical
  std::vector<std::string> names;
  for (const BlobCheck &c : r.blobs)
    names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1", "relu1", "pool1", "ip", "loss", "accuracy",
                                             "ip@grad", "pool1@grad", "ip_w@grad", "ip_b@grad",
                                             "relu1@grad", "conv1@grad", "conv1_w@grad",
                                             "conv1_b@grad"}));
  EXPECT_EQ(r.blobs[6].role, KernelRole::BackwardData);
  EXPECT_EQ(r.blobs[8].role, KernelRole::BackwardWeights);
  EXPECT_EQ(r.blobs[8].layer, "ip");

  CheckResult f = checkAgainstReference(a, b, 0.0, Entry::Forward);
  EXPECT_EQ(f.entry, Entry::Forward);
  EXPECT_EQ(f.blobs.size(), 6u);

  // A wrong gradient is caught: the same module except that the loss
  // gradient kernel uses loss_weight 2, so every gradient blob doubles and
  // every forward blob stays the same.
  ModuleWriter w = test::tinyClassifierGradient();
  for (pb::Attr &attr : *w.header().mutable_kernels(6)->mutable_attrs())
    if (attr.name() == "loss_weight")
      attr.set_f(2.0);
  const std::string lossGradLayer = w.header().kernels(6).layer();
  auto doubled = load(std::move(w));
  Executor c(doubled, refOptions());
  // End to end the error spreads to every gradient blob downstream.
  CheckResult bad = checkAgainstReference(a, c, 1e-3, std::nullopt, CheckMode::EndToEnd);
  EXPECT_FALSE(bad.pass);
  EXPECT_EQ(bad.failures, 8);
  for (const BlobCheck &blob : bad.blobs)
    EXPECT_EQ(blob.pass, blob.role == KernelRole::Forward) << blob.name;
  // Per kernel (the default) it is pinned on the one kernel that differs:
  // the loss gradient.
  CheckResult local = checkAgainstReference(a, c, 1e-3);
  EXPECT_EQ(local.mode, CheckMode::PerKernel);
  EXPECT_FALSE(local.pass);
  EXPECT_EQ(local.failures, 1);
  for (const BlobCheck &blob : local.blobs)
    if (!blob.pass)
      EXPECT_EQ(blob.layer, lossGradLayer) << blob.name;
  EXPECT_TRUE(checkAgainstReference(a, c, 1e-3, Entry::Forward).pass);
}

TEST(GradientExecutor, OptimizedGradientsMatchTheReference) {
  auto mod = load(test::tinyLinearGradient());
  Executor opt(mod), ref(mod, refOptions());
  opt.setInput("x", kX);
  opt.setInput("label", kLabel);
  CheckResult r = checkAgainstReference(opt, ref, 1e-4);
  EXPECT_TRUE(r.pass);
  EXPECT_EQ(r.blobs.size(), 6u); // ip, loss, ip@grad, x@grad, ip_w@grad, ip_b@grad
}

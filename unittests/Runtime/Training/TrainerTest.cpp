//===- TrainerTest.cpp - The training iteration on a module ---------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TestModules.h"

#include "dlc/Runtime/Training.h"

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
  EXPECT_TRUE(parseModule(std::vector<uint8_t>(bytes.begin(), bytes.end()), "train.dlcm", *lm,
                          error))
      << error;
  return lm;
}

/// The validator's message for a module it must refuse.
std::string rejection(const pb::Module &m) {
  std::string error;
  EXPECT_FALSE(validateModule(m, 1 << 20, error));
  return error;
}

/// tinyLinearGradient (x [2,3] -> ip [4] -> softmax loss) with a solver.
ModuleWriter linearWithSolver(const pb::Solver &s) {
  ModuleWriter w = test::tinyLinearGradient();
  *w.header().mutable_solver() = s;
  return w;
}

pb::Solver sgd(double lr) {
  pb::Solver s;
  s.set_base_lr(lr);
  s.set_max_iter(100);
  return s;
}

void setData(Executor &ex) {
  ex.setInput("x", {1, 2, -1, 0.5f, -0.5f, 2});
  ex.setInput("label", {1, 3});
}

} // namespace

TEST(Trainer, StepIsGradientDescentOnTheGradientEntry) {
  auto lm = load(linearWithSolver(sgd(0.1)));
  Executor ex(lm);
  setData(ex);
  ex.runGradient();
  std::vector<float> w0 = ex.read("ip_w"), g = ex.read("ip_w@grad");
  std::vector<float> b0 = ex.read("ip_b"), gb = ex.read("ip_b@grad");
  float loss0 = ex.read("loss")[0];
  Trainer trainer(ex);
  ASSERT_EQ(trainer.paramTensors().size(), 2u);
  ASSERT_EQ(trainer.lossTensors().size(), 1u);
  StepResult r = trainer.step();
  EXPECT_EQ(r.iter, 0);
  EXPECT_EQ(trainer.iter(), 1);
  EXPECT_FLOAT_EQ(float(r.loss), loss0);
  EXPECT_DOUBLE_EQ(r.rate, 0.1);
  std::vector<float> w1 = ex.read("ip_w"), b1 = ex.read("ip_b");
  for (size_t i = 0; i < w0.size(); ++i)
    EXPECT_FLOAT_EQ(w1[i], w0[i] - 0.1f * g[i]) << i;
  for (size_t i = 0; i < b0.size(); ++i)
    EXPECT_FLOAT_EQ(b1[i], b0[i] - 0.1f * gb[i]) << i;
  // The kernels see the new weights: the loss falls.
  for (int i = 0; i < 50; ++i)
    r = trainer.step();
  EXPECT_LT(r.loss, 0.5 * loss0);
}

TEST(Trainer, IterSizeSumsThenDivides) {
  // The same batch twice with iter_size 2 is the same update as once.
  pb::Solver s = sgd(0.1);
  s.set_momentum(0.9);
  auto one = load(linearWithSolver(s));
  s.set_iter_size(2);
  auto two = load(linearWithSolver(s));
  Executor a(one), b(two);
  setData(a);
  setData(b);
  Trainer ta(a), tb(b);
  int feeds = 0;
  for (int i = 0; i < 3; ++i) {
    StepResult ra = ta.step();
    StepResult rb = tb.step([&](int64_t iter, int pass) {
      EXPECT_EQ(iter, i);
      EXPECT_EQ(pass, feeds++ % 2);
    });
    EXPECT_NEAR(ra.loss, rb.loss, 1e-6);
  }
  EXPECT_EQ(feeds, 6);
  std::vector<float> wa = a.read("ip_w"), wb = b.read("ip_w");
  for (size_t i = 0; i < wa.size(); ++i)
    EXPECT_NEAR(wa[i], wb[i], 1e-6) << i;
}

TEST(Trainer, SmoothedLossAveragesTheLastIterations) {
  pb::Solver s = sgd(0.5);
  s.set_average_loss(3);
  auto lm = load(linearWithSolver(s));
  Executor ex(lm);
  setData(ex);
  Trainer t(ex);
  std::vector<double> losses;
  for (int i = 0; i < 5; ++i) {
    StepResult r = t.step();
    losses.push_back(r.loss);
    size_t from = losses.size() > 3 ? losses.size() - 3 : 0;
    double mean = 0;
    for (size_t k = from; k < losses.size(); ++k)
      mean += losses[k];
    mean /= double(losses.size() - from);
    EXPECT_NEAR(r.smoothedLoss, mean, 1e-12) << i;
  }
}

TEST(Trainer, NonFiniteLossNamesTheLayer) {
  auto lm = load(linearWithSolver(sgd(0.1)));
  Executor ex(lm);
  setData(ex);
  ex.setInput("x", {1, std::numeric_limits<float>::quiet_NaN(), -1, 0.5f, -0.5f, 2});
  Trainer t(ex);
  std::vector<float> w0 = ex.read("ip_w");
  try {
    t.step();
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("iteration 0: the loss is nan"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("layer 'ip'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ex.read("ip_w"), w0) << "no update is made with a non-finite loss";
  EXPECT_EQ(t.iter(), 0);
}

TEST(Trainer, NeedsASolverAndAGradient) {
  auto plain = load(test::tinyLinearGradient());
  Executor ex(plain);
  try {
    Trainer t(ex);
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("dlc compile --solver"), std::string::npos) << e.what();
  }
  // A forward-only module with a solver is refused by the reader.
  ModuleWriter w = test::tinyClassifier();
  *w.header().mutable_solver() = sgd(0.1);
  std::string error = rejection(w.header());
  EXPECT_NE(error.find("solver: the module has no gradient entry"), std::string::npos) << error;
}

TEST(Trainer, ReaderRejectsBadSolvers) {
  auto expectRejected = [](void (*edit)(pb::Solver &), const char *what) {
    pb::Solver s = sgd(0.1);
    edit(s);
    std::string error = rejection(linearWithSolver(s).header());
    EXPECT_NE(error.find(what), std::string::npos) << error;
  };
  expectRejected([](pb::Solver &s) { s.set_iter_size(0); }, "iter_size");
  expectRejected([](pb::Solver &s) { s.set_base_lr(std::nan("")); }, "not finite");
  expectRejected([](pb::Solver &s) { s.set_lr_policy(pb::Solver::STEP); }, "stepsize");
  expectRejected([](pb::Solver &s) { s.set_lr_policy(pb::Solver::POLY); s.set_max_iter(0); },
                 "max_iter");
  expectRejected([](pb::Solver &s) { s.add_stepvalue(5); s.add_stepvalue(5); }, "stepvalue");
  expectRejected([](pb::Solver &s) { s.set_delta(0); }, "delta");
  expectRejected([](pb::Solver &s) { s.set_average_loss(0); }, "average_loss");
  // A generated update must be this solver's, and a function of the module.
  expectRejected([](pb::Solver &s) { s.set_gen_update("dlc_update_adam_l2"); },
                 "gen_update 'dlc_update_adam_l2' is not the update of this solver "
                 "('dlc_update_sgd_l2')");
  expectRejected(
      [](pb::Solver &s) {
        s.set_regularization(pb::Solver::L1);
        s.set_gen_update("dlc_update_sgd_l2");
      },
      "('dlc_update_sgd_l1')");
  expectRejected([](pb::Solver &s) { s.set_gen_update("dlc_update_sgd_l2"); },
                 "gen_update 'dlc_update_sgd_l2' is not a symbol of the module's native code");
}

TEST(Trainer, SnapshotThenResumeIsBitIdentical) {
  for (pb::Solver::Type type : {pb::Solver::NESTEROV, pb::Solver::ADAM}) {
    pb::Solver s = sgd(0.05);
    s.set_type(type);
    s.set_momentum(0.9);
    s.set_lr_policy(pb::Solver::STEP);
    s.set_gamma(0.5);
    s.set_stepsize(3);
    auto lm = load(linearWithSolver(s));
    std::string prefix = ::testing::TempDir() + "dlc-trainer-" + pb::Solver::Type_Name(type);

    Executor a(lm);
    setData(a);
    Trainer ta(a);
    for (int i = 0; i < 4; ++i)
      ta.step();
    SnapshotFiles files = writeSnapshot(ta, prefix);
    EXPECT_EQ(files.caffemodel, prefix + "_iter_4.caffemodel");
    for (int i = 0; i < 5; ++i)
      ta.step();

    Executor b(lm); // fresh weights from the module, then the snapshot's
    setData(b);
    Trainer tb(b);
    restoreSnapshot(tb, files.solverstate);
    EXPECT_EQ(tb.iter(), 4);
    for (int i = 0; i < 5; ++i)
      tb.step();
    EXPECT_EQ(a.read("ip_w"), b.read("ip_w")) << pb::Solver::Type_Name(type);
    EXPECT_EQ(a.read("ip_b"), b.read("ip_b")) << pb::Solver::Type_Name(type);
    for (int slot = 0; slot < ta.update().historySlots(); ++slot)
      for (int p = 0; p < ta.update().numParams(); ++p)
        EXPECT_EQ(ta.update().history(slot, p), tb.update().history(slot, p));
  }
}

TEST(Trainer, CaffeModelWeightsAreMatchedByLayerBlob) {
  auto lm = load(linearWithSolver(sgd(0.1)));
  Executor a(lm);
  setData(a);
  Trainer ta(a);
  ta.step();
  SnapshotFiles files = writeSnapshot(ta, ::testing::TempDir() + "dlc-weights");
  Executor b(lm);
  EXPECT_NE(a.read("ip_w"), b.read("ip_w"));
  // tinyLinearGradient's params are named ip_w and ip_b, not "ip/0": they
  // are written and read under those names.
  EXPECT_EQ(loadCaffeModel(b, files.caffemodel), 2);
  EXPECT_EQ(a.read("ip_w"), b.read("ip_w"));
  // A history that does not fit the module is refused.
  pb::Solver adam = sgd(0.1);
  adam.set_type(pb::Solver::ADAM);
  auto other = load(linearWithSolver(adam));
  Executor c(other);
  Trainer tc(c);
  try {
    restoreSnapshot(tc, files.solverstate);
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("2 history blobs; this module's solver keeps 4"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(loadCaffeModel(c, files.caffemodel + ".missing"), Error);
}

TEST(Trainer, DropoutDrawsANewMaskEachStep) {
  ModuleWriter w;
  pb::Module &m = w.header();
  m.set_name("dropout");
  int x = test::addTensor(m, "x", {1000}, pb::Tensor::INPUT);
  int y = test::addTensor(m, "y", {1000}, pb::Tensor::ACTIVATION);
  pb::Kernel *k = test::addKernel(m, "dropout", "drop", {x}, {y});
  test::addFloatAttr(*k, "ratio", 0.5);
  test::addIntAttr(*k, "train", 1);
  test::addIntAttr(*k, "seed", 1234);
  m.add_outputs(y);
  auto lm = load(std::move(w));
  Executor ex(lm);
  ex.setInput("x", std::vector<float>(1000, 1.0f));
  auto maskOf = [&](uint64_t step) {
    ex.setStep(step);
    ex.runForward();
    return ex.read("y");
  };
  std::vector<float> m0 = maskOf(0), m1 = maskOf(1), m2 = maskOf(2);
  EXPECT_NE(m0, m1);
  EXPECT_NE(m1, m2);
  EXPECT_EQ(maskOf(1), m1) << "the same step draws the same mask";
  EXPECT_EQ(maskOf(0), m0);
  int kept = 0;
  for (float v : m1)
    kept += v != 0;
  EXPECT_GT(kept, 400);
  EXPECT_LT(kept, 600);
}

// BatchNorm's moving averages (MovingAverages.cpp) against Caffe's
// BatchNormLayer::Forward_cpu, in float64: two forwards with the batch's
// statistics on different inputs.
TEST(MovingAverages, FollowCaffesBatchNormForward) {
  ModuleWriter w;
  pb::Module &m = w.header();
  m.set_name("bn");
  m.set_producer("dlc unittests");
  const int64_t N = 3, C = 2, S = 5; // x [3, 2, 5]: m = 15 per channel
  int x = test::addTensor(m, "x", {N, C, S}, pb::Tensor::INPUT);
  int pm = test::addParam(m, "bn/0", {C}, "constant", 0.5);
  int pv = test::addParam(m, "bn/1", {C}, "constant", 1.0);
  int pf = test::addParam(m, "bn/2", {1}, "constant", 1.0);
  int y = test::addTensor(m, "y", {N, C, S}, pb::Tensor::ACTIVATION);
  pb::Kernel *k = test::addKernel(
      m, "batch_norm", "bn", {x, m.params(pm).tensor(), m.params(pv).tensor(),
                              m.params(pf).tensor()}, {y});
  test::addIntAttr(*k, "use_global_stats", 0);
  test::addFloatAttr(*k, "moving_average_fraction", 0.75);
  test::addFloatAttr(*k, "eps", 1e-5);
  m.add_outputs(y);
  auto lm = load(std::move(w));
  Executor ex(lm);
  MovingAverages averages(ex);
  ASSERT_EQ(averages.size(), 1u);

  // The blobs come from their fillers: training starts them at Caffe's 0.
  EXPECT_EQ(ex.read("bn/1"), std::vector<float>(2, 0.0f));
  EXPECT_EQ(ex.read("bn/2"), std::vector<float>(1, 0.0f));
  std::vector<double> mean = {0, 0}, var = {0, 0};
  double factor = 0;
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<float> in(size_t(N * C * S));
    for (size_t i = 0; i < in.size(); ++i)
      in[i] = float(std::sin(double(i) * (pass + 1.3)) * (i % 3 + 1) + pass);
    ex.setInput("x", in);
    ex.run(Entry::Forward, [&](int kernel) { averages.afterKernel(ex, kernel); });
    EXPECT_TRUE(averages.update(ex));
    // Caffe: the batch mean and biased variance per channel, then axpby.
    factor = 0.75 * factor + 1;
    for (int64_t c = 0; c < C; ++c) {
      double sum = 0, sq = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0; s < S; ++s)
          sum += in[size_t((n * C + c) * S + s)];
      double mu = sum / double(N * S);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0; s < S; ++s)
          sq += std::pow(in[size_t((n * C + c) * S + s)] - mu, 2);
      mean[size_t(c)] = 0.75 * mean[size_t(c)] + mu;
      var[size_t(c)] = 0.75 * var[size_t(c)] + 15.0 / 14.0 * sq / double(N * S);
    }
    std::vector<float> gm = ex.read("bn/0"), gv = ex.read("bn/1"), gf = ex.read("bn/2");
    EXPECT_NEAR(gf[0], factor, 1e-6 * factor) << "pass " << pass;
    for (int64_t c = 0; c < C; ++c) {
      EXPECT_NEAR(gm[size_t(c)], mean[size_t(c)], 1e-5) << "pass " << pass << " channel " << c;
      EXPECT_NEAR(gv[size_t(c)], var[size_t(c)], 1e-5) << "pass " << pass << " channel " << c;
    }
  }
  // Without a forward since the last update, nothing changes.
  EXPECT_FALSE(averages.update(ex));
}

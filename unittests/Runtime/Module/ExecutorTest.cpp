//===- ExecutorTest.cpp - Fillers, executor, check, .npy tests -------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TestModules.h"

#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/KernelRegistry.h"
#include "dlc/Runtime/Npy.h"

#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <cstring>

using namespace dlc;
using namespace dlc::rt;
namespace pb = dlc::module;

namespace {

std::shared_ptr<const LoadedModule> load(ModuleWriter w) {
  std::string bytes, error;
  EXPECT_TRUE(w.serialize(bytes, error)) << error;
  auto lm = std::make_shared<LoadedModule>();
  EXPECT_TRUE(parseModule(std::vector<uint8_t>(bytes.begin(), bytes.end()), "tiny.dlcm", *lm, error))
      << error;
  return lm;
}

pb::Filler filler(const std::string &type) {
  pb::Filler f;
  f.set_type(type);
  return f;
}

std::vector<float> fill(const pb::Filler &f, const Shape &shape, uint64_t seed = 1,
                        const std::string &name = "w") {
  std::vector<float> v(size_t(numElements(shape)));
  fillParam(f, shape, seed, name, v.data());
  return v;
}

void meanStd(const std::vector<float> &v, double &mean, double &std) {
  double s = 0, s2 = 0;
  for (float x : v)
    s += x;
  mean = s / double(v.size());
  for (float x : v)
    s2 += (x - mean) * (x - mean);
  std = std::sqrt(s2 / double(v.size()));
}

std::vector<float> inputPattern(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = float(std::cos(0.11 * double(i)));
  return v;
}

} // namespace

//===----------------------------------------------------------------------===//
// Fillers
//===----------------------------------------------------------------------===//

TEST(Filler, Constant) {
  pb::Filler f = filler("constant");
  f.set_value(2.5);
  for (float x : fill(f, {3, 4}))
    EXPECT_EQ(x, 2.5f);
}

TEST(Filler, UniformStatistics) {
  pb::Filler f = filler("uniform");
  f.set_min(-2);
  f.set_max(6);
  std::vector<float> v = fill(f, {100000});
  double mean, std;
  meanStd(v, mean, std);
  EXPECT_NEAR(mean, 2.0, 0.05);
  EXPECT_NEAR(std, 8.0 / std::sqrt(12.0), 0.03);
  for (float x : v) {
    ASSERT_GE(x, -2.0f);
    ASSERT_LE(x, 6.0f);
  }
}

TEST(Filler, GaussianStatisticsAndSparse) {
  pb::Filler f = filler("gaussian");
  f.set_mean(1.5);
  f.set_std(0.5);
  double mean, std;
  meanStd(fill(f, {200, 500}), mean, std);
  EXPECT_NEAR(mean, 1.5, 0.01);
  EXPECT_NEAR(std, 0.5, 0.01);
  // sparse = 50 of 200 outputs: each element non-zero with probability 1/4.
  f.set_sparse(50);
  std::vector<float> v = fill(f, {200, 500});
  int64_t nonZero = 0;
  for (float x : v)
    nonZero += x != 0.0f;
  EXPECT_NEAR(double(nonZero) / double(v.size()), 0.25, 0.01);
  f.set_sparse(201);
  EXPECT_THROW(fill(f, {200, 5}), Error);
}

TEST(Filler, XavierBoundsAndVarianceNorms) {
  Shape shape = {64, 32, 3, 3}; // fan_in = 288, fan_out = 576
  auto check = [&](const std::string &norm, double n) {
    pb::Filler f = filler("xavier");
    f.set_variance_norm(norm);
    std::vector<float> v = fill(f, shape);
    double bound = std::sqrt(3.0 / n), maxAbs = 0, mean, std;
    for (float x : v)
      maxAbs = std::max(maxAbs, double(std::fabs(x)));
    EXPECT_LE(maxAbs, bound) << norm;
    EXPECT_GT(maxAbs, 0.98 * bound) << norm;
    meanStd(v, mean, std);
    EXPECT_NEAR(std, bound / std::sqrt(3.0), 0.02 * bound) << norm; // Var U[-a,a] = a²/3 = 1/n
  };
  check("fan_in", 288);
  check("fan_out", 576);
  check("average", 432);
}

TEST(Filler, MsraStd) {
  pb::Filler f = filler("msra");
  double mean, std;
  meanStd(fill(f, {128, 64, 3, 3}), mean, std); // fan_in 576
  EXPECT_NEAR(mean, 0, 0.002);
  EXPECT_NEAR(std, std::sqrt(2.0 / 576), 0.002);
}

TEST(Filler, PositiveUnitball) {
  std::vector<float> v = fill(filler("positive_unitball"), {7, 3, 5});
  for (int r = 0; r < 7; ++r) {
    double sum = 0;
    for (int j = 0; j < 15; ++j) {
      EXPECT_GE(v[r * 15 + j], 0.0f);
      sum += v[r * 15 + j];
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST(Filler, BilinearExact4x4) {
  std::vector<float> v = fill(filler("bilinear"), {2, 1, 4, 4});
  const float k1[4] = {0.25f, 0.75f, 0.75f, 0.25f};
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x)
        EXPECT_FLOAT_EQ(v[c * 16 + y * 4 + x], k1[y] * k1[x]) << y << "," << x;
  // Odd size 3: [0.5, 1, 0.5].
  std::vector<float> o = fill(filler("bilinear"), {1, 1, 3, 3});
  EXPECT_FLOAT_EQ(o[4], 1.0f);
  EXPECT_FLOAT_EQ(o[0], 0.25f);
  EXPECT_FLOAT_EQ(o[1], 0.5f);
  EXPECT_THROW(fill(filler("bilinear"), {1, 1, 3, 4}), Error);
  EXPECT_THROW(fill(filler("bilinear"), {9, 9}), Error);
}

TEST(Filler, DeterministicUnderSeed) {
  pb::Filler f = filler("gaussian");
  std::vector<float> a = fill(f, {1000}, 7, "conv1_w");
  EXPECT_EQ(a, fill(f, {1000}, 7, "conv1_w"));
  EXPECT_NE(a, fill(f, {1000}, 8, "conv1_w"));
  EXPECT_NE(a, fill(f, {1000}, 7, "conv2_w"));
  EXPECT_NE(streamSeed(1, "a"), streamSeed(1, "b"));
  EXPECT_EQ(streamSeed(3, "x"), streamSeed(3, "x"));
}

//===----------------------------------------------------------------------===//
// Executor
//===----------------------------------------------------------------------===//

/// Runs the tiny CNN by calling reference kernels directly.
static std::vector<float> tinyByHand(const std::vector<float> &data, uint64_t seed) {
  KernelDesc conv;
  conv.op = "convolution";
  conv.layer = "conv1";
  conv.attrs.set("num_output", int64_t(4));
  conv.attrs.set("kernel", std::vector<int64_t>{3, 3});
  conv.attrs.set("stride", std::vector<int64_t>{1, 1});
  conv.attrs.set("pad", std::vector<int64_t>{0, 0});
  conv.attrs.set("dilation", std::vector<int64_t>{1, 1});
  conv.attrs.set("group", int64_t(1));
  conv.inputs = {{2, 3, 8, 8}, {4, 3, 3, 3}, {4}};
  conv.outputs = {{2, 4, 6, 6}};
  conv.isParam = {false, true, true};
  KernelDesc relu;
  relu.op = "relu";
  relu.layer = "relu1";
  relu.attrs.set("negative_slope", 0.0);
  relu.inputs = {{2, 4, 6, 6}};
  relu.outputs = {{2, 4, 6, 6}};
  relu.isParam = {false};
  KernelDesc pool;
  pool.op = "pooling";
  pool.layer = "pool1";
  pool.attrs.set("pool", std::string("max"));
  pool.attrs.set("kernel", std::vector<int64_t>{2, 2});
  pool.attrs.set("stride", std::vector<int64_t>{2, 2});
  pool.attrs.set("pad", std::vector<int64_t>{0, 0});
  pool.attrs.set("global_pooling", int64_t(0));
  pool.attrs.set("round_mode", std::string("ceil"));
  pool.inputs = {{2, 4, 6, 6}};
  pool.outputs = {{2, 4, 3, 3}};
  pool.isParam = {false};
  KernelDesc ip;
  ip.op = "inner_product";
  ip.layer = "ip";
  ip.attrs.set("num_output", int64_t(5));
  ip.attrs.set("axis", int64_t(1));
  ip.attrs.set("transpose", int64_t(0));
  ip.inputs = {{2, 4, 3, 3}, {5, 36}, {5}};
  ip.outputs = {{2, 5}};
  ip.isParam = {false, true, true};

  std::vector<float> wc(108), bc(4, 0.1f), wi(180), bi = {0.5f, -0.25f, 0.125f, 0.0f, -1.0f};
  for (size_t i = 0; i < wc.size(); ++i)
    wc[i] = float(std::sin(0.37 * double(i)) * 0.5);
  fillParam(filler("xavier"), {5, 36}, seed, "ip_w", wi.data());
  std::vector<float> c(288), r(288), p(72), out(10);
  auto run = [](const KernelDesc &d, std::vector<const float *> in, std::vector<float *> o) {
    createReferenceKernel(d)->forward(in.data(), o.data());
  };
  run(conv, {data.data(), wc.data(), bc.data()}, {c.data()});
  run(relu, {c.data()}, {r.data()});
  run(pool, {r.data()}, {p.data()});
  run(ip, {p.data(), wi.data(), bi.data()}, {out.data()});
  return out;
}

TEST(Executor, TinyCnnMatchesReferenceKernelsByHand) {
  auto mod = load(test::tinyCnn());
  ExecutorOptions o;
  o.mode = ExecMode::Reference;
  Executor ex(mod, o);
  EXPECT_EQ(ex.seed(), 42u);
  ASSERT_EQ(ex.numKernels(), 4);
  EXPECT_EQ(ex.kernelInfo(0).layer, "conv1");
  std::vector<float> data = inputPattern(384);
  ex.setInput("data", data);
  ex.run();
  std::vector<float> expected = tinyByHand(data, 42);
  std::vector<float> got = ex.read("ip");
  ASSERT_EQ(got.size(), 10u);
  for (size_t i = 0; i < 10; ++i)
    EXPECT_EQ(got[i], expected[i]) << i;
  // A different filler seed changes the xavier weights and the result.
  o.seed = 43;
  Executor other(mod, o);
  other.setInput("data", data);
  other.run();
  EXPECT_NE(other.read("ip"), got);
  EXPECT_EQ(other.read("ip"), tinyByHand(data, 43));
}

TEST(Executor, ArenaPlanGivesSameResultsAndKeepsInputs) {
  std::vector<float> data = inputPattern(384);
  Executor plain(load(test::tinyCnn(false)), {});
  plain.setInput("data", data);
  plain.run();
  Executor arena(load(test::tinyCnn(true)), {});
  arena.setInput("data", data);
  arena.run();
  EXPECT_EQ(arena.read("ip"), plain.read("ip"));
  // pool1 overwrote the data input's memory; the next run still sees data.
  EXPECT_EQ(arena.read("data"), data);
  arena.run();
  EXPECT_EQ(arena.read("ip"), plain.read("ip"));
  // A shifted in-place write (relu1 partly over conv1) goes through scratch.
  ModuleWriter shifted = test::tinyCnn(true);
  shifted.header().set_arena_bytes(2752);
  shifted.header().mutable_tensors(4)->set_offset(1536 + 64);
  Executor sh(load(std::move(shifted)), {});
  sh.setInput("data", data);
  sh.run();
  EXPECT_EQ(sh.read("ip"), plain.read("ip"));
}

// Kernels below ExecutorOptions::serialMacs and serialBytes run on one
// thread (a parallel region costs more than it saves on them); the others
// keep every thread, and OpenMP's thread count is restored after each.
TEST(Executor, SmallKernelsRunOnOneThread) {
  const int before = omp_get_max_threads();
  std::vector<float> data = inputPattern(384);
  auto mod = load(test::tinyCnn(true));
  ExecutorOptions two;
  two.threads = 2;
  Executor small(mod, two);
  for (int k = 0; k < small.numKernels(); ++k)
    EXPECT_TRUE(small.kernelInfo(k).serial) << small.kernelInfo(k).layer;
  small.setInput("data", data);
  small.run();
  EXPECT_EQ(omp_get_max_threads(), 2);
  // conv1 does 2 * 4 * 6 * 6 * 27 multiply-adds: above 7000, it keeps both.
  ExecutorOptions lower = two;
  lower.serialMacs = 7000;
  Executor mixed(mod, lower);
  for (int k = 0; k < mixed.numKernels(); ++k)
    EXPECT_EQ(mixed.kernelInfo(k).serial, mixed.kernelInfo(k).layer != "conv1")
        << mixed.kernelInfo(k).layer;
  ExecutorOptions all = two;
  all.serialMacs = all.serialBytes = 0;
  Executor parallel(mod, all);
  for (int k = 0; k < parallel.numKernels(); ++k)
    EXPECT_FALSE(parallel.kernelInfo(k).serial);
  for (Executor *ex : {&mixed, &parallel}) {
    ex->setInput("data", data);
    ex->run();
    EXPECT_EQ(omp_get_max_threads(), 2);
    std::vector<float> a = ex->read("ip"), b = small.read("ip");
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_NEAR(a[i], b[i], 1e-5f * std::max(1.0f, std::abs(b[i]))) << i;
  }
  // One thread in all: nothing to decide.
  ExecutorOptions one;
  one.threads = 1;
  Executor single(mod, one);
  for (int k = 0; k < single.numKernels(); ++k)
    EXPECT_FALSE(single.kernelInfo(k).serial);
  omp_set_num_threads(before);
}

TEST(Executor, OptimizedMatchesReferenceAndReportsImpls) {
  auto mod = load(test::tinyCnn(true));
  Executor opt(mod, {});
  ExecutorOptions ro;
  ro.mode = ExecMode::Reference;
  Executor ref(mod, ro);
  fillDefaultInputs(opt, 5);
  CheckResult r = checkAgainstReference(opt, ref, 1e-4);
  EXPECT_TRUE(r.pass);
  ASSERT_EQ(r.blobs.size(), 4u);
  EXPECT_EQ(r.blobs[0].name, "conv1");
  EXPECT_EQ(r.blobs[3].name, "ip");
  EXPECT_EQ(r.blobs[3].layer, "ip");
  for (int k = 0; k < ref.numKernels(); ++k)
    EXPECT_EQ(ref.kernelInfo(k).impl.rfind("ref", 0), 0u) << ref.kernelInfo(k).impl;
  for (int k = 0; k < opt.numKernels(); ++k)
    EXPECT_FALSE(opt.kernelInfo(k).impl.empty());
  // Corrupting a param in the reference copy is detected... via setParam.
  int w = ref.tensorIndex("ip_w");
  std::vector<float> wv(180, 0.0f);
  ref.setParam(w, wv);
  Executor opt2(mod, {});
  fillDefaultInputs(opt2, 5);
  opt2.setParam(opt2.tensorIndex("ip_b"), std::vector<float>(5, 100.0f));
  Executor ref2(mod, ro);
  CheckResult same = checkAgainstReference(opt2, ref2, 1e-4); // params are copied: still passes
  EXPECT_TRUE(same.pass);
}

//===----------------------------------------------------------------------===//
// Kernel workspaces (KernelInfo::workspace): a test backend whose relu keeps
// 1 MiB from its creation and 2 MiB more from its first run. It takes
// descriptions only while gWorkspaceBackend is set.
//===----------------------------------------------------------------------===//
namespace {
bool gWorkspaceBackend = false;
constexpr size_t kMiB = size_t(1) << 20;

class HoardingRelu : public Kernel {
public:
  explicit HoardingRelu(int64_t n) : n_(n), created_(kMiB, 1) {}
  void forward(const float *const *in, float *const *out) override {
    if (firstRun_.empty())
      firstRun_.assign(2 * kMiB, 1);
    for (int64_t i = 0; i < n_; ++i)
      out[0][i] = std::max(in[0][i], 0.0f);
  }
  std::string implName() const override { return "hoarding"; }

private:
  int64_t n_;
  std::vector<char> created_, firstRun_;
};

class NoContext : public BackendContext {};

DLC_REGISTER_BACKEND({"wstest", "workspace test", 1000,
                      [] { return std::unique_ptr<BackendContext>(new NoContext); },
                      /*supplementary=*/true});
DLC_REGISTER_KERNELS({"wstest", "relu", KernelKind::Forward,
                      [](const KernelDesc &) -> std::string {
                        return gWorkspaceBackend ? "" : "not under test";
                      },
                      [](const KernelDesc &d, BackendContext &) -> std::unique_ptr<Kernel> {
                        return std::make_unique<HoardingRelu>(numElements(d.inputs[0]));
                      }});
} // namespace

TEST(Executor, KernelWorkspaceIsWhatCreationAndFirstRunKeep) {
  gWorkspaceBackend = true;
  Executor ex(load(test::tinyCnn()), {});
  gWorkspaceBackend = false;
  ASSERT_EQ(ex.kernelInfo(1).impl, "hoarding");
  const uint64_t created = ex.kernelInfo(1).workspace;
  EXPECT_GE(created, kMiB);
  EXPECT_LT(created, kMiB + kMiB / 8);
  fillDefaultInputs(ex, 5);
  ex.run();
  const uint64_t kept = ex.kernelInfo(1).workspace;
  EXPECT_GE(kept, 3 * kMiB);
  EXPECT_LT(kept, 3 * kMiB + kMiB / 8);
  // Later runs allocate nothing new, and are not measured again.
  ex.run();
  EXPECT_EQ(ex.kernelInfo(1).workspace, kept);
  uint64_t sum = 0;
  for (int k = 0; k < ex.numKernels(); ++k)
    sum += ex.kernelInfo(k).workspace;
  EXPECT_EQ(ex.memory().workspace, sum);
  EXPECT_GE(sum, kept);
}

TEST(Executor, KernelCreationErrorNamesLayer) {
  ModuleWriter w = test::tinyCnn();
  for (pb::Attr &a : *w.header().mutable_kernels(0)->mutable_attrs())
    if (a.name() == "num_output")
      a.set_i(7);
  auto mod = load(std::move(w));
  for (ExecMode mode : {ExecMode::Reference, ExecMode::Optimized}) {
    ExecutorOptions o;
    o.mode = mode;
    try {
      Executor ex(mod, o);
      FAIL() << "expected an Error";
    } catch (const Error &e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("tiny.dlcm: error: tiny.prototxt:10:1: kernel #0 (convolution 'conv1')"),
                std::string::npos)
          << msg;
    }
  }
}

TEST(Executor, DefaultInputsFollowTheirUse) {
  auto mod = load(test::tinyClassifier());
  Executor ex(mod, {});
  std::vector<InputFill> fills = fillDefaultInputs(ex, 9);
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(fills[0].how, "uniform[-1,1)");
  EXPECT_EQ(fills[1].name, "label");
  EXPECT_EQ(fills[1].how, "integers in [0,5)");
  for (float l : ex.read("label")) {
    EXPECT_EQ(l, std::floor(l));
    EXPECT_GE(l, 0.0f);
    EXPECT_LT(l, 5.0f);
  }
  for (float d : ex.read("data")) {
    EXPECT_GE(d, -1.0f);
    EXPECT_LT(d, 1.0f);
  }
  std::vector<float> before = ex.read("data");
  fillDefaultInputs(ex, 9);
  EXPECT_EQ(ex.read("data"), before);
  fillDefaultInputs(ex, 10, {"label"});
  EXPECT_NE(ex.read("data"), before);
  ex.run();
  float loss = ex.read("loss")[0], acc = ex.read("accuracy")[0];
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_GT(loss, 0.0f);
  EXPECT_GE(acc, 0.0f);
  EXPECT_LE(acc, 1.0f);
  EXPECT_THROW(ex.setInput("conv1", std::vector<float>(288)), Error);
  EXPECT_THROW(ex.setInput("data", std::vector<float>(3)), Error);
  EXPECT_THROW(ex.read("nope"), Error);
}

TEST(Executor, BenchStatsAndReconciliation) {
  Executor ex(load(test::tinyCnn(true)), {});
  fillDefaultInputs(ex, 1);
  BenchResult r = ex.bench(2, 9, true);
  EXPECT_EQ(r.total.count, 9);
  EXPECT_LE(r.total.min, r.total.median);
  EXPECT_LE(r.total.median, r.total.max);
  ASSERT_EQ(r.layers.size(), 4u);
  EXPECT_EQ(r.layers[1].layer, "relu1");
  double sum = 0;
  for (const LayerTiming &l : r.layers) {
    EXPECT_EQ(l.stats.count, 9);
    sum += l.stats.median;
  }
  EXPECT_DOUBLE_EQ(r.sumLayerMedians, sum);
  EXPECT_GT(r.ratio, 0.0);
  EXPECT_THROW(ex.bench(0, 0, false), Error);
  EXPECT_TRUE(ex.bench(0, 3, false).layers.empty());
}

/// x [4,3], sel [4] -> filter -> f [?,3] (max [4,3]) -> relu -> r [?,3].
ModuleWriter filterModule() {
  ModuleWriter w;
  pb::Module &m = w.header();
  m.set_name("filter_relu");
  int x = test::addTensor(m, "x", {4, 3}, pb::Tensor::INPUT);
  int sel = test::addTensor(m, "sel", {4}, pb::Tensor::INPUT);
  m.mutable_tensors(sel)->set_role(pb::Tensor::BINARY);
  int f = test::addTensor(m, "f", {-1, 3}, pb::Tensor::ACTIVATION);
  int r = test::addTensor(m, "r", {-1, 3}, pb::Tensor::ACTIVATION);
  for (int t : {f, r})
    for (int64_t d : {4, 3})
      m.mutable_tensors(t)->add_max_shape(d);
  test::addKernel(m, "filter", "f", {x, sel}, {f});
  test::addFloatAttr(*test::addKernel(m, "relu", "r", {f}, {r}), "negative_slope", 0.0);
  m.add_outputs(r);
  return w;
}

TEST(Executor, RunTimeSizesFollowEachRun) {
  for (ExecMode mode : {ExecMode::Reference, ExecMode::Optimized}) {
    SCOPED_TRACE(mode == ExecMode::Reference ? "reference" : "optimized");
    auto mod = load(filterModule());
    ExecutorOptions o;
    o.mode = mode;
    Executor ex(mod, o);
    const int r = ex.tensorIndex("r");
    EXPECT_EQ(ex.tensorShape(r), (Shape{4, 3})); // the largest before any run
    std::vector<float> x = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12};
    ex.setInput("x", x);
    ex.setInput("sel", {1, 0, 1, 1});
    ex.run();
    EXPECT_EQ(ex.tensorShape(r), (Shape{3, 3}));
    EXPECT_EQ(ex.tensorElements(r), 9);
    EXPECT_EQ(ex.read("r"), (std::vector<float>{1, 0, 3, 7, 0, 9, 0, 11, 0}));
    ex.setInput("sel", {0, 1, 0, 0});
    ex.run();
    EXPECT_EQ(ex.tensorShape(ex.tensorIndex("f")), (Shape{1, 3}));
    EXPECT_EQ(ex.read("r"), (std::vector<float>{0, 5, 0}));
    // Nothing selected, then all: empty results, then the largest.
    ex.setInput("sel", {0, 0, 0, 0});
    ex.run();
    EXPECT_EQ(ex.tensorShape(r), (Shape{0, 3}));
    EXPECT_TRUE(ex.read("r").empty());
    ex.setInput("sel", {1, 1, 1, 1});
    ex.run();
    EXPECT_EQ(ex.read("r"), (std::vector<float>{1, 0, 3, 0, 5, 0, 7, 0, 9, 0, 11, 0}));
    // The check compares the blobs of the run it makes, at their sizes.
    ex.setInput("sel", {0, 1, 1, 0});
    ExecutorOptions ro;
    ro.mode = ExecMode::Reference;
    Executor ref(mod, ro);
    CheckResult c = checkAgainstReference(ex, ref);
    EXPECT_TRUE(c.pass);
    ASSERT_EQ(c.blobs.size(), 2u);
    EXPECT_EQ(c.blobs[1].elements, 6);
  }
}

TEST(Executor, RunTimeSizeBeyondTheBufferIsAnError) {
  // A module whose max_shape is smaller than what the filter may produce.
  ModuleWriter w = filterModule();
  pb::Module &m = w.header();
  for (int t = 2; t <= 3; ++t)
    m.mutable_tensors(t)->set_max_shape(0, 2);
  auto mod = load(w);
  ExecutorOptions o;
  o.mode = ExecMode::Reference;
  try {
    Executor ex(mod, o);
    ex.setInput("sel", {1, 1, 1, 0});
    ex.run();
    ADD_FAILURE() << "no error for 3 items in a buffer for 2";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("more than"), std::string::npos) << e.what();
  }
}

TEST(Stats, Summary) {
  Stats s = Stats::of({4, 1, 3, 2});
  EXPECT_EQ(s.count, 4);
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 4);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.stddev, std::sqrt(1.25));
  EXPECT_DOUBLE_EQ(Stats::of({5, 1, 9}).median, 5);
}

TEST(Check, CompareBlobDefinition) {
  float b[4] = {100, 1, 0, -2};
  float a[4] = {100.5f, 1, 0.05f, -2};
  BlobCheck c = compareBlob("x", a, b, 4, 1e-3);
  EXPECT_NEAR(c.maxAbs, 0.5, 1e-6);
  // element 2: 0.05 / max(0, 1e-2 * 100) = 0.05; element 0: 0.5 / 100.
  EXPECT_NEAR(c.maxRel, 0.05, 1e-6);
  EXPECT_EQ(c.worstIndex, 2);
  EXPECT_FALSE(c.pass);
  float n[2] = {NAN, 1}, m[2] = {0, 1};
  EXPECT_TRUE(std::isinf(compareBlob("n", n, m, 2, 1e-3).maxRel));
  EXPECT_TRUE(compareBlob("same", b, b, 4, 0).pass);
}

TEST(Check, ConvAlgorithmBoundIsRelativeToTheLargestMagnitude) {
  // An error of 2e-3 on an element at the floor (1e-2 * 100): 2e-3 relative
  // per element, 2e-5 of max |b|.
  float b[3] = {100, 1, -50};
  float a[3] = {100, 1.002f, -50};
  BlobCheck c = compareBlob("x", a, b, 3, 1e-3);
  ASSERT_FALSE(c.pass);
  EXPECT_DOUBLE_EQ(c.scale, 100);
  BlobCheck direct = c;
  applyConvAlgorithmBound(direct, "direct", 1e-3); // its 1e-5 is no looser
  EXPECT_FALSE(direct.pass);
  EXPECT_TRUE(direct.algorithm.empty());
  BlobCheck none = c;
  applyConvAlgorithmBound(none, "", 1e-3);
  EXPECT_FALSE(none.pass);
  BlobCheck w4 = c; // 1e-3 * 100 = 0.1 >= 2e-3
  applyConvAlgorithmBound(w4, "winograd4", 1e-3);
  EXPECT_TRUE(w4.pass);
  EXPECT_EQ(w4.algorithm, "winograd4");
  EXPECT_DOUBLE_EQ(w4.algorithmBound, 1e-3);
  // Beyond the bound: 0.5 > 1e-4 * 100 fails for fft.
  a[1] = 1.5f;
  BlobCheck far = compareBlob("x", a, b, 3, 1e-3);
  applyConvAlgorithmBound(far, "fft", 1e-3);
  EXPECT_FALSE(far.pass);
  EXPECT_EQ(far.algorithm, "fft");
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

TEST(Npy, RoundTrip) {
  std::vector<float> v = inputPattern(24);
  std::string bytes = serializeNpy({2, 3, 4}, v.data());
  EXPECT_EQ((bytes.size() - 96) % 64, 0u); // data 64-byte aligned
  NpyArray a;
  std::string error;
  ASSERT_TRUE(parseNpy(bytes, a, error)) << error;
  EXPECT_EQ(a.shape, (Shape{2, 3, 4}));
  EXPECT_EQ(a.data, v);
  // Rank 1 and rank 0.
  ASSERT_TRUE(parseNpy(serializeNpy({5}, v.data()), a, error)) << error;
  EXPECT_EQ(a.shape, (Shape{5}));
  ASSERT_TRUE(parseNpy(serializeNpy({}, v.data()), a, error)) << error;
  EXPECT_EQ(a.shape, Shape{});
  EXPECT_EQ(a.data.size(), 1u);
  // Files.
  std::string path = testing::TempDir() + "/x.npy";
  ASSERT_TRUE(writeNpy(path, {4, 6}, v.data(), error)) << error;
  ASSERT_TRUE(readNpy(path, a, error)) << error;
  EXPECT_EQ(a.data, v);
}

static std::string npyWith(const std::string &dict, const std::string &data) {
  std::string h = dict;
  while ((10 + h.size() + 1) % 64)
    h += ' ';
  h += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += char(h.size() & 0xff);
  out += char(h.size() >> 8);
  return out + h + data;
}

TEST(Npy, Float64IsConverted) {
  double d[3] = {1.5, -2.25, 1e-3};
  std::string bytes = npyWith("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                              std::string(reinterpret_cast<char *>(d), sizeof(d)));
  NpyArray a;
  std::string error;
  ASSERT_TRUE(parseNpy(bytes, a, error)) << error;
  EXPECT_EQ(a.data, (std::vector<float>{1.5f, -2.25f, 1e-3f}));
}

TEST(Npy, MalformedFilesAreRejected) {
  std::string four(16, '\0');
  auto err = [](const std::string &bytes) {
    NpyArray a;
    std::string error;
    EXPECT_FALSE(parseNpy(bytes, a, error));
    return error;
  };
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  NpyArray a;
  std::string error;
  ASSERT_TRUE(parseNpy(npyWith(ok, four), a, error)) << error;
  EXPECT_NE(err("hello").find("bad magic"), std::string::npos);
  EXPECT_NE(err(npyWith(ok, four).substr(0, 30)).find("truncated"), std::string::npos);
  EXPECT_NE(err(npyWith(ok, four.substr(0, 12))).find("needs 16"), std::string::npos);
  EXPECT_NE(err(npyWith(ok, four + "xx")).find("needs 16"), std::string::npos);
  EXPECT_NE(err(npyWith("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", four))
                .find("unsupported .npy dtype '>f4'"),
            std::string::npos);
  EXPECT_NE(err(npyWith("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", four))
                .find("unsupported .npy dtype"),
            std::string::npos);
  EXPECT_NE(err(npyWith("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", four))
                .find("Fortran"),
            std::string::npos);
  EXPECT_NE(err(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }", four))
                .find("shape"),
            std::string::npos);
  EXPECT_NE(err(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'x': 1}", four))
                .find("unexpected key 'x'"),
            std::string::npos);
  EXPECT_NE(err(npyWith("{'descr': '<f4', 'shape': (2, 2), }", four)).find("lacks"),
            std::string::npos);
  EXPECT_NE(err(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, "
                        "4294967296, 4294967296), }",
                        four))
                .find("shape"),
            std::string::npos);
  std::string badVersion = npyWith(ok, four);
  badVersion[6] = 9;
  EXPECT_NE(err(badVersion).find("version 9"), std::string::npos);
  EXPECT_FALSE(readNpy("/nonexistent/x.npy", a, error));
  EXPECT_EQ(error.rfind("/nonexistent/x.npy: error: cannot open", 0), 0u);
}

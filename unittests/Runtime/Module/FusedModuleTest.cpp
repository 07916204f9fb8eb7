//===- FusedModuleTest.cpp - Modules with fused kernels -------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Hand-built modules with a fused kernel (dlcm.proto Kernel.body, internal
// tensors; docs/fusion.md): they load and run like the same layers unfused,
// the executor names the fused kernel of an internal tensor, and the reader
// refuses malformed bodies.
//
//===----------------------------------------------------------------------===//

#include "TestModules.h"

#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Module.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>

using namespace dlc;
using namespace dlc::rt;
namespace pb = dlc::module;

namespace {

std::shared_ptr<const LoadedModule> load(ModuleWriter w) {
  std::string bytes, error;
  EXPECT_TRUE(w.serialize(bytes, error)) << error;
  auto lm = std::make_shared<LoadedModule>();
  EXPECT_TRUE(
      parseModule(std::vector<uint8_t>(bytes.begin(), bytes.end()), "fused.dlcm", *lm, error))
      << error;
  return lm;
}

/// The reader's error for `header` (params from fillers), "" when it loads.
std::string parseError(const pb::Module &header) {
  std::string bytes = test::rawModuleBytes(header);
  LoadedModule lm;
  std::string error;
  if (parseModule(std::vector<uint8_t>(bytes.begin(), bytes.end()), "t.dlcm", lm, error))
    return "";
  return error;
}

std::vector<float> pattern(int64_t n, double f = 0.11, double amp = 1.0, double offset = 0.0) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = float(offset + amp * std::cos(f * double(i)));
  return v;
}

int tensorOf(const pb::Module &m, const std::string &name) {
  for (int t = 0; t < m.tensors_size(); ++t)
    if (m.tensors(t).name() == name)
      return t;
  return -1;
}

/// Appends a step to fused kernel `k`; returns it.
pb::Kernel *addStep(pb::Kernel &k, const std::string &op, const std::string &layer,
                    std::vector<int> inputs, std::vector<int> outputs) {
  pb::Kernel *s = k.add_body();
  s->set_op(op);
  s->set_layer(layer);
  for (int i : inputs)
    s->add_inputs(i);
  for (int o : outputs)
    s->add_outputs(o);
  return s;
}

void convAttrs(pb::Kernel &k) {
  test::addIntAttr(k, "num_output", 4);
  test::addIntsAttr(k, "kernel", {3, 3});
  test::addIntsAttr(k, "stride", {1, 1});
  test::addIntsAttr(k, "pad", {1, 1});
  test::addIntsAttr(k, "dilation", {1, 1});
  test::addIntAttr(k, "group", 1);
}

/// data [2,3,8,8] -> conv1 (4 outputs, 3x3 pad 1) -> bn1 (global
/// statistics) -> scale1 (with bias) -> relu1 -> pool1 (max 2x2/2), plus
/// `res` [2,4,8,8] added after scale1 when `sum` (eltwise "sum1"). With
/// `fused`, conv1..relu1 are one kernel "conv1+bn1+scale1[+sum1]+relu1"
/// whose values inside are internal tensors; pool1 reads its output.
/// `threshold` replaces relu1 by a threshold layer "thresh1" (a body oneDNN
/// does not fuse).
ModuleWriter convBlock(bool fused, bool sum = false, bool threshold = false) {
  ModuleWriter w;
  pb::Module &m = w.header();
  m.set_name(fused ? "fused_block" : "unfused_block");
  m.set_producer("dlc unittests");
  m.set_seed(7);
  int data = test::addTensor(m, "data", {2, 3, 8, 8}, pb::Tensor::INPUT);
  int res = sum ? test::addTensor(m, "res", {2, 4, 8, 8}, pb::Tensor::INPUT) : -1;
  int pw = test::addParam(m, "conv1_w", {4, 3, 3, 3});
  int pb_ = test::addParam(m, "conv1_b", {4});
  int pmean = test::addParam(m, "bn1_mean", {4});
  int pvar = test::addParam(m, "bn1_var", {4});
  int psf = test::addParam(m, "bn1_sf", {1});
  int pgamma = test::addParam(m, "scale1_w", {4});
  int pbeta = test::addParam(m, "scale1_b", {4});
  auto T = [&](int p) { return m.params(p).tensor(); };
  auto act = [&](const std::string &name, bool internal) {
    int t = test::addTensor(m, name, {2, 4, 8, 8}, pb::Tensor::ACTIVATION);
    m.mutable_tensors(t)->set_internal(internal);
    return t;
  };
  int conv = act("conv1", fused);
  int bn = act("bn1", fused);
  int scale = act("scale1", fused);
  int summed = sum ? act("sum1", fused) : -1;
  int relu = act("relu1", false);
  int pool = test::addTensor(m, "pool1", {2, 4, 4, 4}, pb::Tensor::ACTIVATION);

  const std::string last = threshold ? "thresh1" : "relu1";
  std::string name = std::string("conv1+bn1+scale1") + (sum ? "+sum1" : "") + "+" + last;
  std::vector<int> fusedIn{data, T(pw), T(pb_), T(pmean), T(pvar), T(psf), T(pgamma), T(pbeta)};
  if (sum)
    fusedIn.push_back(res);
  pb::Kernel *fk = fused ? test::addKernel(m, "fused", name, fusedIn, {relu}) : nullptr;
  auto layer = [&](const std::string &op, const std::string &l, std::vector<int> in,
                   std::vector<int> out) {
    return fused ? addStep(*fk, op, l, in, out) : test::addKernel(m, op, l, in, out);
  };
  convAttrs(*layer("convolution", "conv1", {data, T(pw), T(pb_)}, {conv}));
  test::addIntAttr(*layer("batch_norm", "bn1", {conv, T(pmean), T(pvar), T(psf)}, {bn}),
                   "use_global_stats", 1);
  test::addIntAttr(*layer("scale", "scale1", {bn, T(pgamma), T(pbeta)}, {scale}), "axis", 1);
  int v = scale;
  if (sum) {
    test::addStrAttr(*layer("eltwise", "sum1", {res, scale}, {summed}), "operation", "sum");
    v = summed;
  }
  if (threshold)
    test::addFloatAttr(*layer("threshold", "thresh1", {v}, {relu}), "threshold", 0.2);
  else
    test::addFloatAttr(*layer("relu", "relu1", {v}, {relu}), "negative_slope", 0.0);
  pb::Kernel *k = test::addKernel(m, "pooling", "pool1", {relu}, {pool});
  test::addStrAttr(*k, "pool", "max");
  test::addIntsAttr(*k, "kernel", {2, 2});
  test::addIntsAttr(*k, "stride", {2, 2});
  m.add_outputs(pool);

  w.setParamData(pw, pattern(108, 0.37, 0.5));
  w.setParamData(pb_, {0.1f, -0.2f, 0.3f, 0.05f});
  w.setParamData(pmean, {0.2f, -0.4f, 0.1f, 0.6f});
  w.setParamData(pvar, {1.5f, 0.5f, 2.0f, 0.8f});
  w.setParamData(psf, {2.0f});
  w.setParamData(pgamma, {1.2f, -0.7f, 0.9f, 1.5f});
  w.setParamData(pbeta, {0.0f, 0.3f, -0.2f, 0.1f});
  return w;
}

/// Runs `mod` on the inputs (data, and res when present) and returns pool1.
std::vector<float> runBlock(std::shared_ptr<const LoadedModule> mod, ExecMode mode,
                            const std::function<void(Executor &)> &before = nullptr,
                            std::vector<KernelInfo> *infos = nullptr) {
  ExecutorOptions o;
  o.mode = mode;
  Executor ex(std::move(mod), o);
  ex.setInput("data", pattern(384));
  const int res = ex.tensorIndex("res");
  if (std::find(ex.inputs().begin(), ex.inputs().end(), res) != ex.inputs().end())
    ex.setInput("res", pattern(512, 0.23, 0.8, -0.1));
  if (before)
    before(ex);
  ex.run();
  if (infos)
    for (int k = 0; k < ex.numKernels(); ++k)
      infos->push_back(ex.kernelInfo(k));
  return ex.read("pool1");
}

::testing::AssertionResult near(const std::vector<float> &a, const std::vector<float> &b,
                                double tol = 1e-4) {
  if (a.size() != b.size())
    return ::testing::AssertionFailure() << "sizes " << a.size() << " vs " << b.size();
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::fabs(double(a[i]) - double(b[i])) <= tol * (1 + std::fabs(double(b[i])))))
      return ::testing::AssertionFailure() << "at " << i << ": " << a[i] << " vs " << b[i];
  return ::testing::AssertionSuccess();
}

} // namespace

//===----------------------------------------------------------------------===//
// Valid fused modules
//===----------------------------------------------------------------------===//

TEST(FusedModule, RunsLikeTheUnfusedLayers) {
  for (bool sum : {false, true}) {
    SCOPED_TRACE(sum ? "with sum" : "without sum");
    auto fused = load(convBlock(true, sum));
    auto unfused = load(convBlock(false, sum));
    std::vector<float> want = runBlock(unfused, ExecMode::Reference);
    // The reference executor runs the layers' reference kernels one by one:
    // bit for bit the unfused module's result.
    EXPECT_EQ(runBlock(fused, ExecMode::Reference), want);
    std::vector<KernelInfo> infos;
    std::vector<float> got = runBlock(fused, ExecMode::Optimized, nullptr, &infos);
    EXPECT_TRUE(near(got, want));
    EXPECT_TRUE(near(runBlock(unfused, ExecMode::Optimized), want));
    ASSERT_EQ(infos.size(), 2u);
    EXPECT_EQ(infos[0].op, "fused");
    EXPECT_EQ(infos[0].layer, sum ? "conv1+bn1+scale1+sum1+relu1" : "conv1+bn1+scale1+relu1");
    EXPECT_EQ(infos[0].backend, "onednn") << infos[0].fallbackReason;
    EXPECT_EQ(infos[0].impl.rfind("fused:", 0), 0u) << infos[0].impl;
  }
}

TEST(FusedModule, ComposedBodyRunsLikeTheUnfusedLayers) {
  // threshold is no oneDNN post-op: the body runs composed.
  auto fused = load(convBlock(true, false, true));
  auto unfused = load(convBlock(false, false, true));
  std::vector<float> want = runBlock(unfused, ExecMode::Reference);
  EXPECT_EQ(runBlock(fused, ExecMode::Reference), want);
  std::vector<KernelInfo> infos;
  EXPECT_TRUE(near(runBlock(fused, ExecMode::Optimized, nullptr, &infos), want));
  ASSERT_FALSE(infos.empty());
  EXPECT_EQ(infos[0].impl.rfind("composed(", 0), 0u) << infos[0].impl;
  EXPECT_NE(infos[0].fallbackReason.find("threshold"), std::string::npos)
      << infos[0].fallbackReason;
}

TEST(FusedModule, InternalTensorsHaveNoBufferAndNameTheirKernel) {
  auto mod = load(convBlock(true, true));
  Executor ex(mod, {});
  const std::string name = "conv1+bn1+scale1+sum1+relu1";
  for (const char *t : {"conv1", "bn1", "scale1", "sum1"}) {
    SCOPED_TRACE(t);
    int i = ex.tensorIndex(t);
    ASSERT_GE(i, 0);
    EXPECT_EQ(ex.fusedInto(i), name);
    EXPECT_EQ(ex.tensorData(i), nullptr);
    EXPECT_FALSE(ex.computedBy(Entry::Forward, i));
  }
  for (const char *t : {"data", "res", "conv1_w", "bn1_sf", "relu1", "pool1"}) {
    SCOPED_TRACE(t);
    int i = ex.tensorIndex(t);
    ASSERT_GE(i, 0);
    EXPECT_EQ(ex.fusedInto(i), "");
    EXPECT_NE(ex.tensorData(i), nullptr);
  }
  EXPECT_THROW(ex.fusedInto(-1), Error);
  EXPECT_THROW(ex.fusedInto(ex.numTensors()), Error);
  // The unfused module has no internal tensors.
  Executor plain(load(convBlock(false, true)), {});
  EXPECT_EQ(plain.fusedInto(plain.tensorIndex("conv1")), "");
}

// Regression: Executor::read of an internal tensor is an Error naming the
// fused kernel.
TEST(FusedModule, ReadingAnInternalTensorIsAnError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto mod = load(convBlock(true));
  EXPECT_EXIT(
      {
        Executor ex(mod, {});
        ex.setInput("data", pattern(384));
        ex.run();
        try {
          ex.read("conv1");
        } catch (const Error &) {
          std::exit(0);
        }
        std::exit(1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(FusedModule, SetParamRefoldsTheFusedKernel) {
  auto fused = load(convBlock(true, true));
  auto unfused = load(convBlock(false, true));
  // New weights, statistics and scale, given after the executor was made.
  auto change = [](Executor &ex) {
    ex.setParam(ex.tensorIndex("conv1_w"), pattern(108, 0.19, 0.4, 0.05));
    ex.setParam(ex.tensorIndex("bn1_mean"), {-0.3f, 0.2f, 0.5f, 0.0f});
    ex.setParam(ex.tensorIndex("bn1_var"), {0.7f, 1.1f, 0.4f, 2.5f});
    ex.setParam(ex.tensorIndex("bn1_sf"), {0.5f});
    ex.setParam(ex.tensorIndex("scale1_w"), {-1.0f, 0.5f, 2.0f, 0.8f});
  };
  std::vector<float> before = runBlock(unfused, ExecMode::Reference);
  std::vector<float> want = runBlock(unfused, ExecMode::Reference, change);
  ASSERT_FALSE(near(before, want));
  EXPECT_EQ(runBlock(fused, ExecMode::Reference, change), want);
  EXPECT_TRUE(near(runBlock(fused, ExecMode::Optimized, change), want));
  // And after a first run with the old values (the folded weights cached).
  ExecutorOptions o;
  Executor ex(fused, o);
  ex.setInput("data", pattern(384));
  ex.setInput("res", pattern(512, 0.23, 0.8, -0.1));
  ex.run();
  EXPECT_TRUE(near(ex.read("pool1"), before));
  change(ex);
  ex.run();
  EXPECT_TRUE(near(ex.read("pool1"), want));
}

/// convBlock(fused, sum) with `res` computed by a first convolution "res0"
/// (data -> res, weights res0_w) instead of given; with `arena`, an arena
/// plan in which the fused kernel (or, unfused, the sum) writes relu1 over
/// res, the blob its sum post-op adds.
ModuleWriter residualBlock(bool fused, bool arena) {
  ModuleWriter w = convBlock(fused, true);
  pb::Module &m = w.header();
  const int data = tensorOf(m, "data"), res = tensorOf(m, "res");
  m.mutable_tensors(res)->set_kind(pb::Tensor::ACTIVATION);
  m.clear_inputs();
  m.add_inputs(data);
  int pw = test::addParam(m, "res0_w", {4, 3, 3, 3});
  w.setParamData(pw, pattern(108, 0.53, 0.3));
  pb::Kernel *k = test::addKernel(m, "convolution", "res0", {data, m.params(pw).tensor()}, {res});
  convAttrs(*k);
  for (int i = m.kernels_size() - 1; i > 0; --i)
    m.mutable_kernels()->SwapElements(i, i - 1);
  if (arena) {
    // data [0, 1536), res and relu1 [1536, 3584) (relu1 over res; unfused,
    // the sum writes sum1 there and relu1 runs in place), pool1 [3584, 4096).
    m.set_arena_bytes(4096);
    m.mutable_tensors(data)->set_offset(0);
    m.mutable_tensors(res)->set_offset(1536);
    m.mutable_tensors(tensorOf(m, "relu1"))->set_offset(1536);
    if (!fused)
      m.mutable_tensors(tensorOf(m, "sum1"))->set_offset(1536);
    m.mutable_tensors(tensorOf(m, "pool1"))->set_offset(3584);
  }
  return w;
}

TEST(FusedModule, SumPostOpInPlaceOverItsBlob) {
  std::vector<float> want = runBlock(load(residualBlock(false, false)), ExecMode::Reference);
  for (bool fused : {false, true})
    for (bool arena : {false, true})
      for (ExecMode mode : {ExecMode::Reference, ExecMode::Optimized}) {
        SCOPED_TRACE(std::string(fused ? "fused" : "unfused") + (arena ? ", arena" : "") +
                     (mode == ExecMode::Reference ? ", reference" : ", optimized"));
        auto mod = load(residualBlock(fused, arena));
        ExecutorOptions o;
        o.mode = mode;
        Executor ex(mod, o);
        if (arena) {
          EXPECT_EQ(ex.tensorData(ex.tensorIndex("relu1")), ex.tensorData(ex.tensorIndex("res")));
        }
        // The oneDNN fused kernel accumulates into the blob it adds: no
        // scratch copy (the composed reference kernel needs one).
        if (fused && arena && mode == ExecMode::Optimized) {
          EXPECT_EQ(ex.kernelInfo(1).impl.rfind("fused:", 0), 0u) << ex.kernelInfo(1).impl;
          EXPECT_EQ(ex.memory().scratch, 0u);
          EXPECT_GE(ex.memory().inPlace, 1);
        }
        ex.setInput("data", pattern(384));
        for (int rep = 0; rep < 2; ++rep) {
          ex.run();
          EXPECT_TRUE(near(ex.read("pool1"), want));
        }
      }
}

TEST(FusedModule, CheckAgainstReferenceSkipsInternalTensors) {
  auto mod = load(convBlock(true, true));
  Executor opt(mod, {});
  ExecutorOptions ro;
  ro.mode = ExecMode::Reference;
  Executor ref(mod, ro);
  fillDefaultInputs(opt, 3);
  CheckResult r = checkAgainstReference(opt, ref, 1e-4);
  EXPECT_TRUE(r.pass);
  ASSERT_EQ(r.blobs.size(), 2u);
  EXPECT_EQ(r.blobs[0].name, "relu1");
  EXPECT_EQ(r.blobs[0].layer, "conv1+bn1+scale1+sum1+relu1");
  EXPECT_EQ(r.blobs[1].name, "pool1");
}

/// x1, x2 [4,3], sel [4] -> filter -> f1, f2 [?,3] (max [4,3]) -> fused
/// (eltwise sum "s" -> relu "r") -> r [?,3]; unfused: the same layers.
ModuleWriter filterSumModule(bool fused) {
  ModuleWriter w;
  pb::Module &m = w.header();
  m.set_name("filter_sum_relu");
  int x1 = test::addTensor(m, "x1", {4, 3}, pb::Tensor::INPUT);
  int x2 = test::addTensor(m, "x2", {4, 3}, pb::Tensor::INPUT);
  int sel = test::addTensor(m, "sel", {4}, pb::Tensor::INPUT);
  m.mutable_tensors(sel)->set_role(pb::Tensor::BINARY);
  int f1 = test::addTensor(m, "f1", {-1, 3}, pb::Tensor::ACTIVATION);
  int f2 = test::addTensor(m, "f2", {-1, 3}, pb::Tensor::ACTIVATION);
  int s = test::addTensor(m, "s", {-1, 3}, pb::Tensor::ACTIVATION);
  int r = test::addTensor(m, "r", {-1, 3}, pb::Tensor::ACTIVATION);
  m.mutable_tensors(s)->set_internal(fused);
  for (int t : {f1, f2, s, r})
    for (int64_t d : {4, 3})
      m.mutable_tensors(t)->add_max_shape(d);
  test::addKernel(m, "filter", "f", {x1, x2, sel}, {f1, f2});
  if (fused) {
    pb::Kernel *k = test::addKernel(m, "fused", "s+r", {f1, f2}, {r});
    test::addStrAttr(*addStep(*k, "eltwise", "s", {f1, f2}, {s}), "operation", "sum");
    test::addFloatAttr(*addStep(*k, "relu", "r", {s}, {r}), "negative_slope", 0.0);
  } else {
    test::addStrAttr(*test::addKernel(m, "eltwise", "s", {f1, f2}, {s}), "operation", "sum");
    test::addFloatAttr(*test::addKernel(m, "relu", "r", {s}, {r}), "negative_slope", 0.0);
  }
  m.add_outputs(r);
  return w;
}

// Regression: a fused kernel reading a tensor sized at run time: respecialize
// re-derives the steps' shapes (reshapeFusedBody).
TEST(FusedModule, RunTimeSizesReachTheBody) {
  for (ExecMode mode : {ExecMode::Reference, ExecMode::Optimized}) {
    SCOPED_TRACE(mode == ExecMode::Reference ? "reference" : "optimized");
    auto run = [&](bool fused) -> std::vector<float> {
      ExecutorOptions o;
      o.mode = mode;
      Executor ex(load(filterSumModule(fused)), o);
      ex.setInput("x1", {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12});
      ex.setInput("x2", {0.5f, 0.5f, 0.5f, 1, 1, 1, -1, -1, -1, 2, 2, 2});
      ex.setInput("sel", {1, 0, 1, 1});
      try {
        ex.run();
      } catch (const Error &e) {
        ADD_FAILURE() << (fused ? "fused: " : "unfused: ") << e.what();
        return {};
      }
      EXPECT_EQ(ex.tensorShape(ex.tensorIndex("r")), (Shape{3, 3}));
      return ex.read("r");
    };
    std::vector<float> want = run(false);
    EXPECT_EQ(want, (std::vector<float>{1.5f, 0, 3.5f, 6, 0, 8, 0, 13, 0}));
    EXPECT_EQ(run(true), want);
  }
}

//===----------------------------------------------------------------------===//
// Malformed bodies
//===----------------------------------------------------------------------===//

namespace {

/// The fused module's header (params from their fillers).
pb::Module fusedHeader(bool sum = false) {
  pb::Module m = convBlock(true, sum).header();
  m.set_version(kFormatVersion);
  return m;
}

pb::Kernel &fusedKernel(pb::Module &m) { return *m.mutable_kernels(0); }

void expectRefused(const pb::Module &m, const std::vector<std::string> &fragments) {
  std::string error = parseError(m);
  ASSERT_FALSE(error.empty()) << "accepted";
  for (const std::string &f : fragments)
    EXPECT_NE(error.find(f), std::string::npos) << "'" << f << "' not in: " << error;
  // The writer refuses it as well.
  ModuleWriter w(m);
  std::string bytes, werror;
  EXPECT_FALSE(w.serialize(bytes, werror));
}

} // namespace

TEST(FusedModuleReader, AcceptsTheValidModules) {
  EXPECT_EQ(parseError(fusedHeader(false)), "");
  EXPECT_EQ(parseError(fusedHeader(true)), "");
  EXPECT_EQ(parseError(convBlock(false).header()), "");
}

TEST(FusedModuleReader, BodyOnlyOnFusedKernels) {
  pb::Module m = fusedHeader();
  // A body on the pooling kernel.
  *m.mutable_kernels(1)->add_body() = fusedKernel(m).body(3);
  expectRefused(m, {"kernel #1 (pooling 'pool1')", "only a fused kernel has a body"});
  m = fusedHeader();
  fusedKernel(m).clear_body();
  expectRefused(m, {"kernel #0 (fused 'conv1+bn1+scale1+relu1')", "a fused kernel without a body"});
}

TEST(FusedModuleReader, StepReadingAnUndefinedValue) {
  pb::Module m = fusedHeader();
  const int scale = tensorOf(m, "scale1");
  // scale1 reads scale1 (its own output), then relu1's input comes from nowhere.
  fusedKernel(m).mutable_body(2)->set_inputs(0, scale);
  expectRefused(m, {"step 2 (scale)", "input " + std::to_string(scale) +
                                          " is neither an input of the fused kernel nor "
                                          "produced by an earlier step"});
  // A later step's value.
  m = fusedHeader();
  fusedKernel(m).mutable_body(1)->set_inputs(0, scale);
  expectRefused(m, {"step 1 (batch_norm)", "is neither an input of the fused kernel"});
  // pool1, a tensor of the module that is not an input of the fused kernel.
  m = fusedHeader();
  fusedKernel(m).mutable_body(1)->set_inputs(0, tensorOf(m, "pool1"));
  expectRefused(m, {"step 1 (batch_norm)", "is neither an input of the fused kernel"});
  // Out of range.
  m = fusedHeader();
  fusedKernel(m).mutable_body(1)->set_inputs(0, 1000);
  expectRefused(m, {"step 1 (batch_norm)", "input 1000 is neither"});
}

TEST(FusedModuleReader, StepOutputsMustBeInternalOrKernelOutputs) {
  // bn1 not marked internal: an activation nobody else produces.
  pb::Module m = fusedHeader();
  m.mutable_tensors(tensorOf(m, "bn1"))->set_internal(false);
  expectRefused(m, {"step 1 (batch_norm)", "must be a new internal activation (no arena offset) "
                                           "or an output of the fused kernel"});
  // A step writing a fused input.
  m = fusedHeader();
  fusedKernel(m).mutable_body(1)->set_outputs(0, tensorOf(m, "data"));
  expectRefused(m, {"step 1 (batch_norm)", "must be a new internal activation"});
  // Two steps producing the same internal tensor.
  m = fusedHeader();
  fusedKernel(m).mutable_body(1)->set_outputs(0, tensorOf(m, "conv1"));
  expectRefused(m, {"step 1 (batch_norm)", "must be a new internal activation"});
  // The kernel's output produced by no step.
  m = fusedHeader();
  fusedKernel(m).mutable_body()->RemoveLast();
  expectRefused(m, {"output 'relu1' is produced by no step"});
  // An internal tensor that no step produces.
  m = fusedHeader();
  int orphan = test::addTensor(m, "orphan", {2}, pb::Tensor::ACTIVATION);
  m.mutable_tensors(orphan)->set_internal(true);
  expectRefused(m, {"'orphan' is never produced"});
}

TEST(FusedModuleReader, InternalTensorWithAnArenaOffset) {
  pb::Module m = fusedHeader();
  m.set_arena_bytes(4 * 2 * 4 * 8 * 8);
  m.mutable_tensors(tensorOf(m, "bn1"))->set_offset(0);
  expectRefused(m, {"step 1 (batch_norm)", "must be a new internal activation (no arena offset)"});
}

// Regression: another kernel reading an internal tensor gets the message that
// says so.
TEST(FusedModuleReader, OtherKernelsCannotReadInternalTensors) {
  pb::Module m = fusedHeader();
  m.mutable_kernels(1)->set_inputs(0, tensorOf(m, "scale1"));
  expectRefused(m, {"kernel #1 (pooling 'pool1')", "reads 'scale1', which is internal to a "
                                                   "fused kernel"});
  // Nor can the fused kernel itself take one as an input.
  m = fusedHeader();
  fusedKernel(m).add_inputs(tensorOf(m, "bn1"));
  expectRefused(m, {"reads 'bn1', which is internal to a fused kernel"});
}

TEST(FusedModuleReader, InternalTensorsAreNoOutputs) {
  pb::Module m = fusedHeader();
  m.add_outputs(tensorOf(m, "conv1"));
  expectRefused(m, {"graph output 'conv1' is internal to a fused kernel"});
  // The fused kernel's own output marked internal.
  m = fusedHeader();
  m.mutable_tensors(tensorOf(m, "relu1"))->set_internal(true);
  expectRefused(m, {"output 'relu1' is marked internal"});
}

TEST(FusedModuleReader, StepsAreLayerOrBackwardKernels) {
  // A nested fused step.
  pb::Module m = fusedHeader();
  pb::Kernel nested = fusedKernel(m).body(3);
  pb::Kernel *relu = fusedKernel(m).mutable_body(3);
  relu->set_op("fused");
  relu->clear_attrs();
  *relu->add_body() = nested;
  expectRefused(m, {"step 3 (fused): a step must be a layer or backward kernel, not a fused one"});
  // A step with a body (not fused).
  m = fusedHeader();
  const pb::Kernel copy = fusedKernel(m).body(3);
  *fusedKernel(m).mutable_body(3)->add_body() = copy;
  expectRefused(m, {"step 3 (relu): a step must be a layer or backward kernel, not a fused one"});
  // A step without an op.
  m = fusedHeader();
  fusedKernel(m).mutable_body(3)->set_op("");
  expectRefused(m, {"step 3 (): a step must be a layer or backward kernel, not a fused one"});
  // Duplicate attributes.
  m = fusedHeader();
  test::addFloatAttr(*fusedKernel(m).mutable_body(3), "negative_slope", 0.5);
  expectRefused(m, {"step 3 (relu): empty, duplicate or valueless attribute 'negative_slope'"});
}

// Regression: an internal tensor produced by two fused kernels is refused.
TEST(FusedModuleReader, InternalTensorProducedByTwoKernels) {
  pb::Module m = fusedHeader();
  // A second fused kernel data -> conv1 (internal, again) -> relu -> "second".
  int second = test::addTensor(m, "second", {2, 4, 8, 8}, pb::Tensor::ACTIVATION);
  const pb::Kernel first = fusedKernel(m);
  pb::Kernel *k = m.add_kernels();
  k->set_op("fused");
  k->set_layer("conv1b+relu1b");
  for (int i = 0; i < 3; ++i)
    k->add_inputs(first.inputs(i));
  k->add_outputs(second);
  *k->add_body() = first.body(0); // writes conv1
  pb::Kernel *relu = k->add_body();
  *relu = first.body(3);
  relu->set_layer("relu1b");
  relu->set_inputs(0, tensorOf(m, "conv1"));
  relu->set_outputs(0, second);
  m.add_outputs(second);
  std::string error = parseError(m);
  EXPECT_NE(error, "") << "conv1 is produced inside two fused kernels";
}

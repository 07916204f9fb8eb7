//===- FusedParamsTest.cpp - Fused kernels: parameters, validation -===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Refolding after paramsChanged, blobs that are not parameters, and the
// checks validateKernelDesc makes on fused descriptions.
//
//===----------------------------------------------------------------------===//

#include "FusedTestUtil.h"

using namespace dlc::rt;
using namespace dlc::rt::dnnltest;
using namespace dlc::rt::fusedtest;

namespace {

// ---------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------

TEST(DnnlFused, ParamsChangedRefoldsWeightsAndStatistics) {
  FusedBuilder b;
  int x = b.input({2, 8, 7, 7});
  int w = b.input({8, 8, 3, 3}, true);
  int bias = b.input({8}, true);
  int mean = b.input({8}, true), var = b.input({8}, true), sf = b.input({1}, true);
  int gamma = b.input({8}, true), beta = b.input({8}, true);
  int v = b.step("convolution", convAttrs(8, 3, 1, 1), {x, w, bias});
  v = b.step("batch_norm", bnAttrs(), {v, mean, var, sf});
  v = b.step("scale", scaleAttrs(), {v, gamma, beta});
  v = b.step("relu", reluAttrs(), {v});
  KernelDesc d = b.finish({v});
  auto in = randomInputs(d, {{var, {0.5f, 2.f}}, {gamma, {0.5f, 1.5f}}}, {{sf, {1.f}}});
  BackendContexts contexts;
  KernelChoice dn = createKernel(d, {"onednn", "ref"}, contexts);
  ASSERT_TRUE(startsWith(dn.kernel->implName(), "fused:")) << dn.kernel->implName();
  KernelChoice ref = createFusedKernel(d, {"ref"}, contexts);
  auto first = run(*dn.kernel, d, in);
  EXPECT_TRUE(closeTo(first[0], run(*ref.kernel, d, in)[0], 72 * 4));

  // Each parameter in turn, then all together: after paramsChanged() the
  // kernel must use the new values.
  const std::vector<std::pair<const char *, std::vector<int>>> changes = {
      {"weights", {w}},       {"bias", {bias}},
      {"mean", {mean}},       {"variance", {var}},
      {"scale_factor", {sf}}, {"gamma", {gamma}},
      {"beta", {beta}},       {"all", {w, bias, mean, var, sf, gamma, beta}}};
  std::vector<float> prev = first[0];
  for (const auto &[what, ids] : changes) {
    SCOPED_TRACE(what);
    for (int id : ids) {
      if (id == var)
        in[size_t(id)] = randomData(d.inputs[size_t(id)], 0.25f, 3.f);
      else if (id == sf)
        in[size_t(id)] = {in[size_t(id)][0] == 4.f ? 0.5f : 4.f};
      else if (id == gamma)
        in[size_t(id)] = randomData(d.inputs[size_t(id)], -1.5f, -0.5f);
      else
        in[size_t(id)] = randomData(d.inputs[size_t(id)], 0.5f, 2.f);
    }
    dn.kernel->paramsChanged();
    ref.kernel->paramsChanged();
    auto got = run(*dn.kernel, d, in);
    auto want = run(*ref.kernel, d, in);
    double gain = foldGain(&in[size_t(var)], in[size_t(sf)][0], 1e-5, &in[size_t(gamma)], 8);
    EXPECT_TRUE(closeTo(got[0], want[0], 72 * gain * gain)) << dn.kernel->implName();
    EXPECT_FALSE(closeTo(got[0], prev, 72)) << "output did not change";
    prev = got[0];
  }
}

TEST(DnnlFused, WeightsThatAreNotParamsAreReadEveryRun) {
  // Weights and bias as plain inputs (no paramsChanged between runs).
  for (const char *anchor : {"convolution", "inner_product"}) {
    SCOPED_TRACE(anchor);
    const bool conv = std::string(anchor) == "convolution";
    FusedBuilder b;
    int x = b.input(conv ? Shape{2, 4, 6, 6} : Shape{4, 9});
    int w = b.input(conv ? Shape{4, 4, 3, 3} : Shape{4, 9}, false);
    int bias = b.input({4}, false);
    int gamma = b.input({4}, true);
    int v = b.step(anchor, conv ? convAttrs(4, 3, 1, 1) : ipAttrs(4), {x, w, bias});
    v = b.step("scale", scaleAttrs(), {v, gamma});
    v = b.step("sigmoid", {}, {v});
    KernelDesc d = b.finish({v});
    auto in = randomInputs(d);
    BackendContexts contexts;
    KernelChoice dn = createKernel(d, {"onednn", "ref"}, contexts);
    EXPECT_TRUE(startsWith(dn.kernel->implName(), "fused:")) << dn.kernel->implName();
    KernelChoice ref = createFusedKernel(d, {"ref"}, contexts);
    EXPECT_TRUE(closeTo(run(*dn.kernel, d, in)[0], run(*ref.kernel, d, in)[0], 36));
    in[size_t(w)] = randomData(d.inputs[size_t(w)]);
    in[size_t(bias)] = randomData({4}, 1.f, 2.f);
    EXPECT_TRUE(closeTo(run(*dn.kernel, d, in)[0], run(*ref.kernel, d, in)[0], 36));
  }
}

// Regression: folded weights are cached only while every input they are
// folded from is a parameter.
TEST(DnnlFused, StatisticsThatAreNotParamsAreReadEveryRun) {
  FusedBuilder b;
  int x = b.input({2, 4, 6, 6});
  int w = b.input({4, 4, 3, 3}, true);
  int mean = b.input({4}, false), var = b.input({4}, false), sf = b.input({1}, false);
  int gamma = b.input({4}, true), beta = b.input({4}, false);
  int v = b.step("convolution", convAttrs(4, 3, 1, 1), {x, w});
  v = b.step("batch_norm", bnAttrs(), {v, mean, var, sf});
  v = b.step("scale", scaleAttrs(), {v, gamma, beta});
  KernelDesc d = b.finish({v});
  auto in = randomInputs(d, {{var, {0.5f, 2.f}}}, {{sf, {1.f}}});
  BackendContexts contexts;
  KernelChoice dn = createKernel(d, {"onednn", "ref"}, contexts);
  KernelChoice ref = createFusedKernel(d, {"ref"}, contexts);
  EXPECT_TRUE(closeTo(run(*dn.kernel, d, in)[0], run(*ref.kernel, d, in)[0], 72));
  in[size_t(mean)] = randomData({4}, 1.f, 2.f);
  in[size_t(var)] = randomData({4}, 2.f, 3.f);
  in[size_t(beta)] = randomData({4}, 1.f, 2.f);
  EXPECT_TRUE(closeTo(run(*dn.kernel, d, in)[0], run(*ref.kernel, d, in)[0], 72))
      << dn.kernel->implName() << ": statistics changed without paramsChanged()";
}

// ---------------------------------------------------------------------------
// Validation of fused descriptions
// ---------------------------------------------------------------------------

/// conv(x, w) -> relu -> sigmoid; values 0 x, 1 w, 2 conv, 3 relu, 4 sigmoid.
KernelDesc validBody() {
  FusedBuilder b("conv1+relu1");
  int x = b.input({1, 3, 5, 5});
  int w = b.input({2, 3, 3, 3}, true);
  int c = b.step("convolution", convAttrs(2, 3), {x, w});
  int r = b.step("relu", reluAttrs(), {c});
  int s = b.step("sigmoid", {}, {r});
  return b.finish({s});
}

/// The message of validateKernelDesc(d), "" when it accepts d.
std::string validationError(const KernelDesc &d) {
  try {
    validateKernelDesc(d);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

void expectInvalid(const KernelDesc &d, const std::vector<std::string> &fragments) {
  std::string msg = validationError(d);
  ASSERT_FALSE(msg.empty()) << "accepted";
  EXPECT_TRUE(startsWith(msg, "layer '" + d.layer + "' (" + d.op + "): ")) << msg;
  for (const std::string &f : fragments)
    EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
  // Kernel creation validates the same way.
  BackendContexts contexts;
  EXPECT_THROW(createKernel(d, {"onednn", "ref"}, contexts), Error);
  EXPECT_THROW(createFusedKernel(d, {"ref"}, contexts), Error);
}

TEST(FusedValidation, AcceptsAValidBody) { EXPECT_EQ(validationError(validBody()), ""); }

TEST(FusedValidation, ArgumentOutOfRange) {
  KernelDesc d = validBody();
  d.body[1].args[0] = 7;
  expectInvalid(d, {"step 1 (relu): ", "argument 0 is not a value defined before it"});
  d = validBody();
  d.body[0].args[0] = -1;
  expectInvalid(d, {"step 0 (convolution): ", "argument 0 is not a value defined before it"});
  // A value defined later (relu reading sigmoid's output).
  d = validBody();
  d.body[1].args[0] = 4;
  expectInvalid(d, {"step 1 (relu): ", "not a value defined before it"});
  // Its own output.
  d = validBody();
  d.body[1].args[0] = 3;
  expectInvalid(d, {"step 1 (relu): ", "not a value defined before it"});
}

TEST(FusedValidation, ArgumentCount) {
  KernelDesc d = validBody();
  d.body[1].args.push_back(0);
  expectInvalid(d, {"step 1 (relu): ", "2 arguments for 1 inputs"});
}

TEST(FusedValidation, ShapeMismatch) {
  // relu's input declared as the fused input's shape, its value is conv's.
  KernelDesc d = validBody();
  d.body[1].desc.inputs[0] = {1, 3, 5, 5};
  d.body[1].desc.outputs[0] = {1, 3, 5, 5};
  expectInvalid(d, {"step 1 (relu): ", "input 0 has shape", "its value"});
  // A step reading a value of another shape than its operand must have.
  d = validBody();
  d.body[0].args = {1, 0};
  expectInvalid(d, {"step 0 (convolution): input 0 has shape"});
  // A step's output disagreeing with its own shape rule.
  d = validBody();
  d.body[2].desc.outputs[0] = {1, 2, 3, 4};
  std::string msg = validationError(d);
  EXPECT_NE(msg.find("output 0 has shape"), std::string::npos) << msg;
  // The fused kernel's output shape disagreeing with its value's.
  d = validBody();
  d.outputs[0] = {1, 2, 2, 2};
  expectInvalid(d, {"output 0 has shape"});
}

TEST(FusedValidation, NestedOrBackwardStep) {
  KernelDesc d = validBody();
  FusedStep nested;
  nested.desc = validBody();
  nested.args = {0, 1};
  d.body.insert(d.body.begin(), nested);
  for (FusedStep &s : d.body)
    for (int &a : s.args)
      if (a >= 2 && &s != &d.body[0])
        a += 1; // the nested step adds one value
  d.results = {5};
  expectInvalid(d, {"step 0 (fused): a step cannot be a fused kernel"});

  d = validBody();
  FusedStep grad;
  grad.desc = gradOf(d.body[1].desc);
  grad.args = {2, 3, 3};
  d.body.push_back(grad);
  // A backward step is fine (a fused backward kernel, docs/fusion.md); one
  // whose inputs do not match its values is not.
  EXPECT_NO_THROW(validateKernelDesc(d));
  d.body.back().args = {2, 3, 0};
  expectInvalid(d, {"step 3 (relu_grad): input 2 has shape"});
}

TEST(FusedValidation, ResultsMustBeProducedBySteps) {
  KernelDesc d = validBody();
  d.results = {0};
  expectInvalid(d, {"output 0 is not a value produced by a step"});
  d.results = {1};
  d.outputs = {{2, 3, 3, 3}};
  expectInvalid(d, {"output 0 is not a value produced by a step"});
  d = validBody();
  d.results = {5};
  expectInvalid(d, {"output 0 is not a value produced by a step"});
  d = validBody();
  d.results = {-1};
  expectInvalid(d, {"output 0 is not a value produced by a step"});
  d = validBody();
  d.results = {4, 3};
  expectInvalid(d, {"2 result values for 1 outputs"});
}

TEST(FusedValidation, EmptyBodyAndBodyOnAnotherOp) {
  KernelDesc d = validBody();
  d.body.clear();
  d.results.clear();
  d.outputs.clear();
  expectInvalid(d, {"a fused kernel needs at least one step"});

  KernelDesc relu = validBody().body[1].desc;
  relu.body = validBody().body;
  expectInvalid(relu, {"only a fused kernel has a body"});
}

TEST(FusedValidation, ParamFlagsMustAgree) {
  KernelDesc d = validBody();
  d.body[0].desc.isParam[1] = false;
  expectInvalid(d, {"step 0 (convolution): input 1 disagrees with the fused kernel"});
  d = validBody();
  d.isParam = {true};
  expectInvalid(d, {"isParam has 1 entries for 2 inputs"});
}

TEST(FusedValidation, StepsAreValidatedOnTheirOwn) {
  KernelDesc d = validBody();
  d.body[1].desc.attrs.set("nonsense", int64_t(1));
  std::string msg = validationError(d);
  EXPECT_NE(msg.find("attribute 'nonsense' is not an attribute of"), std::string::npos) << msg;
  EXPECT_NE(msg.find("relu"), std::string::npos) << msg;

  // An op with data-dependent sizes (filter) cannot be fused.
  FusedBuilder b;
  int x = b.input({4, 3});
  int sel = b.input({4});
  int r = b.step("relu", reluAttrs(), {x});
  KernelDesc f = b.finish({r});
  FusedStep filter;
  filter.desc.op = "filter";
  filter.desc.layer = "f";
  filter.desc.inputs = {{4, 3}, {4}};
  filter.desc.outputs = {{4, 3}};
  filter.desc.isParam = {false, false};
  filter.args = {2, sel};
  f.body.push_back(filter);
  f.results = {3};
  expectInvalid(f, {"step 1 (filter): an op with data-dependent sizes cannot be fused"});
}

} // namespace

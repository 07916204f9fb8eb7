//===- GeneratedKernelTest.cpp - Generated kernels against the reference --===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every layer the code generator covers (docs/codegen.md), alone and in
// chains, compiled for this machine and run by the "generated" backend,
// against the reference kernels of the same layers run one by one: sizes
// that exercise the vector loops and the scalar tail, sub-ranges, in place,
// in parallel, and special values (zeros, infinities, NaN).
//
//===----------------------------------------------------------------------===//
#include "GenTestUtil.h"

#include <algorithm>
#include <limits>

using namespace dlc::rt;
using namespace dlc::rt::gentest;

namespace {

/// Relative tolerance against the reference (float64) for normal inputs.
constexpr double kTol = 1e-5;

struct OpCase {
  std::string name; ///< for messages
  Layer layer;
  float lo, hi; ///< input range
};

Layer layer(const std::string &op, std::vector<std::pair<std::string, Attrs::Value>> attrs = {},
            std::vector<int> args = {0}) {
  Layer l;
  l.op = op;
  for (auto &[k, v] : attrs)
    l.attrs.set(k, v);
  l.args = std::move(args);
  return l;
}

std::vector<OpCase> unaryCases() {
  return {
      {"relu", layer("relu"), -3, 3},
      {"leaky relu", layer("relu", {{"negative_slope", 0.1}}), -3, 3},
      {"sigmoid", layer("sigmoid"), -20, 20},
      {"tanh", layer("tanh"), -10, 10},
      {"abs_val", layer("abs_val"), -5, 5},
      {"bnll", layer("bnll"), -30, 30},
      {"elu", layer("elu", {{"alpha", 0.7}}), -5, 5},
      {"elu near 0", layer("elu"), -1e-3f, 1e-3f},
      {"power 2", layer("power", {{"power", 2.0}, {"scale", 0.5}, {"shift", 0.25}}), -4, 4},
      {"power 3", layer("power", {{"power", 3.0}}), -3, 3},
      {"power -1", layer("power", {{"power", -1.0}, {"shift", 3.0}}), -1, 1},
      {"power 0.5", layer("power", {{"power", 0.5}, {"shift", 2.0}}), -1, 1},
      {"power 2.5", layer("power", {{"power", 2.5}, {"shift", 2.0}}), -1, 1},
      {"power -2.5", layer("power", {{"power", -2.5}, {"shift", 1.5}}), -1, 1},
      {"power 1.5 of negatives", layer("power", {{"power", 1.5}}), -1, 1},
      {"power 37", layer("power", {{"power", 37.0}}), -1.2f, 1.2f},
      {"power 0", layer("power", {{"power", 0.0}}), -1, 1},
      {"power 1 (affine)", layer("power", {{"scale", -2.0}, {"shift", 0.5}}), -1, 1},
      {"exp", layer("exp"), -10, 10},
      {"exp base 2", layer("exp", {{"base", 2.0}, {"scale", 0.5}, {"shift", 1.0}}), -8, 8},
      {"log", layer("log"), 0.01f, 100},
      {"log base 10", layer("log", {{"base", 10.0}, {"scale", 2.0}, {"shift", 1.0}}), 0, 5},
      {"threshold", layer("threshold", {{"threshold", 0.25}}), -1, 1},
      {"clip", layer("clip", {{"min", -0.5}, {"max", 0.75}}), -1, 1},
      {"swish", layer("swish", {{"beta", 1.5}}), -10, 10},
      {"dropout (test)", layer("dropout", {{"ratio", 0.3}}), -1, 1},
  };
}

Body unaryBody(const Layer &l, int64_t n) {
  Body b;
  b.inputs = {{n}};
  b.shape = {n};
  b.layers = {l};
  return b;
}

/// Compares the generated kernel of `body` with the reference on `inputs`.
void expectMatchesReference(const Body &body, const std::vector<Data> &inputs,
                            const std::string &what, double tol = kTol) {
  Generated g = generate(body);
  ASSERT_NE(g.fn, nullptr) << what;
  std::string impl;
  Data got = run(g.desc, {"generated"}, inputs, &impl);
  EXPECT_EQ(impl.rfind("generated:", 0), 0u) << impl;
  Data want = run(descOf(body), {"ref"}, inputs);
  double scale = 0;
  for (float v : want)
    if (std::isfinite(v))
      scale = std::max(scale, double(std::fabs(v)));
  // Results near 0 (a cancellation like log(1 + tiny)) are judged against a
  // millionth of the largest, as float32 holds them.
  expectClose(got, want, tol, std::max(1e-6 * scale, 1e-30), what);
}

} // namespace

TEST(GeneratedKernels, EveryOpAgainstTheReference) {
  for (const OpCase &c : unaryCases())
    for (int64_t n : {1, 7, 17, 1023}) {
      SCOPED_TRACE(c.name + ", " + std::to_string(n) + " elements");
      expectMatchesReference(unaryBody(c.layer, n), {randomData(n, unsigned(n), c.lo, c.hi)},
                             c.name);
    }
}

TEST(GeneratedKernels, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const Data special = {0.0f, -0.0f, inf,  -inf,   NAN,   1e30f, -1e30f, 1e-30f, -1e-30f,
                        88.7f, -87.0f, 100.f, -100.f, 1e-8f, -1e-8f, 0.5f,  -0.5f,  1.0f};
  for (const OpCase &c : unaryCases()) {
    SCOPED_TRACE(c.name);
    Body body = unaryBody(c.layer, int64_t(special.size()));
    Generated g = generate(body);
    ASSERT_NE(g.fn, nullptr);
    Data got = run(g.desc, {"generated"}, {special});
    Data want = run(descOf(body), {"ref"}, {special});
    for (size_t i = 0; i < special.size(); ++i)
      EXPECT_LE(relError(got[i], want[i], 1e-6), kTol)
          << c.name << "(" << special[i] << ") is " << got[i] << ", the reference "
          << want[i];
  }
}

namespace {

/// Chains on blobs of `shape`: the lit test's six layers, Eltwise sum (with
/// coefficients), product and max of three blobs, a product of one blob
/// with itself.
void expectChainsMatch(const Shape &shape) {
  const int64_t n = numElements(shape);
  Body chain;
  chain.inputs = {shape};
  chain.shape = shape;
  chain.layers = {layer("power", {{"power", 2.0}, {"scale", 0.5}, {"shift", 0.25}}),
                  layer("tanh", {}, {1}),
                  layer("bnll", {}, {2}),
                  layer("abs_val", {}, {3}),
                  layer("elu", {{"alpha", 0.7}}, {4}),
                  layer("sigmoid", {}, {5})};
  expectMatchesReference(chain, {randomData(n, 1, -3, 3)}, "power+tanh+bnll+abs+elu+sigmoid");

  Body sum;
  sum.inputs = {shape, shape, shape};
  sum.shape = shape;
  sum.layers = {layer("eltwise", {{"coeff", std::vector<double>{1.0, -2.0, 0.5}}}, {0, 1, 2}),
                layer("relu", {}, {3})};
  std::vector<Data> three = {randomData(n, 2, -1, 1), randomData(n, 3, -1, 1),
                             randomData(n, 4, -1, 1)};
  expectMatchesReference(sum, three, "eltwise sum with coefficients + relu");
  for (const char *op : {"prod", "max"}) {
    Body b = sum;
    b.layers[0] = layer("eltwise", {{"operation", std::string(op)}}, {0, 1, 2});
    b.layers[1] = layer("tanh", {}, {3});
    expectMatchesReference(b, three, std::string("eltwise ") + op + " + tanh");
  }
  Body twice = sum;
  twice.inputs = {shape};
  twice.layers = {layer("eltwise", {{"operation", std::string("prod")}}, {0, 0}),
                  layer("sigmoid", {}, {1})};
  expectMatchesReference(twice, {three[0]}, "x * x + sigmoid");
}

/// Scale (with and without bias) and Bias per channel (axis 1) on `shape`.
void expectScaleBiasMatch(const Shape &shape) {
  const int64_t n = numElements(shape), c = shape[1];
  Body scale;
  scale.inputs = {shape, {c}, {c}};
  scale.isParam = {false, true, true};
  scale.shape = shape;
  scale.layers = {layer("scale", {{"axis", int64_t(1)}, {"num_axes", int64_t(1)}}, {0, 1, 2}),
                  layer("relu", {}, {3})};
  std::vector<Data> in = {randomData(n, 5, -2, 2), randomData(c, 6, -2, 2),
                          randomData(c, 7, -1, 1)};
  expectMatchesReference(scale, in, "scale with bias + relu");

  Body noBias = scale;
  noBias.inputs = {shape, {c}};
  noBias.isParam = {false, true};
  noBias.layers = {layer("scale", {}, {0, 1}), layer("tanh", {}, {2})};
  expectMatchesReference(noBias, {in[0], in[1]}, "scale + tanh");

  Body bias = noBias;
  bias.layers = {layer("bias", {}, {0, 1}), layer("elu", {}, {2})};
  expectMatchesReference(bias, {in[0], in[2]}, "bias + elu");
}

} // namespace

TEST(GeneratedKernels, Chains) {
  for (const Shape &shape : std::vector<Shape>{{1}, {7}, {17}, {1023}, {2, 3, 7, 5}}) {
    SCOPED_TRACE(std::to_string(numElements(shape)) + " elements");
    expectChainsMatch(shape);
  }
}

TEST(GeneratedKernels, PerChannelScaleAndBias) {
  // [N, C, H, W]: rows of H*W elements, one scale and bias per channel;
  // rows of one element, shorter than a vector, and of several vectors.
  for (const Shape &shape : std::vector<Shape>{
           {1, 1, 1, 1}, {2, 3, 1, 1}, {1, 3, 7, 1}, {2, 3, 5, 7}, {1, 2, 17, 17}}) {
    SCOPED_TRACE(shapeToString(shape));
    expectScaleBiasMatch(shape);
  }
  // [N, C]: an inner product's output, one channel per element.
  Body inner1;
  inner1.inputs = {{4, 5}, {5}};
  inner1.isParam = {false, true};
  inner1.shape = {4, 5};
  inner1.layers = {layer("scale", {}, {0, 1}), layer("sigmoid", {}, {2})};
  expectMatchesReference(inner1, {randomData(20, 6, -3, 3), randomData(5, 7, -1, 1)},
                         "scale on [4, 5] + sigmoid");
}

TEST(GeneratedKernels, SubRangesWriteOnlyTheirElements) {
  const Shape shape = {2, 3, 5, 7};
  const int64_t n = 210;
  Body body;
  body.inputs = {shape, {3}};
  body.isParam = {false, true};
  body.shape = shape;
  body.layers = {layer("scale", {}, {0, 1}), layer("swish", {}, {2})};
  Generated g = generate(body);
  ASSERT_NE(g.fn, nullptr);
  std::vector<Data> in = {randomData(n, 8, -2, 2), {0.5f, -1.5f, 2.0f}};
  Data want = run(descOf(body), {"ref"}, in);
  const float *ins[] = {in[0].data(), in[1].data()};
  for (auto [begin, end] : {std::pair<int64_t, int64_t>{0, 0}, {3, 3}, {0, 1}, {3, 20},
                            {34, 36}, {17, 193}, {200, 210}, {0, 210}}) {
    Data out(size_t(n), 12345.0f);
    float *o = out.data();
    g.fn(ins, &o, begin, end);
    for (int64_t i = 0; i < n; ++i) {
      if (i >= begin && i < end)
        EXPECT_LE(relError(out[size_t(i)], want[size_t(i)], 1e-6), kTol) << i;
      else
        ASSERT_EQ(out[size_t(i)], 12345.0f) << "[" << begin << ", " << end << ") wrote " << i;
    }
  }
}

TEST(GeneratedKernels, InPlaceAndParallel) {
  const int64_t n = (int64_t(1) << 20) + 13; // above the parallel threshold, with a tail
  Body body = unaryBody(layer("elu", {{"alpha", 0.5}}), n);
  body.layers.push_back(layer("sigmoid", {}, {1}));
  Generated g = generate(body);
  ASSERT_NE(g.fn, nullptr);
  Data x = randomData(n, 9, -4, 4);
  Data want = run(descOf(body), {"ref"}, {x});
  Data got = run(g.desc, {"generated"}, {x});
  expectClose(got, want, kTol, 1e-6, "parallel");

  BackendContexts contexts;
  KernelChoice c = createKernel(g.desc, {"generated"}, contexts);
  EXPECT_EQ(c.kernel->inPlaceInput(), 0);
  Data buffer = x;
  const float *in = buffer.data();
  float *out = buffer.data();
  c.kernel->forward(&in, &out);
  expectClose(buffer, want, kTol, 1e-6, "in place");
}

TEST(GeneratedKernels, OtherBodiesGetNoKernel) {
  // Training-mode dropout draws a mask: composed, not generated.
  Body body = unaryBody(layer("dropout", {{"train", int64_t(1)}, {"seed", int64_t(5)}}), 16);
  body.layers.push_back(layer("relu", {}, {1}));
  std::string text = mlirOf(body);
  // The importer writes train as a bool.
  text.replace(text.find("train = 1 : i64"), 15, "train = true");
  dlc::codegen::NativeObject object;
  std::vector<std::string> symbols;
  std::string error;
  ASSERT_TRUE(dlc::codegen::compileModuleText(text, "", object, symbols, error)) << error;
  ASSERT_EQ(symbols.size(), 1u);
  EXPECT_EQ(symbols[0], "");
  EXPECT_TRUE(object.object.empty());
}

TEST(GeneratedKernels, NamedCpu) {
  // x86-64-v2 (SSE4.2, 4 lanes) and the x86-64 baseline (SSE2: no FMA, no
  // rounding instructions, so those are expanded) run wherever this does.
  auto has = [](const std::vector<std::string> &v, const char *f) {
    return std::find(v.begin(), v.end(), f) != v.end();
  };
  Body body = unaryBody(layer("bnll"), 1023);
  body.layers.push_back(layer("tanh", {}, {1}));
  body.layers.push_back(layer("elu", {}, {2}));
  body.layers.push_back(layer("power", {{"power", 2.5}, {"shift", 1.0}}, {3}));
  Data x = randomData(1023, 10, -20, 20);
  for (const char *cpu : {"x86-64-v2", "x86-64"}) {
    SCOPED_TRACE(cpu);
    Generated g = generate(body, cpu);
    ASSERT_NE(g.fn, nullptr);
    EXPECT_EQ(g.object.cpu, cpu);
    EXPECT_TRUE(has(g.object.features, "sse2"));
    EXPECT_EQ(has(g.object.features, "sse4.2"), std::string(cpu) == "x86-64-v2");
    EXPECT_FALSE(has(g.object.features, "avx"));
    EXPECT_FALSE(has(g.object.features, "fma"));
    expectClose(run(g.desc, {"generated"}, {x}), run(descOf(body), {"ref"}, {x}), kTol, 1e-6,
                cpu);
  }

  dlc::codegen::NativeObject object;
  std::vector<std::string> symbols;
  std::string error;
  EXPECT_FALSE(dlc::codegen::compileModuleText(mlirOf(body), "no-such-cpu", object, symbols,
                                               error));
  EXPECT_NE(error.find("unknown CPU 'no-such-cpu'"), std::string::npos) << error;
}

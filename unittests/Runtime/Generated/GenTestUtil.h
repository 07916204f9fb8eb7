//===- GenTestUtil.h - Helpers for the generated-kernel tests ---*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A fused body described once, as dl dialect IR for the code generator
// (dlc/Conversion/Codegen.h) and as a fused KernelDesc for the runtime, so a
// generated kernel can be compared with the reference kernels of the same
// layers run one by one.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_UNITTESTS_RUNTIME_GENERATED_GENTESTUTIL_H
#define DLC_UNITTESTS_RUNTIME_GENERATED_GENTESTUTIL_H

#include "dlc/Conversion/Codegen.h"
#include "dlc/Runtime/Generated.h"
#include "dlc/Runtime/KernelRegistry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace dlc::rt::gentest {

using Data = std::vector<float>;

/// One layer: op, attributes, the values it reads (the fused kernel's inputs
/// [0, inputs), then each layer's result).
struct Layer {
  std::string op;
  Attrs attrs;
  std::vector<int> args;
};

struct Body {
  std::vector<Shape> inputs;
  std::vector<bool> isParam;
  Shape shape; ///< of every layer's result (the body is element-wise)
  std::vector<Layer> layers;
};

inline std::string typeOf(const Shape &s) {
  std::string t = "tensor<";
  for (int64_t d : s)
    t += std::to_string(d) + "x";
  return t + "f32>";
}

inline std::string f64(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17e", v);
  return buf;
}

/// The attribute in MLIR syntax (integers are i64: axis, num_axes).
inline std::string mlirAttr(const std::string &name, const Attrs::Value &v) {
  if (auto *d = std::get_if<double>(&v))
    return name + " = " + f64(*d) + " : f64";
  if (auto *i = std::get_if<int64_t>(&v))
    return name + " = " + std::to_string(*i) + " : i64";
  if (auto *s = std::get_if<std::string>(&v))
    return name + " = \"" + *s + "\"";
  std::string list;
  for (double d : std::get<std::vector<double>>(v))
    list += (list.empty() ? "" : ", ") + f64(d);
  return name + " = array<f64: " + list + ">";
}

/// `body` as a module with one dl.fused op.
inline std::string mlirOf(const Body &body) {
  std::string args, types, blockArgs, out = typeOf(body.shape);
  for (size_t i = 0; i < body.inputs.size(); ++i) {
    args += (i ? ", " : "") + std::string("%arg") + std::to_string(i) + ": " +
            typeOf(body.inputs[i]);
    types += (i ? ", " : "") + typeOf(body.inputs[i]);
    blockArgs += (i ? ", " : "") + std::string("%v") + std::to_string(i) + ": " +
                 typeOf(body.inputs[i]);
  }
  std::string operands;
  for (size_t i = 0; i < body.inputs.size(); ++i)
    operands += (i ? ", " : "") + std::string("%arg") + std::to_string(i);
  std::string s = "module {\n  func.func @Net(" + args + ") -> " + out + " {\n" +
                  "    %r = dl.fused(" + operands + ") : (" + types + ") -> " + out + " {\n" +
                  "    ^bb0(" + blockArgs + "):\n";
  const size_t n = body.inputs.size();
  for (size_t l = 0; l < body.layers.size(); ++l) {
    const Layer &layer = body.layers[l];
    std::string ins, inTypes, attrs;
    for (size_t a = 0; a < layer.args.size(); ++a) {
      const auto v = size_t(layer.args[a]);
      ins += (a ? ", " : "") + std::string("%v") + std::to_string(v);
      inTypes += (a ? ", " : "") + typeOf(v < n ? body.inputs[v] : body.shape);
    }
    for (const auto &[name, value] : layer.attrs.all())
      attrs += (attrs.empty() ? "" : ", ") + mlirAttr(name, value);
    s += "      %v" + std::to_string(n + l) + " = dl." + layer.op + " " + ins +
         (attrs.empty() ? "" : " {" + attrs + "}") + " : (" + inTypes + ") -> " + out + "\n";
  }
  s += "      dl.yield %v" + std::to_string(n + body.layers.size() - 1) + " : " + out + "\n" +
       "    }\n    return %r : " + out + "\n  }\n}\n";
  return s;
}

/// `body` as the runtime's fused kernel description.
inline KernelDesc descOf(const Body &body) {
  KernelDesc d;
  d.op = "fused";
  d.layer = "gen";
  d.inputs = body.inputs;
  d.isParam = body.isParam.empty() ? std::vector<bool>(body.inputs.size(), false) : body.isParam;
  d.outputs = {body.shape};
  const size_t n = body.inputs.size();
  for (size_t l = 0; l < body.layers.size(); ++l) {
    FusedStep step;
    step.desc.op = body.layers[l].op;
    step.desc.layer = "l" + std::to_string(l);
    step.desc.attrs = body.layers[l].attrs;
    for (int a : body.layers[l].args) {
      step.args.push_back(a);
      step.desc.inputs.push_back(size_t(a) < n ? body.inputs[size_t(a)] : body.shape);
      step.desc.isParam.push_back(size_t(a) < n && d.isParam[size_t(a)]);
    }
    step.desc.outputs = {body.shape};
    d.body.push_back(std::move(step));
  }
  d.results = {int(n + body.layers.size() - 1)};
  return d;
}

/// The body bnll -> tanh on one input of n elements (the modules and
/// objects of the loader and module tests).
inline Body bnllTanh(int64_t n) {
  Body body;
  body.inputs = {{n}};
  body.shape = {n};
  Layer a, b;
  a.op = "bnll";
  a.args = {0};
  b.op = "tanh";
  b.args = {1};
  body.layers = {a, b};
  return body;
}

/// A body's generated kernel: its description (gen_symbol, nativeCode) and
/// the function.
struct Generated {
  codegen::NativeObject object;
  KernelDesc desc;
  GeneratedFunction fn = nullptr;
};

/// Compiles `body` for this machine and loads the code; fails the test (and
/// returns an empty Generated) when the body gets no kernel.
inline Generated generate(const Body &body, const std::string &cpu = "") {
  Generated g;
  std::vector<std::string> symbols;
  std::string error;
  const std::string text = mlirOf(body);
  if (!codegen::compileModuleText(text, cpu, g.object, symbols, error)) {
    ADD_FAILURE() << "code generation failed: " << error << "\n" << text;
    return g;
  }
  if (symbols.size() != 1 || symbols[0].empty()) {
    ADD_FAILURE() << "no generated kernel for\n" << text;
    return g;
  }
  g.desc = descOf(body);
  g.desc.attrs.set("gen_symbol", symbols[0]);
  g.desc.nativeCode = loadNativeCode(g.object.object, g.object.cpu, g.object.features,
                                     g.object.symbols);
  g.fn = reinterpret_cast<GeneratedFunction>(g.desc.nativeCode->function(symbols[0]));
  return g;
}

inline Data randomData(int64_t n, unsigned seed, float lo, float hi) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Data d(static_cast<size_t>(n));
  for (float &v : d)
    v = dist(gen);
  return d;
}

/// Runs the kernel of `desc` created from `backends` on `inputs`.
inline Data run(const KernelDesc &desc, const std::vector<std::string> &backends,
                const std::vector<Data> &inputs, std::string *impl = nullptr) {
  BackendContexts contexts;
  KernelChoice c = createKernel(desc, backends, contexts);
  if (impl)
    *impl = c.kernel->implName();
  std::vector<const float *> in;
  for (const Data &d : inputs)
    in.push_back(d.data());
  Data out(size_t(numElements(desc.outputs[0])), NAN);
  float *o = out.data();
  c.kernel->forward(in.data(), &o);
  return out;
}

/// Relative error as dlrun --check measures it: |a - b| / max(|b|, floor),
/// NaN matching NaN and an infinity the same infinity.
inline double relError(float a, float b, double floor) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b) ? 0 : INFINITY;
  if (std::isinf(a) || std::isinf(b))
    return a == b ? 0 : INFINITY;
  return std::fabs(double(a) - double(b)) / std::max(std::fabs(double(b)), floor);
}

/// Expects `actual` within `tol` of `expected`, relative to each element
/// (to at least `floor`).
inline void expectClose(const Data &actual, const Data &expected, double tol, double floor,
                        const std::string &what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < actual.size(); ++i)
    if (double e = relError(actual[i], expected[i], floor); e > worst || std::isnan(e))
      worst = e, at = i;
  EXPECT_LE(worst, tol) << what << ": element " << at << " of " << actual.size() << " is "
                        << actual[at] << ", the reference " << expected[at];
}

} // namespace dlc::rt::gentest

#endif // DLC_UNITTESTS_RUNTIME_GENERATED_GENTESTUTIL_H

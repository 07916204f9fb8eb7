//===- DnnlTestUtil.h - Shared helpers of the oneDNN kernel tests -*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Descriptions, runs and comparisons with the reference kernels, shared by
// the tests of unittests/Runtime/Dnnl. Each test file keeps its own
// random generator (fixed seed) and passes it in.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_UNITTESTS_RUNTIME_DNNL_DNNLTESTUTIL_H
#define DLC_UNITTESTS_RUNTIME_DNNL_DNNLTESTUTIL_H

#include "dlc/Ops/ConvAlgorithms.h"
#include "dlc/Runtime/Dnnl.h"
#include "dlc/Runtime/Kernel.h"
#include "dlc/Runtime/KernelRegistry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

namespace dlc::rt::dnnltest {

inline DnnlContext &ctx() {
  static std::shared_ptr<DnnlContext> c = createDnnlContext();
  return *c;
}

/// Uniform values in [lo, hi) for every element of `s`.
inline std::vector<float> randomValues(std::mt19937 &g, const Shape &s, float lo = -1.f,
                                       float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(size_t(numElements(s)));
  for (float &x : v)
    x = d(g);
  return v;
}

inline KernelDesc makeDesc(const std::string &op, Attrs attrs, std::vector<Shape> inputs,
                           std::vector<Shape> outputs, std::vector<bool> isParam = {}) {
  KernelDesc d;
  d.op = op;
  d.layer = op + "_test";
  d.attrs = std::move(attrs);
  d.inputs = std::move(inputs);
  d.outputs = std::move(outputs);
  if (isParam.empty())
    isParam.assign(d.inputs.size(), false);
  d.isParam = std::move(isParam);
  return d;
}

/// max |got - ref| / max |ref|; infinite for a NaN (outputs start as NaN:
/// an element never written shows here) or a size mismatch.
inline double relError(const std::vector<float> &got, const std::vector<float> &ref) {
  if (got.size() != ref.size())
    return INFINITY;
  double err = 0, mag = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(got[i]))
      return INFINITY;
    err = std::max(err, std::fabs(double(got[i]) - double(ref[i])));
    mag = std::max(mag, std::fabs(double(ref[i])));
  }
  return err / std::max(mag, 1e-30);
}

/// Why the convolution algorithm `impl` does not apply to direction `d` of
/// the convolution `fwd` according to the catalog (dlc/Ops/ConvAlgorithms.h),
/// or "" (also for "" and "auto", oneDNN's own choice).
inline std::string convWhyNot(const KernelDesc &fwd, const std::string &impl,
                              ops::ConvDirection d) {
  const ops::ConvAlgorithmInfo *a = ops::findConvAlgorithm(impl);
  if (!a)
    return "";
  ops::ConvProblem p;
  p.direction = d;
  ops::ConvolutionAttrs at;
  EXPECT_TRUE(ops::ConvolutionAttrs::read(fwd.attrs, at).ok());
  EXPECT_TRUE(ops::convGeometry(at, fwd.inputs[0], p.geometry).ok());
  ops::MachineRates here;
  here.onednnWinograd = true; // known only by creating the primitive
  return a->whyNot(p, here);
}

/// Every convolution algorithm name a layer's "impl" may hold.
inline const std::vector<std::string> &convImpls() {
  static const std::vector<std::string> v = {"",          "auto",      "direct",
                                             "gemm",      "fft",       "winograd2",
                                             "winograd4", "onednn-winograd", "sliding"};
  return v;
}

/// Every non-empty subset of `ops`, ascending (the `wrt` sets of a
/// gradient kernel).
inline std::vector<std::vector<int64_t>> allSubsets(const std::vector<int64_t> &ops) {
  std::vector<std::vector<int64_t>> r;
  for (unsigned m = 1; m < (1u << ops.size()); ++m) {
    std::vector<int64_t> s;
    for (size_t i = 0; i < ops.size(); ++i)
      if (m & (1u << i))
        s.push_back(ops[i]);
    r.push_back(s);
  }
  return r;
}

/// The `<op>_grad` description of a (single-result) forward description:
/// operands, result and its gradient; one output per `wrt` operand.
inline KernelDesc gradOf(const KernelDesc &f, const std::vector<int64_t> &wrt = {0}) {
  KernelDesc g = f;
  g.op += "_grad";
  g.attrs.set("wrt", wrt);
  g.inputs.insert(g.inputs.end(), 2, f.outputs[0]);
  g.outputs.clear();
  for (int64_t i : wrt)
    g.outputs.push_back(f.inputs[size_t(i)]);
  g.isParam.resize(g.inputs.size(), false);
  return g;
}

/// Runs `k` on `in`; the outputs start as NaN.
inline std::vector<std::vector<float>> run(Kernel &k, const KernelDesc &d,
                                           const std::vector<std::vector<float>> &in) {
  std::vector<const float *> ip;
  for (const auto &v : in)
    ip.push_back(v.data());
  std::vector<std::vector<float>> out;
  for (const Shape &s : d.outputs)
    out.emplace_back(size_t(numElements(s)), std::nanf(""));
  std::vector<float *> op;
  for (auto &v : out)
    op.push_back(v.data());
  k.forward(ip.data(), op.data());
  return out;
}

/// The message of the Error `k` throws on `in`, or "".
inline std::string errorOf(Kernel &k, const KernelDesc &d,
                           const std::vector<std::vector<float>> &in) {
  try {
    run(k, d, in);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

/// |a - b| <= tol * (1 + |ref|), tol = 1e-4 scaled by sqrt(reduction / 16);
/// NaN only where the reference has NaN, infinities where it has the same.
inline ::testing::AssertionResult closeTo(const std::vector<float> &got,
                                          const std::vector<float> &ref, double reduction) {
  double tol = 1e-4 * std::max(1.0, std::sqrt(reduction / 16.0));
  if (got.size() != ref.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " vs " << ref.size();
  double maxAbs = 0, maxRel = 0;
  size_t bad = 0, firstBad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double a = got[i], b = ref[i];
    double err = a == b ? 0.0 : std::fabs(a - b); // (equal infinities)
    if (std::isnan(a) != std::isnan(b))
      err = INFINITY;
    else if (std::isnan(a))
      err = 0;
    maxAbs = std::max(maxAbs, err);
    maxRel = std::max(maxRel, err / std::max(1e-30, std::fabs(b)));
    if (!(err <= tol * (1 + std::fabs(b)))) {
      if (!bad)
        firstBad = i;
      ++bad;
    }
  }
  if (!bad)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << got.size() << " elements off (tol " << tol << "); max abs err "
         << maxAbs << ", max rel err " << maxRel << "; first at " << firstBad << ": got "
         << got[firstBad] << ", ref " << ref[firstBad];
}

/// Runs `dn` and `ref` (kernels of `d`) on `in` and compares every output
/// (`what`: "output", "gradient of operand"; `names`: the output names);
/// runs `dn` twice (its cached state is reused). Returns ref's outputs.
inline std::vector<std::vector<float>> expectSame(Kernel &dn, Kernel &ref, const KernelDesc &d,
                                                  const std::vector<std::vector<float>> &in,
                                                  double reduction, const std::string &what,
                                                  const std::vector<int64_t> &names) {
  auto want = run(ref, d, in);
  auto got = run(dn, d, in);
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_TRUE(closeTo(got[i], want[i], reduction))
        << d.op << " [" << dn.implName() << "] " << what << " " << names[i];
  EXPECT_EQ(run(dn, d, in), got) << d.op << ": second run differs";
  return want;
}

/// Creates the reference and the oneDNN kernel of forward description `d`,
/// runs both on `in` and compares all outputs (expectSame) and, where the
/// oneDNN kernel supports it and the sizes allow, runs it in place.
/// Returns the oneDNN kernel's implementation name.
inline std::string compareWithRef(const KernelDesc &d, const std::vector<std::vector<float>> &in,
                                  double reduction, bool testInPlace = true) {
  auto ref = createReferenceKernel(d);
  auto dn = createDnnlKernel(d, ctx());
  if (!dn) {
    ADD_FAILURE() << "no oneDNN kernel for " << d.op;
    return "";
  }
  std::vector<int64_t> outputs(d.outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i)
    outputs[i] = int64_t(i);
  auto want = expectSame(*dn, *ref, d, in, reduction, "output", outputs);
  // In place as the executor plans it: input 0 and output 0 of one size.
  if (testInPlace && dn->supportsInPlace() &&
      numElements(d.inputs[0]) == numElements(d.outputs[0])) {
    auto in2 = in;
    std::vector<const float *> ip;
    for (const auto &v : in2)
      ip.push_back(v.data());
    float *op[1] = {in2[0].data()};
    dn->forward(ip.data(), op);
    EXPECT_TRUE(closeTo(in2[0], want[0], reduction)) << d.op << " in place";
  }
  return dn->implName();
}

/// The inputs of `f`'s `_grad` kernel: the forward inputs (random, or
/// given), y from the reference forward kernel, a random dy.
inline std::vector<std::vector<float>> gradInputs(std::mt19937 &g, const KernelDesc &f,
                                                  std::vector<std::vector<float>> fwdIn = {}) {
  if (fwdIn.empty())
    for (const Shape &s : f.inputs)
      fwdIn.push_back(randomValues(g, s));
  auto ref = createReferenceKernel(f);
  auto y = run(*ref, f, fwdIn);
  auto in = fwdIn;
  in.push_back(y[0]);
  in.push_back(randomValues(g, f.outputs[0]));
  return in;
}

/// Builds the reference and oneDNN `_grad` kernels of `f` for `wrt`, runs
/// both on `in` and compares every output (expectSame). Returns the oneDNN
/// kernel's implementation name.
inline std::string compareGrad(const KernelDesc &f, const std::vector<int64_t> &wrt,
                               const std::vector<std::vector<float>> &in, double reduction) {
  KernelDesc g = gradOf(f, wrt);
  std::ostringstream w;
  for (int64_t i : wrt)
    w << i << " ";
  SCOPED_TRACE(g.op + " wrt [ " + w.str() + "]");
  auto ref = createReferenceKernel(g);
  std::unique_ptr<Kernel> dn;
  try {
    dn = createDnnlKernel(g, ctx());
  } catch (const Error &e) {
    ADD_FAILURE() << "unexpected error: " << e.what();
    return "";
  }
  if (!dn) {
    ADD_FAILURE() << "no oneDNN kernel for " << g.op;
    return "";
  }
  expectSame(*dn, *ref, g, in, reduction, "gradient of operand", wrt);
  return dn->implName();
}

/// The notes of choosing between oneDNN and the reference for `d`, which
/// must end up on the reference.
inline std::string fallbackNotes(const KernelDesc &d) {
  BackendContexts contexts;
  KernelChoice c = createKernel(d, {"onednn", "ref"}, contexts);
  EXPECT_EQ(c.backend, "ref") << d.op << ": " << c.notes;
  return c.notes;
}

} // namespace dlc::rt::dnnltest

#endif // DLC_UNITTESTS_RUNTIME_DNNL_DNNLTESTUTIL_H

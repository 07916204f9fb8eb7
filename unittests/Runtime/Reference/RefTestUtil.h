//===- RefTestUtil.h - Helpers for the reference kernel tests ---*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_UNITTESTS_RUNTIME_REFERENCE_REFTESTUTIL_H
#define DLC_UNITTESTS_RUNTIME_REFERENCE_REFTESTUTIL_H

#include "dlc/Runtime/Kernel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace dlc::rt::test {

using Data = std::vector<float>;

inline KernelDesc makeDesc(const std::string &op, std::vector<Shape> inputs,
                           std::vector<Shape> outputs, Attrs attrs = {}) {
  KernelDesc d;
  d.op = op;
  d.layer = "L_" + op;
  d.attrs = std::move(attrs);
  d.inputs = std::move(inputs);
  d.outputs = std::move(outputs);
  d.isParam.assign(d.inputs.size(), false);
  return d;
}

/// Creates the reference kernel for `desc` and runs it once.
inline std::vector<Data> runRef(const KernelDesc &desc, const std::vector<Data> &inputs) {
  auto k = createReferenceKernel(desc);
  EXPECT_EQ(k->implName(), "ref");
  if (inputs.size() != desc.inputs.size())
    throw std::logic_error("test passes the wrong number of inputs");
  std::vector<const float *> in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (int64_t(inputs[i].size()) != numElements(desc.inputs[i]))
      throw std::logic_error("test input " + std::to_string(i) + " has the wrong size");
    in.push_back(inputs[i].data());
  }
  std::vector<Data> outs;
  for (const Shape &s : desc.outputs)
    outs.emplace_back(numElements(s), NAN);
  std::vector<float *> out;
  for (Data &o : outs)
    out.push_back(o.data());
  k->forward(in.data(), out.data());
  return outs;
}

/// Single-output convenience.
inline Data run1(const KernelDesc &desc, const std::vector<Data> &inputs) {
  return runRef(desc, inputs).at(0);
}

inline Data randomData(int64_t n, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Data d(n);
  for (float &v : d)
    v = dist(gen);
  return d;
}

inline Data iota(int64_t n, float start = 1.0f) {
  Data d(n);
  for (int64_t i = 0; i < n; ++i)
    d[i] = start + float(i);
  return d;
}

inline void expectNear(const Data &actual, const std::vector<double> &expected,
                       double tol = 1e-5) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], tol * std::max(1.0, std::fabs(expected[i])))
        << "at index " << i;
}

inline void expectNearData(const Data &actual, const Data &expected, double tol = 1e-5) {
  expectNear(actual, std::vector<double>(expected.begin(), expected.end()), tol);
}

/// Expects createReferenceKernel(desc) to throw an Error whose message
/// starts with the layer prefix and contains `fragment`.
inline void expectCreateError(const KernelDesc &desc, const std::string &fragment) {
  try {
    createReferenceKernel(desc);
    ADD_FAILURE() << "expected an Error containing '" << fragment << "'";
  } catch (const Error &e) {
    std::string msg = e.what();
    std::string prefix = "layer '" + desc.layer + "' (" + desc.op + "): ";
    EXPECT_EQ(msg.compare(0, prefix.size(), prefix), 0) << msg;
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
  }
}

} // namespace dlc::rt::test

#endif // DLC_UNITTESTS_RUNTIME_REFERENCE_REFTESTUTIL_H

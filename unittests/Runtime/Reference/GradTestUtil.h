//===- GradTestUtil.h - Finite-difference checks of <op>_grad ---*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// checkGradients(fwd, inputs, wrt) verifies the reference `<op>_grad` kernel
// of a forward description against central finite differences of the
// reference forward kernel:
//   - a random projection r of the forward results defines the objective
//     f = sum_k <r_k, y_k> (accumulated in double); r is fed to the gradient
//     kernel as the result gradients;
//   - for every wrt operand and a sample of its elements (all when small),
//     df/dx ~ (f(x + eps) - f(x - eps)) / (x+eps - x-eps) with the step taken
//     in float (the exact float difference is the denominator);
//   - the analytic value must agree within tol * max(|numeric|, 5% of the
//     largest gradient entry of that operand);
//   - every output element must be written (the outputs start as NaN), and
//     computing one wrt operand at a time gives the same values.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_UNITTESTS_RUNTIME_REFERENCE_GRADTESTUTIL_H
#define DLC_UNITTESTS_RUNTIME_REFERENCE_GRADTESTUTIL_H

#include "RefTestUtil.h"

#include <algorithm>
#include <numeric>

namespace dlc::rt::test {

/// The `<op>_grad` description of `fwd` for the operands `wrt`.
inline KernelDesc gradDesc(const KernelDesc &fwd, const std::vector<int64_t> &wrt) {
  KernelDesc g;
  g.op = fwd.op + "_grad";
  g.layer = fwd.layer;
  g.attrs = fwd.attrs;
  g.attrs.set("wrt", wrt);
  if (const ops::OpSchema *schema = ops::lookupOp(fwd.op);
      schema && ops::backwardNeedsOperandCount(*schema))
    g.attrs.set("num_forward_operands", int64_t(fwd.inputs.size()));
  g.inputs = fwd.inputs;
  g.inputs.insert(g.inputs.end(), fwd.outputs.begin(), fwd.outputs.end());
  g.inputs.insert(g.inputs.end(), fwd.outputs.begin(), fwd.outputs.end());
  for (int64_t i : wrt)
    g.outputs.push_back(fwd.inputs.at(i));
  g.isParam = fwd.isParam;
  g.isParam.resize(g.inputs.size(), false);
  return g;
}

/// Runs the forward kernel and then the gradient kernel with result
/// gradients `dys`; returns the gradients of the `wrt` operands.
inline std::vector<Data> runGrad(const KernelDesc &fwd, const std::vector<Data> &inputs,
                                 const std::vector<int64_t> &wrt,
                                 const std::vector<Data> &dys) {
  std::vector<Data> ys = runRef(fwd, inputs);
  std::vector<Data> gin = inputs;
  gin.insert(gin.end(), ys.begin(), ys.end());
  gin.insert(gin.end(), dys.begin(), dys.end());
  return runRef(gradDesc(fwd, wrt), gin);
}

struct GradOptions {
  double eps = 1e-2;
  double tol = 3e-3;
  /// Elements probed per operand (all of them when the operand is smaller).
  size_t maxProbes = 48;
  unsigned seed = 7;
  /// An all-zero gradient is accepted (otherwise it is a failure: a test that
  /// cannot tell a kernel writing zeros from a correct one proves nothing).
  bool allowZero = false;
};

inline void checkGradients(const KernelDesc &fwd, std::vector<Data> inputs,
                           const std::vector<int64_t> &wrt, GradOptions opt = {}) {
  SCOPED_TRACE("op " + fwd.op);
  std::unique_ptr<Kernel> fk = createReferenceKernel(fwd);
  std::vector<Data> r;
  for (size_t k = 0; k < fwd.outputs.size(); ++k)
    r.push_back(randomData(numElements(fwd.outputs[k]), opt.seed + 100 + unsigned(k)));
  std::vector<Data> ys;
  for (const Shape &s : fwd.outputs)
    ys.emplace_back(numElements(s));
  auto objective = [&]() {
    std::vector<const float *> in;
    for (const Data &d : inputs)
      in.push_back(d.data());
    std::vector<float *> out;
    for (Data &y : ys)
      out.push_back(y.data());
    fk->forward(in.data(), out.data());
    double f = 0.0;
    for (size_t k = 0; k < ys.size(); ++k)
      for (size_t i = 0; i < ys[k].size(); ++i)
        f += double(r[k][i]) * double(ys[k][i]);
    return f;
  };

  std::vector<Data> grads = runGrad(fwd, inputs, wrt, r);
  ASSERT_EQ(grads.size(), wrt.size());
  std::mt19937 gen(opt.seed);
  for (size_t k = 0; k < wrt.size(); ++k) {
    int64_t op = wrt[k];
    SCOPED_TRACE("gradient of operand " + std::to_string(op));
    const Data &g = grads[k];
    double gmax = 0.0;
    for (float v : g) {
      ASSERT_TRUE(std::isfinite(v)) << "gradient element not written or not finite";
      gmax = std::max(gmax, double(std::fabs(v)));
    }
    if (!opt.allowZero) {
      EXPECT_GT(gmax, 0.0) << "the gradient is identically zero";
    }

    // One operand at a time gives the same values.
    std::vector<Data> single = runGrad(fwd, inputs, {op}, r);
    ASSERT_EQ(single.size(), 1u);
    EXPECT_EQ(single[0], g) << "wrt = [" << op << "] differs from the combined kernel";

    std::vector<size_t> idx(g.size());
    std::iota(idx.begin(), idx.end(), 0);
    if (idx.size() > opt.maxProbes) {
      std::shuffle(idx.begin(), idx.end(), gen);
      idx.resize(opt.maxProbes);
    }
    Data &x = inputs[op];
    for (size_t i : idx) {
      float x0 = x[i];
      float xp = static_cast<float>(x0 + opt.eps), xm = static_cast<float>(x0 - opt.eps);
      x[i] = xp;
      double fp = objective();
      x[i] = xm;
      double fm = objective();
      x[i] = x0;
      double numeric = (fp - fm) / (double(xp) - double(xm));
      double bound = opt.tol * std::max(std::fabs(numeric), 0.05 * gmax) + 1e-6;
      EXPECT_NEAR(g[i], numeric, bound) << "element " << i << " (x = " << x0 << ")";
    }
  }
}

/// Values in +-[margin, 1], signs random: away from the kinks of relu,
/// abs_val, prelu.
inline Data awayFromZero(int64_t n, unsigned seed, float margin = 0.1f) {
  Data d = randomData(n, seed);
  for (float &v : d)
    v = (v < 0 ? -1.0f : 1.0f) * (margin + (1.0f - margin) * std::fabs(v));
  return d;
}

/// A random permutation of {(i - n/2) * spacing}: all distinct, pairwise at
/// least `spacing` apart (no ties for max pooling / eltwise max).
inline Data distinctValues(int64_t n, unsigned seed, float spacing = 0.05f) {
  Data d(n);
  for (int64_t i = 0; i < n; ++i)
    d[i] = float(i - n / 2) * spacing;
  std::mt19937 gen(seed);
  std::shuffle(d.begin(), d.end(), gen);
  return d;
}

} // namespace dlc::rt::test

#endif // DLC_UNITTESTS_RUNTIME_REFERENCE_GRADTESTUTIL_H

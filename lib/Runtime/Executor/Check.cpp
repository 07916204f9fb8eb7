//===- Check.cpp - Optimized against reference; default inputs --------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Executor.h"
#include "dlc/Ops/ConvAlgorithms.h"
#include "dlc/Ops/Layout.h"

#include <algorithm>
#include <cmath>

using namespace dlc::rt;
namespace pb = dlc::module;

//===----------------------------------------------------------------------===//
// Checking
//===----------------------------------------------------------------------===//

BlobCheck dlc::rt::compareBlob(const std::string &name, const float *a, const float *b, int64_t n,
                               double tolerance) {
  BlobCheck c;
  c.name = name;
  c.elements = n;
  double scale = 0;
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(b[i]))
      scale = std::max(scale, double(std::fabs(b[i])));
  if (scale == 0)
    scale = 1;
  for (int64_t i = 0; i < n; ++i) {
    double x = a[i], y = b[i];
    double absErr, relErr;
    if (std::isnan(x) || std::isnan(y) || std::isinf(x) || std::isinf(y)) {
      bool same = (std::isnan(x) && std::isnan(y)) || x == y;
      absErr = relErr = same ? 0.0 : INFINITY;
    } else {
      absErr = std::fabs(x - y);
      relErr = absErr / std::max(std::fabs(y), 1e-2 * scale);
    }
    if (absErr > c.maxAbs)
      c.maxAbs = absErr;
    if (c.worstIndex < 0 || relErr > c.maxRel) {
      c.worstIndex = i;
      c.maxRel = relErr;
    }
  }
  c.scale = scale;
  c.pass = c.maxRel <= tolerance;
  return c;
}

void dlc::rt::applyConvAlgorithmBound(BlobCheck &c, std::string_view algorithm,
                                      double tolerance) {
  const ops::ConvAlgorithmInfo *alg = ops::findConvAlgorithm(algorithm);
  // The bound is relative to max |b|, and the relative error's floor is
  // 1e-2 * max |b|: a bound no looser than the tolerance in those units
  // changes nothing.
  if (!alg || alg->tolerance * 1e2 <= tolerance)
    return;
  c.algorithm = std::string(alg->name);
  c.algorithmBound = alg->tolerance;
  if (!c.pass && c.maxAbs <= alg->tolerance * c.scale)
    c.pass = true;
}

const char *dlc::rt::checkModeName(CheckMode mode) {
  return mode == CheckMode::PerKernel ? "per-kernel" : "end-to-end";
}

CheckResult dlc::rt::checkAgainstReference(Executor &optimized, Executor &reference,
                                           double tolerance, std::optional<Entry> entry,
                                           CheckMode mode) {
  const LoadedModule &mod = optimized.module();
  if (optimized.numTensors() != reference.numTensors() ||
      optimized.numKernels() != reference.numKernels() ||
      optimized.numForwardKernels() != reference.numForwardKernels())
    throw Error("check: the two executors run different modules");
  const Entry e = entry ? *entry : optimized.hasGradient() ? Entry::Gradient : Entry::Forward;
  const int K = optimized.numKernels(e); // throws for a missing gradient entry
  const pb::Module &m = mod.header;
  for (int t : optimized.inputs()) {
    const float *src = optimized.tensorData(t);
    std::copy(src, src + optimized.tensorElements(t), reference.tensorData(t));
  }
  for (const pb::Param &p : m.params()) {
    const float *src = optimized.tensorData(p.tensor());
    reference.setParam(p.tensor(),
                       std::vector<float>(src, src + optimized.tensorElements(p.tensor())));
  }
  // `feed`: after each reference kernel, replace what it wrote by the
  // optimized values, so the next kernels read those (per-kernel mode).
  auto snapshot = [&](Executor &ex, const std::vector<std::vector<float>> *feed) {
    std::vector<std::vector<float>> snaps(size_t(ex.numTensors()));
    ex.run(e, [&](int k) {
      for (int out : m.kernels(k).outputs()) {
        float *p = ex.tensorData(out);
        snaps[out].assign(p, p + ex.tensorElements(out));
        if (feed)
          std::copy((*feed)[out].begin(), (*feed)[out].end(), p);
      }
    });
    return snaps;
  };
  std::vector<std::vector<float>> a = snapshot(optimized, nullptr);
  std::vector<std::vector<float>> b =
      snapshot(reference, mode == CheckMode::PerKernel ? &a : nullptr);

  CheckResult r;
  r.entry = e;
  r.mode = mode;
  r.tolerance = tolerance;
  for (int k = 0; k < K; ++k)
    for (int out : m.kernels(k).outputs()) {
      BlobCheck c;
      if (a[out].size() == b[out].size()) {
        c = compareBlob(m.tensors(out).name(), a[out].data(), b[out].data(),
                        int64_t(a[out].size()), tolerance);
      } else {
        // A run-time size that differs between the two executors.
        c.name = m.tensors(out).name();
        c.elements = int64_t(a[out].size());
        c.maxAbs = c.maxRel = INFINITY;
        c.pass = false;
      }
      // Both executors store the blob in its layout; report Caffe's index.
      if (c.worstIndex >= 0 && m.tensors(out).block())
        c.worstIndex = ops::plainIndex(optimized.tensorShape(out), m.tensors(out).block(),
                                       c.worstIndex);
      c.layer = m.kernels(k).layer();
      const KernelInfo &info = optimized.kernelInfo(k);
      c.role = info.role;
      applyConvAlgorithmBound(c, info.convAlgorithm, tolerance);
      if (!c.pass) {
        r.pass = false;
        ++r.failures;
      }
      r.blobs.push_back(std::move(c));
    }
  return r;
}

//===----------------------------------------------------------------------===//
// Default inputs
//===----------------------------------------------------------------------===//

std::vector<InputFill> dlc::rt::fillDefaultInputs(Executor &ex, uint64_t seed,
                                                  const std::vector<std::string> &skip) {
  const pb::Module &m = ex.module().header;
  std::vector<InputFill> fills;
  for (int t : ex.inputs()) {
    const std::string &name = ex.tensorName(t);
    if (std::find(skip.begin(), skip.end(), name) != skip.end())
      continue;
    // What the input is, as the compiler recorded it from the operand roles
    // of the ops it feeds (docs/dialect.md, "Operand roles").
    const pb::Tensor &tensor = m.tensors(t);
    Random rng(streamSeed(seed, "input:" + name));
    float *p = ex.tensorData(t);
    const int64_t n = ex.tensorElements(t);
    InputFill fill{name, ""};
    switch (tensor.role()) {
    case pb::Tensor::DATA:
      for (int64_t i = 0; i < n; ++i)
        p[i] = float(rng.uniform(-1.0, 1.0));
      fill.how = "uniform[-1,1)";
      break;
    case pb::Tensor::LABEL:
    case pb::Tensor::INDEX: {
      int64_t classes = tensor.value_range();
      for (int64_t i = 0; i < n; ++i)
        p[i] = float(std::min<int64_t>(classes - 1, int64_t(rng.uniform() * double(classes))));
      fill.how = "integers in [0," + std::to_string(classes) + ")";
      break;
    }
    case pb::Tensor::BINARY:
      for (int64_t i = 0; i < n; ++i)
        p[i] = rng.uniform() < 0.5 ? 0.0f : 1.0f;
      fill.how = "binary {0,1}";
      break;
    case pb::Tensor::CONT: {
      const Shape &s = ex.tensorShape(t);
      int64_t perStep = s.empty() || s[0] == 0 ? n : n / s[0];
      for (int64_t i = 0; i < n; ++i)
        p[i] = i < perStep ? 0.0f : 1.0f;
      fill.how = "sequence continuation (0 at t=0, then 1)";
      break;
    }
    case pb::Tensor::MASK: {
      // A padded batch: lengths uniform in [T/5, T], the first one T.
      const Shape &s = ex.tensorShape(t);
      const int64_t T = s.empty() ? 1 : s[0], N = T > 0 ? n / T : 0;
      for (int64_t j = 0; j < N; ++j) {
        int64_t lo = std::max<int64_t>(1, T / 5);
        int64_t len = j == 0 ? T : lo + std::min<int64_t>(T - lo, int64_t(rng.uniform() * double(T - lo + 1)));
        for (int64_t i = 0; i < T; ++i)
          p[i * N + j] = i < len ? float(1.0 / double(len)) : 0.0f;
      }
      fill.how = "sequence mask (1/length, lengths uniform in [T/5, T])";
      break;
    }
    }
    fills.push_back(fill);
  }
  return fills;
}

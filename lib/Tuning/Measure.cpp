//===- Measure.cpp - Running convolution kernels for the tuner ------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A problem is timed through the very kernels dlrun creates: the oneDNN
// backend's convolution factories with "impl" set to the algorithm, on the
// problem's shapes and activation layout, with random inputs.
//
//===----------------------------------------------------------------------===//
#include "Measure.h"

#include "dlc/Ops/Layout.h"
#include "dlc/Runtime/Dnnl.h"
#include "dlc/Runtime/Kernel.h"

#include <dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <random>

namespace dlc::tuning {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

using rt::KernelDesc;
using rt::Shape;

rt::DnnlContext &context() {
  static std::shared_ptr<rt::DnnlContext> ctx = rt::createDnnlContext();
  return *ctx;
}

int64_t count(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

/// The forward description of the problem's layer (with a bias: the weight
/// gradient then also reduces it, as most layers do).
KernelDesc forwardDesc(const ops::ConvProblem &p) {
  const ops::ConvGeometry &g = p.geometry;
  KernelDesc d;
  d.op = "convolution";
  d.layer = p.layer.empty() ? "tuned" : p.layer;
  d.attrs.set("num_output", g.numOutput);
  d.attrs.set("kernel", g.kernel);
  d.attrs.set("stride", g.stride);
  d.attrs.set("pad", g.pad);
  d.attrs.set("dilation", g.dilation);
  d.attrs.set("group", g.group);
  Shape x{g.batch, g.channels};
  x.insert(x.end(), g.input.begin(), g.input.end());
  d.inputs = {x, g.weightShape(), Shape{g.numOutput}};
  d.isParam = {false, true, true};
  d.outputs = {g.outputShape()};
  auto blockOf = [&](int64_t channels) {
    return p.block && channels % p.block == 0 && g.numSpatial() == 2 ? p.block : 0;
  };
  d.inBlocks = {blockOf(g.channels), 0, 0};
  d.outBlocks = {blockOf(g.numOutput)};
  return d;
}

KernelDesc problemDesc(const ops::ConvProblem &p, const std::string &algorithm) {
  KernelDesc f = forwardDesc(p);
  f.attrs.set("impl", algorithm);
  if (p.direction == ops::ConvDirection::Forward)
    return f;
  KernelDesc d = f;
  d.op = "convolution_grad";
  const bool data = p.direction == ops::ConvDirection::BackwardData;
  d.attrs.set("wrt", data ? std::vector<int64_t>{0} : std::vector<int64_t>{1, 2});
  d.inputs.push_back(f.outputs[0]); // y
  d.inputs.push_back(f.outputs[0]); // dy
  d.isParam = {false, true, true, false, false};
  d.inBlocks = {f.inBlocks[0], 0, 0, f.outBlocks[0], f.outBlocks[0]};
  if (data) {
    d.outputs = {f.inputs[0]};
    d.outBlocks = {f.inBlocks[0]};
  } else {
    d.outputs = {f.inputs[1], f.inputs[2]};
    d.outBlocks = {0, 0};
  }
  return d;
}

} // namespace

struct ProblemBench::Impl {
  ops::ConvProblem problem;
  std::vector<std::vector<float>> in;
  std::map<std::string, std::unique_ptr<rt::Kernel>> kernels;
  std::map<std::string, std::vector<std::vector<float>>> outs;

  rt::Kernel &kernel(const std::string &algorithm) {
    auto it = kernels.find(algorithm);
    if (it != kernels.end())
      return *it->second;
    KernelDesc d = problemDesc(problem, algorithm);
    if (in.empty()) {
      std::mt19937 gen(42);
      std::uniform_real_distribution<float> u(-1.f, 1.f);
      for (const Shape &s : d.inputs) {
        std::vector<float> v(size_t(count(s)));
        for (float &x : v)
          x = u(gen);
        in.push_back(std::move(v));
      }
    }
    std::vector<std::vector<float>> o;
    for (const Shape &s : d.outputs)
      o.emplace_back(size_t(count(s)), 0.f);
    outs[algorithm] = std::move(o);
    auto k = rt::createDnnlKernel(d, context());
    return *(kernels[algorithm] = std::move(k));
  }

  void run(const std::string &algorithm) {
    rt::Kernel &k = kernel(algorithm);
    std::vector<const float *> ip;
    for (auto &v : in)
      ip.push_back(v.data());
    std::vector<float *> op;
    for (auto &v : outs[algorithm])
      op.push_back(v.data());
    k.forward(ip.data(), op.data());
  }
};

ProblemBench::ProblemBench(const ops::ConvProblem &p) : impl_(std::make_unique<Impl>()) {
  impl_->problem = p;
}
ProblemBench::~ProblemBench() = default;

double ProblemBench::time(const std::string &algorithm, double maxSeconds) {
  impl_->run(algorithm); // warm-up: primitive caches, weight transforms
  std::vector<double> t;
  const double start = now();
  while (t.size() < 7) {
    double t0 = now();
    impl_->run(algorithm);
    t.push_back(now() - t0);
    if (t.size() >= 3 && now() - start > maxSeconds)
      break;
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double ProblemBench::maxError(const std::string &algorithm) {
  if (!impl_->outs.count("direct"))
    impl_->run("direct");
  impl_->run(algorithm);
  const auto &ref = impl_->outs["direct"], &got = impl_->outs[algorithm];
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    double scale = 0, err = 0;
    for (size_t j = 0; j < ref[i].size(); ++j) {
      scale = std::max(scale, double(std::fabs(ref[i][j])));
      err = std::max(err, double(std::fabs(ref[i][j] - got[i][j])));
    }
    if (std::isnan(err))
      return INFINITY;
    worst = std::max(worst, scale > 0 ? err / scale : err);
  }
  return worst;
}

namespace {

template <typename F> double best(int reps, F f) {
  double b = 1e30;
  for (int r = 0; r < reps; ++r) {
    double t0 = now();
    f();
    b = std::min(b, now() - t0);
  }
  return b;
}

} // namespace

ops::MachineRates measureMachineRates() {
  ops::MachineRates r;
  r.source = "measured";
  { // SGEMM 768^3
    const int64_t n = 768;
    std::vector<float> a(size_t(n * n), 0.5f), b(size_t(n * n), 0.25f), c(size_t(n * n));
    double s = best(4, [&] {
      dnnl_sgemm('N', 'N', n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n);
    });
    r.gemmGflops = 2.0 * double(n) * n * n / s / 1e9;
  }
  { // y = a x + y on cache-resident data, all threads
    const int64_t n = 1 << 14;
    const int reps = 200;
    std::vector<float> x(size_t(n) * 8, 1.f), y(size_t(n) * 8, 0.f);
    double s = best(3, [&] {
#pragma omp parallel for
      for (int64_t part = 0; part < 8; ++part) {
        float *yp = y.data() + part * n;
        const float *xp = x.data() + part * n;
        for (int rep = 0; rep < reps; ++rep)
          for (int64_t i = 0; i < n; ++i)
            yp[i] = 0.999f * yp[i] + xp[i];
      }
    });
    r.vectorGflops = 2.0 * double(n) * 8 * reps / s / 1e9;
  }
  { // copy bandwidth, 32 MiB each way
    const int64_t n = int64_t(8) << 20;
    std::vector<float> a(size_t(n), 1.f), b(size_t(n), 0.f);
    double s = best(3, [&] {
#pragma omp parallel for
      for (int64_t part = 0; part < 16; ++part)
        std::memcpy(b.data() + part * (n / 16), a.data() + part * (n / 16),
                    size_t(n / 16) * sizeof(float));
    });
    r.bandwidthGBs = 2.0 * 4.0 * double(n) / s / 1e9;
  }
  // Direct convolution on a mid-sized 3x3 layer, relative to SGEMM, and
  // whether oneDNN has a Winograd kernel here.
  ops::ConvProblem p;
  p.layer = "machine-probe";
  const Shape x{8, 64, 28, 28};
  if (!ops::convGeometry(false, 64, {3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, ops::Arg::of(x),
                         ops::Arg::unknown(), ops::Arg(), p.geometry)
           .ok())
    return r;
  try {
    ProblemBench bench(p);
    double s = bench.time("direct", 0.2);
    double flops = 2.0 * 8 * 64 * 28 * 28 * 64 * 9;
    r.directEfficiency = std::clamp(flops / s / 1e9 / r.gemmGflops, 0.05, 2.0);
  } catch (...) {
  }
  try {
    ProblemBench bench(p);
    bench.time("onednn-winograd", 0.01);
    r.onednnWinograd = true;
  } catch (...) {
    r.onednnWinograd = false;
  }
  // Calibration: every applicable algorithm on a few fixed problems in the
  // channel-blocked layout the compiler picks here and in the plain one
  // (layers whose channels do not fill the blocks), measured against the
  // model.
  const int block = dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core ? 16 : 8;
  std::vector<ops::ConvProblem> problems = ops::convCalibrationProblems(block);
  for (const ops::ConvProblem &c : ops::convCalibrationProblems(0))
    problems.push_back(c);
  for (const ops::ConvProblem &c : problems) {
    ProblemBench bench(c);
    for (const ops::ConvCandidate &cand : ops::convCandidates(c, r)) {
      if (!cand.whyNot.empty())
        continue;
      try {
        const double measured = bench.time(cand.algorithm, 0.05);
        const double model = ops::analyticSeconds(cand.algorithm, cand.work, r);
        if (measured > 0 && model > 0)
          r.calibration.push_back({cand.algorithm, c.direction,
                                   ops::convCalibrationChannels(c), measured / model,
                                   ops::isNarrowConv(c), c.block == 0});
      } catch (...) {
        // The kernel cannot run here: the model keeps its estimate.
      }
    }
  }
  return r;
}

std::string isaName() {
  switch (dnnl::get_effective_cpu_isa()) {
  case dnnl::cpu_isa::sse41:
    return "sse41";
  case dnnl::cpu_isa::avx:
    return "avx";
  case dnnl::cpu_isa::avx2:
    return "avx2";
  case dnnl::cpu_isa::avx2_vnni:
    return "avx2_vnni";
  case dnnl::cpu_isa::avx512_core:
    return "avx512_core";
  case dnnl::cpu_isa::avx512_core_vnni:
    return "avx512_core_vnni";
  case dnnl::cpu_isa::avx512_core_bf16:
    return "avx512_core_bf16";
  case dnnl::cpu_isa::avx512_core_amx:
    return "avx512_core_amx";
  default:
    return "isa" + std::to_string(int(dnnl::get_effective_cpu_isa()));
  }
}

std::string onednnVersion() {
  const dnnl_version_t *v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch);
}

} // namespace dlc::tuning

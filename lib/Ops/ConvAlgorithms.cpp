//===- ConvAlgorithms.cpp - The convolution algorithm catalog -------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// direct and onednn-winograd are oneDNN's; gemm is im2col + SGEMM
// (lib/Runtime/Dnnl/Conv*.cpp); fft and winograd2/4 are dlc's own, whose
// plans live in Fft.cpp and Winograd.cpp. The cost model is deliberately
// simple (docs/convolution.md): GEMM flops at the machine's SGEMM rate
// scaled down for small GEMMs, other flops at its vector rate, bytes at its
// bandwidth, plus a per-call overhead.
//
//===----------------------------------------------------------------------===//
#include "dlc/Ops/ConvAlgorithms.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace dlc::ops {

const char *convDirectionName(ConvDirection d) {
  switch (d) {
  case ConvDirection::Forward:
    return "forward";
  case ConvDirection::BackwardData:
    return "backward-data";
  case ConvDirection::BackwardWeights:
    return "backward-weights";
  }
  return "?";
}

std::optional<ConvDirection> parseConvDirection(std::string_view name) {
  for (ConvDirection d : kConvDirections)
    if (name == convDirectionName(d))
      return d;
  return std::nullopt;
}

std::string ConvProblem::shapeKey() const {
  const ConvGeometry &g = geometry;
  std::ostringstream os;
  os << convDirectionName(direction) << " n" << g.batch << " c" << g.channels << " k"
     << g.numOutput << " g" << g.group;
  auto list = [&](const char *tag, const std::vector<int64_t> &v) {
    os << ' ' << tag;
    for (size_t i = 0; i < v.size(); ++i)
      os << (i ? "x" : "") << v[i];
  };
  list("in", g.input);
  list("k", g.kernel);
  list("s", g.stride);
  list("p", g.pad);
  list("d", g.dilation);
  os << " b" << block;
  if (fusedPostOps)
    os << " post" << fusedPostOps;
  return os.str();
}

ConvCostOracle::~ConvCostOracle() = default;

namespace {

std::string common(const ConvProblem &p) {
  if (p.geometry.deconv)
    return "it is a deconvolution";
  if (p.geometry.numSpatial() != 2)
    return "it has " + std::to_string(p.geometry.numSpatial()) + " spatial axes (needs 2)";
  return "";
}

/// Multiply-adds of the convolution itself, the same in every direction.
double macs(const ConvGeometry &g) {
  return double(g.batch) * double(g.numOutput) * double(numElements(g.output)) *
         double(g.channels / g.group) * double(numElements(g.kernel));
}

/// Bytes of the tensors a direction reads and writes.
double tensorBytes(const ConvProblem &p) {
  const ConvGeometry &g = p.geometry;
  double x = double(g.batch) * double(g.channels) * double(numElements(g.input));
  double y = double(g.batch) * double(g.numOutput) * double(numElements(g.output));
  double w = double(g.numOutput) * double(g.channels / g.group) * double(numElements(g.kernel));
  return 4.0 * (x + y + w);
}

std::string noReason(const ConvProblem &p, const MachineRates &) { return common(p); }

ConvWork directWork(const ConvProblem &p) {
  const ConvGeometry &g = p.geometry;
  ConvWork w;
  w.gemmFlops = 2 * macs(g);
  // Small channel counts leave the JIT kernel's vector lanes and registers
  // idle, as they do a GEMM's.
  w.gemmMinDim =
      double(std::min(g.channels / g.group * numElements(g.kernel), g.numOutput / g.group));
  w.gemmCalls = 1;
  w.bytes = tensorBytes(p);
  return w;
}

ConvWork gemmWork(const ConvProblem &p) { return gemmPlan(p).work; }

/// Why `g` is not a stride-1, undilated, ungrouped convolution, or "".
std::string notDenseStride1(const ConvGeometry &g) {
  if (g.stride[0] != 1 || g.stride[1] != 1)
    return "the stride is not 1";
  if (g.dilation[0] != 1 || g.dilation[1] != 1)
    return "the convolution is dilated";
  if (g.group != 1)
    return "the convolution is grouped";
  return "";
}

std::string onednnWinogradWhyNot(const ConvProblem &p, const MachineRates &m) {
  std::string why = common(p);
  if (!why.empty())
    return why;
  const ConvGeometry &g = p.geometry;
  if (g.kernel[0] != 3 || g.kernel[1] != 3)
    return "the kernel is " + std::to_string(g.kernel[0]) + "x" + std::to_string(g.kernel[1]) +
           " (oneDNN's Winograd needs 3x3)";
  if (why = notDenseStride1(g); !why.empty())
    return why;
  if (!m.onednnWinograd)
    return "oneDNN 2.6 has no Winograd convolution on this machine";
  return "";
}

ConvWork onednnWinogradWork(const ConvProblem &p) {
  ConvWork w = directWork(p);
  // F(4x4,3x3): 2.25x fewer multiplies than direct, plus transforms.
  w.gemmFlops /= 2.25;
  w.otherFlops = 2 * tensorBytes(p);
  w.bytes = 3 * tensorBytes(p);
  return w;
}

std::string winogradWhyNot(const ConvProblem &p, int m) {
  std::string why = common(p);
  return why.empty() ? winogradPlan(p, m).whyNot : why;
}
std::string winograd2WhyNot(const ConvProblem &p, const MachineRates &) {
  return winogradWhyNot(p, 2);
}
std::string winograd4WhyNot(const ConvProblem &p, const MachineRates &) {
  return winogradWhyNot(p, 4);
}
ConvWork winograd2Work(const ConvProblem &p) { return winogradPlan(p, 2).work; }
ConvWork winograd4Work(const ConvProblem &p) { return winogradPlan(p, 4).work; }

std::string fftWhyNot(const ConvProblem &p, const MachineRates &) {
  std::string why = common(p);
  return why.empty() ? fftPlan(p).whyNot : why;
}
ConvWork fftWork(const ConvProblem &p) { return fftPlan(p).work; }

std::string slidingWhyNot(const ConvProblem &p, const MachineRates &) {
  std::string why = common(p);
  if (!why.empty())
    return why;
  const ConvGeometry &g = p.geometry;
  if (p.direction == ConvDirection::BackwardData)
    return "sliding computes the forward and backward-weights only";
  if (why = notDenseStride1(g); !why.empty())
    return why;
  if (g.channels > kSlidingMaxChannels)
    return "it has " + std::to_string(g.channels) + " input channels (sliding is for at most " +
           std::to_string(kSlidingMaxChannels) + ")";
  return "";
}

ConvWork slidingWork(const ConvProblem &p) { return slidingPlan(p).work; }

} // namespace

GemmPlan gemmPlan(const ConvProblem &p) {
  const ConvGeometry &g = p.geometry;
  GemmPlan plan;
  plan.kdim = g.channels / g.group * numElements(g.kernel);
  plan.pixels = numElements(g.output);
  const bool plain1x1 = numElements(g.kernel) == 1 && numElements(g.stride) == 1 &&
                        std::all_of(g.pad.begin(), g.pad.end(), [](int64_t x) { return x == 0; });
  plan.noIm2col = plain1x1 && p.direction != ConvDirection::BackwardWeights;
  ConvWork &w = plan.work;
  w.gemmFlops = 2 * macs(g);
  w.bytes = tensorBytes(p);
  if (p.direction == ConvDirection::BackwardWeights)
    w.otherFlops += double(g.batch) * double(g.numOutput) * double(plan.pixels); // bias sum
  // The im2col kernels run on plain data: blocked tensors are reordered.
  if (p.block)
    w.bytes += 2 * tensorBytes(p);
  if (plan.noIm2col) {
    w.gemmMinDim = double(std::min({plan.kdim, g.numOutput / g.group, plan.pixels}));
    w.gemmCalls = double(g.batch * g.group);
    return plan;
  }
  // Per image: its columns and its staged output (input) gradient.
  const int64_t colPerImage = g.group * plan.kdim * plan.pixels;
  const int64_t perImage = colPerImage + g.numOutput * plan.pixels;
  plan.chunk = std::clamp<int64_t>(kGemmChunkBytes / (4 * std::max<int64_t>(perImage, 1)), 1,
                                   std::max<int64_t>(g.batch, 1));
  const bool weights = p.direction == ConvDirection::BackwardWeights;
  plan.colFloats = colPerImage * plan.chunk;
  plan.stageFloats = plan.chunk > 1 ? g.numOutput * plan.pixels * plan.chunk : 0;
  plan.accFloats = weights ? g.numOutput * plan.kdim : 0;
  const int64_t chunks = (g.batch + plan.chunk - 1) / plan.chunk;
  w.gemmMinDim =
      double(std::min({plan.kdim, g.numOutput / g.group, plan.chunk * plan.pixels}));
  w.gemmCalls = double(chunks * g.group);
  const double col = double(g.batch) * double(colPerImage);
  w.bytes += 4.0 * 2 * col;
  w.otherFlops += col;
  if (plan.stageFloats) // y or dy copied through the staging buffer
    w.bytes += 4.0 * 2 * double(g.batch) * double(g.numOutput) * double(plan.pixels);
  w.workspaceBytes = 4 * (plan.colFloats + plan.stageFloats + plan.accFloats);
  return plan;
}

SlidingPlan slidingPlan(const ConvProblem &p) {
  const ConvGeometry &g = p.geometry;
  SlidingPlan plan;
  const int64_t block = kSlidingLanes * kSlidingVectors;
  const int64_t kh = g.kernel[0], kw = g.kernel[1], oh = g.output[0];
  plan.rowWidth = g.input[1] + 2 * g.pad[1];
  plan.positions = (oh * plan.rowWidth + block - 1) / block * block;
  plan.segment = std::min<int64_t>(plan.positions, 16 * block);
  // Rows [0, H + 2 ph) of the padded plane, then what the last block's
  // farthest tap reads past them.
  plan.planeFloats = std::max((g.input[0] + 2 * g.pad[0]) * plan.rowWidth,
                              plan.positions + (kh - 1) * plan.rowWidth + kw - 1);
  plan.taps = g.channels * kh * kw;
  const bool weights = p.direction == ConvDirection::BackwardWeights;
  plan.tapsPadded = weights ? (plan.taps + kSlidingTapBlock - 1) / kSlidingTapBlock *
                                  kSlidingTapBlock
                            : plan.taps;
  const int64_t image = g.channels * plan.planeFloats;
  plan.workspaceFloats =
      weights ? image + g.numOutput * plan.segment +
                    (g.numOutput * plan.tapsPadded + g.numOutput) * kSlidingLanes
              : image + kSlidingRows * plan.segment;
  ConvWork &w = plan.work;
  // Every wide position, the dropped ones too (and the padded taps of
  // backward-weights), as vector multiply-adds.
  w.gemmFlops = 2.0 * double(g.batch) * double(g.numOutput) * double(plan.positions) *
                double(plan.tapsPadded);
  w.gemmMinDim = 64;
  w.gemmCalls = double(g.batch) * double((plan.positions + plan.segment - 1) / plan.segment);
  // The padded image and the staged rows stay in the core's caches.
  w.bytes = tensorBytes(p);
  if (p.block)
    w.bytes += 2 * tensorBytes(p);
  w.workspaceBytes = 4 * plan.workspaceFloats;
  return plan;
}

const std::vector<ConvAlgorithmInfo> &convAlgorithms() {
  // Tolerances: max |error| / max |output| against float64 on unit-scale
  // random data, with margin (docs/convolution.md has the measured values).
  static const std::vector<ConvAlgorithmInfo> algorithms = {
      {"direct", "oneDNN's direct convolution (JIT kernels on this CPU's ISA)", noReason,
       directWork, 1e-5},
      {"gemm", "im2col (col2im) + SGEMM; 1x1 stride-1 convolutions without im2col", noReason,
       gemmWork, 1e-5},
      {"fft", "dlc's FFT convolution (kissfft; per-frequency complex GEMMs)", fftWhyNot, fftWork,
       1e-4},
      {"winograd2", "dlc's Winograd F(2x2,3x3) (F(3x3,2x2) for the weight gradient)",
       winograd2WhyNot, winograd2Work, 1e-4},
      {"winograd4", "dlc's Winograd F(4x4,3x3) (F(3x3,4x4) for the weight gradient)",
       winograd4WhyNot, winograd4Work, 1e-3},
      {"onednn-winograd", "oneDNN's Winograd convolution", onednnWinogradWhyNot,
       onednnWinogradWork, 1e-3},
      {"sliding", "dlc's direct convolution for few input channels, vectorized over output "
                  "positions",
       slidingWhyNot, slidingWork, 1e-5},
  };
  return algorithms;
}

const ConvAlgorithmInfo *findConvAlgorithm(std::string_view name) {
  if (name == "winograd")
    name = "winograd4";
  for (const ConvAlgorithmInfo &a : convAlgorithms())
    if (a.name == name)
      return &a;
  return nullptr;
}

std::string convAlgorithmNames() {
  std::string s;
  for (const ConvAlgorithmInfo &a : convAlgorithms())
    s += (s.empty() ? "" : ", ") + std::string(a.name);
  return s + " (winograd = winograd4)";
}

double estimateSeconds(const ConvWork &w, const MachineRates &r) {
  // A GEMM whose smallest dimension is below ~64 cannot fill the register
  // blocking of an AVX2/AVX-512 SGEMM kernel.
  double eff = std::min(1.0, std::max(w.gemmMinDim, 1.0) / 64.0);
  eff = std::sqrt(eff);
  double s = w.gemmFlops / (r.gemmGflops * 1e9 * eff);
  s += w.otherFlops / (r.vectorGflops * 1e9);
  s += w.bytes / (r.bandwidthGBs * 1e9);
  s += w.gemmCalls * r.callSeconds;
  return s;
}

double analyticSeconds(std::string_view algorithm, const ConvWork &work,
                       const MachineRates &r) {
  ConvWork w = work;
  if ((algorithm == "direct" || algorithm == "onednn-winograd") && r.directEfficiency > 0)
    w.gemmFlops /= r.directEfficiency;
  return estimateSeconds(w, r);
}

std::vector<ConvProblem> convCalibrationProblems(int block) {
  // Batch and image size keep each run at a few milliseconds.
  struct Probe {
    int64_t channels, outputs, kernel, batch, h, w;
  };
  // The narrow one: oneDNN's direct 1x1 kernel at batch 1 with a channel
  // count that is not a multiple of 16 ran 35x slower than a GEMM
  // (models/lstm-imdb.prototxt's sum over time).
  // The few-channel one (a CIFAR net's first layer) is where `sliding`
  // applies.
  static const Probe probes[] = {{3, 16, 3, 16, 32, 32},
                                 {16, 16, 3, 32, 32, 32},
                                 {64, 64, 3, 8, 28, 28},
                                 {256, 256, 3, 4, 14, 14},
                                 {100, 1, 1, 1, 16, 128}};
  std::vector<ConvProblem> out;
  for (const Probe &q : probes) {
    ConvProblem p;
    p.layer = (q.outputs < 8 ? "calibration-narrow-c" : "calibration-c") +
              std::to_string(q.channels);
    p.block = block;
    const Shape x{q.batch, q.channels, q.h, q.w};
    const int64_t pad = q.kernel / 2;
    if (!convGeometry(false, q.outputs, {q.kernel, q.kernel}, {1, 1}, {pad, pad}, {1, 1}, 1,
                      Arg::of(x), Arg::unknown(), Arg(), p.geometry)
             .ok())
      continue;
    for (ConvDirection d : kConvDirections) {
      p.direction = d;
      out.push_back(p);
    }
  }
  return out;
}

double convCalibrationChannels(const ConvProblem &p) {
  const ConvGeometry &g = p.geometry;
  const double g1 = double(std::max<int64_t>(g.group, 1));
  return std::sqrt(double(g.channels) / g1 * double(g.numOutput) / g1);
}

bool isNarrowConv(const ConvProblem &p) {
  const ConvGeometry &g = p.geometry;
  return g.numOutput / std::max<int64_t>(g.group, 1) < 8;
}

double calibrationFactor(const MachineRates &rates, std::string_view algorithm,
                         const ConvProblem &p) {
  std::vector<std::pair<double, double>> pts; // log channels, log factor
  const bool narrow = isNarrowConv(p), plain = p.block == 0;
  // Pass 0: p's kind and layout; 1: its kind; 2: its layout; 3: any.
  for (int pass = 0; pass < 4 && pts.empty(); ++pass)
    for (const ConvCalibration &c : rates.calibration)
      if (c.algorithm == algorithm && c.direction == p.direction && c.channels > 0 &&
          c.factor > 0 && (pass >= 2 || c.narrow == narrow) &&
          (pass % 2 == 1 || c.plain == plain))
        pts.emplace_back(std::log(c.channels), std::log(c.factor));
  if (pts.empty())
    return 1.0;
  std::sort(pts.begin(), pts.end());
  const double x = std::log(std::max(convCalibrationChannels(p), 1.0));
  double y = pts.front().second;
  if (x >= pts.back().first) {
    y = pts.back().second;
  } else {
    for (size_t i = 1; i < pts.size(); ++i) {
      if (x > pts[i].first)
        continue;
      const auto &[x0, y0] = pts[i - 1];
      const auto &[x1, y1] = pts[i];
      y = x <= x0 ? y0 : x1 > x0 ? y0 + (y1 - y0) * (x - x0) / (x1 - x0) : y1;
      break;
    }
  }
  return std::exp(y);
}

std::vector<ConvCandidate> convCandidates(const ConvProblem &p, const MachineRates &m) {
  std::vector<ConvCandidate> out;
  for (const ConvAlgorithmInfo &a : convAlgorithms()) {
    ConvCandidate c;
    c.algorithm = std::string(a.name);
    c.whyNot = a.whyNot(p, m);
    if (c.whyNot.empty()) {
      c.work = a.work(p);
      // A fused forward keeps its post-ops inside oneDNN's direct kernel;
      // any other algorithm runs them as separate passes over the output.
      if (p.direction == ConvDirection::Forward && p.fusedPostOps > 0 && a.name != "direct") {
        const ConvGeometry &g = p.geometry;
        double y = 4.0 * double(g.batch) * double(g.numOutput) * double(numElements(g.output));
        c.work.bytes += 2.0 * y * p.fusedPostOps;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

class CostModelOracle : public ConvCostOracle {
public:
  explicit CostModelOracle(MachineRates r) : rates_(std::move(r)) {
    if (rates_.directEfficiency <= 0)
      rates_.directEfficiency = 0.6;
  }
  std::string evaluate(const ConvProblem &p, std::vector<ConvCandidate> &cs) override {
    for (ConvCandidate &c : cs) {
      if (!c.whyNot.empty())
        continue;
      c.seconds = analyticSeconds(c.algorithm, c.work, rates_) *
                  calibrationFactor(rates_, c.algorithm, p);
      c.source = "model";
    }
    return "";
  }
  std::string describe() const override {
    std::ostringstream os;
    os << "cost model (rates: " << rates_.source << "; SGEMM " << rates_.gemmGflops
       << " GFLOP/s, vector " << rates_.vectorGflops << " GFLOP/s, bandwidth "
       << rates_.bandwidthGBs << " GB/s";
    if (!rates_.calibration.empty())
      os << "; calibrated on " << rates_.calibration.size() << " measurements";
    os << ")";
    return os.str();
  }
  const MachineRates &rates() const override { return rates_; }

private:
  MachineRates rates_;
};

struct TableEntry {
  std::string layer, direction, algorithm;
  double ms;
};

class TableOracle : public ConvCostOracle {
public:
  explicit TableOracle(std::vector<TableEntry> e) : entries_(std::move(e)) {
    rates_.source = "table";
  }
  std::string evaluate(const ConvProblem &p, std::vector<ConvCandidate> &cs) override {
    for (ConvCandidate &c : cs) {
      if (!c.whyNot.empty())
        continue;
      for (const TableEntry &e : entries_) {
        if ((e.layer == "*" || e.layer == p.layer) &&
            (e.direction == "*" || e.direction == convDirectionName(p.direction)) &&
            (e.algorithm == c.algorithm)) {
          c.seconds = e.ms * 1e-3;
          c.source = "table";
          break;
        }
      }
    }
    return "";
  }
  std::string describe() const override { return "cost table given on the command line"; }
  const MachineRates &rates() const override { return rates_; }

private:
  std::vector<TableEntry> entries_;
  MachineRates rates_;
};

} // namespace

std::unique_ptr<ConvCostOracle> createCostModelOracle(const MachineRates &rates) {
  return std::make_unique<CostModelOracle>(rates);
}

std::unique_ptr<ConvCostOracle> createTableOracle(std::string_view table, std::string &error) {
  std::vector<TableEntry> entries;
  size_t pos = 0;
  while (pos <= table.size()) {
    size_t end = table.find(',', pos);
    if (end == std::string_view::npos)
      end = table.size();
    std::string item(table.substr(pos, end - pos));
    pos = end + 1;
    if (item.empty())
      continue;
    size_t eq = item.find('='), s1 = item.find('/'),
           s2 = s1 == std::string::npos ? s1 : item.find('/', s1 + 1);
    if (eq == std::string::npos || s2 == std::string::npos || s2 > eq) {
      error = "cost table entry '" + item + "' is not LAYER/DIRECTION/ALGORITHM=MS";
      return nullptr;
    }
    TableEntry e{item.substr(0, s1), item.substr(s1 + 1, s2 - s1 - 1),
                 item.substr(s2 + 1, eq - s2 - 1), 0};
    if (const ConvAlgorithmInfo *a = findConvAlgorithm(e.algorithm))
      e.algorithm = std::string(a->name);
    else {
      error = "cost table entry '" + item + "': unknown algorithm '" + e.algorithm +
              "' (known: " + convAlgorithmNames() + ")";
      return nullptr;
    }
    if (e.direction != "*" && !parseConvDirection(e.direction)) {
      error = "cost table entry '" + item + "': unknown direction '" + e.direction +
              "' (forward, backward-data, backward-weights or *)";
      return nullptr;
    }
    char *endp = nullptr;
    std::string num = item.substr(eq + 1);
    e.ms = std::strtod(num.c_str(), &endp);
    if (num.empty() || *endp != '\0' || !(e.ms >= 0)) {
      error = "cost table entry '" + item + "': '" + num + "' is not a time in milliseconds";
      return nullptr;
    }
    entries.push_back(std::move(e));
  }
  return std::make_unique<TableOracle>(std::move(entries));
}

} // namespace dlc::ops

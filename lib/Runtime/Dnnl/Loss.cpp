//===- Loss.cpp - Caffe's SoftmaxWithLoss ---------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// softmax_with_loss / softmax_with_loss_grad with the semantics of the
// reference kernels (lib/Runtime/Reference/Loss.cpp): logits viewed as
// [outer, C, inner] around `axis`, one label per position (o, i);
//   loss = loss_weight / normalizer * sum over non-ignored positions of
//          -log(max(p[label], FLT_MIN)),  p = softmax over the C classes,
//   dx   = loss_weight * dloss / normalizer * (p - onehot(label)), 0 at
//          ignored positions.
//
// Per position, in float32 on vectors of 16 (rec::expV, Cephes expf):
// m = max_c x_c, t_c = e^(x_c - m), others = sum_{c != label} t_c in
// float64. Then, in float64, with e_l = exp(x_label - m):
//   -log p[label] = log1p(others / e_l)  (accurate also when p -> 1),
//   p_c = t_c / (others + t_label), p_label - 1 = -others / (others + t_label).
// inner == 1 (the classes of a position contiguous): OpenMP over positions,
// the vector lanes over classes. inner > 1: OpenMP over blocks of 16
// consecutive positions (o, i..i+15), the lanes over those positions (the
// classes of 16 positions are 16 contiguous floats). Each position's result
// depends only on its own values, and the total loss adds the per-position
// losses in position order (fixed blocks of 4096, then the blocks in order),
// so results do not depend on the number of threads.
//
// Labels (dlc/Runtime/Reference/LossLabels.h, shared with the reference) are
// classified inside the parallel loop; the first invalid position in order
// is reported, with the reference's Error, after it. The backward needs the
// count of valid labels (the "valid" normalizer) before it scales, so it
// classifies the labels in a parallel pass of their own first.
//
//===----------------------------------------------------------------------===//

#include "RecurrentUtil.h"
#include "dlc/Ops/Geometry.h"
#include "dlc/Runtime/Reference/LossLabels.h"

#include <cfloat>
#include <cmath>
#include <limits>

namespace dlc::rt {
namespace dnnlk {
namespace {
using namespace rec;

typedef double v16d __attribute__((vector_size(128)));
const vi16 kIota = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

DLC_REC_INLINE v16d widen(v16 v) { return __builtin_convertvector(v, v16d); }

/// The loss of a position whose label probability is below FLT_MIN
/// (Caffe's clamp: -log(max(p, FLT_MIN))).
const double kMaxLoss = -std::log(double(FLT_MIN));

/// -log(max(p_label, FLT_MIN)) from others (the sum of the other classes'
/// e^(x_c - m)) and x_label - m: log1p(others / e^(x_label - m)).
inline double positionLoss(double others, float xl, float m) {
  const double r = std::log1p(others / std::exp(double(xl) - double(m)));
  return std::min(r, kMaxLoss); // NaN stays NaN (std::min returns r)
}

/// One position's classes, contiguous (inner == 1).
struct RowSums {
  float max;     ///< m = max_c x_c
  float tl;      ///< t_label = e^(x_label - m)
  double others; ///< sum over c != label of t_c
};

/// RowSums of x[0, C) for a label l in [0, C); stores every t_c to t[c]
/// unless t is null.
DLC_CPU_CLONES RowSums rowSums(const float *x, int64_t C, int64_t l, float *t) {
  const v16 ninf = splat(-INFINITY);
  v16 mx = ninf;
  int64_t k = 0;
  for (; k + kLanes <= C; k += kLanes) {
    const v16 v = load<true>(x + k, kLanes);
    mx = v > mx ? v : mx; // NaN never wins (as the reference's std::max)
  }
  if (k < C) {
    v16 v = load<false>(x + k, C - k);
    v = kIota < int32_t(C - k) ? v : ninf;
    mx = v > mx ? v : mx;
  }
  float m = mx[0];
  for (int j = 1; j < kLanes; ++j)
    m = mx[j] > m ? mx[j] : m;
  const v16 vm = splat(m);
  v16d acc = {};
  float tl = 0.f;
  k = 0;
  for (; k + kLanes <= C; k += kLanes) {
    v16 e = expV(load<true>(x + k, kLanes) - vm);
    if (t)
      store<true>(t + k, e, kLanes);
    if (uint64_t(l - k) < uint64_t(kLanes)) {
      tl = e[l - k];
      e = kIota == int32_t(l - k) ? splat(0.f) : e;
    }
    acc += widen(e);
  }
  if (k < C) {
    v16 e = expV(load<false>(x + k, C - k) - vm);
    if (t)
      store<false>(t + k, e, C - k);
    if (uint64_t(l - k) < uint64_t(kLanes))
      tl = e[l - k];
    e = ((kIota < int32_t(C - k)) & (kIota != int32_t(l - k))) ? e : splat(0.f);
    acc += widen(e);
  }
  double others = 0.0;
  for (int j = 0; j < kLanes; ++j)
    others += acc[j];
  return {m, tl, others};
}

/// d[0, n) *= s.
struct Scale {
  float *d;
  float s;
  template <bool Full>
  DLC_REC_INLINE void run(int64_t k, int64_t m) const {
    store<Full>(d + k, load<Full>(d + k, m) * s, m);
  }
};
DLC_CPU_CLONES void scaleRow(int64_t n, const Scale &s) { chunks(n, s); }

/// One block of `m` <= 16 consecutive positions when inner > 1: lane j is
/// position j, whose class c is at x[c * inner + j]; cls[j] its class or a
/// negative classOf result. Forward (dx null): loss[j] = its loss (0 when
/// not a class). Backward (loss null): dx (same layout as x) = factor *
/// (p - onehot), 0 for lanes without a class.
struct LaneBlock {
  const float *x;
  int64_t C, inner, m;
  const int64_t *cls;
  double *loss;
  float *dx;
  double factor;
};

template <bool Full>
DLC_REC_INLINE void laneBlockImpl(const LaneBlock &b) {
  const int64_t C = b.C, inner = b.inner, m = b.m;
  vi16 lab = vi16{} - 1; // -1: no class
  bool any = false;
  for (int64_t j = 0; j < m; ++j)
    if (b.cls[j] >= 0) {
      lab[j] = int32_t(b.cls[j]);
      any = true;
    }
  if (!any) {
    if (b.loss)
      for (int64_t j = 0; j < m; ++j)
        b.loss[j] = 0.0;
    else
      for (int64_t c = 0; c < C; ++c)
        store<Full>(b.dx + c * inner, splat(0.f), m);
    return;
  }
  v16 mx = splat(-INFINITY);
  for (int64_t c = 0; c < C; ++c) {
    const v16 v = load<Full>(b.x + c * inner, m);
    mx = v > mx ? v : mx;
  }
  v16d others = {};
  v16 tl = {};
  for (int64_t c = 0; c < C; ++c) {
    const v16 e = expV(load<Full>(b.x + c * inner, m) - mx);
    if (b.dx)
      store<Full>(b.dx + c * inner, e, m);
    tl = lab == int32_t(c) ? e : tl;
    others += widen(lab == int32_t(c) ? splat(0.f) : e);
  }
  if (b.loss) {
    for (int64_t j = 0; j < m; ++j)
      b.loss[j] = lab[j] < 0 ? 0.0 : positionLoss(others[j], b.x[lab[j] * inner + j], mx[j]);
    return;
  }
  v16 scale = {};
  float labelGrad[kLanes];
  for (int64_t j = 0; j < m; ++j)
    if (lab[j] >= 0) {
      const double sum = others[j] + double(tl[j]);
      scale[j] = float(b.factor / sum);
      labelGrad[j] = float(-b.factor * others[j] / sum);
    }
  for (int64_t c = 0; c < C; ++c) {
    float *d = b.dx + c * inner;
    store<Full>(d, lab >= 0 ? load<Full>(d, m) * scale : splat(0.f), m);
  }
  for (int64_t j = 0; j < m; ++j)
    if (lab[j] >= 0)
      b.dx[lab[j] * inner + j] = labelGrad[j];
}

DLC_CPU_CLONES void laneBlock(const LaneBlock &b) {
  if (b.m == kLanes)
    laneBlockImpl<true>(b);
  else
    laneBlockImpl<false>(b);
}

/// Positions per partial sum of the total loss.
constexpr int64_t kSumBlock = 4096;

/// softmax_with_loss (gd == nullptr) and softmax_with_loss_grad.
class SoftmaxWithLossKernel : public DnnlKernelBase {
public:
  SoftmaxWithLossKernel(const KernelDesc &desc, DnnlContext &ctx, const GradDesc *gd)
      : DnnlKernelBase(desc, ctx), backward_(gd != nullptr) {
    const KernelDesc &fwd = gd ? gd->fwd : desc;
    auto a = attrsOf<ops::SoftmaxWithLossAttrs>(fwd);
    s_ = axisSplit(fwd, a.axis);
    labels_ = Labels{desc.errorPrefix(), s_.channels, a.ignore_label};
    norm_ = a.normalization;
    weight_ = a.loss_weight;
    positions_ = s_.outer * s_.inner;
    blocks_ = s_.inner == 1 ? 1 : (s_.inner + kLanes - 1) / kLanes;
    if (gd) {
      dlossIdx_ = gd->gradIn(0);
      dxOut_ = gd->outputOf(0);
      classes_.resize(size_t(positions_));
      impl_ = "dlc:softmax-loss-grad";
    } else {
      losses_.resize(size_t(positions_));
      partial_.resize(size_t((positions_ + kSumBlock - 1) / kSumBlock));
      impl_ = "dlc:softmax-loss";
    }
  }

  void forward(const float *const *in, float *const *out) override {
    if (backward_)
      backwardPass(in, out);
    else
      forwardPass(in, out);
  }

private:
  bool parallel() const { return positions_ * s_.channels >= kParallelMin; }

  /// cls[j] = classOf(label[at + j]) for j < n; counts the classes into
  /// `valid` and lowers `firstBad` to the first invalid position.
  void classify(const float *label, int64_t at, int64_t n, int64_t *cls, int64_t &valid,
                int64_t &firstBad) const {
    for (int64_t j = 0; j < n; ++j) {
      const int64_t c = labels_.classOf(label[at + j]);
      cls[j] = c;
      if (c >= 0)
        ++valid;
      else if (c == Labels::kInvalid && at + j < firstBad)
        firstBad = at + j;
    }
  }

  void forwardPass(const float *const *in, float *const *out) {
    const float *x = in[0], *label = in[1];
    const int64_t C = s_.channels, inner = s_.inner, blocks = blocks_;
    const int64_t items = s_.outer * blocks;
    double *losses = losses_.data();
    int64_t valid = 0, firstBad = std::numeric_limits<int64_t>::max();
#pragma omp parallel for schedule(static) reduction(+ : valid) reduction(min : firstBad) if (parallel())
    for (int64_t it = 0; it < items; ++it) {
      const int64_t o = it / blocks, i0 = it % blocks * kLanes;
      const int64_t m = inner == 1 ? 1 : std::min(kLanes, inner - i0), at = o * inner + i0;
      int64_t cls[kLanes];
      classify(label, at, m, cls, valid, firstBad);
      const float *xb = x + o * C * inner + i0;
      if (inner == 1) {
        if (cls[0] < 0) {
          losses[at] = 0.0;
          continue;
        }
        const RowSums r = rowSums(xb, C, cls[0], nullptr);
        losses[at] = positionLoss(r.others, xb[cls[0]], r.max);
      } else {
        laneBlock({xb, C, inner, m, cls, losses + at, nullptr, 0.0});
      }
    }
    if (firstBad != std::numeric_limits<int64_t>::max())
      labels_.fail(label, firstBad);
    // Fixed blocks of positions, each summed in order, then the blocks in
    // order: the same sum for any number of threads.
    const int64_t nb = int64_t(partial_.size());
    double *partial = partial_.data();
#pragma omp parallel for schedule(static) if (positions_ >= 4 * kSumBlock)
    for (int64_t b = 0; b < nb; ++b) {
      double acc = 0.0;
      const int64_t end = std::min(positions_, (b + 1) * kSumBlock);
      for (int64_t p = b * kSumBlock; p < end; ++p)
        acc += losses[p];
      partial[b] = acc;
    }
    double loss = 0.0;
    for (int64_t b = 0; b < nb; ++b)
      loss += partial[b];
    const double normalizer = ops::lossNormalizer(norm_, s_.outer, s_.inner, valid);
    out[0][0] = static_cast<float>(weight_ * loss / normalizer);
  }

  void backwardPass(const float *const *in, float *const *out) {
    const float *x = in[0], *label = in[1];
    float *dx = out[dxOut_];
    const int64_t C = s_.channels, inner = s_.inner, blocks = blocks_;
    int64_t *cls = classes_.data();
    int64_t valid = 0, firstBad = std::numeric_limits<int64_t>::max();
    constexpr int64_t kChunk = 1024;
    const int64_t chunks = (positions_ + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) reduction(+ : valid) reduction(min : firstBad) if (positions_ >= 4 * kChunk)
    for (int64_t ch = 0; ch < chunks; ++ch) {
      const int64_t at = ch * kChunk;
      classify(label, at, std::min(kChunk, positions_ - at), cls + at, valid, firstBad);
    }
    if (firstBad != std::numeric_limits<int64_t>::max())
      labels_.fail(label, firstBad);
    const double normalizer = ops::lossNormalizer(norm_, s_.outer, s_.inner, valid);
    const double factor = weight_ * double(in[dlossIdx_][0]) / normalizer;
    const int64_t items = s_.outer * blocks;
#pragma omp parallel for schedule(static) if (parallel())
    for (int64_t it = 0; it < items; ++it) {
      const int64_t o = it / blocks, i0 = it % blocks * kLanes;
      const int64_t base = o * C * inner + i0, at = o * inner + i0;
      if (inner != 1) {
        laneBlock({x + base, C, inner, std::min(kLanes, inner - i0), cls + at, nullptr,
                   dx + base, factor});
        continue;
      }
      const int64_t l = cls[at];
      float *d = dx + base;
      if (l < 0) {
        std::fill(d, d + C, 0.f);
        continue;
      }
      const RowSums r = rowSums(x + base, C, l, d);
      const double sum = r.others + double(r.tl);
      scaleRow(C, {d, float(factor / sum)});
      d[l] = float(-factor * r.others / sum);
    }
  }

  bool backward_;
  ops::AxisSplit s_;
  Labels labels_;
  std::string norm_;
  double weight_ = 1.0;
  int64_t positions_ = 0, blocks_ = 1;
  size_t dlossIdx_ = 0;
  int dxOut_ = 0;
  /// Forward: the loss of every position, the partial sums of its blocks.
  std::vector<double> losses_, partial_;
  /// Backward: the classOf result of every position.
  std::vector<int64_t> classes_;
};

std::unique_ptr<Kernel> createSoftmaxWithLoss(const KernelDesc &desc, DnnlContext &ctx) {
  return std::make_unique<SoftmaxWithLossKernel>(desc, ctx, nullptr);
}
std::unique_ptr<Kernel> createSoftmaxWithLossGrad(const KernelDesc &desc, DnnlContext &ctx) {
  GradDesc gd = gradDesc(desc);
  return std::make_unique<SoftmaxWithLossKernel>(desc, ctx, &gd);
}

} // namespace

DLC_REGISTER_KERNELS(DLC_DNNL_KERNEL("softmax_with_loss", Forward, createSoftmaxWithLoss,
                                     emptyWhyNot),
                     DLC_DNNL_KERNEL("softmax_with_loss", Backward, createSoftmaxWithLossGrad,
                                     emptyWhyNot));

} // namespace dnnlk
} // namespace dlc::rt

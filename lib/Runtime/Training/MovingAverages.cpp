//===- MovingAverages.cpp - BatchNorm's statistics during training --------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Caffe's BatchNormLayer, in a forward with the batch's statistics (phase
// TRAIN, use_global_stats false), also updates its three blobs, which the
// test net then normalizes with (use_global_stats true):
//   blobs[2] = moving_average_fraction * blobs[2] + 1
//   blobs[0] = moving_average_fraction * blobs[0] + mean
//   blobs[1] = moving_average_fraction * blobs[1] + m / (m - 1) * variance
// (m = elements per channel, the factor 1 when m is 1; mean and variance
// those of the batch, over the batch and the spatial positions). The
// gradient entry is the forward and backward pass only, so the Trainer does
// this after each gradient pass: the statistics are taken from the layer's
// input right after its kernel ran (the backward pass needs that input, so
// it is still intact then), and the blobs are set once the pass is over.
// Blobs that start from their fillers start at Caffe's zeros.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Training.h"

#include <algorithm>

namespace pb = dlc::module;

namespace dlc::rt {

MovingAverages::MovingAverages(Executor &ex) {
  const pb::Module &m = ex.module().header;
  for (int k = 0; k < ex.numForwardKernels() && k < m.kernels_size(); ++k) {
    const pb::Kernel &kern = m.kernels(k);
    if (kern.op() != "batch_norm" || kern.inputs_size() != 4)
      continue;
    Layer L;
    L.kernel = k;
    bool global = true;
    for (const pb::Attr &a : kern.attrs()) {
      if (a.name() == "use_global_stats" && a.value_case() == pb::Attr::kI)
        global = a.i() != 0;
      if (a.name() == "moving_average_fraction" && a.value_case() == pb::Attr::kF)
        L.fraction = a.f();
    }
    if (global)
      continue;
    L.x = kern.inputs(0);
    for (int i = 0; i < 3; ++i) {
      L.blobs[i] = kern.inputs(i + 1);
      if (ex.tensorKind(L.blobs[i]) != TensorKind::Param)
        throw Error("training: the statistics of BatchNorm '" + kern.layer() +
                    "' are not params of the module");
    }
    const Shape &s = ex.tensorShape(L.x);
    if (s.size() < 2 || ex.tensorElements(L.blobs[0]) != s[1] ||
        ex.tensorElements(L.blobs[1]) != s[1] || ex.tensorElements(L.blobs[2]) != 1)
      throw Error("training: BatchNorm '" + kern.layer() + "' has statistics of the wrong size");
    // Caffe starts the three blobs at 0; dlc's fillers start the variance
    // and the scale factor at 1 so that an untrained net's forward stays
    // finite (docs/dialect.md). Training from scratch starts where Caffe
    // does; blobs stored in the module (dlc compile --weights) are kept, and
    // --weights / --resume set them afterwards.
    for (int b : L.blobs) {
      const pb::Module &hdr = ex.module().header;
      for (int p = 0; p < hdr.params_size(); ++p)
        if (hdr.params(p).tensor() == b && !ex.module().paramData(p))
          std::fill_n(ex.tensorData(b), ex.tensorElements(b), 0.0f);
    }
    L.mean.assign(size_t(s[1]), 0.0);
    L.variance.assign(size_t(s[1]), 0.0);
    byKernel_[k] = layers_.size();
    layers_.push_back(std::move(L));
  }
}

void MovingAverages::afterKernel(const Executor &ex, int k) {
  auto it = byKernel_.find(k);
  if (it == byKernel_.end())
    return;
  Layer &L = layers_[it->second];
  const Shape &s = ex.tensorShape(L.x);
  const int64_t num = s[0], channels = s[1];
  int64_t spatial = 1;
  for (size_t d = 2; d < s.size(); ++d)
    spatial *= s[d];
  // Element (n, c, i): plain [N, C, spatial], or nChw<B>c [N, C/B, spatial, B].
  const int64_t block = ex.tensorBlock(L.x);
  const float *x = ex.tensorData(L.x);
  auto at = [&](int64_t n, int64_t c, int64_t i) {
    return block ? x[((n * (channels / block) + c / block) * spatial + i) * block + c % block]
                 : x[(n * channels + c) * spatial + i];
  };
  const double count = double(num * spatial);
#pragma omp parallel for schedule(static) if (num * channels * spatial > 32768)
  for (int64_t c = 0; c < channels; ++c) {
    double sum = 0;
    for (int64_t n = 0; n < num; ++n)
      for (int64_t i = 0; i < spatial; ++i)
        sum += at(n, c, i);
    const double mean = sum / count;
    double sq = 0;
    for (int64_t n = 0; n < num; ++n)
      for (int64_t i = 0; i < spatial; ++i) {
        double d = at(n, c, i) - mean;
        sq += d * d;
      }
    L.mean[size_t(c)] = mean;
    L.variance[size_t(c)] = sq / count;
  }
  L.m = num * spatial;
  L.seen = true;
}

bool MovingAverages::update(Executor &ex) {
  bool any = false;
  for (Layer &L : layers_) {
    if (!L.seen)
      continue;
    const double f = L.fraction;
    const double correction = L.m > 1 ? double(L.m) / double(L.m - 1) : 1.0;
    float *mean = ex.tensorData(L.blobs[0]), *variance = ex.tensorData(L.blobs[1]);
    float *factor = ex.tensorData(L.blobs[2]);
    factor[0] = float(f * double(factor[0]) + 1);
    for (size_t c = 0; c < L.mean.size(); ++c) {
      mean[c] = float(f * double(mean[c]) + L.mean[c]);
      variance[c] = float(f * double(variance[c]) + correction * L.variance[c]);
    }
    L.seen = false;
    any = true;
  }
  return any;
}

} // namespace dlc::rt

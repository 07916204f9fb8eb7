//===- RefLoss.cpp - Reference losses and accuracy ------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Loss layers produce Caffe's loss value times loss_weight (the contribution
// of the layer to the objective) as a scalar.
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace dlc::rt::ref {
namespace {

/// Converts a float label as Caffe does (static_cast<int>), rejecting
/// values that are not finite.
int64_t labelOf(const std::string &prefix, float v) {
  if (!std::isfinite(v) || std::fabs(v) > 1e15f)
    throw Error(prefix + "label " + std::to_string(v) + " is not a valid class index");
  return static_cast<int64_t>(v);
}

struct AxisSplit {
  int64_t outer, channels, inner;
};

/// Shared validation of (logits, label) pairs for softmax_with_loss and
/// accuracy.
AxisSplit splitLogits(const KernelDesc &desc) {
  checkArity(desc, 2, 2, 1);
  checkScalarOutput(desc);
  const Shape &x = desc.inputs[0];
  checkMinRank(desc, 0, 1, "logits");
  int64_t axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), x.size(), "axis");
  AxisSplit s{countRange(x, 0, axis), x[axis], countRange(x, axis + 1, x.size())};
  if (numElements(desc.inputs[1]) != s.outer * s.inner)
    fail(desc, "label has shape " + shapeToString(desc.inputs[1]) + " (" +
                   std::to_string(numElements(desc.inputs[1])) +
                   " elements), expected " + std::to_string(s.outer * s.inner) +
                   " labels for logits " + shapeToString(x) + " with axis " +
                   std::to_string(axis));
  return s;
}

class SoftmaxWithLossKernel : public RefKernel {
public:
  SoftmaxWithLossKernel(std::string prefix, AxisSplit s, bool hasIgnore, int64_t ignore,
                        std::string norm, double weight, const KernelDesc &desc)
      : prefix_(std::move(prefix)), s_(s), hasIgnore_(hasIgnore), ignore_(ignore),
        norm_(std::move(norm)), weight_(weight), desc_(desc) {}

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *label = in[1];
    double loss = 0.0;
    int64_t valid = 0;
    for (int64_t o = 0; o < s_.outer; ++o)
      for (int64_t i = 0; i < s_.inner; ++i) {
        int64_t l = labelOf(prefix_, label[o * s_.inner + i]);
        if (hasIgnore_ && l == ignore_)
          continue;
        if (l < 0 || l >= s_.channels)
          throw Error(prefix_ + "label " + std::to_string(l) + " at position " +
                      std::to_string(o * s_.inner + i) + " is out of range [0, " +
                      std::to_string(s_.channels) + ")");
        const float *xs = x + o * s_.channels * s_.inner + i;
        double m = -INFINITY;
        for (int64_t c = 0; c < s_.channels; ++c)
          m = std::max(m, double(xs[c * s_.inner]));
        double sum = 0.0;
        for (int64_t c = 0; c < s_.channels; ++c)
          sum += std::exp(double(xs[c * s_.inner]) - m);
        double p = std::exp(double(xs[l * s_.inner]) - m) / sum;
        loss -= std::log(std::max(p, double(FLT_MIN)));
        ++valid;
      }
    double normalizer = lossNormalizer(desc_, norm_, s_.outer, s_.inner, valid);
    out[0][0] = static_cast<float>(weight_ * loss / normalizer);
  }

private:
  std::string prefix_;
  AxisSplit s_;
  bool hasIgnore_;
  int64_t ignore_;
  std::string norm_;
  double weight_;
  KernelDesc desc_;
};

class EuclideanLossKernel : public RefKernel {
public:
  EuclideanLossKernel(int64_t count, int64_t num, double weight)
      : count_(count), num_(num), weight_(weight) {}
  void forward(const float *const *in, float *const *out) override {
    double s = 0.0;
    for (int64_t i = 0; i < count_; ++i) {
      double d = double(in[0][i]) - double(in[1][i]);
      s += d * d;
    }
    out[0][0] = static_cast<float>(weight_ * s / double(num_) / 2.0);
  }

private:
  int64_t count_, num_;
  double weight_;
};

class SigmoidCrossEntropyKernel : public RefKernel {
public:
  SigmoidCrossEntropyKernel(int64_t outer, int64_t inner, bool hasIgnore, int64_t ignore,
                            std::string norm, double weight, const KernelDesc &desc)
      : outer_(outer), inner_(inner), hasIgnore_(hasIgnore), ignore_(ignore),
        norm_(std::move(norm)), weight_(weight), desc_(desc) {}
  void forward(const float *const *in, float *const *out) override {
    double loss = 0.0;
    int64_t valid = 0;
    for (int64_t i = 0; i < outer_ * inner_; ++i) {
      double x = in[0][i], t = in[1][i];
      if (hasIgnore_ && static_cast<int64_t>(in[1][i]) == ignore_)
        continue;
      double pos = x >= 0 ? 1.0 : 0.0;
      // Stable form of -[t log s(x) + (1 - t) log(1 - s(x))].
      loss -= x * (t - pos) - std::log1p(std::exp(x - 2.0 * x * pos));
      ++valid;
    }
    double normalizer = lossNormalizer(desc_, norm_, outer_, inner_, valid);
    out[0][0] = static_cast<float>(weight_ * loss / normalizer);
  }

private:
  int64_t outer_, inner_;
  bool hasIgnore_;
  int64_t ignore_;
  std::string norm_;
  double weight_;
  KernelDesc desc_;
};

class ContrastiveLossKernel : public RefKernel {
public:
  ContrastiveLossKernel(int64_t num, int64_t dim, double margin, bool legacy, double weight)
      : num_(num), dim_(dim), margin_(margin), legacy_(legacy), weight_(weight) {}
  void forward(const float *const *in, float *const *out) override {
    double loss = 0.0;
    for (int64_t n = 0; n < num_; ++n) {
      double d2 = 0.0;
      for (int64_t j = 0; j < dim_; ++j) {
        double d = double(in[0][n * dim_ + j]) - double(in[1][n * dim_ + j]);
        d2 += d * d;
      }
      if (static_cast<int64_t>(in[2][n]) != 0) {
        loss += d2;
      } else if (legacy_) {
        loss += std::max(margin_ - d2, 0.0);
      } else {
        double m = std::max(margin_ - std::sqrt(d2), 0.0);
        loss += m * m;
      }
    }
    out[0][0] = static_cast<float>(weight_ * loss / double(num_) / 2.0);
  }

private:
  int64_t num_, dim_;
  double margin_;
  bool legacy_;
  double weight_;
};

class AccuracyKernel : public RefKernel {
public:
  AccuracyKernel(std::string prefix, AxisSplit s, int64_t topK, bool hasIgnore,
                 int64_t ignore)
      : prefix_(std::move(prefix)), s_(s), topK_(topK), hasIgnore_(hasIgnore),
        ignore_(ignore) {}
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *label = in[1];
    int64_t correct = 0, count = 0;
    for (int64_t o = 0; o < s_.outer; ++o)
      for (int64_t i = 0; i < s_.inner; ++i) {
        int64_t l = labelOf(prefix_, label[o * s_.inner + i]);
        if (hasIgnore_ && l == ignore_)
          continue;
        if (l < 0 || l >= s_.channels)
          throw Error(prefix_ + "label " + std::to_string(l) + " at position " +
                      std::to_string(o * s_.inner + i) + " is out of range [0, " +
                      std::to_string(s_.channels) + ")");
        ++count;
        const float *xs = x + o * s_.channels * s_.inner + i;
        float truth = xs[l * s_.inner];
        // Caffe counts every class scoring >= the true class (ties included)
        // other than the true class itself as better.
        int64_t better = -1;
        for (int64_t c = 0; c < s_.channels; ++c)
          better += xs[c * s_.inner] >= truth ? 1 : 0;
        if (better < topK_)
          ++correct;
      }
    out[0][0] = count == 0 ? 0.0f : static_cast<float>(double(correct) / double(count));
  }

private:
  std::string prefix_;
  AxisSplit s_;
  int64_t topK_;
  bool hasIgnore_;
  int64_t ignore_;
};

std::string normalization(const KernelDesc &desc, const std::string &def) {
  std::string n = desc.attrs.getString("normalization", def);
  if (n != "full" && n != "valid" && n != "batch_size" && n != "none")
    fail(desc, "attribute 'normalization' has unknown value '" + n +
                   "' (expected full, valid, batch_size or none)");
  return n;
}

} // namespace

std::unique_ptr<Kernel> makeSoftmaxWithLoss(const KernelDesc &desc) {
  AxisSplit s = splitLogits(desc);
  return std::make_unique<SoftmaxWithLossKernel>(
      errorPrefix(desc), s, desc.attrs.has("ignore_label"),
      desc.attrs.getInt("ignore_label", 0), normalization(desc, "valid"),
      desc.attrs.getFloat("loss_weight", 1.0), desc);
}

std::unique_ptr<Kernel> makeEuclideanLoss(const KernelDesc &desc) {
  checkArity(desc, 2, 2, 1);
  checkScalarOutput(desc);
  checkMinRank(desc, 0, 1, "a");
  const Shape &a = desc.inputs[0], &b = desc.inputs[1];
  if (b.empty() || b[0] != a[0] || numElements(a) != numElements(b))
    fail(desc, "inputs must have the same number of rows and elements, got " +
                   shapeToString(a) + " and " + shapeToString(b));
  if (a[0] == 0)
    fail(desc, "empty batch");
  return std::make_unique<EuclideanLossKernel>(numElements(a), a[0],
                                               desc.attrs.getFloat("loss_weight", 1.0));
}

std::unique_ptr<Kernel> makeSigmoidCrossEntropyLoss(const KernelDesc &desc) {
  checkArity(desc, 2, 2, 1);
  checkScalarOutput(desc);
  checkMinRank(desc, 0, 1, "input");
  const Shape &x = desc.inputs[0];
  if (numElements(desc.inputs[1]) != numElements(x))
    fail(desc, "target has shape " + shapeToString(desc.inputs[1]) +
                   ", expected as many elements as the input " + shapeToString(x));
  int64_t outer = x[0];
  int64_t inner = outer == 0 ? 0 : numElements(x) / outer;
  return std::make_unique<SigmoidCrossEntropyKernel>(
      outer, inner, desc.attrs.has("ignore_label"), desc.attrs.getInt("ignore_label", 0),
      normalization(desc, "batch_size"), desc.attrs.getFloat("loss_weight", 1.0), desc);
}

std::unique_ptr<Kernel> makeContrastiveLoss(const KernelDesc &desc) {
  checkArity(desc, 3, 3, 1);
  checkScalarOutput(desc);
  checkMinRank(desc, 0, 1, "a");
  const Shape &a = desc.inputs[0];
  checkInput(desc, 1, a, "b");
  int64_t num = a[0];
  if (num == 0)
    fail(desc, "empty batch");
  if (numElements(desc.inputs[2]) != num)
    fail(desc, "similar has shape " + shapeToString(desc.inputs[2]) + ", expected " +
                   std::to_string(num) + " elements");
  return std::make_unique<ContrastiveLossKernel>(
      num, numElements(a) / num, desc.attrs.getFloat("margin", 1.0),
      desc.attrs.getBool("legacy_version", false), desc.attrs.getFloat("loss_weight", 1.0));
}

std::unique_ptr<Kernel> makeAccuracy(const KernelDesc &desc) {
  AxisSplit s = splitLogits(desc);
  int64_t topK = desc.attrs.getInt("top_k", 1);
  if (topK < 1 || topK > s.channels)
    fail(desc, "top_k (" + std::to_string(topK) + ") must be in [1, " +
                   std::to_string(s.channels) + "]");
  return std::make_unique<AccuracyKernel>(errorPrefix(desc), s, topK,
                                          desc.attrs.has("ignore_label"),
                                          desc.attrs.getInt("ignore_label", 0));
}

} // namespace dlc::rt::ref

//===- RefLoss.cpp - Reference losses and accuracy ------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Loss layers produce Caffe's loss value times loss_weight (the contribution
// of the layer to the objective) as a scalar. Their gradients (`<op>_grad`,
// inputs: operands, loss, d(objective)/d(loss)) are Caffe's Backward_cpu
// times loss_weight times the incoming scalar gradient.
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

/// d/dlogits = loss_weight * dloss * (softmax - onehot(label)) / normalizer;
/// ignored positions get 0. Inputs: logits, label, loss, dloss.
class SoftmaxWithLossGradKernel : public RefKernel {
public:
  SoftmaxWithLossGradKernel(std::string prefix, AxisSplit s, bool hasIgnore, int64_t ignore,
                            std::string norm, double weight, const KernelDesc &desc)
      : prefix_(std::move(prefix)), s_(s), hasIgnore_(hasIgnore), ignore_(ignore),
        norm_(std::move(norm)), weight_(weight), desc_(desc) {}

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *label = in[1];
    double dloss = in[3][0];
    float *dx = out[0];
    int64_t valid = 0;
    std::vector<double> e(s_.channels);
    for (int64_t o = 0; o < s_.outer; ++o)
      for (int64_t i = 0; i < s_.inner; ++i) {
        int64_t l = labelOf(prefix_, label[o * s_.inner + i]);
        int64_t base = o * s_.channels * s_.inner + i;
        if (hasIgnore_ && l == ignore_) {
          for (int64_t c = 0; c < s_.channels; ++c)
            dx[base + c * s_.inner] = 0.0f;
          continue;
        }
        if (l < 0 || l >= s_.channels)
          throw Error(prefix_ + "label " + std::to_string(l) + " at position " +
                      std::to_string(o * s_.inner + i) + " is out of range [0, " +
                      std::to_string(s_.channels) + ")");
        ++valid;
      }
    double normalizer = lossNormalizer(desc_, norm_, s_.outer, s_.inner, valid);
    double factor = weight_ * dloss / normalizer;
    for (int64_t o = 0; o < s_.outer; ++o)
      for (int64_t i = 0; i < s_.inner; ++i) {
        int64_t l = static_cast<int64_t>(label[o * s_.inner + i]);
        if (hasIgnore_ && l == ignore_)
          continue;
        const float *xs = x + o * s_.channels * s_.inner + i;
        float *dxs = dx + o * s_.channels * s_.inner + i;
        double m = -INFINITY;
        for (int64_t c = 0; c < s_.channels; ++c)
          m = std::max(m, double(xs[c * s_.inner]));
        double sum = 0.0;
        for (int64_t c = 0; c < s_.channels; ++c)
          sum += e[c] = std::exp(double(xs[c * s_.inner]) - m);
        for (int64_t c = 0; c < s_.channels; ++c)
          dxs[c * s_.inner] =
              static_cast<float>(factor * (e[c] / sum - (c == l ? 1.0 : 0.0)));
      }
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

/// d/da = loss_weight * dloss * (a - b) / num, d/db = -d/da.
/// Inputs: a, b, loss, dloss.
class EuclideanLossGradKernel : public RefKernel {
public:
  EuclideanLossGradKernel(int64_t count, int64_t num, double weight, int outA, int outB)
      : count_(count), num_(num), weight_(weight), outA_(outA), outB_(outB) {}
  void forward(const float *const *in, float *const *out) override {
    double factor = weight_ * double(in[3][0]) / double(num_);
    for (int64_t i = 0; i < count_; ++i) {
      double d = (double(in[0][i]) - double(in[1][i])) * factor;
      if (outA_ >= 0)
        out[outA_][i] = static_cast<float>(d);
      if (outB_ >= 0)
        out[outB_][i] = static_cast<float>(-d);
    }
  }

private:
  int64_t count_, num_;
  double weight_;
  int outA_, outB_;
};

/// d/dx = loss_weight * dloss * (sigmoid(x) - t) / normalizer; 0 where the
/// target is ignore_label. Inputs: x, target, loss, dloss.
class SigmoidCrossEntropyGradKernel : public RefKernel {
public:
  SigmoidCrossEntropyGradKernel(int64_t outer, int64_t inner, bool hasIgnore,
                                int64_t ignore, std::string norm, double weight,
                                const KernelDesc &desc)
      : outer_(outer), inner_(inner), hasIgnore_(hasIgnore), ignore_(ignore),
        norm_(std::move(norm)), weight_(weight), desc_(desc) {}
  void forward(const float *const *in, float *const *out) override {
    int64_t count = outer_ * inner_, valid = 0;
    auto ignored = [&](int64_t i) {
      return hasIgnore_ && static_cast<int64_t>(in[1][i]) == ignore_;
    };
    for (int64_t i = 0; i < count; ++i)
      valid += ignored(i) ? 0 : 1;
    double normalizer = lossNormalizer(desc_, norm_, outer_, inner_, valid);
    double factor = weight_ * double(in[3][0]) / normalizer;
    for (int64_t i = 0; i < count; ++i) {
      if (ignored(i)) {
        out[0][i] = 0.0f;
        continue;
      }
      double p = 1.0 / (1.0 + std::exp(-double(in[0][i])));
      out[0][i] = static_cast<float>(factor * (p - double(in[1][i])));
    }
  }

private:
  int64_t outer_, inner_;
  bool hasIgnore_;
  int64_t ignore_;
  std::string norm_;
  double weight_;
  KernelDesc desc_;
};

/// Caffe's ContrastiveLossLayer::Backward_cpu, times loss_weight * dloss:
/// with diff = a - b and alpha = +-loss_weight * dloss / num (+ for a, - for
/// b): similar pairs get alpha * diff; dissimilar pairs with a positive
/// margin term get -alpha * diff (legacy: margin - |diff|^2 > 0) or
/// -alpha * (margin - |diff|) / (|diff| + 1e-4) * diff (Caffe's epsilon).
/// Inputs: a, b, similar, loss, dloss.
class ContrastiveLossGradKernel : public RefKernel {
public:
  ContrastiveLossGradKernel(int64_t num, int64_t dim, double margin, bool legacy,
                            double weight, int outA, int outB)
      : num_(num), dim_(dim), margin_(margin), legacy_(legacy), weight_(weight),
        outA_(outA), outB_(outB) {}
  void forward(const float *const *in, float *const *out) override {
    double alpha = weight_ * double(in[4][0]) / double(num_);
    for (int64_t n = 0; n < num_; ++n) {
      const float *a = in[0] + n * dim_, *b = in[1] + n * dim_;
      double d2 = 0.0;
      for (int64_t j = 0; j < dim_; ++j) {
        double d = double(a[j]) - double(b[j]);
        d2 += d * d;
      }
      double k; // the gradient w.r.t. a is k * diff
      if (static_cast<int64_t>(in[2][n]) != 0) {
        k = alpha;
      } else if (legacy_) {
        k = margin_ - d2 > 0.0 ? -alpha : 0.0;
      } else {
        double dist = std::sqrt(d2), mdist = margin_ - dist;
        k = mdist > 0.0 ? -alpha * mdist / (dist + 1e-4) : 0.0;
      }
      for (int64_t j = 0; j < dim_; ++j) {
        double g = k * (double(a[j]) - double(b[j]));
        if (outA_ >= 0)
          out[outA_][n * dim_ + j] = static_cast<float>(g);
        if (outB_ >= 0)
          out[outB_][n * dim_ + j] = static_cast<float>(-g);
      }
    }
  }

private:
  int64_t num_, dim_;
  double margin_;
  bool legacy_;
  double weight_;
  int outA_, outB_;
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

std::unique_ptr<Kernel> makeSoftmaxWithLossGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeSoftmaxWithLoss, /*noGrad=*/{1});
  const KernelDesc &f = gd.fwd;
  AxisSplit s = splitLogits(f);
  return std::make_unique<SoftmaxWithLossGradKernel>(
      errorPrefix(desc), s, f.attrs.has("ignore_label"), f.attrs.getInt("ignore_label", 0),
      normalization(f, "valid"), f.attrs.getFloat("loss_weight", 1.0), f);
}

std::unique_ptr<Kernel> makeEuclideanLossGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeEuclideanLoss);
  const Shape &a = gd.fwd.inputs[0];
  return std::make_unique<EuclideanLossGradKernel>(
      numElements(a), a[0], gd.fwd.attrs.getFloat("loss_weight", 1.0), gd.outputOf(0),
      gd.outputOf(1));
}

std::unique_ptr<Kernel> makeSigmoidCrossEntropyLossGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeSigmoidCrossEntropyLoss, /*noGrad=*/{1});
  const KernelDesc &f = gd.fwd;
  const Shape &x = f.inputs[0];
  int64_t outer = x[0];
  int64_t inner = outer == 0 ? 0 : numElements(x) / outer;
  return std::make_unique<SigmoidCrossEntropyGradKernel>(
      outer, inner, f.attrs.has("ignore_label"), f.attrs.getInt("ignore_label", 0),
      normalization(f, "batch_size"), f.attrs.getFloat("loss_weight", 1.0), f);
}

std::unique_ptr<Kernel> makeContrastiveLossGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeContrastiveLoss, /*noGrad=*/{2});
  const KernelDesc &f = gd.fwd;
  const Shape &a = f.inputs[0];
  return std::make_unique<ContrastiveLossGradKernel>(
      a[0], numElements(a) / a[0], f.attrs.getFloat("margin", 1.0),
      f.attrs.getBool("legacy_version", false), f.attrs.getFloat("loss_weight", 1.0),
      gd.outputOf(0), gd.outputOf(1));
}

} // namespace dlc::rt::ref

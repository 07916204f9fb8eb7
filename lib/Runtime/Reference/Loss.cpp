//===- Loss.cpp - Reference losses and accuracy ---------------------------===//
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
#include "dlc/Runtime/Reference/LossLabels.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <optional>

namespace dlc::rt::ref {
namespace {

/// The softmax over `channels` values xs[c * stride], shifted by their max:
/// e[c] = exp(xs[c * stride] - max); returns the sum of e.
double softmaxAt(const float *xs, int64_t channels, int64_t stride, std::vector<double> &e) {
  double m = -INFINITY, sum = 0.0;
  for (int64_t c = 0; c < channels; ++c)
    m = std::max(m, double(xs[c * stride]));
  e.resize(size_t(channels));
  for (int64_t c = 0; c < channels; ++c)
    sum += e[size_t(c)] = std::exp(double(xs[c * stride]) - m);
  return sum;
}

using ops::AxisSplit;

class SoftmaxWithLossKernel : public RefKernel {
public:
  SoftmaxWithLossKernel(Labels labels, AxisSplit s, std::string norm, double weight)
      : labels_(std::move(labels)), s_(s), norm_(std::move(norm)), weight_(weight) {}

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *label = in[1];
    double loss = 0.0;
    int64_t valid = 0;
    std::vector<double> e;
    for (int64_t o = 0; o < s_.outer; ++o)
      for (int64_t i = 0; i < s_.inner; ++i) {
        int64_t l = labels_(label, o * s_.inner + i);
        if (l < 0)
          continue;
        double sum = softmaxAt(x + o * s_.channels * s_.inner + i, s_.channels, s_.inner, e);
        loss -= std::log(std::max(e[size_t(l)] / sum, double(FLT_MIN)));
        ++valid;
      }
    double normalizer = ops::lossNormalizer(norm_, s_.outer, s_.inner, valid);
    out[0][0] = static_cast<float>(weight_ * loss / normalizer);
  }

private:
  Labels labels_;
  AxisSplit s_;
  std::string norm_;
  double weight_;
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
                            std::string norm, double weight)
      : outer_(outer), inner_(inner), hasIgnore_(hasIgnore), ignore_(ignore),
        norm_(std::move(norm)), weight_(weight) {}
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
    double normalizer = ops::lossNormalizer(norm_, outer_, inner_, valid);
    out[0][0] = static_cast<float>(weight_ * loss / normalizer);
  }

private:
  int64_t outer_, inner_;
  bool hasIgnore_;
  int64_t ignore_;
  std::string norm_;
  double weight_;
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
  AccuracyKernel(Labels labels, AxisSplit s, int64_t topK)
      : labels_(std::move(labels)), s_(s), topK_(topK) {}
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *label = in[1];
    int64_t correct = 0, count = 0;
    for (int64_t o = 0; o < s_.outer; ++o)
      for (int64_t i = 0; i < s_.inner; ++i) {
        int64_t l = labels_(label, o * s_.inner + i);
        if (l < 0)
          continue;
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
  Labels labels_;
  AxisSplit s_;
  int64_t topK_;
};

/// d/dlogits = loss_weight * dloss * (softmax - onehot(label)) / normalizer;
/// ignored positions get 0. Inputs: logits, label, loss, dloss.
class SoftmaxWithLossGradKernel : public RefKernel {
public:
  SoftmaxWithLossGradKernel(Labels labels, AxisSplit s, std::string norm, double weight)
      : labels_(std::move(labels)), s_(s), norm_(std::move(norm)), weight_(weight) {}

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *label = in[1];
    double dloss = in[3][0];
    float *dx = out[0];
    int64_t valid = 0;
    for (int64_t at = 0; at < s_.outer * s_.inner; ++at)
      valid += labels_(label, at) >= 0 ? 1 : 0;
    double normalizer = ops::lossNormalizer(norm_, s_.outer, s_.inner, valid);
    double factor = weight_ * dloss / normalizer;
    std::vector<double> e;
    for (int64_t o = 0; o < s_.outer; ++o)
      for (int64_t i = 0; i < s_.inner; ++i) {
        int64_t l = labels_(label, o * s_.inner + i), base = o * s_.channels * s_.inner + i;
        double sum = l < 0 ? 0.0 : softmaxAt(x + base, s_.channels, s_.inner, e);
        for (int64_t c = 0; c < s_.channels; ++c)
          dx[base + c * s_.inner] =
              l < 0 ? 0.0f
                    : static_cast<float>(factor * (e[size_t(c)] / sum - (c == l ? 1.0 : 0.0)));
      }
  }

private:
  Labels labels_;
  AxisSplit s_;
  std::string norm_;
  double weight_;
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
                                int64_t ignore, std::string norm, double weight)
      : outer_(outer), inner_(inner), hasIgnore_(hasIgnore), ignore_(ignore),
        norm_(std::move(norm)), weight_(weight) {}
  void forward(const float *const *in, float *const *out) override {
    int64_t count = outer_ * inner_, valid = 0;
    auto ignored = [&](int64_t i) {
      return hasIgnore_ && static_cast<int64_t>(in[1][i]) == ignore_;
    };
    for (int64_t i = 0; i < count; ++i)
      valid += ignored(i) ? 0 : 1;
    double normalizer = ops::lossNormalizer(norm_, outer_, inner_, valid);
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

/// Caffe's kLOG_THRESHOLD: probabilities are clamped to it before log().
constexpr double kLogThreshold = 1e-20;


/// Caffe's HingeLossLayer over x viewed as [num, dim]: with t = -1 at the
/// label's position and +1 elsewhere, d = max(0, 1 + t x); loss = sum(d) /
/// num (l1) or sum(d^2) / num (l2), times loss_weight. Gradient (inputs x,
/// label, loss, dloss): t [d > 0] (l1) or 2 t d (l2), times
/// loss_weight * dloss / num.
class HingeLossKernel : public RefKernel {
public:
  HingeLossKernel(std::string prefix, int64_t num, int64_t dim, bool l2, double weight,
                  bool backward)
      : labels_{std::move(prefix), dim}, num_(num), dim_(dim), l2_(l2), weight_(weight),
        backward_(backward) {}
  void forward(const float *const *in, float *const *out) override {
    double loss = 0.0, scale = weight_ * (backward_ ? double(in[3][0]) : 1.0) / double(num_);
    for (int64_t i = 0; i < num_; ++i) {
      int64_t l = labels_(in[1], i);
      for (int64_t j = 0; j < dim_; ++j) {
        double t = j == l ? -1.0 : 1.0;
        double d = std::max(0.0, 1.0 + t * double(in[0][i * dim_ + j]));
        if (backward_)
          out[0][i * dim_ + j] =
              static_cast<float>(scale * t * (l2_ ? 2.0 * d : (d > 0.0 ? 1.0 : 0.0)));
        else
          loss += l2_ ? d * d : d;
      }
    }
    if (!backward_)
      out[0][0] = static_cast<float>(loss * scale);
  }

private:
  Labels labels_;
  int64_t num_, dim_;
  bool l2_;
  double weight_;
  bool backward_;
};

/// Caffe's InfogainLossLayer (the softmax-taking one): with p the softmax
/// of the logits along the axis and H the K x K infogain matrix,
/// loss = -sum_(i not ignored) sum_k H[l_i, k] log(max(p_ik, 1e-20)) /
/// normalizer, times loss_weight. Gradient (inputs logits, label, H, loss,
/// dloss): (p_ik sum_k' H[l_i, k'] - H[l_i, k]) * loss_weight * dloss /
/// normalizer; ignored positions get 0.
class InfogainLossKernel : public RefKernel {
public:
  InfogainLossKernel(Labels labels, AxisSplit s, std::string norm, double weight,
                     bool backward)
      : labels_(std::move(labels)), s_(s), norm_(std::move(norm)), weight_(weight),
        backward_(backward) {}
  void forward(const float *const *in, float *const *out) override {
    const int64_t K = s_.channels;
    const float *x = in[0], *label = in[1], *H = in[2];
    std::vector<double> p;
    double loss = 0.0;
    int64_t valid = 0;
    for (int64_t o = 0; o < s_.outer; ++o)
      for (int64_t i = 0; i < s_.inner; ++i) {
        int64_t l = labels_(label, o * s_.inner + i), base = o * K * s_.inner + i;
        if (l < 0) {
          if (backward_)
            for (int64_t k = 0; k < K; ++k)
              out[0][base + k * s_.inner] = 0.0f;
          continue;
        }
        double sum = softmaxAt(x + base, K, s_.inner, p), rowSum = 0.0;
        for (int64_t k = 0; k < K; ++k) {
          p[size_t(k)] /= sum;
          rowSum += H[l * K + k];
          if (!backward_)
            loss -= double(H[l * K + k]) * std::log(std::max(p[size_t(k)], kLogThreshold));
        }
        if (backward_)
          for (int64_t k = 0; k < K; ++k)
            out[0][base + k * s_.inner] =
                static_cast<float>(p[size_t(k)] * rowSum - double(H[l * K + k]));
        ++valid;
      }
    double normalizer = ops::lossNormalizer(norm_, s_.outer, s_.inner, valid);
    if (!backward_) {
      out[0][0] = static_cast<float>(weight_ * loss / normalizer);
      return;
    }
    double scale = weight_ * double(in[4][0]) / normalizer;
    for (int64_t i = 0; i < s_.outer * K * s_.inner; ++i)
      out[0][i] = static_cast<float>(double(out[0][i]) * scale);
  }

private:
  Labels labels_;
  AxisSplit s_;
  std::string norm_;
  double weight_;
  bool backward_;
};

/// Caffe's MultinomialLogisticLossLayer on probabilities [num, dim]:
/// loss = -sum_i log(max(prob[i, l_i], 1e-20)) / num, times loss_weight.
/// Gradient (inputs prob, label, loss, dloss): -loss_weight * dloss / num /
/// max(prob[i, l_i], 1e-20) at the label's position, 0 elsewhere.
class MultinomialLossKernel : public RefKernel {
public:
  MultinomialLossKernel(std::string prefix, int64_t num, int64_t dim, double weight,
                        bool backward)
      : labels_{std::move(prefix), dim}, num_(num), dim_(dim), weight_(weight),
        backward_(backward) {}
  void forward(const float *const *in, float *const *out) override {
    double loss = 0.0;
    double scale = -weight_ * (backward_ ? double(in[3][0]) : 1.0) / double(num_);
    if (backward_)
      std::fill(out[0], out[0] + num_ * dim_, 0.0f);
    for (int64_t i = 0; i < num_; ++i) {
      int64_t l = labels_(in[1], i);
      double p = std::max(double(in[0][i * dim_ + l]), kLogThreshold);
      if (backward_)
        out[0][i * dim_ + l] = static_cast<float>(scale / p);
      else
        loss += std::log(p);
    }
    if (!backward_)
      out[0][0] = static_cast<float>(loss * scale);
  }

private:
  Labels labels_;
  int64_t num_, dim_;
  double weight_;
  bool backward_;
};

/// The [outer, classes, inner] split of validated logits.
AxisSplit splitLogits(const KernelDesc &desc, int64_t axis) {
  AxisSplit s;
  check(desc, ops::splitAxis(desc.inputs[0], axis, desc.op.c_str(), s));
  return s;
}

std::unique_ptr<Kernel> makeSoftmaxWithLoss(const KernelDesc &desc) {
  auto a = attrsOf<ops::SoftmaxWithLossAttrs>(desc);
  AxisSplit s = splitLogits(desc, a.axis);
  return std::make_unique<SoftmaxWithLossKernel>(Labels{desc.errorPrefix(), s.channels,
                                                        a.ignore_label},
                                                 s, a.normalization, a.loss_weight);
}

std::unique_ptr<Kernel> makeEuclideanLoss(const KernelDesc &desc) {
  const Shape &a = desc.inputs[0];
  return std::make_unique<EuclideanLossKernel>(numElements(a), a[0],
                                               attrsOf<ops::EuclideanLossAttrs>(desc).loss_weight);
}

std::unique_ptr<Kernel> makeSigmoidCrossEntropyLoss(const KernelDesc &desc) {
  auto a = attrsOf<ops::SigmoidCrossEntropyLossAttrs>(desc);
  const Shape &x = desc.inputs[0];
  int64_t outer = x[0], inner = outer == 0 ? 0 : numElements(x) / outer;
  return std::make_unique<SigmoidCrossEntropyKernel>(outer, inner, a.ignore_label.has_value(),
                                                     a.ignore_label.value_or(0), a.normalization,
                                                     a.loss_weight);
}

std::unique_ptr<Kernel> makeContrastiveLoss(const KernelDesc &desc) {
  auto a = attrsOf<ops::ContrastiveLossAttrs>(desc);
  const Shape &x = desc.inputs[0];
  return std::make_unique<ContrastiveLossKernel>(x[0], numElements(x) / x[0], a.margin,
                                                 a.legacy_version, a.loss_weight);
}

std::unique_ptr<Kernel> makeAccuracy(const KernelDesc &desc) {
  auto a = attrsOf<ops::AccuracyAttrs>(desc);
  AxisSplit s = splitLogits(desc, a.axis);
  return std::make_unique<AccuracyKernel>(Labels{desc.errorPrefix(), s.channels, a.ignore_label},
                                          s, a.top_k);
}

std::unique_ptr<Kernel> makeSoftmaxWithLossGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  auto a = attrsOf<ops::SoftmaxWithLossAttrs>(gd.fwd);
  AxisSplit s = splitLogits(gd.fwd, a.axis);
  return std::make_unique<SoftmaxWithLossGradKernel>(Labels{desc.errorPrefix(), s.channels,
                                                            a.ignore_label},
                                                     s, a.normalization, a.loss_weight);
}

std::unique_ptr<Kernel> makeEuclideanLossGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  const Shape &a = gd.fwd.inputs[0];
  return std::make_unique<EuclideanLossGradKernel>(
      numElements(a), a[0], attrsOf<ops::EuclideanLossAttrs>(gd.fwd).loss_weight,
      gd.outputOf(0), gd.outputOf(1));
}

std::unique_ptr<Kernel> makeSigmoidCrossEntropyLossGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  auto a = attrsOf<ops::SigmoidCrossEntropyLossAttrs>(gd.fwd);
  const Shape &x = gd.fwd.inputs[0];
  int64_t outer = x[0], inner = outer == 0 ? 0 : numElements(x) / outer;
  return std::make_unique<SigmoidCrossEntropyGradKernel>(
      outer, inner, a.ignore_label.has_value(), a.ignore_label.value_or(0), a.normalization,
      a.loss_weight);
}

std::unique_ptr<Kernel> makeContrastiveLossGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  auto a = attrsOf<ops::ContrastiveLossAttrs>(gd.fwd);
  const Shape &x = gd.fwd.inputs[0];
  return std::make_unique<ContrastiveLossGradKernel>(x[0], numElements(x) / x[0], a.margin,
                                                     a.legacy_version, a.loss_weight,
                                                     gd.outputOf(0), gd.outputOf(1));
}

/// [num, dim] of a loss input (Caffe's num and count / num).
std::pair<int64_t, int64_t> numDim(const Shape &x) {
  return {x[0], x[0] == 0 ? 0 : numElements(x) / x[0]};
}

std::unique_ptr<Kernel> makeHingeLoss(const KernelDesc &desc) {
  const KernelDesc &fwd = desc.isGradient() ? gradDesc(desc).fwd : desc;
  auto a = attrsOf<ops::HingeLossAttrs>(fwd);
  auto [num, dim] = numDim(fwd.inputs[0]);
  return std::make_unique<HingeLossKernel>(desc.errorPrefix(), num, dim, a.norm == "l2",
                                           a.loss_weight, desc.isGradient());
}

std::unique_ptr<Kernel> makeInfogainLoss(const KernelDesc &desc) {
  const KernelDesc &fwd = desc.isGradient() ? gradDesc(desc).fwd : desc;
  auto a = attrsOf<ops::InfogainLossAttrs>(fwd);
  AxisSplit s = splitLogits(fwd, a.axis);
  return std::make_unique<InfogainLossKernel>(Labels{desc.errorPrefix(), s.channels,
                                                     a.ignore_label},
                                              s, a.normalization, a.loss_weight,
                                              desc.isGradient());
}

std::unique_ptr<Kernel> makeMultinomialLoss(const KernelDesc &desc) {
  const KernelDesc &fwd = desc.isGradient() ? gradDesc(desc).fwd : desc;
  auto [num, dim] = numDim(fwd.inputs[0]);
  return std::make_unique<MultinomialLossKernel>(
      desc.errorPrefix(), num, dim, attrsOf<ops::MultinomialLogisticLossAttrs>(fwd).loss_weight,
      desc.isGradient());
}

} // namespace

DLC_REGISTER_KERNELS(DLC_REF_OP("hinge_loss", makeHingeLoss, makeHingeLoss),
                     DLC_REF_OP("infogain_loss", makeInfogainLoss, makeInfogainLoss),
                     DLC_REF_OP("multinomial_logistic_loss", makeMultinomialLoss,
                                makeMultinomialLoss),
                     DLC_REF_OP("softmax_with_loss", makeSoftmaxWithLoss, makeSoftmaxWithLossGrad),
                     DLC_REF_OP("euclidean_loss", makeEuclideanLoss, makeEuclideanLossGrad),
                     DLC_REF_OP("sigmoid_cross_entropy_loss", makeSigmoidCrossEntropyLoss,
                                makeSigmoidCrossEntropyLossGrad),
                     DLC_REF_OP("contrastive_loss", makeContrastiveLoss, makeContrastiveLossGrad),
                     DLC_REF_KERNEL("accuracy", Forward, makeAccuracy));

} // namespace dlc::rt::ref

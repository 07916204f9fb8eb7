//===- Pooling.cpp - Reference pooling and LRN ----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Pooling follows Caffe's PoolingLayer (CPU for max/ave, the GPU test-time
// kernel for stochastic); SPP is one pooling per pyramid level. LRN follows Caffe's LRNLayer, including the
// within-channel variant built from square, average pooling and power.
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace dlc::rt::ref {
namespace {

enum class PoolMethod { Max, Ave, Stochastic };

struct PoolGeometry {
  int64_t planes = 0; // N * C
  int64_t height = 0, width = 0;
  int64_t pooledH = 0, pooledW = 0;
  int64_t kh = 0, kw = 0, sh = 1, sw = 1, ph = 0, pw = 0;
};

/// Caffe's average pooling of one plane: the divisor counts the window
/// clipped to the padded input, the sum runs over the window clipped to the
/// unpadded input.
void avePoolPlane(const PoolGeometry &g, const double *x, double *y) {
  for (int64_t oh = 0; oh < g.pooledH; ++oh)
    for (int64_t ow = 0; ow < g.pooledW; ++ow) {
      int64_t hstart = oh * g.sh - g.ph, wstart = ow * g.sw - g.pw;
      int64_t hend = std::min(hstart + g.kh, g.height + g.ph);
      int64_t wend = std::min(wstart + g.kw, g.width + g.pw);
      int64_t poolSize = (hend - hstart) * (wend - wstart);
      hstart = std::max<int64_t>(hstart, 0);
      wstart = std::max<int64_t>(wstart, 0);
      hend = std::min(hend, g.height);
      wend = std::min(wend, g.width);
      double sum = 0.0;
      for (int64_t h = hstart; h < hend; ++h)
        for (int64_t w = wstart; w < wend; ++w)
          sum += x[h * g.width + w];
      y[oh * g.pooledW + ow] = sum / double(poolSize);
    }
}

/// Backward of avePoolPlane: dx[h, w] += dy[o] / poolSize(o) over the
/// windows o (clipped to the input) containing (h, w). dx is accumulated.
void avePoolBackwardPlane(const PoolGeometry &g, const double *dy, double *dx) {
  for (int64_t oh = 0; oh < g.pooledH; ++oh)
    for (int64_t ow = 0; ow < g.pooledW; ++ow) {
      int64_t hstart = oh * g.sh - g.ph, wstart = ow * g.sw - g.pw;
      int64_t hend = std::min(hstart + g.kh, g.height + g.ph);
      int64_t wend = std::min(wstart + g.kw, g.width + g.pw);
      int64_t poolSize = (hend - hstart) * (wend - wstart);
      hstart = std::max<int64_t>(hstart, 0);
      wstart = std::max<int64_t>(wstart, 0);
      hend = std::min(hend, g.height);
      wend = std::min(wend, g.width);
      double d = dy[oh * g.pooledW + ow] / double(poolSize);
      for (int64_t h = hstart; h < hend; ++h)
        for (int64_t w = wstart; w < wend; ++w)
          dx[h * g.width + w] += d;
    }
}

class PoolingKernel : public RefKernel {
public:
  PoolingKernel(PoolGeometry g, PoolMethod m) : g_(g), method_(m) {}

  void forward(const float *const *in, float *const *out) override {
    int64_t inPlane = g_.height * g_.width, outPlane = g_.pooledH * g_.pooledW;
    std::vector<double> xd(inPlane), yd(outPlane);
    for (int64_t p = 0; p < g_.planes; ++p) {
      const float *x = in[0] + p * inPlane;
      float *y = out[0] + p * outPlane;
      switch (method_) {
      case PoolMethod::Max:
        maxPlane(x, y);
        break;
      case PoolMethod::Ave:
        std::copy(x, x + inPlane, xd.begin());
        avePoolPlane(g_, xd.data(), yd.data());
        for (int64_t i = 0; i < outPlane; ++i)
          y[i] = static_cast<float>(yd[i]);
        break;
      case PoolMethod::Stochastic:
        stochasticPlane(x, y);
        break;
      }
    }
  }

private:
  void maxPlane(const float *x, float *y) const {
    for (int64_t oh = 0; oh < g_.pooledH; ++oh)
      for (int64_t ow = 0; ow < g_.pooledW; ++ow) {
        int64_t hstart = oh * g_.sh - g_.ph, wstart = ow * g_.sw - g_.pw;
        int64_t hend = std::min(hstart + g_.kh, g_.height);
        int64_t wend = std::min(wstart + g_.kw, g_.width);
        hstart = std::max<int64_t>(hstart, 0);
        wstart = std::max<int64_t>(wstart, 0);
        float m = -FLT_MAX;
        for (int64_t h = hstart; h < hend; ++h)
          for (int64_t w = wstart; w < wend; ++w)
            m = std::max(m, x[h * g_.width + w]);
        y[oh * g_.pooledW + ow] = m;
      }
  }

  // Caffe's StoPoolForwardTest: the window ignores padding; the result is
  // sum(x^2) / (FLT_MIN + sum(x)).
  void stochasticPlane(const float *x, float *y) const {
    for (int64_t oh = 0; oh < g_.pooledH; ++oh)
      for (int64_t ow = 0; ow < g_.pooledW; ++ow) {
        int64_t hstart = oh * g_.sh, wstart = ow * g_.sw;
        int64_t hend = std::min(hstart + g_.kh, g_.height);
        int64_t wend = std::min(wstart + g_.kw, g_.width);
        double cumsum = FLT_MIN, cumvalues = 0.0;
        for (int64_t h = hstart; h < hend; ++h)
          for (int64_t w = wstart; w < wend; ++w) {
            double v = x[h * g_.width + w];
            cumsum += v;
            cumvalues += v * v;
          }
        y[oh * g_.pooledW + ow] = static_cast<float>(cumvalues / cumsum);
      }
  }

  PoolGeometry g_;
  PoolMethod method_;
};

class LrnKernel : public RefKernel {
public:
  LrnKernel(const Shape &x, int64_t size, double alpha, double beta, double k, bool across)
      : n_(x[0]), c_(x[1]), h_(x[2]), w_(x[3]), size_(size), alpha_(alpha), beta_(beta),
        k_(k), across_(across) {}

  void forward(const float *const *in, float *const *out) override {
    if (across_)
      acrossChannels(in[0], out[0]);
    else
      withinChannel(in[0], out[0]);
  }

private:
  void acrossChannels(const float *x, float *y) const {
    int64_t plane = h_ * w_, prePad = (size_ - 1) / 2;
    double alphaOverSize = alpha_ / double(size_);
    for (int64_t n = 0; n < n_; ++n)
      for (int64_t c = 0; c < c_; ++c) {
        int64_t lo = std::max<int64_t>(0, c - prePad);
        int64_t hi = std::min<int64_t>(c_ - 1, c - prePad + size_ - 1);
        for (int64_t i = 0; i < plane; ++i) {
          double sq = 0.0;
          for (int64_t cc = lo; cc <= hi; ++cc) {
            double v = x[(n * c_ + cc) * plane + i];
            sq += v * v;
          }
          double scale = k_ + alphaOverSize * sq;
          double v = x[(n * c_ + c) * plane + i];
          y[(n * c_ + c) * plane + i] = static_cast<float>(v * std::pow(scale, -beta_));
        }
      }
  }

  // Caffe: product(x, power(avepool(square(x), kernel size, pad (size-1)/2),
  // power = -beta, scale = alpha, shift = 1)). k is not used.
  void withinChannel(const float *x, float *y) const {
    PoolGeometry g;
    g.height = h_;
    g.width = w_;
    g.kh = g.kw = size_;
    g.ph = g.pw = (size_ - 1) / 2;
    g.sh = g.sw = 1;
    g.pooledH = h_ + 2 * g.ph - size_ + 1; // == h_ for odd sizes
    g.pooledW = w_ + 2 * g.pw - size_ + 1;
    int64_t plane = h_ * w_;
    std::vector<double> sq(plane), pooled(plane);
    for (int64_t p = 0; p < n_ * c_; ++p) {
      const float *xp = x + p * plane;
      for (int64_t i = 0; i < plane; ++i)
        sq[i] = double(xp[i]) * double(xp[i]);
      avePoolPlane(g, sq.data(), pooled.data());
      for (int64_t i = 0; i < plane; ++i)
        y[p * plane + i] =
            static_cast<float>(double(xp[i]) * std::pow(1.0 + alpha_ * pooled[i], -beta_));
    }
  }

  int64_t n_, c_, h_, w_, size_;
  double alpha_, beta_, k_;
  bool across_;
};

/// Gradient of max / average pooling. Max routes each output gradient to
/// the first maximum of its window in Caffe's scan order (rows, then
/// columns; a later element wins only when strictly greater); an empty
/// window passes nothing. Average spreads it with Caffe's divisor.
class PoolingGradKernel : public RefKernel {
public:
  PoolingGradKernel(PoolGeometry g, PoolMethod m) : g_(g), method_(m) {}

  void forward(const float *const *in, float *const *out) override {
    int64_t inPlane = g_.height * g_.width, outPlane = g_.pooledH * g_.pooledW;
    std::vector<double> dyd(outPlane), dxd(inPlane);
    for (int64_t p = 0; p < g_.planes; ++p) {
      const float *x = in[0] + p * inPlane, *dy = in[2] + p * outPlane;
      float *dx = out[0] + p * inPlane;
      std::fill(dxd.begin(), dxd.end(), 0.0);
      if (method_ == PoolMethod::Max) {
        for (int64_t oh = 0; oh < g_.pooledH; ++oh)
          for (int64_t ow = 0; ow < g_.pooledW; ++ow) {
            int64_t hstart = oh * g_.sh - g_.ph, wstart = ow * g_.sw - g_.pw;
            int64_t hend = std::min(hstart + g_.kh, g_.height);
            int64_t wend = std::min(wstart + g_.kw, g_.width);
            hstart = std::max<int64_t>(hstart, 0);
            wstart = std::max<int64_t>(wstart, 0);
            float m = -FLT_MAX;
            int64_t arg = -1;
            for (int64_t h = hstart; h < hend; ++h)
              for (int64_t w = wstart; w < wend; ++w)
                if (x[h * g_.width + w] > m) {
                  m = x[h * g_.width + w];
                  arg = h * g_.width + w;
                }
            if (arg >= 0)
              dxd[arg] += dy[oh * g_.pooledW + ow];
          }
      } else {
        std::copy(dy, dy + outPlane, dyd.begin());
        avePoolBackwardPlane(g_, dyd.data(), dxd.data());
      }
      for (int64_t i = 0; i < inPlane; ++i)
        dx[i] = static_cast<float>(dxd[i]);
    }
  }

private:
  PoolGeometry g_;
  PoolMethod method_;
};

/// Gradient of LRN.
/// Across channels (Caffe's CrossChannelBackward): with
///   scale_c = k + alpha/size * sum_{c' in window(c)} x_c'^2,  y_c = x_c scale_c^-beta,
///   dx_c = dy_c scale_c^-beta
///          - 2 alpha beta / size * x_c * sum_{c': c in window(c')} dy_c' y_c' / scale_c'.
/// Within channel (Caffe's split/square/pool/power/product chain): with
///   s = 1 + alpha * avepool(x^2),  y = x s^-beta,
///   dx = dy s^-beta + 2 x * avepool_backward(-alpha beta dy x s^(-beta-1)).
/// Everything is recomputed from x in double.
class LrnGradKernel : public RefKernel {
public:
  LrnGradKernel(const Shape &x, int64_t size, double alpha, double beta, double k,
                bool across)
      : n_(x[0]), c_(x[1]), h_(x[2]), w_(x[3]), size_(size), alpha_(alpha), beta_(beta),
        k_(k), across_(across) {}

  void forward(const float *const *in, float *const *out) override {
    if (across_)
      acrossChannels(in[0], in[2], out[0]);
    else
      withinChannel(in[0], in[2], out[0]);
  }

private:
  void acrossChannels(const float *x, const float *dy, float *dx) const {
    int64_t plane = h_ * w_, prePad = (size_ - 1) / 2;
    double alphaOverSize = alpha_ / double(size_);
    std::vector<double> scale(c_), ratio(c_);
    for (int64_t n = 0; n < n_; ++n)
      for (int64_t i = 0; i < plane; ++i) {
        auto at = [&](int64_t c) { return (n * c_ + c) * plane + i; };
        for (int64_t c = 0; c < c_; ++c) {
          int64_t lo = std::max<int64_t>(0, c - prePad);
          int64_t hi = std::min<int64_t>(c_ - 1, c - prePad + size_ - 1);
          double sq = 0.0;
          for (int64_t cc = lo; cc <= hi; ++cc)
            sq += double(x[at(cc)]) * double(x[at(cc)]);
          scale[c] = k_ + alphaOverSize * sq;
          double y = double(x[at(c)]) * std::pow(scale[c], -beta_);
          ratio[c] = double(dy[at(c)]) * y / scale[c];
        }
        for (int64_t c = 0; c < c_; ++c) {
          // Channels c' whose window [c' - prePad, c' - prePad + size - 1]
          // contains c.
          int64_t lo = std::max<int64_t>(0, c + prePad - size_ + 1);
          int64_t hi = std::min<int64_t>(c_ - 1, c + prePad);
          double accum = 0.0;
          for (int64_t cc = lo; cc <= hi; ++cc)
            accum += ratio[cc];
          double v = double(dy[at(c)]) * std::pow(scale[c], -beta_) -
                     2.0 * alphaOverSize * beta_ * double(x[at(c)]) * accum;
          dx[at(c)] = static_cast<float>(v);
        }
      }
  }

  void withinChannel(const float *x, const float *dy, float *dx) const {
    PoolGeometry g;
    g.height = h_;
    g.width = w_;
    g.kh = g.kw = size_;
    g.ph = g.pw = (size_ - 1) / 2;
    g.sh = g.sw = 1;
    g.pooledH = h_ + 2 * g.ph - size_ + 1;
    g.pooledW = w_ + 2 * g.pw - size_ + 1;
    int64_t plane = h_ * w_;
    std::vector<double> sq(plane), pooled(plane), gp(plane), gsq(plane);
    for (int64_t p = 0; p < n_ * c_; ++p) {
      const float *xp = x + p * plane, *dyp = dy + p * plane;
      for (int64_t i = 0; i < plane; ++i)
        sq[i] = double(xp[i]) * double(xp[i]);
      avePoolPlane(g, sq.data(), pooled.data());
      for (int64_t i = 0; i < plane; ++i) {
        double s = 1.0 + alpha_ * pooled[i];
        gp[i] = -alpha_ * beta_ * double(dyp[i]) * double(xp[i]) * std::pow(s, -beta_ - 1.0);
      }
      std::fill(gsq.begin(), gsq.end(), 0.0);
      avePoolBackwardPlane(g, gp.data(), gsq.data());
      for (int64_t i = 0; i < plane; ++i) {
        double s = 1.0 + alpha_ * pooled[i];
        dx[p * plane + i] = static_cast<float>(double(dyp[i]) * std::pow(s, -beta_) +
                                               2.0 * double(xp[i]) * gsq[i]);
      }
    }
  }

  int64_t n_, c_, h_, w_, size_;
  double alpha_, beta_, k_;
  bool across_;
};

/// The kernel's geometry from the op library's.
PoolGeometry fromOps(const ops::PoolGeometry &og) {
  PoolGeometry g;
  g.planes = og.batch * og.channels;
  g.height = og.height, g.width = og.width;
  g.pooledH = og.oh, g.pooledW = og.ow;
  g.kh = og.kh, g.kw = og.kw, g.sh = og.sh, g.sw = og.sw, g.ph = og.ph, g.pw = og.pw;
  return g;
}

PoolGeometry poolGeometry(const KernelDesc &desc) {
  ops::PoolGeometry og;
  check(desc, ops::poolGeometry(attrsOf<ops::PoolingAttrs>(desc), desc.inputs[0], og));
  return fromOps(og);
}

/// Spatial pyramid pooling (Caffe's SPPLayer): one pooling per level,
/// each image's pooled levels flattened and concatenated ([N, sum C*bins]);
/// a one-level pyramid is the pooling itself. The gradient adds the levels'
/// pooling gradients.
class SppKernel : public RefKernel {
public:
  SppKernel(std::vector<PoolGeometry> levels, PoolMethod method, int64_t batch, bool backward)
      : levels_(std::move(levels)), method_(method), batch_(batch), backward_(backward) {}

  void forward(const float *const *in, float *const *out) override {
    const int64_t inItem = levels_[0].planes / batch_ * levels_[0].height * levels_[0].width;
    int64_t total = 0;
    for (const PoolGeometry &g : levels_)
      total += g.planes / batch_ * g.pooledH * g.pooledW;
    if (backward_)
      std::fill(out[0], out[0] + batch_ * inItem, 0.0f);
    int64_t offset = 0;
    for (const PoolGeometry &g : levels_) {
      const int64_t item = g.planes / batch_ * g.pooledH * g.pooledW;
      std::vector<float> pooled(size_t(batch_ * item)), dx;
      if (backward_) {
        for (int64_t n = 0; n < batch_; ++n)
          std::copy(in[2] + n * total + offset, in[2] + n * total + offset + item,
                    pooled.begin() + n * item);
        dx.assign(size_t(batch_ * inItem), 0.0f);
        const float *gradIn[] = {in[0], nullptr, pooled.data()};
        float *gradOut[] = {dx.data()};
        PoolingGradKernel(g, method_).forward(gradIn, gradOut);
        for (size_t i = 0; i < dx.size(); ++i)
          out[0][i] += dx[i];
      } else {
        float *dst[] = {pooled.data()};
        PoolingKernel(g, method_).forward(in, dst);
        for (int64_t n = 0; n < batch_; ++n)
          std::copy(pooled.begin() + n * item, pooled.begin() + (n + 1) * item,
                    out[0] + n * total + offset);
      }
      offset += item;
    }
  }

private:
  std::vector<PoolGeometry> levels_;
  PoolMethod method_;
  int64_t batch_;
  bool backward_;
};

PoolMethod methodOf(const std::string &pool) {
  return pool == "max" ? PoolMethod::Max : pool == "ave" ? PoolMethod::Ave : PoolMethod::Stochastic;
}

std::unique_ptr<Kernel> makePooling(const KernelDesc &desc) {
  return std::make_unique<PoolingKernel>(poolGeometry(desc),
                                         methodOf(attrsOf<ops::PoolingAttrs>(desc).pool));
}

std::unique_ptr<Kernel> makeSpp(const KernelDesc &desc) {
  const KernelDesc &fwd = desc.isGradient() ? gradDesc(desc).fwd : desc;
  auto a = attrsOf<ops::SPPAttrs>(fwd);
  if (desc.isGradient() && a.pool == "stochastic")
    desc.fail("stochastic pooling has no gradient (only max and ave are differentiable)");
  std::vector<PoolGeometry> levels;
  for (int64_t l = 0; l < a.pyramid_height; ++l) {
    ops::PoolGeometry og;
    check(desc, ops::sppLevelGeometry(a, fwd.inputs[0], l, og));
    levels.push_back(fromOps(og));
  }
  return std::make_unique<SppKernel>(std::move(levels), methodOf(a.pool), fwd.inputs[0][0],
                                     desc.isGradient());
}

std::unique_ptr<Kernel> makeLrn(const KernelDesc &desc) {
  auto a = attrsOf<ops::LRNAttrs>(desc);
  return std::make_unique<LrnKernel>(desc.inputs[0], a.local_size, a.alpha, a.beta, a.k,
                                     a.norm_region == "across_channels");
}

std::unique_ptr<Kernel> makePoolingGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  std::string pool = attrsOf<ops::PoolingAttrs>(gd.fwd).pool;
  if (pool == "stochastic")
    desc.fail("stochastic pooling has no gradient (only max and ave are differentiable)");
  return std::make_unique<PoolingGradKernel>(poolGeometry(gd.fwd), methodOf(pool));
}

std::unique_ptr<Kernel> makeLrnGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  auto a = attrsOf<ops::LRNAttrs>(gd.fwd);
  return std::make_unique<LrnGradKernel>(gd.fwd.inputs[0], a.local_size, a.alpha, a.beta, a.k,
                                         a.norm_region == "across_channels");
}

} // namespace

DLC_REGISTER_KERNELS(DLC_REF_OP("pooling", makePooling, makePoolingGrad),
                     DLC_REF_OP("spp", makeSpp, makeSpp),
                     DLC_REF_OP("lrn", makeLrn, makeLrnGrad));

} // namespace dlc::rt::ref

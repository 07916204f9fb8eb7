//===- RefPool.cpp - Reference pooling and LRN ----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Pooling follows Caffe's PoolingLayer (CPU for max/ave, the GPU test-time
// kernel for stochastic). LRN follows Caffe's LRNLayer, including the
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

int64_t pooledSize(const KernelDesc &desc, int64_t in, int64_t k, int64_t s, int64_t p,
                   bool ceilMode, bool anyPad) {
  int64_t span = in + 2 * p - k;
  if (span < 0)
    fail(desc, "kernel (" + std::to_string(k) + ") is larger than the padded input (" +
                   std::to_string(in + 2 * p) + ")");
  int64_t o = (ceilMode ? (span + s - 1) / s : span / s) + 1;
  // Caffe's clip (PoolingLayer::Reshape), applied only when the layer has
  // padding on some axis: the last window must start inside the input or
  // its left/top padding. Without padding Caffe keeps a window that starts
  // past the input (kernel < stride); it is empty and, as in Caffe, pools
  // to -FLT_MAX (max) or 0/0 (ave).
  if (anyPad && (o - 1) * s >= in + p)
    --o;
  return o;
}

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

} // namespace

std::unique_ptr<Kernel> makePooling(const KernelDesc &desc) {
  checkArity(desc, 1, 1, 1);
  checkRank(desc, 0, 4, "input");
  const Shape &x = desc.inputs[0];
  std::string pool = desc.attrs.getString("pool", "max");
  PoolMethod method;
  if (pool == "max")
    method = PoolMethod::Max;
  else if (pool == "ave")
    method = PoolMethod::Ave;
  else if (pool == "stochastic")
    method = PoolMethod::Stochastic;
  else
    fail(desc, "attribute 'pool' has unknown value '" + pool +
                   "' (expected max, ave or stochastic)");
  std::string round = desc.attrs.getString("round_mode", "ceil");
  if (round != "ceil" && round != "floor")
    fail(desc, "attribute 'round_mode' has unknown value '" + round +
                   "' (expected ceil or floor)");
  PoolGeometry g;
  g.planes = x[0] * x[1];
  g.height = x[2];
  g.width = x[3];
  if (desc.attrs.getBool("global_pooling", false)) {
    g.kh = g.height;
    g.kw = g.width;
    // Caffe requires pad 0 and stride 1 with global pooling.
    std::vector<int64_t> pad = spatialAttr(desc, "pad", 2, 0);
    std::vector<int64_t> stride = spatialAttr(desc, "stride", 2, 1);
    if (pad[0] != 0 || pad[1] != 0 || stride[0] != 1 || stride[1] != 1)
      fail(desc, "global pooling needs pad 0 and stride 1");
  } else {
    std::vector<int64_t> k = spatialAttr(desc, "kernel", 2, -1);
    std::vector<int64_t> s = spatialAttr(desc, "stride", 2, 1);
    std::vector<int64_t> p = spatialAttr(desc, "pad", 2, 0);
    g.kh = k[0], g.kw = k[1], g.sh = s[0], g.sw = s[1], g.ph = p[0], g.pw = p[1];
  }
  if (g.kh <= 0 || g.kw <= 0)
    fail(desc, "kernel entries must be positive");
  if (g.sh <= 0 || g.sw <= 0)
    fail(desc, "stride entries must be positive");
  if (g.ph < 0 || g.pw < 0)
    fail(desc, "pad entries must be non-negative");
  if (g.ph >= g.kh || g.pw >= g.kw)
    fail(desc, "pad must be smaller than kernel");
  bool ceilMode = round == "ceil";
  bool anyPad = g.ph != 0 || g.pw != 0;
  g.pooledH = pooledSize(desc, g.height, g.kh, g.sh, g.ph, ceilMode, anyPad);
  g.pooledW = pooledSize(desc, g.width, g.kw, g.sw, g.pw, ceilMode, anyPad);
  checkOutputs(desc, {{x[0], x[1], g.pooledH, g.pooledW}});
  return std::make_unique<PoolingKernel>(g, method);
}

std::unique_ptr<Kernel> makeLrn(const KernelDesc &desc) {
  checkArity(desc, 1, 1, 1);
  checkRank(desc, 0, 4, "input");
  int64_t size = desc.attrs.getInt("local_size", 5);
  if (size <= 0 || size % 2 == 0)
    fail(desc, "local_size must be a positive odd number, got " + std::to_string(size));
  double alpha = desc.attrs.getFloat("alpha", 1.0);
  double beta = desc.attrs.getFloat("beta", 0.75);
  double k = desc.attrs.getFloat("k", 1.0);
  std::string region = desc.attrs.getString("norm_region", "across_channels");
  if (region != "across_channels" && region != "within_channel")
    fail(desc, "attribute 'norm_region' has unknown value '" + region +
                   "' (expected across_channels or within_channel)");
  checkOutputs(desc, {desc.inputs[0]});
  return std::make_unique<LrnKernel>(desc.inputs[0], size, alpha, beta, k,
                                     region == "across_channels");
}

} // namespace dlc::rt::ref

namespace dlc::rt::ref {

std::unique_ptr<Kernel> makePoolingGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makePooling);
  const KernelDesc &f = gd.fwd;
  std::string pool = f.attrs.getString("pool", "max");
  if (pool == "stochastic")
    fail(desc, "stochastic pooling has no gradient (only max and ave are differentiable)");
  // The forward factory accepted the description: rebuild its geometry.
  const Shape &x = f.inputs[0], &y = f.outputs[0];
  PoolGeometry g;
  g.planes = x[0] * x[1];
  g.height = x[2];
  g.width = x[3];
  g.pooledH = y[2];
  g.pooledW = y[3];
  if (f.attrs.getBool("global_pooling", false)) {
    g.kh = g.height;
    g.kw = g.width;
  } else {
    std::vector<int64_t> k = spatialAttr(f, "kernel", 2, -1);
    std::vector<int64_t> s = spatialAttr(f, "stride", 2, 1);
    std::vector<int64_t> p = spatialAttr(f, "pad", 2, 0);
    g.kh = k[0], g.kw = k[1], g.sh = s[0], g.sw = s[1], g.ph = p[0], g.pw = p[1];
  }
  return std::make_unique<PoolingGradKernel>(g, pool == "max" ? PoolMethod::Max
                                                              : PoolMethod::Ave);
}

std::unique_ptr<Kernel> makeLrnGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeLrn);
  const Attrs &a = gd.fwd.attrs;
  return std::make_unique<LrnGradKernel>(
      gd.fwd.inputs[0], a.getInt("local_size", 5), a.getFloat("alpha", 1.0),
      a.getFloat("beta", 0.75), a.getFloat("k", 1.0),
      a.getString("norm_region", "across_channels") == "across_channels");
}

} // namespace dlc::rt::ref

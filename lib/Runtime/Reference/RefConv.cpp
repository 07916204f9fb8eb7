//===- RefConv.cpp - Reference convolution, deconvolution, inner product ---===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Convolution and deconvolution over any number of spatial axes, as direct
// loops. Both use one precomputed index table: for every position of the
// "small" spatial grid (convolution output / deconvolution input) and every
// kernel tap, the offset of the tap in the "big" grid (convolution input /
// deconvolution output), or -1 when it falls into the padding. Convolution
// gathers through it (im2col), deconvolution scatters through it (col2im).
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include <cmath>

namespace dlc::rt::ref {
namespace {

struct ConvGeometry {
  int64_t batch = 0;
  int64_t inChannels = 0;  // channels of the op's input
  int64_t outChannels = 0; // num_output
  int64_t group = 1;
  std::vector<int64_t> kernel, stride, pad, dilation;
  std::vector<int64_t> big, small; // spatial dims of the two grids
  int64_t bigSize = 0, smallSize = 0, kernelSize = 0;
  std::vector<int64_t> table; // [smallSize][kernelSize] -> offset in big or -1
  bool hasBias = false;

  void buildTable() {
    size_t nd = kernel.size();
    bigSize = numElements(big);
    smallSize = numElements(small);
    kernelSize = numElements(kernel);
    table.assign(static_cast<size_t>(smallSize * kernelSize), -1);
    std::vector<int64_t> o(nd, 0), k(nd, 0);
    for (int64_t op = 0; op < smallSize; ++op) {
      // Decompose op into per-axis output coordinates.
      int64_t rem = op;
      for (size_t a = nd; a-- > 0;) {
        o[a] = rem % small[a];
        rem /= small[a];
      }
      for (int64_t kp = 0; kp < kernelSize; ++kp) {
        int64_t krem = kp;
        for (size_t a = nd; a-- > 0;) {
          k[a] = krem % kernel[a];
          krem /= kernel[a];
        }
        int64_t offset = 0;
        bool inside = true;
        for (size_t a = 0; a < nd && inside; ++a) {
          int64_t pos = o[a] * stride[a] - pad[a] + k[a] * dilation[a];
          if (pos < 0 || pos >= big[a])
            inside = false;
          offset = offset * big[a] + pos;
        }
        if (inside)
          table[op * kernelSize + kp] = offset;
      }
    }
  }
};

/// Reads and checks the attributes and shapes shared by convolution and
/// deconvolution; fills everything but big/small and the table.
ConvGeometry readConv(const KernelDesc &desc, bool deconv) {
  checkArity(desc, 2, 3, 1);
  checkMinRank(desc, 0, 3, "input");
  const Shape &x = desc.inputs[0];
  size_t nd = x.size() - 2;
  ConvGeometry g;
  g.batch = x[0];
  g.inChannels = x[1];
  g.outChannels = requireInt(desc, "num_output");
  g.group = desc.attrs.getInt("group", 1);
  g.kernel = spatialAttr(desc, "kernel", nd, -1);
  g.stride = spatialAttr(desc, "stride", nd, 1);
  g.pad = spatialAttr(desc, "pad", nd, 0);
  g.dilation = spatialAttr(desc, "dilation", nd, 1);
  g.hasBias = desc.inputs.size() == 3;
  if (g.outChannels <= 0)
    fail(desc, "num_output must be positive, got " + std::to_string(g.outChannels));
  if (g.group <= 0)
    fail(desc, "group must be positive, got " + std::to_string(g.group));
  if (g.inChannels % g.group != 0)
    fail(desc, "input channels (" + std::to_string(g.inChannels) +
                   ") must be divisible by group (" + std::to_string(g.group) + ")");
  if (g.outChannels % g.group != 0)
    fail(desc, "num_output (" + std::to_string(g.outChannels) +
                   ") must be divisible by group (" + std::to_string(g.group) + ")");
  for (size_t a = 0; a < nd; ++a) {
    if (g.kernel[a] <= 0)
      fail(desc, "kernel entries must be positive");
    if (g.stride[a] <= 0)
      fail(desc, "stride entries must be positive");
    if (g.dilation[a] <= 0)
      fail(desc, "dilation entries must be positive");
    if (g.pad[a] < 0)
      fail(desc, "pad entries must be non-negative");
  }
  Shape w;
  if (deconv)
    w = {g.inChannels, g.outChannels / g.group};
  else
    w = {g.outChannels, g.inChannels / g.group};
  w.insert(w.end(), g.kernel.begin(), g.kernel.end());
  checkInput(desc, 1, w, "weight");
  if (g.hasBias)
    checkInput(desc, 2, {g.outChannels}, "bias");
  return g;
}

class ConvKernel : public RefKernel {
public:
  ConvKernel(ConvGeometry g, bool deconv) : g_(std::move(g)), deconv_(deconv) {}

  void forward(const float *const *in, float *const *out) override {
    if (deconv_)
      runDeconv(in, out);
    else
      runConv(in, out);
  }

private:
  void runConv(const float *const *in, float *const *out) {
    const float *x = in[0], *w = in[1], *b = g_.hasBias ? in[2] : nullptr;
    float *y = out[0];
    int64_t cg = g_.inChannels / g_.group, og = g_.outChannels / g_.group;
    int64_t ks = g_.kernelSize;
    for (int64_t n = 0; n < g_.batch; ++n)
      for (int64_t gr = 0; gr < g_.group; ++gr)
        for (int64_t oc = 0; oc < og; ++oc) {
          int64_t ocAbs = gr * og + oc;
          float *yc = y + (n * g_.outChannels + ocAbs) * g_.smallSize;
          for (int64_t op = 0; op < g_.smallSize; ++op) {
            double acc = b ? double(b[ocAbs]) : 0.0;
            const int64_t *tab = &g_.table[op * ks];
            for (int64_t ic = 0; ic < cg; ++ic) {
              const float *xc = x + (n * g_.inChannels + gr * cg + ic) * g_.bigSize;
              const float *wc = w + (ocAbs * cg + ic) * ks;
              for (int64_t kp = 0; kp < ks; ++kp)
                if (tab[kp] >= 0)
                  acc += double(xc[tab[kp]]) * double(wc[kp]);
            }
            yc[op] = static_cast<float>(acc);
          }
        }
  }

  void runDeconv(const float *const *in, float *const *out) {
    const float *x = in[0], *w = in[1], *b = g_.hasBias ? in[2] : nullptr;
    float *y = out[0];
    int64_t cg = g_.inChannels / g_.group, og = g_.outChannels / g_.group;
    int64_t ks = g_.kernelSize;
    std::vector<double> acc(static_cast<size_t>(g_.bigSize));
    for (int64_t n = 0; n < g_.batch; ++n)
      for (int64_t gr = 0; gr < g_.group; ++gr)
        for (int64_t oc = 0; oc < og; ++oc) {
          int64_t ocAbs = gr * og + oc;
          std::fill(acc.begin(), acc.end(), b ? double(b[ocAbs]) : 0.0);
          for (int64_t ic = 0; ic < cg; ++ic) {
            int64_t icAbs = gr * cg + ic;
            const float *xc = x + (n * g_.inChannels + icAbs) * g_.smallSize;
            // weight [C, num_output/group, k...]
            const float *wc = w + (icAbs * og + oc) * ks;
            for (int64_t ip = 0; ip < g_.smallSize; ++ip) {
              double xv = xc[ip];
              const int64_t *tab = &g_.table[ip * ks];
              for (int64_t kp = 0; kp < ks; ++kp)
                if (tab[kp] >= 0)
                  acc[tab[kp]] += xv * double(wc[kp]);
            }
          }
          float *yc = y + (n * g_.outChannels + ocAbs) * g_.bigSize;
          for (int64_t i = 0; i < g_.bigSize; ++i)
            yc[i] = static_cast<float>(acc[i]);
        }
  }

  ConvGeometry g_;
  bool deconv_;
};

class InnerProductKernel : public RefKernel {
public:
  InnerProductKernel(int64_t m, int64_t n, int64_t k, bool transpose, bool bias)
      : m_(m), n_(n), k_(k), transpose_(transpose), bias_(bias) {}
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *w = in[1], *b = bias_ ? in[2] : nullptr;
    float *y = out[0];
    for (int64_t i = 0; i < m_; ++i)
      for (int64_t j = 0; j < n_; ++j) {
        double acc = b ? double(b[j]) : 0.0;
        const float *xr = x + i * k_;
        if (transpose_)
          for (int64_t l = 0; l < k_; ++l)
            acc += double(xr[l]) * double(w[l * n_ + j]);
        else
          for (int64_t l = 0; l < k_; ++l)
            acc += double(xr[l]) * double(w[j * k_ + l]);
        y[i * n_ + j] = static_cast<float>(acc);
      }
  }

private:
  int64_t m_, n_, k_;
  bool transpose_, bias_;
};

class EmbedKernel : public RefKernel {
public:
  EmbedKernel(std::string prefix, int64_t m, int64_t n, int64_t k, bool bias)
      : prefix_(std::move(prefix)), m_(m), n_(n), k_(k), bias_(bias) {}
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *w = in[1], *b = bias_ ? in[2] : nullptr;
    float *y = out[0];
    for (int64_t i = 0; i < m_; ++i) {
      float v = x[i];
      if (!(v >= 0.0f && v < float(k_)) || std::floor(v) != v)
        throw Error(prefix_ + "index " + std::to_string(v) + " at position " +
                    std::to_string(i) + " is not an integer in [0, " +
                    std::to_string(k_) + ")");
      int64_t idx = static_cast<int64_t>(v);
      for (int64_t j = 0; j < n_; ++j) {
        double acc = double(w[idx * n_ + j]);
        if (b)
          acc += double(b[j]);
        y[i * n_ + j] = static_cast<float>(acc);
      }
    }
  }

private:
  std::string prefix_;
  int64_t m_, n_, k_;
  bool bias_;
};

/// Gradients of convolution / deconvolution. Inputs: x, w, b?, y, dy.
/// Convolution: y[n, o, p] = b[o] + sum_{c, k} w[o, c, k] x[n, c, table[p, k]];
/// deconvolution swaps the roles of the grids:
///   y[n, o, table[p, k]] += x[n, c, p] w[c, o, k].
class ConvGradKernel : public RefKernel {
public:
  ConvGradKernel(ConvGeometry g, bool deconv, int outX, int outW, int outB)
      : g_(std::move(g)), deconv_(deconv), outX_(outX), outW_(outW), outB_(outB) {}

  void forward(const float *const *in, float *const *out) override {
    int nOps = g_.hasBias ? 3 : 2;
    const float *x = in[0], *w = in[1], *dy = in[nOps + 1];
    int64_t cg = g_.inChannels / g_.group, og = g_.outChannels / g_.group;
    int64_t ks = g_.kernelSize;
    // x lives on the small grid for deconvolution, the big one for convolution.
    int64_t xPlane = deconv_ ? g_.smallSize : g_.bigSize;
    int64_t yPlane = deconv_ ? g_.bigSize : g_.smallSize;
    std::vector<double> dx(outX_ >= 0 ? g_.batch * g_.inChannels * xPlane : 0, 0.0);
    std::vector<double> dw(outW_ >= 0 ? g_.outChannels * cg * ks : 0, 0.0);
    for (int64_t n = 0; n < g_.batch; ++n)
      for (int64_t gr = 0; gr < g_.group; ++gr)
        for (int64_t oc = 0; oc < og; ++oc) {
          int64_t ocAbs = gr * og + oc;
          const float *dyc = dy + (n * g_.outChannels + ocAbs) * yPlane;
          for (int64_t ic = 0; ic < cg; ++ic) {
            int64_t icAbs = gr * cg + ic;
            const float *xc = x + (n * g_.inChannels + icAbs) * xPlane;
            double *dxc = outX_ >= 0 ? &dx[(n * g_.inChannels + icAbs) * xPlane] : nullptr;
            // Weight layout: conv [O, C/g, k...], deconv [C, O/g, k...].
            int64_t wOff = deconv_ ? (icAbs * og + oc) * ks : (ocAbs * cg + ic) * ks;
            const float *wc = w + wOff;
            double *dwc = outW_ >= 0 ? &dw[wOff] : nullptr;
            for (int64_t sp = 0; sp < g_.smallSize; ++sp) {
              const int64_t *tab = &g_.table[sp * ks];
              for (int64_t kp = 0; kp < ks; ++kp) {
                int64_t bp = tab[kp];
                if (bp < 0)
                  continue;
                // (x index, y index) of this tap.
                int64_t xi = deconv_ ? sp : bp, yi = deconv_ ? bp : sp;
                double d = dyc[yi];
                if (dxc)
                  dxc[xi] += d * double(wc[kp]);
                if (dwc)
                  dwc[kp] += d * double(xc[xi]);
              }
            }
          }
        }
    if (outX_ >= 0)
      store(dx, out[outX_]);
    if (outW_ >= 0)
      store(dw, out[outW_]);
    if (outB_ >= 0)
      for (int64_t o = 0; o < g_.outChannels; ++o) {
        double acc = 0.0;
        for (int64_t n = 0; n < g_.batch; ++n) {
          const float *dyc = dy + (n * g_.outChannels + o) * yPlane;
          for (int64_t i = 0; i < yPlane; ++i)
            acc += dyc[i];
        }
        out[outB_][o] = static_cast<float>(acc);
      }
  }

private:
  static void store(const std::vector<double> &v, float *dst) {
    for (size_t i = 0; i < v.size(); ++i)
      dst[i] = static_cast<float>(v[i]);
  }

  ConvGeometry g_;
  bool deconv_;
  int outX_, outW_, outB_;
};

/// Gradients of inner_product: y[i, j] = b[j] + sum_l x[i, l] W(j, l).
class InnerProductGradKernel : public RefKernel {
public:
  InnerProductGradKernel(int64_t m, int64_t n, int64_t k, bool transpose, bool bias,
                         int outX, int outW, int outB)
      : m_(m), n_(n), k_(k), transpose_(transpose), bias_(bias), outX_(outX),
        outW_(outW), outB_(outB) {}
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *w = in[1], *dy = in[bias_ ? 4 : 3];
    auto widx = [&](int64_t j, int64_t l) { return transpose_ ? l * n_ + j : j * k_ + l; };
    if (outX_ >= 0)
      for (int64_t i = 0; i < m_; ++i)
        for (int64_t l = 0; l < k_; ++l) {
          double acc = 0.0;
          for (int64_t j = 0; j < n_; ++j)
            acc += double(dy[i * n_ + j]) * double(w[widx(j, l)]);
          out[outX_][i * k_ + l] = static_cast<float>(acc);
        }
    if (outW_ >= 0)
      for (int64_t j = 0; j < n_; ++j)
        for (int64_t l = 0; l < k_; ++l) {
          double acc = 0.0;
          for (int64_t i = 0; i < m_; ++i)
            acc += double(dy[i * n_ + j]) * double(x[i * k_ + l]);
          out[outW_][widx(j, l)] = static_cast<float>(acc);
        }
    if (outB_ >= 0)
      for (int64_t j = 0; j < n_; ++j) {
        double acc = 0.0;
        for (int64_t i = 0; i < m_; ++i)
          acc += dy[i * n_ + j];
        out[outB_][j] = static_cast<float>(acc);
      }
  }

private:
  int64_t m_, n_, k_;
  bool transpose_, bias_;
  int outX_, outW_, outB_;
};

/// Gradients of embed for the weight (rows picked by the indices get the
/// sum of their output gradients) and the bias; indices get none.
class EmbedGradKernel : public RefKernel {
public:
  EmbedGradKernel(std::string prefix, int64_t m, int64_t n, int64_t k, bool bias, int outW,
                  int outB)
      : prefix_(std::move(prefix)), m_(m), n_(n), k_(k), bias_(bias), outW_(outW),
        outB_(outB) {}
  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *dy = in[bias_ ? 4 : 3];
    if (outW_ >= 0) {
      std::vector<double> dw(k_ * n_, 0.0);
      for (int64_t i = 0; i < m_; ++i) {
        float v = x[i];
        if (!(v >= 0.0f && v < float(k_)) || std::floor(v) != v)
          throw Error(prefix_ + "index " + std::to_string(v) + " at position " +
                      std::to_string(i) + " is not an integer in [0, " +
                      std::to_string(k_) + ")");
        int64_t idx = static_cast<int64_t>(v);
        for (int64_t j = 0; j < n_; ++j)
          dw[idx * n_ + j] += dy[i * n_ + j];
      }
      for (int64_t i = 0; i < k_ * n_; ++i)
        out[outW_][i] = static_cast<float>(dw[i]);
    }
    if (outB_ >= 0)
      for (int64_t j = 0; j < n_; ++j) {
        double acc = 0.0;
        for (int64_t i = 0; i < m_; ++i)
          acc += dy[i * n_ + j];
        out[outB_][j] = static_cast<float>(acc);
      }
  }

private:
  std::string prefix_;
  int64_t m_, n_, k_;
  bool bias_;
  int outW_, outB_;
};

} // namespace

std::unique_ptr<Kernel> makeConvolution(const KernelDesc &desc) {
  ConvGeometry g = readConv(desc, /*deconv=*/false);
  const Shape &x = desc.inputs[0];
  size_t nd = g.kernel.size();
  Shape out = {g.batch, g.outChannels};
  for (size_t a = 0; a < nd; ++a) {
    int64_t extent = g.dilation[a] * (g.kernel[a] - 1) + 1;
    int64_t padded = x[2 + a] + 2 * g.pad[a];
    if (padded < extent)
      fail(desc, "dilated kernel (" + std::to_string(extent) +
                     ") is larger than the padded input (" + std::to_string(padded) +
                     ") on spatial axis " + std::to_string(a));
    out.push_back((padded - extent) / g.stride[a] + 1);
  }
  checkOutputs(desc, {out});
  g.big.assign(x.begin() + 2, x.end());
  g.small.assign(out.begin() + 2, out.end());
  g.buildTable();
  return std::make_unique<ConvKernel>(std::move(g), false);
}

std::unique_ptr<Kernel> makeDeconvolution(const KernelDesc &desc) {
  ConvGeometry g = readConv(desc, /*deconv=*/true);
  const Shape &x = desc.inputs[0];
  size_t nd = g.kernel.size();
  Shape out = {g.batch, g.outChannels};
  for (size_t a = 0; a < nd; ++a) {
    int64_t extent = g.dilation[a] * (g.kernel[a] - 1) + 1;
    int64_t o = g.stride[a] * (x[2 + a] - 1) + extent - 2 * g.pad[a];
    if (o <= 0)
      fail(desc, "output size on spatial axis " + std::to_string(a) +
                     " would be " + std::to_string(o));
    out.push_back(o);
  }
  checkOutputs(desc, {out});
  // The deconvolution input is the "small" grid of the equivalent convolution.
  g.big.assign(out.begin() + 2, out.end());
  g.small.assign(x.begin() + 2, x.end());
  g.buildTable();
  return std::make_unique<ConvKernel>(std::move(g), true);
}

std::unique_ptr<Kernel> makeInnerProduct(const KernelDesc &desc) {
  checkArity(desc, 2, 3, 1);
  const Shape &x = desc.inputs[0];
  checkMinRank(desc, 0, 1, "input");
  int64_t n = requireInt(desc, "num_output");
  if (n <= 0)
    fail(desc, "num_output must be positive, got " + std::to_string(n));
  int64_t axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), x.size(), "axis");
  bool transpose = desc.attrs.getBool("transpose", false);
  int64_t k = countRange(x, axis, x.size());
  int64_t m = countRange(x, 0, axis);
  checkInput(desc, 1, transpose ? Shape{k, n} : Shape{n, k}, "weight");
  if (desc.inputs.size() == 3)
    checkInput(desc, 2, {n}, "bias");
  Shape out(x.begin(), x.begin() + axis);
  out.push_back(n);
  checkOutputs(desc, {out});
  return std::make_unique<InnerProductKernel>(m, n, k, transpose, desc.inputs.size() == 3);
}

std::unique_ptr<Kernel> makeEmbed(const KernelDesc &desc) {
  checkArity(desc, 2, 3, 1);
  int64_t n = requireInt(desc, "num_output");
  int64_t k = requireInt(desc, "input_dim");
  if (n <= 0)
    fail(desc, "num_output must be positive, got " + std::to_string(n));
  if (k <= 0)
    fail(desc, "input_dim must be positive, got " + std::to_string(k));
  checkInput(desc, 1, {k, n}, "weight");
  if (desc.inputs.size() == 3)
    checkInput(desc, 2, {n}, "bias");
  Shape out = desc.inputs[0];
  out.push_back(n);
  checkOutputs(desc, {out});
  return std::make_unique<EmbedKernel>(errorPrefix(desc), numElements(desc.inputs[0]), n,
                                       k, desc.inputs.size() == 3);
}

} // namespace dlc::rt::ref

namespace dlc::rt::ref {

namespace {
/// Geometry of a validated forward convolution / deconvolution.
ConvGeometry convGeometry(const KernelDesc &fwd, bool deconv) {
  ConvGeometry g = readConv(fwd, deconv);
  const Shape &x = fwd.inputs[0], &y = fwd.outputs[0];
  if (deconv) {
    g.big.assign(y.begin() + 2, y.end());
    g.small.assign(x.begin() + 2, x.end());
  } else {
    g.big.assign(x.begin() + 2, x.end());
    g.small.assign(y.begin() + 2, y.end());
  }
  g.buildTable();
  return g;
}

std::unique_ptr<Kernel> makeConvGrad(const KernelDesc &desc, bool deconv) {
  GradDesc gd = readGrad(desc, deconv ? makeDeconvolution : makeConvolution);
  return std::make_unique<ConvGradKernel>(convGeometry(gd.fwd, deconv), deconv,
                                          gd.outputOf(0), gd.outputOf(1), gd.outputOf(2));
}
} // namespace

std::unique_ptr<Kernel> makeConvolutionGrad(const KernelDesc &desc) {
  return makeConvGrad(desc, false);
}

std::unique_ptr<Kernel> makeDeconvolutionGrad(const KernelDesc &desc) {
  return makeConvGrad(desc, true);
}

std::unique_ptr<Kernel> makeInnerProductGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeInnerProduct);
  const Shape &x = gd.fwd.inputs[0];
  int64_t axis = canonicalAxis(gd.fwd, gd.fwd.attrs.getInt("axis", 1), x.size(), "axis");
  return std::make_unique<InnerProductGradKernel>(
      countRange(x, 0, axis), gd.fwd.attrs.getInt("num_output", 0),
      countRange(x, axis, x.size()), gd.fwd.attrs.getBool("transpose", false),
      gd.numOperands == 3, gd.outputOf(0), gd.outputOf(1), gd.outputOf(2));
}

std::unique_ptr<Kernel> makeEmbedGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeEmbed, /*noGrad=*/{0});
  return std::make_unique<EmbedGradKernel>(
      errorPrefix(desc), numElements(gd.fwd.inputs[0]), gd.fwd.attrs.getInt("num_output", 0),
      gd.fwd.attrs.getInt("input_dim", 0), gd.numOperands == 3, gd.outputOf(1),
      gd.outputOf(2));
}

} // namespace dlc::rt::ref

//===- Conv.cpp - Reference convolution, deconvolution, inner product -----===//
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
// The geometry is the op library's (ops::ConvGeometry). Im2col materializes
// the gathered columns themselves; its gradient is the scatter (col2im).
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include <algorithm>
#include <cmath>

namespace dlc::rt::ref {
namespace {

/// ops::ConvGeometry plus the tap table of the direct loops.
struct ConvTable {
  int64_t batch = 0;
  int64_t inChannels = 0;  // channels of the op's input
  int64_t outChannels = 0; // num_output
  int64_t group = 1;
  std::vector<int64_t> kernel, stride, pad, dilation;
  std::vector<int64_t> big, small; // spatial dims of the two grids
  int64_t bigSize = 0, smallSize = 0, kernelSize = 0;
  std::vector<int64_t> table; // [smallSize][kernelSize] -> offset in big or -1
  bool hasBias = false;

  ConvTable(const ops::ConvGeometry &g, bool hasBias)
      : batch(g.batch), inChannels(g.channels), outChannels(g.numOutput), group(g.group),
        kernel(g.kernel), stride(g.stride), pad(g.pad), dilation(g.dilation),
        // The deconvolution input is the "small" grid of the equivalent convolution.
        big(g.deconv ? g.output : g.input), small(g.deconv ? g.input : g.output),
        hasBias(hasBias) {
    buildTable();
  }

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

class ConvKernel : public RefKernel {
public:
  ConvKernel(ConvTable g, bool deconv) : g_(std::move(g)), deconv_(deconv) {}

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

  ConvTable g_;
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


/// Gradients of convolution / deconvolution. Inputs: x, w, b?, y, dy.
/// Convolution: y[n, o, p] = b[o] + sum_{c, k} w[o, c, k] x[n, c, table[p, k]];
/// deconvolution swaps the roles of the grids:
///   y[n, o, table[p, k]] += x[n, c, p] w[c, o, k].
class ConvGradKernel : public RefKernel {
public:
  ConvGradKernel(ConvTable g, bool deconv, int outX, int outW, int outB)
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

  ConvTable g_;
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
      sumRows(dy, m_, n_, out[outB_]);
  }

private:
  int64_t m_, n_, k_;
  bool transpose_, bias_;
  int outX_, outW_, outB_;
};


/// Im2col: y[n, c * K + k, p] = x[n, c, table[p, k]] (0 in the padding);
/// its gradient (col2im) adds every column entry back to its position.
class Im2colKernel : public RefKernel {
public:
  Im2colKernel(ConvTable g, bool backward) : g_(std::move(g)), backward_(backward) {}
  void forward(const float *const *in, float *const *out) override {
    const int64_t ks = g_.kernelSize, small = g_.smallSize, big = g_.bigSize;
    const int64_t rows = g_.inChannels * ks;
    const float *src = in[backward_ ? 2 : 0]; // backward: x, y, dy
    float *dst = out[0];
    if (backward_)
      std::fill(dst, dst + g_.batch * g_.inChannels * big, 0.0f);
    for (int64_t n = 0; n < g_.batch; ++n)
      for (int64_t c = 0; c < g_.inChannels; ++c)
        for (int64_t kp = 0; kp < ks; ++kp)
          for (int64_t p = 0; p < small; ++p) {
            int64_t at = g_.table[p * ks + kp];
            int64_t col = (n * rows + c * ks + kp) * small + p;
            int64_t img = (n * g_.inChannels + c) * big + at;
            if (backward_) {
              if (at >= 0)
                dst[img] += src[col];
            } else {
              dst[col] = at >= 0 ? src[img] : 0.0f;
            }
          }
  }

private:
  ConvTable g_;
  bool backward_;
};

std::unique_ptr<Kernel> makeIm2col(const KernelDesc &desc) {
  ops::ConvGeometry g;
  check(desc, ops::im2colGeometry(attrsOf<ops::Im2colAttrs>(desc), desc.inputs[0], g));
  return std::make_unique<Im2colKernel>(ConvTable(g, false), desc.isGradient());
}

std::unique_ptr<Kernel> makeIm2colGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  ops::ConvGeometry g;
  check(desc, ops::im2colGeometry(attrsOf<ops::Im2colAttrs>(gd.fwd), gd.fwd.inputs[0], g));
  return std::make_unique<Im2colKernel>(ConvTable(g, false), true);
}

/// The geometry of a validated (de)convolution description.
ConvTable convTable(const KernelDesc &desc) {
  ops::ConvGeometry g;
  if (desc.op == "deconvolution")
    check(desc, ops::convGeometry(attrsOf<ops::DeconvolutionAttrs>(desc), desc.inputs[0], g));
  else
    check(desc, ops::convGeometry(attrsOf<ops::ConvolutionAttrs>(desc), desc.inputs[0], g));
  return ConvTable(g, desc.inputs.size() == 3);
}

std::unique_ptr<Kernel> makeConv(const KernelDesc &desc) {
  return std::make_unique<ConvKernel>(convTable(desc), desc.op == "deconvolution");
}

std::unique_ptr<Kernel> makeConvGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  return std::make_unique<ConvGradKernel>(convTable(gd.fwd), gd.fwd.op == "deconvolution",
                                          gd.outputOf(0), gd.outputOf(1), gd.outputOf(2));
}

ops::InnerProductGeometry ipGeometry(const KernelDesc &desc) {
  ops::InnerProductGeometry g;
  check(desc, ops::innerProductGeometry(attrsOf<ops::InnerProductAttrs>(desc), desc.inputs[0], g));
  return g;
}

std::unique_ptr<Kernel> makeInnerProduct(const KernelDesc &desc) {
  ops::InnerProductGeometry g = ipGeometry(desc);
  return std::make_unique<InnerProductKernel>(g.m, g.n, g.k, g.transpose,
                                              desc.inputs.size() == 3);
}

std::unique_ptr<Kernel> makeInnerProductGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  ops::InnerProductGeometry g = ipGeometry(gd.fwd);
  return std::make_unique<InnerProductGradKernel>(g.m, g.n, g.k, g.transpose,
                                                  gd.numOperands == 3, gd.outputOf(0),
                                                  gd.outputOf(1), gd.outputOf(2));
}

} // namespace

DLC_REGISTER_KERNELS(DLC_REF_OP("convolution", makeConv, makeConvGrad),
                     DLC_REF_OP("deconvolution", makeConv, makeConvGrad),
                     DLC_REF_OP("im2col", makeIm2col, makeIm2colGrad),
                     DLC_REF_OP("inner_product", makeInnerProduct, makeInnerProductGrad));

} // namespace dlc::rt::ref

//===- RefRecurrent.cpp - Reference LSTM ----------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Caffe's LSTMLayer forward (the unrolled net of lstm_layer.cpp with
// LSTMUnit steps): for each t and sequence n
//   a   = W_xc x_t + b_c + W_xc_static x_static + W_hc (cont_t * h_{t-1})
//   i,f,o,g = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o), tanh(a_g)
//   c_t = (cont_t == 0 ? 0 : cont_t * f) * c_{t-1} + i * g
//   h_t = o * tanh(c_t)
// with h_0 = c_0 = 0. The output is h for every step: [T, N, H].
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include <cmath>

namespace dlc::rt::ref {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

class LstmKernel : public RefKernel {
public:
  LstmKernel(int64_t t, int64_t n, int64_t in, int64_t inStatic, int64_t h, bool hasStatic)
      : t_(t), n_(n), i_(in), is_(inStatic), h_(h), static_(hasStatic) {}

  void forward(const float *const *in, float *const *out) override {
    const float *x = in[0], *cont = in[1];
    const float *xs = static_ ? in[2] : nullptr;
    const float *wxc = in[static_ ? 3 : 2], *bc = in[static_ ? 4 : 3];
    const float *wxs = static_ ? in[5] : nullptr;
    const float *whc = in[static_ ? 6 : 4];
    float *y = out[0];
    int64_t g4 = 4 * h_;
    // Constant per-sequence contribution: b_c + W_xc_static x_static.
    std::vector<double> base(n_ * g4);
    for (int64_t n = 0; n < n_; ++n)
      for (int64_t r = 0; r < g4; ++r) {
        double acc = bc[r];
        if (static_)
          for (int64_t k = 0; k < is_; ++k)
            acc += double(wxs[r * is_ + k]) * double(xs[n * is_ + k]);
        base[n * g4 + r] = acc;
      }
    std::vector<double> h(n_ * h_, 0.0), c(n_ * h_, 0.0), gates(g4);
    for (int64_t t = 0; t < t_; ++t)
      for (int64_t n = 0; n < n_; ++n) {
        double ct = cont[t * n_ + n];
        const float *xt = x + (t * n_ + n) * i_;
        double *hn = &h[n * h_], *cn = &c[n * h_];
        for (int64_t r = 0; r < g4; ++r) {
          double acc = base[n * g4 + r];
          for (int64_t k = 0; k < i_; ++k)
            acc += double(wxc[r * i_ + k]) * double(xt[k]);
          for (int64_t k = 0; k < h_; ++k)
            acc += double(whc[r * h_ + k]) * (ct * hn[k]);
          gates[r] = acc;
        }
        for (int64_t d = 0; d < h_; ++d) {
          double ig = sigmoid(gates[d]);
          double fg = ct == 0.0 ? 0.0 : ct * sigmoid(gates[h_ + d]);
          double og = sigmoid(gates[2 * h_ + d]);
          double gg = std::tanh(gates[3 * h_ + d]);
          cn[d] = fg * cn[d] + ig * gg;
          hn[d] = og * std::tanh(cn[d]);
          y[(t * n_ + n) * h_ + d] = static_cast<float>(hn[d]);
        }
      }
  }

private:
  int64_t t_, n_, i_, is_, h_;
  bool static_;
};

} // namespace

std::unique_ptr<Kernel> makeLstm(const KernelDesc &desc) {
  checkArity(desc, 5, 7, 1);
  if (desc.inputs.size() == 6)
    fail(desc, "expected 5 inputs (x, cont, w_xc, b_c, w_hc) or 7 (x, cont, x_static, "
               "w_xc, b_c, w_xc_static, w_hc), got 6");
  if (desc.attrs.getBool("expose_hidden", false))
    fail(desc, "expose_hidden is not supported (the op has no h0/c0 operands)");
  bool hasStatic = desc.inputs.size() == 7;
  int64_t hdim = requireInt(desc, "num_output");
  if (hdim <= 0)
    fail(desc, "num_output must be positive, got " + std::to_string(hdim));
  checkMinRank(desc, 0, 2, "x");
  const Shape &x = desc.inputs[0];
  int64_t t = x[0], n = x[1], in = countRange(x, 2, x.size());
  checkInput(desc, 1, {t, n}, "cont");
  int64_t inStatic = 0;
  size_t w = 2;
  if (hasStatic) {
    checkMinRank(desc, 2, 1, "x_static");
    const Shape &xs = desc.inputs[2];
    if (xs[0] != n)
      fail(desc, "x_static has shape " + shapeToString(xs) + ", expected " +
                     std::to_string(n) + " rows");
    inStatic = countRange(xs, 1, xs.size());
    w = 3;
  }
  checkInput(desc, w, {4 * hdim, in}, "w_xc");
  checkInput(desc, w + 1, {4 * hdim}, "b_c");
  if (hasStatic)
    checkInput(desc, w + 2, {4 * hdim, inStatic}, "w_xc_static");
  checkInput(desc, desc.inputs.size() - 1, {4 * hdim, hdim}, "w_hc");
  checkOutputs(desc, {{t, n, hdim}});
  return std::make_unique<LstmKernel>(t, n, in, inStatic, hdim, hasStatic);
}

} // namespace dlc::rt::ref

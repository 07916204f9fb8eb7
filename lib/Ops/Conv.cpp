//===- Conv.cpp - Shape rules of the convolution family -------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// convolution, deconvolution, inner_product: Caffe's base_conv_layer.cpp,
// conv_layer.cpp, deconv_layer.cpp and inner_product_layer.cpp.
//
//===----------------------------------------------------------------------===//
#include "RuleUtil.h"

namespace dlc::ops {
using namespace rules;

Shape ConvGeometry::weightShape() const {
  Shape w = deconv ? Shape{channels, numOutput / group} : Shape{numOutput, channels / group};
  w.insert(w.end(), kernel.begin(), kernel.end());
  return w;
}

Shape ConvGeometry::outputShape() const {
  Shape s = {batch, numOutput};
  s.insert(s.end(), output.begin(), output.end());
  return s;
}

Status convGeometry(bool deconv, int64_t numOutput, const std::vector<int64_t> &kernelAttr,
                    const std::vector<int64_t> &strideAttr, const std::vector<int64_t> &padAttr,
                    const std::vector<int64_t> &dilationAttr, int64_t group, const Arg &input,
                    const Arg &weight, const Arg &bias, ConvGeometry &g) {
  const char *opName = deconv ? "deconvolution" : "convolution";
  g = ConvGeometry();
  g.deconv = deconv;
  g.numOutput = numOutput;
  g.group = group;
  if (numOutput <= 0)
    return fail("num_output must be positive, got ", numOutput);
  if (group <= 0)
    return fail("group must be positive, got ", group);
  if (numOutput % group != 0)
    return fail("num_output ", numOutput, " not divisible by group ", group);
  size_t ns = kernelAttr.size();
  if (ns == 0)
    return fail("kernel must have one entry per spatial axis, got none");
  DLC_TRY(spatialVector("kernel", kernelAttr, ns, 1, 1, g.kernel));
  DLC_TRY(spatialVector("stride", strideAttr, ns, 1, 1, g.stride));
  DLC_TRY(spatialVector("pad", padAttr, ns, 0, 0, g.pad));
  DLC_TRY(spatialVector("dilation", dilationAttr, ns, 1, 1, g.dilation));

  g.channels = kAnyDim;
  if (input) {
    if (size_t(input.rank()) != ns + 2)
      return fail(opName, " input rank ", input.rank(), " does not match ", ns,
                  " spatial axes of the kernel (expected rank ", ns + 2, ")");
    g.batch = (*input)[0];
    g.channels = (*input)[1];
    if (g.channels % group != 0)
      return fail("group ", group, " does not divide input channels ", g.channels);
  }
  Shape wExpected;
  if (deconv)
    wExpected = {g.channels, numOutput / group};
  else
    wExpected = {numOutput, g.channels == kAnyDim ? kAnyDim : g.channels / group};
  wExpected.insert(wExpected.end(), g.kernel.begin(), g.kernel.end());
  DLC_TRY(expect(weight, wExpected, std::string(opName) + " weight",
                 deconv ? " (channels, num_output/group, kernel...)"
                        : " (num_output, channels/group, kernel...)"));
  if (bias.present())
    DLC_TRY(expect(bias, {numOutput}, std::string(opName) + " bias", " (num_output)"));
  if (!input)
    return Status();

  std::vector<int64_t> extents, padded;
  for (size_t i = 0; i < ns; ++i) {
    g.input.push_back((*input)[i + 2]);
    extents.push_back(g.extent(i));
    padded.push_back((*input)[i + 2] + 2 * g.pad[i]);
  }
  for (size_t i = 0; i < ns; ++i) {
    int64_t o;
    if (deconv) {
      o = g.stride[i] * (g.input[i] - 1) + extents[i] - 2 * g.pad[i];
      if (o <= 0)
        return fail("deconvolution output size ", o, " is not positive at spatial axis ", i,
                    " (input ", g.input[i], ", kernel (dilated) ", extents[i], ", stride ",
                    g.stride[i], ", pad ", g.pad[i], ")");
    } else {
      if (extents[i] > padded[i])
        return fail("kernel (dilated) ", fmtX(extents), " is larger than padded input ",
                    fmtX(padded));
      o = (padded[i] - extents[i]) / g.stride[i] + 1;
    }
    g.output.push_back(o);
  }
  return Status();
}

Status convGeometry(const ConvolutionAttrs &a, const Shape &input, ConvGeometry &g) {
  return convGeometry(false, a.num_output, a.kernel, a.stride, a.pad, a.dilation, a.group,
                      Arg::of(input), Arg::unknown(), Arg(), g);
}

Status convGeometry(const DeconvolutionAttrs &a, const Shape &input, ConvGeometry &g) {
  return convGeometry(true, a.num_output, a.kernel, a.stride, a.pad, a.dilation, a.group,
                      Arg::of(input), Arg::unknown(), Arg(), g);
}

Status infer(const ConvolutionAttrs &a, const ConvolutionOperands &o, Results &r) {
  ConvGeometry g;
  DLC_TRY(convGeometry(false, a.num_output, a.kernel, a.stride, a.pad, a.dilation, a.group,
                       o.input, o.weight, o.bias, g));
  return o.input ? r.add(g.outputShape()) : r.addUnknown();
}

Status infer(const DeconvolutionAttrs &a, const DeconvolutionOperands &o, Results &r) {
  ConvGeometry g;
  DLC_TRY(convGeometry(true, a.num_output, a.kernel, a.stride, a.pad, a.dilation, a.group,
                       o.input, o.weight, o.bias, g));
  return o.input ? r.add(g.outputShape()) : r.addUnknown();
}

namespace {
/// Multiply-adds of a convolution: every output element of the
/// convolution direction (the deconvolution's input) takes (C / group) x
/// kernel products. The data and weight gradients take as many.
Work convWork(const ConvGeometry &g) {
  double macs = double(g.batch);
  macs *= double(g.deconv ? g.channels : g.numOutput);
  for (int64_t d : g.deconv ? g.input : g.output)
    macs *= double(d);
  macs *= double(g.deconv ? g.numOutput : g.channels) / double(g.group);
  for (int64_t k : g.kernel)
    macs *= double(k);
  return {macs, macs, macs};
}
} // namespace

Status work(const ConvolutionAttrs &a, const ConvolutionOperands &o, Work &w) {
  ConvGeometry g;
  DLC_TRY(convGeometry(a, *o.input, g));
  w = convWork(g);
  return Status();
}

Status work(const DeconvolutionAttrs &a, const DeconvolutionOperands &o, Work &w) {
  ConvGeometry g;
  DLC_TRY(convGeometry(a, *o.input, g));
  w = convWork(g);
  return Status();
}

Status im2colGeometry(const Im2colAttrs &a, const Arg &input, ConvGeometry &g) {
  // A convolution with one output channel per column row and no groups.
  int64_t rows = 1;
  for (int64_t k : a.kernel)
    rows = mulSat(rows, k);
  if (input)
    rows = mulSat(rows, input.rank() > 1 ? (*input)[1] : 1);
  DLC_TRY(convGeometry(false, rows > 0 ? rows : 1, a.kernel, a.stride, a.pad, a.dilation, 1,
                       input, Arg::unknown(), Arg(), g));
  return Status();
}

Status im2colGeometry(const Im2colAttrs &a, const Shape &input, ConvGeometry &g) {
  return im2colGeometry(a, Arg::of(input), g);
}

Status infer(const Im2colAttrs &a, const Im2colOperands &o, Results &r) {
  ConvGeometry g;
  DLC_TRY(im2colGeometry(a, o.input, g));
  return o.input ? r.add(g.outputShape()) : r.addUnknown();
}

//===----------------------------------------------------------------------===//
// Inner product
//===----------------------------------------------------------------------===//

namespace {
Status innerProduct(const InnerProductAttrs &a, const Arg &input, const Arg &weight,
                    const Arg &bias, InnerProductGeometry &g) {
  g = InnerProductGeometry();
  g.n = a.num_output;
  g.transpose = a.transpose;
  if (g.n <= 0)
    return fail("num_output must be positive, got ", g.n);
  g.k = kAnyDim;
  if (input) {
    if (!canonicalAxis(a.axis, input.rank(), g.axis))
      return fail("inner_product axis ", a.axis, " out of range for rank ", input.rank());
    g.m = product(*input, 0, g.axis);
    g.k = product(*input, g.axis);
  }
  if (weight) {
    Shape expected = g.transpose ? Shape{g.k, g.n} : Shape{g.n, g.k};
    const Shape &w = *weight;
    bool ok = w.size() == 2 && (expected[0] == kAnyDim || expected[0] == w[0]) &&
              (expected[1] == kAnyDim || expected[1] == w[1]);
    if (!ok)
      return fail("inner_product weight shape ", fmtShape(w), " does not match num_output ", g.n,
                  " and input size ", g.k == kAnyDim ? std::string("?") : std::to_string(g.k),
                  " (axis ", a.axis, ")", g.transpose ? " with transpose" : "");
  }
  if (bias.present())
    DLC_TRY(expect(bias, {g.n}, "inner_product bias", " (num_output)"));
  return Status();
}
} // namespace

Status innerProductGeometry(const InnerProductAttrs &a, const Shape &input,
                            InnerProductGeometry &g) {
  return innerProduct(a, Arg::of(input), Arg::unknown(), Arg(), g);
}

Status infer(const InnerProductAttrs &a, const InnerProductOperands &o, Results &r) {
  InnerProductGeometry g;
  DLC_TRY(innerProduct(a, o.input, o.weight, o.bias, g));
  if (!o.input)
    return r.addUnknown();
  Shape out(o.input->begin(), o.input->begin() + g.axis);
  out.push_back(g.n);
  return r.add(out);
}

Status work(const InnerProductAttrs &a, const InnerProductOperands &o, Work &w) {
  InnerProductGeometry g;
  DLC_TRY(innerProductGeometry(a, *o.input, g));
  const double macs = double(g.m) * double(g.n) * double(g.k);
  w = {macs, macs, macs};
  return Status();
}

} // namespace dlc::ops

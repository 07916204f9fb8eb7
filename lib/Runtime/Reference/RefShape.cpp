//===- RefShape.cpp - Reference data-movement ops -------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// concat, slice, crop, flatten, reshape and silence, and the gradients of
// all but silence (pure data movement in the opposite direction).
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include <algorithm>

namespace dlc::rt::ref {
namespace {

/// Concat (many inputs -> one output) or slice (one input -> many outputs)
/// along one axis viewed as [outer, dim_i * inner].
class AxisCopyKernel : public RefKernel {
public:
  AxisCopyKernel(bool concat, int64_t outer, int64_t inner, std::vector<int64_t> dims)
      : concat_(concat), outer_(outer), inner_(inner), dims_(std::move(dims)) {
    for (int64_t d : dims_)
      total_ += d;
  }
  void forward(const float *const *in, float *const *out) override {
    int64_t offset = 0;
    for (size_t p = 0; p < dims_.size(); ++p) {
      int64_t chunk = dims_[p] * inner_;
      for (int64_t o = 0; o < outer_; ++o) {
        int64_t big = (o * total_ + offset) * inner_;
        if (concat_)
          std::copy(in[p] + o * chunk, in[p] + (o + 1) * chunk, out[0] + big);
        else
          std::copy(in[0] + big, in[0] + big + chunk, out[p] + o * chunk);
      }
      offset += dims_[p];
    }
  }

private:
  bool concat_;
  int64_t outer_, inner_;
  std::vector<int64_t> dims_;
  int64_t total_ = 0;
};

class CropKernel : public RefKernel {
public:
  CropKernel(Shape in, Shape out, std::vector<int64_t> offsets)
      : in_(std::move(in)), out_(std::move(out)), offsets_(std::move(offsets)) {}
  void forward(const float *const *in, float *const *out) override {
    int64_t count = numElements(out_);
    size_t rank = out_.size();
    std::vector<int64_t> idx(rank, 0);
    for (int64_t i = 0; i < count; ++i) {
      int64_t src = 0;
      for (size_t a = 0; a < rank; ++a)
        src = src * in_[a] + idx[a] + offsets_[a];
      out[0][i] = in[0][src];
      for (size_t a = rank; a-- > 0;) {
        if (++idx[a] < out_[a])
          break;
        idx[a] = 0;
      }
    }
  }

private:
  Shape in_, out_;
  std::vector<int64_t> offsets_; // one per axis, 0 below `axis`
};

class CopyKernel : public RefKernel {
public:
  explicit CopyKernel(int64_t count) : count_(count) {}
  bool supportsInPlace() const override { return true; }
  void forward(const float *const *in, float *const *out) override {
    if (in[0] != out[0])
      std::copy(in[0], in[0] + count_, out[0]);
  }

private:
  int64_t count_;
};

class SilenceKernel : public RefKernel {
public:
  void forward(const float *const *, float *const *) override {}
};

/// Gradient of concat: each wrt input receives its piece of dy.
/// Inputs: x_0..x_{n-1}, y, dy.
class ConcatGradKernel : public RefKernel {
public:
  ConcatGradKernel(int64_t outer, int64_t inner, std::vector<int64_t> dims,
                   std::vector<int64_t> wrt)
      : outer_(outer), inner_(inner), dims_(std::move(dims)), wrt_(std::move(wrt)) {
    for (int64_t d : dims_)
      total_ += d;
  }
  void forward(const float *const *in, float *const *out) override {
    const float *dy = in[dims_.size() + 1];
    int64_t offset = 0;
    size_t o = 0;
    for (size_t p = 0; p < dims_.size(); ++p) {
      int64_t chunk = dims_[p] * inner_;
      if (o < wrt_.size() && wrt_[o] == int64_t(p)) {
        for (int64_t r = 0; r < outer_; ++r) {
          const float *src = dy + (r * total_ + offset) * inner_;
          std::copy(src, src + chunk, out[o] + r * chunk);
        }
        ++o;
      }
      offset += dims_[p];
    }
  }

private:
  int64_t outer_, inner_;
  std::vector<int64_t> dims_, wrt_;
  int64_t total_ = 0;
};

/// Gradient of slice: dx is the concatenation of the slice gradients.
/// Inputs: x, y_0..y_{k-1}, dy_0..dy_{k-1}.
class SliceGradKernel : public RefKernel {
public:
  SliceGradKernel(int64_t outer, int64_t inner, std::vector<int64_t> dims)
      : outer_(outer), inner_(inner), dims_(std::move(dims)) {
    for (int64_t d : dims_)
      total_ += d;
  }
  void forward(const float *const *in, float *const *out) override {
    size_t k = dims_.size();
    int64_t offset = 0;
    for (size_t p = 0; p < k; ++p) {
      const float *dy = in[1 + k + p];
      int64_t chunk = dims_[p] * inner_;
      for (int64_t r = 0; r < outer_; ++r)
        std::copy(dy + r * chunk, dy + (r + 1) * chunk,
                  out[0] + (r * total_ + offset) * inner_);
      offset += dims_[p];
    }
  }

private:
  int64_t outer_, inner_;
  std::vector<int64_t> dims_;
  int64_t total_ = 0;
};

/// Gradient of crop: dx is zero outside the cropped window, dy inside.
/// Inputs: x, reference, y, dy.
class CropGradKernel : public RefKernel {
public:
  CropGradKernel(Shape in, Shape out, std::vector<int64_t> offsets)
      : in_(std::move(in)), out_(std::move(out)), offsets_(std::move(offsets)) {}
  void forward(const float *const *in, float *const *out) override {
    const float *dy = in[3];
    float *dx = out[0];
    std::fill(dx, dx + numElements(in_), 0.0f);
    int64_t count = numElements(out_);
    size_t rank = out_.size();
    std::vector<int64_t> idx(rank, 0);
    for (int64_t i = 0; i < count; ++i) {
      int64_t dst = 0;
      for (size_t a = 0; a < rank; ++a)
        dst = dst * in_[a] + idx[a] + offsets_[a];
      dx[dst] = dy[i];
      for (size_t a = rank; a-- > 0;) {
        if (++idx[a] < out_[a])
          break;
        idx[a] = 0;
      }
    }
  }

private:
  Shape in_, out_;
  std::vector<int64_t> offsets_;
};

/// Gradient of flatten / reshape: dx = dy (same elements, same order).
class CopyGradKernel : public RefKernel {
public:
  explicit CopyGradKernel(int64_t count) : count_(count) {}
  void forward(const float *const *in, float *const *out) override {
    std::copy(in[2], in[2] + count_, out[0]);
  }

private:
  int64_t count_;
};

} // namespace

std::unique_ptr<Kernel> makeConcat(const KernelDesc &desc) {
  checkArity(desc, 1, SIZE_MAX, 1);
  const Shape &x = desc.inputs[0];
  checkMinRank(desc, 0, 1, "input 0");
  int64_t axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), x.size(), "axis");
  Shape out = x;
  std::vector<int64_t> dims;
  out[axis] = 0;
  for (size_t i = 0; i < desc.inputs.size(); ++i) {
    const Shape &s = desc.inputs[i];
    bool ok = s.size() == x.size();
    for (size_t a = 0; ok && a < s.size(); ++a)
      ok = int64_t(a) == axis || s[a] == x[a];
    if (!ok)
      fail(desc, "input " + std::to_string(i) + " has shape " + shapeToString(s) +
                     ", which does not match input 0 (" + shapeToString(x) +
                     ") outside axis " + std::to_string(axis));
    out[axis] += s[axis];
    dims.push_back(s[axis]);
  }
  checkOutputs(desc, {out});
  return std::make_unique<AxisCopyKernel>(true, countRange(x, 0, axis),
                                          countRange(x, axis + 1, x.size()), dims);
}

std::unique_ptr<Kernel> makeSlice(const KernelDesc &desc) {
  if (desc.outputs.empty())
    fail(desc, "expected at least 1 output, got 0");
  checkArity(desc, 1, 1, desc.outputs.size());
  const Shape &x = desc.inputs[0];
  checkMinRank(desc, 0, 1, "input");
  int64_t axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), x.size(), "axis");
  std::vector<int64_t> points = desc.attrs.getInts("slice_points");
  int64_t n = desc.outputs.size(), dim = x[axis];
  std::vector<int64_t> dims;
  if (!points.empty()) {
    if (int64_t(points.size()) != n - 1)
      fail(desc, "slice_points has " + std::to_string(points.size()) + " entries for " +
                     std::to_string(n) + " outputs (expected " + std::to_string(n - 1) +
                     ")");
    int64_t prev = 0;
    for (int64_t p : points) {
      if (p <= prev || p >= dim)
        fail(desc, "slice_points must be strictly increasing within (0, " +
                       std::to_string(dim) + ")");
      dims.push_back(p - prev);
      prev = p;
    }
    dims.push_back(dim - prev);
  } else {
    if (dim % n != 0)
      fail(desc, "axis " + std::to_string(axis) + " (size " + std::to_string(dim) +
                     ") cannot be split into " + std::to_string(n) + " equal parts");
    dims.assign(n, dim / n);
  }
  std::vector<Shape> outs;
  for (int64_t d : dims) {
    Shape s = x;
    s[axis] = d;
    outs.push_back(s);
  }
  checkOutputs(desc, outs);
  return std::make_unique<AxisCopyKernel>(false, countRange(x, 0, axis),
                                          countRange(x, axis + 1, x.size()), dims);
}

std::unique_ptr<Kernel> makeCrop(const KernelDesc &desc) {
  checkArity(desc, 2, 2, 1);
  const Shape &x = desc.inputs[0], &ref = desc.inputs[1];
  int64_t rank = x.size();
  if (ref.size() != x.size())
    fail(desc, "reference has shape " + shapeToString(ref) +
                   ", expected the same rank as the input " + shapeToString(x));
  int64_t axis = canonicalAxis(desc, desc.attrs.getInt("axis", 2), rank, "axis");
  std::vector<int64_t> off = desc.attrs.getInts("offset");
  if (!off.empty() && off.size() != 1 && int64_t(off.size()) != rank - axis)
    fail(desc, "offset has " + std::to_string(off.size()) +
                   " entries, expected 0, 1 or " + std::to_string(rank - axis));
  std::vector<int64_t> offsets(rank, 0);
  Shape out = x;
  for (int64_t a = axis; a < rank; ++a) {
    int64_t o = off.empty() ? 0 : off.size() == 1 ? off[0] : off[a - axis];
    if (o < 0 || x[a] - o < ref[a])
      fail(desc, "crop of " + std::to_string(ref[a]) + " at offset " + std::to_string(o) +
                     " does not fit axis " + std::to_string(a) + " of size " +
                     std::to_string(x[a]));
    offsets[a] = o;
    out[a] = ref[a];
  }
  checkOutputs(desc, {out});
  return std::make_unique<CropKernel>(x, out, offsets);
}

std::unique_ptr<Kernel> makeFlatten(const KernelDesc &desc) {
  checkArity(desc, 1, 1, 1);
  const Shape &x = desc.inputs[0];
  int64_t rank = x.size();
  int64_t axis = canonicalAxis(desc, desc.attrs.getInt("axis", 1), rank, "axis");
  int64_t end = canonicalAxis(desc, desc.attrs.getInt("end_axis", -1), rank, "end_axis");
  if (end < axis)
    fail(desc, "end_axis (" + std::to_string(end) + ") is before axis (" +
                   std::to_string(axis) + ")");
  Shape out(x.begin(), x.begin() + axis);
  out.push_back(countRange(x, axis, end + 1));
  out.insert(out.end(), x.begin() + end + 1, x.end());
  checkOutputs(desc, {out});
  return std::make_unique<CopyKernel>(numElements(x));
}

std::unique_ptr<Kernel> makeReshape(const KernelDesc &desc) {
  checkArity(desc, 1, 1, 1);
  const Shape &x = desc.inputs[0];
  int64_t rank = x.size();
  if (!desc.attrs.has("shape"))
    fail(desc, "missing attribute 'shape'");
  std::vector<int64_t> spec = desc.attrs.getInts("shape");
  int64_t axis = desc.attrs.getInt("axis", 0);
  int64_t start = axis >= 0 ? axis : rank + axis + 1;
  if (start < 0 || start > rank)
    fail(desc, "axis " + std::to_string(axis) + " is out of range for a rank-" +
                   std::to_string(rank) + " input");
  int64_t numAxes = desc.attrs.getInt("num_axes", -1);
  if (numAxes < -1)
    fail(desc, "num_axes must be >= -1, got " + std::to_string(numAxes));
  int64_t end = numAxes == -1 ? rank : start + numAxes;
  if (end > rank)
    fail(desc, "axis + num_axes (" + std::to_string(end) + ") exceeds the input rank " +
                   std::to_string(rank));
  Shape out(x.begin(), x.begin() + start);
  int64_t inferred = -1, known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0) {
      if (start + int64_t(i) >= end)
        fail(desc, "shape entry " + std::to_string(i) +
                       " copies an axis outside the replaced range");
      d = x[start + i];
    } else if (d == -1) {
      if (inferred >= 0)
        fail(desc, "shape may contain at most one -1");
      inferred = out.size();
      out.push_back(1);
      continue;
    } else if (d < -1) {
      fail(desc, "shape entries must be >= -1, got " + std::to_string(d));
    }
    known *= d;
    out.push_back(d);
  }
  out.insert(out.end(), x.begin() + end, x.end());
  known *= countRange(x, 0, start) * countRange(x, end, rank);
  int64_t count = numElements(x);
  if (inferred >= 0) {
    if (known == 0 || count % known != 0)
      fail(desc, "cannot infer the -1 dimension: " + std::to_string(count) +
                     " elements are not divisible by " + std::to_string(known));
    out[inferred] = count / known;
  }
  if (numElements(out) != count)
    fail(desc, "shape " + shapeToString(out) + " has " +
                   std::to_string(numElements(out)) + " elements, the input " +
                   shapeToString(x) + " has " + std::to_string(count));
  checkOutputs(desc, {out});
  return std::make_unique<CopyKernel>(count);
}

std::unique_ptr<Kernel> makeSilence(const KernelDesc &desc) {
  checkArity(desc, 1, SIZE_MAX, 0);
  return std::make_unique<SilenceKernel>();
}

} // namespace dlc::rt::ref

namespace dlc::rt::ref {

std::unique_ptr<Kernel> makeConcatGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeConcat);
  const Shape &x = gd.fwd.inputs[0];
  int64_t axis = canonicalAxis(gd.fwd, gd.fwd.attrs.getInt("axis", 1), x.size(), "axis");
  std::vector<int64_t> dims;
  for (const Shape &s : gd.fwd.inputs)
    dims.push_back(s[axis]);
  return std::make_unique<ConcatGradKernel>(countRange(x, 0, axis),
                                            countRange(x, axis + 1, x.size()), dims, gd.wrt);
}

std::unique_ptr<Kernel> makeSliceGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, makeSlice);
  const Shape &x = gd.fwd.inputs[0];
  int64_t axis = canonicalAxis(gd.fwd, gd.fwd.attrs.getInt("axis", 1), x.size(), "axis");
  std::vector<int64_t> dims;
  for (const Shape &s : gd.fwd.outputs)
    dims.push_back(s[axis]);
  return std::make_unique<SliceGradKernel>(countRange(x, 0, axis),
                                           countRange(x, axis + 1, x.size()), dims);
}

std::unique_ptr<Kernel> makeCropGrad(const KernelDesc &desc) {
  // The reference operand only contributes its shape.
  GradDesc gd = readGrad(desc, makeCrop, /*noGrad=*/{1});
  const Shape &x = gd.fwd.inputs[0];
  int64_t rank = x.size();
  int64_t axis = canonicalAxis(gd.fwd, gd.fwd.attrs.getInt("axis", 2), rank, "axis");
  std::vector<int64_t> off = gd.fwd.attrs.getInts("offset");
  std::vector<int64_t> offsets(rank, 0);
  for (int64_t a = axis; a < rank; ++a)
    offsets[a] = off.empty() ? 0 : off.size() == 1 ? off[0] : off[a - axis];
  return std::make_unique<CropGradKernel>(x, gd.fwd.outputs[0], offsets);
}

std::unique_ptr<Kernel> makeFlattenGrad(const KernelDesc &desc) {
  GradDesc gd = readGrad(desc, desc.op == "reshape_grad" ? makeReshape : makeFlatten);
  return std::make_unique<CopyGradKernel>(numElements(gd.fwd.inputs[0]));
}

} // namespace dlc::rt::ref

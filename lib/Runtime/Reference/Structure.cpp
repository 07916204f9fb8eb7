//===- Structure.cpp - Reference data-movement ops ------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// concat, slice, crop, flatten, reshape, tile, batch_reindex and silence,
// and the gradients of all but silence (pure data movement in the opposite
// direction; tile and batch_reindex sum where copies meet).
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

#include "dlc/Ops/Layout.h"

#include <algorithm>
#include <cmath>

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

/// The canonical axis and [outer, inner] around it of a validated op.
ops::AxisSplit axisSplit(const KernelDesc &desc, const Shape &x, int64_t axis) {
  ops::AxisSplit s;
  check(desc, ops::splitAxis(x, axis, desc.op.c_str(), s));
  return s;
}

std::unique_ptr<Kernel> makeConcat(const KernelDesc &desc) {
  ops::AxisSplit s = axisSplit(desc, desc.inputs[0], attrsOf<ops::ConcatAttrs>(desc).axis);
  std::vector<int64_t> dims;
  for (const Shape &in : desc.inputs)
    dims.push_back(in[size_t(s.axis)]);
  return std::make_unique<AxisCopyKernel>(true, s.outer, s.inner, dims);
}

std::unique_ptr<Kernel> makeSlice(const KernelDesc &desc) {
  ops::AxisSplit s = axisSplit(desc, desc.inputs[0], attrsOf<ops::SliceAttrs>(desc).axis);
  std::vector<int64_t> dims;
  for (const Shape &out : desc.outputs)
    dims.push_back(out[size_t(s.axis)]);
  return std::make_unique<AxisCopyKernel>(false, s.outer, s.inner, dims);
}

/// Per-axis start offsets of a validated crop.
std::vector<int64_t> cropOffsets(const KernelDesc &desc) {
  auto a = attrsOf<ops::CropAttrs>(desc);
  const Shape &x = desc.inputs[0];
  int64_t rank = int64_t(x.size());
  int64_t axis = axisSplit(desc, x, a.axis).axis;
  std::vector<int64_t> offsets(size_t(rank), 0);
  for (int64_t i = axis; i < rank; ++i)
    offsets[size_t(i)] = a.offset.empty()       ? 0
                         : a.offset.size() == 1 ? a.offset[0]
                                                : a.offset[size_t(i - axis)];
  return offsets;
}

std::unique_ptr<Kernel> makeCrop(const KernelDesc &desc) {
  return std::make_unique<CropKernel>(desc.inputs[0], desc.outputs[0], cropOffsets(desc));
}

std::unique_ptr<Kernel> makeCopy(const KernelDesc &desc) {
  return std::make_unique<CopyKernel>(numElements(desc.inputs[0]));
}

/// Caffe's TileLayer: each of `outer` blocks of `inner` values copied
/// `tiles` times; the gradient sums the copies.
class TileKernel : public RefKernel {
public:
  TileKernel(int64_t outer, int64_t inner, int64_t tiles, bool backward)
      : outer_(outer), inner_(inner), tiles_(tiles), backward_(backward) {}
  void forward(const float *const *in, float *const *out) override {
    for (int64_t o = 0; o < outer_; ++o)
      for (int64_t i = 0; i < inner_; ++i) {
        if (!backward_) {
          for (int64_t t = 0; t < tiles_; ++t)
            out[0][(o * tiles_ + t) * inner_ + i] = in[0][o * inner_ + i];
          continue;
        }
        double acc = 0.0; // inputs: x, y, dy
        for (int64_t t = 0; t < tiles_; ++t)
          acc += in[2][(o * tiles_ + t) * inner_ + i];
        out[0][o * inner_ + i] = static_cast<float>(acc);
      }
  }

private:
  int64_t outer_, inner_, tiles_;
  bool backward_;
};

std::unique_ptr<Kernel> makeTile(const KernelDesc &desc) {
  const KernelDesc &fwd = desc.isGradient() ? gradDesc(desc).fwd : desc;
  auto a = attrsOf<ops::TileAttrs>(fwd);
  ops::AxisSplit s = axisSplit(fwd, fwd.inputs[0], a.axis);
  return std::make_unique<TileKernel>(s.outer, s.channels * s.inner, a.tiles, desc.isGradient());
}

/// Caffe's BatchReindexLayer: output item i is input item indices[i]; the
/// gradient adds each output item's gradient into its source. Indices must
/// be integers in [0, N).
class BatchReindexKernel : public RefKernel {
public:
  BatchReindexKernel(std::string prefix, int64_t items, int64_t outItems, int64_t inner,
                     bool backward)
      : prefix_(std::move(prefix)), items_(items), outItems_(outItems), inner_(inner),
        backward_(backward) {}
  void forward(const float *const *in, float *const *out) override {
    const float *idx = in[1];
    if (backward_) // inputs: x, indices, y, dy
      std::fill(out[0], out[0] + items_ * inner_, 0.0f);
    for (int64_t i = 0; i < outItems_; ++i) {
      float v = idx[i];
      if (!(v >= 0.0f && v < float(items_)) || std::floor(v) != v)
        throw Error(prefix_ + "index " + std::to_string(v) + " at position " +
                    std::to_string(i) + " is not an integer in [0, " + std::to_string(items_) +
                    ")");
      int64_t src = int64_t(v);
      for (int64_t j = 0; j < inner_; ++j) {
        if (backward_)
          out[0][src * inner_ + j] += in[3][i * inner_ + j];
        else
          out[0][i * inner_ + j] = in[0][src * inner_ + j];
      }
    }
  }

private:
  std::string prefix_;
  int64_t items_, outItems_, inner_;
  bool backward_;
};

std::unique_ptr<Kernel> makeBatchReindex(const KernelDesc &desc) {
  const KernelDesc &fwd = desc.isGradient() ? gradDesc(desc).fwd : desc;
  const Shape &x = fwd.inputs[0];
  int64_t inner = x[0] == 0 ? 0 : numElements(x) / x[0];
  return std::make_unique<BatchReindexKernel>(desc.errorPrefix(), x[0], fwd.inputs[1][0], inner,
                                              desc.isGradient());
}

/// Caffe's FilterLayer: result i holds the items of input i whose selector
/// entry is non-zero, in order; how many is known after forward() (the
/// buffers hold all N). The gradient copies each result gradient back to
/// its item and zeroes the items that were not selected.
class FilterKernel : public RefKernel {
public:
  /// `inner[i]`: elements per item of input i; `rest[i]`: its shape without
  /// the leading N. Backward: `wrt` are the inputs to differentiate.
  FilterKernel(int64_t items, std::vector<Shape> rest, std::vector<int64_t> wrt, bool backward)
      : items_(items), rest_(std::move(rest)), wrt_(std::move(wrt)), backward_(backward) {
    for (const Shape &r : rest_)
      inner_.push_back(numElements(r));
  }
  void forward(const float *const *in, float *const *out) override {
    const size_t n = rest_.size();
    const float *selector = in[n];
    selected_.clear();
    for (int64_t item = 0; item < items_; ++item)
      if (selector[item] != 0.0f)
        selected_.push_back(item);
    if (!backward_) {
      for (size_t i = 0; i < n; ++i)
        for (size_t k = 0; k < selected_.size(); ++k)
          std::copy_n(in[i] + selected_[k] * inner_[i], inner_[i], out[i] + int64_t(k) * inner_[i]);
      return;
    }
    // inputs: x_0..x_{n-1}, selector, y_0..y_{n-1}, dy_0..dy_{n-1}
    for (size_t w = 0; w < wrt_.size(); ++w) {
      const size_t i = size_t(wrt_[w]);
      const float *dy = in[2 * n + 1 + i];
      std::fill(out[w], out[w] + items_ * inner_[i], 0.0f);
      for (size_t k = 0; k < selected_.size(); ++k)
        std::copy_n(dy + int64_t(k) * inner_[i], inner_[i], out[w] + selected_[k] * inner_[i]);
    }
  }
  std::vector<Shape> producedShapes() const override {
    std::vector<Shape> shapes;
    for (const Shape &r : rest_) {
      Shape s{int64_t(selected_.size())};
      s.insert(s.end(), r.begin(), r.end());
      shapes.push_back(s);
    }
    return shapes;
  }

private:
  int64_t items_;
  std::vector<Shape> rest_;
  std::vector<int64_t> inner_, wrt_;
  bool backward_;
  std::vector<int64_t> selected_;
};

std::unique_ptr<Kernel> makeFilter(const KernelDesc &desc) {
  GradDesc gd;
  const KernelDesc &fwd = desc.isGradient() ? (gd = gradDesc(desc)).fwd : desc;
  const size_t n = fwd.inputs.size() - 1;
  std::vector<Shape> rest;
  for (size_t i = 0; i < n; ++i)
    rest.emplace_back(fwd.inputs[i].begin() + 1, fwd.inputs[i].end());
  return std::make_unique<FilterKernel>(fwd.inputs[n][0], std::move(rest), gd.wrt,
                                        desc.isGradient());
}

std::unique_ptr<Kernel> makeSilence(const KernelDesc &) {
  return std::make_unique<SilenceKernel>();
}

/// reorder: x in one storage layout into another (docs/layouts.md).
class ReorderKernel : public RefKernel {
public:
  ReorderKernel(Shape shape, int from, int to) : shape_(std::move(shape)), from_(from), to_(to) {}
  void forward(const float *const *in, float *const *out) override {
    if (from_ == to_) {
      std::copy(in[0], in[0] + numElements(shape_), out[0]);
    } else if (from_ == 0) {
      ops::toBlocked(shape_, to_, in[0], out[0]);
    } else if (to_ == 0) {
      ops::toPlain(shape_, from_, in[0], out[0]);
    } else {
      std::vector<float> plain(size_t(numElements(shape_)));
      ops::toPlain(shape_, from_, in[0], plain.data());
      ops::toBlocked(shape_, to_, plain.data(), out[0]);
    }
  }

private:
  Shape shape_;
  int from_, to_;
};

std::unique_ptr<Kernel> makeReorder(const KernelDesc &desc) {
  return std::make_unique<ReorderKernel>(desc.inputs[0], desc.inBlock(0), desc.outBlock(0));
}

std::unique_ptr<Kernel> makeConcatGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  const Shape &x = gd.fwd.inputs[0];
  ops::AxisSplit s = axisSplit(gd.fwd, x, attrsOf<ops::ConcatAttrs>(gd.fwd).axis);
  std::vector<int64_t> dims;
  for (const Shape &in : gd.fwd.inputs)
    dims.push_back(in[size_t(s.axis)]);
  return std::make_unique<ConcatGradKernel>(s.outer, s.inner, dims, gd.wrt);
}

std::unique_ptr<Kernel> makeSliceGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  ops::AxisSplit s = axisSplit(gd.fwd, gd.fwd.inputs[0], attrsOf<ops::SliceAttrs>(gd.fwd).axis);
  std::vector<int64_t> dims;
  for (const Shape &out : gd.fwd.outputs)
    dims.push_back(out[size_t(s.axis)]);
  return std::make_unique<SliceGradKernel>(s.outer, s.inner, dims);
}

std::unique_ptr<Kernel> makeCropGrad(const KernelDesc &desc) {
  GradDesc gd = gradDesc(desc);
  return std::make_unique<CropGradKernel>(gd.fwd.inputs[0], gd.fwd.outputs[0],
                                          cropOffsets(gd.fwd));
}

std::unique_ptr<Kernel> makeCopyGrad(const KernelDesc &desc) {
  return std::make_unique<CopyGradKernel>(numElements(gradDesc(desc).fwd.inputs[0]));
}

} // namespace

DLC_REGISTER_KERNELS(DLC_REF_OP("concat", makeConcat, makeConcatGrad),
                     DLC_REF_OP("slice", makeSlice, makeSliceGrad),
                     DLC_REF_OP("crop", makeCrop, makeCropGrad),
                     DLC_REF_OP("flatten", makeCopy, makeCopyGrad),
                     DLC_REF_OP("reshape", makeCopy, makeCopyGrad),
                     DLC_REF_OP("tile", makeTile, makeTile),
                     DLC_REF_OP("batch_reindex", makeBatchReindex, makeBatchReindex),
                     DLC_REF_OP("filter", makeFilter, makeFilter),
                     DLC_REF_KERNEL("silence", Forward, makeSilence),
                     // Knows layouts: converts between them.
                     ::dlc::rt::KernelFactory{"ref", "reorder", KernelKind::Forward, nullptr,
                                              &adapt<makeReorder>, /*layouts=*/true});

} // namespace dlc::rt::ref

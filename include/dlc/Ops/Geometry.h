//===- Geometry.h - Derived layer parameters shared by rules and kernels -*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What a layer's attributes mean for given input shapes: expanded spatial
// vectors, output sizes, the [outer, channels, inner] split of an axis...
// computed once here (with the checks and messages of the shape rules) and
// used by the rules and by every kernel family (reference, oneDNN, later
// GPU), so that no kernel re-derives or re-validates them. Included by Ops.h.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_OPS_GEOMETRY_H
#define DLC_OPS_GEOMETRY_H

namespace dlc::ops {

/// Convolution, deconvolution and im2col: Caffe's BaseConvolutionLayer
/// geometry with one entry per spatial axis.
struct ConvGeometry {
  bool deconv = false;
  int64_t batch = 0, channels = 0, numOutput = 0, group = 1;
  std::vector<int64_t> kernel, stride, pad, dilation;
  /// Spatial sizes of the op's input and output.
  std::vector<int64_t> input, output;
  size_t numSpatial() const { return kernel.size(); }
  /// Dilated kernel extent along spatial axis i.
  int64_t extent(size_t i) const { return dilation[i] * (kernel[i] - 1) + 1; }
  /// Caffe's weight blob: convolution [num_output, C/group, k...],
  /// deconvolution [C, num_output/group, k...].
  Shape weightShape() const;
  /// [N, num_output, output...].
  Shape outputShape() const;
};
/// Expands and checks the attributes against `input` (any of input, weight
/// and bias may be unknown; then only what is known is checked and the
/// geometry is partial). Messages are Caffe's, e.g. "kernel (dilated) 7x7 is
/// larger than padded input 6x6".
Status convGeometry(bool deconv, int64_t numOutput, const std::vector<int64_t> &kernel,
                    const std::vector<int64_t> &stride, const std::vector<int64_t> &pad,
                    const std::vector<int64_t> &dilation, int64_t group, const Arg &input,
                    const Arg &weight, const Arg &bias, ConvGeometry &g);
Status convGeometry(const ConvolutionAttrs &a, const Shape &input, ConvGeometry &g);
Status convGeometry(const DeconvolutionAttrs &a, const Shape &input, ConvGeometry &g);

/// Im2col: the geometry of a convolution whose output channels are the
/// column rows, C * prod(kernel).
Status im2colGeometry(const Im2colAttrs &a, const Shape &input, ConvGeometry &g);

/// Inner product: x viewed as [m, k] (m = prod(shape[:axis])), y [m, n].
struct InnerProductGeometry {
  int64_t axis = 1, m = 0, k = 0, n = 0;
  bool transpose = false;
};
Status innerProductGeometry(const InnerProductAttrs &a, const Shape &input,
                            InnerProductGeometry &g);

/// 2-D pooling: Caffe's kernel/stride/pad and output size (ceil mode with
/// Caffe's clip when padded; global pooling takes the whole plane).
struct PoolGeometry {
  int64_t batch = 0, channels = 0, height = 0, width = 0;
  int64_t kh = 0, kw = 0, sh = 1, sw = 1, ph = 0, pw = 0;
  int64_t oh = 0, ow = 0;
};
/// `input` may be unknown: then only the attributes are checked.
Status poolGeometry(const std::string &pool, const std::vector<int64_t> &kernel,
                    const std::vector<int64_t> &stride, const std::vector<int64_t> &pad,
                    bool global, const std::string &roundMode, const Arg &input,
                    PoolGeometry &g);
Status poolGeometry(const PoolingAttrs &a, const Shape &input, PoolGeometry &g);

/// Spatial pyramid pooling: the pooling of level `level` (2^level bins per
/// axis) of a 4-D input.
Status sppLevelGeometry(const SPPAttrs &a, const Shape &input, int64_t level, PoolGeometry &g);

/// MVN: the normalized groups (num) and their size (dim).
Status mvnGeometry(const MVNAttrs &a, const Shape &x, int64_t &num, int64_t &dim);

/// ArgMax: the canonical axis (-1 without one) and the output shape.
Status argMaxGeometry(const ArgMaxAttrs &a, const Shape &x, int64_t &axis, Shape &out);

/// A shape split around one axis: [outer, channels, inner].
struct AxisSplit {
  int64_t axis = 0, outer = 1, channels = 1, inner = 1;
};
/// `axis` in [-rank, rank); fails with "<what> axis N out of range for rank R".
Status splitAxis(const Shape &s, int64_t axis, const char *what, AxisSplit &out);

/// Scale and Bias: the operand covers x.shape[axis : axis + rank(operand)];
/// x is [outer, dim, inner] around it.
struct Broadcast {
  int64_t outer = 1, dim = 1, inner = 1;
};
Status broadcastGeometry(const Shape &x, const Shape &operand, int64_t axis, int64_t numAxes,
                         Broadcast &out);

/// Caffe's LossLayer::GetNormalizer: the divisor of a loss for
/// `normalization` "full" (outer * inner), "valid" (the count of labels not
/// ignored), "batch_size" (outer) or "none" (1); at least 1.
double lossNormalizer(const std::string &normalization, int64_t outer, int64_t inner,
                      int64_t valid);

/// LSTM and RNN (Caffe's RecurrentLayer): x [T, N, ...] viewed as
/// [T, N, in], optional x_static [N, ...] viewed as [N, inStatic], hidden
/// size h, and where the optional operands are among the present ones
/// (-1 when absent): the weights follow x_static in Caffe's blob order.
struct RecurrentGeometry {
  int64_t t = 0, n = 0, in = 0, inStatic = 0, h = 0;
  int xStatic = -1;    ///< index of x_static
  int firstWeight = 2; ///< index of w_xc (LSTM) / w_xh (RNN)
  int wStatic = -1;    ///< index of w_xc_static / w_xh_static
  int mask = -1;       ///< index of the LSTM's mask (set by dl-skip-masked-steps)
  int numOperands = 0;
};
/// `operands`: the shapes of the present operands, in order.
Status lstmGeometry(const LSTMAttrs &a, const std::vector<Shape> &operands, RecurrentGeometry &g);
Status rnnGeometry(const RNNAttrs &a, const std::vector<Shape> &operands, RecurrentGeometry &g);

/// dl.lstm's dead steps: live[t * n + s] is 1 unless mask[t][s] is 0 and so
/// is the mask of every later step of sequence s before cont starts a new
/// one. Without a mask every step is live.
void lstmLiveSteps(const float *cont, const float *mask, int64_t t, int64_t n,
                   std::vector<uint8_t> &live);

} // namespace dlc::ops

#endif // DLC_OPS_GEOMETRY_H

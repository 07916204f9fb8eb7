# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Caffe's shape rules for caffe2torch.py: the shape helpers and, per layer
type, a handler that checks the layer's parameters, infers its top shapes
and builds the torch module of its step (c2t_modules.py).
"""

import math

from c2t_modules import _torch
from c2t_proto import CaffeError, caffe_pb2


# ---------------------------------------------------------------------------
# Shape helpers (Caffe's rules)
# ---------------------------------------------------------------------------

def _canon_axis(axis, rank, what):
    if not -rank <= axis < rank:
        raise CaffeError(f"{what}: axis {axis} out of range for a blob of rank {rank}")
    return axis % rank


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _spatial(values, single_h, single_w, has_h, nsp, default, what):
    """Caffe's repeated-or-_h/_w convention for kernel/stride/pad/dilation."""
    if has_h:
        if values:
            raise CaffeError(f"{what}: both the repeated field and the _h/_w form are set")
        if nsp != 2:
            raise CaffeError(f"{what}: _h/_w fields need 2 spatial axes")
        return [single_h, single_w]
    values = list(values)
    if not values:
        if default is None:
            raise CaffeError(f"{what}: must be specified")
        return [default] * nsp
    if len(values) == 1:
        return values * nsp
    if len(values) != nsp:
        raise CaffeError(f"{what}: {len(values)} values for {nsp} spatial axes")
    return values


def caffe_pool_out(size, kernel, stride, pad, ceil):
    """Caffe's PoolingLayer::Reshape output size along one axis."""
    if ceil:
        out = int(math.ceil((size + 2 * pad - kernel) / stride)) + 1
    else:
        out = (size + 2 * pad - kernel) // stride + 1
    if pad and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def torch_pool_out(size, kernel, stride, pad, ceil):
    """torch's pooling_output_shape (dilation 1)."""
    num = size + 2 * pad - kernel + ((stride - 1) if ceil else 0)
    out = num // stride + 1
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1
    return out


# ---------------------------------------------------------------------------
# Layer handlers
# ---------------------------------------------------------------------------

class LayerHandlers:
    """The layer handlers of CaffeNet (c2t_net.py), a mixin: one method
    `_l_<type>` per Caffe layer type that becomes a step.

    Each handler: (layer, where, bottom shapes, modules) ->
      (module, [top shapes], multiply-adds)
    """

    def _l_Convolution(self, l, where, shapes, M):
        if len(shapes) != 1:
            raise CaffeError(f"{where}: expects 1 bottom (weights come from the layer)")
        p = l.convolution_param
        x = shapes[0]
        axis = _canon_axis(p.axis, len(x), where)
        if axis != 1:
            raise CaffeError(f"{where}: only axis 1 is supported")
        nsp = len(x) - 2
        if nsp not in (1, 2, 3):
            raise CaffeError(f"{where}: {nsp} spatial axes (1 to 3 supported)")
        kernel = _spatial(p.kernel_size, p.kernel_h, p.kernel_w,
                          p.HasField("kernel_h") or p.HasField("kernel_w"), nsp, None, where + " kernel")
        stride = _spatial(p.stride, p.stride_h, p.stride_w,
                          p.HasField("stride_h") or p.HasField("stride_w"), nsp, 1, where + " stride")
        pad = _spatial(p.pad, p.pad_h, p.pad_w,
                       p.HasField("pad_h") or p.HasField("pad_w"), nsp, 0, where + " pad")
        dil = _spatial(p.dilation, 0, 0, False, nsp, 1, where + " dilation")
        cin, cout, g = x[1], p.num_output, p.group
        if cout <= 0:
            raise CaffeError(f"{where}: num_output must be positive")
        if g <= 0 or cin % g or cout % g:
            raise CaffeError(f"{where}: group {g} must divide channels {cin} and num_output {cout}")
        if any(k <= 0 for k in kernel) or any(s <= 0 for s in stride) or any(d <= 0 for d in dil):
            raise CaffeError(f"{where}: kernel, stride and dilation must be positive")
        out_sp = []
        for i, k, s, pd, d in zip(x[2:], kernel, stride, pad, dil):
            o = (i + 2 * pd - (d * (k - 1) + 1)) // s + 1
            if o <= 0:
                raise CaffeError(f"{where}: output size {o} <= 0 (input {x})")
            out_sp.append(o)
        out = [x[0], cout] + out_sp
        macs = _numel(out) * (cin // g) * _numel(kernel)
        return (M["Conv"](nsp, cin, cout, kernel, stride, pad, dil, g, p.bias_term), [out], macs)

    def _l_InnerProduct(self, l, where, shapes, M):
        p = l.inner_product_param
        x = shapes[0]
        if len(shapes) != 1:
            raise CaffeError(f"{where}: expects 1 bottom")
        axis = _canon_axis(p.axis, len(x), where)
        k = _numel(x[axis:])
        if p.num_output <= 0:
            raise CaffeError(f"{where}: num_output must be positive")
        out = x[:axis] + [p.num_output]
        macs = _numel(x[:axis]) * k * p.num_output
        return M["InnerProduct"](k, p.num_output, p.bias_term, axis, p.transpose), [out], macs

    def _l_Pooling(self, l, where, shapes, M):
        pb2 = caffe_pb2()
        p = l.pooling_param
        if len(shapes) != 1 or len(l.top) != 1:
            raise CaffeError(f"{where}: expects 1 bottom and 1 top (mask tops are not supported)")
        x = shapes[0]
        if len(x) != 4:
            raise CaffeError(f"{where}: pooling needs a 4-D bottom, got {x}")
        if p.pool == pb2.PoolingParameter.STOCHASTIC:
            raise CaffeError(f"{where}: STOCHASTIC pooling is not supported")
        is_max = p.pool == pb2.PoolingParameter.MAX
        if p.global_pooling:
            if p.HasField("kernel_size") or p.HasField("kernel_h") or p.HasField("kernel_w"):
                raise CaffeError(f"{where}: global_pooling with a kernel size")
            if p.pad or p.pad_h or p.pad_w or p.stride != 1 or p.stride_h > 1 or p.stride_w > 1:
                raise CaffeError(f"{where}: global_pooling needs pad 0 and stride 1")
            return M["Pool"](is_max, None, None, None, True, True), [[x[0], x[1], 1, 1]], 0
        has = p.HasField
        if has("kernel_size") and (has("kernel_h") or has("kernel_w")):
            raise CaffeError(f"{where}: kernel_size and kernel_h/kernel_w both set")
        if has("kernel_size"):
            kernel = [p.kernel_size] * 2
        elif has("kernel_h") and has("kernel_w"):
            kernel = [p.kernel_h, p.kernel_w]
        else:
            raise CaffeError(f"{where}: kernel size required")
        pad = [p.pad_h, p.pad_w] if (has("pad_h") or has("pad_w")) else [p.pad] * 2
        stride = [p.stride_h, p.stride_w] if (has("stride_h") or has("stride_w")) else [p.stride] * 2
        if any(k <= 0 for k in kernel) or any(s <= 0 for s in stride):
            raise CaffeError(f"{where}: kernel and stride must be positive")
        if any(pd >= k for pd, k in zip(pad, kernel)):
            raise CaffeError(f"{where}: pad must be smaller than the kernel (Caffe's check)")
        if any(2 * pd > k for pd, k in zip(pad, kernel)):
            raise CaffeError(f"{where}: pad {pad} > kernel/2 {kernel}: torch pooling cannot express it")
        ceil = p.round_mode == pb2.PoolingParameter.CEIL
        out = [x[0], x[1]]
        for i, k, s, pd in zip(x[2:], kernel, stride, pad):
            oc = caffe_pool_out(i, k, s, pd, ceil)
            ot = torch_pool_out(i, k, s, pd, ceil)
            if oc != ot:
                raise CaffeError(f"{where}: Caffe's output size {oc} differs from torch's {ot} "
                                 f"(input {i}, kernel {k}, stride {s}, pad {pd}); not representable")
            if oc <= 0:
                raise CaffeError(f"{where}: output size {oc} <= 0")
            out.append(oc)
        return M["Pool"](is_max, kernel, stride, pad, ceil, False), [out], 0

    def _l_LRN(self, l, where, shapes, M):
        pb2 = caffe_pb2()
        p = l.lrn_param
        x = shapes[0]
        if p.local_size % 2 == 0 or p.local_size <= 0:
            raise CaffeError(f"{where}: local_size must be odd and positive (Caffe's check)")
        if len(x) != 4:
            raise CaffeError(f"{where}: LRN needs a 4-D bottom, got {x}")
        if p.norm_region == pb2.LRNParameter.ACROSS_CHANNELS:
            mod = _torch().nn.LocalResponseNorm(p.local_size, p.alpha, p.beta, p.k)
        else:
            mod = M["LRNWithin"](p.local_size, p.alpha, p.beta)
        return mod, [list(x)], 0

    def _act(self, kind, shapes, M, **kw):
        return M["Act"](kind, **kw), [list(shapes[0])], 0

    def _l_ReLU(self, l, where, shapes, M):
        return self._act("relu", shapes, M, slope=l.relu_param.negative_slope)

    def _l_Sigmoid(self, l, where, shapes, M):
        return self._act("sigmoid", shapes, M)

    def _l_TanH(self, l, where, shapes, M):
        return self._act("tanh", shapes, M)

    def _l_AbsVal(self, l, where, shapes, M):
        return self._act("absval", shapes, M)

    def _l_BNLL(self, l, where, shapes, M):
        return self._act("bnll", shapes, M)

    def _l_ELU(self, l, where, shapes, M):
        return self._act("elu", shapes, M, alpha=l.elu_param.alpha)

    def _l_Power(self, l, where, shapes, M):
        p = l.power_param
        return self._act("power", shapes, M, power=(p.power, p.scale, p.shift))

    def _l_PReLU(self, l, where, shapes, M):
        x = shapes[0]
        if len(x) < 2:
            raise CaffeError(f"{where}: bottom must have at least 2 axes")
        return M["PReLU"](x[1], l.prelu_param.channel_shared), [list(x)], 0

    def _l_Dropout(self, l, where, shapes, M):  # only reached in TRAIN
        raise CaffeError(f"{where}: training-phase dropout is not supported")

    def _l_Softmax(self, l, where, shapes, M):
        axis = _canon_axis(l.softmax_param.axis, len(shapes[0]), where)
        return M["Softmax"](axis), [list(shapes[0])], 0

    def _l_SoftmaxWithLoss(self, l, where, shapes, M):
        if len(shapes) != 2:
            raise CaffeError(f"{where}: expects logits and label")
        x = shapes[0]
        axis = _canon_axis(l.softmax_param.axis, len(x), where)
        if _numel(shapes[1]) != _numel(x) // x[axis]:
            raise CaffeError(f"{where}: label {shapes[1]} does not match logits {x} outside axis {axis}")
        if l.loss_param.HasField("ignore_label"):
            raise CaffeError(f"{where}: ignore_label is not supported")
        w = l.loss_weight[0] if len(l.loss_weight) else 1.0
        self._input_role(l.bottom[1], ("label", x[axis]))
        return M["SoftmaxWithLoss"](x[axis], w, axis), [[]], 0

    def _l_Embed(self, l, where, shapes, M):
        p = l.embed_param
        if len(shapes) != 1:
            raise CaffeError(f"{where}: expects 1 bottom")
        if p.num_output <= 0 or p.input_dim <= 0:
            raise CaffeError(f"{where}: num_output and input_dim must be positive")
        self._input_role(l.bottom[0], ("index", p.input_dim))
        return M["Embed"](p.input_dim, p.num_output, p.bias_term), [shapes[0] + [p.num_output]], 0

    def _l_LSTM(self, l, where, shapes, M):
        p = l.recurrent_param
        if len(shapes) != 2:
            raise CaffeError(f"{where}: x_static (a third bottom) is not supported on the torch side")
        if p.expose_hidden:
            raise CaffeError(f"{where}: expose_hidden is not supported")
        x, cont = shapes
        if len(x) < 2 or list(cont) != x[:2]:
            raise CaffeError(f"{where}: x {x} must be [T, N, ...] and cont {cont} [T, N]")
        h, i = p.num_output, _numel(x[2:])
        self._input_role(l.bottom[1], ("cont",))
        # input projections, recurrent products (4H x (I + H) per step and stream)
        macs = x[0] * x[1] * 4 * h * (i + h)
        return M["LSTM"](i, h), [x[:2] + [h]], macs

    def _l_EuclideanLoss(self, l, where, shapes, M):
        if len(shapes) != 2 or _numel(shapes[0]) != _numel(shapes[1]):
            raise CaffeError(f"{where}: expects two bottoms of the same size")
        w = l.loss_weight[0] if len(l.loss_weight) else 1.0
        return M["EuclideanLoss"](w), [[]], 0

    def _l_BatchNorm(self, l, where, shapes, M):
        p = l.batch_norm_param
        x = shapes[0]
        if len(shapes) != 1 or len(x) < 2:
            raise CaffeError(f"{where}: expects 1 bottom with a channel axis")
        global_stats = p.use_global_stats if p.HasField("use_global_stats") else True  # TEST phase
        return M["BatchNorm"](x[1], p.eps, global_stats), [list(x)], 0

    def _param_view(self, l, where, shapes, axis, num_axes):
        x = shapes[0]
        if len(shapes) == 2:
            num_axes = len(shapes[1])
        axis = _canon_axis(axis, len(x), where)
        if num_axes < -1:
            raise CaffeError(f"{where}: num_axes must be >= -1")
        end = len(x) if num_axes == -1 else axis + num_axes
        if end > len(x):
            raise CaffeError(f"{where}: axis + num_axes exceeds the bottom's rank {len(x)}")
        pshape = x[axis:end]
        if len(shapes) == 2 and list(shapes[1]) != list(pshape):
            raise CaffeError(f"{where}: second bottom {shapes[1]} must have shape {pshape}")
        view = [1] * axis + list(pshape) + [1] * (len(x) - end)
        return pshape or [1], view

    def _l_Scale(self, l, where, shapes, M):
        p = l.scale_param
        if len(shapes) not in (1, 2):
            raise CaffeError(f"{where}: expects 1 or 2 bottoms")
        if len(shapes) == 2 and self._produced_by(l.bottom[0]) == "LSTM" and p.axis == 0:
            # An LSTM's [T, N, H] output scaled per step and stream: the
            # sequence mask of a padded batch (models/lstm-imdb.prototxt).
            self._input_role(l.bottom[1], ("mask",))
        pshape, view = self._param_view(l, where, shapes, p.axis, p.num_axes)
        mod = M["Scale"](pshape, view, p.bias_term, len(shapes) == 2)
        mod._fusable = len(shapes) == 1 and view[:2] == [1, shapes[0][1]] and all(v == 1 for v in view[2:])
        return mod, [list(shapes[0])], 0

    def _l_Bias(self, l, where, shapes, M):
        p = l.bias_param
        if len(shapes) not in (1, 2):
            raise CaffeError(f"{where}: expects 1 or 2 bottoms")
        pshape, view = self._param_view(l, where, shapes, p.axis, p.num_axes)
        return M["Bias"](pshape, view, len(shapes) == 2), [list(shapes[0])], 0

    def _l_Eltwise(self, l, where, shapes, M):
        pb2 = caffe_pb2()
        p = l.eltwise_param
        if len(shapes) < 2:
            raise CaffeError(f"{where}: needs at least 2 bottoms")
        if any(list(s) != list(shapes[0]) for s in shapes):
            raise CaffeError(f"{where}: bottoms must have identical shapes, got {shapes}")
        op = {pb2.EltwiseParameter.SUM: "sum", pb2.EltwiseParameter.PROD: "prod",
              pb2.EltwiseParameter.MAX: "max"}[p.operation]
        coeff = list(p.coeff) or None
        if coeff is not None:
            if op != "sum":
                raise CaffeError(f"{where}: coeff is only for SUM (Caffe's check)")
            if len(coeff) != len(shapes):
                raise CaffeError(f"{where}: {len(coeff)} coeff for {len(shapes)} bottoms")
            if all(c == 1.0 for c in coeff):
                coeff = None
        return M["Eltwise"](op, coeff, False), [list(shapes[0])], 0

    def _l_Concat(self, l, where, shapes, M):
        p = l.concat_param
        x = shapes[0]
        axis = p.axis if p.HasField("axis") or not p.HasField("concat_dim") else p.concat_dim
        axis = _canon_axis(axis, len(x), where)
        out = list(x)
        out[axis] = 0
        for s in shapes:
            if len(s) != len(x) or any(a != b for i, (a, b) in enumerate(zip(s, x)) if i != axis):
                raise CaffeError(f"{where}: bottoms {shapes} differ outside axis {axis}")
            out[axis] += s[axis]
        return M["Concat"](axis), [out], 0

    def _l_Flatten(self, l, where, shapes, M):
        p = l.flatten_param
        x = shapes[0]
        a = _canon_axis(p.axis, len(x), where)
        e = _canon_axis(p.end_axis, len(x), where)
        if e < a:
            raise CaffeError(f"{where}: end_axis before axis")
        out = x[:a] + [_numel(x[a:e + 1])] + x[e + 1:]
        return M["Reshape"](out), [out], 0

    def _l_Reshape(self, l, where, shapes, M):
        p = l.reshape_param
        x = shapes[0]
        rank = len(x)
        axis = p.axis if p.axis >= 0 else rank + 1 + p.axis
        if not 0 <= axis <= rank:
            raise CaffeError(f"{where}: axis {p.axis} out of range")
        end = rank if p.num_axes == -1 else axis + p.num_axes
        if p.num_axes < -1 or end > rank:
            raise CaffeError(f"{where}: num_axes {p.num_axes} out of range")
        dims = list(p.shape.dim)
        new = []
        infer = None
        for i, d in enumerate(dims):
            if d == 0:
                if axis + i >= rank:
                    raise CaffeError(f"{where}: dim 0 copies a missing axis")
                new.append(x[axis + i])
            elif d == -1:
                if infer is not None:
                    raise CaffeError(f"{where}: at most one -1 dim")
                infer = len(new)
                new.append(1)
            elif d < -1:
                raise CaffeError(f"{where}: invalid dim {d}")
            else:
                new.append(d)
        out = x[:axis] + new + x[end:]
        if infer is not None:
            known = _numel(out)
            if _numel(x) % known:
                raise CaffeError(f"{where}: cannot infer -1 for {x} -> {out}")
            out[axis + infer] = _numel(x) // known
        if _numel(out) != _numel(x):
            raise CaffeError(f"{where}: {x} has {_numel(x)} elements, {out} has {_numel(out)}")
        return M["Reshape"](out), [out], 0

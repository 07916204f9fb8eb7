#!/usr/bin/python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Builds a torch.nn.Module from a Caffe prototxt, for benchmarking dlc
against PyTorch on exactly the same network.

The prototxt is parsed with python3-protobuf using dlc's own schema
(lib/Caffe/caffe.proto), compiled at run time with `protoc --python_out`.
Every layer becomes one step of a dataflow program over Caffe blobs; shapes
are inferred with Caffe's rules while building (and checked against what
torch produces with --check), and an unsupported layer or parameter is a
clear CaffeError, never a silent approximation.

Semantics notes (Caffe vs torch):
  * Pooling, ceil rounding: torch's ceil_mode applies the same clip rule as
    Caffe ("drop the last window if it starts at or after H + pad"), except
    that Caffe applies it only when pad > 0; the builder computes both output
    sizes and refuses the (rare, kernel < stride) nets where they differ.
  * Pooling AVE: Caffe divides by the window clipped to [-pad, H + pad)
    (padding counts, the ceil overflow beyond H + pad does not). torch's CPU
    avg_pool2d with count_include_pad=True computes exactly that divisor
    (ATen cpu_avg_pool: pool_size from min(ih0 + kH, H + padH) before
    clipping to the input); test_caffe2torch.py checks it against a direct
    transcription of Caffe's loop, clipped edges included.
  * LRN ACROSS_CHANNELS: torch.nn.LocalResponseNorm(size, alpha, beta, k)
    uses Caffe's alpha / size convention; Caffe only allows odd sizes, for
    which both centre the window the same way. WITHIN_CHANNEL follows Caffe's
    composition (1 + alpha * avg-pool(x^2) with padding counted) ^ -beta.
  * BatchNorm + Scale: by default a Scale (axis 1, one axis) that directly
    and solely consumes a BatchNorm with global stats is fused into one
    F.batch_norm with weight and bias (what an idiomatic PyTorch net, e.g.
    torchvision's ResNet, runs). The maths is identical; --no-fuse keeps
    them as two steps.
  * Weights are random (timing only): conv/inner-product weights Kaiming
    normal (fan_in), biases 0, BatchNorm mean 0 / variance 1, Scale 1 / 0.
    Inputs are uniform [-1, 1). Call set_flush_denormal(True) (the benchmark
    does) so denormals cannot slow either side down.
"""

import argparse
import functools
import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_PROTO = os.path.join(REPO_ROOT, "lib", "Caffe", "caffe.proto")


class CaffeError(Exception):
    """A net this module cannot build (bad file, unsupported layer, ...)."""


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def caffe_pb2(proto_path=DEFAULT_PROTO):
    """Compiles caffe.proto with protoc into a temporary directory and
    imports the generated caffe_pb2 module."""
    if not os.path.isfile(proto_path):
        raise CaffeError(f"{proto_path}: Caffe schema not found")
    tmp = tempfile.mkdtemp(prefix="caffe2torch-")
    src_dir, name = os.path.split(os.path.abspath(proto_path))
    try:
        subprocess.run(["protoc", f"--proto_path={src_dir}", f"--python_out={tmp}", name],
                       check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise CaffeError("protoc not found (Debian package protobuf-compiler)") from None
    except subprocess.CalledProcessError as e:
        raise CaffeError(f"protoc failed on {proto_path}:\n{e.stderr}") from None
    mod_name = os.path.splitext(name)[0] + "_pb2"
    spec = importlib.util.spec_from_file_location(mod_name, os.path.join(tmp, mod_name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def parse_prototxt(path, proto_path=DEFAULT_PROTO):
    """Returns the caffe.NetParameter of a prototxt (text format)."""
    from google.protobuf import text_format
    pb2 = caffe_pb2(proto_path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise CaffeError(f"{path}: cannot read: {e.strerror}") from None
    net = pb2.NetParameter()
    try:
        text_format.Parse(text, net)
    except text_format.ParseError as e:
        raise CaffeError(f"{path}:{e}") from None
    return net


# V1 LayerType enum name -> V2 type string (the ones this module can build;
# others map to a readable name and are reported as unsupported later).
_V1_TYPES = {
    "ABSVAL": "AbsVal", "ACCURACY": "Accuracy", "ARGMAX": "ArgMax", "BNLL": "BNLL",
    "CONCAT": "Concat", "CONTRASTIVE_LOSS": "ContrastiveLoss", "CONVOLUTION": "Convolution",
    "DATA": "Data", "DECONVOLUTION": "Deconvolution", "DROPOUT": "Dropout",
    "DUMMY_DATA": "DummyData", "EUCLIDEAN_LOSS": "EuclideanLoss", "ELTWISE": "Eltwise",
    "EXP": "Exp", "FLATTEN": "Flatten", "HDF5_DATA": "HDF5Data", "HDF5_OUTPUT": "HDF5Output",
    "HINGE_LOSS": "HingeLoss", "IM2COL": "Im2col", "IMAGE_DATA": "ImageData",
    "INFOGAIN_LOSS": "InfogainLoss", "INNER_PRODUCT": "InnerProduct", "LRN": "LRN",
    "MEMORY_DATA": "MemoryData", "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
    "MVN": "MVN", "POOLING": "Pooling", "POWER": "Power", "RELU": "ReLU", "SIGMOID": "Sigmoid",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss", "SILENCE": "Silence",
    "SOFTMAX": "Softmax", "SOFTMAX_LOSS": "SoftmaxWithLoss", "SPLIT": "Split", "SLICE": "Slice",
    "TANH": "TanH", "WINDOW_DATA": "WindowData", "THRESHOLD": "Threshold",
}


def upgrade_v1(net, pb2):
    """Converts V1 `layers` entries to V2 `layer` entries in place (type enum
    to string; every *_param / include / exclude / bottom / top field with
    the same name and type is copied)."""
    if not net.layers:
        return
    if net.layer:
        raise CaffeError("net mixes V1 'layers' and V2 'layer' entries")
    v2_fields = pb2.LayerParameter.DESCRIPTOR.fields_by_name
    for old in net.layers:
        new = net.layer.add()
        if old.HasField("layer"):
            raise CaffeError(f"layer '{old.name}': V0 layer definitions are not supported")
        enum = pb2.V1LayerParameter.LayerType.Name(old.type)
        new.type = _V1_TYPES.get(enum, enum)
        for fd, value in old.ListFields():
            if fd.name in ("type", "blobs_lr", "weight_decay", "param", "blob_share_mode", "blobs"):
                continue
            tgt = v2_fields.get(fd.name)
            if tgt is None or tgt.type != fd.type:
                continue
            if fd.label == fd.LABEL_REPEATED:
                getattr(new, fd.name).extend(value)
            elif fd.type == fd.TYPE_MESSAGE:
                getattr(new, fd.name).CopyFrom(value)
            else:
                setattr(new, fd.name, value)
    del net.layers[:]


def _rule_matches(rule, phase, level, stages):
    if rule.HasField("phase") and rule.phase != phase:
        return False
    if rule.HasField("min_level") and level < rule.min_level:
        return False
    if rule.HasField("max_level") and level > rule.max_level:
        return False
    if any(s not in stages for s in rule.stage):
        return False
    if any(s in stages for s in rule.not_stage):
        return False
    return True


def layer_included(layer, phase, level=0, stages=()):
    """Caffe's NetStateRule filtering (Net::StateMeetsRule)."""
    if layer.include and layer.exclude:
        raise CaffeError(f"layer '{layer.name}': both include and exclude rules")
    if layer.include:
        return any(_rule_matches(r, phase, level, stages) for r in layer.include)
    return not any(_rule_matches(r, phase, level, stages) for r in layer.exclude)


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
# Modules for the steps
# ---------------------------------------------------------------------------

def _torch():
    import torch  # imported lazily so that --help works without torch
    return torch


def _build_modules():
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional

    class Conv(nn.Module):
        def __init__(self, nsp, cin, cout, kernel, stride, pad, dilation, group, bias):
            super().__init__()
            self.fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nsp]
            self.weight = nn.Parameter(torch.empty(cout, cin // group, *kernel))
            nn.init.kaiming_normal_(self.weight, mode="fan_in", nonlinearity="relu")
            self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
            self.stride, self.pad, self.dilation, self.group = stride, pad, dilation, group

        def forward(self, x):
            return self.fn(x, self.weight, self.bias, self.stride, self.pad, self.dilation, self.group)

    class InnerProduct(nn.Module):
        def __init__(self, k, n, bias, axis, transpose):
            super().__init__()
            shape = (k, n) if transpose else (n, k)
            self.weight = nn.Parameter(torch.empty(*shape))
            # fan_in is K in both layouts
            nn.init.normal_(self.weight, 0.0, math.sqrt(2.0 / k))
            self.bias = nn.Parameter(torch.zeros(n)) if bias else None
            self.axis, self.k, self.transpose = axis, k, transpose

        def forward(self, x):
            x = x.reshape(*x.shape[:self.axis], self.k)
            if self.transpose:
                y = torch.matmul(x, self.weight)
                return y + self.bias if self.bias is not None else y
            return F.linear(x, self.weight, self.bias)

    class Pool(nn.Module):
        def __init__(self, is_max, kernel, stride, pad, ceil, global_pool):
            super().__init__()
            self.is_max, self.kernel, self.stride, self.pad = is_max, kernel, stride, pad
            self.ceil, self.global_pool = ceil, global_pool

        def forward(self, x):
            if self.global_pool:
                return (F.adaptive_max_pool2d(x, 1) if self.is_max else F.adaptive_avg_pool2d(x, 1))
            if self.is_max:
                return F.max_pool2d(x, self.kernel, self.stride, self.pad, ceil_mode=self.ceil)
            return F.avg_pool2d(x, self.kernel, self.stride, self.pad, ceil_mode=self.ceil,
                                count_include_pad=True)

    class LRNWithin(nn.Module):
        def __init__(self, size, alpha, beta):
            super().__init__()
            self.size, self.alpha, self.beta = size, alpha, beta

        def forward(self, x):
            pad = (self.size - 1) // 2
            avg = F.avg_pool2d(x * x, self.size, 1, pad, ceil_mode=True, count_include_pad=True)
            return x * (1.0 + self.alpha * avg).pow(-self.beta)

    class Act(nn.Module):
        """Elementwise activation; inplace only where the builder proved the
        input value has no other reader."""

        def __init__(self, kind, inplace=False, slope=0.0, alpha=1.0, power=(1.0, 1.0, 0.0)):
            super().__init__()
            self.kind, self.inplace, self.slope, self.alpha, self.power = kind, inplace, slope, alpha, power

        def forward(self, x):
            k = self.kind
            if k == "relu":
                if self.slope:
                    return F.leaky_relu(x, self.slope, inplace=self.inplace)
                return F.relu(x, inplace=self.inplace)
            if k == "sigmoid":
                return x.sigmoid_() if self.inplace else torch.sigmoid(x)
            if k == "tanh":
                return x.tanh_() if self.inplace else torch.tanh(x)
            if k == "absval":
                return x.abs_() if self.inplace else torch.abs(x)
            if k == "elu":
                return F.elu(x, self.alpha, inplace=self.inplace)
            if k == "bnll":  # log(1 + exp(x)), Caffe's stable form
                return F.softplus(x)
            if k == "power":
                p, s, sh = self.power
                y = x * s + sh
                return y.pow(p) if p != 1.0 else y
            raise AssertionError(k)

    class PReLU(nn.Module):
        def __init__(self, channels, shared):
            super().__init__()
            self.weight = nn.Parameter(torch.full((1 if shared else channels,), 0.25))

        def forward(self, x):
            return F.prelu(x, self.weight)

    class Softmax(nn.Module):
        def __init__(self, axis):
            super().__init__()
            self.axis = axis

        def forward(self, x):
            return torch.softmax(x, self.axis)

    class SoftmaxWithLoss(nn.Module):
        """Caffe SoftmaxWithLoss over axis 1 (VALID normalization = mean over
        the batch). The random float label in [-1, 1) from make_inputs is
        mapped to a class index, as dlrun draws integer labels."""

        def __init__(self, classes, weight):
            super().__init__()
            self.classes, self.weight = classes, weight

        def forward(self, x, label):
            idx = (label.abs() * self.classes).long().clamp_(0, self.classes - 1)
            return F.cross_entropy(x.reshape(x.shape[0], self.classes, -1),
                                   idx.reshape(x.shape[0], -1)) * self.weight

    class EuclideanLoss(nn.Module):
        """Caffe EuclideanLoss: sum((a - b)^2) / (2 N)."""

        def __init__(self, weight):
            super().__init__()
            self.weight = weight

        def forward(self, a, b):
            return ((a - b) ** 2).sum() / (2 * a.shape[0]) * self.weight

    class BatchNorm(nn.Module):
        """Caffe BatchNorm (no affine), optionally fused with the Scale that
        follows it (weight/bias)."""

        def __init__(self, channels, eps, global_stats):
            super().__init__()
            self.register_buffer("mean", torch.zeros(channels))
            self.register_buffer("var", torch.ones(channels))
            self.weight = None
            self.bias = None
            self.eps, self.global_stats = eps, global_stats

        def fuse_scale(self, scale):
            self.weight, self.bias = scale.weight, scale.bias

        def forward(self, x):
            if self.global_stats:
                return F.batch_norm(x, self.mean, self.var, self.weight, self.bias, False, 0.0, self.eps)
            return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)

    class Scale(nn.Module):
        def __init__(self, pshape, view, bias, two_bottoms):
            super().__init__()
            self.view = view
            self.weight = None if two_bottoms else nn.Parameter(torch.ones(*pshape))
            self.bias = nn.Parameter(torch.zeros(*pshape)) if bias else None

        def forward(self, x, s=None):
            s = (self.weight if s is None else s).reshape(self.view)
            if self.bias is None:
                return x * s
            return torch.addcmul(self.bias.reshape(self.view), x, s)

    class Bias(nn.Module):
        def __init__(self, pshape, view, two_bottoms):
            super().__init__()
            self.view = view
            self.bias = None if two_bottoms else nn.Parameter(torch.zeros(*pshape))

        def forward(self, x, b=None):
            return x + (self.bias if b is None else b).reshape(self.view)

    class Eltwise(nn.Module):
        def __init__(self, op, coeff, inplace):
            super().__init__()
            self.op, self.coeff, self.inplace = op, coeff, inplace

        def forward(self, *xs):
            if self.op == "sum":
                if self.coeff is None:
                    y = xs[0].add_(xs[1]) if self.inplace else xs[0] + xs[1]
                    for x in xs[2:]:
                        y = y.add_(x)
                    return y
                y = xs[0] * self.coeff[0]
                for c, x in zip(self.coeff[1:], xs[1:]):
                    y = y.add_(x, alpha=c)
                return y
            if self.op == "prod":
                y = xs[0] * xs[1]
                for x in xs[2:]:
                    y = y.mul_(x)
                return y
            y = torch.maximum(xs[0], xs[1])
            for x in xs[2:]:
                y = torch.maximum(y, x)
            return y

    class Concat(nn.Module):
        def __init__(self, axis):
            super().__init__()
            self.axis = axis

        def forward(self, *xs):
            return torch.cat(xs, self.axis)

    class Reshape(nn.Module):
        def __init__(self, shape):
            super().__init__()
            self.shape = shape

        def forward(self, x):
            return x.reshape(self.shape)

    class Dropout(nn.Module):
        """Caffe Dropout in the TEST phase: the identity (no copy)."""

        def forward(self, x):
            return x

    return dict(Conv=Conv, InnerProduct=InnerProduct, Pool=Pool, LRNWithin=LRNWithin, Act=Act,
                PReLU=PReLU, Softmax=Softmax, SoftmaxWithLoss=SoftmaxWithLoss,
                EuclideanLoss=EuclideanLoss, BatchNorm=BatchNorm, Scale=Scale, Bias=Bias,
                Eltwise=Eltwise, Concat=Concat, Reshape=Reshape, Dropout=Dropout)


# ---------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------

DATA_TYPES = {"Data", "ImageData", "HDF5Data", "MemoryData", "DummyData", "WindowData"}
SUPPORTED = sorted([
    "Input", "Convolution", "Pooling", "LRN", "ReLU", "Sigmoid", "TanH", "AbsVal", "ELU", "BNLL",
    "Power", "PReLU", "InnerProduct", "Softmax", "Dropout", "BatchNorm", "Scale", "Bias",
    "Eltwise", "Concat", "Flatten", "Reshape", "Split", "Silence", "SoftmaxWithLoss",
    "EuclideanLoss"])


class Step:
    __slots__ = ("name", "type", "module", "ins", "outs")

    def __init__(self, name, type_, module, ins, outs):
        self.name, self.type, self.module, self.ins, self.outs = name, type_, module, ins, outs


def _make_net_class():
    torch = _torch()
    M = _build_modules()

    class CaffeNet(torch.nn.Module):
        """A Caffe net as a torch module. forward(*inputs) takes the graph
        inputs in `input_names` order and returns the net outputs (Caffe's:
        blobs produced and not consumed afterwards) in `output_names` order,
        a single tensor when there is one.

        Attributes: name, input_names, input_shapes, output_names,
        blob_shapes (Caffe-inferred shape of every blob version, by value
        id), value_names, macs (multiply-adds of convolutions and inner
        products, the usual FLOP count basis), layer_macs."""

        def __init__(self, net, source="<net>", batch=None, fuse_bn_scale=True, phase_train=False):
            super().__init__()
            self.name = net.name or os.path.basename(source)
            self.source = source
            self._mods = torch.nn.ModuleList()
            self.steps = []
            self.value_names = []   # value id -> blob name
            self.blob_shapes = []   # value id -> Caffe shape (list)
            self.input_names, self.input_shapes, self._input_ids = [], [], []
            self.macs, self.layer_macs = 0, {}
            self._current = {}      # blob name -> current value id
            self._available = {}    # Caffe's available blobs (ordered), for the net outputs
            self._batch = batch
            self._build(net, batch, fuse_bn_scale, phase_train)

        # -- building ------------------------------------------------------

        def _new_value(self, name, shape):
            vid = len(self.value_names)
            self.value_names.append(name)
            self.blob_shapes.append([int(d) for d in shape])
            self._current[name] = vid
            return vid

        def _add_input(self, name, shape, batch, where):
            shape = [int(d) for d in shape]
            if not shape or any(d <= 0 for d in shape):
                raise CaffeError(f"{where}: input '{name}' has invalid shape {shape}")
            if batch is not None:
                shape[0] = batch
            if name in self._current:
                raise CaffeError(f"{where}: input '{name}' defined twice")
            self.input_names.append(name)
            self.input_shapes.append(shape)
            self._input_ids.append(self._new_value(name, shape))
            self._available[name] = True

        def _build(self, net, batch, fuse, phase_train):
            pb2 = caffe_pb2()
            upgrade_v1(net, pb2)
            src = self.source
            # legacy inputs
            if net.input:
                if net.input_shape:
                    if len(net.input_shape) != len(net.input):
                        raise CaffeError(f"{src}: {len(net.input)} inputs but {len(net.input_shape)} input_shape")
                    shapes = [list(s.dim) for s in net.input_shape]
                else:
                    if len(net.input_dim) != 4 * len(net.input):
                        raise CaffeError(f"{src}: input_dim needs 4 values per input "
                                         f"({len(net.input)} inputs, {len(net.input_dim)} values)")
                    shapes = [list(net.input_dim[4 * i:4 * i + 4]) for i in range(len(net.input))]
                for n, s in zip(net.input, shapes):
                    self._add_input(n, s, batch, src)
            elif net.input_shape or net.input_dim:
                raise CaffeError(f"{src}: input_shape/input_dim without input")

            phase = pb2.TRAIN if phase_train else pb2.TEST
            state = net.state
            level = state.level if net.HasField("state") else 0
            stages = set(state.stage) if net.HasField("state") else set()
            layers = [l for l in net.layer if layer_included(l, phase, level, stages)]
            if not layers and not self.input_names:
                raise CaffeError(f"{src}: the net has no layers")

            bad = [f"'{l.name}' ({l.type})" for l in layers
                   if l.type not in SUPPORTED]
            if bad:
                hint = ""
                if any(l.type in DATA_TYPES for l in layers):
                    hint = " (data layers: use a deploy prototxt with an Input layer or input: fields)"
                raise CaffeError(f"{src}: unsupported layer(s): {', '.join(bad)}{hint}; "
                                 f"supported: {', '.join(SUPPORTED)}")

            for l in layers:
                for b in l.bottom:
                    self._available.pop(b, None)
                self._add_layer(l, M, phase_train)
                for t in l.top:
                    self._available[t] = True
            # net outputs, Caffe's rule: the blobs still available at the end
            self.output_names = list(self._available)
            self._output_ids = [self._current[n] for n in self.output_names]
            if not self.output_names:
                raise CaffeError(f"{src}: the net has no outputs")
            if fuse:
                self._fuse_bn_scale()
            self._plan()

        def _add_step(self, layer, module, ins, outs):
            if module is not None:
                self._mods.append(module)
            self.steps.append(Step(layer.name, layer.type, module, ins, outs))

        def _bottoms(self, layer, n=None):
            if n is not None and len(layer.bottom) not in (n if isinstance(n, tuple) else (n,)):
                raise CaffeError(f"layer '{layer.name}' ({layer.type}): expects {n} bottom(s), has {len(layer.bottom)}")
            ids = []
            for b in layer.bottom:
                if b not in self._current:
                    raise CaffeError(f"layer '{layer.name}' ({layer.type}): unknown bottom blob '{b}'")
                ids.append(self._current[b])
            return ids

        def _tops(self, layer, n):
            if len(layer.top) != n:
                raise CaffeError(f"layer '{layer.name}' ({layer.type}): expects {n} top(s), has {len(layer.top)}")
            return list(layer.top)

        def _add_layer(self, l, M, phase_train):
            t = l.type
            where = f"layer '{l.name}' ({t})"
            if t == "Input":
                p = l.input_param
                if len(p.shape) not in (1, len(l.top)):
                    raise CaffeError(f"{where}: needs one shape for all tops or one per top")
                for i, top in enumerate(l.top):
                    s = p.shape[0] if len(p.shape) == 1 else p.shape[i]
                    self._add_input(top, list(s.dim), self._batch, where)
                return
            if t == "Silence":
                self._bottoms(l)
                return
            if t == "Split":
                (b,) = self._bottoms(l, 1)
                for top in l.top:  # aliases: same value
                    self._current[top] = b
                return
            if t == "Dropout" and not phase_train:
                (b,) = self._bottoms(l, 1)
                (top,) = self._tops(l, 1)
                self._current[top] = b  # identity in TEST
                return

            ins = self._bottoms(l)
            shapes = [self.blob_shapes[v] for v in ins]
            handler = getattr(self, "_l_" + t)
            module, out_shapes, macs = handler(l, where, shapes, M)
            tops = self._tops(l, len(out_shapes))
            outs = [self._new_value(top, s) for top, s in zip(tops, out_shapes)]
            if macs:
                self.macs += macs
                self.layer_macs[l.name] = macs
            module._caffe_inplace_ok = bool(l.top and l.bottom and l.top[0] == l.bottom[0])
            self._add_step(l, module, ins, outs)

        # Each handler: (layer, where, bottom shapes, modules) ->
        #   (module, [top shapes], multiply-adds)

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
            if _canon_axis(l.softmax_param.axis, len(shapes[0]), where) != 1:
                raise CaffeError(f"{where}: only axis 1 is supported")
            w = l.loss_weight[0] if len(l.loss_weight) else 1.0
            return M["SoftmaxWithLoss"](shapes[0][1], w), [[]], 0

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

        # -- post-passes ---------------------------------------------------

        def _readers(self):
            readers = {}
            for i, s in enumerate(self.steps):
                for v in s.ins:
                    readers.setdefault(v, []).append(i)
            return readers

        def _fuse_bn_scale(self):
            readers = self._readers()
            producer = {v: i for i, s in enumerate(self.steps) for v in s.outs}
            drop = set()
            for i, s in enumerate(self.steps):
                if s.type != "Scale" or not getattr(s.module, "_fusable", False):
                    continue
                v = s.ins[0]
                j = producer.get(v)
                if j is None or self.steps[j].type != "BatchNorm" or not self.steps[j].module.global_stats:
                    continue
                if readers.get(v) != [i] or v in self._output_ids:
                    continue
                bn = self.steps[j]
                bn.module.fuse_scale(s.module)
                bn.outs = s.outs
                bn.name = f"{bn.name}+{s.name}"
                drop.add(i)
            self.steps = [s for i, s in enumerate(self.steps) if i not in drop]

        def _plan(self):
            """Decides in-place execution and when each value can be freed."""
            readers = self._readers()
            inputs = set(self._input_ids)
            outputs = set(self._output_ids)
            # values whose tensor may share storage with another value
            views = {v for s in self.steps if isinstance(s.module, self._M_Reshape) for v in s.outs}
            for i, s in enumerate(self.steps):
                m = s.module
                v = s.ins[0] if s.ins else None
                sole = (v is not None and readers.get(v) == [i] and v not in inputs
                        and v not in outputs and v not in views)
                if isinstance(m, self._M_Act) and m._caffe_inplace_ok and sole:
                    m.inplace = m.kind in ("relu", "sigmoid", "tanh", "absval", "elu")
                if isinstance(m, self._M_Eltwise) and m.op == "sum" and m.coeff is None and sole:
                    m.inplace = True
            last = {}
            for i, s in enumerate(self.steps):
                for v in s.ins:
                    last[v] = i
            self._free_after = [[] for _ in self.steps]
            for v, i in last.items():
                if v not in outputs:
                    self._free_after[i].append(v)

        _M_Act = M["Act"]
        _M_Eltwise = M["Eltwise"]
        _M_Reshape = M["Reshape"]

        # -- running -------------------------------------------------------

        def forward(self, *inputs, record_shapes=None):
            if len(inputs) != len(self._input_ids):
                raise CaffeError(f"{self.name}: expects {len(self._input_ids)} inputs, got {len(inputs)}")
            env = {}
            for v, x in zip(self._input_ids, inputs):
                env[v] = x
            for s, free in zip(self.steps, self._free_after):
                args = [env[v] for v in s.ins]
                y = s.module(*args)
                env[s.outs[0]] = y
                if record_shapes is not None:
                    record_shapes.append((s.name, s.outs[0], tuple(y.shape)))
                for v in free:
                    env.pop(v, None)
            outs = [env[v] for v in self._output_ids]
            return outs[0] if len(outs) == 1 else tuple(outs)

        def make_inputs(self, seed=0):
            g = torch.Generator().manual_seed(seed)
            return [torch.rand(*s, generator=g) * 2 - 1 for s in self.input_shapes]

        def output_shapes(self):
            return [self.blob_shapes[v] for v in self._output_ids]

    return CaffeNet


@functools.lru_cache(maxsize=None)
def _net_class():
    return _make_net_class()


def build(prototxt, batch=None, fuse_bn_scale=True, phase_train=False, proto_path=DEFAULT_PROTO):
    """Parses `prototxt` and returns a CaffeNet (torch.nn.Module, eval mode).
    batch overrides dim 0 of every graph input. Raises CaffeError."""
    if batch is not None and batch <= 0:
        raise CaffeError(f"--batch must be positive, got {batch}")
    net = parse_prototxt(prototxt, proto_path)
    model = _net_class()(net, source=prototxt, batch=batch, fuse_bn_scale=fuse_bn_scale,
                         phase_train=phase_train)
    return model.eval()


# ---------------------------------------------------------------------------
# Timing (shared with compare_forward.py)
# ---------------------------------------------------------------------------

def median(xs):
    v = sorted(xs)
    n = len(v)
    if n == 0:
        raise ValueError("median of nothing")
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def make_step(model, inputs, mode="forward"):
    """Returns a callable running one iteration of the measured work.
    forward: one forward pass under no_grad.
    grad: forward + backward of the sum of the outputs (gradients of all
    params and of the inputs' consumers; no optimizer update)."""
    torch = _torch()
    if mode == "forward":
        def step():
            with torch.no_grad():
                model(*inputs)
        return step
    if mode == "grad":
        params = [p for p in model.parameters()]

        def step():
            for p in params:
                p.grad = None
            out = model(*inputs)
            outs = out if isinstance(out, tuple) else (out,)
            loss = sum(o.sum() for o in outs)
            loss.backward()
        return step
    raise ValueError(f"unknown mode {mode!r}")


def profile_steps(model, inputs, iterations, warmup=1):
    """Per-step forward times (ms medians): [(step name, type, ms)]."""
    torch = _torch()
    samples = [[] for _ in model.steps]
    with torch.no_grad():
        for it in range(warmup + iterations):
            env = dict(zip(model._input_ids, inputs))
            for k, s in enumerate(model.steps):
                args = [env[v] for v in s.ins]
                t0 = time.perf_counter()
                env[s.outs[0]] = s.module(*args)
                if it >= warmup:
                    samples[k].append((time.perf_counter() - t0) * 1e3)
    return [(s.name, s.type, median(x)) for s, x in zip(model.steps, samples)]


def time_step(step, warmup, iterations):
    """warmup untimed calls, then `iterations` timed calls; returns ms list."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


# ---------------------------------------------------------------------------
# Command line: print the blobs and outputs (and optionally time)
# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prototxt")
    ap.add_argument("--batch", type=int, help="override dim 0 of every input")
    ap.add_argument("--no-fuse", action="store_true", help="keep BatchNorm and Scale as separate steps")
    ap.add_argument("--blobs", action="store_true", help="print every blob's shape")
    ap.add_argument("--time", type=int, metavar="I", default=0,
                    help="time I forward iterations (after 2 warm-ups) and print the median")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    ap.add_argument("--profile", type=int, metavar="I", default=0,
                    help="time each step over I forward runs and print the per-step medians")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    torch = _torch()
    torch.set_flush_denormal(True)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        model = build(args.prototxt, batch=args.batch, fuse_bn_scale=not args.no_fuse)
    except CaffeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    inputs = model.make_inputs()
    rec = []
    with torch.no_grad():
        out = model(*inputs, record_shapes=rec)
    outs = out if isinstance(out, tuple) else (out,)
    mismatches = [(n, model.blob_shapes[v], s) for n, v, s in rec if list(s) != model.blob_shapes[v]]
    for n, i in zip(model.input_names, model.input_shapes):
        print(f"input  {n}: {'x'.join(map(str, i))}")
    if args.blobs:
        for n, v, s in rec:
            print(f"  {n:32s} -> {model.value_names[v]}: {'x'.join(map(str, s))}")
    for n, o in zip(model.output_names, outs):
        finite = bool(torch.isfinite(o).all())
        print(f"output {n}: {'x'.join(map(str, o.shape))}{'' if finite else '  (NOT FINITE)'}")
    print(f"steps {len(model.steps)}, params {sum(p.numel() for p in model.parameters())}, "
          f"multiply-adds {model.macs / 1e9:.4f} G")
    if mismatches:
        for n, c, s in mismatches:
            print(f"error: step '{n}': torch shape {list(s)} != Caffe shape {c}", file=sys.stderr)
        return 1
    if args.time:
        step = make_step(model, inputs)
        ms = median(time_step(step, 2, args.time))
        print(f"forward median {ms:.3f} ms ({torch.get_num_threads()} threads), "
              f"{2 * model.macs / ms / 1e6:.1f} GFLOP/s")
    if args.profile:
        rows = profile_steps(model, inputs, args.profile)
        total = sum(t for _, _, t in rows)
        print(f"per-step medians over {args.profile} runs ({torch.get_num_threads()} threads), "
              f"sum {total:.3f} ms:")
        for name, type_, t in rows:
            macs = model.layer_macs.get(name.split("+")[0], 0)
            rate = f"  {2 * macs / t / 1e6:8.1f} GFLOP/s" if macs and t > 0 else ""
            print(f"  {name:32s} {type_:14s} {t:9.3f} ms {100 * t / total:5.1f}%{rate}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

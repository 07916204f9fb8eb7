# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""The torch modules that run the steps of a caffe2torch.py net (one per
Caffe layer, with Caffe's semantics). torch is imported lazily, so that
--help works without it: _build_modules() returns the classes.
"""

import math


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

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
        """Caffe SoftmaxWithLoss over `axis` (VALID normalization = the mean
        over every position outside the class axis). The label holds class
        indices as floats (make_inputs draws them, as dlrun does)."""

        def __init__(self, classes, weight, axis=1):
            super().__init__()
            self.classes, self.weight, self.axis = classes, weight, axis

        def forward(self, x, label):
            outer = 1
            for d in x.shape[:self.axis]:
                outer *= d
            idx = label.long().clamp_(0, self.classes - 1)
            return F.cross_entropy(x.reshape(outer, self.classes, -1),
                                   idx.reshape(outer, -1)) * self.weight

    class Embed(nn.Module):
        """Caffe Embed: row `index` of weight [input_dim, num_output]
        (nn.Embedding's layout), plus the bias."""

        def __init__(self, input_dim, num_output, bias):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(input_dim, num_output).uniform_(-0.1, 0.1))
            self.bias = nn.Parameter(torch.zeros(num_output)) if bias else None

        def forward(self, idx):
            y = F.embedding(idx.long(), self.weight)
            return y + self.bias if self.bias is not None else y

    class LSTM(nn.Module):
        """Caffe LSTM (lstm_layer.cpp) as torch.nn.LSTM, time-major.

        Weights: Caffe's W_xc [4H, I], b_c [4H], W_hc [4H, H] stack the gates
        i, f, o, g; torch's weight_ih_l0 / bias_ih_l0 / weight_hh_l0 stack
        i, f, g, o: rows [2H, 3H) and [3H, 4H) swap (CAFFE_TO_TORCH_GATES),
        and bias_hh_l0 is 0 (Caffe has one bias). load_caffe() does it.

        cont [T, N] must follow Caffe's padded-batch convention: 0 at t = 0,
        1 on the rest of the sequence, 0 on the padding after it, which
        gives each sequence's length. Full-length batches run nn.LSTM on the
        tensor; others run it on a PackedSequence, so the padding costs
        nothing, and the padded steps' outputs are 0 (Caffe computes them
        from a reset state; the nets mask them out). A sequence restarting
        mid-batch (cont back to 1 after a 0) has no nn.LSTM equivalent and
        raises ValueError."""

        CAFFE_TO_TORCH_GATES = (0, 1, 3, 2)

        def __init__(self, input_size, hidden):
            super().__init__()
            self.hidden = hidden
            self.lstm = nn.LSTM(input_size, hidden)
            with torch.no_grad():
                self.lstm.bias_hh_l0.zero_()
            self.lstm.bias_hh_l0.requires_grad_(False)
            self._lengths_of = None  # (cont tensor id, lengths) cache

        def load_caffe(self, w_xc, b_c, w_hc):
            """Copies Caffe's blobs (tensors or arrays) into nn.LSTM."""
            h = self.hidden

            def reorder(w):
                w = torch.as_tensor(w, dtype=torch.float32)
                return torch.cat([w[g * h:(g + 1) * h] for g in self.CAFFE_TO_TORCH_GATES])

            with torch.no_grad():
                self.lstm.weight_ih_l0.copy_(reorder(w_xc))
                self.lstm.bias_ih_l0.copy_(reorder(b_c))
                self.lstm.weight_hh_l0.copy_(reorder(w_hc))
                self.lstm.bias_hh_l0.zero_()

        @staticmethod
        def lengths(cont):
            T = cont.shape[0]
            c = cont.reshape(T, -1) != 0
            if bool(c[0].any()):
                raise ValueError("LSTM: cont must be 0 at t = 0 (each stream starts a sequence)")
            # length = 1 + the run of ones after t = 0
            run = torch.cumprod(c[1:].int(), 0).sum(0) if T > 1 else torch.zeros(c.shape[1], dtype=torch.long)
            lengths = run + 1
            if int(c.sum()) != int(run.sum()):
                raise ValueError("LSTM: a sequence restarts mid-batch (cont back to 1 after a 0); "
                                 "torch.nn.LSTM has no equivalent")
            return lengths

        def forward(self, x, cont):
            T, N = x.shape[0], x.shape[1]
            x = x.reshape(T, N, -1)
            key = (cont.data_ptr(), cont._version)
            if self._lengths_of is None or self._lengths_of[0] != key:
                self._lengths_of = (key, self.lengths(cont))
            lengths = self._lengths_of[1]
            if bool((lengths == T).all()):
                return self.lstm(x)[0]
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
            y, _ = nn.utils.rnn.pad_packed_sequence(self.lstm(packed)[0], total_length=T)
            return y

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
                PReLU=PReLU, Softmax=Softmax, SoftmaxWithLoss=SoftmaxWithLoss, Embed=Embed, LSTM=LSTM,
                EuclideanLoss=EuclideanLoss, BatchNorm=BatchNorm, Scale=Scale, Bias=Bias,
                Eltwise=Eltwise, Concat=Concat, Reshape=Reshape, Dropout=Dropout)

# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""A Caffe net as a torch module for caffe2torch.py: the dataflow program
over Caffe blobs (steps, values, net inputs and outputs), the BatchNorm +
Scale fusion, the in-place and freeing plan, and build().
"""

import functools
import os

from c2t_layers import LayerHandlers, _numel
from c2t_modules import _build_modules, _torch
from c2t_proto import DEFAULT_PROTO, CaffeError, caffe_pb2, layer_included, parse_prototxt, upgrade_v1

DATA_TYPES = {"Data", "ImageData", "HDF5Data", "MemoryData", "DummyData", "WindowData"}
SUPPORTED = sorted([
    "Input", "Convolution", "Pooling", "LRN", "ReLU", "Sigmoid", "TanH", "AbsVal", "ELU", "BNLL",
    "Power", "PReLU", "InnerProduct", "Softmax", "Dropout", "BatchNorm", "Scale", "Bias",
    "Eltwise", "Concat", "Flatten", "Reshape", "Split", "Silence", "SoftmaxWithLoss",
    "EuclideanLoss", "Embed", "LSTM"])


class Step:
    __slots__ = ("name", "type", "module", "ins", "outs")

    def __init__(self, name, type_, module, ins, outs):
        self.name, self.type, self.module, self.ins, self.outs = name, type_, module, ins, outs


def _make_net_class():
    torch = _torch()
    M = _build_modules()

    class CaffeNet(LayerHandlers, torch.nn.Module):
        """A Caffe net as a torch module. forward(*inputs) takes the graph
        inputs in `input_names` order and returns the net outputs (Caffe's:
        blobs produced and not consumed afterwards) in `output_names` order,
        a single tensor when there is one.

        Attributes: name, input_names, input_shapes, output_names,
        blob_shapes (Caffe-inferred shape of every blob version, by value
        id), value_names, macs (multiply-adds of convolutions and inner
        products, the usual FLOP count basis), layer_macs.

        The per-layer handlers `_l_<type>` come from LayerHandlers
        (c2t_layers.py)."""

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
            self._producer_type = {}  # value id -> type of the layer producing it
            self.input_roles = {}     # input name -> ("index", n) | ("label", n) | ("cont",) | ("mask",)
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

        def _input_role(self, blob, role):
            """Records what a graph input is for make_inputs (a no-op for
            blobs that are not graph inputs)."""
            v = self._current.get(blob)
            if v in self._input_ids:
                self.input_roles.setdefault(self.value_names[v], role)

        def _produced_by(self, blob):
            return self._producer_type.get(self._current.get(blob))

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
            for v in outs:
                self._producer_type[v] = t
            # lr_mult 0: a constant (Caffe computes no gradient for it).
            own = [q for n, q in module.named_parameters(recurse=False)]
            for spec, q in zip(l.param, own):
                if spec.HasField("lr_mult") and spec.lr_mult == 0:
                    q.requires_grad_(False)
            if macs:
                self.macs += macs
                self.layer_macs[l.name] = macs
            module._caffe_inplace_ok = bool(l.top and l.bottom and l.top[0] == l.bottom[0])
            self._add_step(l, module, ins, outs)

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

        def make_inputs(self, seed=0, lengths=None):
            """One batch of inputs, by role (input_roles): uniform [-1, 1)
            data; integer class labels and word indices; Caffe's `cont`
            (0 at each sequence's first step and on its padding, else 1);
            the sequence mask (1/length on the real steps, 0 on padding).
            Sequences have full length unless the net has a mask: then their
            lengths are drawn uniformly from [T/5, T], one of them T (a batch
            padded to its longest sequence), or given as `lengths`."""
            g = torch.Generator().manual_seed(seed)
            roles = [self.input_roles.get(n, ("data",)) for n in self.input_names]
            T = N = None
            for r, shp in zip(roles, self.input_shapes):
                if r[0] in ("cont", "mask"):
                    T, N = shp[0], _numel(shp[1:])
            if T is not None:
                if lengths is None:
                    if any(r[0] == "mask" for r in roles):
                        lo = max(1, T // 5)
                        lengths = torch.randint(lo, T + 1, (N,), generator=g)
                        lengths[int(torch.randint(0, N, (1,), generator=g))] = T
                    else:
                        lengths = torch.full((N,), T)
                lengths = torch.as_tensor(lengths).reshape(N)
                steps = torch.arange(T).reshape(T, 1)
                real = steps < lengths.reshape(1, N)
            out = []
            for r, shp in zip(roles, self.input_shapes):
                if r[0] in ("index", "label"):
                    out.append(torch.randint(0, r[1], tuple(shp), generator=g).float())
                elif r[0] == "cont":
                    out.append(((steps > 0) & real).float().reshape(shp))
                elif r[0] == "mask":
                    out.append((real.float() / lengths.reshape(1, N).float()).reshape(shp))
                else:
                    out.append(torch.rand(*shp, generator=g) * 2 - 1)
            return out

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

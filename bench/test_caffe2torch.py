#!/usr/bin/python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Tests of bench/caffe2torch.py: Caffe semantics of the torch side.

Run: /usr/bin/python3 -m unittest discover -s bench -p 'test_*.py' -v
(zoo tests are skipped when ../shared/zoo is absent; DLC_ZOO_DIR overrides).
"""

import math
import os
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import caffe2torch as c2t  # noqa: E402

import torch  # noqa: E402

ZOO = os.environ.get("DLC_ZOO_DIR", os.path.join(c2t.REPO_ROOT, "..", "shared", "zoo"))


def caffe_pool_ref(x, pool, k, s, p, ceil=True):
    """Direct transcription of Caffe's PoolingLayer<float>::Forward_cpu
    (MAX and AVE) for one (N, C, H, W) tensor, square parameters."""
    n, c, h, w = x.shape
    oh, ow = c2t.caffe_pool_out(h, k, s, p, ceil), c2t.caffe_pool_out(w, k, s, p, ceil)
    y = torch.empty(n, c, oh, ow, dtype=torch.float64)
    for ph in range(oh):
        for pw in range(ow):
            hs, ws = ph * s - p, pw * s - p
            he, we = min(hs + k, h + p), min(ws + k, w + p)
            size = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            win = x[:, :, hs:he, ws:we].double()
            if pool == "max":
                y[:, :, ph, pw] = win.amax(dim=(2, 3))
            else:
                y[:, :, ph, pw] = win.sum(dim=(2, 3)) / size
    return y


def caffe_lrn_across_ref(x, size, alpha, beta, k):
    n, c, h, w = x.shape
    x = x.double()
    pre = (size - 1) // 2
    y = torch.empty_like(x)
    for ch in range(c):
        lo, hi = max(0, ch - pre), min(c, ch - pre + size)
        scale = k + alpha / size * (x[:, lo:hi] ** 2).sum(dim=1)
        y[:, ch] = x[:, ch] * scale ** -beta
    return y


def write_net(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".prototxt", delete=False)
    f.write(textwrap.dedent(text))
    f.close()
    return f.name


def pool_net(pool, k, s, p, h, w, extra=""):
    return write_net(f"""
        name: "pool"
        layer {{ name: "data" type: "Input" top: "data"
                input_param {{ shape {{ dim: 2 dim: 3 dim: {h} dim: {w} }} }} }}
        layer {{ name: "pool" type: "Pooling" bottom: "data" top: "pool"
                pooling_param {{ pool: {pool} kernel_size: {k} stride: {s} pad: {p} {extra} }} }}
        """)


class PoolingSemantics(unittest.TestCase):
    # (kernel, stride, pad, H, W): includes ceil windows clipped at H + pad
    CASES = [(3, 2, 0, 13, 13), (3, 2, 1, 112, 112), (3, 2, 1, 8, 9), (2, 2, 1, 7, 6),
             (3, 3, 1, 10, 11), (5, 3, 2, 12, 7), (3, 1, 1, 5, 5), (2, 2, 0, 5, 5), (7, 1, 0, 7, 7)]

    def check(self, pool):
        torch.manual_seed(0)
        for k, s, p, h, w in self.CASES:
            with self.subTest(k=k, s=s, p=p, h=h, w=w):
                model = c2t.build(pool_net(pool.upper(), k, s, p, h, w))
                x = torch.randn(2, 3, h, w)
                with torch.no_grad():
                    y = model(x)
                ref = caffe_pool_ref(x, pool, k, s, p)
                self.assertEqual(list(y.shape), list(ref.shape))
                self.assertEqual(list(y.shape), model.output_shapes()[0])
                torch.testing.assert_close(y.double(), ref, rtol=1e-5, atol=1e-6)

    def test_ave_matches_caffe_divisor(self):
        self.check("ave")

    def test_max_matches_caffe(self):
        self.check("max")

    def test_ave_divisor_actually_differs_from_clipped(self):
        # guards the test itself: at the clipped edge Caffe's divisor counts
        # padding, so a count_include_pad=False pooling would fail the check
        x = torch.randn(1, 1, 8, 9)
        ref = caffe_pool_ref(x, "ave", 3, 2, 1)
        alt = torch.nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)
        self.assertFalse(torch.allclose(alt.double(), ref, atol=1e-6))

    def test_global_pooling(self):
        model = c2t.build(write_net("""
            layer { name: "data" type: "Input" top: "data"
                    input_param { shape { dim: 2 dim: 4 dim: 5 dim: 7 } } }
            layer { name: "g" type: "Pooling" bottom: "data" top: "g"
                    pooling_param { pool: AVE global_pooling: true } }
            """))
        x = torch.randn(2, 4, 5, 7)
        with torch.no_grad():
            y = model(x)
        torch.testing.assert_close(y, x.mean(dim=(2, 3), keepdim=True))

    def test_unrepresentable_pooling_is_an_error(self):
        # kernel 1 < stride 3, pad 0: Caffe keeps a window torch drops
        with self.assertRaisesRegex(c2t.CaffeError, "differs from torch"):
            c2t.build(pool_net("MAX", 1, 3, 0, 5, 5))
        with self.assertRaisesRegex(c2t.CaffeError, "smaller than the kernel"):
            c2t.build(pool_net("MAX", 2, 1, 2, 5, 5))


class LayerSemantics(unittest.TestCase):
    def test_lrn_across_channels(self):
        model = c2t.build(write_net("""
            layer { name: "data" type: "Input" top: "data"
                    input_param { shape { dim: 2 dim: 7 dim: 4 dim: 3 } } }
            layer { name: "n" type: "LRN" bottom: "data" top: "n"
                    lrn_param { local_size: 5 alpha: 0.3 beta: 0.75 k: 2 } }
            """))
        x = torch.randn(2, 7, 4, 3)
        with torch.no_grad():
            y = model(x)
        torch.testing.assert_close(y.double(), caffe_lrn_across_ref(x, 5, 0.3, 0.75, 2.0),
                                   rtol=1e-5, atol=1e-6)

    def test_lrn_within_channel(self):
        model = c2t.build(write_net("""
            layer { name: "data" type: "Input" top: "data"
                    input_param { shape { dim: 1 dim: 2 dim: 6 dim: 5 } } }
            layer { name: "n" type: "LRN" bottom: "data" top: "n"
                    lrn_param { local_size: 3 alpha: 0.5 beta: 0.6 norm_region: WITHIN_CHANNEL } }
            """))
        x = torch.randn(1, 2, 6, 5)
        with torch.no_grad():
            y = model(x)
        sq = caffe_pool_ref(x * x, "ave", 3, 1, 1)
        ref = x.double() * (1 + 0.5 * sq) ** -0.6
        torch.testing.assert_close(y.double(), ref, rtol=1e-5, atol=1e-6)

    def test_even_lrn_size_is_an_error(self):
        with self.assertRaisesRegex(c2t.CaffeError, "odd"):
            c2t.build(write_net("""
                layer { name: "data" type: "Input" top: "data"
                        input_param { shape { dim: 1 dim: 2 dim: 6 dim: 5 } } }
                layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { local_size: 4 } }
                """))

    def test_bn_scale_fusion_is_exact(self):
        text = """
            layer { name: "data" type: "Input" top: "data"
                    input_param { shape { dim: 2 dim: 3 dim: 5 dim: 5 } } }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
                    convolution_param { num_output: 4 kernel_size: 3 pad: 1 bias_term: false } }
            layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv"
                    batch_norm_param { use_global_stats: true eps: 0.001 } }
            layer { name: "sc" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
            layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
            """
        path = write_net(text)
        torch.manual_seed(1)
        split = c2t.build(path, fuse_bn_scale=False)
        torch.manual_seed(1)
        fused = c2t.build(path)
        self.assertEqual([s.type for s in split.steps], ["Convolution", "BatchNorm", "Scale", "ReLU"])
        self.assertEqual([s.type for s in fused.steps], ["Convolution", "BatchNorm", "ReLU"])
        bn_s, sc_s = split.steps[1].module, split.steps[2].module
        bn_f = fused.steps[1].module
        with torch.no_grad():
            for t in (bn_s.mean, bn_s.var, sc_s.weight, sc_s.bias):
                t.uniform_(0.5, 1.5)
            for a, b in ((bn_f.mean, bn_s.mean), (bn_f.var, bn_s.var),
                         (bn_f.weight, sc_s.weight), (bn_f.bias, sc_s.bias)):
                a.copy_(b)
            x = torch.randn(2, 3, 5, 5)
            conv = split.steps[0].module(x)
            ref = torch.relu((conv - bn_s.mean.view(1, -1, 1, 1))
                             / torch.sqrt(bn_s.var.view(1, -1, 1, 1) + 0.001)
                             * sc_s.weight.view(1, -1, 1, 1) + sc_s.bias.view(1, -1, 1, 1))
            torch.testing.assert_close(split(x), ref, rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(fused(x), ref, rtol=1e-5, atol=1e-5)

    def test_value_semantics_with_inplace_and_fanout(self):
        # 'p' is read by TanH and Flatten, then rewritten in place by ReLU;
        # the earlier readers must see the old value (Caffe's layer order).
        model = c2t.build(write_net("""
            layer { name: "data" type: "Input" top: "data"
                    input_param { shape { dim: 2 dim: 3 dim: 2 dim: 2 } } }
            layer { name: "p" type: "Power" bottom: "data" top: "p" power_param { shift: -0.1 } }
            layer { name: "t" type: "TanH" bottom: "p" top: "t" }
            layer { name: "f" type: "Flatten" bottom: "p" top: "f" }
            layer { name: "r" type: "ReLU" bottom: "p" top: "p" }
            layer { name: "e" type: "Eltwise" bottom: "t" bottom: "p" top: "e" }
            """))
        self.assertEqual(model.output_names, ["f", "e"])
        x = torch.randn(2, 3, 2, 2)
        with torch.no_grad():
            f, e = model(x)
        p = x - 0.1
        torch.testing.assert_close(f, p.reshape(2, 12))
        torch.testing.assert_close(e, torch.tanh(p) + torch.relu(p))

    def test_inner_product_eltwise_coeff_concat_softmax(self):
        model = c2t.build(write_net("""
            input: "a" input_shape { dim: 3 dim: 2 dim: 2 dim: 2 }
            layer { name: "ip1" type: "InnerProduct" bottom: "a" top: "ip1"
                    inner_product_param { num_output: 5 } }
            layer { name: "ip2" type: "InnerProduct" bottom: "a" top: "ip2"
                    inner_product_param { num_output: 5 transpose: true } }
            layer { name: "e" type: "Eltwise" bottom: "ip1" bottom: "ip2" top: "e"
                    eltwise_param { operation: SUM coeff: 2 coeff: -1 } }
            layer { name: "c" type: "Concat" bottom: "e" bottom: "ip1" top: "c" }
            layer { name: "s" type: "Softmax" bottom: "c" top: "s" }
            """), batch=4)
        self.assertEqual(model.input_shapes, [[4, 2, 2, 2]])
        self.assertEqual(model.output_shapes(), [[4, 10]])
        ip1, ip2 = model.steps[0].module, model.steps[1].module
        self.assertEqual(list(ip2.weight.shape), [8, 5])
        x = torch.randn(4, 2, 2, 2)
        with torch.no_grad():
            y = model(x)
            a = x.reshape(4, 8)
            o1 = a @ ip1.weight.t() + ip1.bias
            o2 = a @ ip2.weight + ip2.bias
            ref = torch.softmax(torch.cat([2 * o1 - o2, o1], 1), 1)
        torch.testing.assert_close(y, ref)

    def test_grouped_dilated_convolution_shape_and_macs(self):
        model = c2t.build(write_net("""
            layer { name: "data" type: "Input" top: "data"
                    input_param { shape { dim: 1 dim: 4 dim: 9 dim: 9 } } }
            layer { name: "c" type: "Convolution" bottom: "data" top: "c"
                    convolution_param { num_output: 6 kernel_size: 3 group: 2 dilation: 2 stride: 2 pad: 1 } }
            """))
        # (9 + 2 - 5) / 2 + 1 = 4
        self.assertEqual(model.output_shapes(), [[1, 6, 4, 4]])
        self.assertEqual(model.macs, 6 * 4 * 4 * 2 * 9)
        with torch.no_grad():
            self.assertEqual(list(model(torch.randn(1, 4, 9, 9)).shape), [1, 6, 4, 4])


class Errors(unittest.TestCase):
    def test_unsupported_layers_are_listed(self):
        path = write_net("""
            layer { name: "data" type: "Input" top: "data"
                    input_param { shape { dim: 1 dim: 2 } } }
            layer { name: "x" type: "Threshold" bottom: "data" top: "x" }
            layer { name: "y" type: "RNN" bottom: "x" top: "y" }
            """)
        with self.assertRaisesRegex(c2t.CaffeError, r"'x' \(Threshold\), 'y' \(RNN\)"):
            c2t.build(path)

    def test_syntax_error_has_position(self):
        with self.assertRaisesRegex(c2t.CaffeError, r":2:\d+"):
            c2t.build(write_net("name: 'x'\nlayer { nam: 'y' }\n"))

    def test_unknown_bottom_and_missing_file(self):
        with self.assertRaisesRegex(c2t.CaffeError, "unknown bottom blob 'nope'"):
            c2t.build(write_net('layer { name: "r" type: "ReLU" bottom: "nope" top: "r" }'))
        with self.assertRaisesRegex(c2t.CaffeError, "cannot read"):
            c2t.build("/nonexistent/net.prototxt")

    def test_bad_group(self):
        with self.assertRaisesRegex(c2t.CaffeError, "group 2 must divide"):
            c2t.build(write_net("""
                layer { name: "data" type: "Input" top: "data"
                        input_param { shape { dim: 1 dim: 3 dim: 5 dim: 5 } } }
                layer { name: "c" type: "Convolution" bottom: "data" top: "c"
                        convolution_param { num_output: 4 kernel_size: 3 group: 2 } }
                """))


@unittest.skipUnless(os.path.isdir(ZOO), "zoo not found")
class ZooNets(unittest.TestCase):
    def run_net(self, rel, out_shape, batch=1, min_macs=0.0):
        model = c2t.build(os.path.join(ZOO, rel), batch=batch)
        rec = []
        with torch.no_grad():
            out = model(*model.make_inputs(), record_shapes=rec)
        for name, v, shape in rec:
            self.assertEqual(list(shape), model.blob_shapes[v], f"step {name}")
        self.assertEqual(list(out.shape), out_shape)
        self.assertTrue(bool(torch.isfinite(out).all()))
        self.assertGreater(model.macs, min_macs)
        return model

    def test_alexnet_groups_lrn(self):
        m = self.run_net("bvlc_alexnet/deploy.prototxt", [1, 1000], min_macs=0.7e9)
        self.assertEqual(m.blob_shapes[m._current["pool5"]], [1, 256, 6, 6])
        self.assertEqual(m.steps[[s.name for s in m.steps].index("conv2")].module.group, 2)

    def test_alexnet_v1(self):
        self.run_net("legacy_v1/bvlc_alexnet/deploy.prototxt", [1, 1000])

    def test_resnet50(self):
        m = self.run_net("resnet/ResNet-50-deploy.prototxt", [1, 1000], min_macs=3.8e9)
        self.assertEqual(m.blob_shapes[m._current["res5c"]], [1, 2048, 7, 7])

    def test_googlenet(self):
        self.run_net("bvlc_googlenet/deploy.prototxt", [1, 1000], min_macs=1.5e9)

    def test_googlenet_legacy_input_dim(self):
        self.run_net("legacy_inputdim/bvlc_googlenet/deploy.prototxt", [2, 1000], batch=2)

    def test_lenet_batch64(self):
        m = self.run_net(os.path.join(c2t.REPO_ROOT, "models", "lenet.prototxt"), [64, 10], batch=64)
        # 64 * (20*24*24*25 + 50*8*8*500 + 800*500 + 500*10)
        self.assertEqual(m.macs, 64 * (288000 + 1600000 + 400000 + 5000))


def caffe_lstm_ref(x, cont, w_xc, b_c, w_hc):
    """Direct transcription of Caffe's LSTMLayer (the unrolled net of
    lstm_layer.cpp with LSTMUnit), float64; gate order i, f, o, g."""
    T, N = cont.shape
    H = w_hc.shape[1]
    x, w_xc, b_c, w_hc = x.double().reshape(T, N, -1), w_xc.double(), b_c.double(), w_hc.double()
    h, c = torch.zeros(N, H, dtype=torch.float64), torch.zeros(N, H, dtype=torch.float64)
    ys = []
    for t in range(T):
        k = cont[t].double().reshape(N, 1)
        a = x[t] @ w_xc.T + b_c + (k * h) @ w_hc.T
        i, f, o, g = a[:, :H].sigmoid(), a[:, H:2 * H].sigmoid(), a[:, 2 * H:3 * H].sigmoid(), a[:, 3 * H:].tanh()
        c = k * f * c + i * g
        h = o * c.tanh()
        ys.append(h)
    return torch.stack(ys)


class Recurrent(unittest.TestCase):
    def lstm_net(self, T, N, I, H, mask=False):
        return write_net(f"""
            layer {{ name: "in" type: "Input" top: "x" top: "cont" {'top: "mask"' if mask else ''}
                    input_param {{ shape {{ dim: {T} dim: {N} dim: {I} }} shape {{ dim: {T} dim: {N} }}
                                  {f'shape {{ dim: {T} dim: {N} }}' if mask else ''} }} }}
            layer {{ name: "lstm" type: "LSTM" bottom: "x" bottom: "cont" top: "h"
                    recurrent_param {{ num_output: {H} }} }}
            {'layer { name: "m" type: "Scale" bottom: "h" bottom: "mask" top: "hm" scale_param { axis: 0 } }'
             if mask else ''}
            """)

    def test_lstm_gate_order_matches_caffe(self):
        T, N, I, H = 5, 3, 4, 6
        m = c2t.build(self.lstm_net(T, N, I, H))
        self.assertEqual(m.input_roles, {"cont": ("cont",)})
        g = torch.Generator().manual_seed(1)
        w_xc, b_c, w_hc = (torch.randn(4 * H, I, generator=g), torch.randn(4 * H, generator=g),
                           torch.randn(4 * H, H, generator=g))
        lstm = m.steps[0].module
        lstm.load_caffe(w_xc, b_c, w_hc)
        x = torch.randn(T, N, I, generator=g)
        cont = torch.ones(T, N)
        cont[0] = 0
        with torch.no_grad():
            y = m(x, cont)
        ref = caffe_lstm_ref(x, cont, w_xc, b_c, w_hc)
        self.assertLess(float((y.double() - ref).abs().max()), 1e-5)
        # The mapping matters: Caffe's order loaded as torch's differs.
        with torch.no_grad():
            lstm.lstm.weight_ih_l0.copy_(w_xc)
            lstm.lstm.bias_ih_l0.copy_(b_c)
            lstm.lstm.weight_hh_l0.copy_(w_hc)
            self.assertGreater(float((m(x, cont).double() - ref).abs().max()), 1e-2)

    def test_padded_batch_equals_caffe_on_the_real_steps(self):
        T, N, I, H = 6, 4, 3, 5
        m = c2t.build(self.lstm_net(T, N, I, H, mask=True))
        self.assertEqual(m.input_roles, {"cont": ("cont",), "mask": ("mask",)})
        x, cont, mask = m.make_inputs(seed=3, lengths=[6, 2, 4, 1])
        self.assertEqual(cont[:, 1].tolist(), [0, 1, 0, 0, 0, 0])
        self.assertAlmostEqual(float(mask[:, 2].sum()), 1.0, places=6)
        self.assertEqual(c2t.build(self.lstm_net(T, N, I, H)).steps[0].module.lengths(cont).tolist(),
                         [6, 2, 4, 1])
        lstm = m.steps[0].module
        g = torch.Generator().manual_seed(2)
        w = [torch.randn(4 * H, I, generator=g), torch.randn(4 * H, generator=g),
             torch.randn(4 * H, H, generator=g)]
        lstm.load_caffe(*w)
        with torch.no_grad():
            y = m(x, cont, mask)
        ref = caffe_lstm_ref(x, cont, *w) * mask.double().reshape(T, N, 1)
        self.assertLess(float((y.double() - ref).abs().max()), 1e-5)

    def test_restart_mid_batch_is_refused(self):
        m = c2t.build(self.lstm_net(4, 1, 2, 3))
        cont = torch.tensor([[0.], [1.], [0.], [1.]])
        with self.assertRaisesRegex(ValueError, "restarts mid-batch"):
            m(torch.zeros(4, 1, 2), cont)

    def test_benchmark_nets(self):
        imdb = c2t.build(os.path.join(c2t.REPO_ROOT, "models", "lstm-imdb.prototxt"))
        self.assertEqual(imdb.input_roles, {"data": ("index", 10000), "cont": ("cont",),
                                            "mask": ("mask",), "label": ("label", 2)})
        data, cont, mask, label = imdb.make_inputs()
        lengths = imdb.steps[1].module.lengths(cont)
        self.assertEqual(int(lengths.max()), 100)
        self.assertLess(int(lengths.min()), 100)
        self.assertTrue(torch.allclose(mask.sum(0), torch.ones(16)))
        lm = c2t.build(os.path.join(c2t.REPO_ROOT, "models", "lstm-lm.prototxt"))
        params = sum(p.numel() for p in lm.parameters() if p.requires_grad)
        self.assertEqual(params, 13300240)  # models/README.md
        with torch.no_grad():
            loss = lm(*lm.make_inputs())
        self.assertAlmostEqual(float(loss), math.log(10000), delta=0.05)


if __name__ == "__main__":
    unittest.main()

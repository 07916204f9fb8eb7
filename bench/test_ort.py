#!/usr/bin/python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Tests of the ONNX Runtime side (bench/c2t_ort.py, bench/ort_bench.js): the
torch module exported with torch.onnx.export gives, in onnxruntime-node, the
outputs torch gives.

Run: /usr/bin/python3 -m unittest discover -s bench -p 'test_*.py' -v
Skipped when onnxruntime-node is not installed (the skip reason gives the npm
command). DLC_BENCH_SLOW=1 adds ResNet-50 from the zoo (../shared/zoo, or
DLC_ZOO_DIR).
"""

import os
import shutil
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import caffe2torch as c2t  # noqa: E402
import c2t_ort  # noqa: E402

import torch  # noqa: E402

ZOO = os.environ.get("DLC_ZOO_DIR", os.path.join(c2t.REPO_ROOT, "..", "shared", "zoo"))
RTOL = 1e-4

# Layers whose export matters beyond LeNet: BatchNorm+Scale (fused, non-trivial
# statistics set below), AVE pooling with windows clipped at H + pad (Caffe's
# divisor), MAX pooling with pad, LRN across and within channels, Eltwise with
# coefficients, Concat, InnerProduct, Softmax.
MIXED_NET = """
    name: "mixed"
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 12 dim: 12 } } }
    layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
            convolution_param { num_output: 8 kernel_size: 3 pad: 1 } }
    layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" batch_norm_param { eps: 1e-3 } }
    layer { name: "sc" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
    layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
    layer { name: "ave" type: "Pooling" bottom: "conv" top: "ave"
            pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
    layer { name: "max" type: "Pooling" bottom: "conv" top: "max"
            pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }
    layer { name: "lrn" type: "LRN" bottom: "ave" top: "lrn" lrn_param { local_size: 5 alpha: 0.1 beta: 0.75 } }
    layer { name: "lrnw" type: "LRN" bottom: "max" top: "lrnw"
            lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 norm_region: WITHIN_CHANNEL } }
    layer { name: "sum" type: "Eltwise" bottom: "lrn" bottom: "lrnw" top: "sum"
            eltwise_param { coeff: 1 coeff: -0.5 } }
    layer { name: "cat" type: "Concat" bottom: "sum" bottom: "max" top: "cat" }
    layer { name: "ip" type: "InnerProduct" bottom: "cat" top: "ip" inner_product_param { num_output: 10 } }
    layer { name: "prob" type: "Softmax" bottom: "ip" top: "prob" }
    layer { name: "tail" type: "Pooling" bottom: "data" top: "tail"
            pooling_param { pool: AVE kernel_size: 5 stride: 3 pad: 2 } }
    """


class OrtMatchesTorch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            cls.version = c2t_ort.ort_version()
        except c2t_ort.OrtError as e:
            raise unittest.SkipTest(str(e))
        cls.tmp = tempfile.mkdtemp(prefix="dlc-test-ort-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def export_and_compare(self, model, tag):
        inputs = model.make_inputs(seed=3)
        path = c2t_ort.export_onnx(model, inputs, os.path.join(self.tmp, tag + ".onnx"))
        with torch.no_grad():
            out = model(*inputs)
        outs = out if isinstance(out, tuple) else (out,)
        got = c2t_ort.run_outputs(path, dict(zip(model.input_names, inputs)), self.tmp)
        self.assertEqual(sorted(got), sorted(model.output_names))
        for name, ref in zip(model.output_names, outs):
            ref = ref.double()
            ort = got[name]
            self.assertEqual(list(ort.shape), list(ref.shape), name)
            scale = float(ref.abs().max())
            err = float((ort - ref).abs().max())
            self.assertTrue(torch.allclose(ort, ref, rtol=RTOL, atol=RTOL * 1e-2 * scale),
                            f"{tag} {name}: max |ORT - torch| = {err:.3g} (max |torch| {scale:.3g})")
            self.assertLessEqual(err, RTOL * scale, f"{tag} {name}")
        return path

    def test_lenet_batch2(self):
        model = c2t.build(os.path.join(c2t.REPO_ROOT, "models", "lenet.prototxt"), batch=2)
        self.export_and_compare(model, "lenet")

    def test_mixed_layers(self):
        f = tempfile.NamedTemporaryFile("w", suffix=".prototxt", delete=False, dir=self.tmp)
        f.write(textwrap.dedent(MIXED_NET))
        f.close()
        model = c2t.build(f.name)
        g = torch.Generator().manual_seed(5)
        with torch.no_grad():
            for n, b in model.named_buffers():
                if not b.dtype.is_floating_point:
                    continue
                if "var" in n:
                    b.copy_(torch.rand(b.shape, generator=g) + 0.5)
                else:
                    b.copy_(torch.randn(b.shape, generator=g) * 0.2)
            for p in model.parameters():
                p.add_(torch.randn(p.shape, generator=g) * 0.05)
        self.assertEqual(sorted(model.output_names), ["prob", "tail"])
        self.export_and_compare(model, "mixed")

    def test_bench_report(self):
        model = c2t.build(os.path.join(c2t.REPO_ROOT, "models", "lenet.prototxt"), batch=2)
        inputs = model.make_inputs()
        path = c2t_ort.export_onnx(model, inputs, os.path.join(self.tmp, "lenet-bench.onnx"))
        r = c2t_ort.bench(path, threads=1, warmup=1, iterations=3, timeout=120)
        self.assertEqual(r["threads"], 1)
        self.assertEqual(r["ort_version"], self.version)
        self.assertEqual(len(r["times_ms"]), 3)
        self.assertTrue(0 < r["min_ms"] <= r["median_ms"] <= r["max_ms"])
        self.assertEqual(r["inputs"], [{"name": "data", "dims": [2, 1, 28, 28]}])
        self.assertEqual(r["outputs"], [{"name": "prob", "dims": [2, 10]}])

    @unittest.skipUnless(os.environ.get("DLC_BENCH_SLOW") == "1", "slow (set DLC_BENCH_SLOW=1)")
    def test_resnet50_zoo(self):
        p = os.path.join(ZOO, "resnet", "ResNet-50-deploy.prototxt")
        if not os.path.exists(p):
            self.skipTest(f"{p} absent")
        self.export_and_compare(c2t.build(p, batch=1), "resnet50")


class OrtMissing(unittest.TestCase):
    def test_clear_message(self):
        if not c2t_ort.node_binary():
            self.skipTest("node is not on PATH")
        old = os.environ.get("DLC_ORT_DIR")
        os.environ["DLC_ORT_DIR"] = tempfile.mkdtemp(prefix="dlc-no-ort-")
        try:
            with self.assertRaises(c2t_ort.OrtError) as cm:
                c2t_ort.ort_version()
            self.assertIn("npm install --prefix", str(cm.exception))
            self.assertIn("--ignore-scripts onnxruntime-node@1", str(cm.exception))
        finally:
            shutil.rmtree(os.environ["DLC_ORT_DIR"], ignore_errors=True)
            if old is None:
                del os.environ["DLC_ORT_DIR"]
            else:
                os.environ["DLC_ORT_DIR"] = old


if __name__ == "__main__":
    unittest.main()

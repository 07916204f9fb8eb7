# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""The ONNX Runtime side of the benchmark (compare_forward.py --ort).

The torch module that caffe2torch builds (eval mode, test phase) is exported
with torch.onnx.export (opset 13; torch 1.13 exports without the `onnx`
python package) and timed by bench/ort_bench.js with onnxruntime-node, which
comes from npm (PyPI is not reachable, there is no python onnxruntime):

  npm install --prefix bench/.ort --ignore-scripts onnxruntime-node@1

($DLC_ORT_DIR overrides bench/.ort; $NODE overrides the `node` on PATH.)
"""

import json
import os
import shutil
import subprocess

from c2t_modules import _torch

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ORT_BENCH_JS = os.path.join(BENCH_DIR, "ort_bench.js")
OPSET = 13


class OrtError(Exception):
    pass


def ort_dir():
    return os.environ.get("DLC_ORT_DIR") or os.path.join(BENCH_DIR, ".ort")


def node_binary():
    return os.environ.get("NODE") or shutil.which("node")


def install_hint():
    return f"npm install --prefix {ort_dir()} --ignore-scripts onnxruntime-node@1"


def _node_cmd():
    node = node_binary()
    if not node:
        raise OrtError("node (Node.js 18 or newer) is not on PATH (or set $NODE); ONNX Runtime runs in Node, "
                       f"then install it with: {install_hint()}")
    return [node, ORT_BENCH_JS]


def ort_version(timeout=60):
    """The version of the onnxruntime-node that ort_bench.js loads; OrtError
    (with the npm command to run) when it is not installed or does not load."""
    cmd = _node_cmd() + ["--version"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise OrtError(f"{' '.join(cmd)}: {e}") from None
    if r.returncode == 3:
        raise OrtError(f"onnxruntime-node is not installed in {ort_dir()}; run: {install_hint()}")
    if r.returncode != 0:
        raise OrtError(f"onnxruntime-node does not load (exit {r.returncode}): {r.stderr.strip()}\n"
                       f"reinstall it with: {install_hint()}")
    return r.stdout.strip()


def _wrap(model):
    """CaffeNet.forward has a keyword `record_shapes=None`, which
    torch.onnx.export (1.13, _decide_input_format) would append to the
    inputs as a positional None; a plain (*inputs) forward avoids that."""
    torch = _torch()

    class Positional(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            return self.inner(*inputs)

    return Positional(model).eval()


def export_onnx(model, inputs, path, opset=OPSET):
    """Exports a caffe2torch CaffeNet (eval mode, test phase) to `path`, with
    the net's input and output blob names and the fixed shapes of `inputs`."""
    torch = _torch()
    import warnings
    model.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(_wrap(model), tuple(inputs), path, opset_version=opset,
                              input_names=list(model.input_names), output_names=list(model.output_names),
                              do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL,
                              export_params=True)
    except Exception as e:  # torch raises many kinds (OnnxExporterError, RuntimeError, ...)
        raise OrtError(f"torch.onnx.export of {model.name} failed: {type(e).__name__}: {e}") from None
    return path


def env_for(threads):
    env = dict(os.environ)
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def bench(onnx_path, threads, warmup, iterations, timeout=900, seed=1):
    """Runs ort_bench.js once (one session, W warm-ups, I timed runs) and
    returns its JSON report (median_ms, min_ms, max_ms, times_ms, ...)."""
    cmd = _node_cmd() + [onnx_path, "--threads", str(threads), "--warmup", str(warmup),
                         "--iterations", str(iterations), "--seed", str(seed)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env_for(threads))
    except subprocess.TimeoutExpired:
        raise OrtError(f"{' '.join(cmd)} timed out after {timeout} s") from None
    if r.returncode == 3:
        raise OrtError(f"onnxruntime-node is not installed in {ort_dir()}; run: {install_hint()}")
    if r.returncode != 0:
        raise OrtError(f"{' '.join(cmd)} failed (exit {r.returncode}):\n{r.stderr.strip()}")
    try:
        report = json.loads(r.stdout.strip().splitlines()[-1])
        float(report["median_ms"])
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise OrtError(f"{' '.join(cmd)}: no JSON report with median_ms on stdout ({e}): {r.stdout[-300:]}") \
            from None
    if report.get("threads") != threads:
        raise OrtError(f"ort_bench.js ran with {report.get('threads')} threads, asked {threads}")
    return report


def run_outputs(onnx_path, inputs, workdir, threads=1, timeout=300):
    """Runs the model once in ONNX Runtime on `inputs` ({name: tensor}) and
    returns {output name: float64 tensor of the output's shape}."""
    torch = _torch()
    in_path = os.path.join(workdir, "ort_inputs.json")
    out_path = os.path.join(workdir, "ort_outputs.json")
    with open(in_path, "w") as f:
        json.dump({n: {"dims": list(t.shape), "data": t.detach().reshape(-1).double().tolist()}
                   for n, t in inputs.items()}, f)
    cmd = _node_cmd() + [onnx_path, "--threads", str(threads), "--input", in_path, "--dump-output", out_path]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env_for(threads))
    if r.returncode == 3:
        raise OrtError(f"onnxruntime-node is not installed in {ort_dir()}; run: {install_hint()}")
    if r.returncode != 0:
        raise OrtError(f"{' '.join(cmd)} failed (exit {r.returncode}):\n{r.stderr.strip()}")
    with open(out_path) as f:
        res = json.load(f)
    return {n: torch.tensor(o["data"], dtype=torch.float64).reshape(o["dims"])
            for n, o in res["outputs"].items()}

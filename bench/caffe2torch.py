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

Layout: this file is the entry point (what compare_forward.py and
test_caffe2torch.py import, re-exporting the names below), the timing
helpers and the command line; c2t_proto.py parses the prototxt,
c2t_modules.py holds the torch modules of the steps, c2t_layers.py the
shape rules and per-layer handlers, c2t_net.py the net (CaffeNet, build).
"""

import argparse
import os
import sys
import time

from c2t_layers import caffe_pool_out, torch_pool_out  # noqa: F401 (re-exported)
from c2t_modules import _torch
from c2t_net import DATA_TYPES, SUPPORTED, Step, build  # noqa: F401 (re-exported)
from c2t_proto import (  # noqa: F401 (re-exported)
    DEFAULT_PROTO, REPO_ROOT, CaffeError, caffe_pb2, layer_included, parse_prototxt, upgrade_v1)


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

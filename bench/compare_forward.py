#!/usr/bin/python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Compares dlc (dlc compile + dlrun --bench) with PyTorch on the CPU, on
exactly the same Caffe networks (bench/caffe2torch.py builds the torch side
from the same prototxt), and with --ort (forward only) also with ONNX Runtime
(onnxruntime-node, bench/ort_bench.js) running the torch module exported with
torch.onnx.export.

Run it with Debian's /usr/bin/python3 (python3-torch 1.13 with OpenBLAS), e.g.

  /usr/bin/python3 bench/compare_forward.py models/lenet.prototxt:64 \\
      ../shared/zoo/bvlc_alexnet/deploy.prototxt:16 --threads 2 --out results.md

Fairness: OMP_WAIT_POLICY=PASSIVE for torch (it shares this process with
the harness, so its threads must not spin while another side runs); dlrun
and ONNX Runtime run in processes of their own that exit after their turn,
with their runtimes' own thread waiting (--dlrun-wait-policy to change
dlrun's); explicit thread counts on all sides (dlrun --threads N, torch.set_num_threads(N)), the same warm-up
and iteration counts, flush-denormals on, and R rounds that INTERLEAVE the
sides (the order rotates between rounds) so machine drift hits all of them.
Each round yields one median per side; the report gives the median over
rounds (with min-max), the ratio of those medians and the median of the
per-round (paired) ratios (dlc/torch, and dlc/ORT with --ort).
"""

import os

# Before torch (and its libgomp) is loaded: passive OpenMP waiting, so the
# idle side's threads sleep instead of spinning while the other side runs.
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import argparse  # noqa: E402
import datetime  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import c2t_ort  # noqa: E402
import caffe2torch as c2t  # noqa: E402

# Nominal FP32 SGEMM peak of the reference machine (GFLOP/s, by threads),
# from the project brief: ~120 on 1 thread, 180-240 on 2.
NOMINAL_PEAK = {1: 120.0, 2: 210.0}


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------
# Machine and tool discovery
# ---------------------------------------------------------------------------

def find_tools(dlc=None, dlrun=None):
    """dlc and dlrun from the arguments, else the newest build*/bin of the
    repository that has both."""
    if dlc and dlrun:
        return dlc, dlrun
    best = None
    for d in glob.glob(os.path.join(c2t.REPO_ROOT, "build*", "bin")):
        a, b = os.path.join(d, "dlc"), os.path.join(d, "dlrun")
        if os.access(a, os.X_OK) and os.access(b, os.X_OK):
            t = max(os.path.getmtime(a), os.path.getmtime(b))
            if best is None or t > best[0]:
                best = (t, a, b)
    if best is None:
        raise BenchError(f"no {c2t.REPO_ROOT}/build*/bin has both dlc and dlrun; build them "
                         "(scripts/build.sh) or pass --dlc/--dlrun (or use --torch-only)")
    return dlc or best[1], dlrun or best[2]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loaded_blas():
    """BLAS/LAPACK shared objects mapped into this process (torch's BLAS is
    Debian's libblas.so.3 alternative, so torch.__config__ says 'generic')."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                m = re.search(r"(/\S*(?:blas|lapack|mkl_rt|blis)\S*)", line)
                if m:
                    libs.add(os.path.realpath(m.group(1)))
    except OSError:
        pass
    return sorted(libs)


def sgemm_gflops(torch, threads, n=1024, reps=6):
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2):
        a @ b
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2.0 * n ** 3 / c2t.median(times) / 1e9


def git_commit():
    try:
        r = subprocess.run(["git", "-C", c2t.REPO_ROOT, "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", c2t.REPO_ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return r.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_info(torch, threads_list):
    info = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "host_nproc": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu_model(),
        "python": sys.executable + " " + platform.python_version(),
        "torch": torch.__version__,
        "torch_mkldnn": bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()
        if hasattr(torch.backends, "cpu") and hasattr(torch.backends.cpu, "get_cpu_capability") else None,
        "blas_libs": loaded_blas(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "dlrun_omp_wait_policy": DLRUN_WAIT_POLICY,
        "flush_denormal": True,
        "loadavg_start": os.getloadavg(),
        "dlc_commit": git_commit(),
        "sgemm_gflops": {},
    }
    for t in threads_list:
        info["sgemm_gflops"][t] = round(sgemm_gflops(torch, t), 1)
    return info


def check_blas(info):
    libs = " ".join(info["blas_libs"])
    problems = []
    if "openblas" not in libs:
        problems.append(f"torch is not using OpenBLAS (mapped: {libs or 'none'}); "
                        "install libopenblas0-openmp")
    one = info["sgemm_gflops"].get(1) or min(info["sgemm_gflops"].values())
    if one < 20:
        problems.append(f"SGEMM {one:.1f} GFLOP/s looks like the reference BLAS")
    return problems


# ---------------------------------------------------------------------------
# The sides
# ---------------------------------------------------------------------------

def parse_net_spec(spec):
    m = re.match(r"^(.*):(\d+)$", spec)
    if m and not os.path.exists(spec):
        return m.group(1), int(m.group(2))
    return spec, None


# dlrun's OpenMP wait policy. dlrun runs in a process of its own that exits
# before the next side starts, so its threads waiting actively cannot take
# CPU from another side (torch, in this process, must wait passively for
# that reason; ONNX Runtime keeps its shipped spinning thread pool).
# "default" leaves libgomp's own policy (spin briefly, then sleep).
DLRUN_WAIT_POLICY = "default"


def child_env(threads):
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if DLRUN_WAIT_POLICY != "default":
        env["OMP_WAIT_POLICY"] = DLRUN_WAIT_POLICY
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def dlc_compile(dlc, prototxt, batch, out, mode="forward", extra=()):
    cmd = [dlc, "compile", prototxt, "-o", out, "--random-weights"] + list(extra)
    if mode == "grad":
        # The gradient entry; deploy nets get SoftmaxWithLoss on their output
        # (the torch side backpropagates the sum of the outputs instead).
        cmd += ["--gradient", "--loss", "auto"]
    if batch is not None:
        cmd += ["--batch", str(batch)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise BenchError(f"{shlex.join(cmd)} failed (exit {r.returncode}):\n{r.stderr.strip()}")
    return cmd


def dlrun_bench(dlrun, module, threads, iterations, warmup, json_path, timeout, mode="forward",
                inputs=()):
    entry = "gradient" if mode == "grad" else "forward"
    cmd = [dlrun, module, "--bench", "--no-per-layer", "--quiet", "--threads", str(threads),
           "--iterations", str(iterations), "--warmup", str(warmup), "--json", json_path,
           "--entry", entry] + [f"--input={i}" for i in inputs]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=child_env(threads))
    except subprocess.TimeoutExpired:
        raise BenchError(f"{shlex.join(cmd)} timed out after {timeout} s") from None
    if r.returncode != 0:
        raise BenchError(f"{shlex.join(cmd)} failed (exit {r.returncode}):\n{r.stderr.strip()}")
    try:
        with open(json_path) as f:
            report = json.load(f)
        bench = report["bench"]
        key = "gradient" if mode == "grad" else "total"
        med = float(bench[key]["median_ms"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BenchError(f"{json_path}: no bench.{key}.median_ms in dlrun's JSON report ({e})") from None
    if bench.get("threads") not in (None, threads):
        raise BenchError(f"dlrun ran with {bench.get('threads')} threads, asked {threads}")
    return med, report


def summarize_ort(report, onnx_path):
    return {
        "ort_version": report.get("ort_version"),
        "node": report.get("node"),
        "threads": report.get("threads"),
        "inter_op_threads": report.get("inter_op_threads"),
        "graph_optimization": report.get("graph_optimization"),
        "execution_mode": report.get("execution_mode"),
        "intra_op_spinning": report.get("intra_op_spinning"),
        "session_create_ms": report.get("session_create_ms"),
        "onnx_opset": c2t_ort.OPSET,
        "onnx_bytes": os.path.getsize(onnx_path) if os.path.exists(onnx_path) else None,
        "outputs": [(o.get("name"), list(o.get("dims", []))) for o in report.get("outputs", [])],
    }


def rotate(sides, r):
    """Round r's order: the sides rotated by r (with two sides the first one
    alternates)."""
    k = r % len(sides)
    return sides[k:] + sides[:k]


def summarize_dlrun(report):
    kernels = report.get("kernels", [])
    impls = {}
    for k in kernels:
        impls[k.get("impl", "?")] = impls.get(k.get("impl", "?"), 0) + 1
    return {
        "kernels": len(kernels),
        "fell_back": [f"{k.get('layer')} ({k.get('op')})" for k in kernels if k.get("fell_back")],
        "impls": impls,
        "outputs": [(o.get("name"), list(o.get("shape", []))) for o in report.get("outputs", [])],
    }


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def stats(xs):
    return {"median": c2t.median(xs), "min": min(xs), "max": max(xs), "rounds": list(xs)}


def gflops(macs, ms):
    return 2.0 * macs / (ms * 1e-3) / 1e9 if ms > 0 else float("nan")


def fit_iterations(step, args):
    """(iterations, warmup) for one net: with --target-seconds, as many
    iterations as make one side's turn in a round last about that long, from
    one timed torch step (between --min-iterations and --iterations, warm-ups
    at most a third of them); otherwise --iterations and --warmup."""
    target = getattr(args, "target_seconds", None)
    if not target:
        return args.iterations, args.warmup
    ms = max(c2t.time_step(step, 1, 1)[0], 1e-3)
    low = min(getattr(args, "min_iterations", 2), args.iterations)
    iterations = max(low, min(args.iterations, int(target * 1e3 / ms)))
    return iterations, min(args.warmup, max(1, iterations // 3))


def fmt_ms(s):
    return f"{s['median']:.3f} ({s['min']:.3f}-{s['max']:.3f})"


def run(args):
    import torch
    variants = [tuple(v.split("=", 1)) for v in args.dlc_variant]
    torch.set_flush_denormal(True)
    threads_list = sorted({int(t) for t in str(args.threads).split(",")})
    if any(t <= 0 for t in threads_list):
        raise BenchError("--threads must be positive")
    if args.rounds < 1 or args.iterations < 1 or args.warmup < 0:
        raise BenchError("--rounds and --iterations must be >= 1, --warmup >= 0")
    ort_version = None
    if args.ort:
        if args.mode != "forward":
            raise BenchError("--ort times the forward pass only (use --mode forward)")
        try:
            ort_version = c2t_ort.ort_version()
        except c2t_ort.OrtError as e:
            raise BenchError(f"--ort: {e}") from None

    dlc = dlrun = None
    if not args.torch_only:
        dlc, dlrun = find_tools(args.dlc, args.dlrun)

    info = machine_info(torch, threads_list)
    info["dlc"], info["dlrun"] = dlc, dlrun
    if args.ort:
        info["onnxruntime_node"] = ort_version
        info["ort_dir"] = c2t_ort.ort_dir()
        info["node"] = c2t_ort.node_binary()
    warnings = check_blas(info)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"# {info['cpu']}, {info['affinity_cpus']} CPUs, torch {info['torch']} "
          f"(mkldnn {'on' if info['torch_mkldnn'] else 'off'}), BLAS "
          f"{', '.join(os.path.basename(b) for b in info['blas_libs']) or 'unknown'}, "
          f"SGEMM {info['sgemm_gflops']} GFLOP/s, load {info['loadavg_start'][0]:.2f}")
    if dlc:
        print(f"# dlc {dlc}\n# dlrun {dlrun}")
    if args.ort:
        print(f"# ONNX Runtime {ort_version} (onnxruntime-node in {c2t_ort.ort_dir()}, CPU EP, "
              f"torch.onnx.export opset {c2t_ort.OPSET})")
    print(f"# mode {args.mode}, rounds {args.rounds}, warmup {args.warmup}, iterations {args.iterations}",
          flush=True)

    results = []
    tmp = tempfile.mkdtemp(prefix="dlc-bench-")
    for spec in args.nets:
        path, batch = parse_net_spec(spec)
        row_base = {"net": path, "spec": spec}
        try:
            model = c2t.build(path, batch=batch, fuse_bn_scale=not args.no_fuse)
        except c2t.CaffeError as e:
            print(f"error: {spec}: torch side: {e}", file=sys.stderr)
            results.append(dict(row_base, error=f"torch side: {e}"))
            continue
        name = model.name
        batch_eff = model.input_shapes[0][0] if model.input_shapes else None
        # Time-major sequence nets (Caffe's recurrent layers): the batch is
        # the number of streams, dimension 1 of a `cont` input.
        for n, s in zip(model.input_names, model.input_shapes):
            if model.input_roles.get(n, ("",))[0] == "cont":
                batch_eff = s[1]
        inputs = model.make_inputs()
        step = c2t.make_step(model, inputs, args.mode)
        iterations, warmup = fit_iterations(step, args)
        # Nets with word indices, labels or sequences: dlrun gets the very
        # batch torch runs (the same lengths and padding), as .npy files.
        dlrun_inputs = []
        if model.input_roles:
            import numpy as np
            for n, x in zip(model.input_names, inputs):
                f = os.path.join(tmp, re.sub(r"[^\w.-]", "_", f"{name}-{n}") + ".npy")
                np.save(f, x.numpy().astype(np.float32))
                dlrun_inputs.append(f"{n}={f}")
        with torch.no_grad():
            out = model(*inputs)
        outs = out if isinstance(out, tuple) else (out,)
        if not all(bool(torch.isfinite(o).all()) for o in outs):
            print(f"warning: {spec}: torch outputs are not finite", file=sys.stderr)
        torch_outputs = [(n, list(o.shape)) for n, o in zip(model.output_names, outs)]

        module = os.path.join(tmp, re.sub(r"[^\w.-]", "_", name) + ".dlcm")
        dlc_info = None
        compile_cmd = None
        # --dlc-variant NAME=FLAGS: the same net compiled with other dlc flags.
        variant_modules = {}
        if not args.torch_only:
            try:
                compile_cmd = dlc_compile(dlc, path, batch, module, args.mode)
                for vname, vflags in variants:
                    vmod = module[:-5] + f"-{vname}.dlcm"
                    dlc_compile(dlc, path, batch, vmod, args.mode, shlex.split(vflags))
                    variant_modules["dlc:" + vname] = vmod
            except BenchError as e:
                print(f"error: {spec}: {e}", file=sys.stderr)
                results.append(dict(row_base, name=name, batch=batch_eff, error=str(e)))
                continue

        onnx_path = ort_error = None
        if args.ort:
            onnx_path = os.path.join(tmp, re.sub(r"[^\w.-]", "_", name) + f"-b{batch_eff}.onnx")
            try:
                c2t_ort.export_onnx(model, inputs, onnx_path)
            except c2t_ort.OrtError as e:
                ort_error = str(e)
                print(f"warning: {spec}: ONNX Runtime side dropped: {ort_error}", file=sys.stderr)
                warnings.append(f"{spec}: ONNX Runtime side dropped: {ort_error}")

        sides = ([] if args.torch_only else ["dlc"]) + list(variant_modules) + ["torch"] + (
            ["ort"] if onnx_path and not ort_error else [])
        for threads in threads_list:
            dlc_ms, torch_ms, paired = [], [], []
            ort_ms, paired_ort = [], []
            ort_info = None
            error = None
            var_ms = {v: [] for v in variant_modules}
            for r in range(args.rounds):
                got = {}
                for side in rotate(sides, r):
                    if side == "ort":
                        try:
                            ort_report = c2t_ort.bench(onnx_path, threads, warmup, iterations,
                                                       args.timeout)
                        except c2t_ort.OrtError as e:
                            error = f"ONNX Runtime: {e}"
                            break
                        if ort_info is None:
                            ort_info = summarize_ort(ort_report, onnx_path)
                        got["ort"] = float(ort_report["median_ms"])
                    elif side in variant_modules:
                        try:
                            ms, _ = dlrun_bench(dlrun, variant_modules[side], threads, iterations,
                                                warmup, os.path.join(tmp, "dlrun.json"),
                                                args.timeout, args.mode, dlrun_inputs)
                        except BenchError as e:
                            error = str(e)
                            break
                        got[side] = ms
                    elif side == "dlc":
                        try:
                            ms, report = dlrun_bench(dlrun, module, threads, iterations, warmup,
                                                     os.path.join(tmp, "dlrun.json"), args.timeout,
                                                     args.mode, dlrun_inputs)
                        except BenchError as e:
                            error = str(e)
                            break
                        if dlc_info is None:
                            dlc_info = summarize_dlrun(report)
                        got["dlc"] = ms
                    else:
                        torch.set_num_threads(threads)
                        got["torch"] = c2t.median(c2t.time_step(step, warmup, iterations))
                if error:
                    break
                torch_ms.append(got["torch"])
                for v in variant_modules:
                    var_ms[v].append(got[v])
                if "dlc" in got:
                    dlc_ms.append(got["dlc"])
                    paired.append(got["dlc"] / got["torch"])
                if "ort" in got:
                    ort_ms.append(got["ort"])
                    if "dlc" in got:
                        paired_ort.append(got["dlc"] / got["ort"])
                print(f"  {name} b{batch_eff} t{threads} round {r + 1}/{args.rounds}: "
                      + ", ".join(f"{side} {got[side]:.3f} ms" for side in rotate(sides, r)), flush=True)
            row = dict(row_base, name=name, batch=batch_eff, threads=threads, mode=args.mode,
                       macs=model.macs, torch_outputs=torch_outputs, compile=compile_cmd,
                       iterations=iterations, warmup=warmup)
            if ort_error:
                row["ort_error"] = ort_error
            if error:
                print(f"error: {spec}: {error}", file=sys.stderr)
                row["error"] = error
                results.append(row)
                continue
            row["torch_ms"] = stats(torch_ms)
            # The gradient does about 3x the forward's multiply-adds (backward
            # data and backward weights each cost about one forward).
            work = model.macs * (3 if args.mode == "grad" else 1)
            row["torch_gflops"] = gflops(work, row["torch_ms"]["median"])
            if dlc_ms:
                row["dlc_ms"] = stats(dlc_ms)
                row["dlc_gflops"] = gflops(work, row["dlc_ms"]["median"])
                row["ratio"] = row["dlc_ms"]["median"] / row["torch_ms"]["median"]
                row["paired_ratio"] = stats(paired)
                row["dlrun"] = dlc_info
                # Forward only: the gradient entry returns the loss (--loss auto)
                # and the parameters' gradients (<name>@grad).
                if dlc_info and args.mode == "forward" and [o for o in dlc_info["outputs"]
                                 if not o[0].endswith("@grad")] != torch_outputs:
                    w = (f"{spec}: outputs differ: dlrun {dlc_info['outputs']} vs torch {torch_outputs}")
                    print(f"warning: {w}", file=sys.stderr)
                    warnings.append(w)
            if variant_modules:
                row["variants"] = {}
                for v, xs in var_ms.items():
                    d = {"flags": dict(variants)[v[4:]], "ms": stats(xs),
                         "gflops": gflops(work, c2t.median(xs)),
                         "ratio": c2t.median(xs) / row["torch_ms"]["median"],
                         "paired_ratio": stats([a / b for a, b in zip(xs, torch_ms)])}
                    if dlc_ms:
                        d["dlc_over_variant"] = stats([a / b for a, b in zip(dlc_ms, xs)])
                    row["variants"][v] = d
            if ort_ms:
                row["ort_ms"] = stats(ort_ms)
                row["ort_gflops"] = gflops(work, row["ort_ms"]["median"])
                row["ort"] = ort_info
                if dlc_ms:
                    row["ratio_ort"] = row["dlc_ms"]["median"] / row["ort_ms"]["median"]
                    row["paired_ratio_ort"] = stats(paired_ort)
                if ort_info and ort_info["outputs"] != torch_outputs:
                    w = f"{spec}: outputs differ: ONNX Runtime {ort_info['outputs']} vs torch {torch_outputs}"
                    print(f"warning: {w}", file=sys.stderr)
                    warnings.append(w)
            row["peak_gflops"] = NOMINAL_PEAK.get(threads)
            row["sgemm_gflops"] = info["sgemm_gflops"].get(threads)
            results.append(row)
        if onnx_path and os.path.exists(onnx_path):
            os.remove(onnx_path)  # ResNet-50's is ~100 MB
    info["loadavg_end"] = os.getloadavg()
    return info, results, warnings


def fmt_ratio(s):
    return f"{s['median']:.2f} ({s['min']:.2f}-{s['max']:.2f})"


def table_rows(results, with_ort=False):
    head = ["net", "batch", "threads", "dlc ms median (min-max)", "torch ms median (min-max)",
            "dlc/torch", "paired ratio (min-max)"]
    if with_ort:
        head += ["ORT ms median (min-max)", "dlc/ORT", "paired dlc/ORT (min-max)"]
    head += ["dlc GFLOP/s", "torch GFLOP/s"] + (["ORT GFLOP/s"] if with_ort else []) + ["SGEMM / nominal peak"]
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r.get("name", r["net"]), str(r.get("batch", "")), str(r.get("threads", "")),
                         "error: " + r["error"].splitlines()[0][:60]] + [""] * (len(head) - 4))
            continue
        has_dlc = "dlc_ms" in r
        has_ort = "ort_ms" in r
        peak = f"{r['sgemm_gflops']:.0f} / {r['peak_gflops']:.0f}" if r.get("peak_gflops") \
            else f"{r['sgemm_gflops']:.0f} / -"
        row = [
            r["name"], str(r["batch"]), str(r["threads"]),
            fmt_ms(r["dlc_ms"]) if has_dlc else "-",
            fmt_ms(r["torch_ms"]),
            f"{r['ratio']:.2f}" if has_dlc else "-",
            fmt_ratio(r["paired_ratio"]) if has_dlc else "-",
        ]
        if with_ort:
            row += [
                fmt_ms(r["ort_ms"]) if has_ort else ("export failed" if "ort_error" in r else "-"),
                f"{r['ratio_ort']:.2f}" if "ratio_ort" in r else "-",
                fmt_ratio(r["paired_ratio_ort"]) if "paired_ratio_ort" in r else "-",
            ]
        row += [f"{r['dlc_gflops']:.1f}" if has_dlc else "-", f"{r['torch_gflops']:.1f}"]
        if with_ort:
            row.append(f"{r['ort_gflops']:.1f}" if has_ort else "-")
        row.append(peak)
        rows.append(row)
    return head, rows


def variant_rows(results):
    """The --dlc-variant sides: one row per net, threads and variant."""
    head = ["net", "batch", "threads", "variant (dlc compile flags)", "ms median (min-max)",
            "variant/torch", "paired (min-max)", "dlc/variant paired (min-max)", "GFLOP/s"]
    rows = []
    for r in results:
        for v, d in r.get("variants", {}).items():
            rows.append([r["name"], str(r["batch"]), str(r["threads"]), f"{v[4:]} ({d['flags']})",
                         fmt_ms(d["ms"]), f"{d['ratio']:.2f}", fmt_ratio(d["paired_ratio"]),
                         fmt_ratio(d["dlc_over_variant"]) if "dlc_over_variant" in d else "-",
                         f"{d['gflops']:.1f}"])
    return head, rows


def print_rows(head, rows):
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def print_table(results, with_ort=False):
    print_rows(*table_rows(results, with_ort))
    head, rows = variant_rows(results)
    if rows:
        print()
        print_rows(head, rows)


def markdown(info, results, warnings, args, argv):
    head, rows = table_rows(results, args.ort)
    title = "dlc vs PyTorch" + (" and ONNX Runtime" if args.ort else "")
    lines = [f"# {title}, CPU {args.mode}", "",
             f"Command: `/usr/bin/python3 bench/compare_forward.py {shlex.join(argv)}`", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    vhead, vrows = variant_rows(results)
    if vrows:
        lines += ["", "dlc compiled with other flags, in the same rounds:", "",
                  "| " + " | ".join(vhead) + " |", "|" + "---|" * len(vhead)]
        lines += ["| " + " | ".join(r) + " |" for r in vrows]
    lines += ["",
              f"Times are medians over {args.rounds} interleaved rounds (min-max over rounds) of the "
              f"per-round median of {args.iterations} iterations after {args.warmup} warm-ups. "
              "GFLOP/s = 2 x multiply-adds of convolutions and inner products / median time. "
              "'paired ratio' is the median of the per-round dlc/torch ratios"
              + (", 'paired dlc/ORT' that of the per-round dlc/ONNX Runtime ratios" if args.ort else "")
              + ". The order of the sides rotates between rounds.", "",
              "## Machine", ""]
    for k, v in info.items():
        lines.append(f"- {k}: {v}")
    notes = []
    for r in results:
        o = r.get("ort")
        if o:
            notes.append(f"- {r['name']} (t{r['threads']}): ONNX Runtime {o['ort_version']} (node {o['node']}), "
                         f"intra-op threads {o['threads']}, inter-op {o['inter_op_threads']}, graph optimization "
                         f"{o['graph_optimization']}, {o['execution_mode']}, intra-op spinning "
                         f"{'on' if o['intra_op_spinning'] else 'off'}, ONNX opset {o['onnx_opset']} "
                         f"({o['onnx_bytes']} bytes), session created in {o['session_create_ms']:.0f} ms "
                         "(not timed)")
        elif r.get("ort_error"):
            notes.append(f"- {r['name']}: ONNX Runtime side dropped: {r['ort_error']}")
        d = r.get("dlrun")
        if d:
            notes.append(f"- {r['name']} (t{r['threads']}): dlrun kernels {d['kernels']}, impls {d['impls']}"
                         + (f", fell back to reference: {', '.join(d['fell_back'])}" if d["fell_back"] else ""))
    if notes or warnings:
        lines += ["", "## Notes", ""] + notes + [f"- warning: {w}" for w in warnings]
    lines += ["", f"torch side: eager mode, NCHW, `torch.no_grad()`, BatchNorm+Scale "
              f"{'kept separate' if args.no_fuse else 'fused into one batch_norm'}, random weights "
              "(Kaiming), inputs uniform [-1, 1).", ""]
    if args.ort:
        lines += ["ONNX Runtime side: the torch module exported by `torch.onnx.export` (opset "
                  f"{c2t_ort.OPSET}, eval mode, constant folding) and run by `bench/ort_bench.js` with "
                  "onnxruntime-node's CPU execution provider, one session per round (creation not timed), "
                  "random float32 inputs uniform [-1, 1); the time of one `await session.run(feeds)` "
                  "(output copy to JavaScript included).", ""]
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("nets", nargs="+", metavar="net.prototxt[:batch]")
    ap.add_argument("--threads", default="2", help="threads for both sides; a comma list runs each (default 2)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--iterations", type=int, default=20, help="timed iterations per round and side (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed iterations per round and side (default 3)")
    ap.add_argument("--target-seconds", type=float,
                    help="per net, as many iterations (from --min-iterations up to --iterations) as make one "
                         "side's turn in a round last about this long, from one timed torch step")
    ap.add_argument("--min-iterations", type=int, default=2, help="with --target-seconds (default 2)")
    ap.add_argument("--mode", choices=["forward", "grad"], default="forward",
                    help="forward (default); grad = forward + backward, no update (dlrun --entry gradient)")
    ap.add_argument("--torch-only", action="store_true",
                    help="time only the PyTorch side (and ONNX Runtime with --ort), no dlc")
    ap.add_argument("--ort", action="store_true",
                    help="forward only: also time ONNX Runtime (onnxruntime-node, CPU) on the torch module "
                         "exported to ONNX; install: npm install --prefix bench/.ort --ignore-scripts "
                         "onnxruntime-node@1 ($DLC_ORT_DIR overrides bench/.ort)")
    ap.add_argument("--no-fuse", action="store_true", help="torch: keep BatchNorm and Scale separate")
    ap.add_argument("--dlc-variant", action="append", default=[], metavar="NAME=FLAGS",
                    help="also time the net compiled with extra dlc compile FLAGS (e.g. "
                         "nofuse='--no-fuse'), as another side in every round; repeatable")
    ap.add_argument("--dlrun-wait-policy", choices=["default", "passive", "active"], default="default",
                    help="OMP_WAIT_POLICY of the dlrun processes (default: libgomp's own, as shipped; "
                         "torch always waits passively, it shares this process)")
    ap.add_argument("--dlc", help="dlc binary (default: newest build*/bin with dlc and dlrun)")
    ap.add_argument("--dlrun", help="dlrun binary (default: next to dlc)")
    ap.add_argument("--timeout", type=int, default=900,
                    help="seconds per dlrun (and ort_bench.js) invocation (default 900)")
    ap.add_argument("--out", help="write the report as Markdown (FILE.md) and JSON (FILE.json)")
    args = ap.parse_args(argv)
    global DLRUN_WAIT_POLICY
    DLRUN_WAIT_POLICY = args.dlrun_wait_policy.upper() if args.dlrun_wait_policy != "default" \
        else "default"
    for v in args.dlc_variant:
        if "=" not in v or not re.fullmatch(r"[\w-]+", v.split("=", 1)[0]):
            ap.error(f"--dlc-variant {v!r}: expected NAME=FLAGS")
    if args.dlc and not args.dlrun:
        args.dlrun = os.path.join(os.path.dirname(args.dlc), "dlrun")
    try:
        info, results, warnings = run(args)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print()
    print_table(results, args.ort)
    if args.out:
        stem = args.out[:-3] if args.out.endswith(".md") else (args.out[:-5] if args.out.endswith(".json")
                                                               else args.out)
        with open(stem + ".md", "w") as f:
            f.write(markdown(info, results, warnings, args, argv))
        with open(stem + ".json", "w") as f:
            json.dump({"command": ["bench/compare_forward.py"] + argv, "machine": info,
                       "results": results, "warnings": warnings}, f, indent=1, default=str)
        print(f"\nwrote {stem}.md and {stem}.json")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

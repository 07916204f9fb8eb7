#!/usr/bin/python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Regenerates docs/benchmarks.md and its plots (docs/benchmarks/*.png, the
figures in docs/benchmarks/results.json) in one command:

  /usr/bin/python3 bench/benchmarks.py

It measures, on this machine:
- every network in models/, forward and gradient, at 1 and 2 threads, beside
  PyTorch (and ONNX Runtime for the forward pass when onnxruntime-node is
  installed), interleaved (bench/compare_forward.py);
- a batch-size sweep (32..1024, as Bahrampour et al., Figs. 1-2) of LeNet,
  AlexNet-R and AlexNet, forward and gradient, at the highest thread count;
- thread scaling (the 1- and 2-thread runs of the first part);
- a per-layer breakdown of AlexNet's and ResNet-50's gradient (forward,
  backward-data, backward-weights per layer, dlrun --bench).

Options select parts and sizes; --no-torch measures dlc alone (the test suite
runs the harness that way on a tiny net: it has no PyTorch). --from-json
redraws the document from a results.json without measuring. Takes about an
hour on a 2-core machine with the defaults.
"""

import os

# Before torch (and its libgomp) is loaded, as in compare_forward.py.
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_render  # noqa: E402
import compare_forward as cf  # noqa: E402

REPO = os.path.dirname(HERE)
MODELS = os.path.join(REPO, "models")
# name -> batches of the default batch-size sweep. AlexNet stops at 256: its
# gradient at 512 would need ~10 GB for each side.
DEFAULT_SWEEP = ["lenet:32,64,128,256,512,1024", "alexnet-r:32,64,128,256,512,1024",
                 "alexnet:32,64,128,256"]
DEFAULT_LAYERS = ["alexnet:64", "resnet-50"]


def model_path(name):
    """A models/ name ("lenet") or a path to a prototxt."""
    if os.path.exists(name):
        return name
    p = os.path.join(MODELS, name + ".prototxt")
    if not os.path.exists(p):
        raise cf.BenchError(f"{name}: neither a file nor a network in models/")
    return p


def net_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def parse_sweep(spec):
    name, _, batches = spec.partition(":")
    try:
        bs = [int(b) for b in batches.split(",")]
    except ValueError:
        raise cf.BenchError(f"--sweep {spec!r}: expected NET:B1,B2,...") from None
    if not bs or any(b <= 0 for b in bs):
        raise cf.BenchError(f"--sweep {spec!r}: expected NET:B1,B2,...")
    return model_path(name), bs


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------

def compare_args(args, nets, mode, threads, ort):
    """compare_forward.run's options for one part."""
    return argparse.Namespace(
        nets=nets, mode=mode, threads=",".join(map(str, threads)), rounds=args.rounds,
        iterations=args.iterations, warmup=args.warmup, target_seconds=args.target_seconds,
        min_iterations=args.min_iterations, torch_only=False, ort=ort, no_fuse=False,
        dlc_variant=[], dlc=args.dlc, dlrun=args.dlrun, timeout=args.timeout)


def batch_of(report):
    """The batch of a dlrun report: dimension 0 of its first input (1 of a
    sequence net's `cont`, which is time-major)."""
    shapes = {i["name"]: i.get("shape") or [] for i in report.get("inputs", [])}
    if len(shapes.get("cont", [])) > 1:
        return shapes["cont"][1]
    first = next(iter(shapes.values()), [])
    return first[0] if first else None


def measure_dlc_only(args, specs, mode, threads, tmp):
    """dlc alone (no PyTorch): rounds of dlrun --bench per net and threads,
    rows in compare_forward's form."""
    dlc, dlrun = args.dlc, args.dlrun
    rows = []
    for spec in specs:
        path, batch = cf.parse_net_spec(spec)
        module = os.path.join(tmp, f"{net_name(path)}-{batch}-{mode}.dlcm")
        base = {"net": path, "spec": spec, "name": net_name(path), "mode": mode}
        try:
            compile_cmd = cf.dlc_compile(dlc, path, batch, module, mode)
        except cf.BenchError as e:
            rows.append(dict(base, batch=batch, error=str(e)))
            continue
        for t in threads:
            ms, report, error = [], None, None
            for _ in range(args.rounds):
                try:
                    m, report = cf.dlrun_bench(dlrun, module, t, args.iterations, args.warmup,
                                               os.path.join(tmp, "dlrun.json"), args.timeout, mode)
                except cf.BenchError as e:
                    error = str(e)
                    break
                ms.append(m)
            row = dict(base, threads=t, compile=compile_cmd, iterations=args.iterations,
                       warmup=args.warmup)
            if error:
                rows.append(dict(row, batch=batch, error=error))
                continue
            row["batch"] = batch or batch_of(report)
            row["dlc_ms"] = cf.stats(ms)
            row["dlrun"] = cf.summarize_dlrun(report)
            rows.append(row)
            print(f"  {row['name']} b{row['batch']} t{t} {mode}: dlc {row['dlc_ms']['median']:.3f} ms",
                  flush=True)
    return rows


def measure(args, specs, mode, threads, tmp, ort=False):
    """Rows of one part; the machine description when PyTorch ran."""
    if args.no_torch:
        return measure_dlc_only(args, specs, mode, threads, tmp), None, []
    info, rows, warnings = cf.run(compare_args(args, specs, mode, threads, ort))
    return rows, info, warnings


def layer_breakdown(args, spec, threads, tmp):
    """Per-layer forward / backward-data / backward-weights medians of the
    gradient entry (dlrun --bench with its per-layer pass)."""
    dlc, dlrun = args.dlc, args.dlrun
    name, _, batch = spec.partition(":")
    path = model_path(name)
    batch = int(batch) if batch else None
    module = os.path.join(tmp, f"{net_name(path)}-layers.dlcm")
    cf.dlc_compile(dlc, path, batch, module, "grad")
    out = os.path.join(tmp, f"{net_name(path)}-layers.json")
    cmd = [dlrun, module, "--bench", "--quiet", "--threads", str(threads), "--iterations",
           str(args.layer_iterations), "--warmup", "1", "--json", out]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=cf.child_env(threads))
    if r.returncode != 0:
        raise cf.BenchError(f"{shlex.join(cmd)} failed (exit {r.returncode}):\n{r.stderr.strip()}")
    with open(out) as f:
        report = json.load(f)
    b = report["bench"]

    def role(layer, key):
        x = layer.get(key)
        return x["median_ms"] if x else 0.0

    layers = [{"layer": layer["layer"], "op": layer["op"], "impl": layer["impl"],
               "algorithms": layer.get("algorithms", ""),
               "forward_ms": role(layer, "forward"), "backward_data_ms": role(layer, "backward_data"),
               "backward_weights_ms": role(layer, "backward_weights"),
               "gflops": {k: (layer.get(k) or {}).get("gflops") for k in
                          ("forward", "backward_data", "backward_weights")}}
              for layer in b["layers"]]
    return {"net": path, "name": net_name(path), "batch": batch or batch_of(report),
            "threads": threads, "iterations": b["iterations"], "gradient_ms": b["gradient"]["median_ms"],
            "forward_ms": b["total"]["median_ms"] if "total" in b else None,
            "sum_layer_medians_ms": sum(x["forward_ms"] + x["backward_data_ms"] + x["backward_weights_ms"]
                                        for x in layers),
            "memory": {k: v for k, v in b["memory"].items() if k != "workspaces"},
            "machine": report.get("machine"), "layers": layers}


def calibrate(args, threads):
    """dlrun --calibrate's rates (also cached for dlrun's roofline column)."""
    dlrun = args.dlrun
    cmd = [dlrun, "--calibrate", "--threads", ",".join(map(str, threads))]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise cf.BenchError(f"{shlex.join(cmd)} failed:\n{r.stderr.strip()}")
    return [line.strip() for line in r.stdout.splitlines() if line.strip()]


def dlrun_machine(args, tmp):
    """dlrun's machine description (CPU, ISA, oneDNN), from a tiny run."""
    dlc, dlrun = args.dlc, args.dlrun
    module = os.path.join(tmp, "machine.dlcm")
    cf.dlc_compile(dlc, model_path("lenet"), 1, module)
    _, report = cf.dlrun_bench(dlrun, module, 1, 1, 0, os.path.join(tmp, "machine.json"), 120)
    return report.get("machine", {}), report.get("producer")


def slim(res):
    """results.json without what the page does not use: the outputs each
    side produced (compare_forward checks them while measuring)."""
    for part in list(res.get("suite", {}).values()) + [rows for modes in res.get("sweep", {}).values()
                                                       for rows in modes.values()]:
        for row in part:
            row.pop("torch_outputs", None)
            if isinstance(row.get("dlrun"), dict):
                row["dlrun"].pop("outputs", None)
    return res


def run(args, argv):
    threads = sorted({int(t) for t in args.threads.split(",")})
    if any(t <= 0 for t in threads):
        raise cf.BenchError("--threads must be positive")
    # Every network named, before anything runs.
    nets = [model_path(n) for n in args.nets] if args.nets else sorted(
        os.path.join(MODELS, f) for f in os.listdir(MODELS) if f.endswith(".prototxt"))
    sweeps = [parse_sweep(spec) for spec in args.sweep or DEFAULT_SWEEP]
    for spec in args.layers or DEFAULT_LAYERS:
        model_path(spec.partition(":")[0])
    ort = not args.no_ort and not args.no_torch
    if ort:
        try:
            cf.c2t_ort.ort_version()
        except cf.c2t_ort.OrtError as e:
            print(f"warning: no ONNX Runtime side ({e}); --no-ort to silence", file=sys.stderr)
            ort = False
    # The binaries, found once (compare_forward.run gets them too).
    args.dlc, args.dlrun = cf.find_tools(args.dlc, args.dlrun)
    tmp = tempfile.mkdtemp(prefix="dlc-benchmarks-")
    started = time.time()
    res = {"command": "/usr/bin/python3 bench/benchmarks.py" + (" " + shlex.join(argv) if argv else ""),
           "date": datetime.datetime.now().isoformat(timespec="seconds"), "threads": threads,
           "rounds": args.rounds, "target_seconds": args.target_seconds, "max_iterations": args.iterations,
           "torch": not args.no_torch, "ort": ort, "warnings": []}
    res["dlrun_machine"], res["producer"] = dlrun_machine(args, tmp)
    res["rates"] = calibrate(args, threads)
    if "suite" not in args.skip:
        res["suite"] = {}
        for mode in ("forward", "grad"):
            print(f"# every network, {mode}", flush=True)
            rows, info, warnings = measure(args, nets, mode, threads, tmp, ort and mode == "forward")
            res["suite"][mode] = rows
            res["warnings"] += warnings
            if info:
                res["machine"] = info
    if "sweep" not in args.skip:
        res["sweep"] = {}
        for path, batches in sweeps:
            for mode in ("forward", "grad"):
                print(f"# batch sweep {net_name(path)} {batches}, {mode}", flush=True)
                rows, info, warnings = measure(args, [f"{path}:{b}" for b in batches], mode,
                                               [threads[-1]], tmp, ort and mode == "forward")
                res["sweep"].setdefault(net_name(path), {})[mode] = rows
                res["warnings"] += warnings
                if info and "machine" not in res:
                    res["machine"] = info
    if "layers" not in args.skip:
        res["layers"] = []
        for spec in args.layers or DEFAULT_LAYERS:
            print(f"# per-layer breakdown {spec}", flush=True)
            try:
                res["layers"].append(layer_breakdown(args, spec, threads[-1], tmp))
            except cf.BenchError as e:
                res["warnings"].append(f"per-layer {spec}: {e}")
                print(f"error: {e}", file=sys.stderr)
    res["elapsed_s"] = round(time.time() - started, 1)
    return res


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"),
                    help="the Markdown document (default docs/benchmarks.md); plots and results.json go to "
                         "a folder of the same name without .md")
    ap.add_argument("--nets", nargs="+", metavar="NET", help="models/ names or prototxt paths (default: all "
                    "of models/)")
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2); the sweep and the "
                    "per-layer part use the highest")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--iterations", type=int, default=20, help="at most this many timed iterations per "
                    "round and side (default 20)")
    ap.add_argument("--min-iterations", type=int, default=2, help="at least (default 2)")
    ap.add_argument("--warmup", type=int, default=2, help="at most this many warm-ups (default 2)")
    ap.add_argument("--target-seconds", type=float, default=0.4,
                    help="fit the iterations so one side's turn lasts about this long (default 0.4)")
    ap.add_argument("--sweep", action="append", metavar="NET:B1,B2,...",
                    help=f"batch-size sweep (repeatable; default {' '.join(DEFAULT_SWEEP)})")
    ap.add_argument("--layers", action="append", metavar="NET[:BATCH]",
                    help=f"per-layer breakdown (repeatable; default {' '.join(DEFAULT_LAYERS)})")
    ap.add_argument("--layer-iterations", type=int, default=5, help="per-layer part iterations (default 5)")
    ap.add_argument("--skip", action="append", default=[], choices=["suite", "sweep", "layers"])
    ap.add_argument("--no-torch", action="store_true", help="dlc alone (no PyTorch, no ONNX Runtime)")
    ap.add_argument("--no-ort", action="store_true", help="no ONNX Runtime side")
    ap.add_argument("--dlc", help="dlc binary (default: newest build*/bin)")
    ap.add_argument("--dlrun", help="dlrun binary (default: next to dlc)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per dlrun call (default 1800)")
    ap.add_argument("--from-json", metavar="RESULTS", help="draw the document from a results.json, "
                    "measure nothing")
    args = ap.parse_args(argv)
    if args.dlc and not args.dlrun:
        args.dlrun = os.path.join(os.path.dirname(args.dlc), "dlrun")
    stem = args.out[:-3] if args.out.endswith(".md") else args.out
    try:
        if args.from_json:
            with open(args.from_json) as f:
                res = json.load(f)
        else:
            res = run(args, argv)
            os.makedirs(stem, exist_ok=True)
            with open(os.path.join(stem, "results.json"), "w") as f:
                json.dump(slim(res), f, indent=1, default=str)
        bench_render.write(res, stem + ".md", stem)
    except (cf.BenchError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {stem}.md and {stem}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

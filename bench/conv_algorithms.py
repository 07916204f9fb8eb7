#!/usr/bin/python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Convolution algorithms per layer and end to end (docs/convolution.md).

For each NET[:BATCH]:
  1. `dlc compile --gradient --tune` with a fresh tuning cache: every
     applicable algorithm is timed for every convolution in all three
     directions; the per-layer table is read back from the cache.
  2. End to end, dlrun --bench forward and gradient for modules compiled
     with the cost model (auto), with --tune (the same cache), and with each
     algorithm forced where it applies (`--conv-algo ALGO,fallback=direct`).
     Variants run interleaved, rounds rotating the order, so machine drift
     hits all of them; medians over rounds are reported.

  bench/conv_algorithms.py models/lenet.prototxt:64 --threads 2 --out r.md
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRECTIONS = ["forward", "backward-data", "backward-weights"]
ALGOS = ["direct", "gemm", "fft", "winograd2", "winograd4", "onednn-winograd", "sliding"]


def find_tool(name, given):
    if given:
        return given
    cands = [os.path.join(ROOT, d, "bin", name) for d in sorted(os.listdir(ROOT))
             if d.startswith("build")]
    cands = [c for c in cands if os.path.exists(c)]
    if not cands:
        sys.exit(f"no build*/bin/{name}; pass --{name}")
    return max(cands, key=os.path.getmtime)


def run(cmd, env=None, timeout=3600):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if r.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed (exit {r.returncode}):\n{r.stderr.strip()}")
    return r


def env_for(threads):
    e = dict(os.environ)
    e["OMP_NUM_THREADS"] = str(threads)
    return e


def compile_net(dlc, net, batch, out, extra, threads, cache):
    cmd = [dlc, "compile", net, "--gradient", "--loss", "auto", "-o", out, "--threads", str(threads),
           "--tuning-cache", cache] + extra
    if batch:
        cmd += ["--batch", str(batch)]
    return run(cmd, env_for(threads))


def layer_table(cache):
    with open(cache) as f:
        data = json.load(f)
    rows = {}
    for key, e in data.get("entries", {}).items():
        direction = key.split(" ")[0]
        layer = e.get("layer", "?")
        for algo, c in e.get("candidates", {}).items():
            rows.setdefault(layer, {}).setdefault(direction, {})[algo] = c
    return rows


def fmt_cell(c):
    if c is None:
        return ""
    if "why_not" in c:
        return "-"
    if "ms" in c:
        return f"{c['ms']:.3g}"
    return "?"


def bench(dlrun, module, entry, threads, iterations, warmup):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as t:
        path = t.name
    run([dlrun, module, "--bench", "--no-per-layer", "--quiet", "--threads", str(threads),
         "--iterations", str(iterations), "--warmup", str(warmup), "--json", path,
         "--entry", entry], env_for(threads))
    with open(path) as f:
        rep = json.load(f)
    os.unlink(path)
    b = rep["bench"]
    return float(b["gradient" if entry == "gradient" else "total"]["median_ms"])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("nets", nargs="+", help="prototxt[:batch]")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--algos", default=",".join(ALGOS),
                    help="algorithms forced end to end (default: %(default)s)")
    ap.add_argument("--no-e2e", action="store_true", help="per-layer table only")
    ap.add_argument("--dlc")
    ap.add_argument("--dlrun")
    ap.add_argument("--out", help="also write the markdown report here")
    a = ap.parse_args()
    dlc, dlrun = find_tool("dlc", a.dlc), find_tool("dlrun", a.dlrun)
    lines = [f"# Convolution algorithms ({datetime.date.today()})", "",
             f"Command: `{shlex.join(['bench/conv_algorithms.py'] + sys.argv[1:])}`  ",
             f"Machine: {platform.node()}, {os.cpu_count()} CPUs, threads {a.threads}; "
             f"ISA and oneDNN version as in the cache keys below.", ""]
    work = tempfile.mkdtemp(prefix="dlc-convalgo-")
    for spec in a.nets:
        net, _, batch = spec.partition(":")
        name = os.path.splitext(os.path.basename(net))[0]
        if name in ("deploy", "train_val"):
            name = os.path.basename(os.path.dirname(net))
        cache = os.path.join(work, name + ".tuning.json")
        mod_tune = os.path.join(work, name + "-tune.dlcm")
        r = compile_net(dlc, net, batch, mod_tune, ["--tune"], a.threads, cache)
        with open(cache) as f:
            machine = list(json.load(f).get("machines", {}).keys())
        rows = layer_table(cache)
        lines += [f"## {name} (batch {batch or 'as in the file'})", "",
                  f"Tuning cache machine key: `{machine[0] if machine else '?'}`", "",
                  "Per convolution, ms per direction and algorithm (`-`: does not apply):", "",
                  "| layer | direction | " + " | ".join(ALGOS) + " | fastest |",
                  "|---|---|" + "---|" * (len(ALGOS) + 1)]
        for layer, dirs in rows.items():
            for d in DIRECTIONS:
                if d not in dirs:
                    continue
                cells = dirs[d]
                timed = {k: v["ms"] for k, v in cells.items() if "ms" in v}
                fastest = min(timed, key=timed.get) if timed else "?"
                lines.append(f"| {layer} | {d} | " +
                             " | ".join(fmt_cell(cells.get(x)) for x in ALGOS) +
                             f" | {fastest} |")
        lines.append("")
        if a.no_e2e:
            continue
        variants = {"auto (cost model)": [], "--tune": ["--tune"]}
        for algo in a.algos.split(","):
            variants[f"{algo}"] = ["--conv-algo", f"{algo},fallback=direct"]
        modules = {}
        for v, extra in variants.items():
            m = os.path.join(work, f"{name}-{len(modules)}.dlcm")
            compile_net(dlc, net, batch, m, extra, a.threads, cache)
            modules[v] = m
        times = {v: {"forward": [], "gradient": []} for v in variants}
        order = list(variants)
        for rnd in range(a.rounds):
            k = rnd % len(order)
            for v in order[k:] + order[:k]:
                for entry in ("forward", "gradient"):
                    times[v][entry].append(bench(dlrun, modules[v], entry, a.threads,
                                                 a.iterations, a.warmup))
        lines += [f"End to end ({a.rounds} interleaved rounds of {a.iterations} iterations "
                  f"after {a.warmup} warm-up, median ms; forced algorithms fall back to "
                  "direct where they do not apply):", "",
                  "| variant | forward ms | gradient ms |", "|---|---|---|"]
        for v in variants:
            f = statistics.median(times[v]["forward"])
            g = statistics.median(times[v]["gradient"])
            lines.append(f"| {v} | {f:.2f} | {g:.2f} |")
        lines.append("")
        print("\n".join(lines), flush=True)
    text = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()

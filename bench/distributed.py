#!/usr/bin/env python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Data-parallel training steps on this machine (docs/distributed.md).

For each net (training phase: BatchNorm with batch statistics), the gradient
step with its allreduce (`mpirun -np R dlrun --distributed mpi --bench`) at
1, 2 and 4 ranks, the batch per rank fixed (weak scaling, as Caffe's
multi-GPU training), the threads per rank = max(1, cores / ranks). Reports
step time, compute, allreduce and exposed communication, the efficiency
against the same step without communication (the overhead of the
allreduce) and the throughput against one rank (on one machine the ranks
share its cores: 1.0 means nothing was lost by splitting the batch).

Then a projection to 8-64 ranks on separate machines like this one from the
measured one-rank step (forward and backward times) and gradient size: ring
allreduce time 2 (N-1)/N S / BW + 2 (N-1) latency, hidden behind the
backward pass at best (buckets), for the stated network bandwidths.

  python3 bench/distributed.py [--build build] [--iterations 10] [--out DIR]
"""
import argparse
import json
import os
import subprocess
import sys

NETS = ["resnet-56", "alexnet-r"]
NETWORKS = [("10 GbE", 1.25e9, 20e-6), ("100 Gb/s InfiniBand", 12.5e9, 3e-6)]


def run(cmd, env=None):
    print("+ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        sys.exit(p.stdout + f"\n{cmd[0]}: exit status {p.returncode}")
    return p.stdout


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(here, "..", "build"))
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--ranks", default="1,2,4")
    ap.add_argument("--nets", default=",".join(NETS))
    ap.add_argument("--out", default="/tmp/dlc-distributed")
    args = ap.parse_args()
    dlc = os.path.join(args.build, "bin", "dlc")
    dlrun = os.path.join(args.build, "bin", "dlrun")
    os.makedirs(args.out, exist_ok=True)
    cores = os.cpu_count() or 1
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    isa = run([dlrun, "--calibrate", "--threads", "1"], env).strip().splitlines()[-1]
    results = {"machine": isa, "cores": cores, "nets": {}}
    for net in args.nets.split(","):
        module = os.path.join(args.out, net + ".dlcm")
        run([dlc, "compile", os.path.join(here, "..", "models", net + ".prototxt"), "--gradient",
             "--loss", "auto", "--phase", "train", "-o", module], env)
        # One process, all cores: forward and gradient (the projection's split).
        one = os.path.join(args.out, net + "-one.json")
        run([dlrun, module, "--bench", "--no-per-layer", "--iterations", str(args.iterations),
             "--threads", str(cores), "-q", "--json", one], env)
        bench = json.load(open(one))["bench"]
        fwd, grad = bench["total"]["median_ms"], bench["gradient"]["median_ms"]
        rows = []
        for r in [int(x) for x in args.ranks.split(",")]:
            threads = max(1, cores // r)
            out = os.path.join(args.out, f"{net}-{r}.json")
            text = run(["mpirun", "--oversubscribe", "--bind-to", "none", "-np", str(r), dlrun, module,
                        "--distributed", "mpi", "--bench", "--iterations", str(args.iterations),
                        "--warmup", "2", "--threads", str(threads), "--json", out], env)
            print(text[text.find("Distributed gradient step"):], flush=True)
            b = json.load(open(out))["bench_distributed"]
            b["threads"] = threads
            rows.append(b)
        base = rows[0]["step"]["median_ms"] / rows[0]["batch_per_rank"]
        for b in rows:
            b["throughput_vs_one_rank"] = base / (b["step"]["median_ms"] / (b["batch_per_rank"] * b["ranks"]))
        results["nets"][net] = {"forward_ms": fwd, "gradient_ms": grad, "runs": rows}
    json.dump(results, open(os.path.join(args.out, "results.json"), "w"), indent=1)

    lines = [f"Machine: {results['machine']}; {cores} cores; times are medians of "
             f"{args.iterations} steps.", ""]
    lines.append("| net | ranks x threads | batch per rank | step ms | compute ms | allreduce ms | "
                 "exposed ms | buckets | efficiency (no-comm step / step) | throughput vs 1 rank |")
    lines.append("|---" * 10 + "|")
    for net, r in results["nets"].items():
        for b in r["runs"]:
            lines.append(f"| {net} | {b['ranks']} x {b['threads']} | {b['batch_per_rank']} | "
                         f"{b['step']['median_ms']:.1f} | {b['compute_ms']:.1f} | {b['allreduce_ms']:.2f} | "
                         f"{b['exposed_ms']:.2f} | {b['buckets']} | {b['efficiency']:.3f} | "
                         f"{b['throughput_vs_one_rank']:.3f} |")
    lines += ["", "Projection, one rank per machine like this one (all its cores), ring allreduce "
              "2 (N-1)/N S/BW + 2 (N-1) latency; efficiency = step / (step + exposed), exposed "
              "= allreduce without overlap, or what the backward pass cannot hide with it:", ""]
    lines.append("| net | gradient MiB | step ms (fwd + bwd) | network | " +
                 " | ".join(f"N={n}" for n in (8, 16, 32, 64)) + " |")
    lines.append("|---" * 8 + "|")
    for net, r in results["nets"].items():
        s = r["runs"][0]["gradient_bytes"]
        step, bwd = r["gradient_ms"] / 1e3, (r["gradient_ms"] - r["forward_ms"]) / 1e3
        for name, bw, lat in NETWORKS:
            cells = []
            for n in (8, 16, 32, 64):
                t = 2 * (n - 1) / n * s / bw + 2 * (n - 1) * lat
                no = step / (step + t)
                hid = step / (step + max(0.0, t - bwd))
                cells.append(f"{no:.2f} / {hid:.2f}")
            lines.append(f"| {net} | {s / 1048576:.2f} | {r['gradient_ms']:.0f} ({r['forward_ms']:.0f} + "
                         f"{r['gradient_ms'] - r['forward_ms']:.0f}) | {name} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    open(os.path.join(args.out, "results.md"), "w").write(text)
    print(text)


if __name__ == "__main__":
    main()

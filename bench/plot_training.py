#!/usr/bin/python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Draws the loss and accuracy curves of `dlrun --train --log-json LOG`.

  /usr/bin/python3 bench/plot_training.py log.json -o curves.png [--label dlc] [more.json ...]

One panel for the training loss (the smoothed loss of each displayed
iteration) and one per test output (accuracy, test loss) of each test net;
several logs are drawn over each other (e.g. two runs to compare).
"""
import argparse
import json
import os
import sys


def load(path):
    try:
        records = json.load(open(path))
    except (OSError, ValueError) as e:
        sys.exit(f"plot_training: {path}: {e}")
    if not isinstance(records, list):
        sys.exit(f"plot_training: {path}: not a dlrun --log-json file (a list of records)")
    train = [(r["iter"], r["loss"]) for r in records if "test_net" not in r and "loss" in r]
    tests = {}
    for r in records:
        if "test_net" in r:
            for name, value in r.get("outputs", {}).items():
                tests.setdefault((r["test_net"], name), []).append((r["iter"], value))
    return train, tests


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("logs", nargs="+")
    ap.add_argument("-o", "--output", required=True, help="the picture (.png, .svg, .pdf)")
    ap.add_argument("--label", action="append", default=[],
                    help="a name per log (default: the file names)")
    args = ap.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    runs = [load(p) for p in args.logs]
    labels = args.label + [os.path.basename(p) for p in args.logs[len(args.label):]]
    panels = sorted({key for _, tests in runs for key in tests})
    fig, axes = plt.subplots(1, 1 + len(panels), figsize=(5 * (1 + len(panels)), 3.5),
                             squeeze=False)
    ax = axes[0][0]
    for (train, _), label in zip(runs, labels):
        ax.plot([p[0] for p in train], [p[1] for p in train], label=label, linewidth=1)
    ax.set_title("training loss")
    ax.set_xlabel("iteration")
    ax.set_yscale("log")
    ax.legend()
    for i, (net, name) in enumerate(panels):
        ax = axes[0][1 + i]
        for (_, tests), label in zip(runs, labels):
            pts = tests.get((net, name), [])
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=label, linewidth=1)
        ax.set_title(f"test net #{net}: {name}")
        ax.set_xlabel("iteration")
        ax.legend()
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Draws docs/benchmarks.md and its plots from bench/benchmarks.py's results
(the dictionary it saves as results.json): write(results, md_path, plot_dir).
Plots are PNGs drawn with matplotlib (Debian's python3-matplotlib, Agg)."""

import os

SIDES = [("dlc", "dlc"), ("torch", "PyTorch"), ("ort", "ONNX Runtime")]
COLORS = {"dlc": "#1f77b4", "torch": "#d62728", "ort": "#2ca02c",
          "forward": "#1f77b4", "backward_data": "#ff7f0e", "backward_weights": "#2ca02c"}
MODES = [("forward", "Forward"), ("grad", "Gradient (forward + backward, no update)")]


def _plt():
    import warnings
    # numpy's float limits warn once torch has set flush-denormal.
    warnings.filterwarnings("ignore", message="The value of the smallest subnormal")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def ok(rows):
    return [r for r in rows if "error" not in r]


def row_at(rows, name, threads, key=None):
    """The measured row of `name` at `threads` (having `key`), or None."""
    return next((r for r in ok(rows) if r["name"] == name and r["threads"] == threads
                 and (key is None or key in r)), None)


def ms(r, side):
    s = r.get(side + "_ms")
    return s["median"] if s else None


def fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def fmt_range(s, digits=3):
    return "-" if not s else f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def table(head, rows):
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + \
        ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------

def save(fig, plot_dir, name):
    path = os.path.join(plot_dir, name)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    _plt().close(fig)
    return name


def plot_ratios(suite, threads, plot_dir):
    """Per net, dlc's time over PyTorch's (and ONNX Runtime's) per thread
    count, forward and gradient side by side; below 1 dlc is faster."""
    plt = _plt()
    names = sorted({r["name"] for rows in suite.values() for r in ok(rows)})
    fig, axes = plt.subplots(1, len(suite), figsize=(6 * len(suite), 0.28 * len(names) + 1.5),
                             sharey=True, squeeze=False)
    for ax, (mode, rows) in zip(axes[0], suite.items()):
        series = [(f"/PyTorch, {t} thr", "paired_ratio", t) for t in threads] + \
            [(f"/ORT, {t} thr", "paired_ratio_ort", t) for t in threads if any("paired_ratio_ort" in r for r in rows)]
        h = 0.8 / max(1, len(series))
        for i, (label, key, t) in enumerate(series):
            vals = []
            for n in names:
                r = row_at(rows, n, t, key)
                vals.append(r[key]["median"] if r else 0)
            ax.barh([y + i * h for y in range(len(names))], vals, height=h, label="dlc" + label)
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_xlim(0, max(1.2, min(3.0, max((p.get_width() for p in ax.patches), default=1) * 1.05)))
        ax.set_title(dict(MODES)[mode].split(" (")[0] + ": dlc time / peer time (paired, median)")
        ax.set_yticks([y + 0.4 - h / 2 for y in range(len(names))])
        ax.set_yticklabels(names, fontsize=8)
        ax.invert_yaxis()
        ax.legend(fontsize=7, loc="lower right")
        ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    return save(fig, plot_dir, "ratios.png")


def plot_threads(suite, threads, plot_dir):
    """Speedup from the fewest to the most threads, per net and side."""
    plt = _plt()
    lo, hi = threads[0], threads[-1]
    fig, axes = plt.subplots(1, len(suite), figsize=(6 * len(suite), 4), squeeze=False)
    for ax, (mode, rows) in zip(axes[0], suite.items()):
        names = sorted({r["name"] for r in ok(rows)})
        for i, (side, label) in enumerate(SIDES):
            vals = []
            for n in names:
                a, b = row_at(rows, n, lo), row_at(rows, n, hi)
                vals.append(ms(a, side) / ms(b, side) if a and b and ms(a, side) and ms(b, side) else 0)
            if any(vals):
                ax.bar([x + i * 0.27 for x in range(len(names))], vals, width=0.27, label=label,
                       color=COLORS[side])
        ax.axhline(hi / lo, color="black", linewidth=0.8, linestyle="--", label="linear")
        ax.axhline(1.0, color="gray", linewidth=0.6)
        ax.set_xticks([x + 0.27 for x in range(len(names))])
        ax.set_xticklabels(names, rotation=70, fontsize=7, ha="right")
        ax.set_ylabel(f"speedup, {lo} -> {hi} threads")
        ax.set_title(dict(MODES)[mode].split(" (")[0])
        ax.legend(fontsize=7)
    return save(fig, plot_dir, "threads.png")


def plot_batch(name, modes, plot_dir):
    """Time per sample against the batch size, per side."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(modes), figsize=(5.5 * len(modes), 3.6), squeeze=False)
    for ax, (mode, rows) in zip(axes[0], modes.items()):
        for side, label in SIDES:
            pts = [(r["batch"], ms(r, side) / r["batch"]) for r in ok(rows) if ms(r, side)]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label, color=COLORS[side])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        batches = sorted({r["batch"] for r in ok(rows)})
        ax.set_xticks(batches)
        ax.set_xticklabels([str(b) for b in batches])
        ax.minorticks_off()
        ax.yaxis.set_major_formatter(_plt().FormatStrFormatter("%.3g"))
        ax.set_xlabel("batch size")
        ax.set_ylabel("ms per sample")
        ax.set_title(f"{name}: {dict(MODES)[mode].split(' (')[0].lower()}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, plot_dir, f"batch-{name}.png")


def top_layers(entry, n):
    """The n layers with the most time, then one row for the rest."""
    layers = sorted(entry["layers"], key=lambda x: -(x["forward_ms"] + x["backward_data_ms"]
                                                      + x["backward_weights_ms"]))
    top, rest = layers[:n], layers[n:]
    if rest:
        top.append({"layer": f"({len(rest)} other layers)", "op": "", "impl": "", "algorithms": "",
                    **{k: sum(x[k] for x in rest) for k in ("forward_ms", "backward_data_ms",
                                                           "backward_weights_ms")}})
    return top


def plot_layers(entry, plot_dir, n=30):
    """Stacked bars per layer: forward, backward-data, backward-weights."""
    plt = _plt()
    layers = top_layers(entry, n)
    rest = layers.pop() if len(entry["layers"]) > n else None
    # In network order; the rest (many small layers) only in the title.
    order = {x["layer"]: i for i, x in enumerate(entry["layers"])}
    layers.sort(key=lambda x: order[x["layer"]])
    fig, ax = plt.subplots(figsize=(8, 0.25 * len(layers) + 1.2))
    left = [0.0] * len(layers)
    for key, label in (("forward_ms", "forward"), ("backward_data_ms", "backward-data"),
                       ("backward_weights_ms", "backward-weights")):
        vals = [x[key] for x in layers]
        ax.barh(range(len(layers)), vals, left=left, label=label, color=COLORS[key[:-3]])
        left = [a + b for a, b in zip(left, vals)]
    ax.set_yticks(range(len(layers)))
    ax.set_yticklabels([x["layer"] for x in layers], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("ms per gradient run (median)")
    title = f"{entry['name']}, batch {entry['batch']}, {entry['threads']} threads: per layer"
    if rest:
        total = rest["forward_ms"] + rest["backward_data_ms"] + rest["backward_weights_ms"]
        title += f"\n(the {n} slowest; the other {len(entry['layers']) - n} take {total:.0f} ms together)"
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return save(fig, plot_dir, f"layers-{entry['name']}.png")


# ---------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------

def machine_lines(res):
    m = res.get("dlrun_machine", {})
    t = res.get("machine") or {}
    lines = [f"- CPU: {m.get('cpu', '?')}, {m.get('cpus_usable', '?')} usable of {m.get('cpus_online', '?')} "
             f"online CPUs, ISA dispatched by oneDNN: `{m.get('isa', '?')}`, {m.get('kernel', '')}",
             f"- dlc: {res.get('producer', '?')}, oneDNN {m.get('onednn', '?')}"]
    if t:
        blas = ", ".join(os.path.basename(b) for b in t.get("blas_libs", [])) or "?"
        sgemm = ", ".join(f"{v} GFLOP/s at {k} thread{'s' if str(k) != '1' else ''}"
                          for k, v in (t.get("sgemm_gflops") or {}).items())
        lines.append(f"- PyTorch {t.get('torch')} (CPU capability {t.get('torch_cpu_capability')}, BLAS {blas}); "
                     f"SGEMM 1024^3 through torch: {sgemm}")
    if res.get("ort"):
        ort = next((r["ort"] for rows in res.get("suite", {}).values() for r in rows if r.get("ort")), None)
        if ort:
            lines.append(f"- ONNX Runtime {ort.get('ort_version')} (onnxruntime-node, CPU execution provider, "
                         f"graph optimization {ort.get('graph_optimization')}), node {ort.get('node')}")
    lines += [f"- rates (`dlrun --calibrate`): {r}" for r in res.get("rates", [])]
    return lines


def suite_table(rows, with_torch, with_ort):
    head = ["net", "batch", "threads", "dlc ms"]
    if with_torch:
        head += ["PyTorch ms", "dlc/PyTorch (paired)"]
    if with_ort:
        head += ["ORT ms", "dlc/ORT (paired)"]
    head += ["dlc GFLOP/s", "iterations x rounds"]
    out = []
    for r in rows:
        if "error" in r:
            out.append([r.get("name", r["net"]), r.get("batch", ""), r.get("threads", ""),
                        "error: " + r["error"].splitlines()[0][:80]] + [""] * (len(head) - 4))
            continue
        row = [r["name"], r["batch"], r["threads"], fmt_range(r.get("dlc_ms"))]
        if with_torch:
            row += [fmt_range(r.get("torch_ms")), fmt_range(r.get("paired_ratio"), 2)]
        if with_ort:
            row += [fmt_range(r.get("ort_ms")), fmt_range(r.get("paired_ratio_ort"), 2)]
        row += [fmt(r.get("dlc_gflops"), 1), f"{r.get('iterations', '?')} x {len(r['dlc_ms']['rounds'])}"]
        out.append(row)
    return table(head, out)


def summary_lines(suite, threads):
    lines = []
    for mode, rows in suite.items():
        for t in threads:
            rs = [r for r in ok(rows) if r["threads"] == t and "paired_ratio" in r]
            if not rs:
                continue
            vals = sorted(r["paired_ratio"]["median"] for r in rs)
            faster = sum(v < 1 for v in vals)
            worst = max(rs, key=lambda r: r["paired_ratio"]["median"])
            lines.append(f"- {mode}, {t} thread{'s' if t > 1 else ''}: dlc faster than PyTorch on {faster} of "
                         f"{len(vals)} nets; median dlc/PyTorch {vals[len(vals) // 2]:.2f}, best {vals[0]:.2f}, "
                         f"worst {vals[-1]:.2f} ({worst['name']})")
            ro = sorted(r["paired_ratio_ort"]["median"] for r in rows if r.get("threads") == t
                        and "paired_ratio_ort" in r)
            if ro:
                lines.append(f"  - against ONNX Runtime: faster on {sum(v < 1 for v in ro)} of {len(ro)}; "
                             f"median dlc/ORT {ro[len(ro) // 2]:.2f}, worst {ro[-1]:.2f}")
    return lines


def thread_table(suite, threads):
    lo, hi = threads[0], threads[-1]
    out = []
    for mode, rows in suite.items():
        for n in sorted({r["name"] for r in ok(rows)}):
            a, b = row_at(rows, n, lo), row_at(rows, n, hi)
            if not (a and b):
                continue
            cells = []
            for side, _ in SIDES:
                x, y = ms(a, side), ms(b, side)
                cells.append(f"{x / y:.2f}" if x and y else "-")
            out.append([n, mode] + cells)
    return table(["net", "mode", "dlc speedup", "PyTorch speedup", "ORT speedup"], out)


def batch_table(modes):
    out = []
    for mode, rows in modes.items():
        for r in ok(rows):
            out.append([mode, r["batch"]] + [fmt(ms(r, s) / r["batch"] if ms(r, s) else None, 4) for s, _ in SIDES]
                       + [fmt_range(r.get("paired_ratio"), 2) if "paired_ratio" in r else "-"])
    return table(["mode", "batch", "dlc ms/sample", "PyTorch ms/sample", "ORT ms/sample", "dlc/PyTorch"], out)


def layer_table(entry, n=12):
    rows = [[x["layer"], x["op"], fmt(x["forward_ms"]), fmt(x["backward_data_ms"]), fmt(x["backward_weights_ms"]),
             x.get("algorithms", "") or x.get("impl", "")] for x in top_layers(entry, n)]
    return table(["layer", "op", "forward ms", "backward-data ms", "backward-weights ms", "algorithm / impl"], rows)


def write(res, md_path, plot_dir):
    os.makedirs(plot_dir, exist_ok=True)
    rel = os.path.relpath(plot_dir, os.path.dirname(os.path.abspath(md_path)))
    threads = res["threads"]
    with_torch, with_ort = res.get("torch", False), res.get("ort", False)
    L = ["<!-- Generated by bench/benchmarks.py from results.json: do not edit, rerun it. -->",
         "# Benchmarks", "",
         "Regenerate this page (its plots and `" + rel + "/results.json`) with one command, on an otherwise "
         "idle machine:", "", "```sh", res["command"], "```", "",
         f"This run: {res['date']}, {res.get('elapsed_s', 0) / 60:.0f} minutes. How the figures are measured, "
         "and what each dlrun column means: [benchmarking.md](benchmarking.md); earlier targeted comparisons: "
         "[performance.md](performance.md).", "", "## Machine", ""] + machine_lines(res) + [""]
    suite = {m: rows for m, rows in res.get("suite", {}).items() if rows}
    if suite:
        if with_torch:
            L += ["## Summary", ""] + summary_lines(suite, threads) + ["",
                  f"![dlc time over PyTorch's and ONNX Runtime's]({rel}/{plot_ratios(suite, threads, plot_dir)})", ""]
        for mode, title in MODES:
            if mode in suite:
                L += [f"## {title}", "", "Every network of `models/` at its batch size. Times are medians over "
                      "rounds (min-max); ratios are the median of per-round ratios.", ""]
                L += suite_table(suite[mode], with_torch, with_ort and mode == "forward") + [""]
        if len(threads) > 1:
            L += ["## Thread scaling", "", f"Speedup from {threads[0]} to {threads[-1]} threads (median times of the "
                  "tables above).", "", f"![thread scaling]({rel}/{plot_threads(suite, threads, plot_dir)})", ""]
            L += thread_table(suite, threads) + [""]
    if res.get("sweep"):
        L += ["## Batch size", "", f"Time per sample against the batch size ({threads[-1]} threads), as in "
              "Bahrampour et al., Figs. 1-2.", ""]
        for name, modes in res["sweep"].items():
            L += [f"### {name}", "", f"![{name} batch sweep]({rel}/{plot_batch(name, modes, plot_dir)})", ""]
            L += batch_table(modes) + [""]
            errs = [r for rows in modes.values() for r in rows if "error" in r]
            L += [f"- batch {r.get('batch')}: {r['error'].splitlines()[0][:120]}" for r in errs]
    if res.get("layers"):
        L += ["## Per-layer breakdown", "", "The gradient entry's per-layer pass of `dlrun --bench` (the layers "
              "with the most time; fused layers appear as one).", ""]
        for e in res["layers"]:
            L += [f"### {e['name']} (batch {e['batch']}, {e['threads']} threads)", "",
                  f"Gradient run {e['gradient_ms']:.1f} ms (network median), sum of the layer medians "
                  f"{e['sum_layer_medians_ms']:.1f} ms.", "",
                  f"![{e['name']} per layer]({rel}/{plot_layers(e, plot_dir)})", ""] + layer_table(e) + [""]
    L += ["## Method", "",
          f"- Each part interleaves the sides (dlc, then PyTorch, then ONNX Runtime, the order rotating) over "
          f"{res['rounds']} rounds; per net the iterations are fitted so that one side's turn lasts about "
          f"{res['target_seconds']} s (at most {res['max_iterations']}), after a third as many warm-ups.",
          "- dlc: `dlc compile --random-weights` (with `--gradient --loss auto` for the gradient) and "
          "`dlrun --bench`, a process per turn; PyTorch 1.13 eager, `torch.set_num_threads`, "
          "`OMP_WAIT_POLICY=PASSIVE`, gradient of the sum of the outputs; ONNX Runtime: the torch module "
          "exported with `torch.onnx.export`, `bench/ort_bench.js` (forward only).",
          "- GFLOP/s = 2 x multiply-adds of convolutions and inner products / median time (the gradient "
          "counts 3x the forward's).", ""]
    if not with_torch:
        L += ["- This run measured dlc alone (`--no-torch`).", ""]
    if res.get("warnings"):
        L += ["## Warnings", ""] + [f"- {w}" for w in res["warnings"]] + [""]
    with open(md_path, "w") as f:
        f.write("\n".join(L))

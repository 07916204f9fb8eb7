#!/usr/bin/python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Training on Fashion-MNIST: dlc beside PyTorch, the same schedule, the same
initialization scheme and the same batch order (docs/training.md).

For each net: dlc trains it with `dlc compile --solver` + `dlrun --train
--epochs E`, reading LMDBs made by `dlc-data convert-mnist` from Debian's
dataset-fashion-mnist; PyTorch trains the same net from the same idx files,
in the same order (records in sequence, wrapping as Caffe's Data layer does),
with Caffe's update written out (SGD, momentum on the scaled gradient,
weight decay, lr_mult 2 for biases, the solver's lr_policy). Both start from
the same weights: Caffe's xavier filler drawn once per net and round
(--seed + round), written as a .caffemodel that dlrun loads with --weights
(caffe_pb2 generated with protoc from lib/Caffe/caffe.proto). dlc and torch
alternate per net (A B A B with --rounds 2).

Reported per net: test accuracy on the 10,000 test images after E epochs,
training time (the iterations, without the tests), prediction time (one pass
over the test images), and the loss and accuracy curves (PNG; both sides
test after every epoch, outside the training time).

Nets: the zoo's LeNet (mnist/lenet_train_test.prototxt, lenet_solver's
schedule) and Kovalev et al.'s fully connected series (models/fc-*.prototxt:
depth 1-4 x 100 and width 64-1024, ReLU and tanh), trained with LeNet's
solver and its input scale (1/256; Kovalev fed raw pixels).

  /usr/bin/python3 bench/train_fashion.py --nets lenet,fc-depth-1-relu --epochs 10 \\
      --threads 2 --out bench/results/train-fashion
"""
import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
FASHION = "/usr/share/datasets/fashion-mnist"

SOLVER = """net: "{net}"
test_iter: 100
test_interval: {test_interval}
test_initialization: false
base_lr: 0.01
momentum: 0.9
weight_decay: 0.0005
lr_policy: "inv"
gamma: 0.0001
power: 0.75
display: {display}
max_iter: 10000
snapshot: 0
snapshot_after_train: false
"""

DATA_LAYERS = """layer {{ name: "mnist" type: "Data" top: "data" top: "label"
  include {{ phase: TRAIN }} transform_param {{ scale: 0.00390625 }}
  data_param {{ source: "{train}" batch_size: 64 backend: LMDB }} }}
layer {{ name: "mnist" type: "Data" top: "data" top: "label"
  include {{ phase: TEST }} transform_param {{ scale: 0.00390625 }}
  data_param {{ source: "{test}" batch_size: 100 backend: LMDB }} }}
"""

LOSS_LAYERS = """layer {{ name: "accuracy" type: "Accuracy" bottom: "{top}" bottom: "label"
  top: "accuracy" include {{ phase: TEST }} }}
layer {{ name: "loss" type: "SoftmaxWithLoss" bottom: "{top}" bottom: "label" top: "loss" }}
"""


def tool(build, name):
    path = os.path.join(build, "bin", name)
    if not os.path.exists(path):
        sys.exit(f"train_fashion: {path} not found; build dlc first (scripts/build.sh)")
    return path


def prepare_data(args):
    """Converts Fashion-MNIST into LMDBs (once)."""
    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        db = os.path.join(args.work, f"fashion_{split}_lmdb")
        if not os.path.isdir(db):
            subprocess.run([tool(args.build, "dlc-data"), "convert-mnist",
                            f"{FASHION}/{prefix}-images-idx3-ubyte.gz",
                            f"{FASHION}/{prefix}-labels-idx1-ubyte.gz", db], check=True)
        out[split] = db
    return out


def fc_train_test(name, dbs):
    """models/<name>.prototxt (a deploy net: Input ... Softmax) as a
    train/test net reading the LMDBs."""
    lines = open(os.path.join(ROOT, "models", name + ".prototxt")).read()
    # The layers between the Input layer and the final Softmax.
    body = lines[lines.index("layer {", lines.index('type: "Input"')):]
    body = body[body.index("layer {"):]
    body = body[:body.rindex("layer {")]
    # The last InnerProduct's top feeds the loss.
    last_top = body[body.rindex('top: "') + 6:]
    last_top = last_top[:last_top.index('"')]
    return (f'name: "{name}"\n' + DATA_LAYERS.format(**dbs) + body +
            LOSS_LAYERS.format(top=last_top))


def lenet_train_test(dbs):
    text = open(os.path.join(ROOT, "..", "shared", "zoo", "mnist",
                             "lenet_train_test.prototxt")).read()
    return (text.replace("examples/mnist/mnist_train_lmdb", dbs["train"])
            .replace("examples/mnist/mnist_test_lmdb", dbs["test"]))


def iterations_for(epochs):
    return int(math.ceil(epochs * 60000 / 64))


def test_interval(iters):
    """The divisor of `iters` closest to a tenth of it: both sides test every
    test_interval iterations, the last test after the last iteration (Caffe
    tests at the end only when test_interval divides the iterations); the
    tests are not training time. 10 epochs (9375 iterations): every 625."""
    return min((d for d in range(1, iters + 1) if iters % d == 0),
               key=lambda d: abs(d - iters / 10))


# ---------------------------------------------------------------------------
# dlc
# ---------------------------------------------------------------------------

def run_dlc(args, name, dbs, tag, weights):
    d = os.path.join(args.work, name)
    os.makedirs(d, exist_ok=True)
    net = os.path.join(d, "train_test.prototxt")
    with open(net, "w") as f:
        f.write(lenet_train_test(dbs) if name == "lenet" else fc_train_test(name, dbs))
    iters = iterations_for(args.epochs)
    solver = os.path.join(d, "solver.prototxt")
    with open(solver, "w") as f:
        f.write(SOLVER.format(net=net, test_interval=test_interval(iters),
                              display=args.display))
    module = os.path.join(d, "train.dlcm")
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    # --tune: the convolution algorithms timed on this machine, at the
    # training's thread count (dlc compile --tune; not training time).
    tune = ["--tune", "--threads", str(args.threads)] if args.tune else []
    subprocess.run([tool(args.build, "dlc"), "compile", "--solver", solver, "-o", module] + tune,
                   check=True, env=env)
    log = os.path.join(d, f"log-{tag}.json")
    report = os.path.join(d, f"report-{tag}.json")
    subprocess.run([tool(args.build, "dlrun"), module, "--train", "--epochs", str(args.epochs),
                    "--threads", str(args.threads), "--log-json", log, "--json", report,
                    "--weights", weights, "--quiet"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    train = json.load(open(report))["train"]
    tests = [r for r in train["log"] if "test_net" in r]
    displays = [r for r in train["log"] if "test_net" not in r]
    test = tests[-1]
    return {
        "accuracy": test["outputs"]["accuracy"],
        "train_seconds": train["seconds"] - sum(t["seconds"] for t in tests),
        "predict_seconds": test["seconds"],
        "iterations": train["iterations"],
        "curve": [(r["iter"], r["iter_loss"]) for r in displays],
        "accuracy_curve": [(r["iter"], r["outputs"]["accuracy"]) for r in tests],
    }


# ---------------------------------------------------------------------------
# PyTorch, with Caffe's update and filler written out
# ---------------------------------------------------------------------------

def read_idx(path):
    import gzip
    import numpy as np
    data = gzip.open(path, "rb").read()
    magic = int.from_bytes(data[0:4], "big")
    n = int.from_bytes(data[4:8], "big")
    if magic == 2051:
        r, c = int.from_bytes(data[8:12], "big"), int.from_bytes(data[12:16], "big")
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, 1, r, c)
    return np.frombuffer(data, np.uint8, offset=8)


def torch_net(name):
    import torch.nn as nn
    if name == "lenet":
        return nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2), nn.Conv2d(20, 50, 5),
                             nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(800, 500), nn.ReLU(),
                             nn.Linear(500, 10))
    parts = name.split("-")  # fc-depth-2-relu, fc-width-512-tanh
    act = nn.ReLU if parts[3] == "relu" else nn.Tanh
    widths = [100] * int(parts[2]) if parts[1] == "depth" else [int(parts[2])]
    layers, fan_in = [nn.Flatten()], 784
    for w in widths:
        layers += [nn.Linear(fan_in, w), act()]
        fan_in = w
    layers.append(nn.Linear(fan_in, 10))
    return nn.Sequential(*layers)


def caffe_pb2(work):
    """caffe.proto's Python module (and those it imports), generated once
    with protoc."""
    out = os.path.join(work, "pb")
    if not os.path.exists(os.path.join(out, "caffe_pb2.py")):
        os.makedirs(out, exist_ok=True)
        protos = sorted(f for f in os.listdir(os.path.join(ROOT, "lib", "Caffe"))
                        if f.endswith(".proto"))
        subprocess.run(["protoc", f"--python_out={out}", "-I", os.path.join(ROOT, "lib", "Caffe"),
                        *protos], check=True)
    if out not in sys.path:
        sys.path.insert(0, out)
    import caffe_pb2 as pb
    return pb


def initial_weights(args, name, seed, path):
    """Caffe's xavier filler (U[-sqrt(3/fan_in), +sqrt(3/fan_in)]) for every
    weight, 0 for every bias, of the net's learned layers in order; written to
    `path` as a .caffemodel (layers named as in the prototxt) and returned as
    [(weight, bias)] numpy arrays for torch."""
    import re
    import numpy as np
    net = torch_net(name)
    text = (lenet_train_test({"train": "", "test": ""}) if name == "lenet"
            else open(os.path.join(ROOT, "models", name + ".prototxt")).read())
    names = [m.group(1) for m in re.finditer(
        r'name:\s*"([^"]+)"\s*type:\s*"(?:Convolution|InnerProduct)"', text)]
    shapes = [m.weight.shape for m in net.modules() if hasattr(m, "weight")]
    if len(names) != len(shapes):
        sys.exit(f"train_fashion: {name}: {len(names)} learned layers in the prototxt, "
                 f"{len(shapes)} in the torch net")
    rng = np.random.default_rng(seed)
    pb = caffe_pb2(args.work)
    model = pb.NetParameter()
    arrays = []
    for layer, shape in zip(names, shapes):
        fan_in = int(np.prod(shape[1:]))
        a = math.sqrt(3.0 / fan_in)
        w = rng.uniform(-a, a, size=tuple(shape)).astype(np.float32)
        b = np.zeros(shape[0], np.float32)
        arrays.append((w, b))
        lp = model.layer.add()
        lp.name = layer
        for arr in (w, b):
            blob = lp.blobs.add()
            blob.shape.dim.extend(arr.shape)
            blob.data.extend(arr.ravel().tolist())
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return arrays


def run_torch(args, name, tag, arrays):
    import numpy as np
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    images = torch.from_numpy(read_idx(f"{FASHION}/train-images-idx3-ubyte.gz").astype(np.float32)
                              * 0.00390625)
    labels = torch.from_numpy(read_idx(f"{FASHION}/train-labels-idx1-ubyte.gz").astype(np.int64))
    timages = torch.from_numpy(read_idx(f"{FASHION}/t10k-images-idx3-ubyte.gz").astype(np.float32)
                               * 0.00390625)
    tlabels = torch.from_numpy(read_idx(f"{FASHION}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    net = torch_net(name)
    learned = [m for m in net.modules() if hasattr(m, "weight")]
    with torch.no_grad():
        for m, (w, b) in zip(learned, arrays):
            m.weight.copy_(torch.from_numpy(w))
            m.bias.copy_(torch.from_numpy(b))
    params = [(p, 2.0 if p.dim() == 1 else 1.0) for p in net.parameters()]
    history = [torch.zeros_like(p) for p, _ in params]
    iters = iterations_for(args.epochs)
    curve, accuracy_curve = [], []
    test_seconds = 0.0
    interval = test_interval(iters)

    def test():
        correct = 0
        with torch.no_grad():
            for b in range(0, 10000, 100):
                correct += int((net(timages[b:b + 100]).argmax(1) == tlabels[b:b + 100]).sum())
        return correct / 10000

    start = time.perf_counter()
    for it in range(iters):
        idx = (torch.arange(64) + it * 64) % images.shape[0]  # Caffe's Data layer order
        loss = F.cross_entropy(net(images[idx]), labels[idx])
        net.zero_grad(set_to_none=False)
        loss.backward()
        rate = 0.01 * (1 + 0.0001 * it) ** -0.75  # lr_policy inv
        with torch.no_grad():
            for (p, lr_mult), h in zip(params, history):
                g = p.grad.add(p, alpha=0.0005)  # weight_decay, decay_mult 1
                h.mul_(0.9).add_(g, alpha=rate * lr_mult)
                p.sub_(h)
        if it % args.display == 0 or it == iters - 1:
            curve.append((it, float(loss)))
        if (it + 1) % interval == 0 and it + 1 < iters:  # as dlrun: every test_interval
            t0 = time.perf_counter()
            accuracy_curve.append((it + 1, test()))
            test_seconds += time.perf_counter() - t0
    train_seconds = time.perf_counter() - start - test_seconds
    start = time.perf_counter()
    accuracy = test()
    predict_seconds = time.perf_counter() - start
    accuracy_curve.append((iters, accuracy))
    return {"accuracy": accuracy, "train_seconds": train_seconds,
            "predict_seconds": predict_seconds, "iterations": iters, "curve": curve,
            "accuracy_curve": accuracy_curve}


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else 0.5 * (xs[len(xs) // 2 - 1] + xs[len(xs) // 2])


def plot(results, out):
    """<net>.png: training loss and test accuracy per epoch, dlc and PyTorch
    (first round); summary.png: training time per net, side by side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    for name, r in results.items():
        fig, (lax, aax) = plt.subplots(1, 2, figsize=(9, 3.2))
        for side, style, label in (("dlc", "-", "dlc"), ("torch", "--", "PyTorch")):
            run = r[side][0]
            c = run["curve"]
            lax.plot([p[0] for p in c], [p[1] for p in c], style, label=label, linewidth=1)
            a = run.get("accuracy_curve", [])
            aax.plot([p[0] * 64 / 60000 for p in a], [p[1] for p in a], style + "o", label=label,
                     linewidth=1, markersize=3)
        lax.set_xlabel("iteration")
        lax.set_ylabel("training loss (batch)")
        lax.set_yscale("log")
        lax.legend()
        aax.set_xlabel("epoch")
        aax.set_ylabel("test accuracy")
        aax.legend()
        fig.suptitle(f"{name}: test accuracy dlc {r['dlc'][0]['accuracy']:.4f}, "
                     f"PyTorch {r['torch'][0]['accuracy']:.4f}", fontsize=10)
        fig.tight_layout()
        fig.savefig(os.path.join(out, f"{name}.png"), dpi=90)
        plt.close(fig)
    names = list(results)
    fig, ax = plt.subplots(figsize=(10, 3.5))
    for k, (side, label) in enumerate((("dlc", "dlc"), ("torch", "PyTorch"))):
        ax.bar([i + 0.4 * k for i in range(len(names))],
               [median([x["train_seconds"] for x in results[n][side]]) for n in names], 0.4,
               label=label)
    ax.set_xticks([i + 0.2 for i in range(len(names))])
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("training time, s (10 epochs)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "summary.png"), dpi=90)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nets", default="lenet")
    ap.add_argument("--epochs", type=float, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="dlc, torch, dlc, torch, ...")
    ap.add_argument("--display", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tune", action="store_true",
                    help="compile with dlc compile --tune (convolution algorithms timed)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--work", default="/tmp/dlc-train-fashion")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "train-fashion"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    dbs = prepare_data(args)
    results = {}
    for name in args.nets.split(","):
        results[name] = {"dlc": [], "torch": []}
        for rnd in range(args.rounds):
            weights = os.path.join(args.work, f"{name}-init-r{rnd}.caffemodel")
            arrays = initial_weights(args, name, args.seed + rnd, weights)
            results[name]["dlc"].append(run_dlc(args, name, dbs, f"r{rnd}", weights))
            results[name]["torch"].append(run_torch(args, name, f"r{rnd}", arrays))
            d, t = results[name]["dlc"][-1], results[name]["torch"][-1]
            print(f"{name} round {rnd}: dlc {d['accuracy']:.4f} {d['train_seconds']:.1f} s "
                  f"(predict {d['predict_seconds']:.3f} s) | torch {t['accuracy']:.4f} "
                  f"{t['train_seconds']:.1f} s (predict {t['predict_seconds']:.3f} s)",
                  flush=True)
    rows = ["| net | dlc accuracy | PyTorch accuracy | dlc train s | PyTorch train s | "
            "ratio | dlc predict s | PyTorch predict s |", "|---" * 8 + "|"]
    for name, r in results.items():
        med = {side: {k: median([x[k] for x in r[side]]) for k in
                      ("accuracy", "train_seconds", "predict_seconds")} for side in r}
        ratio = median([d["train_seconds"] / t["train_seconds"]
                        for d, t in zip(r["dlc"], r["torch"])])
        rows.append(f"| {name} | {med['dlc']['accuracy']:.4f} | {med['torch']['accuracy']:.4f} | "
                    f"{med['dlc']['train_seconds']:.1f} | {med['torch']['train_seconds']:.1f} | "
                    f"{ratio:.2f} | {med['dlc']['predict_seconds']:.3f} | "
                    f"{med['torch']['predict_seconds']:.3f} |")
    table = "\n".join(rows)
    print(table)
    machine = {"cpu": platform.processor() or platform.machine(), "threads": args.threads,
               "epochs": args.epochs, "rounds": args.rounds}
    json.dump({"machine": machine, "results": results}, open(os.path.join(args.out,
                                                                          "results.json"), "w"),
              indent=1)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(table + "\n")
    plot(results, args.out)


if __name__ == "__main__":
    main()

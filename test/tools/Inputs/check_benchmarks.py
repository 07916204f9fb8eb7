# Checks bench/benchmarks.py's output folder (test/tools/benchmarks-doc.test):
# the plots are PNG files and results.json has every part, consistent.
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
import json
import os
import sys

d = sys.argv[1]
pngs = sorted(f for f in os.listdir(d) if f.endswith(".png"))
for f in pngs:
    with open(os.path.join(d, f), "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n", f
    assert os.path.getsize(os.path.join(d, f)) > 2000, f
print("png", " ".join(pngs))

res = json.load(open(os.path.join(d, "results.json")))
for k in ("command", "date", "threads", "dlrun_machine", "producer", "rates", "suite", "sweep", "layers"):
    assert k in res, k
assert res["torch"] is False and res["threads"] == [1, 2]
s = res["suite"]
for mode in ("forward", "grad"):
    for r in s[mode]:
        assert "error" not in r, r
        m = r["dlc_ms"]
        assert len(m["rounds"]) == 2 and m["min"] <= m["median"] <= m["max"], m
        assert r["batch"] == 64 and r["mode"] == mode
print("suite forward %d rows, grad %d rows; sweep lenet forward %s grad %s" % (
    len(s["forward"]), len(s["grad"]), [r["batch"] for r in res["sweep"]["lenet"]["forward"]],
    [r["batch"] for r in res["sweep"]["lenet"]["grad"]]))
e = res["layers"][0]
names = [x["layer"] for x in e["layers"]]
print("layers", e["name"], " ".join(n for n in names if n.startswith(("conv", "ip"))))
conv1 = e["layers"][names.index("conv1")]
assert conv1["forward_ms"] > 0 and conv1["backward_weights_ms"] > 0
total = e["sum_layer_medians_ms"]
assert abs(total - sum(x["forward_ms"] + x["backward_data_ms"] + x["backward_weights_ms"] for x in e["layers"])) < 1e-9
assert e["memory"]["workspace_bytes"] > 0
print("gradient run = layers + %.0f%%" % (100 * (e["gradient_ms"] - total) / e["gradient_ms"]))

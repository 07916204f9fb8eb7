# Checks a dlrun --bench --json report and its --csv twin
# (test/Runtime/dlrun-bench-report.test): the schema, the relations between
# the figures, and that both files carry the same numbers.
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
import csv
import json
import sys

report = json.load(open(sys.argv[1]))
b = report["bench"]
STATS = ["median_ms", "p90_ms", "p99_ms", "min_ms", "max_ms", "mean_ms", "stddev_ms", "cv", "count"]

for key in ("module", "producer", "machine"):
    assert key in report, key
for key in ("cpu", "cpus_online", "isa", "onednn", "omp_threads", "load_average"):
    assert key in report["machine"], key
assert report["producer"].startswith("dlc ") or report["producer"] == "dlc-make-test-module", report["producer"]

for entry in ("total", "gradient"):
    s = b[entry]
    for k in STATS:
        assert k in s, (entry, k)
    assert s["min_ms"] <= s["median_ms"] <= s["p90_ms"] <= s["p99_ms"] <= s["max_ms"], s
    assert abs(s["cv"] - s["stddev_ms"] / s["mean_ms"]) < 1e-9, s
    assert s["count"] == s["iterations"], s
assert b["min_time_s"] == 0.05 and b["warmup_time_s"] == 0.02 and b["cv_warn"] == 0
print("runs: forward %d > 2, gradient %d > 2" % (b["total"]["count"], b["gradient"]["count"]))
assert b["total"]["count"] > 2 and b["gradient"]["count"] > 2

L = {l["layer"]: l for l in b["layers"]}
for l in b["layers"]:
    for role in ("forward", "backward_data", "backward_weights"):
        r = l[role]
        if r is None:
            continue
        for k in STATS + ["multiply_adds", "gflops", "bytes", "gbs"]:
            assert k in r, (l["layer"], role, k)
        if r["multiply_adds"] > 0:
            assert abs(r["gflops"] - 2 * r["multiply_adds"] / (r["median_ms"] * 1e6)) < 1e-6 * r["gflops"]
        assert r["bytes"] > 0
conv = L["conv1"]
assert conv["forward"]["multiply_adds"] > 0
assert conv["backward_weights"]["multiply_adds"] == conv["forward"]["multiply_adds"]
print("conv1 forward multiply-adds %d, backward-weights %d"
      % (conv["forward"]["multiply_adds"], conv["backward_weights"]["multiply_adds"]))
ip = L["ip"]
assert ip["forward"]["multiply_adds"] == ip["backward_data"]["multiply_adds"] == ip["backward_weights"]["multiply_adds"] > 0
print("ip forward = backward-data = backward-weights multiply-adds")
assert L["relu1"]["forward"]["multiply_adds"] == 0

# Memory: the kernels' workspaces add up, by kernel and by layer and role;
# "other" is the rest of the peak RSS.
m = b["memory"]
ws = [w["bytes"] for w in m["workspaces"]]
assert m["workspace_bytes"] == sum(ws) > 0, m
assert ws == sorted(ws, reverse=True) and min(ws) > 0, ws
by_role = sum(l[role]["workspace_bytes"] for l in b["layers"]
              for role in ("forward", "backward_data", "backward_weights") if l[role])
assert by_role == m["workspace_bytes"], (by_role, m["workspace_bytes"])
assert all(l["workspace_bytes"] == sum(l[r]["workspace_bytes"] for r in ("forward", "backward_data", "backward_weights") if l[r])
           for l in b["layers"])
known = sum(m[k] for k in ("params_bytes", "arena_bytes", "unplanned_bytes", "scratch_bytes", "workspace_bytes"))
assert m["other_bytes"] == max(0, m["peak_rss_bytes"] - known), m
print("memory: %d kernels keep workspace, totals agree" % len(ws))

rows = list(csv.DictReader(line for line in open(sys.argv[2]) if not line.startswith("#")))
net = [r for r in rows if r["kind"] == "network"]
lay = [r for r in rows if r["kind"] == "layer"]
assert [r["entry"] for r in net] == ["forward", "gradient"], net
assert abs(float(net[0]["median_ms"]) - b["total"]["median_ms"]) < 1e-9
assert abs(float(net[1]["median_ms"]) - b["gradient"]["median_ms"]) < 1e-9
expected = sum(1 for l in b["layers"] for role in ("forward", "backward_data", "backward_weights") if l[role])
assert len(lay) == expected, (len(lay), expected)
for r in lay:
    j = L[r["layer"]][r["role"]]
    assert abs(float(r["median_ms"]) - j["median_ms"]) < 1e-9, r
    assert float(r["multiply_adds"]) == j["multiply_adds"], r
    assert int(r["workspace_bytes"]) == j["workspace_bytes"], r
header = [line for line in open(sys.argv[2]) if line.startswith("#")]
assert any(line.startswith("# machine.isa: ") for line in header), header
print("csv rows %d network + %d layer, medians equal" % (len(net), len(lay)))
print("report ok")

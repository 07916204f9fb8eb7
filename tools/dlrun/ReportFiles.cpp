//===- ReportFiles.cpp - dlrun's machine description, CSV and --compare ---===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "BenchReport.h"

#include "dlc/Tuning/Tuner.h"
#include "dlc/Support/AtomicFile.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <omp.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace dlrun {
namespace {

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos)
        return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

/// The report's benches: {label suffix, threads, bench} for a plain report
/// or each run of a thread sweep.
struct Bench {
  std::string tag;
  json threads, bench;
};
std::vector<Bench> benchesOf(const json &report) {
  std::vector<Bench> out;
  if (report.contains("runs")) {
    for (const json &r : report["runs"])
      if (r.contains("bench"))
        out.push_back({"@t" + r.value("threads", json(0)).dump(), r["threads"], r["bench"]});
  } else if (report.contains("bench")) {
    out.push_back({"", report.value("threads", json(0)), report["bench"]});
  }
  return out;
}

std::string csvField(const json &v) {
  if (v.is_null())
    return "";
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.find_first_of(",\"\n") == std::string::npos)
    return s;
  std::string q = "\"";
  for (char c : s)
    q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

const char *const kStatFields[] = {"median_ms", "p90_ms",    "p99_ms", "min_ms", "max_ms",
                                   "mean_ms",   "stddev_ms", "cv",     "count"};

/// The sum of a layer's role medians (forward-only reports: its stats).
double layerTime(const json &l) {
  double sum = 0;
  bool any = false;
  for (const char *role : {"forward", "backward_data", "backward_weights"})
    if (l.contains(role) && l[role].is_object()) {
      sum += l[role].value("median_ms", 0.0);
      any = true;
    }
  if (!any && l.contains("stats"))
    sum = l["stats"].value("median_ms", 0.0);
  return sum;
}

json readReport(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error(path + ": error: cannot open: " + std::strerror(errno));
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw std::runtime_error(path + ": error: not a dlrun JSON report");
  if (benchesOf(j).empty())
    throw std::runtime_error(path + ": error: the report has no timing (run dlrun with --bench "
                             "--json)");
  return j;
}

std::string baseName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

json machineJson() {
  struct utsname u;
  std::string kernel = uname(&u) == 0 ? std::string(u.sysname) + " " + u.release : "unknown";
  cpu_set_t set;
  int affinity = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
  return {{"cpu", cpuModel()},
          {"cpus_online", sysconf(_SC_NPROCESSORS_ONLN)},
          {"cpus_usable", affinity},
          {"isa", dlc::tuning::isaName()},
          {"onednn", dlc::tuning::onednnVersion()},
          {"omp_threads", omp_get_max_threads()},
          {"omp_wait_policy", getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : ""},
          {"kernel", kernel},
          {"load_average", loadAverage()}};
}

void writeCsv(const std::string &path, const json &report) {
  std::ostringstream out;
  out << "# dlrun report (docs/benchmarking.md): one row per network entry and per layer and "
         "role\n";
  for (const char *k : {"module", "name", "producer", "compile_command", "impl", "entry", "seed"})
    if (report.contains(k))
      out << "# " << k << ": " << csvField(report[k]) << "\n";
  if (report.contains("machine"))
    for (auto &[k, v] : report["machine"].items())
      out << "# machine." << k << ": " << csvField(v) << "\n";
  out << "threads,kind,entry,layer,op,role,impl,algorithms";
  for (const char *f : kStatFields)
    out << "," << f;
  out << ",multiply_adds,gflops,bytes,gbs,roofline_bound,roofline_fraction,workspace_bytes\n";
  auto row = [&](const json &threads, const char *kind, const std::string &entry,
                 const json &layer, const std::string &role, const json &s) {
    out << csvField(threads) << "," << kind << "," << entry << ","
        << csvField(layer.value("layer", json())) << "," << csvField(layer.value("op", json()))
        << "," << role << "," << csvField(layer.value("impl", json())) << ","
        << csvField(layer.value("algorithms", json()));
    for (const char *f : kStatFields)
      out << "," << csvField(s.value(f, json()));
    const json roof = s.value("roofline", json::object());
    out << "," << csvField(s.value("multiply_adds", json())) << ","
        << csvField(s.value("gflops", json())) << "," << csvField(s.value("bytes", json()))
        << "," << csvField(s.value("gbs", json())) << "," << csvField(roof.value("bound", json()))
        << "," << csvField(roof.value("fraction", json())) << ","
        << csvField(s.value("workspace_bytes", json())) << "\n";
  };
  for (const Bench &b : benchesOf(report)) {
    const json &j = b.bench;
    if (j.contains("total"))
      row(b.threads, "network", "forward", json::object(), "", j["total"]);
    if (j.contains("gradient"))
      row(b.threads, "network", "gradient", json::object(), "", j["gradient"]);
    const std::string entry = j.contains("gradient") ? "gradient" : "forward";
    for (const json &l : j.value("layers", json::array()))
      for (const char *role : {"forward", "backward_data", "backward_weights"})
        if (l.contains(role) && l[role].is_object())
          row(b.threads, "layer", entry, l, role, l[role]);
  }
  if (dlc::Status s = dlc::writeFileAtomically(path, out.str()); s.failed())
    throw std::runtime_error(s.message());
}

int compareReports(const std::vector<std::string> &paths) {
  struct Column {
    std::string label;
    json bench;
  };
  std::vector<Column> cols;
  for (const std::string &p : paths) {
    json r = readReport(p);
    for (const Bench &b : benchesOf(r))
      cols.push_back({baseName(p) + b.tag, b.bench});
  }
  size_t wl = 20;
  for (const Column &c : cols)
    wl = std::max(wl, c.label.size());
  auto header = [&](const char *first, int w) {
    std::printf("  %-*s", w, first);
    for (size_t i = 0; i < cols.size(); ++i) {
      std::printf("  %*s", int(wl), cols[i].label.c_str());
      if (i > 0)
        std::printf("  %8s", "ratio");
    }
    std::printf("\n");
  };
  auto cells = [&](const std::vector<double> &v) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::isnan(v[i]))
        std::printf("  %*s", int(wl), "-");
      else
        std::printf("  %*.4f", int(wl), v[i]);
      if (i > 0) {
        if (std::isnan(v[i]) || std::isnan(v[0]) || v[0] <= 0)
          std::printf("  %8s", "-");
        else
          std::printf("  %8.3f", v[i] / v[0]);
      }
    }
    std::printf("\n");
  };
  std::printf("Comparison of %zu timings (ms, medians; ratio = column / first column, below 1 is "
              "faster):\n",
              cols.size());
  header("network", 24);
  for (auto [key, name] : {std::pair<const char *, const char *>{"total", "forward"},
                           {"gradient", "gradient"}}) {
    std::vector<double> v;
    bool any = false;
    for (const Column &c : cols) {
      bool has = c.bench.contains(key);
      any = any || has;
      v.push_back(has ? c.bench[key].value("median_ms", NAN) : NAN);
    }
    if (any) {
      std::printf("  %-24s", name);
      cells(v);
    }
  }
  // Layers in the first column's order, then those only the others have.
  std::vector<std::string> order;
  std::vector<std::map<std::string, json>> byName(cols.size());
  for (size_t i = 0; i < cols.size(); ++i)
    for (const json &l : cols[i].bench.value("layers", json::array())) {
      const std::string name = l.value("layer", "");
      if (!byName[i].count(name) &&
          std::find(order.begin(), order.end(), name) == order.end())
        order.push_back(name);
      byName[i][name] = l;
    }
  if (order.empty())
    return 0;
  size_t wn = 5;
  for (const std::string &n : order)
    wn = std::max(wn, n.size());
  std::printf("Per layer (forward + backward medians, ms):\n");
  header("layer", int(wn));
  for (const std::string &n : order) {
    std::vector<double> v;
    for (size_t i = 0; i < cols.size(); ++i) {
      auto it = byName[i].find(n);
      v.push_back(it == byName[i].end() ? NAN : layerTime(it->second));
    }
    std::printf("  %-*s", int(wn), n.c_str());
    cells(v);
  }
  return 0;
}

void printScaling(const std::vector<json> &runs) {
  std::printf("Thread scaling (network medians; speedup over %s thread%s, efficiency = speedup "
              "/ thread ratio):\n",
              runs.front()["threads"].dump().c_str(),
              runs.front()["threads"].get<int>() == 1 ? "" : "s");
  std::printf("  %-10s  %8s  %12s  %8s  %10s\n", "entry", "threads", "median ms", "speedup",
              "efficiency");
  for (auto [key, name] : {std::pair<const char *, const char *>{"total", "forward"},
                           {"gradient", "gradient"}}) {
    const json &first = runs.front()["bench"];
    if (!first.contains(key))
      continue;
    const double t0 = first[key].value("median_ms", 0.0);
    const double n0 = runs.front()["threads"].get<double>();
    for (const json &r : runs) {
      const double t = r["bench"][key].value("median_ms", 0.0);
      const double n = r["threads"].get<double>();
      const double speedup = t > 0 ? t0 / t : 0;
      std::printf("  %-10s  %8.0f  %12.4f  %8.3f  %9.0f%%\n", name, n, t, speedup,
                  100.0 * speedup / (n / n0));
    }
  }
}

} // namespace dlrun

//===- Train.cpp - dlrun --train ------------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Train.h"

#include "dlc/Runtime/Training.h"
#include "dlc/Support/AtomicFile.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>

using namespace dlc::rt;
using json = nlohmann::json;

namespace dlrun {

namespace {

std::atomic<bool> interrupted{false};

extern "C" void onInterrupt(int) { interrupted = true; }

/// Restores the previous SIGINT handler when it goes out of scope.
struct InterruptGuard {
  void (*previous)(int);
  InterruptGuard() : previous(std::signal(SIGINT, onInterrupt)) { interrupted = false; }
  ~InterruptGuard() { std::signal(SIGINT, previous); }
};

/// The snapshot prefix: --snapshot-prefix, the solver's, or the module's
/// path without ".dlcm". Its directory must exist (Caffe's
/// CheckSnapshotWritePermissions, before any time is spent training).
std::string snapshotPrefix(const TrainSettings &settings, const dlc::module::Solver &solver) {
  std::string prefix = settings.snapshotPrefix;
  if (prefix.empty())
    prefix = solver.snapshot_prefix();
  if (prefix.empty()) {
    prefix = settings.module;
    if (prefix.size() > 5 && prefix.compare(prefix.size() - 5, 5, ".dlcm") == 0)
      prefix.resize(prefix.size() - 5);
  }
  namespace fs = std::filesystem;
  fs::path dir = fs::path(prefix).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::is_directory(dir, ec))
    throw Error("cannot write snapshots with prefix '" + prefix + "': directory '" +
                dir.string() + "' does not exist (set it with --snapshot-prefix)");
  return prefix;
}

} // namespace

json train(Executor &ex, const TrainSettings &settings) {
  Trainer trainer(ex);
  const dlc::module::Solver &solver = trainer.solver();
  int64_t maxIter = settings.iterations ? *settings.iterations : solver.max_iter();
  if (maxIter < 0)
    throw Error("--iterations must be >= 0");
  bool snapshots = solver.snapshot() > 0 || solver.snapshot_after_train();
  std::string prefix = snapshots ? snapshotPrefix(settings, solver) : "";
  if (!settings.weights.empty()) {
    int n = loadCaffeModel(ex, settings.weights);
    if (!settings.quiet)
      std::printf("Fine-tuning from %s (%d blobs)\n", settings.weights.c_str(), n);
  }
  if (!settings.resume.empty()) {
    restoreSnapshot(trainer, settings.resume);
    if (!settings.quiet)
      std::printf("Resuming from %s at iteration %lld\n", settings.resume.c_str(),
                  static_cast<long long>(trainer.iter()));
  }
  json snapshotList = json::array();
  auto snapshot = [&] {
    SnapshotFiles files = writeSnapshot(trainer, prefix);
    if (!settings.quiet)
      std::printf("Snapshotting to %s and %s\n", files.caffemodel.c_str(),
                  files.solverstate.c_str());
    snapshotList.push_back({{"iter", trainer.iter()},
                            {"caffemodel", files.caffemodel},
                            {"solverstate", files.solverstate}});
  };
  int64_t display = solver.display();
  json log = json::array();
  InterruptGuard guard;
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now(), lastDisplay = start;
  int64_t lastDisplayIter = trainer.iter();
  StepResult last;
  if (!settings.quiet)
    std::printf("Training for %lld iterations (solver %s, iter_size %lld)\n",
                static_cast<long long>(maxIter),
                dlc::module::Solver::Type_Name(solver.type()).c_str(),
                static_cast<long long>(solver.iter_size()));
  while (trainer.iter() < maxIter && !interrupted) {
    last = trainer.step();
    int64_t done = trainer.iter();
    // Solver::Step: a snapshot every `snapshot` iterations, after the update
    // and the display.
    bool snapshotNow = solver.snapshot() > 0 && done % solver.snapshot() == 0;
    // Caffe displays at iterations 0, display, 2 display, ... (before the
    // update of that iteration counts); and the last one.
    bool show = (display > 0 && last.iter % display == 0) || done == maxIter;
    if (!show) {
      if (snapshotNow)
        snapshot();
      continue;
    }
    auto now = Clock::now();
    double seconds = std::chrono::duration<double>(now - start).count();
    double window = std::chrono::duration<double>(now - lastDisplay).count();
    double rate = window > 0 ? double(done - lastDisplayIter) / window : 0;
    lastDisplay = now;
    lastDisplayIter = done;
    if (!settings.quiet) {
      std::printf("Iteration %lld (%.2f iter/s), loss = %.6g\n",
                  static_cast<long long>(last.iter), rate, last.smoothedLoss);
      for (size_t i = 0; i < last.outputs.size(); ++i)
        std::printf("    Train net output #%zu: %s = %.6g\n", i, last.outputs[i].first.c_str(),
                    last.outputs[i].second);
      std::printf("Iteration %lld, lr = %.6g\n", static_cast<long long>(last.iter), last.rate);
      std::fflush(stdout);
    }
    json record = {{"iter", last.iter},         {"loss", last.smoothedLoss},
                   {"iter_loss", last.loss},    {"lr", last.rate},
                   {"seconds", seconds},        {"iter_per_s", rate}};
    for (auto &[name, value] : last.outputs)
      record["outputs"][name] = value;
    log.push_back(record);
    if (snapshotNow)
      snapshot();
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (interrupted && !settings.quiet)
    std::printf("Interrupted at iteration %lld\n", static_cast<long long>(trainer.iter()));
  // Solver::Solve: the final snapshot, unless the schedule just wrote it;
  // an interrupted run always keeps its state.
  bool justWritten = solver.snapshot() > 0 && trainer.iter() % solver.snapshot() == 0 &&
                     !snapshotList.empty();
  if ((solver.snapshot_after_train() || interrupted) && !justWritten) {
    if (prefix.empty())
      prefix = snapshotPrefix(settings, solver);
    snapshot();
  }
  if (!settings.quiet)
    std::printf("Optimization done: %lld iterations in %.3f s (%.2f iter/s), last loss = %.6g\n",
                static_cast<long long>(trainer.iter()), seconds,
                seconds > 0 ? double(trainer.iter()) / seconds : 0.0, last.smoothedLoss);
  json result = {{"iterations", trainer.iter()},
                 {"seconds", seconds},
                 {"loss", last.smoothedLoss},
                 {"interrupted", bool(interrupted)},
                 {"snapshots", snapshotList},
                 {"log", log}};
  if (!settings.logJson.empty())
    if (dlc::Status st = dlc::writeFileAtomically(settings.logJson, log.dump(1) + "\n");
        st.failed())
      throw Error(st.message());
  return result;
}

} // namespace dlrun

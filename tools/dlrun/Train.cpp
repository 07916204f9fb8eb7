//===- Train.cpp - dlrun --train ------------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Train.h"

#include "Distributed.h"

#include "dlc/Runtime/DataFeed.h"
#include "dlc/Runtime/Training.h"
#include "dlc/Support/AtomicFile.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <unistd.h>

using namespace dlc::rt;
using json = nlohmann::json;

namespace dlrun {

namespace {

std::atomic<bool> interrupted{false};

extern "C" void onInterrupt(int) { interrupted = true; }

/// A one-line progress bar on a terminal (stderr): iterations, iter/s, the
/// last loss and the time left; erased before any other line is printed.
class ProgressBar {
public:
  ProgressBar(bool enabled, int64_t total) : enabled_(enabled), total_(total) {}
  void update(int64_t done, double itPerS, double loss) {
    auto now = std::chrono::steady_clock::now();
    if (!enabled_ || (shown_ && now - last_ < std::chrono::milliseconds(200) && done < total_))
      return;
    last_ = now;
    shown_ = true;
    constexpr int kWidth = 30;
    int filled = total_ > 0 ? int(kWidth * double(done) / double(total_)) : 0;
    double eta = itPerS > 0 ? double(total_ - done) / itPerS : 0;
    std::fprintf(stderr, "\r[%-*s] %lld/%lld %.1f it/s loss %.4g ETA %dm%02ds ", kWidth,
                 std::string(size_t(filled), '=').c_str(), static_cast<long long>(done),
                 static_cast<long long>(total_), itPerS, loss, int(eta) / 60, int(eta) % 60);
    std::fflush(stderr);
  }
  void clear() {
    if (enabled_ && shown_) {
      std::fprintf(stderr, "\r%*s\r", 100, "");
      std::fflush(stderr);
      shown_ = false;
    }
  }
  ~ProgressBar() { clear(); }

private:
  bool enabled_;
  int64_t total_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_;
};

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

void addTrainOptions(CLI::App &app, bool &train, TrainSettings &s) {
  app.add_flag("--train", train,
               "train a module compiled with dlc compile --solver (docs/training.md); then "
               "--iterations is the number of iterations (default: the solver's max_iter)");
  app.add_option("--log-json", s.logJson,
                 "with --train: one JSON record per displayed iteration and per test");
  app.add_option("--epochs", s.epochs,
                 "with --train: passes over the training data, instead of the solver's "
                 "max_iter")
      ->check(CLI::PositiveNumber);
  app.add_flag("!--no-data-layers", s.dataLayers,
               "with --train: do not read the nets' data layers; feed --input files or random "
               "data (one fixed batch)");
  app.add_option("--resume", s.resume,
                 "with --train: continue from a .solverstate (and its .caffemodel)");
  app.add_option("--weights", s.weights,
                 "with --train: start from the weights of a .caffemodel (fine-tuning)");
  app.add_option("--snapshot-prefix", s.snapshotPrefix,
                 "with --train: instead of the solver's snapshot_prefix");
}

std::string checkTrainOptions(const CLI::App &app, bool train, bool otherWork, int iterations,
                              bool quiet, const std::string &module, TrainSettings &s) {
  if (!train) {
    for (const char *o : {"--log-json", "--epochs", "--no-data-layers", "--resume", "--weights",
                          "--snapshot-prefix"})
      if (app.count(o))
        return std::string(o) + " needs --train";
    return "";
  }
  if (otherWork)
    return "--train runs alone (no --bench, --check or thread sweep)";
  if (app.count("--iterations") && app.count("--epochs"))
    return "give --iterations or --epochs, not both";
  if (app.count("--iterations"))
    s.iterations = iterations;
  s.quiet = quiet;
  s.module = module;
  return "";
}

json train(Executor &ex, const TrainSettings &settings) {
  Trainer trainer(ex);
  const dlc::module::Solver &solver = trainer.solver();
  // Data-parallel: this rank's share of the data, gradients averaged over
  // the ranks (GradientSync); rank 0 tests and snapshots.
  Communicator *comm = settings.comm;
  const bool root = !comm || comm->rank() == 0;
  const int ranks = comm ? comm->size() : 1;
  std::unique_ptr<GradientSync> sync;
  if (comm) {
    sync = std::make_unique<GradientSync>(ex, *comm, trainer.gradTensors(), settings.sync);
    trainer.setReducer(sync.get());
  }
  std::unique_ptr<DataFeed> feed;
  if (settings.dataLayers)
    feed = std::make_unique<DataFeed>(ex, comm ? comm->rank() : 0, ranks);
  DataFeed *data = feed && !feed->empty() ? feed.get() : nullptr;
  int64_t maxIter = settings.iterations ? *settings.iterations : solver.max_iter();
  if (settings.epochs) {
    if (!data || data->epochRecords() == 0)
      throw Error("--epochs needs a data layer that reads a dataset (Data, HDF5Data, ImageData)");
    double perIter = double(data->batchSize() * solver.iter_size() * ranks);
    maxIter = int64_t(std::ceil(*settings.epochs * double(data->epochRecords()) / perIter));
  }
  if (maxIter < 0)
    throw Error("--iterations must be >= 0");
  bool snapshots = solver.snapshot() > 0 || solver.snapshot_after_train();
  std::string prefix = snapshots ? snapshotPrefix(settings, solver) : "";
  if (!settings.weights.empty()) {
    int n = loadCaffeModel(ex, settings.weights);
    if (!settings.quiet)
      std::printf("Fine-tuning from %s (%d blobs)\n", settings.weights.c_str(), n);
  }

  json log = json::array();
  std::vector<std::unique_ptr<Tester>> testers;
  for (int i = 0; root && i < ex.module().header.test_nets_size(); ++i)
    testers.push_back(std::make_unique<Tester>(ex, i, settings.dataLayers));
  json tests = json::array();
  // Solver::TestAll: every test net, Caffe's lines, one log record each.
  auto testAll = [&] {
    for (size_t i = 0; i < testers.size(); ++i) {
      TestResult r = testers[i]->run();
      if (!settings.quiet) {
        std::printf("Iteration %lld, Testing net (#%zu)\n",
                    static_cast<long long>(trainer.iter()), i);
        for (size_t o = 0; o < r.outputs.size(); ++o)
          std::printf("    Test net output #%zu: %s = %.6g\n", o, r.outputs[o].first.c_str(),
                      r.outputs[o].second);
        std::fflush(stdout);
      }
      json record = {{"iter", trainer.iter()}, {"test_net", i}, {"seconds", r.seconds}};
      for (auto &[name, value] : r.outputs)
        record["outputs"][name] = value;
      tests.push_back(record);
      log.push_back(record);
    }
  };
  const int64_t testInterval = solver.test_interval();
  if (!settings.resume.empty()) {
    restoreSnapshot(trainer, settings.resume);
    // The data the uninterrupted run would have read before this iteration:
    // iter x iter_size training batches, and the tests before it.
    int64_t iter = trainer.iter();
    if (data)
      data->skip(iter * solver.iter_size());
    if (testInterval > 0) {
      int64_t tests = (iter + testInterval - 1) / testInterval;
      if (!solver.test_initialization() && iter > 0)
        --tests;
      for (auto &t : testers)
        t->skipTests(tests);
    }
    if (!settings.quiet)
      std::printf("Resuming from %s at iteration %lld\n", settings.resume.c_str(),
                  static_cast<long long>(iter));
  }
  // Every rank starts from rank 0's params and history.
  if (comm) {
    broadcastParams(ex, *comm);
    for (int slot = 0; slot < trainer.update().historySlots(); ++slot)
      for (int p = 0; p < trainer.update().numParams(); ++p) {
        std::vector<float> &h = trainer.update().history(slot, p);
        comm->broadcast(h.data(), int64_t(h.size()), 0);
      }
  }
  json snapshotList = json::array();
  auto snapshot = [&] {
    if (!root)
      return;
    SnapshotFiles files = writeSnapshot(trainer, prefix);
    if (!settings.quiet)
      std::printf("Snapshotting to %s and %s\n", files.caffemodel.c_str(),
                  files.solverstate.c_str());
    snapshotList.push_back({{"iter", trainer.iter()},
                            {"caffemodel", files.caffemodel},
                            {"solverstate", files.solverstate}});
  };
  int64_t display = solver.display();
  // Distributed, every rank must stop at the same iteration: Ctrl-C is
  // mpirun's (it stops every rank; the periodic snapshots remain).
  std::optional<InterruptGuard> guard;
  if (!comm)
    guard.emplace();
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now(), lastDisplay = start;
  int64_t lastDisplayIter = trainer.iter();
  StepResult last;
  double updateSeconds = 0; ///< Σ StepResult::updateSeconds of this run
  double allreduceSeconds = 0, exposedSeconds = 0; ///< Σ SyncStats of this run
  int64_t steps = 0;        ///< iterations this run made
  if (!settings.quiet && data)
    std::printf("Data: %lld records, batch %lld (%s)\n",
                static_cast<long long>(data->epochRecords()),
                static_cast<long long>(data->batchSize()), [&] {
                  std::string names;
                  for (const std::string &n : data->inputNames())
                    names += (names.empty() ? "" : ", ") + n;
                  return names;
                }().c_str());
  if (!settings.quiet)
    std::printf("Training for %lld iterations (solver %s, update %s, iter_size %lld)\n",
                static_cast<long long>(maxIter),
                dlc::module::Solver::Type_Name(solver.type()).c_str(),
                trainer.updateImplementation().c_str(), static_cast<long long>(solver.iter_size()));
  ProgressBar bar(!settings.quiet && isatty(STDERR_FILENO) && isatty(STDOUT_FILENO), maxIter);
  auto barStart = Clock::now();
  int64_t barFrom = trainer.iter();
  while (trainer.iter() < maxIter && !interrupted) {
    if (testInterval > 0 && trainer.iter() % testInterval == 0 &&
        (trainer.iter() > 0 || solver.test_initialization())) {
      bar.clear();
      testAll();
      barStart = Clock::now(); // the rate counts training only
      barFrom = trainer.iter();
    }
    if (comm)
      injectFault(comm->rank(), trainer.iter());
    last = data ? trainer.step([&](int64_t, int) { data->next(); }) : trainer.step();
    updateSeconds += last.updateSeconds;
    if (sync) {
      allreduceSeconds += sync->lastStats().allreduceSeconds;
      exposedSeconds += sync->lastStats().exposedSeconds;
    }
    ++steps;
    int64_t done = trainer.iter();
    double elapsed = std::chrono::duration<double>(Clock::now() - barStart).count();
    bar.update(done, elapsed > 0 ? double(done - barFrom) / elapsed : 0, last.loss);
    // Solver::Step: a snapshot every `snapshot` iterations, after the update
    // and the display.
    bool snapshotNow = solver.snapshot() > 0 && done % solver.snapshot() == 0;
    // Caffe displays at iterations 0, display, 2 display, ... (before the
    // update of that iteration counts); and the last one.
    bool show = (display > 0 && last.iter % display == 0) || done == maxIter;
    if (!show) {
      if (snapshotNow) {
        bar.clear();
        snapshot();
      }
      continue;
    }
    auto now = Clock::now();
    double seconds = std::chrono::duration<double>(now - start).count();
    double window = std::chrono::duration<double>(now - lastDisplay).count();
    double rate = window > 0 ? double(done - lastDisplayIter) / window : 0;
    lastDisplay = now;
    lastDisplayIter = done;
    bar.clear();
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
  bar.clear();
  if (testInterval > 0 && trainer.iter() % testInterval == 0 && !interrupted)
    testAll();
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
  if (!settings.quiet) {
    std::printf("Optimization done: %lld iterations in %.3f s (%.2f iter/s), last loss = %.6g\n",
                static_cast<long long>(trainer.iter()), seconds,
                seconds > 0 ? double(trainer.iter()) / seconds : 0.0, last.smoothedLoss);
    if (steps > 0)
      std::printf("Update (%s): %.4f ms per iteration\n", trainer.updateImplementation().c_str(),
                  1e3 * updateSeconds / double(steps));
    if (sync && steps > 0)
      std::printf("Allreduce (%s, %d ranks, %zu buckets%s): %.4f ms per iteration, %.4f ms of "
                  "it exposed after the backward pass\n",
                  comm->describe().c_str(), ranks, sync->numBuckets(),
                  settings.sync.oneBit ? ", 1-bit compressed" : "",
                  1e3 * allreduceSeconds / double(steps), 1e3 * exposedSeconds / double(steps));
  }
  json result = {{"iterations", trainer.iter()},
                 {"seconds", seconds},
                 {"update_seconds", updateSeconds},
                 {"update", trainer.updateImplementation()},
                 {"loss", last.smoothedLoss},
                 {"interrupted", bool(interrupted)},
                 {"snapshots", snapshotList},
                 {"tests", tests},
                 {"log", log}};
  if (comm)
    result["distributed"] = {{"backend", comm->describe()},
                             {"ranks", ranks},
                             {"buckets", sync->numBuckets()},
                             {"one_bit", settings.sync.oneBit},
                             {"allreduce_seconds", allreduceSeconds},
                             {"exposed_seconds", exposedSeconds}};
  if (!settings.logJson.empty() && root)
    if (dlc::Status st = dlc::writeFileAtomically(settings.logJson, log.dump(1) + "\n");
        st.failed())
      throw Error(st.message());
  return result;
}

} // namespace dlrun

//===- Distributed.cpp - dlrun --distributed ------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Distributed.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <omp.h>

using namespace dlc::rt;
using json = nlohmann::json;

namespace dlrun {

namespace {

std::unique_ptr<Communicator> theCommunicator;

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

json statsJson(const Stats &s) {
  return {{"median_ms", s.median}, {"min_ms", s.min}, {"max_ms", s.max}, {"cv", s.cv}};
}

} // namespace

void addDistributedOptions(CLI::App &app, DistributedSettings &s) {
  app.add_option("--distributed", s.backend,
                 "data-parallel over the ranks of mpirun (docs/distributed.md): with --train, "
                 "a gradient run or --bench")
      ->check(CLI::IsMember({"mpi"}));
  app.add_option("--distributed-timeout", s.timeout,
                 "--distributed: seconds a collective may take before this rank gives up "
                 "(a rank died or hangs; default 300)")
      ->check(CLI::PositiveNumber);
  app.add_option("--bucket-size", s.bucketMiB,
                 "--distributed: MiB of gradients per allreduce (default 1)")
      ->check(CLI::PositiveNumber);
  app.add_flag("!--no-overlap", s.overlap,
               "--distributed: allreduce after the backward pass, not during it");
  app.add_option("--compress", s.compress,
                 "--distributed: 1bit = 1-bit SGD with error feedback (signs and two values "
                 "per 256 gradients; default none)")
      ->check(CLI::IsMember({"none", "1bit"}));
}

std::string checkDistributedOptions(const CLI::App &app, const DistributedSettings &s,
                                    bool check, bool threadSweep, bool dump) {
  if (s.backend.empty()) {
    for (const char *o : {"--distributed-timeout", "--bucket-size", "--no-overlap", "--compress"})
      if (app.count(o))
        return std::string(o) + " needs --distributed";
    return "";
  }
  if (check || threadSweep || dump)
    return "--distributed runs with --train, --bench or a plain run (no --check or "
           "--dump-blobs, one --threads count)";
  return "";
}

Communicator *startDistributed(const DistributedSettings &s) {
  if (s.backend.empty())
    return nullptr;
  theCommunicator = createMpiCommunicator(s.timeout);
  return theCommunicator.get();
}

Communicator *communicator() { return theCommunicator.get(); }

bool isRoot() { return !theCommunicator || theCommunicator->rank() == 0; }

int endWithError(int code) {
  if (theCommunicator && theCommunicator->size() > 1)
    theCommunicator->abort(code);
  return code;
}

int endTogether(int code) {
  if (theCommunicator) {
    theCommunicator->barrier();
    theCommunicator.reset(); // MPI_Finalize
  }
  return code;
}

SyncOptions syncOptions(const DistributedSettings &s) {
  SyncOptions o;
  o.bucketBytes = int64_t(s.bucketMiB * 1048576.0);
  o.overlap = s.overlap;
  o.oneBit = s.compress == "1bit";
  return o;
}

bool shardInput(NpyArray &a, const dlc::rt::Shape &shape) {
  if (a.shape == shape)
    return true;
  Communicator *c = communicator();
  if (!c || a.shape.size() != shape.size() || shape.empty() ||
      a.shape[0] != shape[0] * c->size() ||
      !std::equal(shape.begin() + 1, shape.end(), a.shape.begin() + 1))
    return false;
  const size_t rows = a.data.size() / size_t(a.shape[0]) * size_t(shape[0]);
  std::vector<float> mine(a.data.begin() + std::ptrdiff_t(rows * size_t(c->rank())),
                          a.data.begin() + std::ptrdiff_t(rows * size_t(c->rank() + 1)));
  a.data = std::move(mine);
  a.shape = shape;
  return true;
}

std::vector<int> paramGradients(const Executor &ex) {
  std::vector<int> grads;
  const dlc::module::Module &m = ex.module().header;
  for (const dlc::module::Param &p : m.params()) {
    int g = ex.tensorIndex(m.tensors(p.tensor()).name() + "@grad");
    if (g >= 0 && ex.computedBy(Entry::Gradient, g))
      grads.push_back(g);
  }
  return grads;
}

void checkSameModule(const Executor &ex) {
  Communicator *c = communicator();
  if (!c || c->size() == 1)
    return;
  // What must agree, as numbers: tensor count, each param gradient's size,
  // each input's shape.
  std::vector<int64_t> mine = {ex.numTensors()};
  for (int g : paramGradients(ex))
    mine.push_back(ex.tensorElements(g));
  for (int t : ex.inputs())
    for (int64_t d : ex.tensorShape(t))
      mine.push_back(d);
  int64_t count = int64_t(mine.size());
  c->broadcast(&count, 1, 0);
  std::vector<int64_t> root = mine;
  root.resize(size_t(count), -1);
  c->broadcast(root.data(), count, 0);
  double differs = root != mine ? 1 : 0;
  c->allreduceSum(&differs, 1);
  if (differs > 0)
    throw RanksAgreedError(root != mine
                    ? "rank " + std::to_string(c->rank()) + "'s module (" + ex.module().path +
                          ") differs from rank 0's in its tensors, params or input shapes: "
                          "every rank must run the same module"
                    : "the module of " + std::to_string(int(differs)) +
                          " other rank(s) differs from rank 0's: every rank must run the same "
                          "module");
}

void injectFault(int rank, int64_t iter) {
  static const char *spec = std::getenv("DLC_TEST_FAULT");
  if (!spec)
    return;
  char what[8] = {};
  int r = -1;
  long long at = -1;
  if (std::sscanf(spec, "%7[a-z]:%d:%lld", what, &r, &at) != 3 || r != rank || at != iter)
    return;
  std::fflush(stdout);
  if (std::strcmp(what, "exit") == 0)
    std::_Exit(9);
  if (std::strcmp(what, "hang") == 0)
    for (;;)
      std::this_thread::sleep_for(std::chrono::seconds(1));
}

json benchDistributed(Executor &ex, const DistributedSettings &settings, int warmup,
                      int iterations, bool quiet) {
  Communicator &comm = *communicator();
  if (!ex.hasGradient())
    throw Error("--bench --distributed times the gradient step: compile the module with "
                "--gradient (or --solver)");
  const std::vector<int> grads = paramGradients(ex);
  std::vector<float *> gradData;
  int64_t gradBytes = 0;
  for (int g : grads) {
    gradData.push_back(ex.tensorData(g));
    gradBytes += 4 * ex.tensorElements(g);
  }
  GradientSync sync(ex, comm, grads, syncOptions(settings));
  // The step without communication first (every rank at once, as in the
  // distributed step), then with it.
  std::vector<double> alone, step, compute, allreduce, exposed;
  comm.barrier();
  for (int i = 0; i < warmup + iterations; ++i) {
    auto t = Clock::now();
    ex.runGradient();
    if (i >= warmup)
      alone.push_back(msSince(t));
  }
  comm.barrier();
  for (int i = 0; i < warmup + iterations; ++i) {
    auto t = Clock::now();
    sync.beginPass(true);
    ex.run(Entry::Gradient, [&](int k) { sync.afterKernel(k); });
    double c = msSince(t);
    sync.reduce(gradData);
    if (i < warmup)
      continue;
    step.push_back(msSince(t));
    compute.push_back(c);
    allreduce.push_back(1e3 * sync.lastStats().allreduceSeconds);
    exposed.push_back(1e3 * sync.lastStats().exposedSeconds);
  }
  comm.barrier();
  // Rank 0 reports the slowest rank's medians (the step waits for it).
  std::vector<double> medians = {Stats::of(alone).median, Stats::of(step).median,
                                 Stats::of(compute).median, Stats::of(allreduce).median,
                                 Stats::of(exposed).median};
  std::vector<double> slowest(medians.size() * size_t(comm.size()), 0.0);
  std::copy(medians.begin(), medians.end(),
            slowest.begin() + std::ptrdiff_t(medians.size() * size_t(comm.rank())));
  comm.allreduceSum(slowest.data(), int64_t(slowest.size()));
  std::vector<double> worst(medians.size(), 0.0);
  for (int r = 0; r < comm.size(); ++r)
    for (size_t j = 0; j < medians.size(); ++j)
      worst[j] = std::max(worst[j], slowest[size_t(r) * medians.size() + j]);
  const int64_t batch = ex.inputs().empty() ? 0 : ex.tensorShape(ex.inputs()[0])[0];
  const Stats stepStats = Stats::of(step);
  const double efficiency = worst[1] > 0 ? worst[0] / worst[1] : 0;
  json r = {{"backend", comm.describe()},
            {"ranks", comm.size()},
            {"threads_per_rank", omp_get_max_threads()},
            {"batch_per_rank", batch},
            {"buckets", sync.numBuckets()},
            {"gradient_bytes", gradBytes},
            {"overlap", settings.overlap},
            {"compress", settings.compress},
            {"bytes_sent_per_step", sync.lastStats().bytes},
            {"step", statsJson(stepStats)},
            {"compute_ms", worst[2]},
            {"allreduce_ms", worst[3]},
            {"exposed_ms", worst[4]},
            {"step_without_communication_ms", worst[0]},
            {"step_slowest_rank_ms", worst[1]},
            {"efficiency", efficiency},
            {"images_per_s", worst[1] > 0 ? 1e3 * double(batch * comm.size()) / worst[1] : 0}};
  if (!quiet && isRoot()) {
    std::printf("Distributed gradient step (%s; %d ranks x %d thread%s, batch %lld per rank = "
                "%lld; %zu buckets of at most %.3g MiB, %.2f MiB of gradients, %s%s):\n",
                comm.describe().c_str(), comm.size(), omp_get_max_threads(),
                omp_get_max_threads() == 1 ? "" : "s", static_cast<long long>(batch),
                static_cast<long long>(batch * comm.size()), sync.numBuckets(),
                settings.bucketMiB, double(gradBytes) / 1048576.0,
                settings.overlap ? "overlapped with the backward pass" : "after the backward pass",
                settings.compress == "1bit" ? "; 1-bit compressed" : "");
    std::printf("  step: median %.4f ms (min %.4f, max %.4f, CV %.1f%%; slowest rank's median "
                "%.4f ms), %d runs after %d warmup\n",
                stepStats.median, stepStats.min, stepStats.max, 100 * stepStats.cv, worst[1],
                iterations, warmup);
    std::printf("  compute %.4f ms, allreduce %.4f ms, exposed communication %.4f ms (medians "
                "of the slowest rank)\n",
                worst[2], worst[3], worst[4]);
    std::printf("  the same step without communication: %.4f ms; scaling efficiency %.3f "
                "(that / the step), %.1f images/s\n",
                worst[0], efficiency, r["images_per_s"].get<double>());
    std::fflush(stdout);
  }
  return r;
}

} // namespace dlrun

//===- Distributed.h - dlrun --distributed ----------------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Data-parallel runs (docs/distributed.md), one process per rank started by
// `mpirun -np N dlrun ... --distributed mpi`:
//  - --train: each rank trains on its share of the data (data::shard), the
//    gradients averaged over the ranks before every update; rank 0 prints,
//    tests and snapshots;
//  - a gradient run (--entry gradient): the gradients averaged over the
//    ranks, written by rank 0 (--output); an --input file holding N x the
//    module's batch gives each rank its rows;
//  - --bench: the gradient step with its allreduce, against the same step
//    without communication.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TOOLS_DLRUN_DISTRIBUTED_H
#define DLC_TOOLS_DLRUN_DISTRIBUTED_H

#include "dlc/Runtime/Distributed.h"
#include "dlc/Runtime/Npy.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace dlrun {

struct DistributedSettings {
  std::string backend;       ///< --distributed: "" (one process) or "mpi"
  double timeout = 300;      ///< --distributed-timeout: seconds a collective may take
  double bucketMiB = 1;      ///< --bucket-size
  bool overlap = true;       ///< !--no-overlap
  std::string compress = "none"; ///< --compress: none | 1bit
};

void addDistributedOptions(CLI::App &app, DistributedSettings &settings);
/// The message for options that need --distributed without it, or "".
std::string checkDistributedOptions(const CLI::App &app, const DistributedSettings &settings,
                                    bool check, bool threadSweep, bool dump);

/// Starts the communicator for --distributed (MPI_Init); null without it.
dlc::rt::Communicator *startDistributed(const DistributedSettings &settings);
/// The started communicator, or null.
dlc::rt::Communicator *communicator();
/// True when this process prints and writes files: no --distributed, or rank 0.
bool isRoot();
/// After an error on this rank: ends the other ranks too (MPI_Abort) and
/// does not return when more than one rank runs; returns `code` otherwise.
int endWithError(int code);
/// An error that every rank raises at the same point of a collective check
/// (checkSameModule): each prints its own message and they end together
/// (endTogether), so that no rank's MPI_Abort cuts another's message off.
class RanksAgreedError : public dlc::rt::Error {
public:
  using dlc::rt::Error::Error;
};
/// After a RanksAgreedError: waits for the other ranks (which have printed
/// theirs), shuts MPI down and returns `code`.
int endTogether(int code);
dlc::rt::SyncOptions syncOptions(const DistributedSettings &settings);

/// An --input array for input `shape`: unchanged when it has that shape;
/// this rank's rows when its first dimension is ranks x shape[0] (the
/// combined batch). False when neither.
bool shardInput(dlc::rt::NpyArray &array, const dlc::rt::Shape &shape);

/// The gradient tensors of the module's params (those the gradient entry
/// computes), in param order.
std::vector<int> paramGradients(const dlc::rt::Executor &ex);

/// Every rank must run the same module with the same batch: compares this
/// rank's (tensors, params, gradient sizes, input shapes) with rank 0's and
/// throws RanksAgreedError on every rank when one differs (a run would
/// otherwise hang or average unrelated gradients).
void checkSameModule(const dlc::rt::Executor &ex);

/// Fault injection for the tests of a failing rank (docs/distributed.md):
/// with DLC_TEST_FAULT=hang:R:I (or exit:R:I) in the environment, rank R
/// stops responding (exits with code 9) before training iteration I.
void injectFault(int rank, int64_t iter);

/// --bench --distributed: times the gradient step with its allreduce (and
/// without, for the efficiency); prints on rank 0; the report's object.
nlohmann::json benchDistributed(dlc::rt::Executor &ex, const DistributedSettings &settings,
                                int warmup, int iterations, bool quiet);

} // namespace dlrun

#endif // DLC_TOOLS_DLRUN_DISTRIBUTED_H

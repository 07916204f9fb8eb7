//===- NoMpi.cpp - Builds without MPI --------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Distributed.h"

namespace dlc::rt {

bool haveMpi() { return false; }

std::unique_ptr<Communicator> createMpiCommunicator(double) {
  throw Error("--distributed mpi: this dlrun was built without MPI (install Debian's "
              "libopenmpi-dev and build dlc again)");
}

} // namespace dlc::rt

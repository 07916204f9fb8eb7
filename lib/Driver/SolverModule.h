//===- SolverModule.h - A Caffe solver as a module's Solver -----*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Driver: `dlc compile --solver` stores the checked
// SolverParameter in the module (dlcm.proto Solver) with Caffe's defaults
// filled in, and every module names its params' Caffe layer blobs.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_DRIVER_SOLVERMODULE_H
#define DLC_LIB_DRIVER_SOLVERMODULE_H

#include "dlc/Caffe/SolverLoader.h"
#include "dlc/Runtime/dlcm.pb.h"

namespace dlc::driver {

/// The module's Solver for a solver the loader accepted.
dlc::module::Solver toModuleSolver(const caffe_fe::LoadedSolver &solver);

/// Fills Param.caffe_blobs of params shared by name (`param { name: ... }`):
/// every layer blob that is the param, so that snapshots write it under each
/// of its layers, as Caffe does.
void recordCaffeBlobs(const caffe::NetParameter &net, dlc::module::Module &module);

/// Records the net's data layers whose data the runtime can read (Data,
/// HDF5Data, ImageData, DummyData) with the graph inputs their tops are.
void recordDataLayers(const caffe_fe::LoadedNet &net, dlc::module::Module &module);

} // namespace dlc::driver

#endif // DLC_LIB_DRIVER_SOLVERMODULE_H

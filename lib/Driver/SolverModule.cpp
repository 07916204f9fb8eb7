//===- SolverModule.cpp - A Caffe solver as a module's Solver -------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "SolverModule.h"

#include "dlc/Data/DataLayer.h"

#include "llvm/Support/Path.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <vector>

namespace pb = dlc::module;

namespace dlc::driver {

pb::Solver toModuleSolver(const caffe_fe::LoadedSolver &loaded) {
  const caffe::SolverParameter &p = loaded.param;
  pb::Solver s;
  // The loader has set solver_type from `type`; both enums follow Caffe's
  // SolverType order.
  static_assert(int(pb::Solver::ADAM) == int(caffe::SolverParameter::ADAM) &&
                    int(pb::Solver::NESTEROV) == int(caffe::SolverParameter::NESTEROV),
                "dlcm.proto Solver.Type follows caffe.SolverParameter.SolverType");
  s.set_type(static_cast<pb::Solver::Type>(p.solver_type()));
  s.set_base_lr(p.base_lr());
  std::string policy = p.lr_policy();
  std::transform(policy.begin(), policy.end(), policy.begin(),
                 [](unsigned char c) { return char(std::toupper(c)); });
  pb::Solver::LrPolicy lr = pb::Solver::FIXED;
  pb::Solver::LrPolicy_Parse(policy, &lr); // the loader accepted the name
  s.set_lr_policy(lr);
  s.set_gamma(p.gamma());
  s.set_power(p.power());
  s.set_stepsize(p.stepsize());
  for (int v : p.stepvalue())
    s.add_stepvalue(v);
  s.set_momentum(p.momentum());
  s.set_momentum2(p.momentum2());
  s.set_delta(p.delta());
  s.set_rms_decay(p.rms_decay());
  s.set_weight_decay(p.weight_decay());
  s.set_regularization(p.regularization_type() == "L1" ? pb::Solver::L1 : pb::Solver::L2);
  s.set_clip_gradients(p.clip_gradients());
  s.set_iter_size(p.iter_size());
  s.set_max_iter(p.max_iter());
  s.set_display(p.display());
  s.set_average_loss(p.average_loss());
  s.set_snapshot(p.snapshot());
  s.set_snapshot_prefix(p.snapshot_prefix());
  s.set_snapshot_after_train(p.snapshot_after_train());
  s.set_random_seed(p.random_seed());
  s.set_source(loaded.file);
  s.set_test_interval(p.test_interval());
  s.set_test_initialization(p.test_initialization());
  return s;
}

void recordCaffeBlobs(const caffe::NetParameter &net, pb::Module &module) {
  std::map<std::string, std::vector<std::string>> owners;
  for (const caffe::LayerParameter &layer : net.layer())
    for (int i = 0; i < layer.param_size(); ++i)
      if (!layer.param(i).name().empty())
        owners[layer.param(i).name()].push_back(layer.name() + "/" + std::to_string(i));
  for (pb::Param &p : *module.mutable_params()) {
    auto it = owners.find(module.tensors(p.tensor()).name());
    if (it != owners.end())
      for (const std::string &blob : it->second)
        p.add_caffe_blobs(blob);
  }
}

void recordDataLayers(const caffe_fe::LoadedNet &net, pb::Module &module) {
  std::map<std::string, int> inputs;
  for (int t : module.inputs())
    inputs[module.tensors(t).name()] = t;
  for (int i = 0; i < net.net.layer_size(); ++i) {
    const caffe::LayerParameter &layer = net.net.layer(i);
    if (!data::isReadableDataLayer(layer.type()))
      continue;
    pb::DataLayer *d = module.add_data_layers();
    d->set_caffe_layer(layer.SerializeAsString());
    for (const std::string &top : layer.top()) {
      auto it = inputs.find(top);
      d->add_tops(it == inputs.end() ? -1 : it->second);
    }
    d->set_train(net.phase == caffe_fe::Phase::Train);
    d->set_base_dir(llvm::sys::path::parent_path(net.file).str());
    const caffe_fe::SourceLoc &loc = net.layerLocs[size_t(i)];
    d->set_loc(loc.file + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column));
  }
}

} // namespace dlc::driver

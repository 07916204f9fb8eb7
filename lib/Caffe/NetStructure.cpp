//===- NetStructure.cpp - NetState filtering and structure checks ---------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The loader's net semantics, as Caffe applies them when it builds a Net:
// choosing the NetState and keeping the layers whose include/exclude rules it
// meets (Net::FilterNet, Net::StateMeetsRule), then connecting bottoms to tops
// (Net::AppendBottom, Net::AppendTop) and checking layer names, with every
// problem reported at its layer's position.
//
//===----------------------------------------------------------------------===//

#include "LoaderInternal.h"

#include <algorithm>
#include <map>
#include <set>

namespace dlc::caffe_fe::detail {

namespace {

/// Whether a layer carries learned weights (matched by layer name when a
/// .caffemodel is read).
bool hasLearnedWeights(const caffe::LayerParameter &layer) {
  static const std::set<std::string> weighted = {
      "Convolution", "Deconvolution", "InnerProduct", "Embed", "BatchNorm", "PReLU",
      "LSTM",        "RNN",           "Parameter",    "Scale", "Bias"};
  if (layer.blobs_size() > 0 || layer.param_size() > 0)
    return true;
  if (!weighted.count(layer.type()))
    return false;
  // Scale and Bias learn their operand only when it is not a second bottom.
  if (layer.type() == "Scale" || layer.type() == "Bias")
    return layer.bottom_size() < 2;
  return true;
}

} // namespace

//===----------------------------------------------------------------------===//
// NetState filtering
//===----------------------------------------------------------------------===//

bool Loader::stateMeetsRule(const caffe::NetState &state, const caffe::NetStateRule &rule) {
  if (rule.has_phase() && rule.phase() != state.phase())
    return false;
  if (rule.has_min_level() && state.level() < rule.min_level())
    return false;
  if (rule.has_max_level() && state.level() > rule.max_level())
    return false;
  auto hasStage = [&state](const std::string &s) {
    return std::find(state.stage().begin(), state.stage().end(), s) != state.stage().end();
  };
  for (const std::string &s : rule.stage())
    if (!hasStage(s))
      return false;
  for (const std::string &s : rule.not_stage())
    if (hasStage(s))
      return false;
  return true;
}

caffe::NetState Loader::netState(const caffe::NetParameter &net) const {
  bool declaresInputs = net.input_size() > 0;
  for (const caffe::LayerParameter &layer : net.layer())
    declaresInputs |= layer.type() == "Input";
  caffe::NetState state;
  Phase phase;
  if (options_.phase)
    phase = *options_.phase;
  else if (net.has_state() && net.state().has_phase())
    phase = net.state().phase() == caffe::TRAIN ? Phase::Train : Phase::Test;
  else
    phase = declaresInputs ? Phase::Test : Phase::Train;
  state.set_phase(phase == Phase::Train ? caffe::TRAIN : caffe::TEST);
  state.set_level(options_.level != 0 ? options_.level : net.state().level());
  if (!options_.stages.empty()) {
    for (const std::string &s : options_.stages)
      state.add_stage(s);
  } else {
    for (const std::string &s : net.state().stage())
      state.add_stage(s);
  }
  return state;
}

bool Loader::filterLayers(const caffe::NetParameter &net, const std::vector<SourceLoc> &locs,
                          const caffe::NetState &state, LayerList &kept,
                          std::vector<SourceLoc> &keptLocs) {
  for (int i = 0; i < net.layer_size(); ++i) {
    const caffe::LayerParameter &layer = net.layer(i);
    if (layer.include_size() > 0 && layer.exclude_size() > 0) {
      error(locs[i], layerRef(layer, i) +
                         " has both include and exclude rules; Caffe allows only one kind");
      continue;
    }
    bool included = layer.include_size() == 0;
    for (const caffe::NetStateRule &rule : layer.exclude())
      if (stateMeetsRule(state, rule))
        included = false;
    for (const caffe::NetStateRule &rule : layer.include())
      if (stateMeetsRule(state, rule))
        included = true;
    if (included) {
      *kept.Add() = layer;
      keptLocs.push_back(locs[i]);
    }
  }
  if (failed_)
    return false;
  if (kept.empty()) {
    std::string stages;
    for (const std::string &s : state.stage())
      stages += (stages.empty() ? "" : ", ") + ("'" + s + "'");
    error(fileLoc(), std::string("no layer of the net is in phase ") +
                         (state.phase() == caffe::TRAIN ? "TRAIN" : "TEST") + ", level " +
                         std::to_string(state.level()) + ", stages [" + stages + "]");
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

void Loader::checkStructure(const std::vector<PendingInput> &inputs, size_t legacyInputs,
                            const LayerList &kept, const std::vector<SourceLoc> &keptLocs) {
  // Where each blob is produced: layer index, or -1 for a legacy input.
  std::map<std::string, int> producer;
  for (size_t i = 0; i < legacyInputs; ++i) {
    if (producer.count(inputs[i].name))
      error(inputs[i].loc, "Top blob '" + inputs[i].name +
                               "' produced by multiple sources: the net declares input '" +
                               inputs[i].name + "' twice");
    producer[inputs[i].name] = -1;
  }
  std::map<std::string, std::vector<int>> layersByName;
  for (int k = 0; k < kept.size(); ++k) {
    const caffe::LayerParameter &layer = kept.Get(k);
    const SourceLoc &loc = keptLocs[k];
    std::string ref = layerRef(layer, k);
    if (layer.type().empty())
      error(loc, ref + " has no type");
    if (!layer.name().empty())
      layersByName[layer.name()].push_back(k);
    for (const std::string &b : layer.bottom()) {
      if (producer.count(b))
        continue;
      int later = -1;
      for (int j = k; j < kept.size() && later < 0; ++j)
        for (const std::string &t : kept.Get(j).top())
          if (t == b) {
            later = j;
            break;
          }
      if (later == k)
        error(loc, ref + ": bottom blob '" + b +
                       "' is not produced by any earlier layer (only by this layer itself)");
      else if (later > k)
        error(loc, ref + ": bottom blob '" + b + "' is used before it is produced (by " +
                       layerRef(kept.Get(later), later) + lineRef(keptLocs[later]) +
                       "); the net would form a cycle");
      else
        error(loc, ref + ": bottom blob '" + b + "' is not produced by any layer or input");
    }
    for (int t = 0; t < layer.top_size(); ++t) {
      const std::string &top = layer.top(t);
      bool inPlace = t < layer.bottom_size() && layer.bottom(t) == top;
      if (inPlace)
        continue;
      auto it = producer.find(top);
      if (it != producer.end()) {
        std::string other = it->second < 0 ? std::string("the net's input")
                                           : (it->second == k ? std::string("this layer")
                                                              : layerRef(kept.Get(it->second),
                                                                         it->second) +
                                                                    lineRef(keptLocs[it->second]));
        error(loc, ref + ": Top blob '" + top + "' produced by multiple sources (also by " + other +
                       "); only an in-place layer (top equal to its bottom) may reuse a blob");
        continue;
      }
      producer[top] = k;
    }
    if (layer.propagate_down_size() > 0 && layer.propagate_down_size() != layer.bottom_size())
      error(loc, ref + " has " + std::to_string(layer.propagate_down_size()) +
                     " propagate_down entries for " + std::to_string(layer.bottom_size()) +
                     " bottoms; give none or one per bottom");
    if (layer.loss_weight_size() > layer.top_size())
      error(loc, ref + " has " + std::to_string(layer.loss_weight_size()) +
                     " loss_weight entries but only " + std::to_string(layer.top_size()) +
                     " tops");
  }
  // Caffe accepts two layers with one name, and real nets do it (LRCN names
  // several data layers "data", the MNIST autoencoder has two "loss" layers).
  // Weights are matched to layers by name, though, so two layers with learned
  // weights under one name are refused; other duplicates get a warning unless
  // they are all data sources (layers without bottoms).
  for (const auto &[name, indices] : layersByName) {
    if (indices.size() < 2)
      continue;
    int weighted = 0;
    bool allSources = true;
    for (int k : indices) {
      weighted += hasLearnedWeights(kept.Get(k)) ? 1 : 0;
      allSources &= kept.Get(k).bottom_size() == 0;
    }
    std::string first = lineRef(keptLocs[indices[0]]);
    for (size_t j = 1; j < indices.size(); ++j) {
      if (weighted >= 2)
        error(keptLocs[indices[j]], "duplicate layer name '" + name + "' (first used" + first +
                                        "); layers with learned weights need unique names, "
                                        "since weights are matched to layers by name");
      else if (!allSources)
        warning(keptLocs[indices[j]],
                "duplicate layer name '" + name + "' (first used" + first + ")");
    }
  }
}

} // namespace dlc::caffe_fe::detail

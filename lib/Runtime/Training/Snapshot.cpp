//===- Snapshot.cpp - .caffemodel and .solverstate files ------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The files are Caffe's (binary protobuf, caffe.proto): Caffe can fine-tune
// from a dlc snapshot and resume from a dlc .solverstate, and dlc from
// Caffe's. Caffe's history holds one blob per learnable param in net order;
// dlc keeps history only for the params it trains (those with a gradient),
// so the others are written as zeros - what Caffe's update leaves in them
// when lr_mult is 0.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Training.h"

#include "dlc/Caffe/caffe.pb.h"
#include "dlc/Support/AtomicFile.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace pb = dlc::module;
namespace fs = std::filesystem;

namespace dlc::rt {

namespace {

/// The params a snapshot holds: every module param except the compiler's
/// own (gradient seeds and zero constants, named "<blob>@...").
std::vector<int> snapshotParams(const LoadedModule &m) {
  std::vector<int> out;
  for (int p = 0; p < m.header.params_size(); ++p)
    if (m.header.tensors(m.header.params(p).tensor()).name().find('@') == std::string::npos)
      out.push_back(p);
  return out;
}

void toBlob(const std::vector<int64_t> &shape, const float *data, int64_t n,
            caffe::BlobProto &blob) {
  for (int64_t d : shape)
    blob.mutable_shape()->add_dim(d);
  blob.mutable_data()->Resize(int(n), 0.0f);
  if (n > 0)
    std::memcpy(blob.mutable_data()->mutable_data(), data, size_t(n) * sizeof(float));
}

/// The values of a blob whose element count must be `n`.
std::vector<float> fromBlob(const caffe::BlobProto &blob, int64_t n, const std::string &what) {
  int64_t count = blob.data_size() ? blob.data_size() : blob.double_data_size();
  if (count != n)
    throw Error(what + " has " + std::to_string(count) + " values; the module's needs " +
                std::to_string(n));
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = blob.data_size() ? blob.data(int(i)) : float(blob.double_data(int(i)));
  return v;
}

template <typename Message> void readMessage(const std::string &path, Message &msg) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw Error(path + ": error: cannot open: " +
                (fs::exists(path, ec) ? "not a regular file" : "No such file or directory"));
  uint64_t size = fs::file_size(path, ec);
  if (ec || size >= (uint64_t(1) << 31))
    throw Error(path + ": error: " +
                (ec ? ec.message() : "larger than protobuf's limit of 2 GiB"));
  std::ifstream in(path, std::ios::binary);
  std::string bytes(size_t(size), '\0');
  if (!in.read(bytes.data(), std::streamsize(size)))
    throw Error(path + ": error: cannot read: " + std::strerror(errno));
  if (!msg.ParseFromString(bytes))
    throw Error(path + ": error: not a binary " + msg.GetTypeName() + " (corrupt or truncated)");
}

void writeMessage(const std::string &path, const google::protobuf::Message &msg) {
  std::string bytes;
  if (!msg.SerializeToString(&bytes))
    throw Error(path + ": error: cannot serialize (larger than 2 GiB?)");
  if (dlc::Status st = dlc::writeFileAtomically(path, bytes); st.failed())
    throw Error(st.message());
}

} // namespace

std::vector<std::pair<std::string, int>> caffeBlobsOf(const LoadedModule &m, int p) {
  const pb::Param &param = m.header.params(p);
  const std::string &name = m.header.tensors(param.tensor()).name();
  std::vector<std::pair<std::string, int>> out;
  for (const std::string &n : param.caffe_blobs()) {
    size_t slash = n.rfind('/');
    const char *digits = slash == std::string::npos ? "" : n.c_str() + slash + 1;
    if (slash == 0 || slash == std::string::npos || !*digits || std::strlen(digits) > 6 ||
        std::strspn(digits, "0123456789") != std::strlen(digits))
      throw Error("param '" + name + "': malformed Caffe layer blob '" + n +
                  "' (expected layer/index)");
    out.emplace_back(n.substr(0, slash), std::atoi(digits));
  }
  if (!out.empty())
    return out;
  // Unshared params are named "layer/index"; any other name (a module not
  // made by dlc compile) is blob 0 of a layer of that name.
  size_t slash = name.rfind('/');
  if (slash != std::string::npos && slash > 0 && slash + 1 < name.size() &&
      name.size() - slash - 1 <= 6 &&
      std::strspn(name.c_str() + slash + 1, "0123456789") == name.size() - slash - 1)
    out.emplace_back(name.substr(0, slash), std::atoi(name.c_str() + slash + 1));
  else
    out.emplace_back(name, 0);
  return out;
}

SnapshotFiles writeSnapshot(Trainer &trainer, const std::string &prefix) {
  Executor &ex = trainer.executor();
  const LoadedModule &m = ex.module();
  SnapshotFiles files;
  std::string stem = prefix + "_iter_" + std::to_string(trainer.iter());
  files.caffemodel = stem + ".caffemodel";
  files.solverstate = stem + ".solverstate";

  // The weights, layer by layer in order of first appearance.
  caffe::NetParameter net;
  net.set_name(ex.moduleName());
  std::map<std::string, caffe::LayerParameter *> layers;
  std::vector<int> params = snapshotParams(m);
  for (int p : params) {
    int t = m.header.params(p).tensor();
    std::vector<float> values = ex.read(ex.tensorName(t));
    for (auto &[layerName, index] : caffeBlobsOf(m, p)) {
      caffe::LayerParameter *&layer = layers[layerName];
      if (!layer) {
        layer = net.add_layer();
        layer->set_name(layerName);
      }
      while (layer->blobs_size() <= index)
        layer->add_blobs();
      toBlob(ex.tensorShape(t), values.data(), int64_t(values.size()),
             *layer->mutable_blobs(index));
    }
  }
  writeMessage(files.caffemodel, net);

  // The solver's state.
  caffe::SolverState state;
  state.set_iter(int(std::min<int64_t>(trainer.iter(), INT32_MAX)));
  state.set_learned_net(files.caffemodel);
  state.set_current_step(int(learningRateStep(trainer.solver(), trainer.iter())));
  const std::vector<int> &trained = trainer.paramTensors();
  SolverUpdate &update = trainer.update();
  for (int slot = 0; slot < update.historySlots(); ++slot)
    for (int p : params) {
      int t = m.header.params(p).tensor();
      auto it = std::find(trained.begin(), trained.end(), t);
      std::vector<float> zeros;
      const std::vector<float> *h = &zeros;
      if (it != trained.end())
        h = &update.history(slot, int(it - trained.begin()));
      else
        zeros.assign(size_t(ex.tensorElements(t)), 0.0f);
      toBlob(ex.tensorShape(t), h->data(), int64_t(h->size()), *state.add_history());
    }
  writeMessage(files.solverstate, state);
  return files;
}

int loadCaffeModel(Executor &ex, const std::string &path) {
  caffe::NetParameter net;
  readMessage(path, net);
  std::map<std::string, const google::protobuf::RepeatedPtrField<caffe::BlobProto> *> byName;
  for (const caffe::LayerParameter &l : net.layer())
    byName[l.name()] = &l.blobs();
  for (const caffe::V1LayerParameter &l : net.layers())
    byName[l.name()] = &l.blobs();
  const LoadedModule &m = ex.module();
  int loaded = 0;
  for (int p : snapshotParams(m)) {
    int t = m.header.params(p).tensor();
    // A shared param: the first of its layers the file has.
    for (auto &[layerName, index] : caffeBlobsOf(m, p)) {
      auto it = byName.find(layerName);
      if (it == byName.end() || index >= it->second->size())
        continue;
      ex.setParam(t, fromBlob(it->second->Get(index), ex.tensorElements(t),
                              path + ": error: blob " + std::to_string(index) + " of layer '" +
                                  layerName + "'"));
      ++loaded;
      break;
    }
  }
  return loaded;
}

void restoreSnapshot(Trainer &trainer, const std::string &path) {
  caffe::SolverState state;
  readMessage(path, state);
  Executor &ex = trainer.executor();
  const LoadedModule &m = ex.module();
  std::vector<int> params = snapshotParams(m);
  SolverUpdate &update = trainer.update();
  size_t expected = params.size() * size_t(update.historySlots());
  if (size_t(state.history_size()) != expected)
    throw Error(path + ": error: " + std::to_string(state.history_size()) +
                " history blobs; this module's solver keeps " + std::to_string(expected) + " (" +
                std::to_string(params.size()) + " params x " +
                std::to_string(update.historySlots()) + ")");
  if (state.iter() < 0)
    throw Error(path + ": error: negative iteration " + std::to_string(state.iter()));
  // The weights first: a missing learned_net leaves everything as it was.
  std::string net = state.learned_net();
  std::error_code ec;
  if (!net.empty() && !fs::exists(net, ec)) {
    fs::path beside = fs::path(path).parent_path() / fs::path(net).filename();
    if (fs::exists(beside, ec))
      net = beside.string();
  }
  if (net.empty())
    throw Error(path + ": error: the solver state names no learned_net");
  loadCaffeModel(ex, net);
  const std::vector<int> &trained = trainer.paramTensors();
  int blob = 0;
  for (int slot = 0; slot < update.historySlots(); ++slot)
    for (int p : params) {
      int t = m.header.params(p).tensor();
      std::vector<float> h = fromBlob(state.history(blob), ex.tensorElements(t),
                                      path + ": error: history blob " + std::to_string(blob));
      ++blob;
      auto it = std::find(trained.begin(), trained.end(), t);
      if (it != trained.end())
        update.history(slot, int(it - trained.begin())) = std::move(h);
    }
  trainer.setIter(state.iter());
}

} // namespace dlc::rt

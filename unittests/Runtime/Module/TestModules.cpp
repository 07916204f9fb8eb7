//===- TestModules.cpp - Small hand-built modules for tests ---------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TestModules.h"

#include <cmath>

using namespace dlc;
namespace pb = dlc::module;

int test::addTensor(pb::Module &m, const std::string &name, std::vector<int64_t> shape,
                    pb::Tensor::Kind kind, int64_t offset) {
  pb::Tensor *t = m.add_tensors();
  t->set_name(name);
  for (int64_t d : shape)
    t->add_shape(d);
  t->set_kind(kind);
  t->set_offset(offset);
  if (kind == pb::Tensor::INPUT)
    m.add_inputs(m.tensors_size() - 1);
  return m.tensors_size() - 1;
}

int test::addParam(pb::Module &m, const std::string &name, std::vector<int64_t> shape,
                   const std::string &fillerType, double value) {
  int t = addTensor(m, name, std::move(shape), pb::Tensor::PARAM);
  pb::Param *p = m.add_params();
  p->set_tensor(t);
  p->mutable_filler()->set_type(fillerType);
  if (fillerType == "constant")
    p->mutable_filler()->set_value(value);
  return m.params_size() - 1;
}

void test::addIntAttr(pb::Kernel &k, const std::string &name, int64_t v) {
  pb::Attr *a = k.add_attrs();
  a->set_name(name);
  a->set_i(v);
}
void test::addFloatAttr(pb::Kernel &k, const std::string &name, double v) {
  pb::Attr *a = k.add_attrs();
  a->set_name(name);
  a->set_f(v);
}
void test::addStrAttr(pb::Kernel &k, const std::string &name, const std::string &v) {
  pb::Attr *a = k.add_attrs();
  a->set_name(name);
  a->set_s(v);
}
void test::addIntsAttr(pb::Kernel &k, const std::string &name, std::vector<int64_t> v) {
  pb::Attr *a = k.add_attrs();
  a->set_name(name);
  for (int64_t x : v)
    a->mutable_ints()->add_v(x);
}

static pb::Kernel *addKernel(pb::Module &m, const std::string &op, const std::string &layer,
                             std::vector<int> inputs, std::vector<int> outputs) {
  pb::Kernel *k = m.add_kernels();
  k->set_op(op);
  k->set_layer(layer);
  k->set_loc("tiny.prototxt:" + std::to_string(m.kernels_size() * 10) + ":1");
  for (int i : inputs)
    k->add_inputs(i);
  for (int o : outputs)
    k->add_outputs(o);
  return k;
}

rt::ModuleWriter test::tinyCnn(bool arena) {
  rt::ModuleWriter w;
  pb::Module &m = w.header();
  m.set_name(arena ? "tiny_cnn_arena" : "tiny_cnn");
  m.set_producer("dlc unittests");
  m.set_seed(42);
  // Arena plan (bytes): data [0,1536) conv [1536,2688) relu = conv (in place)
  // pool [0,288) (data is dead after conv) ip [1536,1576) (relu dead after pool).
  auto off = [&](int64_t o) { return arena ? o : int64_t(-1); };
  if (arena)
    m.set_arena_bytes(2688);
  int data = addTensor(m, "data", {2, 3, 8, 8}, pb::Tensor::INPUT, off(0));
  int wConv = addParam(m, "conv1_w", {4, 3, 3, 3});
  int bConv = addParam(m, "conv1_b", {4}, "constant", 0.1);
  int conv = addTensor(m, "conv1", {2, 4, 6, 6}, pb::Tensor::ACTIVATION, off(1536));
  int relu = addTensor(m, "relu1", {2, 4, 6, 6}, pb::Tensor::ACTIVATION, off(1536));
  int pool = addTensor(m, "pool1", {2, 4, 3, 3}, pb::Tensor::ACTIVATION, off(0));
  int wIp = addParam(m, "ip_w", {5, 36}, "xavier");
  int bIp = addParam(m, "ip_b", {5});
  int ip = addTensor(m, "ip", {2, 5}, pb::Tensor::ACTIVATION, off(1536));

  pb::Kernel *k = addKernel(m, "convolution", "conv1", {data, m.params(wConv).tensor(),
                                                        m.params(bConv).tensor()}, {conv});
  addIntAttr(*k, "num_output", 4);
  addIntsAttr(*k, "kernel", {3, 3});
  addIntsAttr(*k, "stride", {1, 1});
  addIntsAttr(*k, "pad", {0, 0});
  addIntsAttr(*k, "dilation", {1, 1});
  addIntAttr(*k, "group", 1);
  k = addKernel(m, "relu", "relu1", {conv}, {relu});
  addFloatAttr(*k, "negative_slope", 0.0);
  k = addKernel(m, "pooling", "pool1", {relu}, {pool});
  addStrAttr(*k, "pool", "max");
  addIntsAttr(*k, "kernel", {2, 2});
  addIntsAttr(*k, "stride", {2, 2});
  addIntsAttr(*k, "pad", {0, 0});
  addIntAttr(*k, "global_pooling", 0);
  addStrAttr(*k, "round_mode", "ceil");
  k = addKernel(m, "inner_product", "ip", {pool, m.params(wIp).tensor(), m.params(bIp).tensor()},
                {ip});
  addIntAttr(*k, "num_output", 5);
  addIntAttr(*k, "axis", 1);
  addIntAttr(*k, "transpose", 0);
  m.add_outputs(ip);

  std::vector<float> wc(4 * 3 * 3 * 3);
  for (size_t i = 0; i < wc.size(); ++i)
    wc[i] = float(std::sin(0.37 * double(i)) * 0.5);
  w.setParamData(wConv, wc);
  w.setParamData(bIp, {0.5f, -0.25f, 0.125f, 0.0f, -1.0f});
  return w;
}

rt::ModuleWriter test::tinyClassifier() {
  rt::ModuleWriter w = tinyCnn(false);
  pb::Module &m = w.header();
  m.set_name("tiny_classifier");
  int ip = m.outputs(0);
  m.clear_outputs();
  int label = addTensor(m, "label", {2}, pb::Tensor::INPUT);
  int loss = addTensor(m, "loss", {}, pb::Tensor::ACTIVATION);
  int acc = addTensor(m, "accuracy", {}, pb::Tensor::ACTIVATION);
  pb::Kernel *k = addKernel(m, "softmax_with_loss", "loss", {ip, label}, {loss});
  addIntAttr(*k, "axis", 1);
  addStrAttr(*k, "normalization", "valid");
  addFloatAttr(*k, "loss_weight", 1.0);
  k = addKernel(m, "accuracy", "accuracy", {ip, label}, {acc});
  addIntAttr(*k, "top_k", 1);
  addIntAttr(*k, "axis", 1);
  m.add_outputs(loss);
  m.add_outputs(acc);
  return w;
}

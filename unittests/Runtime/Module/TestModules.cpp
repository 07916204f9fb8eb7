//===- TestModules.cpp - Small hand-built modules for tests ---------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TestModules.h"

#include <cmath>

using namespace dlc;
namespace pb = dlc::module;

std::string test::rawModuleBytes(pb::Module header, const std::string &weights, uint32_t version) {
  if (!header.has_version())
    header.set_version(version);
  std::string h = header.SerializeAsString();
  std::string out("DLCM", 4);
  for (int i = 0; i < 4; ++i)
    out += char((version >> (8 * i)) & 0xff);
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i)
    out += char((n >> (8 * i)) & 0xff);
  out += h;
  out.resize((out.size() + 63) / 64 * 64, '\0');
  return out + weights;
}

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

pb::Kernel *test::addKernel(pb::Module &m, const std::string &op, const std::string &layer,
                           std::vector<int> inputs, std::vector<int> outputs,
                           pb::Kernel::Role role) {
  pb::Kernel *k = m.add_kernels();
  k->set_role(role);
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
  // As the compiler records it: class indices of the 5 logits.
  m.mutable_tensors(label)->set_role(pb::Tensor::LABEL);
  m.mutable_tensors(label)->set_value_range(5);
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

namespace {

/// Adds "<top>@seed": a constant-1 param with lr_mult 0 (the gradient seed).
int addSeed(pb::Module &m, const std::string &top, std::vector<int64_t> shape) {
  int p = test::addParam(m, top + "@seed", std::move(shape), "constant", 1.0);
  m.mutable_params(p)->set_lr_mult(0);
  m.mutable_params(p)->set_decay_mult(0);
  return m.params(p).tensor();
}

/// Copies the forward attributes of `fwd` into `grad` and adds wrt.
void gradAttrs(const pb::Kernel &fwd, pb::Kernel &grad, std::vector<int64_t> wrt) {
  for (const pb::Attr &a : fwd.attrs())
    *grad.add_attrs() = a;
  test::addIntsAttr(grad, "wrt", std::move(wrt));
}

/// Appends `<op>_grad` for forward kernel `f`: inputs = its operands, its
/// results, then `resultGrads`; outputs = `outs` (gradients of `wrt`).
pb::Kernel *addGrad(pb::Module &m, int f, std::vector<int> resultGrads, std::vector<int64_t> wrt,
                    std::vector<int> outs, pb::Kernel::Role role) {
  pb::Kernel fwd = m.kernels(f);
  std::vector<int> ins(fwd.inputs().begin(), fwd.inputs().end());
  ins.insert(ins.end(), fwd.outputs().begin(), fwd.outputs().end());
  ins.insert(ins.end(), resultGrads.begin(), resultGrads.end());
  pb::Kernel *k = test::addKernel(m, fwd.op() + "_grad", fwd.layer(), ins, outs, role);
  k->set_loc(fwd.loc());
  gradAttrs(fwd, *k, std::move(wrt));
  return k;
}

int shapeLike(pb::Module &m, const std::string &name, int t) {
  const pb::Tensor &src = m.tensors(t);
  std::vector<int64_t> shape(src.shape().begin(), src.shape().end());
  return test::addTensor(m, name, shape, pb::Tensor::ACTIVATION);
}

} // namespace

rt::ModuleWriter test::tinyLinearGradient() {
  rt::ModuleWriter w;
  pb::Module &m = w.header();
  m.set_name("tiny_linear_gradient");
  m.set_producer("dlc unittests");
  m.set_seed(5);
  int x = addTensor(m, "x", {2, 3}, pb::Tensor::INPUT);
  int label = addTensor(m, "label", {2}, pb::Tensor::INPUT);
  m.mutable_tensors(label)->set_role(pb::Tensor::LABEL);
  m.mutable_tensors(label)->set_value_range(4);
  int pw = addParam(m, "ip_w", {4, 3});
  int pb_ = addParam(m, "ip_b", {4});
  int wt = m.params(pw).tensor(), bt = m.params(pb_).tensor();
  int ip = addTensor(m, "ip", {2, 4}, pb::Tensor::ACTIVATION);
  int loss = addTensor(m, "loss", {}, pb::Tensor::ACTIVATION);
  pb::Kernel *k = addKernel(m, "inner_product", "ip", {x, wt, bt}, {ip});
  addIntAttr(*k, "num_output", 4);
  addIntAttr(*k, "axis", 1);
  addIntAttr(*k, "transpose", 0);
  k = addKernel(m, "softmax_with_loss", "loss", {ip, label}, {loss});
  addIntAttr(*k, "axis", 1);
  addStrAttr(*k, "normalization", "valid");
  addFloatAttr(*k, "loss_weight", 1.0);

  int seed = addSeed(m, "loss", {});
  int dip = shapeLike(m, "ip@grad", ip);
  int dx = shapeLike(m, "x@grad", x);
  int dw = shapeLike(m, "ip_w@grad", wt);
  int db = shapeLike(m, "ip_b@grad", bt);
  addGrad(m, 1, {seed}, {0}, {dip}, pb::Kernel::BACKWARD_DATA);
  addGrad(m, 0, {dip}, {0}, {dx}, pb::Kernel::BACKWARD_DATA);
  addGrad(m, 0, {dip}, {1, 2}, {dw, db}, pb::Kernel::BACKWARD_WEIGHTS);
  for (int o : {loss, dx, dw, db})
    m.add_outputs(o);

  w.setParamData(pw, {0.5f, -0.25f, 0.75f, -1.0f, 0.125f, 0.25f, 0.0f, 1.5f, -0.5f, 0.3f, 0.6f, -0.9f});
  w.setParamData(pb_, {0.1f, -0.2f, 0.3f, 0.0f});
  return w;
}

rt::ModuleWriter test::tinyClassifierGradient() {
  rt::ModuleWriter w = tinyClassifier();
  pb::Module &m = w.header();
  m.set_name("tiny_classifier_gradient");
  // Forward kernels: 0 conv1, 1 relu1, 2 pool1, 3 ip, 4 loss, 5 accuracy.
  auto tensorOf = [&](const std::string &name) {
    for (int t = 0; t < m.tensors_size(); ++t)
      if (m.tensors(t).name() == name)
        return t;
    return -1;
  };
  int seed = addSeed(m, "loss", {});
  int dip = shapeLike(m, "ip@grad", tensorOf("ip"));
  int dpool = shapeLike(m, "pool1@grad", tensorOf("pool1"));
  int dipw = shapeLike(m, "ip_w@grad", tensorOf("ip_w"));
  int dipb = shapeLike(m, "ip_b@grad", tensorOf("ip_b"));
  int drelu = shapeLike(m, "relu1@grad", tensorOf("relu1"));
  int dconv = shapeLike(m, "conv1@grad", tensorOf("conv1"));
  int dcw = shapeLike(m, "conv1_w@grad", tensorOf("conv1_w"));
  int dcb = shapeLike(m, "conv1_b@grad", tensorOf("conv1_b"));
  addGrad(m, 4, {seed}, {0}, {dip}, pb::Kernel::BACKWARD_DATA);
  addGrad(m, 3, {dip}, {0}, {dpool}, pb::Kernel::BACKWARD_DATA);
  addGrad(m, 3, {dip}, {1, 2}, {dipw, dipb}, pb::Kernel::BACKWARD_WEIGHTS);
  addGrad(m, 2, {dpool}, {0}, {drelu}, pb::Kernel::BACKWARD_DATA);
  addGrad(m, 1, {drelu}, {0}, {dconv}, pb::Kernel::BACKWARD_DATA);
  addGrad(m, 0, {dconv}, {1, 2}, {dcw, dcb}, pb::Kernel::BACKWARD_WEIGHTS);
  for (int o : {dcw, dcb, dipw, dipb})
    m.add_outputs(o);
  return w;
}

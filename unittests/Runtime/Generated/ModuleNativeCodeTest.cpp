//===- ModuleNativeCodeTest.cpp - Native code in the module format --------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A module with NativeCode (dlcm.proto, docs/codegen.md): the executor runs
// the fused kernel that names a generated function on the "generated"
// backend (not a fallback, the other kernels unaffected), refuses code for
// a CPU feature it cannot find, and the reader refuses malformed native
// code and dangling gen_symbol attributes.
//
//===----------------------------------------------------------------------===//
#include "GenTestUtil.h"

#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Module.h"

#include <functional>
#include <tuple>

using namespace dlc::rt;
using namespace dlc::rt::gentest;
namespace pb = dlc::module;

namespace {

constexpr int64_t kN = 1000;

/// x -> fused(bnll, tanh) -> y -> relu -> z, the fused kernel generated.
pb::Module moduleHeader() {
  const dlc::codegen::NativeObject object = generate(bnllTanh(kN)).object;
  const std::vector<std::string> &symbols = object.symbols;

  pb::Module m;
  m.set_name("gen");
  for (const char *name : {"x", "b", "y", "z"}) {
    pb::Tensor *t = m.add_tensors();
    t->set_name(name);
    t->add_shape(kN);
  }
  m.mutable_tensors(0)->set_kind(pb::Tensor::INPUT);
  m.mutable_tensors(1)->set_internal(true);
  m.add_inputs(0);
  m.add_outputs(3);
  pb::Kernel *k = m.add_kernels();
  k->set_op("fused");
  k->set_layer("bnll+tanh");
  k->add_inputs(0);
  k->add_outputs(2);
  pb::Attr *sym = k->add_attrs();
  sym->set_name("gen_symbol");
  sym->set_s(symbols.at(0));
  for (auto [op, in, out] : {std::tuple{"bnll", 0, 1}, std::tuple{"tanh", 1, 2}}) {
    pb::Kernel *s = k->add_body();
    s->set_op(op);
    s->set_layer(op);
    s->add_inputs(in);
    s->add_outputs(out);
  }
  pb::Kernel *relu = m.add_kernels();
  relu->set_op("relu");
  relu->set_layer("relu");
  relu->add_inputs(2);
  relu->add_outputs(3);
  pb::NativeCode *nc = m.mutable_native_code();
  nc->set_object(object.object);
  nc->set_triple(object.triple);
  nc->set_cpu(object.cpu);
  for (const std::string &f : object.features)
    nc->add_features(f);
  for (const std::string &s : object.symbols)
    nc->add_symbols(s);
  return m;
}

std::shared_ptr<const LoadedModule> load(const pb::Module &header) {
  ModuleWriter w(header);
  std::string bytes, error;
  EXPECT_TRUE(w.serialize(bytes, error)) << error;
  auto lm = std::make_shared<LoadedModule>();
  EXPECT_TRUE(
      parseModule(std::vector<uint8_t>(bytes.begin(), bytes.end()), "gen.dlcm", *lm, error))
      << error;
  return lm;
}

std::string validationError(const pb::Module &m) {
  std::string error;
  return validateModule(m, 0, error) ? "" : error;
}

} // namespace

TEST(ModuleNativeCode, RunsOnTheGeneratedBackend) {
  auto module = load(moduleHeader());
  Executor ex(module);
  ASSERT_EQ(ex.numKernels(), 2);
  const KernelInfo &fused = ex.kernelInfo(0);
  EXPECT_EQ(fused.backend, "generated");
  EXPECT_EQ(fused.impl.rfind("generated:", 0), 0u) << fused.impl;
  EXPECT_FALSE(fused.fellBack) << fused.fallbackReason;
  // The generated backend has no relu: oneDNN's is not a fallback.
  EXPECT_EQ(ex.kernelInfo(1).backend, "onednn");
  EXPECT_FALSE(ex.kernelInfo(1).fellBack) << ex.kernelInfo(1).fallbackReason;
  EXPECT_EQ(ex.kernelInfo(1).fallbackReason, "");

  Data x = randomData(kN, 3, -5, 5);
  ex.setInput("x", x);
  ex.run();
  ExecutorOptions refOptions;
  refOptions.mode = ExecMode::Reference;
  Executor ref(module, refOptions);
  EXPECT_EQ(ref.kernelInfo(0).backend, "ref");
  ref.setInput("x", x);
  ref.run();
  expectClose(ex.read("z"), ref.read("z"), 1e-5, 1e-6, "z");
}

TEST(ModuleNativeCode, RefusesCodeForAFeatureItCannotFind) {
  pb::Module m = moduleHeader();
  m.mutable_native_code()->set_cpu("test-cpu");
  m.mutable_native_code()->add_features("fake-feature");
  auto module = load(m);
  try {
    Executor ex(module);
    ADD_FAILURE() << "the executor loaded code that needs fake-feature";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("gen.dlcm: error: module compiled for test-cpu needs "
                                         "fake-feature (unknown), which this CPU lacks"),
              std::string::npos)
        << e.what();
  }
  // The reference kernels need no native code.
  ExecutorOptions refOptions;
  refOptions.mode = ExecMode::Reference;
  Executor ref(module, refOptions);
  ref.run();
}

TEST(ModuleNativeCode, ReaderRefusesMalformedNativeCode) {
  const pb::Module valid = moduleHeader();
  EXPECT_EQ(validationError(valid), "");
  auto expectError = [&](const std::function<void(pb::Module &)> &mutate,
                         const std::string &fragment) {
    pb::Module m = valid;
    mutate(m);
    std::string error = validationError(m);
    EXPECT_NE(error.find(fragment), std::string::npos) << "'" << error << "'";
  };
  expectError([](pb::Module &m) { m.mutable_native_code()->clear_object(); },
              "native code: empty object");
  expectError([](pb::Module &m) { m.mutable_native_code()->set_cpu("a b"); },
              "malformed triple or cpu name");
  expectError([](pb::Module &m) { m.mutable_native_code()->add_features("avx2\n"); },
              "malformed or duplicate feature");
  expectError([](pb::Module &m) { m.mutable_native_code()->add_features(std::string(1, '\0')); },
              "malformed or duplicate feature");
  expectError(
      [](pb::Module &m) {
        m.mutable_native_code()->add_symbols(m.native_code().symbols(0));
      },
      "duplicate symbol");
  expectError([](pb::Module &m) { m.mutable_kernels(0)->mutable_attrs(0)->set_s("other"); },
              "kernel #0 (fused 'bnll+tanh'): gen_symbol 'other' is not a symbol of the "
              "module's native code");
  expectError([](pb::Module &m) { m.clear_native_code(); }, "is not a symbol");
  expectError([](pb::Module &m) { m.mutable_kernels(0)->mutable_attrs(0)->set_i(3); },
              "kernel #0 (fused 'bnll+tanh'): gen_symbol must be a string");
  expectError(
      [](pb::Module &m) {
        pb::Attr *a = m.mutable_kernels(1)->add_attrs();
        a->set_name("gen_symbol");
        a->set_s(m.native_code().symbols(0));
      },
      "kernel #1 (relu 'relu'): attribute 'gen_symbol' names no generated function of a "
      "relu kernel");
  // A recurrent cell (dlc/Ops/RecurrentCells.h) on another layer's kernel,
  // and a gen_ attribute that names no cell.
  for (const char *name : {"gen_lstm_forward", "gen_other"})
    expectError(
        [&](pb::Module &m) {
          pb::Attr *a = m.mutable_kernels(1)->add_attrs();
          a->set_name(name);
          a->set_s(m.native_code().symbols(0));
        },
        std::string("kernel #1 (relu 'relu'): attribute '") + name +
            "' names no generated function of a relu kernel");
}

//===- Tester.cpp - A solver's test nets ----------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Caffe's test net shares the train net's layers by name
// (Net::ShareTrainedLayersWith); dlc's test net is a module of its own whose
// params of the same name (and size) get the train net's values before
// each test. Its data layers read in phase TEST (center crops, no mirror).
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/DataFeed.h"
#include "dlc/Runtime/Training.h"

#include <chrono>

namespace pb = dlc::module;

namespace dlc::rt {

Tester::Tester(Executor &train, int index, bool readData) : train_(train) {
  const pb::Module &m = train.module().header;
  if (index < 0 || index >= m.test_nets_size())
    throw Error("no test net #" + std::to_string(index));
  const pb::TestNet &t = m.test_nets(index);
  iterations_ = t.iterations();
  // The nested header becomes a module file of its own (no weights), read
  // and validated like any other.
  pb::Module header;
  if (!header.ParseFromString(t.module()))
    throw Error(train.module().path + ": error: test net #" + std::to_string(index) +
                " cannot be parsed");
  ModuleWriter writer(header);
  std::string bytes, error;
  auto loaded = std::make_shared<LoadedModule>();
  std::string name = train.module().path + " (test net #" + std::to_string(index) + ")";
  if (!writer.serialize(bytes, error) ||
      !parseModule(std::vector<uint8_t>(bytes.begin(), bytes.end()), name, *loaded, error))
    throw Error(error);
  module_ = loaded;
  ex_ = std::make_unique<Executor>(module_, train.options());
  for (int p = 0; p < module_->header.params_size(); ++p) {
    int t = module_->header.params(p).tensor();
    const std::string &pname = ex_->tensorName(t);
    if (pname.find('@') != std::string::npos)
      continue;
    int source = train.tensorIndex(pname);
    if (source >= 0 && train.tensorKind(source) == TensorKind::Param &&
        train.tensorElements(source) == ex_->tensorElements(t))
      shared_.emplace_back(t, source);
  }
  if (readData)
    feed_ = std::make_unique<DataFeed>(*ex_);
  if (!feed_ || feed_->empty())
    fillDefaultInputs(*ex_, ex_->seed());
}

Tester::~Tester() = default;

void Tester::skipTests(int64_t tests) {
  if (feed_ && !feed_->empty())
    feed_->skip(tests * iterations_);
}

TestResult Tester::run() {
  auto start = std::chrono::steady_clock::now();
  for (auto [test, train] : shared_)
    ex_->setParam(test, train_.read(train_.tensorName(train)));
  TestResult r;
  r.iterations = iterations_;
  const std::vector<int> &outs = ex_->outputs();
  std::vector<double> sums(outs.size(), 0.0);
  for (int64_t i = 0; i < iterations_; ++i) {
    if (feed_ && !feed_->empty())
      feed_->next();
    ex_->runForward();
    for (size_t o = 0; o < outs.size(); ++o) {
      std::vector<float> v = ex_->read(ex_->tensorName(outs[o]));
      double s = 0;
      for (float x : v)
        s += x;
      sums[o] += v.empty() ? 0 : s / double(v.size());
    }
  }
  for (size_t o = 0; o < outs.size(); ++o)
    r.outputs.emplace_back(ex_->tensorName(outs[o]), sums[o] / double(iterations_));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

} // namespace dlc::rt

//===- Trainer.cpp - The training iteration -------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One iteration is Caffe's Solver::Step body: iter_size forward + backward
// passes whose gradients are summed, the loss averaged over them, then
// ApplyUpdate. The trained params are those with a gradient in the module
// (lr_mult 0 params get none, so Caffe's update leaves them as they are too).
// BatchNorm's moving averages (lr_mult 0 blobs too) are updated after each
// gradient pass, as Caffe's BatchNormLayer does in its forward.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Training.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

namespace pb = dlc::module;

namespace dlc::rt {

namespace {

/// The params with a gradient, their gradients, and the loss tensors.
void findTrainables(const Executor &ex, std::vector<int> &params, std::vector<int> &grads,
                    std::vector<double> &lrMult, std::vector<double> &decayMult,
                    std::vector<int> &losses) {
  const pb::Module &m = ex.module().header;
  static const std::string kSeed = "@seed";
  for (const pb::Param &p : m.params()) {
    const std::string &name = m.tensors(p.tensor()).name();
    if (name.size() > kSeed.size() &&
        name.compare(name.size() - kSeed.size(), kSeed.size(), kSeed) == 0) {
      int loss = ex.tensorIndex(name.substr(0, name.size() - kSeed.size()));
      if (loss >= 0)
        losses.push_back(loss);
      continue;
    }
    int grad = ex.tensorIndex(name + "@grad");
    if (grad < 0 || p.lr_mult() == 0 || !ex.computedBy(Entry::Gradient, grad))
      continue;
    if (ex.tensorBlock(grad) != 0)
      throw Error("training: the gradient of '" + name + "' is not in the plain layout");
    params.push_back(p.tensor());
    grads.push_back(grad);
    lrMult.push_back(p.lr_mult());
    decayMult.push_back(p.decay_mult());
  }
}

std::vector<int64_t> counts(const Executor &ex, const pb::Module &m) {
  std::vector<int> params, grads, losses;
  std::vector<double> lr, decay;
  if (!m.has_solver())
    throw Error("the module has no solver; compile it with 'dlc compile --solver SOLVER'");
  if (!ex.hasGradient())
    throw Error("the module has no gradient entry to train with");
  findTrainables(ex, params, grads, lr, decay, losses);
  std::vector<int64_t> out;
  for (int t : params)
    out.push_back(ex.tensorElements(t));
  return out;
}

} // namespace

Trainer::Trainer(Executor &executor)
    : ex_(executor), solver_(executor.module().header.solver()),
      update_(executor.module().header.solver(), counts(executor, executor.module().header)),
      averages_(executor) {
  findTrainables(ex_, paramTensors_, gradTensors_, lrMult_, decayMult_, lossTensors_);
  if (paramTensors_.empty())
    throw Error("training: the module has no parameter with a gradient (every lr_mult is 0?)");
  // The update compiled into the module (dl-codegen-update), unless the
  // executor loaded no native code (reference kernels).
  if (!solver_.gen_update().empty())
    if (std::shared_ptr<const NativeCode> native = ex_.nativeCode()) {
      void *fn = native->function(solver_.gen_update());
      if (!fn)
        throw Error("training: the module's native code has no function '" +
                    solver_.gen_update() + "'");
      update_.setGenerated(reinterpret_cast<dlc::ops::UpdateFunction>(fn));
      updateImpl_ = "generated:" + native->cpu();
    }
  if (solver_.iter_size() > 1)
    for (int t : gradTensors_)
      accum_.emplace_back(size_t(ex_.tensorElements(t)), 0.0f);
}

std::string Trainer::firstNonFinite() {
  std::string found;
  ex_.run(Entry::Forward, [&](int k) {
    if (!found.empty())
      return;
    for (int t : ex_.kernelOutputs(k)) {
      const float *d = ex_.tensorData(t);
      if (!d)
        continue;
      int64_t n = ex_.tensorElements(t);
      for (int64_t i = 0; i < n; ++i)
        if (!std::isfinite(d[i])) {
          const KernelInfo &info = ex_.kernelInfo(k);
          found = (info.loc.empty() ? std::string() : info.loc + ": ") + "layer '" + info.layer +
                  "' (" + info.op + ") wrote " + (std::isnan(d[i]) ? "nan" : "inf") +
                  " into '" + ex_.tensorName(t) + "' at element " + std::to_string(i);
          return;
        }
    }
  });
  return found;
}

StepResult Trainer::step(const Feed &feed) {
  StepResult r;
  r.iter = iter_;
  const int64_t passes = solver_.iter_size();
  std::vector<double> lossSum(lossTensors_.size(), 0.0);
  for (int64_t pass = 0; pass < passes; ++pass) {
    if (feed)
      feed(iter_, int(pass));
    ex_.setStep(uint64_t(iter_ * passes + pass));
    if (reducer_)
      reducer_->beginPass(passes == 1);
    if (averages_.empty() && !reducer_)
      ex_.runGradient();
    else
      ex_.run(Entry::Gradient, [&](int k) {
        if (!averages_.empty())
          averages_.afterKernel(ex_, k);
        if (reducer_)
          reducer_->afterKernel(k);
      });
    for (size_t l = 0; l < lossTensors_.size(); ++l) {
      const float *d = ex_.tensorData(lossTensors_[l]);
      int64_t n = ex_.tensorElements(lossTensors_[l]);
      for (int64_t i = 0; i < n; ++i)
        lossSum[l] += d[i];
    }
    double total = 0;
    for (double v : lossSum)
      total += v;
    if (!std::isfinite(total)) {
      std::string where = firstNonFinite();
      throw Error("iteration " + std::to_string(iter_) + ": the loss is " +
                  (std::isnan(total) ? "nan" : "inf") + "; " +
                  (where.empty() ? std::string("no forward output is (the loss layer itself?)")
                                 : "the first non-finite output: " + where));
    }
    // BatchNorm's moving averages, as Caffe's forward in phase TRAIN (after
    // the loss check: a diverged pass leaves them as they were).
    averages_.update(ex_);
    if (passes > 1)
      for (size_t p = 0; p < gradTensors_.size(); ++p) {
        const float *g = ex_.tensorData(gradTensors_[p]);
        float *a = accum_[p].data();
        int64_t n = int64_t(accum_[p].size());
        if (pass == 0)
          std::memcpy(a, g, size_t(n) * sizeof(float));
        else
          for (int64_t i = 0; i < n; ++i)
            a[i] += g[i];
      }
  }
  std::vector<UpdateParam> params(paramTensors_.size());
  for (size_t p = 0; p < paramTensors_.size(); ++p) {
    params[p].data = ex_.tensorData(paramTensors_[p]);
    params[p].grad = passes > 1 ? accum_[p].data() : ex_.tensorData(gradTensors_[p]);
    params[p].count = ex_.tensorElements(paramTensors_[p]);
    params[p].lrMult = lrMult_[p];
    params[p].decayMult = decayMult_[p];
  }
  if (reducer_) {
    std::vector<float *> grads;
    for (const UpdateParam &p : params)
      grads.push_back(const_cast<float *>(p.grad));
    reducer_->reduce(grads);
    reducer_->reduceLosses(lossSum);
  }
  const auto updateStart = std::chrono::steady_clock::now();
  r.rate = update_.apply(params, iter_);
  r.updateSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - updateStart).count();
  ex_.paramsUpdated();

  for (size_t l = 0; l < lossTensors_.size(); ++l) {
    r.outputs.emplace_back(ex_.tensorName(lossTensors_[l]), lossSum[l] / double(passes));
    r.loss += lossSum[l] / double(passes);
  }
  // Caffe's UpdateSmoothedLoss: the mean of the last average_loss losses.
  recent_.push_back(r.loss);
  recentSum_ += r.loss;
  if (int64_t(recent_.size()) > solver_.average_loss()) {
    recentSum_ -= recent_.front();
    recent_.pop_front();
  }
  r.smoothedLoss = recentSum_ / double(recent_.size());
  ++iter_;
  return r;
}

} // namespace dlc::rt

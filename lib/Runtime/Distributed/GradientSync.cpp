//===- GradientSync.cpp - Bucketed gradient allreduce ---------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The gradients are grouped into buckets of about SyncOptions::bucketBytes in
// the order the gradient entry finishes them (the last kernel writing each
// gradient tensor: the backward pass finishes the last layers' gradients
// first). After the kernel that completes a bucket, its gradients are copied
// into the bucket's buffer and its allreduce is queued on the
// communicator's thread while the backward pass goes on; reduce() waits for
// the rest and writes the means back. Without overlap (iter_size > 1, where
// the update's gradients are sums over the passes, or SyncOptions::overlap
// false) every bucket is reduced in reduce().
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Distributed.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>

namespace pb = dlc::module;

namespace dlc::rt {

Communicator::~Communicator() = default;

void AsyncOp::finish(const std::string &error, double secs) {
  {
    std::lock_guard<std::mutex> lock(m_);
    error_ = error;
    seconds = secs;
    done_ = true;
  }
  cv_.notify_all();
}

void AsyncOp::wait() {
  std::unique_lock<std::mutex> lock(m_);
  cv_.wait(lock, [&] { return done_; });
  if (!error_.empty())
    throw Error(error_);
}

static_assert(kOneBitBlock % 32 == 0, "1-bit blocks are whole words");

int64_t oneBitMessageBytes(int64_t n) {
  const int64_t blocks = (n + kOneBitBlock - 1) / kOneBitBlock;
  return blocks * 2 * int64_t(sizeof(float)) + (n + 31) / 32 * int64_t(sizeof(uint32_t));
}

void oneBitEncode(const float *x, int64_t n, float *residual, uint8_t *message) {
  const int64_t blocks = (n + kOneBitBlock - 1) / kOneBitBlock;
  float *values = reinterpret_cast<float *>(message);
  uint32_t *bits = reinterpret_cast<uint32_t *>(message + blocks * 2 * sizeof(float));
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t lo = b * kOneBitBlock, hi = std::min(n, lo + kOneBitBlock);
    float *r = residual + lo;
    const float *in = x + lo;
    const int64_t len = hi - lo;
    float pos = 0, neg = 0;
    int64_t npos = 0;
    for (int64_t i = 0; i < len; ++i) {
      const float v = in[i] + r[i];
      r[i] = v;
      pos += v >= 0 ? v : 0.f;
      neg += v < 0 ? v : 0.f;
      npos += v >= 0;
    }
    const float up = npos ? pos / float(npos) : 0.f;
    const float down = len - npos ? neg / float(len - npos) : 0.f;
    values[2 * b] = up;
    values[2 * b + 1] = down;
    // Blocks are whole words (kOneBitBlock is a multiple of 32) but the last.
    for (int64_t w = 0; w * 32 < len; ++w) {
      uint32_t word = 0;
      const int64_t m = std::min<int64_t>(32, len - w * 32);
      float *rw = r + w * 32;
      for (int64_t j = 0; j < m; ++j) {
        const bool set = rw[j] >= 0;
        word |= uint32_t(set) << j;
        rw[j] -= set ? up : down;
      }
      bits[(lo + w * 32) / 32] = word;
    }
  }
}

void oneBitDecodeAdd(const uint8_t *message, int64_t n, float *out) {
  const int64_t blocks = (n + kOneBitBlock - 1) / kOneBitBlock;
  const float *values = reinterpret_cast<const float *>(message);
  const uint32_t *bits = reinterpret_cast<const uint32_t *>(message + blocks * 2 * sizeof(float));
  for (int64_t w = 0; w * 32 < n; ++w) {
    const float up = values[2 * (w * 32 / kOneBitBlock)];
    const float down = values[2 * (w * 32 / kOneBitBlock) + 1];
    const uint32_t word = bits[w];
    const int64_t m = std::min<int64_t>(32, n - w * 32);
    float *o = out + w * 32;
    for (int64_t j = 0; j < m; ++j)
      o[j] += (word >> j) & 1u ? up : down;
  }
}

GradientSync::GradientSync(Executor &ex, Communicator &comm, std::vector<int> grads,
                           SyncOptions options)
    : ex_(ex), comm_(comm), grads_(std::move(grads)), options_(options) {
  const int K = ex_.numKernels(Entry::Gradient);
  // The kernel after which each gradient is final: the last that writes it
  // (a gradient of shared weights is written by several).
  std::vector<int> last(grads_.size(), K - 1);
  for (size_t p = 0; p < grads_.size(); ++p) {
    int found = -1;
    for (int k = 0; k < K; ++k) {
      const std::vector<int> &outs = ex_.kernelOutputs(k);
      if (std::find(outs.begin(), outs.end(), grads_[p]) != outs.end())
        found = k;
    }
    if (found >= 0)
      last[p] = found;
  }
  std::vector<size_t> order(grads_.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return last[a] < last[b]; });
  Bucket current;
  int64_t bytes = 0;
  auto close = [&] {
    if (current.tensors.empty())
      return;
    current.data.resize(size_t(bytes / int64_t(sizeof(float))));
    if (options_.oneBit) {
      const int64_t n = int64_t(current.data.size());
      current.residual.assign(size_t(n), 0.f);
      current.message.resize(size_t(oneBitMessageBytes(n)));
      current.gathered.resize(current.message.size() * size_t(comm_.size()));
    }
    buckets_.push_back(std::move(current));
    current = Bucket();
    bytes = 0;
  };
  for (size_t p : order) {
    const int64_t n = ex_.tensorElements(grads_[p]);
    if (bytes > 0 && bytes + 4 * n > options_.bucketBytes)
      close();
    current.tensors.push_back(grads_[p]);
    current.params.push_back(p);
    current.offsets.push_back(bytes / 4);
    current.lastKernel = std::max(current.lastKernel, last[p]);
    bytes += 4 * n;
  }
  close();
  bucketsAfterKernel_.resize(size_t(std::max(K, 1)));
  for (size_t b = 0; b < buckets_.size(); ++b)
    bucketsAfterKernel_[size_t(buckets_[b].lastKernel)].push_back(b);
}

GradientSync::~GradientSync() {
  // Buckets still in flight (an error elsewhere) must finish before their
  // buffers go.
  for (Bucket &b : buckets_)
    if (b.pending)
      try {
        b.pending->wait();
      } catch (const Error &) {
      }
}

void GradientSync::beginPass(bool final) {
  overlapThisPass_ = options_.overlap && final;
  for (Bucket &b : buckets_)
    b.pending.reset();
}

void GradientSync::start(Bucket &b, const std::vector<const float *> &from) {
  for (size_t i = 0; i < b.tensors.size(); ++i)
    std::memcpy(b.data.data() + b.offsets[i], from[i],
                size_t(ex_.tensorElements(b.tensors[i])) * sizeof(float));
  if (!options_.oneBit) {
    b.pending = comm_.allreduceSumAsync(b.data.data(), int64_t(b.data.size()));
    return;
  }
  oneBitEncode(b.data.data(), int64_t(b.data.size()), b.residual.data(), b.message.data());
  b.pending =
      comm_.allgatherAsync(b.message.data(), int64_t(b.message.size()), b.gathered.data());
}

void GradientSync::afterKernel(int kernel) {
  if (!overlapThisPass_ || size_t(kernel) >= bucketsAfterKernel_.size())
    return;
  for (size_t bi : bucketsAfterKernel_[size_t(kernel)]) {
    Bucket &b = buckets_[bi];
    std::vector<const float *> from;
    for (int t : b.tensors)
      from.push_back(ex_.tensorData(t));
    start(b, from);
  }
}

void GradientSync::reduce(const std::vector<float *> &grads) {
  using Clock = std::chrono::steady_clock;
  const auto begin = Clock::now();
  SyncStats s;
  for (Bucket &b : buckets_)
    if (!b.pending) {
      std::vector<const float *> from;
      for (size_t p : b.params)
        from.push_back(grads[p]);
      start(b, from);
    }
  const float scale = 1.0f / float(comm_.size());
  for (Bucket &b : buckets_) {
    std::shared_ptr<AsyncOp> op = std::move(b.pending);
    op->wait();
    s.allreduceSeconds += op->seconds;
    ++s.buckets;
    if (options_.oneBit) { // the sum of every rank's reconstruction
      s.bytes += int64_t(b.message.size());
      std::fill(b.data.begin(), b.data.end(), 0.f);
      for (int r = 0; r < comm_.size(); ++r)
        oneBitDecodeAdd(b.gathered.data() + size_t(r) * b.message.size(),
                        int64_t(b.data.size()), b.data.data());
    } else {
      s.bytes += int64_t(b.data.size() * sizeof(float));
    }
    for (size_t i = 0; i < b.params.size(); ++i) {
      float *g = grads[b.params[i]];
      const float *src = b.data.data() + b.offsets[i];
      const int64_t n = ex_.tensorElements(b.tensors[i]);
      for (int64_t j = 0; j < n; ++j)
        g[j] = src[j] * scale;
    }
  }
  s.exposedSeconds = std::chrono::duration<double>(Clock::now() - begin).count();
  stats_ = s;
}

void GradientSync::reduceLosses(std::vector<double> &sums) {
  if (sums.empty())
    return;
  comm_.allreduceSum(sums.data(), int64_t(sums.size()));
  for (double &v : sums)
    v /= double(comm_.size());
}

void averageGradients(Executor &ex, Communicator &comm, const std::vector<int> &grads) {
  GradientSync sync(ex, comm, grads, SyncOptions());
  std::vector<float *> data;
  for (int t : grads)
    data.push_back(ex.tensorData(t));
  sync.beginPass(false);
  sync.reduce(data);
}

void broadcastParams(Executor &ex, Communicator &comm) {
  for (const pb::Param &p : ex.module().header.params())
    comm.broadcast(ex.tensorData(p.tensor()), ex.tensorElements(p.tensor()), 0);
  ex.paramsUpdated();
}

} // namespace dlc::rt

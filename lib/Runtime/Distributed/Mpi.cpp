//===- Mpi.cpp - The MPI communicator -------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every MPI call of the process is made by one thread (MPI_THREAD_FUNNELED:
// it calls MPI_Init_thread too), which takes operations from a queue in
// order. Collectives are started non-blocking (MPI_Iallreduce, MPI_Ibcast,
// MPI_Ibarrier) and polled with MPI_Test, which also drives Open MPI's
// progress, until they complete or the deadline passes: a rank that died or
// hangs then gives the others an error naming the operation instead of a
// hang. Polling backs off from spinning to 50 us sleeps, so the thread
// leaves the cores to the compute while a long allreduce runs.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Distributed.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <future>
#include <thread>

namespace dlc::rt {

bool haveMpi() { return true; }

namespace {

using Clock = std::chrono::steady_clock;

std::string mpiError(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, size_t(len));
}

class MpiCommunicator : public Communicator {
public:
  explicit MpiCommunicator(double timeoutSeconds) : timeout_(timeoutSeconds) {
    std::promise<std::string> started;
    std::future<std::string> ready = started.get_future();
    thread_ = std::thread([this, &started] {
      int provided = 0;
      int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      if (rc != MPI_SUCCESS) {
        started.set_value("MPI_Init_thread failed: " + mpiError(rc));
        return;
      }
      // Errors come back as codes (reported with the operation), not aborts.
      MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
      MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
      MPI_Comm_size(MPI_COMM_WORLD, &size_);
      char version[MPI_MAX_LIBRARY_VERSION_STRING];
      int len = 0;
      MPI_Get_library_version(version, &len);
      library_ = std::string(version, size_t(len));
      if (size_t nl = library_.find_first_of(",\n"); nl != std::string::npos)
        library_.resize(nl);
      started.set_value("");
      loop();
      MPI_Finalize();
    });
    std::string error = ready.get();
    if (!error.empty()) {
      thread_.join();
      throw Error(error);
    }
  }

  ~MpiCommunicator() override {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string describe() const override { return "mpi (" + library_ + ")"; }

  void allreduceSum(float *data, int64_t n) override {
    allreduce(data, n, MPI_FLOAT, sizeof(float))->wait();
  }
  void allreduceSum(double *data, int64_t n) override {
    allreduce(data, n, MPI_DOUBLE, sizeof(double))->wait();
  }
  std::shared_ptr<AsyncOp> allreduceSumAsync(float *data, int64_t n) override {
    return allreduce(data, n, MPI_FLOAT, sizeof(float));
  }
  std::shared_ptr<AsyncOp> allgatherAsync(const void *send, int64_t bytes, void *recv) override {
    if (bytes > (int64_t(1) << 30))
      throw Error("allgather of more than 1 GiB per rank");
    return submit("allgather", [=](MPI_Request *r) {
      return MPI_Iallgather(send, int(bytes), MPI_BYTE, recv, int(bytes), MPI_BYTE,
                            MPI_COMM_WORLD, r);
    });
  }
  void broadcast(float *data, int64_t n, int root) override {
    pieces("broadcast", data, n, sizeof(float), [=](void *p, int count, MPI_Request *r) {
      return MPI_Ibcast(p, count, MPI_FLOAT, root, MPI_COMM_WORLD, r);
    })->wait();
  }
  void broadcast(int64_t *data, int64_t n, int root) override {
    pieces("broadcast", data, n, sizeof(int64_t), [=](void *p, int count, MPI_Request *r) {
      return MPI_Ibcast(p, count, MPI_INT64_T, root, MPI_COMM_WORLD, r);
    })->wait();
  }
  void barrier() override {
    submit("barrier", [](MPI_Request *r) { return MPI_Ibarrier(MPI_COMM_WORLD, r); })->wait();
  }
  [[noreturn]] void abort(int exitCode) override {
    std::fflush(stdout);
    std::fflush(stderr);
    // Any thread may abort (Open MPI's MPI_Abort does not need the
    // funneled thread's queue, which may be stuck behind a collective).
    MPI_Abort(MPI_COMM_WORLD, exitCode);
    std::_Exit(exitCode);
  }

private:
  using Start = std::function<int(MPI_Request *)>;
  struct Task {
    std::string what;
    Start start;
    std::shared_ptr<AsyncOp> op;
  };

  std::shared_ptr<AsyncOp> allreduce(void *data, int64_t n, MPI_Datatype type, size_t bytes) {
    return pieces("allreduce", data, n, bytes, [=](void *p, int count, MPI_Request *r) {
      return MPI_Iallreduce(MPI_IN_PLACE, p, count, type, MPI_SUM, MPI_COMM_WORLD, r);
    });
  }

  /// MPI counts are ints: n elements as pieces of at most 2^30, queued in
  /// order; the last one's completion (the queue runs them in order).
  std::shared_ptr<AsyncOp> pieces(const char *what, void *data, int64_t n, size_t bytes,
                                  std::function<int(void *, int, MPI_Request *)> start) {
    constexpr int64_t kPiece = int64_t(1) << 30;
    std::shared_ptr<AsyncOp> last;
    for (int64_t at = 0; at < n || (n == 0 && !last); at += kPiece) {
      void *p = static_cast<char *>(data) + size_t(at) * bytes;
      const int count = int(std::min(kPiece, n - at));
      last = submit(what, [=](MPI_Request *r) { return start(p, count, r); });
    }
    return last;
  }

  std::shared_ptr<AsyncOp> submit(std::string what, Start start) {
    auto op = std::make_shared<AsyncOp>();
    {
      std::lock_guard<std::mutex> lock(m_);
      queue_.push_back(Task{std::move(what), std::move(start), op});
    }
    cv_.notify_all();
    return op;
  }

  void loop() {
    for (;;) {
      Task t;
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty())
          return;
        t = std::move(queue_.front());
        queue_.pop_front();
      }
      auto begin = Clock::now();
      std::string error = run(t);
      t.op->finish(error, std::chrono::duration<double>(Clock::now() - begin).count());
    }
  }

  /// Starts and polls one collective; "" or the error. After an error the
  /// communicator refuses further operations (a collective cannot be
  /// cancelled: later ones would mix with it).
  std::string run(Task &t) {
    std::string error = poll(t);
    if (!error.empty() && healthy_.empty())
      healthy_ = "an earlier collective failed";
    return error;
  }

  std::string poll(Task &t) {
    const std::string who = "rank " + std::to_string(rank_) + " of " + std::to_string(size_);
    if (!healthy_.empty())
      return who + ": " + t.what + " not started: " + healthy_;
    MPI_Request request;
    int rc = t.start(&request);
    if (rc != MPI_SUCCESS)
      return who + ": " + t.what + " failed: " + mpiError(rc);
    const auto begin = Clock::now();
    const auto deadline = begin + std::chrono::duration<double>(timeout_);
    for (int polls = 0;; ++polls) {
      int done = 0;
      rc = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS)
        return who + ": " + t.what + " failed: " + mpiError(rc);
      if (done)
        return "";
      auto now = Clock::now();
      if (now > deadline) {
        char seconds[32];
        std::snprintf(seconds, sizeof(seconds), "%g", timeout_);
        return who + ": " + t.what + " did not complete within " + seconds +
               " s (--distributed-timeout): another rank died or stopped responding";
      }
      if (now - begin > std::chrono::microseconds(200))
        std::this_thread::sleep_for(std::chrono::microseconds(polls < 1000 ? 20 : 50));
    }
  }

  double timeout_;
  int rank_ = 0, size_ = 1;
  std::string library_, healthy_;
  std::thread thread_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  bool stop_ = false;
};

} // namespace

std::unique_ptr<Communicator> createMpiCommunicator(double timeoutSeconds) {
  static bool created = false;
  if (created)
    throw Error("MPI is initialized once per process");
  created = true;
  return std::make_unique<MpiCommunicator>(timeoutSeconds);
}

} // namespace dlc::rt

#include "core/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"

namespace attnlab {
namespace {

// Workers and the caller spin for up to kSpin before blocking on a condition variable: a
// condition-variable wake-up costs tens of microseconds on a loaded machine, as much as a whole
// batched GEMM of 4096 11x11 matrices, while back-to-back parallel calls find spinning workers.
constexpr std::chrono::microseconds kSpin{100};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Busy-polls this many times before yielding the core between polls: on an oversubscribed
// machine the thread we wait for may need our core.
constexpr int kPausePolls = 256;

// Spins until pred() or kSpin elapsed; returns pred().
template <class Pred>
bool spin_until(const Pred& pred) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1;; ++i) {
    if (pred()) return true;
    if (i < kPausePolls) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
    if (i % 64 == 0 && std::chrono::steady_clock::now() - start > kSpin) return pred();
  }
}

class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    for (int t = 1; t < threads_; ++t) workers_.emplace_back([this, t] { work(t); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  int threads() const { return threads_; }

  // Runs task(t) for t = 0..threads-1; thread 0 is the caller.
  void run(const std::function<void(int)>& task) {
    task_ = &task;
    error_ = nullptr;
    pending_.store(threads_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation_.fetch_add(1, std::memory_order_release);  // publishes task_, pending_
    }
    cv_.notify_all();
    std::exception_ptr mine;
    try {
      task(0);
    } catch (...) {
      mine = std::current_exception();
    }
    auto done = [this] { return pending_.load(std::memory_order_acquire) == 0; };
    if (!spin_until(done)) {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, done);
    }
    task_ = nullptr;
    if (mine) std::rethrow_exception(mine);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work(int t) {
    std::uint64_t seen = 0;
    for (;;) {
      auto fresh = [&] { return generation_.load(std::memory_order_acquire) != seen; };
      if (!spin_until(fresh)) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, fresh);
      }
      seen = generation_.load(std::memory_order_acquire);
      if (stop_flag()) return;
      std::exception_ptr err;
      try {
        (*task_)(t);
      } catch (...) {
        err = std::current_exception();
      }
      if (err) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) error_ = err;
      }
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);  // the caller may be between check and wait
        done_cv_.notify_one();
      }
    }
  }
  bool stop_flag() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int)>* task_ = nullptr;
  std::atomic<int> pending_{0};
  std::atomic<std::uint64_t> generation_{0};
  bool stop_ = false;         // guarded by mu_
  std::exception_ptr error_;  // guarded by mu_ while workers run
};

std::mutex g_config_mu;
// Held for the whole of a parallel call: calls from different external threads take turns, and
// the pool is only replaced (pool()) while nobody runs on it.
std::mutex g_run_mu;
int g_threads = 0;  // 0: not yet chosen
std::unique_ptr<Pool> g_pool;
thread_local bool t_inside = false;

Pool& pool() {
  std::lock_guard<std::mutex> lock(g_config_mu);
  if (g_threads == 0) g_threads = default_num_threads();
  if (!g_pool || g_pool->threads() != g_threads) {
    g_pool.reset();
    g_pool = std::make_unique<Pool>(g_threads);
  }
  return *g_pool;
}

}  // namespace

int default_num_threads() {
  if (const char* env = std::getenv("ATTNLAB_THREADS")) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end == env || *end != '\0' || v < 1 || v > 1024) {
      throw InputError("ATTNLAB_THREADS='" + std::string(env) +
                       "' is not allowed: it must be an integer from 1 to 1024");
    }
    return static_cast<int>(v);
  }
  // The CPUs this process may use, never the node's total: a Slurm task's allocation, else the
  // affinity mask (taskset, cgroup cpusets), else every core.
  if (const char* slurm = std::getenv("SLURM_CPUS_PER_TASK")) {
    char* end = nullptr;
    const long v = std::strtol(slurm, &end, 10);
    if (end != slurm && *end == '\0' && v >= 1 && v <= 1024) return static_cast<int>(v);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return std::min(1024, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

void set_num_threads(int threads) {
  if (threads < 1 || threads > 1024) {
    throw InputError("--threads " + std::to_string(threads) +
                     " is not allowed: it must be from 1 to 1024");
  }
  std::lock_guard<std::mutex> lock(g_config_mu);
  g_threads = threads;
}

int num_threads() {
  std::lock_guard<std::mutex> lock(g_config_mu);
  return g_threads == 0 ? default_num_threads() : g_threads;
}

void parallel_for(std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn,
                  std::size_t grain) {
  if (n == 0) return;
  grain = std::max<std::size_t>(grain, 1);
  const std::size_t max_parts = (n + grain - 1) / grain;
  if (t_inside || max_parts == 1 || num_threads() == 1) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> run_lock(g_run_mu);
  Pool& p = pool();
  const std::size_t parts = std::min<std::size_t>(static_cast<std::size_t>(p.threads()), max_parts);
  p.run([&](int t) {
    const auto ut = static_cast<std::size_t>(t);
    if (ut >= parts) return;
    const std::size_t begin = n * ut / parts, end = n * (ut + 1) / parts;
    t_inside = true;
    try {
      if (begin < end) fn(begin, end);
    } catch (...) {
      t_inside = false;
      throw;
    }
    t_inside = false;
  });
}

std::size_t num_chunks(std::size_t n, std::size_t chunk_size) {
  return chunk_size == 0 ? 0 : (n + chunk_size - 1) / chunk_size;
}

void parallel_chunks(std::size_t n, std::size_t chunk_size,
                     const std::function<void(std::size_t, std::size_t, std::size_t)>& fn) {
  const std::size_t chunks = num_chunks(n, chunk_size);
  parallel_for(chunks, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t c = c0; c < c1; ++c) {
      fn(c, c * chunk_size, std::min(n, (c + 1) * chunk_size));
    }
  });
}

}  // namespace attnlab

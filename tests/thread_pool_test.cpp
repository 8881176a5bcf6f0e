// Protects core/thread_pool: every index is run exactly once, chunking does not depend on the
// thread count, exceptions reach the caller, nested calls run serially, and the spin-then-block
// hand-off survives back-to-back calls and calls after the workers went to sleep.
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/error.h"

namespace attnlab {
namespace {

struct ThreadCount {
  int saved = num_threads();
  ~ThreadCount() { set_num_threads(saved); }
};

TEST(ThreadPool, ParallelForRunsEveryIndexExactlyOnce) {
  ThreadCount guard;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    for (std::size_t n :
         {std::size_t(0), std::size_t(1), std::size_t(2), std::size_t(7), std::size_t(1000)}) {
      for (std::size_t grain : {std::size_t(1), std::size_t(3), std::size_t(5000)}) {
        std::vector<std::atomic<int>> hits(n);
        parallel_for(
            n,
            [&](std::size_t b, std::size_t e) {
              ASSERT_LT(b, e);
              for (std::size_t i = b; i < e; ++i) hits[i].fetch_add(1);
            },
            grain);
        for (std::size_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[i].load(), 1) << "threads=" << threads << " n=" << n << " i=" << i;
      }
    }
  }
}

TEST(ThreadPool, ChunksDoNotDependOnThreadCount) {
  ThreadCount guard;
  auto chunks_of = [](int threads) {
    set_num_threads(threads);
    std::vector<std::pair<std::size_t, std::size_t>> seen(num_chunks(103, 10));
    parallel_chunks(103, 10, [&](std::size_t c, std::size_t b, std::size_t e) {
      seen[c] = {b, e};
    });
    return seen;
  };
  const auto one = chunks_of(1);
  EXPECT_EQ(one.size(), 11u);
  EXPECT_EQ(one.back(), (std::pair<std::size_t, std::size_t>{100, 103}));
  EXPECT_EQ(one, chunks_of(2));
}

TEST(ThreadPool, ExceptionInAWorkerReachesTheCaller) {
  ThreadCount guard;
  set_num_threads(2);
  EXPECT_THROW(parallel_for(100,
                            [](std::size_t b, std::size_t) {
                              if (b > 0) throw std::runtime_error("worker");
                            }),
               std::runtime_error);
  // The pool still works afterwards.
  std::atomic<int> sum{0};
  parallel_for(100, [&](std::size_t b, std::size_t e) { sum += static_cast<int>(e - b); });
  EXPECT_EQ(sum.load(), 100);
}

TEST(ThreadPool, NestedCallsRunSerially) {
  ThreadCount guard;
  set_num_threads(2);
  std::atomic<int> inner_calls{0};
  parallel_for(2, [&](std::size_t, std::size_t) {
    parallel_for(10, [&](std::size_t b, std::size_t e) {
      EXPECT_EQ(b, 0u);
      EXPECT_EQ(e, 10u);
      inner_calls.fetch_add(1);
    });
  });
  EXPECT_EQ(inner_calls.load(), 2);
}

TEST(ThreadPool, BackToBackAndAfterSleepHandOffs) {
  ThreadCount guard;
  set_num_threads(2);
  long total = 0;
  for (int call = 0; call < 2000; ++call) {  // spinning workers pick these up
    std::atomic<long> s{0};
    parallel_for(64, [&](std::size_t b, std::size_t e) { s += static_cast<long>(e - b); });
    total += s.load();
  }
  EXPECT_EQ(total, 2000L * 64);
  for (int call = 0; call < 3; ++call) {  // workers blocked on the condition variable
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::atomic<long> s{0};
    parallel_for(64, [&](std::size_t b, std::size_t e) { s += static_cast<long>(e - b); });
    EXPECT_EQ(s.load(), 64);
  }
}

TEST(ThreadPool, RejectsThreadCountsOutOfRange) {
  ThreadCount guard;
  EXPECT_THROW(set_num_threads(0), InputError);
  EXPECT_THROW(set_num_threads(1025), InputError);
}

}  // namespace
}  // namespace attnlab

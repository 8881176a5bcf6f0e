// Google Benchmark view of core/bgemm (target attnlab_gbench): one benchmark per shape, dtype
// and thread count on contiguous batches of 4096, reporting FLOP/s. The peer comparison
// (Eigen, libxsmm, OpenBLAS, torch) is `attnlab bench`.
#include <benchmark/benchmark.h>

#include <vector>

#include "core/bgemm.h"
#include "core/thread_pool.h"

namespace {

template <class T>
void BM_bgemm(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0)), n = static_cast<int>(state.range(1));
  const int k = static_cast<int>(state.range(2)), threads = static_cast<int>(state.range(3));
  constexpr int kBatch = 4096;
  attnlab::set_num_threads(threads);
  std::vector<T> a(std::size_t(m) * k * kBatch), b(std::size_t(k) * n * kBatch),
      c(std::size_t(m) * n * kBatch);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = T(0.001) * T(i % 1000);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = T(0.002) * T(i % 500);
  for (auto _ : state) {
    attnlab::bgemm_packed<T>(m, n, k, a.data(), b.data(), c.data(), kBatch);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] =
      benchmark::Counter(2.0 * m * n * k * kBatch, benchmark::Counter::kIsIterationInvariantRate);
}

void shapes(benchmark::internal::Benchmark* b) {
  const int kShapes[][3] = {{8, 8, 8},    {11, 11, 11}, {16, 16, 16}, {32, 32, 32},
                            {64, 64, 64}, {11, 20, 11}, {21, 11, 11}};
  for (const auto& s : kShapes)
    for (int t : {1, 2}) b->Args({s[0], s[1], s[2], t});
  b->ArgNames({"m", "n", "k", "threads"})->UseRealTime();
}

BENCHMARK_TEMPLATE(BM_bgemm, float)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_bgemm, double)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();

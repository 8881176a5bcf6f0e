#pragma once
// Peer benchmark of core/bgemm: attnlab's bgemm against, in the same run and on the same data,
// Eigen's per-matrix loop over mapped matrices, libxsmm (when linked), OpenBLAS's sgemm/dgemm
// loop (when linked) and torch.bmm (bench/compare_torch.py, when /usr/bin/python3 has torch).
// Every implementation computes C_b = A_b * B_b for b in [0, batch), column-major, contiguous.
// The peers' loops run on attnlab's thread pool with the same split of the batch.
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnlab::bench {

struct GemmShape {
  int m, n, k;
  std::string name() const;  // "MxNxK"
};

// Parses "MxNxK" (positive integers); throws InputError naming the text.
GemmShape parse_shape(const std::string& text);

struct BgemmBenchOptions {
  // Square 8, 11, 16, 32, 64 and the in-context shapes 11x20x11, 11x11x11, 21x11x11.
  std::vector<GemmShape> shapes = {{8, 8, 8},    {11, 11, 11}, {16, 16, 16}, {32, 32, 32},
                                   {64, 64, 64}, {11, 20, 11}, {21, 11, 11}};
  int batch = 4096;
  std::vector<int> threads = {1, 2};
  std::vector<std::string> dtypes = {"float", "double"};
  int repetitions = 7;        // timed repetitions per implementation; the median is reported
  double min_seconds = 0.05;  // each repetition repeats the batch until at least this long
  bool torch = true;          // run bench/compare_torch.py
  std::string python = "/usr/bin/python3";
};

struct BgemmResult {
  std::string shape, dtype, impl;
  int batch = 0, threads = 0;
  double gflops = 0;            // median over repetitions, wall clock
  double gflops_cpu = 0;        // median of flops / process CPU seconds (per busy core)
  std::vector<double> samples;  // wall-clock GFLOP/s of every repetition
};

// Implementations compiled in besides attnlab: some of "eigen", "libxsmm", "openblas".
std::vector<std::string> linked_peers();

// Runs every (shape, dtype, threads) with every available implementation; progress to `log`.
std::vector<BgemmResult> run_bgemm_bench(const BgemmBenchOptions& opt, std::ostream& log);

// {"machine": {...}, "options": {...}, "results": [...], "ratios": [...]}.
nlohmann::json bench_json(const BgemmBenchOptions& opt, const std::vector<BgemmResult>& results,
                          const nlohmann::json& machine);
nlohmann::json machine_info();

// Human-readable table: GFLOP/s per implementation and attnlab's ratios.
std::string bench_table(const std::vector<BgemmResult>& results);

}  // namespace attnlab::bench

// `attnlab bench`: bgemm against Eigen, libxsmm, OpenBLAS and torch.bmm on the same shapes;
// prints the table and, with --json FILE, writes {"machine", "results", "ratios"}.
#include "experiments/cli/cmd_bench.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench/bgemm_bench.h"
#include "core/error.h"
#include "core/io.h"

namespace attnlab {

namespace {

struct BenchArgs {
  std::string json;
  std::vector<std::string> shapes;
  std::vector<int> threads = {1, 2};
  std::vector<std::string> dtypes = {"float", "double"};
  int batch = 4096;
  int reps = 7;
  double min_seconds = 0.05;
  bool torch = true;
  std::string python = "/usr/bin/python3";
};

bench::BgemmBenchOptions to_options(const BenchArgs& a) {
  bench::BgemmBenchOptions opt;
  if (!a.shapes.empty()) {
    opt.shapes.clear();
    for (const auto& s : a.shapes) opt.shapes.push_back(bench::parse_shape(s));
  }
  for (int t : a.threads) {
    if (t < 1 || t > 1024) {
      throw InputError("--threads " + std::to_string(t) + " is not allowed: use 1..1024");
    }
  }
  for (const auto& d : a.dtypes) {
    if (d != "float" && d != "double") {
      throw InputError("--dtypes '" + d + "' is not allowed: use float or double");
    }
  }
  if (a.threads.empty() || a.dtypes.empty()) throw InputError("--threads/--dtypes are empty");
  if (a.batch < 1 || a.batch > 1000000) {
    throw InputError("--batch " + std::to_string(a.batch) + " is not allowed: use 1..1000000");
  }
  if (a.reps < 1 || a.reps > 1000) {
    throw InputError("--reps " + std::to_string(a.reps) + " is not allowed: use 1..1000");
  }
  if (!(a.min_seconds >= 0 && a.min_seconds <= 10)) {
    throw InputError("--min-seconds " + std::to_string(a.min_seconds) +
                     " is not allowed: use 0..10");
  }
  opt.threads = a.threads;
  opt.dtypes = a.dtypes;
  opt.batch = a.batch;
  opt.repetitions = a.reps;
  opt.min_seconds = a.min_seconds;
  opt.torch = a.torch;
  opt.python = a.python;
  return opt;
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand(
      "bench", "batched GEMM vs Eigen, libxsmm, OpenBLAS, torch.bmm (GFLOP/s, median)");
  cmd->add_option("--json", a->json, "also write the results to this JSON file");
  cmd->add_option("--shapes", a->shapes,
                  "shapes MxNxK (default: 8,11,16,32,64 cubes, 11x20x11, "
                  "21x11x11)")
      ->delimiter(',');
  cmd->add_option("--threads", a->threads, "thread counts (default 1,2)")->delimiter(',');
  cmd->add_option("--dtypes", a->dtypes, "float and/or double")->delimiter(',');
  cmd->add_option("--batch", a->batch, "matrices per batch (default 4096)");
  cmd->add_option("--reps", a->reps, "timed repetitions; the median is reported (default 7)");
  cmd->add_option("--min-seconds", a->min_seconds, "minimum length of one repetition");
  cmd->add_flag("!--no-torch", a->torch, "skip torch.bmm (bench/compare_torch.py)");
  cmd->add_option("--python", a->python, "Python 3 with torch for the torch.bmm peer");
  cmd->callback([a] {
    const bench::BgemmBenchOptions opt = to_options(*a);
    if (!a->json.empty()) ensure_writable_dir(std::filesystem::absolute(a->json).parent_path());
    const auto machine = bench::machine_info();
    const auto results = bench::run_bgemm_bench(opt, std::cerr);
    std::cout << bench::bench_table(results) << std::flush;
    if (!a->json.empty()) {
      auto j = bench::bench_json(opt, results, machine);
      j["machine"]["loadavg_end"] = bench::machine_info()["loadavg"];
      write_json_atomic(a->json, j);
      std::cerr << "wrote " << a->json << "\n";
    }
  });
}

}  // namespace attnlab

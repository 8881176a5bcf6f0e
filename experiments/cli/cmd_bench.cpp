// `attnlab bench`: bgemm against Eigen, libxsmm, OpenBLAS and torch.bmm on the same shapes;
// prints the table and, with --json FILE, writes {"machine", "results", "ratios"}. With
// --steps icl,var it also times one training step of the ICL FULL model and of SAMoVAR against
// the same step in PyTorch (bench/torch_<model>_step.py, alternating rounds) and adds "steps".
#include "experiments/cli/cmd_bench.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bgemm_bench.h"
#include "core/error.h"
#include "core/io.h"
#include "core/resources.h"

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
  bool bgemm = true;
  std::vector<std::string> steps;  // icl, var
  int rounds = 3;
  std::string python = "/usr/bin/python3";
};

const std::map<std::string, std::string> kStepScripts = {{"icl", "bench/torch_icl_step.py"},
                                                         {"var", "bench/torch_samovar_step.py"}};

// One training-step comparison: runs the PyTorch script, which alternates rounds of the PyTorch
// step and of `attnlab run <claim>` and prints medians, the ratio and a final JSON line.
// extra: more arguments for the script (configuration, precision, schedule).
nlohmann::json run_step_bench(const BenchArgs& a, const std::string& model,
                              const std::string& extra = "") {
  const auto script = resource_dir() / kStepScripts.at(model);
  if (::access(a.python.c_str(), X_OK) != 0)
    throw InputError("bench --steps: --python '" + a.python +
                     "' is not an executable file (give a Python 3 with python3-torch)");
  const auto self = std::filesystem::read_symlink("/proc/self/exe");
  std::string threads;
  for (int t : a.threads) threads += (threads.empty() ? "" : ",") + std::to_string(t);
  const std::string cmd = "'" + a.python + "' '" + script.string() + "' --attnlab '" +
                          self.string() + "' --threads " + threads + " --rounds " +
                          std::to_string(a.rounds) + extra + " 2>&1";
  std::cerr << "training step " << model << ": " << script.filename().string() << extra << "\n";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
  if (!pipe) throw InputError("bench --steps: --python '" + a.python + "' could not be started");
  nlohmann::json last;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe.get())) {
    std::string line(buf);
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object())
      last = j;
    else
      std::cerr << "  " << line;
  }
  if (last.is_null())
    std::cerr << "  (no result from --python '" << a.python
              << "': is python3-torch installed for it?)\n";
  return last;
}

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

double min_value(const nlohmann::json& by_threads) {
  double best = 0;
  bool first = true;
  for (const auto& [k, v] : by_threads.items()) {
    if (first || v.get<double>() < best) best = v.get<double>();
    first = false;
  }
  return best;
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
  cmd->add_option("--steps", a->steps,
                  "also time a training step against PyTorch: icl (FULL L = 4), var (SAMoVAR)")
      ->delimiter(',')
      ->check(CLI::IsMember({"icl", "var"}));
  cmd->add_flag("!--no-bgemm", a->bgemm, "skip the batched-GEMM comparison");
  cmd->add_option("--rounds", a->rounds, "alternating PyTorch/attnlab rounds per step benchmark")
      ->check(CLI::Range(1, 100));
  cmd->callback([a] {
    const bench::BgemmBenchOptions opt = to_options(*a);
    if (!a->json.empty()) ensure_writable_dir(std::filesystem::absolute(a->json).parent_path());
    const auto machine = bench::machine_info();
    std::vector<bench::BgemmResult> results;
    if (a->bgemm) {
      results = bench::run_bgemm_bench(opt, std::cerr);
      std::cout << bench::bench_table(results) << std::flush;
    }
    nlohmann::json steps = nlohmann::json::object();
    // SAMoVAR at the authors' synthetic and ETT configurations, in float64 and float32 (a
    // short schedule: a synthetic step takes seconds in PyTorch).
    std::vector<std::pair<std::string, std::string>> runs;  // key, extra arguments
    for (const auto& model : a->steps) {
      if (model != "var") {
        runs.emplace_back(model, "");
        continue;
      }
      for (const char* config : {"synthetic", "ett"})
        for (const char* dtype : {"float64", "float32"})
          runs.emplace_back(std::string("var.") + config + "." + dtype,
                            std::string(" --config ") + config + " --dtype " + dtype +
                                " --warmup 2 --reps 5 --steps-per-rep 2");
    }
    for (const auto& [key, extra] : runs) {
      steps[key] = run_step_bench(*a, key.substr(0, key.find('.')), extra);
      const auto& r = steps[key];
      if (r.contains("ratio_torch_best_over_attnlab_best")) {
        std::printf("training step %-20s PyTorch best %.4f s, attnlab best %.4f s: %.1fx\n",
                    key.c_str(), min_value(r["torch_seconds_per_step"]),
                    min_value(r["attnlab_seconds_per_step"]),
                    r["ratio_torch_best_over_attnlab_best"].get<double>());
        std::fflush(stdout);
      }
    }
    if (!a->json.empty()) {
      auto j = bench::bench_json(opt, results, machine);
      if (!a->steps.empty()) j["steps"] = steps;
      j["machine"]["loadavg_end"] = bench::machine_info()["loadavg"];
      write_json_atomic(a->json, j);
      std::cerr << "wrote " << a->json << "\n";
    }
  });
}

}  // namespace attnlab

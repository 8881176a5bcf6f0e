// `attnlab plan`, `attnlab merge`, `attnlab slurm`: paper-scale sweeps as units of work that
// shards run anywhere (`attnlab run --plan`), merged into the same result as one local run.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/io.h"
#include "experiments/cli/args.h"
#include "experiments/cli/commands.h"
#include "experiments/plan.h"

namespace attnlab {
namespace {

std::filesystem::path self_exe() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("attnlab") : p;
}

}  // namespace

void add_plan_commands(CLI::App& app) {
  {
    struct Args {
      std::vector<std::string> claims, overrides;
      std::string profile = "default", out, results = "results";
      std::string seed = "0";
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand(
        "plan",
        "write the independent units of work of claims (one per Table 1 cell, else one "
        "per claim) as JSON lines, for `attnlab run --plan`");
    cmd->add_option("claims", a->claims, "claim ids or prefixes")->required();
    cmd->add_option("--profile", a->profile, "smoke, default or full")
        ->check(CLI::IsMember({"smoke", "default", "full"}));
    cmd->add_option("--seed", a->seed, "base seed of every random stream");
    cmd->add_option("--set", a->overrides, "KEY=VALUE: replace a parameter of the profile");
    cmd->add_option("--results", a->results, "results folder the units write into");
    cmd->add_option("--out", a->out, "plan file to write (JSON lines)")->required();
    cmd->callback([a] {
      const std::uint64_t seed = seed_option(a->seed);
      check_output_dir(a->results, "--results");
      check_output_file(a->out, "--out");
      const auto claims = select_claims(load_all_claims(), a->claims);
      const auto units = make_plan(claims, a->profile, seed, a->overrides, a->results);
      write_plan(a->out, units);
      std::printf("%zu units of %zu claims -> %s\n", units.size(), claims.size(), a->out.c_str());
    });
  }
  {
    auto plan = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "merge",
        "assemble the results of a plan's claims from their finished units; names "
        "missing units (exit 1)");
    cmd->add_option("plan", *plan, "plan file")->required();
    cmd->callback([plan] {
      const MergeResult m = merge_plan(read_plan(*plan), true);
      bool ok = m.incomplete.empty();
      for (const auto& r : m.results) {
        std::printf("%s: %s (expected %s)%s -> %s\n", r.id.c_str(), r.verdict.c_str(),
                    r.expected.c_str(), r.ok ? "" : "  MISMATCH", r.path.string().c_str());
        ok = ok && r.ok;
      }
      for (const auto& line : m.incomplete) std::printf("%s\n", line.c_str());
      if (!ok) throw CLI::RuntimeError(1);
    });
  }
  {
    struct Args {
      std::string plan, out, time, partition;
      int per_task = 1, max_parallel = 0;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand(
        "slurm", "write a Slurm job-array script that runs a plan, and print its sbatch lines");
    cmd->add_option("plan", a->plan, "plan file")->required();
    cmd->add_option("--per-task", a->per_task, "units per array task")
        ->check(CLI::Range(1, 1000000));
    cmd->add_option("--max-parallel", a->max_parallel, "array tasks running at once (0: no limit)")
        ->check(CLI::Range(0, 1000000));
    cmd->add_option("--time", a->time, "time limit per task (Slurm format, e.g. 02:00:00)");
    cmd->add_option("--partition", a->partition, "Slurm partition");
    cmd->add_option("--out", a->out, "script to write")->required();
    cmd->callback([a] {
      const auto units = read_plan(a->plan);
      const SbatchScript s = slurm_script(a->plan, units.size(), a->per_task, a->max_parallel,
                                          a->time, a->partition, self_exe());
      ensure_writable_dir(std::filesystem::absolute(a->plan).parent_path() / "logs");
      check_output_file(a->out, "--out");
      write_file_atomic(a->out, s.script);
      std::filesystem::permissions(a->out, std::filesystem::perms::owner_exec,
                                   std::filesystem::perm_options::add);
      for (const auto& line : s.submit) std::printf("%s %s\n", line.c_str(), a->out.c_str());
    });
  }
}

}  // namespace attnlab

#pragma once
// Paper-scale sweeps as plans: independent units of work that many processes (a Slurm job array,
// GNU parallel, one workstation) run into one cell store, and a merge that assembles the claim's
// result from the store, bit-identical to one local run.
//
//   plan.jsonl: one JSON object per line, a unit:
//     {"id": content hash, "claim", "profile", "seed", "overrides": [--set of the user],
//      "unit": [--set restricting the run to this unit], "out": results folder (absolute),
//      "code": git commit of the code that planned it}
//   A finished unit leaves <out>/<profile>/<claim>/units/<id>.json (written atomically).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/claim.h"
#include "experiments/runner.h"

namespace attnlab {

struct PlanUnit {
  std::string id, claim, profile, code;
  std::uint64_t seed = 0;
  std::vector<std::string> overrides, unit;
  std::filesystem::path out;
  nlohmann::json json() const;
  // The file that marks the unit done.
  std::filesystem::path done_file() const;
};

// The units of the selected claims: one per combination of the kind's split_over parameters
// (after the user's overrides), else one per claim. InputError on a bad selector or override.
std::vector<PlanUnit> make_plan(const std::vector<Claim>& claims, const std::string& profile,
                                std::uint64_t seed, const std::vector<std::string>& overrides,
                                const std::filesystem::path& out);
void write_plan(const std::filesystem::path& path, const std::vector<PlanUnit>& units);
// InputError naming the file and line on a malformed plan.
std::vector<PlanUnit> read_plan(const std::filesystem::path& path);

// Runs units [first, first + count) that are not done yet; returns how many it ran. A unit that
// another process finishes meanwhile is at worst computed twice (every write is atomic).
int run_plan_units(const std::vector<PlanUnit>& units, std::size_t first, std::size_t count,
                   bool progress);

struct MergeResult {
  std::vector<ClaimResult> results;     // claims whose units are all done
  std::vector<std::string> incomplete;  // "claim: missing units id (--set ...), ..."
};
// For every claim of the plan whose units are all done: runs it once more over the whole (every
// piece comes from the cell store) and writes its result file. Claims with missing units are
// named in `incomplete` and not run.
MergeResult merge_plan(const std::vector<PlanUnit>& units, bool progress);

// A Slurm job-array script for the plan, `per_task` units per array task, and the sbatch lines
// that submit it (one per block of at most `max_array` tasks).
struct SbatchScript {
  std::string script;
  std::vector<std::string> submit;  // without the script path
};
SbatchScript slurm_script(const std::filesystem::path& plan, std::size_t units, int per_task,
                          int max_parallel, const std::string& time, const std::string& partition,
                          const std::filesystem::path& exe, int max_array = 1001);

}  // namespace attnlab

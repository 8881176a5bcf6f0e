// Plans: units that shards run in any order and thread count, merged into the same result as
// one local run; missing units named; Slurm arrays split at MaxArraySize.
#include "experiments/plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "core/thread_pool.h"

namespace attnlab {
namespace {
namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("attnlab_plan_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

std::vector<Claim> table1_and_one() {
  return select_claims(load_all_claims(), {"icl.table1", "icl.thm42_no_quadratic"});
}

TEST(Plan, OneUnitPerCellAndStableIds) {
  const auto claims = table1_and_one();
  const fs::path out = temp_dir("ids");
  const auto a = make_plan(claims, "smoke", 0, {}, out);
  const auto b = make_plan(claims, "smoke", 0, {}, out);
  ASSERT_EQ(a.size(), 3u);  // smoke table1: gdpp1 and diag1 on u5; thm42 whole
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].id, b[i].id);
  EXPECT_NE(a[0].id, a[1].id);
  EXPECT_EQ(a[0].unit, (std::vector<std::string>{"models=gdpp", "depths=1", "columns=u5"}));
  EXPECT_TRUE(a[2].unit.empty());
  EXPECT_NE(make_plan(claims, "smoke", 1, {}, out)[0].id, a[0].id);  // the seed is part of it
  const fs::path file = out / "plan.jsonl";
  write_plan(file, a);
  const auto c = read_plan(file);
  ASSERT_EQ(c.size(), a.size());
  EXPECT_EQ(c[1].json(), a[1].json());
  fs::remove_all(out);
}

TEST(Plan, UserSetOfASplitKeyIsReplacedByEachUnitsElement) {
  // `--set models=gdpp,diag` and a unit's own `models=gdpp`: each key given once to the run.
  const auto claims = select_claims(load_all_claims(), {"icl.table1"});
  const fs::path out = temp_dir("userset");
  const auto units = make_plan(claims, "smoke", 0, {"models=gdpp,diag", "steps=20"}, out);
  ASSERT_EQ(units.size(), 2u);
  EXPECT_EQ(units[0].overrides, (std::vector<std::string>{"models=gdpp,diag", "steps=20"}));
  set_num_threads(1);
  EXPECT_EQ(run_plan_units(units, 0, 1, false), 1);
  fs::remove_all(out);
}

TEST(Plan, ShardsThenMergeEqualOneLocalRunAndMissingUnitsAreNamed) {
  const auto claims = table1_and_one();
  const fs::path out = temp_dir("merge");
  const auto units = make_plan(claims, "smoke", 0, {}, out);
  set_num_threads(1);
  EXPECT_EQ(run_plan_units(units, 0, 1, false), 1);
  EXPECT_EQ(run_plan_units(units, 0, 1, false), 0);  // done: skipped, never half run twice
  MergeResult partial = merge_plan(units, false);
  ASSERT_EQ(partial.incomplete.size(), 2u);
  EXPECT_NE(partial.incomplete[0].find(units[1].id), std::string::npos) << partial.incomplete[0];
  EXPECT_NE(partial.incomplete[0].find("models=diag"), std::string::npos);
  set_num_threads(2);
  EXPECT_EQ(run_plan_units(units, 1, 5, false), 2);
  const MergeResult merged = merge_plan(units, false);
  set_num_threads(default_num_threads());
  ASSERT_TRUE(merged.incomplete.empty());
  ASSERT_EQ(merged.results.size(), 2u);
  for (const auto& r : merged.results) {
    RunOptions opt;
    opt.profile = "smoke";
    opt.write = false;
    opt.progress = false;
    const Claim& c = r.id == claims[0].id ? claims[0] : claims[1];
    const ClaimResult local = run_claim(c, opt);
    EXPECT_EQ(r.verdict, local.verdict) << r.id;
    EXPECT_EQ(r.json["metrics"].dump(), local.json["metrics"].dump()) << r.id;
    EXPECT_EQ(r.json["checks"].dump(), local.json["checks"].dump()) << r.id;
    EXPECT_EQ(r.json["per_seed"].dump(), local.json["per_seed"].dump()) << r.id;
    auto a = r.json["data"], b = local.json["data"];
    for (const char* k : {"runs_reused", "runs_trained"}) {  // bookkeeping of the cell store
      a.erase(k);
      b.erase(k);
    }
    EXPECT_EQ(a.dump(), b.dump()) << r.id;
  }
  fs::remove_all(out);
}

// Runs every unit of `units` (units_threads threads), merges, and checks that the merged result
// of the one claim equals one local smoke run of it (local_threads threads) bit for bit.
void expect_units_merge_to_local_run(const std::vector<Claim>& claims,
                                     const std::vector<PlanUnit>& units, int units_threads,
                                     int local_threads) {
  set_num_threads(units_threads);
  EXPECT_EQ(run_plan_units(units, 0, units.size(), false), static_cast<int>(units.size()));
  const MergeResult merged = merge_plan(units, false);
  set_num_threads(local_threads);
  ASSERT_TRUE(merged.incomplete.empty());
  ASSERT_EQ(merged.results.size(), 1u);
  RunOptions opt;
  opt.profile = "smoke";
  opt.write = false;
  opt.progress = false;
  const ClaimResult local = run_claim(claims[0], opt);
  set_num_threads(default_num_threads());
  const auto& r = merged.results[0];
  EXPECT_EQ(r.verdict, local.verdict);
  EXPECT_EQ(r.json["metrics"].dump(), local.json["metrics"].dump());
  EXPECT_EQ(r.json["per_seed"].dump(), local.json["per_seed"].dump());
  EXPECT_EQ(r.json["data"].dump(), local.json["data"].dump());
}

TEST(Plan, SamovarUnitsPerModelMergeToOneLocalRun) {
  // var.* synthetic claims split over `models`: each unit trains one model (every seed, both
  // budgets) into the cell store; the merge reads the trained weights back bit for bit.
  const auto claims = select_claims(load_all_claims(), {"var.generalizes_to_higher_orders_stable"});
  const fs::path out = temp_dir("samovar");
  const auto units = make_plan(claims, "smoke", 0, {}, out);
  ASSERT_GE(units.size(), 2u);
  EXPECT_EQ(units[0].unit.size(), 1u);
  EXPECT_EQ(units[0].unit[0].rfind("models=", 0), 0u) << units[0].unit[0];
  expect_units_merge_to_local_run(claims, units, 2, 1);
  fs::remove_all(out);
}

TEST(Plan, EttUnitsPerDatasetHorizonAndModelMergeToOneLocalRun) {
  // ett_forecast splits over datasets x horizons x models; each unit keeps its trained models'
  // scores (and the linear baselines') as cells, and the merge reads them back bit for bit.
  const auto claims = select_claims(load_all_claims(), {"curse.ett_linear_vs_attention"});
  const fs::path out = temp_dir("ett");
  const auto units = make_plan(claims, "smoke", 0, {}, out);
  ASSERT_EQ(units.size(), 2u);  // smoke: ETTh1 x horizon 24 x {samovar, lintrans}
  EXPECT_EQ(units[0].unit.size(), 3u);
  EXPECT_EQ(units[1].unit.back(), "models=lintrans");
  expect_units_merge_to_local_run(claims, units, 1, 2);
  fs::remove_all(out);
}

TEST(Plan, SlurmArraysSplitAtMaxArraySize) {
  const SbatchScript s =
      slurm_script("/tmp/p/plan.jsonl", 2500, 1, 8, "01:00:00", "debug", "/usr/bin/attnlab");
  ASSERT_EQ(s.submit.size(), 3u);
  EXPECT_EQ(s.submit[0], "sbatch --array=0-1000%8 --export=ALL,ATTNLAB_ARRAY_OFFSET=0");
  EXPECT_EQ(s.submit[1], "sbatch --array=0-1000%8 --export=ALL,ATTNLAB_ARRAY_OFFSET=1001");
  EXPECT_EQ(s.submit[2], "sbatch --array=0-497%8 --export=ALL,ATTNLAB_ARRAY_OFFSET=2002");
  EXPECT_NE(s.script.find("%A_%a"), std::string::npos);
  EXPECT_NE(s.script.find("SLURM_CPUS_PER_TASK"), std::string::npos);
  EXPECT_NE(s.script.find("#SBATCH --partition=debug"), std::string::npos);
  const SbatchScript two = slurm_script("/tmp/p/plan.jsonl", 5, 2, 0, "", "", "/usr/bin/attnlab");
  ASSERT_EQ(two.submit.size(), 1u);
  EXPECT_EQ(two.submit[0], "sbatch --array=0-2 --export=ALL,ATTNLAB_ARRAY_OFFSET=0");
}

TEST(Plan, MalformedPlanIsInputErrorNamingTheLine) {
  const fs::path out = temp_dir("bad");
  fs::create_directories(out);
  write_file_atomic(out / "p.jsonl", "{\"id\": 1}\n");
  try {
    read_plan(out / "p.jsonl");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("p.jsonl:1"), std::string::npos) << e.what();
  }
  fs::remove_all(out);
}

}  // namespace
}  // namespace attnlab

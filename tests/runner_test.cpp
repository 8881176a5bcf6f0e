// The runner: verdicts from checks, result files written atomically with provenance.
#include "experiments/runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>

#include "core/error.h"
#include "core/io.h"

namespace attnlab {
namespace {
namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  fs::path d =
      fs::temp_directory_path() / ("attnlab_runner_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

TEST(Runner, WritesResultWithProvenanceAndNoTempFiles) {
  const auto claims = load_all_claims();
  ASSERT_FALSE(claims.empty());
  RunOptions opt;
  opt.profile = "smoke";
  opt.out_dir = temp_dir("write");
  opt.progress = false;
  const ClaimResult r = run_claim(claims.front(), opt);
  ASSERT_TRUE(fs::exists(r.path));
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(opt.out_dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);  // only result.json, no leftover temporary file
  const auto& prov = r.json["provenance"];
  for (const char* key :
       {"git_commit", "git_dirty", "compiler", "build_type", "eigen", "boost", "nlohmann_json",
        "cpu", "instruction_set", "threads", "seed", "wall_seconds"}) {
    EXPECT_TRUE(prov.contains(key)) << key;
  }
  EXPECT_EQ(r.json["config"], claims.front().profiles.at("smoke").json());
  fs::remove_all(opt.out_dir);
}

TEST(Runner, VerdictFollowsChecks) {
  const auto claims = load_all_claims();
  const auto gated =
      std::find_if(claims.begin(), claims.end(), [](const Claim& x) { return !x.checks.empty(); });
  ASSERT_NE(gated, claims.end());
  Claim c = *gated;
  ASSERT_FALSE(c.checks.empty());
  RunOptions opt;
  opt.profile = "smoke";
  opt.write = false;
  opt.progress = false;
  const ClaimResult base = run_claim(c, opt);
  // Flip the first check's direction with its measured value as threshold: a strict comparison
  // against its own value must fail, so the verdict must be "fails" (or "inconclusive" when the
  // check decides on a 95% interval, which contains the mean).
  const auto& check = base.json["checks"][0];
  const double v = check["value"].get<double>();
  c.checks[0].op = c.checks[0].op[0] == '<' ? ">" : "<";
  c.checks[0].threshold["smoke"] = v;
  c.checks[0].negative_controls.clear();
  c.checks[0].positive_controls.clear();
  c.expected_by_profile.clear();
  c.expected = "holds";
  const ClaimResult flipped = run_claim(c, opt);
  EXPECT_EQ(flipped.verdict, check["decided_on"] == "interval" ? "inconclusive" : "fails");
  EXPECT_FALSE(flipped.ok);
  c.expected = "measured";
  EXPECT_EQ(run_claim(c, opt).verdict, "measured");
}

TEST(Runner, MissingProfileIsInputError) {
  const auto claims = load_all_claims();
  for (const auto& c : claims) {
    if (c.has_profile("full")) continue;
    RunOptions opt;
    opt.profile = "full";
    opt.write = false;
    EXPECT_THROW(run_claim(c, opt), InputError);
    return;
  }
  GTEST_SKIP() << "every claim has a full profile";
}

const Claim& claim_by_id(const std::string& id) {
  static const auto claims = load_all_claims();
  for (const auto& c : claims)
    if (c.id == id) return c;
  throw std::logic_error("no claim " + id);
}

std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Runner, SetOverridesAreTypedValidatedAndRecorded) {
  const Claim& c = claim_by_id("icl.table1");
  const ParamValues p = resolve_params(c, "smoke", {"depths=1,2", "models=diag", "lr=0.002"});
  EXPECT_EQ(p.ints("depths"), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(p.strings("models"), std::vector<std::string>{"diag"});
  EXPECT_EQ(p.d("lr"), 0.002);
  EXPECT_EQ(p.i("steps"), c.profiles.at("smoke").i("steps"));  // untouched keys stay
  EXPECT_NE(input_error([&] { resolve_params(c, "smoke", {"depth=1"}); }).find("'depth'"),
            std::string::npos);
  EXPECT_NE(input_error([&] { resolve_params(c, "smoke", {"depths=9"}); }).find("[1, 7]"),
            std::string::npos);
  EXPECT_NE(input_error([&] { resolve_params(c, "smoke", {"steps=1.5"}); }).find("integer"),
            std::string::npos);
  EXPECT_NE(input_error([&] { resolve_params(c, "smoke", {"steps"}); }).find("KEY=VALUE"),
            std::string::npos);
}

TEST(Runner, PartialSweepIsIncompleteAndResumesBitForBit) {
  Claim c = claim_by_id("icl.table1");
  RunOptions opt;
  opt.profile = "smoke";
  opt.out_dir = temp_dir("resume");
  opt.progress = false;
  opt.overrides = {"steps=50", "eval_count=500", "valid_count=200"};
  // A check that only the whole table can compute makes a partial run "incomplete".
  Check whole;
  whole.metric = "diag_full_max_gap";
  whole.op = "<=";
  whole.threshold["smoke"] = 1.0;
  c.checks.push_back(whole);
  const ClaimResult first = run_claim(c, opt);
  EXPECT_EQ(first.verdict, "incomplete");
  EXPECT_FALSE(first.ok);
  EXPECT_EQ(first.json["data"]["runs_trained"], 2);
  const auto cells = opt.out_dir / "smoke" / c.id / "cells";
  EXPECT_TRUE(fs::exists(cells / "diag1_u5_s0.json"));
  // Resume: nothing is retrained and every metric is identical.
  const ClaimResult again = run_claim(c, opt);
  EXPECT_EQ(again.json["data"]["runs_trained"], 0);
  EXPECT_EQ(again.json["data"]["runs_reused"], 2);
  EXPECT_EQ(again.json["metrics"], first.json["metrics"]);
  // A kept run computed by other code (another commit) is not reused.
  auto kept = read_json_file(cells / "diag1_u5_s0.json");
  kept["attnlab_code"] = "some-other-commit";
  write_json_atomic(cells / "diag1_u5_s0.json", kept);
  EXPECT_EQ(run_claim(c, opt).json["data"]["runs_trained"], 1);
  // A kept run from another configuration is not reused.
  opt.overrides.push_back("lr=0.002");
  EXPECT_EQ(run_claim(c, opt).json["data"]["runs_trained"], 2);
  fs::remove_all(opt.out_dir);
}

}  // namespace
}  // namespace attnlab

// The runner: verdicts from checks, result files written atomically with provenance.
#include "experiments/runner.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"

namespace attnlab {
namespace {
namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("attnlab_runner_" + name);
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
  for (const char* key : {"git_commit", "git_dirty", "compiler", "build_type", "eigen", "boost",
                          "nlohmann_json", "cpu", "threads", "seed", "wall_seconds"}) {
    EXPECT_TRUE(prov.contains(key)) << key;
  }
  EXPECT_EQ(r.json["config"], claims.front().profiles.at("smoke").json());
  fs::remove_all(opt.out_dir);
}

TEST(Runner, VerdictFollowsChecks) {
  const auto claims = load_all_claims();
  ASSERT_FALSE(claims.empty());
  Claim c = claims.front();
  ASSERT_FALSE(c.checks.empty());
  RunOptions opt;
  opt.profile = "smoke";
  opt.write = false;
  opt.progress = false;
  const ClaimResult base = run_claim(c, opt);
  // Flip the first check's direction with its measured value as threshold: a strict comparison
  // against its own value must fail, so the verdict must be "fails".
  const double v = base.json["checks"][0]["value"].get<double>();
  c.checks[0].op = c.checks[0].op[0] == '<' ? ">" : "<";
  c.checks[0].threshold["smoke"] = v;
  c.expected = "holds";
  const ClaimResult flipped = run_claim(c, opt);
  EXPECT_EQ(flipped.verdict, "fails");
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

}  // namespace
}  // namespace attnlab

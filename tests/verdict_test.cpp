// How checks decide: intervals, the half-budget rule, declared metrics, controls, and the claim
// file's basis and origin keys.
#include "experiments/verdict.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "experiments/registry.h"

namespace attnlab {
namespace {
namespace fs = std::filesystem;

Check check(const std::string& op, double threshold) {
  Check c;
  c.metric = "m";
  c.op = op;
  c.threshold["default"] = threshold;
  c.origin = "proposed";
  return c;
}

TEST(Verdict, IntervalStraddlingThresholdIsUndecided) {
  const Check c = check("<=", 1.0);
  EXPECT_EQ(decide(c, "default", 0.9, std::make_pair(0.8, 1.1)), Decision::Undecided);
  EXPECT_EQ(decide(c, "default", 0.9, std::make_pair(0.8, 0.95)), Decision::Pass);
  EXPECT_EQ(decide(c, "default", 1.2, std::make_pair(1.05, 1.3)), Decision::Fail);
  // Without an interval the point value decides.
  EXPECT_EQ(decide(c, "default", 0.9), Decision::Pass);
  EXPECT_EQ(decide(c, "default", 1.1), Decision::Fail);
  EXPECT_EQ(combine({Decision::Pass, Decision::Undecided}), "inconclusive");
  EXPECT_EQ(combine({Decision::Fail, Decision::Undecided}), "fails");
  EXPECT_EQ(combine({Decision::Pass, Decision::Pass}), "holds");
  // A run without the power to decide (a power check not passing) is never "fails".
  EXPECT_EQ(combine({Decision::Fail}, {Decision::Fail}), "inconclusive");
  EXPECT_EQ(combine({Decision::Fail}, {Decision::Undecided}), "inconclusive");
  EXPECT_EQ(combine({Decision::Fail}, {Decision::Pass}), "fails");
}

TEST(Verdict, VerdictThatChangesWithTheBudgetIsInconclusive) {
  EXPECT_EQ(stable_verdict("holds", "holds"), "holds");
  EXPECT_EQ(stable_verdict("fails", "fails"), "fails");
  EXPECT_EQ(stable_verdict("fails", "holds"), "inconclusive");
  EXPECT_EQ(stable_verdict("holds", "fails"), "inconclusive");
}

TEST(Verdict, MetricPatterns) {
  EXPECT_TRUE(metric_matches("ratio_*_m*_n*", "ratio_A_m64_n256"));
  EXPECT_TRUE(metric_matches("max_abs_cos", "max_abs_cos"));
  EXPECT_FALSE(metric_matches("max_abs_cos", "max_abs_cos@zero"));
  EXPECT_FALSE(metric_matches("ratio_*_m*", "ratio_A_n64"));
  EXPECT_TRUE(metric_matches("*", "anything"));
  EXPECT_FALSE(metric_matches("a*b", "ac"));
}

TEST(Verdict, EveryKindDeclaresMetricsAndEveryClaimNamesDeclaredOnes) {
  for (const auto& k : experiment_kinds()) EXPECT_FALSE(k.metrics.empty()) << k.name;
  for (const auto& c : load_all_claims()) {
    for (const auto& k : c.checks) {
      EXPECT_TRUE(kind_declares(c.kind(), k.metric)) << c.id << " " << k.metric;
      EXPECT_FALSE(k.origin.empty()) << c.id << " " << k.metric;
    }
    EXPECT_FALSE(c.basis.empty()) << c.id;
  }
}

// A claim file to mutate: icl.thm42_no_quadratic (fast, with a negative control).
nlohmann::json thm42() {
  for (const auto& c : load_all_claims())
    if (c.id == "icl.thm42_no_quadratic") return read_json_file(c.file);
  ADD_FAILURE() << "icl.thm42_no_quadratic not found";
  return {};
}

std::string parse_error(const nlohmann::json& j) {
  try {
    parse_claim(j, "claims/icl/x.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ClaimBasis, BasisOriginAndQuoteAreRequired) {
  auto j = thm42();
  ASSERT_EQ(parse_error(j), "");
  auto k = j;
  k["basis"] = "folklore";
  EXPECT_NE(parse_error(k).find("basis"), std::string::npos);
  k = j;
  k.erase("quote");
  EXPECT_NE(parse_error(k).find("quote"), std::string::npos);
  k["basis"] = "project";  // a project finding needs no quote of the paper
  EXPECT_EQ(parse_error(k), "");
  k = j;
  k["checks"][0].erase("origin");
  EXPECT_NE(parse_error(k).find("origin"), std::string::npos);
  k = j;
  k["checks"][0]["origin"] = "guess";
  EXPECT_NE(parse_error(k).find("allowed: paper, derived, proposed"), std::string::npos);
}

TEST(ClaimBasis, UnknownMetricIsAnErrorAtLoad) {
  auto j = thm42();
  j["checks"][0]["metric"] = "max_abs_cosine";
  const std::string err = parse_error(j);
  EXPECT_NE(err.find("max_abs_cosine"), std::string::npos) << err;
  EXPECT_NE(err.find("claims/icl/x.json"), std::string::npos) << err;
  j = thm42();
  j["checks"][0]["controls"] = {{"negative", {"no_such_control"}}};
  EXPECT_NE(parse_error(j).find("max_abs_cos@no_such_control"), std::string::npos);
  j = thm42();
  j["headline"] = "nothing";
  EXPECT_NE(parse_error(j).find("'nothing'"), std::string::npos);
}

TEST(ClaimBasis, ExpectedByProfile) {
  auto j = thm42();
  j["expected"] = {{"smoke", "inconclusive"}, {"default", "holds"}};
  j["reason"] = "smoke has too few draws";
  const Claim c = parse_claim(j, "claims/icl/x.json");
  EXPECT_EQ(c.expected, "holds");
  EXPECT_EQ(c.expected_at("smoke"), "inconclusive");
  j.erase("reason");
  EXPECT_NE(parse_error(j).find("reason"), std::string::npos);
  j["expected"] = {{"smoke", "holds"}};
  EXPECT_NE(parse_error(j).find("default"), std::string::npos);
}

// The executable: exit status and message for the same contract.
struct CliRun {
  int status = -1;
  std::string out, err;
};

CliRun run_cli(const std::string& args, const fs::path& claims) {
  const fs::path dir =
      fs::temp_directory_path() / ("attnlab_verdict_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string cmd = "ATTNLAB_CLAIMS_DIR='" + claims.string() + "' '" +
                          std::string(ATTNLAB_EXE) + "' " + args + " >'" + (dir / "out").string() +
                          "' 2>'" + (dir / "err").string() + "'";
  const int raw = std::system(cmd.c_str());
  CliRun r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_file(dir / "out");
  r.err = read_file(dir / "err");
  return r;
}

fs::path claims_with(const nlohmann::json& claim, const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("attnlab_verdict_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d / "icl");
  write_json_atomic(d / "icl" / "claim.json", claim);
  return d;
}

TEST(ClaimBasis, CliUnknownMetricIsExit2AtList) {
  auto j = thm42();
  j["checks"][0]["metric"] = "max_abs_cosine";
  const CliRun r = run_cli("list", claims_with(j, "unknown_metric"));
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("max_abs_cosine"), std::string::npos) << r.err;
}

TEST(ClaimBasis, CliCheckPassingOnItsNegativeControlMakesVerifyExit1) {
  auto j = thm42();
  const fs::path out = claims_with(j, "out");
  // As committed, the check fails on its negative control: verify exits 0.
  CliRun r = run_cli("verify icl --profile smoke --out '" + out.string() + "'",
                     claims_with(j, "control_ok"));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  // A threshold so loose that the control passes too: the check is vacuous.
  j["checks"][0]["threshold"] = 1.5;
  r = run_cli("verify icl --profile smoke --out '" + out.string() + "'", claims_with(j, "vacuous"));
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("VACUOUS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("quadratic_feature"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace attnlab

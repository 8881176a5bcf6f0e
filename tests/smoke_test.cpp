// Smoke: every claim's smoke profile reaches its expected verdict, and the same seed gives the
// same bits with 1 and 2 threads (metrics and figure data compared exactly).
#include <gtest/gtest.h>

#include "core/thread_pool.h"
#include "experiments/runner.h"

namespace attnlab {
namespace {

std::vector<std::string> claim_ids() {
  std::vector<std::string> ids;
  try {
    for (const auto& c : load_all_claims()) ids.push_back(c.id);
  } catch (const std::exception&) {
    // Broken claim files are reported by ClaimParse.EveryClaimFileLoads.
  }
  return ids;
}

const Claim& claim_by_id(const std::string& id) {
  static const std::vector<Claim> all = load_all_claims();
  for (const auto& c : all) {
    if (c.id == id) return c;
  }
  throw std::out_of_range(id);
}

class ClaimSmoke : public ::testing::TestWithParam<std::string> {};

TEST_P(ClaimSmoke, ReachesExpectedVerdictWithSameBitsOnOneAndTwoThreads) {
  const Claim& claim = claim_by_id(GetParam());
  RunOptions opt;
  opt.profile = "smoke";
  opt.seed = 0;
  opt.write = false;
  opt.progress = false;
  set_num_threads(2);
  const ClaimResult two = run_claim(claim, opt);
  EXPECT_EQ(two.verdict, claim.expected_at("smoke"))
      << claim.id << " (seed 0): " << two.json["checks"].dump(1);
  EXPECT_TRUE(two.json["undeclared_metrics"].empty())
      << claim.id << " emits metrics its kind does not declare: " << two.json["undeclared_metrics"];
  EXPECT_TRUE(two.controls_ok) << claim.id << ": a check passes on a negative control or fails "
                               << "on a positive one: " << two.json["checks"].dump(1);
  set_num_threads(1);
  const ClaimResult one = run_claim(claim, opt);
  set_num_threads(default_num_threads());
  EXPECT_EQ(one.json["metrics"].dump(), two.json["metrics"].dump()) << claim.id;
  EXPECT_EQ(one.json["data"].dump(), two.json["data"].dump()) << claim.id;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(Smoke, ClaimSmoke, ::testing::ValuesIn(claim_ids()), test_name);

}  // namespace
}  // namespace attnlab

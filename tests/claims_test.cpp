// Strict parsing of claim files: every malformed claim is an InputError naming file and key.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "core/io.h"
#include "experiments/claim.h"
#include "experiments/registry.h"

namespace attnlab {
namespace {

// A valid claim JSON to mutate: the first claim file in the tree that has checks.
nlohmann::json valid_claim() {
  for (const auto& c : load_all_claims())
    if (!c.checks.empty()) return read_json_file(c.file);
  return {};
}

std::string parse_error(const nlohmann::json& j) {
  try {
    parse_claim(j, "claims/test/x.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ClaimParse, EveryClaimFileLoads) {
  const auto claims = load_all_claims();
  ASSERT_FALSE(claims.empty());
  for (const auto& c : claims) {
    EXPECT_TRUE(c.has_profile("smoke")) << c.id;
    EXPECT_TRUE(c.has_profile("default")) << c.id;
    EXPECT_NE(find_experiment(c.experiment), nullptr) << c.id;
  }
}

TEST(ClaimParse, EveryClaimNamesTheCodeOfItsMetrics) {
  // From a claim id to the function that computes its metrics in one step: "code" names a
  // source file that registers the claim's kind and defines the function.
  for (const auto& c : load_all_claims()) {
    ASSERT_FALSE(c.code.empty()) << c.id << ": no key 'code'";
    const auto colon = c.code.rfind(':');
    const auto file = std::filesystem::path(ATTNLAB_SOURCE_DIR) / c.code.substr(0, colon);
    ASSERT_TRUE(std::filesystem::exists(file)) << c.id << ": " << file;
    const std::string src = read_file(file);
    const std::string fn = c.code.substr(colon + 1);
    EXPECT_NE(src.find("Outcome " + fn + "(const RunContext&"), std::string::npos)
        << c.id << ": " << file << " defines no " << fn;
    EXPECT_NE(src.find("\"" + c.experiment + "\""), std::string::npos)
        << c.id << ": " << file << " does not register kind " << c.experiment;
  }
}

TEST(ClaimParse, ValidClaimParses) {
  const auto j = valid_claim();
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(parse_error(j), "");
}

TEST(ClaimParse, MisspelledTopLevelKeyIsNamed) {
  auto j = valid_claim();
  j["statment"] = j["statement"];
  j.erase("statement");
  const std::string err = parse_error(j);
  EXPECT_NE(err.find("statment"), std::string::npos) << err;
  EXPECT_NE(err.find("claims/test/x.json"), std::string::npos) << err;
}

TEST(ClaimParse, MissingKeyIsNamed) {
  auto j = valid_claim();
  j.erase("source");
  EXPECT_NE(parse_error(j).find("missing key 'source'"), std::string::npos);
}

TEST(ClaimParse, MisspelledProfileParameterIsNamed) {
  auto j = valid_claim();
  auto& smoke = j["profiles"]["smoke"];
  ASSERT_FALSE(smoke.empty());
  const std::string key = smoke.begin().key();
  smoke[key + "x"] = smoke[key];
  smoke.erase(key);
  const std::string err = parse_error(j);
  EXPECT_NE(err.find("'" + key + "x'"), std::string::npos) << err;
  EXPECT_NE(err.find("profiles.smoke"), std::string::npos) << err;
}

TEST(ClaimParse, WrongTypeAndOutOfRangeAreNamed) {
  auto j = valid_claim();
  auto& smoke = j["profiles"]["smoke"];
  // Find a numeric parameter and make it a string, then far out of range.
  std::string key;
  for (auto& [k, v] : smoke.items()) {
    if (v.is_number()) {
      key = k;
      break;
    }
  }
  ASSERT_FALSE(key.empty()) << "first claim has no numeric smoke parameter";
  auto typed = j;
  typed["profiles"]["smoke"][key] = "seven";
  EXPECT_NE(parse_error(typed).find("'" + key + "'"), std::string::npos);
  auto ranged = j;
  // Far below any allowed range, of the parameter's own type.
  if (smoke[key].is_number_integer()) {
    ranged["profiles"]["smoke"][key] = std::numeric_limits<std::int64_t>::min();
  } else {
    ranged["profiles"]["smoke"][key] = -1e300;
  }
  const std::string err = parse_error(ranged);
  EXPECT_NE(err.find("'" + key + "'"), std::string::npos) << err;
  EXPECT_NE(err.find("allowed"), std::string::npos) << err;
}

TEST(ClaimParse, ExpectedFailsNeedsReason) {
  auto j = valid_claim();
  j["expected"] = "fails";
  j.erase("reason");
  EXPECT_NE(parse_error(j).find("reason"), std::string::npos);
  j["expected"] = "maybe";
  EXPECT_NE(parse_error(j).find("expected"), std::string::npos);
}

TEST(ClaimParse, BadCheckOpAndThresholdAreNamed) {
  auto j = valid_claim();
  ASSERT_FALSE(j["checks"].empty());
  auto op = j;
  op["checks"][0]["op"] = "=<";
  EXPECT_NE(parse_error(op).find("'op'"), std::string::npos);
  auto th = j;
  th["checks"][0]["threshold"] = {{"smoke", 1.0}};  // default missing
  EXPECT_NE(parse_error(th).find("missing threshold for profile 'default'"), std::string::npos);
}

TEST(ClaimParse, CheckRestrictedToProfilesNeedsOnlyTheirThresholds) {
  auto j = valid_claim();
  ASSERT_FALSE(j["checks"].empty());
  auto only = j;
  only["checks"][0]["profiles"] = {"default"};
  only["checks"][0]["threshold"] = {{"default", 1.0}};
  EXPECT_EQ(parse_error(only), "");
  const Claim c = parse_claim(only, "claims/test/x.json");
  EXPECT_FALSE(c.checks[0].applies("smoke"));
  EXPECT_TRUE(c.checks[0].applies("default"));
  auto extra = only;
  extra["checks"][0]["threshold"] = {{"default", 1.0}, {"smoke", 1.0}};
  EXPECT_NE(parse_error(extra).find("does not apply"), std::string::npos);
  auto unknown = only;
  unknown["checks"][0]["profiles"] = {"huge"};
  EXPECT_NE(parse_error(unknown).find("\"huge\""), std::string::npos);
  auto empty = only;
  empty["checks"][0]["profiles"] = nlohmann::json::array();
  EXPECT_NE(parse_error(empty).find("'profiles'"), std::string::npos);
}

TEST(ClaimParse, IdMustCarryPaperPrefix) {
  auto j = valid_claim();
  j["id"] = "other.thing";
  EXPECT_NE(parse_error(j).find("'id'"), std::string::npos);
}

TEST(ClaimSelect, PrefixSelectsClaimsUnderIt) {
  const auto all = load_all_claims();
  ASSERT_FALSE(all.empty());
  const std::string paper_prefix = all.front().id.substr(0, all.front().id.find('.'));
  const auto some = select_claims(all, {paper_prefix});
  EXPECT_FALSE(some.empty());
  for (const auto& c : some) EXPECT_EQ(c.id.rfind(paper_prefix + ".", 0), 0u);
  EXPECT_EQ(select_claims(all, {all.front().id}).size(), 1u);
  EXPECT_THROW(select_claims(all, {"nope"}), InputError);
}

TEST(ClaimSelect, FullIdSelectsOnlyThatClaimEvenWhenOthersExtendIt) {
  const auto all = load_all_claims();
  const auto one = select_claims(all, {"var.generalizes_to_higher_orders"});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one.front().id, "var.generalizes_to_higher_orders");
  // Without an exact id, "_" still extends a prefix: curse.e3 -> curse.e3_attention_ood_failure.
  const auto e3 = select_claims(all, {"curse.e3"});
  EXPECT_TRUE(std::any_of(e3.begin(), e3.end(),
                          [](const Claim& c) { return c.id == "curse.e3_attention_ood_failure"; }));
}

TEST(ParamValues, DefaultsAreFilledAndRecorded) {
  const std::vector<ParamSpec> schema = {p_int("n", 1, 10), p_real("s", 0, 1).optional(0.5),
                                         p_string("v", {"A", "B"})};
  const ParamValues p(nlohmann::json{{"n", 3}, {"v", "B"}}, schema, "here");
  EXPECT_EQ(p.i("n"), 3);
  EXPECT_EQ(p.d("s"), 0.5);
  EXPECT_EQ(p.json()["s"], 0.5);
  EXPECT_THROW(ParamValues(nlohmann::json{{"n", 3}, {"v", "C"}}, schema, "here"), InputError);
  EXPECT_THROW(ParamValues(nlohmann::json{{"n", 11}, {"v", "A"}}, schema, "here"), InputError);
  EXPECT_THROW(ParamValues(nlohmann::json{{"n", 2.5}, {"v", "A"}}, schema, "here"), InputError);
}

}  // namespace
}  // namespace attnlab

namespace attnlab {
namespace {

// `attnlab describe` promises every parameter's meaning: a kind cannot add one without it.
TEST(KindSchema, EveryParameterSaysWhatItMeans) {
  for (const auto& kind : experiment_kinds())
    for (const auto& p : kind.params)
      EXPECT_FALSE(p.help.empty()) << kind.name << "." << p.name << " has no .describe(...)";
}

}  // namespace
}  // namespace attnlab

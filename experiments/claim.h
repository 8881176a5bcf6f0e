#pragma once
// A claim: one JSON file under experiments/claims/<paper>/, parsed strictly into this struct.
//
// {
//   "id": "curse.e1_generator",          // <prefix>.<name>; prefix fixed by the paper
//   "paper": "curse",                     // icl | samovar | curse
//   "statement": "...", "source": "Def 4.1, spec §5 E1",
//   "experiment": "curse_e1_generator",   // an experiment kind in the registry
//   "expected": "holds" | "fails" | "measured",
//   "reason": "...",                      // required when expected is "fails"
//   "headline": "metric",                 // optional; default: first check's metric
//   "profiles": {"smoke": {...}, "default": {...}, "full": {...}},  // full optional
//   "checks": [{"metric": "m", "op": "<=", "threshold": 1e-10 | {"smoke": .., "default": ..},
//               "why": "where the number comes from",
//               "profiles": ["full"]}]            // optional: the profiles the check applies to
//                                                 // (default: all); e.g. a statement about a
//                                                 // whole table that only `full` computes
// }
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "experiments/experiment.h"

namespace attnlab {

struct Check {
  std::string metric;
  std::string op;                           // "<", "<=", ">", ">="
  std::map<std::string, double> threshold;  // by profile; a check applies to these profiles only
  std::string why;
  bool applies(const std::string& profile) const { return threshold.count(profile) != 0; }
  bool passes(double value, const std::string& profile) const;
};

struct Claim {
  std::string id, paper, statement, source, experiment, expected, reason, headline;
  std::map<std::string, Params> profiles;  // validated against the experiment's schema
  std::vector<Check> checks;
  std::filesystem::path file;

  const ExperimentKind& kind() const;
  bool has_profile(const std::string& profile) const { return profiles.count(profile) != 0; }
};

struct Paper {
  std::string key, prefix, citation, spec;
};
const std::vector<Paper>& papers();

Claim parse_claim(const nlohmann::json& j, const std::filesystem::path& file);
Claim load_claim(const std::filesystem::path& file);

// Where claim files live: $ATTNLAB_CLAIMS_DIR if set, else <source>/experiments/claims.
std::filesystem::path claims_dir();
// Every claim, sorted by id. Throws InputError on the first invalid file or duplicate id.
std::vector<Claim> load_all_claims(const std::filesystem::path& dir = claims_dir());

// Claims whose id equals a selector, or, when no id equals it, starts with "<selector>." or
// "<selector>_" (so "icl" and "curse.e3" select every claim under them, while a full id such as
// "var.generalizes_to_higher_orders" selects that claim alone). No selectors: all. A selector
// matching nothing is an InputError.
std::vector<Claim> select_claims(const std::vector<Claim>& all,
                                 const std::vector<std::string>& selectors);

}  // namespace attnlab

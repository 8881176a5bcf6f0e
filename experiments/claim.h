#pragma once
// A claim: one JSON file under experiments/claims/<prefix>/ (the id prefix: icl, var, curse),
// parsed strictly into this struct.
//
// {
//   "id": "curse.e1_generator",          // <prefix>.<name>; prefix fixed by the paper
//   "paper": "curse",                     // icl | samovar | curse (user claims: any name)
//   "statement": "...",
//   "basis": "paper" | "reading" | "project",
//       // paper: the paper's own statement (`source` gives its location, `quote` its words);
//       // reading: our formalisation of an informal sentence (`quote`: what the paper says);
//       // project: a fact we measured about an architecture or protocol, not the paper's
//   "source": "Def 4.1",                  // location in the paper (or what motivates it)
//   "quote": "...",                       // the paper's words; required unless basis is project
//   "experiment": "curse_e1_generator",   // an experiment kind in the registry
//   "citation": "Doe. My paper. 2026",     // required for a user claim (--claims-dir) whose
//       // paper is not icl, samovar or curse; its id then starts with "<paper>."
//   "code": "experiments/curse/generator_kinds.cpp:run",  // optional: the function that computes
//       // the metrics (every built-in claim has it: from a claim id to its code in one step)
//   "expected": "holds" | "fails" | "inconclusive" | "measured",
//       // or by profile, e.g. {"smoke": "inconclusive", "default": "inconclusive",
//       // "full": "holds"} when only the paper-scale run has the power to decide
//   "reason": "...",                      // required unless expected is "holds" or "measured"
//   "headline": "metric",                 // optional; default: first check's metric
//   "profiles": {"smoke": {...}, "default": {...}, "full": {...}},  // full optional
//   "checks": [{"metric": "m", "op": "<=", "threshold": 1e-10 | {"smoke": .., "default": ..},
//               "origin": "paper" | "derived" | "proposed",
//               "why": "where the number comes from (proposed: the measurement behind it)",
//               "controls": {"negative": ["zero"], "positive": ["oracle"]},  // optional:
//                   // the kind also emits "m@zero", "m@oracle": the same metric computed on a
//                   // control; the check must fail on every negative and pass on every positive
//                   // control, else it cannot decide anything (verify exits 1)
//               "power": true,     // optional: a condition for the run to decide at all (e.g.
//                                  // the trained models beat predicting 0); when it does not
//                                  // pass, the verdict is "inconclusive", never "fails"
//               "profiles": ["full"]}]            // optional: the profiles the check applies to
//                                                 // (default: all); e.g. a statement about a
//                                                 // whole table that only `full` computes
// }
// Every metric a claim names (checks, controls, headline) must be declared by its kind.
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
  std::string origin;                       // paper | derived | proposed
  std::string why;
  std::vector<std::string> negative_controls, positive_controls;
  bool power = false;  // a precondition for deciding, not part of the statement
  bool applies(const std::string& profile) const { return threshold.count(profile) != 0; }
  bool passes(double value, const std::string& profile) const;
};

struct Claim {
  std::string id, paper, statement, basis, source, quote, experiment, code, expected, reason,
      headline, citation;
  bool user = false;  // from a --claims-dir folder, not the built-in claims
  std::map<std::string, ParamValues> profiles;  // validated against the experiment's schema
  std::map<std::string, std::string> expected_by_profile;  // `expected` is the default profile's
  const std::string& expected_at(const std::string& profile) const {
    const auto it = expected_by_profile.find(profile);
    return it == expected_by_profile.end() ? expected : it->second;
  }
  std::vector<Check> checks;
  std::filesystem::path file;

  const ExperimentKind& kind() const;
  bool has_profile(const std::string& profile) const { return profiles.count(profile) != 0; }
};

struct Paper {
  std::string key, prefix, citation, spec;
};
const std::vector<Paper>& papers();

// `user`: a claim from a --claims-dir folder, which may name its own paper (with a citation).
Claim parse_claim(const nlohmann::json& j, const std::filesystem::path& file, bool user = false);
Claim load_claim(const std::filesystem::path& file, bool user = false);

// `name` matches the kind's declared metric pattern ('*' matches any run of characters).
bool metric_matches(const std::string& pattern, const std::string& name);
bool kind_declares(const ExperimentKind& kind, const std::string& metric);

// Where the built-in claim files live: $ATTNLAB_CLAIMS_DIR if set, else
// <source>/experiments/claims.
std::filesystem::path claims_dir();
// Folders of the user's own claims (`attnlab --claims-dir DIR`, repeatable), loaded beside the
// built-in ones by load_all_claims. InputError when one is not a folder.
void add_user_claims_dir(const std::filesystem::path& dir);
const std::vector<std::filesystem::path>& user_claims_dirs();
// Every claim of `dir` (every *.json below it, in folders named by the id prefix) and of the
// user's folders (any layout), sorted by id. Throws InputError on the first invalid file or a
// duplicate id (naming both files).
std::vector<Claim> load_all_claims(const std::filesystem::path& dir = claims_dir());

// Claims whose id equals a selector, or, when no id equals it, starts with "<selector>." or
// "<selector>_" (so "icl" and "curse.e3" select every claim under them, while a full id such as
// "var.generalizes_to_higher_orders" selects that claim alone). No selectors: all. A selector
// matching nothing is an InputError.
std::vector<Claim> select_claims(const std::vector<Claim>& all,
                                 const std::vector<std::string>& selectors);

}  // namespace attnlab

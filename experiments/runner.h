#pragma once
// Runs a claim in a profile: calls the experiment, applies the checks, writes the result file.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/claim.h"

namespace attnlab {

struct RunOptions {
  std::string profile = "default";
  std::uint64_t seed = 0;
  std::filesystem::path out_dir = "results";
  // Where result.json goes instead of out_dir (a run of its own, results/runs/<id>); the cells
  // stay in out_dir's store. Empty: out_dir.
  std::filesystem::path result_dir;
  bool write = true;         // write results/<profile>/<id>/result.json and kept cells
  bool write_result = true;  // false: keep cells only (a piece of a planned sweep)
  bool progress = true;      // progress on stderr (bar on a terminal, periodic lines otherwise)
  // "key=value" replacements of the profile's parameters (`--set`), validated against the
  // experiment's schema; lists are comma-separated ("depths=1,2,3"). The result file records
  // the resolved configuration.
  std::vector<std::string> overrides;
};

struct ClaimResult {
  std::string id, verdict, expected;
  bool ok = false;          // verdict == expected and every control behaved
  bool controls_ok = true;  // no check passed on a negative control or failed on a positive one
  double seconds = 0;
  std::string headline;
  double headline_value = 0;
  bool headline_computed = false;  // false: the run did not compute the headline metric
  nlohmann::json json;             // the whole result file
  std::filesystem::path path;
};

// verdict: "measured" when expected is "measured"; otherwise from the checks (experiments/
// verdict.h): "fails" when a check fails (on its 95% interval for a mean over seeds), "holds"
// when all pass, else "inconclusive"; a trained kind's verdict must also be the same at half the
// budget, else "inconclusive"; "incomplete" when the experiment computed only part of what the
// checks need.
// Throws InputError if the claim lacks the profile or an override is invalid, NumericError on
// NaN metrics.
ClaimResult run_claim(const Claim& claim, const RunOptions& options);

// Provenance of this run: git commit and dirty flag, compiler, build type, library versions,
// CPU model, thread count.
nlohmann::json provenance();

// The profile's parameters with `overrides` applied; InputError naming a bad key or value.
ParamValues resolve_params(const Claim& claim, const std::string& profile,
                           const std::vector<std::string>& overrides);

}  // namespace attnlab

#pragma once
// Runs a claim in a profile: calls the experiment, applies the checks, writes the result file.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "experiments/claim.h"

namespace attnlab {

struct RunOptions {
  std::string profile = "default";
  std::uint64_t seed = 0;
  std::filesystem::path out_dir = "results";
  bool write = true;     // write results/<profile>/<id>/result.json
  bool progress = true;  // progress on stderr (bar on a terminal, periodic lines otherwise)
};

struct ClaimResult {
  std::string id, verdict, expected;
  bool ok = false;
  double seconds = 0;
  std::string headline;
  double headline_value = 0;
  nlohmann::json json;  // the whole result file
  std::filesystem::path path;
};

// verdict: "measured" when expected is "measured"; otherwise "holds" when every check passes,
// else "fails". Throws InputError if the claim lacks the profile, NumericError on NaN metrics.
ClaimResult run_claim(const Claim& claim, const RunOptions& options);

// Provenance of this run: git commit and dirty flag, compiler, build type, library versions,
// CPU model, thread count.
nlohmann::json provenance();

}  // namespace attnlab

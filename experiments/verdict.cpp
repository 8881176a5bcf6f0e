#include "experiments/verdict.h"

#include <algorithm>

namespace attnlab {

const char* decision_name(Decision d) {
  switch (d) {
    case Decision::Pass:
      return "pass";
    case Decision::Fail:
      return "fail";
    case Decision::Undecided:
      return "undecided";
  }
  return "?";
}

Decision decide(const Check& check, const std::string& profile, double value,
                const std::optional<std::pair<double, double>>& interval) {
  if (!interval) return check.passes(value, profile) ? Decision::Pass : Decision::Fail;
  const bool lo = check.passes(interval->first, profile);
  const bool hi = check.passes(interval->second, profile);
  if (lo && hi) return Decision::Pass;
  if (!lo && !hi) return Decision::Fail;
  return Decision::Undecided;
}

std::string combine(const std::vector<Decision>& decisions, const std::vector<Decision>& power) {
  for (const Decision d : power)
    if (d != Decision::Pass) return "inconclusive";
  if (std::count(decisions.begin(), decisions.end(), Decision::Fail)) return "fails";
  if (std::count(decisions.begin(), decisions.end(), Decision::Undecided)) return "inconclusive";
  return "holds";
}

std::string stable_verdict(const std::string& half, const std::string& whole) {
  return half == whole ? whole : "inconclusive";
}

}  // namespace attnlab

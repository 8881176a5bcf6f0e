#pragma once
// How a claim's checks decide its verdict: point values, 95% intervals over seeds, controls and
// the half-budget stability rule. Pure functions of numbers, so each rule has a unit test.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "experiments/claim.h"

namespace attnlab {

enum class Decision { Pass, Fail, Undecided };
const char* decision_name(Decision d);  // "pass", "fail", "undecided"

// One check on one measured value. With an interval (a 95% interval for a mean over seeds), the
// check passes only when the whole interval passes and fails only when the whole interval
// fails; an interval that straddles the threshold leaves it undecided.
Decision decide(const Check& check, const std::string& profile, double value,
                const std::optional<std::pair<double, double>>& interval = std::nullopt);

// The claim's verdict from its checks: "fails" when any check fails, "holds" when all pass,
// else "inconclusive". `power`: the decisions of its power checks (preconditions for the run to
// decide anything); unless all pass, the verdict is "inconclusive".
std::string combine(const std::vector<Decision>& decisions,
                    const std::vector<Decision>& power = {});

// The verdict of a trained claim at the whole budget, given the verdict at half of it: a verdict
// that changes with the budget is "inconclusive" (the run has not shown it is stable).
std::string stable_verdict(const std::string& half, const std::string& whole);

}  // namespace attnlab

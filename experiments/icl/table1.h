#pragma once
// Table 1 of the paper as a sweep of cells (model, depth, noise column), spec §7.4 #14-#29.
#include <optional>
#include <string>
#include <vector>

#include "experiments/experiment.h"

namespace attnlab::icl {

std::vector<ExperimentKind> table1_experiments();

// Spec §7.4 #14 for one cell: how far `ours` lies outside the tolerance around the paper's value
// (<= 0: within). |ours - paper| <= max(0.006, 0.1 paper) where paper >= 0.01; at sigma_max = 0
// and L >= 4, ours <= max(10 paper, 1e-9). Nothing for cells the spec gives no rule for.
std::optional<double> table1_excess(const std::string& model, int L, const std::string& column,
                                    double ours);

}  // namespace attnlab::icl

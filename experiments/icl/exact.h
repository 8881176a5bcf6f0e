#pragma once
// Exact (no-training) checks of the icl theorems, spec §6 and §7.2.
#include <vector>

#include "experiments/experiment.h"

namespace attnlab::icl {

std::vector<ExperimentKind> exact_experiments();

}  // namespace attnlab::icl

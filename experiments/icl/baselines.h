#pragma once
// Ridge baselines of Table 1 (spec §3, §7.2 #7) and the 1-layer optimum (#8).
#include <vector>

#include "experiments/experiment.h"

namespace attnlab::icl {

std::vector<ExperimentKind> baseline_experiments();

}  // namespace attnlab::icl

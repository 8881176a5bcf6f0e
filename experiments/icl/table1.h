#pragma once
// Table 1 of the paper as a sweep of cells (model, depth, noise column), spec §7.4; the
// statements #14-#29 about it are in table1_statements.h.
#include <vector>

#include "experiments/experiment.h"

namespace attnlab::icl {

std::vector<ExperimentKind> table1_experiments();

}  // namespace attnlab::icl

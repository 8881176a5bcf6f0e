#pragma once
// Exact (double-precision, untrained) SAMoVAR claims: spec §5 #1-#5 and the rank-vs-depth claim.
#include <vector>

#include "experiments/experiment.h"

namespace attnlab::samovar_exp {

std::vector<ExperimentKind> exact_experiments();

}  // namespace attnlab::samovar_exp

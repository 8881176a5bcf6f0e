#pragma once
// Training claims (spec §7.3 budget protocol): FULL, DIAG, GD++ trained on the noisy mixture and
// evaluated by the adjusted loss, with the learned mechanisms and an ablation.
#include <vector>

#include "experiments/experiment.h"

namespace attnlab::icl {

std::vector<ExperimentKind> train_experiments();

}  // namespace attnlab::icl

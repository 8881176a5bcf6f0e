#pragma once
// Trained SAMoVAR claims on the synthetic VAR protocol (spec §3): generalisation to unseen higher
// orders against FixedVAR, the in-context least-squares VAR baseline and the noise floor.
#include <vector>

#include "experiments/experiment.h"

namespace attnlab::samovar_exp {

std::vector<ExperimentKind> train_experiments();

}  // namespace attnlab::samovar_exp

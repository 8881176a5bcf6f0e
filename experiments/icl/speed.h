#pragma once
// Wall time of one training step (data generation, forward, backward, clip, Adam) for the
// speed comparison with PyTorch (bench/torch_icl_step.py runs the same model).
#include <vector>

#include "experiments/experiment.h"

namespace attnlab::icl {

std::vector<ExperimentKind> speed_experiments();

}  // namespace attnlab::icl

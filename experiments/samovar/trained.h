#pragma once
// Trained-model var.* claims beyond generalisation: the misaligned-stack residual
// (var.misaligned_stack_not_var), the learned-W_k ablation (var.key_projection_ablation) and the
// training-step timing (var.step_speed).
#include <vector>

#include "experiments/experiment.h"

namespace attnlab::samovar_exp {

std::vector<ExperimentKind> trained_experiments();

}  // namespace attnlab::samovar_exp

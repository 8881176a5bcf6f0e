#pragma once
// The var.* experiment kinds, one function per file.
#include <vector>

#include "experiments/experiment.h"

namespace attnlab::var {

ExperimentKind generator_kind();                  // var.generator_stationary (generator_kinds.cpp)
std::vector<ExperimentKind> exact_experiments();  // spec §5 #1-#5, rank (exact_kinds.cpp)
// synthetic-protocol training: generalisation, dynamic weights, lags (generalization_kinds.cpp)
std::vector<ExperimentKind> generalization_experiments();
// misaligned stack, learned W_k ablation, step timing (trained_kinds.cpp)
std::vector<ExperimentKind> trained_experiments();

}  // namespace attnlab::var

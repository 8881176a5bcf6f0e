#pragma once
// The curse experiment kinds, one function per file.
#include <vector>

#include "experiments/experiment.h"

namespace attnlab::curse {

std::vector<ExperimentKind> generator_experiments();        // E1 (generator_kinds.cpp)
std::vector<ExperimentKind> attention_experiments();        // E3, E4, E5, E8 (attention_kinds.cpp)
std::vector<ExperimentKind> linear_experiments();           // E2 (linear_kinds.cpp)
std::vector<ExperimentKind> softmax_experiments();          // E6 (softmax_kinds.cpp)
std::vector<ExperimentKind> convergence_experiments();      // E7 (convergence_kinds.cpp)
std::vector<ExperimentKind> sec71_experiments();            // E9 (sec71_kinds.cpp)
std::vector<ExperimentKind> no_good_weights_experiments();  // E3b (no_good_weights_kinds.cpp)
std::vector<ExperimentKind> remedy_experiments();           // E10 remedy toys (remedy_kinds.cpp)

}  // namespace attnlab::curse

#pragma once
// The curse experiment kinds, one function per file.
#include <vector>

#include "experiments/experiment.h"

namespace attnlab::curse {

std::vector<ExperimentKind> attention_experiments();    // E3, E4, E5, E8 (attention_kinds.cpp)
std::vector<ExperimentKind> linear_experiments();       // E2 (linear_kinds.cpp)
std::vector<ExperimentKind> softmax_experiments();      // E6 (softmax_kinds.cpp)
std::vector<ExperimentKind> convergence_experiments();  // E7 (convergence_kinds.cpp)
std::vector<ExperimentKind> sec71_experiments();        // E9 (sec71_kinds.cpp)
std::vector<ExperimentKind> remedy_experiments();       // E3b (remedy_kinds.cpp)
std::vector<ExperimentKind> e10_experiments();          // E10 remedy toys (e10_kinds.cpp)

}  // namespace attnlab::curse

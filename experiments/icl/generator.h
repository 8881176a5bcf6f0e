#pragma once
// The generator claim's experiment kind (synth_icl_moments -> icl.generator_moments): the generator
// against its closed forms, by Monte Carlo moments (analysis/moments.h).
#include "experiments/experiment.h"

namespace attnlab::icl {

ExperimentKind generator_kind();

}  // namespace attnlab::icl

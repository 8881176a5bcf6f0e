#pragma once
// The generator claims' experiment kinds (experiments/foundation/*.cpp), registered in
// experiments/foundation/register.cpp.
#include "experiments/experiment.h"

namespace attnlab::foundation {

ExperimentKind curse_generator_kind();  // synth_curse_generator  -> curse.e1_generator
ExperimentKind var_stationary_kind();   // synth_var_stationary   -> var.generator_stationary
ExperimentKind icl_moments_kind();      // synth_icl_moments      -> icl.generator_moments

}  // namespace attnlab::foundation

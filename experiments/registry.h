#pragma once
// The one registry from experiment kind names to code, used by the CLI and by the tests.
// Each paper contributes its kinds through one function defined in its own folder.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/experiment.h"

namespace attnlab {

std::vector<ExperimentKind> icl_experiments();    // experiments/icl/
std::vector<ExperimentKind> var_experiments();    // experiments/var/
std::vector<ExperimentKind> curse_experiments();  // experiments/curse/
// experiments/ett/: the real-data pipeline, shared by claims of two papers
std::vector<ExperimentKind> ett_experiments();

// Each folder's metric_names.cpp: the metrics each of its kinds emits, and which kinds train.
const std::map<std::string, KindDeclaration>& icl_declarations();
const std::map<std::string, KindDeclaration>& var_declarations();
const std::map<std::string, KindDeclaration>& curse_declarations();
const std::map<std::string, KindDeclaration>& ett_declarations();

const std::vector<ExperimentKind>& experiment_kinds();
const ExperimentKind* find_experiment(std::string_view name);

}  // namespace attnlab

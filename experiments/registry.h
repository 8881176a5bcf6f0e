#pragma once
// The one registry from experiment kind names to code, used by the CLI and by the tests.
// Each paper contributes its kinds through one function defined in its own folder.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/experiment.h"

namespace attnlab {

std::vector<ExperimentKind> foundation_experiments();  // experiments/foundation/
std::vector<ExperimentKind> icl_experiments();         // experiments/icl/
std::vector<ExperimentKind> samovar_experiments();     // experiments/samovar/
std::vector<ExperimentKind> curse_experiments();       // experiments/curse/
std::vector<ExperimentKind>
ett_experiments();  // experiments/ett/ (real data, claims of two papers)

// Each folder's metric_names.cpp: the metrics each of its kinds emits, and which kinds train.
const std::map<std::string, KindDeclaration>& foundation_declarations();
const std::map<std::string, KindDeclaration>& icl_declarations();
const std::map<std::string, KindDeclaration>& samovar_declarations();
const std::map<std::string, KindDeclaration>& curse_declarations();
const std::map<std::string, KindDeclaration>& ett_declarations();

const std::vector<ExperimentKind>& experiment_kinds();
const ExperimentKind* find_experiment(std::string_view name);

}  // namespace attnlab

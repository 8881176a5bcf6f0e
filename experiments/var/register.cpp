#include "experiments/registry.h"
#include "experiments/var/kinds.h"

namespace attnlab {

std::vector<ExperimentKind> var_experiments() {
  std::vector<ExperimentKind> all{var::generator_kind()};
  for (auto* f :
       {var::exact_experiments, var::generalization_experiments, var::trained_experiments})
    for (auto&& k : f()) all.push_back(std::move(k));
  return all;
}

}  // namespace attnlab

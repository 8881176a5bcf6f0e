#include "experiments/curse/kinds.h"
#include "experiments/registry.h"

namespace attnlab {

std::vector<ExperimentKind> curse_experiments() {
  std::vector<ExperimentKind> all;
  for (auto* f :
       {curse::generator_experiments, curse::attention_experiments, curse::softmax_experiments,
        curse::sec71_experiments, curse::linear_experiments, curse::convergence_experiments,
        curse::no_good_weights_experiments, curse::remedy_experiments})
    for (auto&& k : f()) all.push_back(std::move(k));
  return all;
}

}  // namespace attnlab

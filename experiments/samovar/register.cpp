#include "experiments/registry.h"
#include "experiments/samovar/exact.h"
#include "experiments/samovar/train.h"
#include "experiments/samovar/trained.h"

namespace attnlab {

std::vector<ExperimentKind> samovar_experiments() {
  std::vector<ExperimentKind> all;
  for (auto&& k : samovar_exp::exact_experiments()) all.push_back(std::move(k));
  for (auto&& k : samovar_exp::train_experiments()) all.push_back(std::move(k));
  for (auto&& k : samovar_exp::trained_experiments()) all.push_back(std::move(k));
  return all;
}

}  // namespace attnlab

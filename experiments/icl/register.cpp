#include "experiments/icl/baselines.h"
#include "experiments/icl/exact.h"
#include "experiments/icl/generator.h"
#include "experiments/icl/speed.h"
#include "experiments/icl/table1.h"
#include "experiments/icl/trained_kinds.h"
#include "experiments/registry.h"

namespace attnlab {

std::vector<ExperimentKind> icl_experiments() {
  std::vector<ExperimentKind> all{icl::generator_kind()};
  for (auto&& k : icl::exact_experiments()) all.push_back(std::move(k));
  for (auto&& k : icl::baseline_experiments()) all.push_back(std::move(k));
  for (auto&& k : icl::train_experiments()) all.push_back(std::move(k));
  for (auto&& k : icl::speed_experiments()) all.push_back(std::move(k));
  for (auto&& k : icl::table1_experiments()) all.push_back(std::move(k));
  return all;
}

}  // namespace attnlab

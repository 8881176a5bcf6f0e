#include "experiments/foundation/kinds.h"
#include "experiments/registry.h"

namespace attnlab {

std::vector<ExperimentKind> foundation_experiments() {
  return {foundation::curse_generator_kind(), foundation::var_stationary_kind(),
          foundation::icl_moments_kind()};
}

}  // namespace attnlab

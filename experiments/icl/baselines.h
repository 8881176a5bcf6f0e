#pragma once
// Ridge baselines of Table 1 (spec §3, §7.2 #7) and the 1-layer optimum (#8).
#include <vector>

#include "analysis/icl_ridge.h"
#include "analysis/stats.h"
#include "experiments/experiment.h"
#include "experiments/icl/common.h"

namespace attnlab::icl {

// The ridge baselines of one noise column, tuned on `tune` and scored on `eval` as adjusted
// losses (paired with the oracle on the same sequences).
struct RidgeBaselines {
  PairedDiff constrr, adarr, tunedrr, ols;
  double constrr_lambda = 0, tunedrr_c = 0, tunedrr_tau = 0;  // tau = inf: no cap
};
RidgeBaselines ridge_baselines(const EvalSet& tune, const EvalSet& eval, int constrr_grid,
                               int tunedrr_grid);

std::vector<ExperimentKind> baseline_experiments();

}  // namespace attnlab::icl

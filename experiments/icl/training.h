#pragma once
// Training of FULL, DIAG and GD++ on the noisy in-context regression mixture (spec §4.3 budget
// recipe): float32 training on fresh batches every step, Adam with StepDecay lr (x0.1 at 60%,
// x0.01 at 90%), global-norm clip, init N(0, init_scale^2); float64 evaluation.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/icl_ridge.h"
#include "analysis/stats.h"
#include "experiments/icl/common.h"
#include "models/icl/diag.h"
#include "models/icl/full.h"

namespace attnlab::icl {

struct TrainSpec {
  std::string model = "diag";  // full | diag | gdpp
  int layers = 1, heads = 1;
  RegressionSpec data;
  std::int64_t steps = 1000;
  std::size_t batch = 512;
  double lr = 1e-3;
  double clip = 10;
  double init_scale = 0.02;
  bool decay = true;  // lr x0.1 at 60% and x0.01 at 90% of the steps; false: constant (paper)
};

struct TrainedModel {
  TrainSpec spec;
  FullParams<double> full;      // when model == full
  DiagParams<double> diag;      // when model is diag or gdpp
  double final_train_loss = 0;  // mean of the last 1% of steps
  double seconds = 0;
};

TrainedModel train_model(const TrainSpec& spec, std::uint64_t seed,
                         const std::function<void(double, std::string_view)>& progress);

// Adjusted loss (paired with the oracle on the same sequences) of every layer's readout, and the
// paired difference of the final one. `readouts` is (B, L) row-major, as predict_layers gives.
struct LayerScores {
  std::vector<double> per_layer;
  PairedDiff final_adj;
};
LayerScores score_layers(const std::vector<double>& readouts, int L, const EvalSet& set);

// Learned omegas per layer as [{"xx", "xy", "yx", "yy"}] for result files and figures.
nlohmann::json omegas_json(const std::vector<Omega<double>>& omegas);

// Readouts after every layer in float64: (B, L) row-major.
std::vector<double> predict_layers(const TrainedModel& m, const EvalSet& set);
// The same with the DIAG omegas replaced (ablations).
std::vector<double> predict_layers_omegas(const std::vector<Omega<double>>& omegas,
                                          const EvalSet& set);

}  // namespace attnlab::icl

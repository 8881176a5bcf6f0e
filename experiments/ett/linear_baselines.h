#pragma once
// The linear baselines of the real-data claims on ETTh1/ETTh2, with their published recipes:
//  * NLinear and DLinear (models/baselines/ltsf_linear.h) trained as cure-lab/LTSF-Linear's
//    run_longExp.py with scripts/EXP-LongForecasting/Linear/etth{1,2}.sh: lookback 336, Adam
//    (torch defaults), batches of 32 shuffled training windows (the last partial batch dropped),
//    at most 10 epochs, the learning rate halved after every epoch (lradj type1), early stopping
//    at patience 3 on the validation MSE with the best epoch's weights restored. One difference:
//    the validation MSE here is the mean over all windows, where the published code averages
//    per-batch means (the last, partial batch weighs as much as a full one).
//  * the residual linear network and the repeat forecaster (analysis/forecast_baselines.h).
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/forecast_baselines.h"
#include "models/baselines/ltsf_linear.h"

namespace attnlab::ett {

struct LtsfRecipe {
  double lr = 0.005;  // etth1.sh: 0.005; etth2.sh: 0.05
  int batch = 32, max_epochs = 10, patience = 3;
};
LtsfRecipe published_recipe(const std::string& dataset);  // "ETTh1" | "ETTh2"

struct LtsfTrained {
  ltsf::Params params;          // the best epoch's
  std::vector<double> val_mse;  // after every epoch run
  int best_epoch = 0;           // 1-based
};

// Trains on `train`'s windows (every channel of a window is one sample of the shared layer),
// stops early on `val`; batches are drawn from make_stream(seed, "ltsf.shuffle", epoch).
LtsfTrained train_ltsf(ltsf::Kind kind, const WindowSet& train, const WindowSet& val,
                       const LtsfRecipe& recipe, std::uint64_t seed);

Forecaster forecaster(const ltsf::Params& p);

}  // namespace attnlab::ett

#pragma once
// SAMoVAR, LinTrans and FixedVAR on ETTh1/ETTh2 with the authors' real-data recipe
// (LJC-FVNR/Structural-Aligned-Mixture-of-VAR, exp/exp_main.py and samovar.sh): patch length =
// horizon (ARX tokens), D = 64, 8 heads, 3 MLP blocks and 3 attention layers, dropout 0.1; AdamW
// (6e-4, betas 0.9/0.95, eps 1e-8, weight decay 0.1 on every parameter); OneCycleLR stepped per
// batch over (epochs + 1) x batches steps (start 6e-5, 5 % warm-up, linear anneal to 6e-9);
// gradient clipping at global norm 1.0; batches of 32 shuffled training windows (the last,
// partial batch kept); random channel drop; at most 100 epochs with early stopping at patience
// 12 on the validation MSE, the best epoch's weights kept. The authors' code normalises each
// input with its own RevIN (models/samovar/samovar.h) and trains in bf16; here float64 or
// float32 (Hyper::precision).
#include <cstdint>
#include <functional>
#include <vector>

#include "analysis/forecast_baselines.h"
#include "experiments/var/training.h"
#include "models/samovar/samovar.h"

namespace attnlab::ett {

struct EttRecipe {
  int epochs = 100;   // at most
  int patience = 12;  // epochs without a better validation MSE before stopping
  int batch = 32;
  double lr = 6e-4;  // OneCycle's peak
  double pct_start = 0.05, div_factor = 10, final_div_factor = 1e4;
  double clip_norm = 1.0;
  bool channel_drop = true;
  var::Precision precision = var::Precision::Float64;
};

struct EttTrained {
  samovar::Params params;       // the best epoch's
  std::vector<double> val_mse;  // after every epoch run
  int best_epoch = 0;           // 1-based
  std::int64_t steps = 0;       // optimizer steps taken
};

// Model sizes; the defaults are the authors' (D = 32 floor(sqrt(C)) = 64 for the 7 ETT channels,
// 8 heads, 3 MLP blocks and 3 attention layers).
struct EttSizes {
  int width = 64, heads = 8, layers = 3;
};

// A model as trained: its configuration and the weight of its auxiliary next-patch loss, both
// from var::configure_model (FixedVAR: one head, no auxiliary loss).
struct EttModel {
  samovar::Config cfg;
  double aux_weight = 1.0;
};

// `model` ("samovar", "lintrans", "fixedvar") for C channels, lookback L and horizon H.
EttModel ett_model(const std::string& model, int channels, int lookback, int horizon,
                   const EttSizes& sizes = {});

// Trains on `train`'s windows, stops early on `val` (their lookback and horizon must equal the
// configuration's input_len and patch). progress(f) after every epoch, f = epochs run / epochs.
EttTrained train_ett(const EttModel& model, const EttRecipe& recipe, const WindowSet& train,
                     const WindowSet& val, std::uint64_t seed,
                     const std::function<void(double)>& progress = {});

// MSE and MAE of the model's forecasts over every window of `w` (float64, no dropout; windows
// are scored in parallel and summed in window order: the same bits at any thread count).
ForecastErrors score_model(const samovar::Params& p, const samovar::Config& cfg,
                           const WindowSet& w);

}  // namespace attnlab::ett

#include "experiments/ett/samovar_ett.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/error.h"
#include "core/optim.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "models/samovar/batched.h"

namespace attnlab::ett {

namespace sv = samovar;
using var::Example;

EttModel ett_model(const std::string& model, int channels, int lookback, int horizon,
                   const EttSizes& sizes) {
  if (model == "lintrans_w8")
    throw InputError(
        "ETT model 'lintrans_w8' is the synthetic protocol's (allowed: samovar, "
        "lintrans, fixedvar)");
  EttModel m;
  m.cfg.channels = channels;
  m.cfg.input_len = lookback;
  m.cfg.patch = horizon;
  m.cfg.width = sizes.width;
  m.cfg.heads = sizes.heads;
  m.cfg.mlp_layers = m.cfg.attn_layers = sizes.layers;
  m.cfg.dropout = 0.1;
  var::Hyper hp;
  var::configure_model(model, m.cfg, hp);
  m.aux_weight = hp.aux_weight;
  return m;
}

namespace {

void check_windows(const sv::Config& cfg, const WindowSet& w, const char* what) {
  check(w);
  if (w.lookback != cfg.input_len || w.horizon != cfg.patch || w.series->cols() != cfg.channels)
    throw InputError(std::string("ETT ") + what + " windows (lookback " +
                     std::to_string(w.lookback) + ", horizon " + std::to_string(w.horizon) + ", " +
                     std::to_string(w.series->cols()) + " channels) do not fit the model (" +
                     std::to_string(cfg.input_len) + ", " + std::to_string(cfg.patch) + ", " +
                     std::to_string(cfg.channels) + ")");
}

void fill(const WindowSet& w, int i, Example& ex) {
  const Eigen::Index t = w.first + i;
  ex.window = w.series->middleRows(t, w.lookback);
  ex.target = w.series->middleRows(t + w.lookback, w.horizon);
}

}  // namespace

ForecastErrors score_model(const sv::Params& p, const sv::Config& cfg, const WindowSet& w) {
  check_windows(cfg, w, "scored");
  const std::size_t n = static_cast<std::size_t>(w.count);
  std::vector<double> se(n), ae(n);
  sv::BatchModelPool<double> pool(cfg);
  constexpr std::size_t kChunk = 16;  // windows per forecast call
  parallel_chunks(n, kChunk, [&](std::size_t, std::size_t lo, std::size_t hi) {
    std::vector<Example> ex(hi - lo);
    sv::BatchView v;
    for (std::size_t i = lo; i < hi; ++i) {
      fill(w, static_cast<int>(i), ex[i - lo]);
      v.windows.push_back(&ex[i - lo].window);
    }
    auto model = pool.acquire();
    std::vector<Eigen::MatrixXd> f;
    model->forecast(p, v, f);
    pool.release(std::move(model));
    for (std::size_t i = lo; i < hi; ++i) {
      const auto err = (f[i - lo] - ex[i - lo].target).array();
      se[i] = err.square().sum();
      ae[i] = err.abs().sum();
    }
  });
  const double total = static_cast<double>(n) * w.horizon * static_cast<double>(cfg.channels);
  return {std::accumulate(se.begin(), se.end(), 0.0) / total,
          std::accumulate(ae.begin(), ae.end(), 0.0) / total};
}

EttTrained train_ett(const EttModel& model, const EttRecipe& recipe, const WindowSet& train,
                     const WindowSet& val, std::uint64_t seed,
                     const std::function<void(double)>& progress) {
  const sv::Config& cfg = model.cfg;
  check_windows(cfg, train, "training");
  check_windows(cfg, val, "validation");
  const std::size_t B = static_cast<std::size_t>(recipe.batch);
  const std::size_t n_train = static_cast<std::size_t>(train.count);
  const std::size_t batches = (n_train + B - 1) / B;  // the last, partial one kept (as the authors)
  var::Hyper hp;
  hp.batch = recipe.batch;
  hp.epochs = recipe.epochs;
  hp.lr = recipe.lr;
  hp.aux_weight = model.aux_weight;
  hp.channel_drop = recipe.channel_drop;
  hp.precision = recipe.precision;
  hp.clip_norm = recipe.clip_norm;
  var::Stepper st = var::make_stepper(cfg, hp, seed);
  Schedule sched;  // OneCycleLR over (epochs + 1) x batches steps, as the authors' code
  sched.kind = Schedule::Kind::OneCycleLinear;
  sched.base_lr = recipe.lr;
  sched.pct_start = recipe.pct_start;
  sched.div_factor = recipe.div_factor;
  sched.final_div_factor = recipe.final_div_factor;
  sched.total_steps =
      static_cast<std::int64_t>(recipe.epochs + 1) * static_cast<std::int64_t>(batches);
  Adam<double> opt(AdamConfig{0.9, 0.95, 1e-8, 0.1});
  EttTrained out;
  out.params = st.params;
  double best = INFINITY;
  int since_best = 0;
  std::vector<std::size_t> ids(static_cast<std::size_t>(train.count));
  std::vector<Example> batch(B);
  std::vector<std::size_t> in_order(B);
  std::iota(in_order.begin(), in_order.end(), std::size_t{0});
  for (int epoch = 1; epoch <= recipe.epochs; ++epoch) {
    std::iota(ids.begin(), ids.end(), std::size_t{0});
    Rng shuffle = make_stream(seed, "ett.shuffle", static_cast<std::uint64_t>(epoch));
    for (std::size_t i = ids.size(); i > 1; --i)
      std::swap(
          ids[i - 1],
          ids[static_cast<std::size_t>(uniform_int(shuffle, 0, static_cast<std::int64_t>(i - 1)))]);
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t n = std::min(B, n_train - b * B);
      for (std::size_t i = 0; i < n; ++i) fill(train, static_cast<int>(ids[b * B + i]), batch[i]);
      const double loss = var::train_step(st, opt, batch, in_order, 0, sched.lr(st.step), n);
      if (!std::isfinite(loss))
        throw NumericError("ETT training: the loss is not finite at step " +
                           std::to_string(st.step) + " (epoch " + std::to_string(epoch) + ")");
    }
    const double v = score_model(st.params, cfg, val).mse;
    out.val_mse.push_back(v);
    if (progress) progress(static_cast<double>(epoch) / recipe.epochs);
    if (v < best) {
      best = v;
      out.params = st.params;
      out.best_epoch = epoch;
      since_best = 0;
    } else if (++since_best >= recipe.patience) {
      break;
    }
  }
  out.steps = st.step;
  return out;
}

}  // namespace attnlab::ett

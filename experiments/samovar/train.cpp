#include "experiments/samovar/train.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <string>

#include "analysis/stats.h"
#include "analysis/var_fit.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "synth/var.h"

namespace attnlab::samovar_exp {

namespace sv = attnlab::samovar;
using Eigen::MatrixXd;

namespace {

double global_norm(const std::vector<ParamBlock<double>>& blocks, bool grads) {
  double s = 0;
  for (const auto& b : blocks)
    for (std::size_t i = 0; i < b.size; ++i) {
      const double v = grads ? b.grad[i] : b.value[i];
      s += v * v;
    }
  return std::sqrt(s);
}

}  // namespace

std::vector<Example> make_split(const std::string& protocol, bool train, std::uint64_t seed,
                                int count, int L) {
  std::vector<Example> out(static_cast<std::size_t>(count));
  if (protocol == "authors") {
    const auto samples = samovar_dataset(train ? SamovarSplit::Train : SamovarSplit::Validation,
                                         seed, 0, static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const MatrixXd& s = samples[i].series;  // (65, 2)
      out[i] = {s.middleRows(kSamovarLength - 1 - L, L), s.bottomRows(1), samples[i].process.A};
    }
    return out;
  }
  const std::uint64_t split_seed = stream_seed(seed, train ? "stable.train" : "stable.val");
  parallel_for(out.size(), [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) {
      Rng order_rng = make_stream(split_seed, "order", i);
      VarSpec spec;
      spec.order =
          static_cast<int>(train ? uniform_int(order_rng, 1, 3) : uniform_int(order_rng, 3, 5));
      spec.coef_scale = train ? 0.5 : 0.25;
      // The authors' innovation std (spec §3.1), so both protocols share the floor 0.0025.
      // (VarSpec's default is unit variance; an earlier version left it at 1.)
      spec.noise_std = kSamovarNoiseStd;
      const VarSample v = var_sample(spec, L + 1, split_seed, i);
      out[i] = {v.series.topRows(L), v.series.bottomRows(1), v.process.A};
    }
  });
  return out;
}

void configure_model(const std::string& model, sv::Config& cfg, Hyper& hp) {
  if (model == "fixedvar") {  // spec §3.2: 1 head, forecast loss only
    cfg.fixed_qv = true;
    cfg.heads = 1;
    hp.aux_weight = 0;
  } else if (model == "lintrans" || model == "lintrans_w8") {
    cfg.arch = sv::Arch::LinTrans;
    if (model == "lintrans_w8") cfg.input_len = kAuthorsLinTransWindow;
  } else if (model == "samovar_wk") {
    cfg.learned_keys = true;
  } else if (model != "samovar") {
    throw InputError("unknown model '" + model + "'");
  }
}

std::vector<ParamSpec> model_schema() {
  return {p_string("protocol", {"authors", "stable"}),
          p_int("train_size", 1, 1000000),
          p_int("val_size", 1, 100000),
          p_int("input_len", 8, 64),
          p_int("width", 2, 512),
          p_int("heads", 1, 64),
          p_int("layers", 1, 8),
          p_real("dropout", 0, 0.9),
          p_int("epochs", 1, 1000),
          p_int("batch", 1, 4096),
          p_int("warmup_epochs", 0, 1000),
          p_real("lr", 0, 1),
          p_real("aux_weight", 0, 10),
          p_bool("channel_drop"),
          precision_param()};
}

ParamSpec precision_param() {
  return p_string("precision", {"float64", "float32"})
      .optional("float64")
      .describe(
          "arithmetic of the training step: float32 computes activations, gradients and GEMMs in "
          "single precision with float64 master weights and AdamW state; evaluation is float64");
}

std::vector<Constraint> model_constraints() {
  // Peak memory: each thread holds one batched workspace of kGradChunk samples
  // (models/samovar/batched.cpp Work: per layer about 7 (D, C T) token matrices of the attention
  // and 3 plus 3 four-wide ones of the MLP, with backward scratch about 24 per layer plus 32),
  // T = 2 ceil(input_len / patch) tokens per channel; plus the data sets, windows and targets.
  const auto bytes = [](const Params& prm) {
    const double C = prm.has("channels") ? prm.number("channels") : kSamovarDim;
    const double patch = prm.has("patch") ? prm.number("patch") : 1;
    const double T = 2.0 * std::ceil(prm.number("input_len") / patch), D = prm.number("width");
    const double layers = prm.number("layers");
    const double caches =
        memory_threads() * static_cast<double>(kGradChunk) * C * T * D * 8 * (24 * layers + 32);
    const double windows = prm.has("train_size")
                               ? (prm.number("train_size") + prm.number("val_size")) *
                                     (prm.number("input_len") + 1) * C * 8 * 2
                               : prm.number("batch") * (prm.number("input_len") + patch) * C * 8;
    return caches + windows;
  };
  return {divides("heads", "width"), fits_memory({"input_len", "width", "layers", "train_size",
                                                  "val_size", "batch", "channels", "patch"},
                                                 bytes)};
}

sv::Config base_config(const Params& prm) {
  sv::Config c;
  c.channels = kSamovarDim;
  c.input_len = prm.i32("input_len");
  c.patch = 1;
  c.width = prm.i32("width");
  c.heads = prm.i32("heads");
  c.mlp_layers = prm.i32("layers");
  c.attn_layers = prm.i32("layers");
  c.dropout = prm.d("dropout");
  if (c.width % c.heads != 0) throw InputError("width must be a multiple of heads");
  return c;
}

Hyper base_hyper(const RunContext& ctx) {
  const Params& prm = ctx.params;
  // A half-budget run halves the epochs and the warm-up with them (same schedule shape).
  const int epochs = ctx.scaled(prm.i32("epochs"));
  const int warmup = std::min({prm.i32("warmup_epochs"), ctx.scaled(prm.i32("warmup_epochs")),
                               epochs - 1});  // rounding must keep warm-up < training
  return {epochs,
          prm.i32("batch"),
          std::max(0, warmup),
          prm.d("lr"),
          prm.d("aux_weight"),
          prm.b("channel_drop"),
          parse_precision(prm.s("precision"))};
}

Precision parse_precision(const std::string& name) {
  if (name == "float64") return Precision::Float64;
  if (name == "float32") return Precision::Float32;
  throw InputError("precision '" + name + "' is not allowed (allowed: float64, float32)");
}

double evaluate(const sv::Params& p, const sv::Config& cfg, const std::vector<Example>& data) {
  std::vector<double> se(data.size());
  sv::BatchModelPool<double> pool(cfg);
  parallel_chunks(data.size(), kGradChunk, [&](std::size_t, std::size_t lo, std::size_t hi) {
    sv::BatchView v;
    for (std::size_t i = lo; i < hi; ++i) v.windows.push_back(&data[i].window);
    auto model = pool.acquire();
    std::vector<MatrixXd> f;
    model->forecast(p, v, f);
    pool.release(std::move(model));
    for (std::size_t i = lo; i < hi; ++i)
      se[i] = (f[i - lo] - data[i].target).squaredNorm();  // both (1, C)
  });
  double s = 0;
  for (double v : se) s += v;
  return s / static_cast<double>(data.size() * static_cast<std::size_t>(cfg.channels));
}

Stepper make_stepper(const sv::Config& cfg, const Hyper& hp, std::uint64_t seed) {
  Stepper st;
  st.cfg = cfg;
  st.hp = hp;
  st.seed = seed;
  Rng init = make_stream(seed, "init");
  st.params = sv::init_params(cfg, init);
  st.grads = sv::zero_grads(st.params);
  const std::size_t chunks = num_chunks(static_cast<std::size_t>(hp.batch), kGradChunk);
  if (hp.precision == Precision::Float32) {
    sv::cast_params<float>(st.params, st.params_f);
    st.partial_f.assign(chunks, st.params_f);
    st.pool_f = std::make_unique<sv::BatchModelPool<float>>(cfg);
  } else {
    st.partial.assign(chunks, st.grads);
    st.pool = std::make_unique<sv::BatchModelPool<double>>(cfg);
  }
  return st;
}

double train_step(Stepper& st, Adam<double>& opt, const std::vector<Example>& train,
                  const std::vector<std::size_t>& order, std::size_t first, double lr,
                  std::size_t count) {
  const sv::Config& cfg = st.cfg;
  const std::size_t full = static_cast<std::size_t>(st.hp.batch);
  const std::size_t B = count == 0 ? full : count;
  if (B > full) throw std::logic_error("train_step: more samples than the batch size");
  const double C = cfg.channels, s = cfg.patch, P = cfg.patches();
  const double w_fc = 1.0 / (static_cast<double>(B) * C * s);
  const double w_aux = P > 1 ? st.hp.aux_weight / (static_cast<double>(B) * C * (P - 1) * s) : 0.0;
  Rng drop = make_stream(st.seed, "channel_drop", static_cast<std::uint64_t>(st.step));
  std::vector<double> keep(static_cast<std::size_t>(cfg.channels), 1.0);
  if (st.hp.channel_drop) {  // each channel zeroed with probability 1 - r, r ~ U(0,1) per batch
    const double r = uniform(drop, 0.0, 1.0);
    for (auto& k : keep) k = bernoulli(drop, r) ? 1.0 : 0.0;
  }
  const bool f32 = st.hp.precision == Precision::Float32;
  if (f32) sv::cast_params<float>(st.params, st.params_f);
  const std::size_t chunks = num_chunks(B, kGradChunk);  // of the partials: those used now
  std::vector<double> losses(chunks, 0.0);
  parallel_chunks(B, kGradChunk, [&](std::size_t c, std::size_t lo, std::size_t hi) {
    sv::BatchView v;
    for (std::size_t i = lo; i < hi; ++i) {
      const Example& ex = train[order[first + i]];
      v.windows.push_back(&ex.window);
      v.targets.push_back(&ex.target);
      v.dropout_seeds.push_back(  // make_stream(seed, "dropout", step batch + i)'s seed
          stream_seed(st.seed, "dropout", static_cast<std::uint64_t>(st.step) * full + i));
    }
    v.keep = keep;
    if (f32) {
      auto model = st.pool_f->acquire();
      st.partial_f[c].set_zero();
      losses[c] = model->loss(st.params_f, v, w_fc, w_aux, &st.partial_f[c]);
      st.pool_f->release(std::move(model));
    } else {
      auto model = st.pool->acquire();
      st.partial[c].set_zero();
      losses[c] = model->loss(st.params, v, w_fc, w_aux, &st.partial[c]);
      st.pool->release(std::move(model));
    }
  });
  st.grads.set_zero();
  double loss = 0;
  for (std::size_t c = 0; c < chunks; ++c) {  // chunk order: thread-independent
    if (f32)
      sv::Params::visit_blocks(st.grads, &st.partial_f[c], [](const char*, int, auto& g, auto* pc) {
        g += pc->template cast<double>();
      });
    else
      sv::Params::visit_blocks(st.grads, &st.partial[c],
                               [](const char*, int, auto& g, auto* pc) { g += *pc; });
    loss += losses[c];
  }
  auto gb = sv::param_blocks(st.params, st.grads, cfg);
  if (std::isfinite(loss) && std::isfinite(global_norm(gb, true))) {
    if (st.hp.clip_norm > 0) clip_global_norm(gb, st.hp.clip_norm);
    opt.step(gb, lr);
  }
  ++st.step;
  return loss;
}

namespace {

// A training run's state at the end of `epochs_done` epochs; weights and moments bit for bit.
nlohmann::json training_state(Stepper& st, const Adam<double>& opt, const Trained& tr,
                              double sum_gn, int epochs_done) {
  nlohmann::json weights = nlohmann::json::object();
  sv::Params::visit_blocks(st.params, static_cast<sv::Params*>(nullptr),
                           [&](const char* f, int i, auto& v, auto*) {
                             weights[std::string(f) + "#" + std::to_string(i)] =
                                 encode_exact(v.data(), static_cast<std::size_t>(v.size()));
                           });
  return {{"epochs_done", epochs_done},
          {"step", st.step},
          {"weights", weights},
          {"adam", opt.state()},
          {"curve", tr.curve},
          {"max_grad_norm", tr.max_grad_norm},
          {"max_weight_norm", tr.max_weight_norm},
          {"sum_grad_norm", sum_gn}};
}

// The inverse: the number of epochs done, or 0 (nothing restored) when the state does not fit
// (another shape, a malformed file, more epochs than planned).
int restore_training_state(const nlohmann::json& j, int epochs, bool with_curve, Stepper& st,
                           Adam<double>& opt, Trained& tr, double& sum_gn) try {
  const int done = j.at("epochs_done").get<int>();
  const auto curve = j.at("curve").get<std::vector<double>>();
  if (done < 1 || done >= epochs || curve.size() != static_cast<std::size_t>(with_curve ? done : 0))
    return 0;
  sv::Params params = st.params;
  bool ok = true;
  const auto& weights = j.at("weights");
  sv::Params::visit_blocks(
      params, static_cast<sv::Params*>(nullptr), [&](const char* f, int i, auto& v, auto*) {
        const auto it = weights.find(std::string(f) + "#" + std::to_string(i));
        if (!ok || it == weights.end() || !it->is_string()) {
          ok = false;
          return;
        }
        decode_exact(it->template get<std::string>(), v.data(), static_cast<std::size_t>(v.size()));
      });
  if (!ok) return 0;
  Adam<double> adam(opt.config());
  adam.load_state(j.at("adam"));
  st.params = std::move(params);
  st.step = j.at("step").get<std::int64_t>();
  opt = std::move(adam);
  tr.curve = curve;
  tr.max_grad_norm = j.at("max_grad_norm").get<double>();
  tr.max_weight_norm = j.at("max_weight_norm").get<double>();
  sum_gn = j.at("sum_grad_norm").get<double>();
  return done;
} catch (const nlohmann::json::exception&) {
  return 0;
} catch (const InputError&) {  // decode_exact / load_state: not this model's numbers
  return 0;
}

}  // namespace

Trained train_model(const sv::Config& cfg, const Hyper& hp, const std::vector<Example>& train,
                    const std::vector<Example>& val, std::uint64_t seed,
                    const std::function<void(double)>& progress, const Checkpoints* checkpoints) {
  Stepper st = make_stepper(cfg, hp, seed);
  const std::size_t B = static_cast<std::size_t>(hp.batch), N = train.size();
  const std::size_t bpe = N / B;  // drop_last
  if (bpe == 0) throw InputError("samovar training: batch larger than the training set");
  Schedule sched;  // per-step linear warm-up from 0, then linear decay to 0 (spec §3.2)
  sched.kind = Schedule::Kind::WarmupLinear;
  sched.base_lr = hp.lr;
  sched.warmup_steps = static_cast<std::int64_t>(hp.warmup_epochs) * static_cast<std::int64_t>(bpe);
  sched.total_steps = static_cast<std::int64_t>(hp.epochs) * static_cast<std::int64_t>(bpe);
  sched.warmup_start = 0;
  sched.final_lr = 0;
  Adam<double> opt(AdamConfig{0.9, 0.95, 1e-8, 0.1});  // spec §3.2
  Trained tr;
  double sum_gn = 0;
  int first_epoch = 0;
  if (checkpoints != nullptr && checkpoints->load)
    if (const auto kept = checkpoints->load())
      first_epoch = restore_training_state(*kept, hp.epochs, !val.empty(), st, opt, tr, sum_gn);
  auto last_save = std::chrono::steady_clock::now();
  for (int ep = first_epoch; ep < hp.epochs && !tr.diverged; ++ep) {
    Rng shuffle = make_stream(seed, "shuffle", static_cast<std::uint64_t>(ep));
    std::vector<std::size_t> order(N);
    for (std::size_t i = 0; i < N; ++i) order[i] = i;
    for (std::size_t i = N; i > 1; --i)
      std::swap(order[i - 1], order[static_cast<std::size_t>(
                                  uniform_int(shuffle, 0, static_cast<std::int64_t>(i - 1)))]);
    for (std::size_t b = 0; b < bpe; ++b) {
      const std::int64_t step = st.step;
      const double loss = train_step(st, opt, train, order, b * B, sched.lr(step));
      const double gn = global_norm(sv::param_blocks(st.params, st.grads, cfg), true);
      if (!std::isfinite(loss) || !std::isfinite(gn)) {  // train_step skipped the update
        tr.diverged = true;
        tr.diverged_step = static_cast<int>(step);
        break;
      }
      tr.max_grad_norm = std::max(tr.max_grad_norm, gn);
      sum_gn += gn;
    }
    const double wn = global_norm(sv::param_blocks(st.params, st.grads, cfg), false);
    tr.max_weight_norm = std::max(tr.max_weight_norm, wn);
    if (!val.empty()) tr.curve.push_back(tr.diverged ? NAN : evaluate(st.params, cfg, val));
    progress(static_cast<double>(ep + 1) / hp.epochs);
    const auto now = std::chrono::steady_clock::now();
    if (checkpoints != nullptr && checkpoints->save && !tr.diverged && ep + 1 < hp.epochs &&
        std::chrono::duration<double>(now - last_save).count() >= checkpoints->every_seconds) {
      checkpoints->save(training_state(st, opt, tr, sum_gn, ep + 1));
      last_save = now;
    }
  }
  tr.mean_grad_norm = st.step > 0 ? sum_gn / static_cast<double>(st.step) : 0.0;
  tr.final_weight_norm = global_norm(sv::param_blocks(st.params, st.grads, cfg), false);
  tr.params = std::move(st.params);
  return tr;
}

namespace {

// In-context lag matrices of a one-step forecaster in data space: the Jacobian of the forecast
// w.r.t. the input x_{L-k}, J_k[c, c'] = d forecast_c / d x_{L-k, c'}, by central differences
// (for a true VAR predictor J_k = A_k: the oracle control checks exactly this).
using Forecast = std::function<MatrixXd(const MatrixXd&)>;  // window (L, C) -> (1, C)
std::vector<MatrixXd> lag_jacobians(const Forecast& forecast, const MatrixXd& window, int max_lag) {
  constexpr double kFdStep = 1e-5;  // data units of std ~0.1..1: truncation ~1e-10
  const int L = static_cast<int>(window.rows()), C = static_cast<int>(window.cols());
  std::vector<MatrixXd> J;
  for (int k = 1; k <= max_lag; ++k) {
    MatrixXd Jk(C, C);
    for (int c2 = 0; c2 < C; ++c2) {
      MatrixXd up = window, dn = window;
      up(L - k, c2) += kFdStep;
      dn(L - k, c2) -= kFdStep;
      Jk.col(c2) = ((forecast(up) - forecast(dn)) / (2 * kFdStep)).transpose();
    }
    J.push_back(std::move(Jk));
  }
  return J;
}

Forecast model_forecast(const sv::Params& p, const sv::Config& cfg) {
  return [&p, &cfg](const MatrixXd& w) {
    sv::SampleCache cache;
    return MatrixXd(sv::forward(p, cfg, w, cache, nullptr));
  };
}

// The oracle: the true VAR predictor sum_k A_k x_{L-k}, through the same Jacobian pipeline.
Forecast oracle_forecast(const std::vector<MatrixXd>& A) {
  return [&A](const MatrixXd& w) {
    const auto L = w.rows();
    Eigen::VectorXd f = Eigen::VectorXd::Zero(w.cols());
    for (std::size_t k = 1; k <= A.size(); ++k)
      f += A[k - 1] * w.row(L - static_cast<Eigen::Index>(k)).transpose();
    return MatrixXd(f.transpose());
  };
}

nlohmann::json matrix_json(const MatrixXd& M) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index r = 0; r < M.rows(); ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index c = 0; c < M.cols(); ++c) row.push_back(M(r, c));
    rows.push_back(row);
  }
  return rows;
}

// Per lag: relative Frobenius error against the true A_k, averaged over samples, and the pooled
// entry correlation with the true entries, for the trained model, the least-squares VAR(p_true)
// on the same window, the untrained model (negative control) and the oracle (positive control:
// the true predictor through the same Jacobians). Metrics end in `suffix` ("_id": orders seen in
// training; "" : unseen orders). The gated gap is corr(model) - corr(LS).
void lag_recovery(const sv::Params& trained, const sv::Params& untrained, const sv::Config& cfg,
                  const std::vector<Example>& val, int samples, const std::string& suffix,
                  Outcome& out) {
  const std::size_t n = std::min(val.size(), static_cast<std::size_t>(samples));
  enum { kModel, kLs, kUntrained, kOracle, kKinds };
  std::vector<std::array<std::vector<MatrixXd>, kKinds>> J(n);
  parallel_for(n, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) {
      const int order = static_cast<int>(val[i].A.size());
      J[i][kModel] = lag_jacobians(model_forecast(trained, cfg), val[i].window, order);
      J[i][kUntrained] = lag_jacobians(model_forecast(untrained, cfg), val[i].window, order);
      J[i][kOracle] = lag_jacobians(oracle_forecast(val[i].A), val[i].window, order);
      J[i][kLs] = fit_var_ls(val[i].window, order).A;
    }
  });
  int max_order = 0;
  for (std::size_t i = 0; i < n; ++i)
    max_order = std::max(max_order, static_cast<int>(val[i].A.size()));
  std::array<std::vector<double>, kKinds> entries;
  std::vector<double> true_e;
  nlohmann::json per_lag = nlohmann::json::array();
  for (int k = 1; k <= max_order; ++k) {
    std::array<double, kKinds> err{};
    int cnt = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (static_cast<int>(val[i].A.size()) < k) continue;
      const auto ku = static_cast<std::size_t>(k - 1);
      const MatrixXd& A = val[i].A[ku];
      ++cnt;
      for (int kind = 0; kind < kKinds; ++kind) {
        const MatrixXd& Jk = J[i][static_cast<std::size_t>(kind)][ku];
        err[static_cast<std::size_t>(kind)] += (Jk - A).norm() / A.norm();
        for (Eigen::Index c = 0; c < A.size(); ++c)
          entries[static_cast<std::size_t>(kind)].push_back(Jk(c));
      }
      for (Eigen::Index c = 0; c < A.size(); ++c) true_e.push_back(A(c));
    }
    const std::string lag = std::to_string(k) + suffix;
    out.metric("rel_err_model_lag" + lag, err[kModel] / cnt);
    out.metric("rel_err_ls_lag" + lag, err[kLs] / cnt);
    out.metric("rel_err_untrained_lag" + lag, err[kUntrained] / cnt);
    per_lag.push_back({{"lag", k},
                       {"model", err[kModel] / cnt},
                       {"ls", err[kLs] / cnt},
                       {"untrained", err[kUntrained] / cnt},
                       {"oracle", err[kOracle] / cnt},
                       {"zero", 1.0},
                       {"samples", cnt}});
  }
  const double cm = correlation(entries[kModel], true_e), cl = correlation(entries[kLs], true_e);
  out.metric("corr_model_vs_true" + suffix, cm);
  out.metric("corr_ls_vs_true" + suffix, cl);
  out.metric("corr_gap_model_minus_ls" + suffix, cm - cl);
  out.metric("corr_gap_model_minus_ls" + suffix + "@untrained",
             correlation(entries[kUntrained], true_e) - cl);
  out.metric("corr_gap_model_minus_ls" + suffix + "@oracle",
             correlation(entries[kOracle], true_e) - cl);
  out.data["recovery_per_lag" + suffix] = per_lag;
  if (!suffix.empty()) return;
  // The bivariate VAR(3) example: the first validation sample of order 3.
  for (std::size_t i = 0; i < n; ++i)
    if (val[i].A.size() == 3) {
      nlohmann::json ex = {{"sample", i},
                           {"true", nlohmann::json::array()},
                           {"model", nlohmann::json::array()},
                           {"ls", nlohmann::json::array()}};
      for (std::size_t k = 0; k < 3; ++k) {
        ex["true"].push_back(matrix_json(val[i].A[k]));
        ex["model"].push_back(matrix_json(J[i][kModel][k]));
        ex["ls"].push_back(matrix_json(J[i][kLs][k]));
      }
      out.data["var3_example"] = ex;
      break;
    }
}

// How much of the training signal a few explosive series carry: the fraction of training series
// whose companion spectral radius is >= 1, and their share of sum |target|^2 (the zero
// predictor's training loss), which is what dominates an MSE-trained model's gradient.
void explosive_share(const std::vector<Example>& train, Outcome& out) {
  double total = 0, explosive = 0, count = 0;
  for (const auto& ex : train) {
    const double e = ex.target.squaredNorm();
    total += e;
    if (var_spectral_radius(ex.A) >= 1.0) {
      explosive += e;
      count += 1;
    }
  }
  out.metric("train_fraction_explosive", count / static_cast<double>(train.size()));
  out.metric("train_target_energy_share_explosive", total > 0 ? explosive / total : 0.0);
}

// One-step MSE of the in-context least-squares VAR (order by AIC up to max_order, fitted on the
// window), of the oracle (true coefficients; its MSE estimates the noise floor) and of x_hat = 0.
void baselines(const std::vector<Example>& val, int max_order, double& ls_mse, double& oracle_mse,
               double& zero_mse) {
  std::vector<double> ls(val.size()), orc(val.size()), zero(val.size());
  parallel_for(val.size(), [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) {
      const MatrixXd& w = val[i].window;
      const int L = static_cast<int>(w.rows());
      const VarOrderChoice choice = select_var_order_aic(w, max_order);
      const VarFit fit = fit_var_ls(w, choice.order);
      Eigen::VectorXd pred = Eigen::VectorXd::Zero(w.cols()), truth = pred;
      for (int j = 1; j <= fit.order; ++j)
        pred += fit.A[static_cast<std::size_t>(j - 1)] * w.row(L - j).transpose();
      for (std::size_t j = 1; j <= val[i].A.size(); ++j)
        truth += val[i].A[j - 1] * w.row(L - static_cast<int>(j)).transpose();
      ls[i] = (pred - val[i].target.transpose()).squaredNorm();
      orc[i] = (truth - val[i].target.transpose()).squaredNorm();
      zero[i] = val[i].target.squaredNorm();
    }
  });
  double a = 0, o = 0, z = 0;
  for (std::size_t i = 0; i < val.size(); ++i) {
    a += ls[i];
    o += orc[i];
    z += zero[i];
  }
  const double n = static_cast<double>(val.size() * static_cast<std::size_t>(val[0].window.cols()));
  ls_mse = a / n;
  oracle_mse = o / n;
  zero_mse = z / n;
}

// Paired per-seed ratio a/b and difference b - a of two models' final validation MSEs.
void paired(const std::string& a, const std::string& b,
            std::map<std::string, std::vector<double>>& finals, Outcome& out) {
  if (!finals.count(a) || !finals.count(b)) return;
  std::vector<double> ratio, diff;
  for (std::size_t k = 0; k < finals[a].size(); ++k) {
    ratio.push_back(finals[a][k] / finals[b][k]);
    diff.push_back(finals[b][k] - finals[a][k]);
  }
  out.seeds("ratio_" + a + "_to_" + b, ratio);
  // Aggregate Min: the metric is the worst seed (a paired sign test); per_seed keeps mean and CI.
  out.seeds("min_seed_diff_" + b + "_minus_" + a, diff, Aggregate::Min);
}

// A trained model as a cell: its configuration, weights (every parameter block by name), curve
// and gradient statistics. JSON keeps doubles exactly (17 significant digits).
nlohmann::json trained_json(Trained& tr, const nlohmann::json& config) {
  nlohmann::json weights = nlohmann::json::object();
  sv::Params::visit_blocks(tr.params, static_cast<sv::Params*>(nullptr),
                           [&](const char* f, int i, auto& v, auto*) {
                             weights[std::string(f) + "#" + std::to_string(i)] =
                                 std::vector<double>(v.data(), v.data() + v.size());
                           });
  return {{"config", config},
          {"weights", weights},
          {"curve", tr.curve},
          {"max_grad_norm", tr.max_grad_norm},
          {"mean_grad_norm", tr.mean_grad_norm},
          {"final_weight_norm", tr.final_weight_norm},
          {"max_weight_norm", tr.max_weight_norm}};
}

// The inverse; false (the caller retrains) when a block is missing or has another size, or the
// file is not what trained_json writes.
bool trained_from_json(const nlohmann::json& j, const sv::Config& cfg, Trained& tr) try {
  Rng shape_rng = make_stream(0, "shape");
  tr.params = sv::init_params(cfg, shape_rng);  // shapes only; every value is replaced
  bool ok = true;
  const auto& weights = j.at("weights");
  sv::Params::visit_blocks(tr.params, static_cast<sv::Params*>(nullptr),
                           [&](const char* f, int i, auto& v, auto*) {
                             const auto it = weights.find(std::string(f) + "#" + std::to_string(i));
                             if (it == weights.end() || !it->is_array() ||
                                 it->size() != static_cast<std::size_t>(v.size())) {
                               ok = false;
                               return;
                             }
                             for (Eigen::Index k = 0; k < v.size(); ++k)
                               v.data()[k] = (*it)[static_cast<std::size_t>(k)].get<double>();
                           });
  tr.curve = j.at("curve").get<std::vector<double>>();
  tr.max_grad_norm = j.at("max_grad_norm").get<double>();
  tr.mean_grad_norm = j.at("mean_grad_norm").get<double>();
  tr.final_weight_norm = j.at("final_weight_norm").get<double>();
  tr.max_weight_norm = j.at("max_weight_norm").get<double>();
  tr.diverged = false;
  return ok && !tr.curve.empty();
} catch (const nlohmann::json::exception&) {
  return false;
}

Outcome run_generalization(const RunContext& ctx) {
  const Params& prm = ctx.params;
  const int L = prm.i32("input_len"), seeds = prm.i32("seeds");
  const std::string protocol = prm.s("protocol");
  const auto train = make_split(protocol, true, ctx.seed, prm.i32("train_size"), L);
  const auto val = make_split(protocol, false, ctx.seed, prm.i32("val_size"), L);
  const sv::Config base = base_config(prm);
  // Windows of the authors' LinTrans: the last kAuthorsLinTransWindow steps of the same series.
  auto crop = [](std::vector<Example> v) {
    for (auto& ex : v) ex.window = MatrixXd(ex.window.bottomRows(kAuthorsLinTransWindow));
    return v;
  };
  const Hyper hp = base_hyper(ctx);
  Outcome out;
  const auto models = prm.strings("models");
  nlohmann::json curves = nlohmann::json::object();
  std::map<std::string, std::vector<double>> finals;
  const double total = static_cast<double>(models.size() * static_cast<std::size_t>(seeds));
  double done = 0;
  for (const auto& m : models) {
    sv::Config cfg = base;
    Hyper h = hp;
    configure_model(m, cfg, h);
    for (int k = 0; k < seeds; ++k) {
      const std::uint64_t rs = stream_seed(ctx.seed, "replicate", static_cast<std::uint64_t>(k));
      const bool cropped = cfg.input_len != base.input_len;
      // A trained model is kept in the cell store with everything it was trained from, so a
      // plan split over `models` (one unit per model) and the merge run share it bit for bit.
      const nlohmann::json config = {
          {"trainer_revision", kTrainerRevision},
          {"model", m},
          {"data_seed", ctx.seed},
          {"train_seed", stream_seed(rs, m)},
          {"protocol", protocol},
          {"train_size", train.size()},
          {"val_size", val.size()},
          {"input_len", cfg.input_len},
          {"width", cfg.width},
          {"heads", cfg.heads},
          {"layers", cfg.attn_layers},
          {"dropout", cfg.dropout},
          {"epochs", h.epochs},
          {"batch", h.batch},
          {"warmup_epochs", h.warmup_epochs},
          {"lr", h.lr},
          {"aux_weight", h.aux_weight},
          {"channel_drop", h.channel_drop},
          {"precision", h.precision == Precision::Float32 ? "float32" : "float64"}};
      const std::string key =
          "samovar_" + m + "_seed" + std::to_string(k) + "_" + std::to_string(h.epochs) + "epochs";
      Trained tr;
      std::optional<nlohmann::json> kept;
      if (ctx.cells) kept = ctx.cells->load(key);
      if (kept && kept->value("config", nlohmann::json()) == config &&
          trained_from_json(*kept, cfg, tr)) {
        ctx.progress((done + 1) / total, m);
      } else {
        // An unfinished run is kept too (every few minutes), so that a killed unit resumes.
        Checkpoints ckpt;
        if (ctx.cells) {
          const std::string unfinished = key + "_unfinished";
          ckpt.load = [&, unfinished]() -> std::optional<nlohmann::json> {
            auto j = ctx.cells->load(unfinished);
            if (!j || !j->is_object() || !j->contains("state") ||
                j->value("config", nlohmann::json()) != config)
              return std::nullopt;
            return j->at("state");
          };
          ckpt.save = [&, unfinished](const nlohmann::json& state) {
            ctx.cells->save(unfinished, {{"config", config}, {"state", state}});
          };
        }
        tr = train_model(
            cfg, h, cropped ? crop(train) : train, cropped ? crop(val) : val, stream_seed(rs, m),
            [&](double f) { ctx.progress((done + f) / total, m); }, &ckpt);
        if (ctx.cells && !tr.diverged) ctx.cells->save(key, trained_json(tr, config));
      }
      if (tr.diverged)
        throw NumericError("samovar_synthetic_var: " + m + " seed " + std::to_string(k) +
                           " diverged at step " + std::to_string(tr.diverged_step));
      if (m == "samovar" && k == 0 && prm.i32("recovery_samples") > 0) {
        Rng init = make_stream(stream_seed(rs, m), "init");  // the trained model's initial state
        const sv::Params untrained = sv::init_params(cfg, init);
        const int samples = prm.i32("recovery_samples");
        lag_recovery(tr.params, untrained, cfg, val, samples, "", out);
        // Orders seen in training, on fresh series of the training law.
        const auto seen =
            make_split(protocol, true, stream_seed(ctx.seed, "recovery.id"), samples, L);
        lag_recovery(tr.params, untrained, cfg, seen, samples, "_id", out);
      }
      done += 1;
      finals[m].push_back(tr.curve.back());
      curves[m].push_back(tr.curve);
    }
    out.seeds("val_mse_" + m, finals[m]);
  }
  double ls = 0, oracle = 0, zero = 0;
  baselines(val, prm.i32("ls_max_order"), ls, oracle, zero);
  out.metric("val_mse_ls_var", ls);
  out.metric("val_mse_zero_predictor", zero);
  out.metric("val_mse_oracle", oracle);
  // Excess over the floor as a fraction of the zero predictor's: 0 at the oracle, 1 at x_hat = 0.
  // A trained model at or above 1 has learned nothing a comparison between models could rest on.
  std::vector<double> worst(static_cast<std::size_t>(seeds), -INFINITY);
  for (const auto& [m, mses] : finals) {
    std::vector<double> frac;
    for (std::size_t k = 0; k < mses.size(); ++k) {
      frac.push_back((mses[k] - oracle) / (zero - oracle));
      worst[k] = std::max(worst[k], frac.back());
    }
    out.seeds("excess_fraction_" + m, frac);
  }
  out.seeds("excess_fraction_worst_model", worst);
  out.metric("excess_fraction_worst_model@zero", 1.0);
  out.metric("excess_fraction_worst_model@oracle", 0.0);
  if (finals.count("samovar")) {
    out.metric("excess_fraction_samovar@zero", 1.0);
    out.metric("excess_fraction_samovar@oracle", 0.0);
  }
  explosive_share(train, out);
  paired("samovar", "fixedvar", finals, out);
  paired("samovar", "lintrans", finals, out);
  paired("samovar", "lintrans_w8", finals, out);
  if (finals.count("samovar")) {
    std::vector<double> ratio;
    for (double v : finals["samovar"]) ratio.push_back(v / ls);
    out.seeds("ratio_samovar_to_ls_var", ratio);
  }
  out.data["protocol"] = protocol;
  out.data["curves"] = curves;
  out.data["noise_floor"] = kSamovarNoiseStd * kSamovarNoiseStd;
  out.data["val_mse_ls_var"] = ls;
  out.data["val_mse_oracle"] = oracle;
  out.data["val_mse_zero_predictor"] = zero;
  // Spec §3.3 (notebook, 1 seed, 100 epochs, 20000 series, the authors' generator only).
  out.data["authors"] = {{"samovar", 0.0031},
                         {"fixedvar", 0.0041},
                         {"lintrans", 0.0050},
                         {"floor", 0.0025},
                         {"protocol", "authors"}};
  return out;
}

}  // namespace

std::vector<ExperimentKind> train_experiments() {
  auto schema = model_schema();
  schema.push_back(p_strings("models", kModelNames));
  schema.push_back(p_int("seeds", 1, 100));
  schema.push_back(p_int("ls_max_order", 1, 8));
  schema.push_back(
      p_int("recovery_samples", 0, 100000)
          .optional(0)
          .describe("validation samples for the lag-recovery metrics (trained SAMoVAR, seed 0)"));
  std::vector<ExperimentKind> kinds = {
      {"samovar_synthetic_var",
       "train SAMoVAR / FixedVAR / LinTrans on low-order VAR data, validate on unseen "
       "higher orders",
       schema, run_generalization, model_constraints()}};
  // A plan splits a claim into one unit per model; each keeps its trained models (every seed,
  // both budgets) in the cell store and the merge run reads them back.
  kinds.front().split_over = {"models"};
  return kinds;
}

}  // namespace attnlab::samovar_exp

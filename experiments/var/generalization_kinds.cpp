// The generalisation protocol's kinds (var.generalizes_to_higher_orders[_stable],
// var.dynamic_weights_matter, var.recovers_lag_coefficients): SAMoVAR, FixedVAR and LinTrans
// trained on the synthetic VAR protocol (training.h) beside the oracle, the in-context
// least-squares VAR and the zero predictor.
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
#include "experiments/var/kinds.h"
#include "experiments/var/training.h"
#include "synth/var.h"

namespace attnlab::var {

namespace sv = attnlab::samovar;
using Eigen::MatrixXd;

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
  const ParamValues& prm = ctx.params;
  const int L = prm.i32("input_len"), seeds = prm.i32("seeds");
  const std::string protocol = prm.s("protocol");
  const auto [train, val] = make_splits(prm, ctx.seed);
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

std::vector<ExperimentKind> generalization_experiments() {
  auto schema = model_schema();
  schema.push_back(
      p_strings("models", kModelNames).describe("model variants trained and compared"));
  schema.push_back(p_int("seeds", 1, 100).describe("training seeds per model"));
  schema.push_back(p_int("ls_max_order", 1, 8)
                       .describe("largest order the in-context LS VAR baseline may pick (AIC)"));
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

}  // namespace attnlab::var

#include "experiments/icl/trained_kinds.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "analysis/icl_ridge.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "experiments/icl/common.h"
#include "experiments/icl/model_spec.h"
#include "experiments/icl/training.h"

namespace attnlab::icl {
namespace {

// One entry of `models` with the kind's steps and seeds filled in where the spec omits them.
struct ModelRun {
  std::string key, model;
  int layers = 1;
  std::int64_t steps = 0;
  int seeds = 1;
};

ModelRun model_run(const std::string& text, std::int64_t steps, int seeds) {
  const ModelSpec spec = parse_model_spec(text);
  return {spec.key, spec.model, spec.layers, spec.steps.value_or(steps),
          spec.seeds.value_or(seeds)};
}

// Each model's metrics are named by its key ("adjusted_diag3"): two specs of one key would
// overwrite each other's numbers.
Constraint distinct_model_keys() {
  Constraint c;
  c.text = "models have distinct MODEL LAYERS keys";
  c.violation = [](const ParamValues& p) -> std::string {
    std::set<std::string> seen;
    for (const auto& m : p.strings("models")) {
      const std::string key = parse_model_spec(m).key;
      if (!seen.insert(key).second)
        return "models lists '" + key + "' twice (each MODEL LAYERS key at most once)";
    }
    return "";
  };
  c.counterexamples = [](const ParamValues& p) {
    auto models = p.strings("models");
    models.push_back(models.front());
    return std::vector<nlohmann::json>{{{"models", models}}};
  };
  return c;
}

std::string table_row(const ModelRun& r) {
  std::string m = r.model == "gdpp" ? "GD++" : r.model == "diag" ? "DIAG" : "FULL";
  return m + std::to_string(r.layers);
}

Outcome run_train(const RunContext& ctx) {
  const auto& p = ctx.params;
  const int d = p.i32("d"), n = p.i32("n");
  const std::string noise = p.s("noise");
  const auto spec = noise_spec(noise, d, n);
  const auto eval = make_eval_set(spec, stream_seed(ctx.seed, "icl.train.eval"),
                                  static_cast<std::size_t>(p.i("eval_count")));
  const auto valid = make_eval_set(spec, stream_seed(ctx.seed, "icl.train.valid"),
                                   static_cast<std::size_t>(p.i("valid_count")));
  std::vector<ModelRun> runs;
  for (const auto& m : p.strings("models")) {
    runs.push_back(model_run(m, p.i("steps"), p.i32("seeds")));
    runs.back().steps = ctx.scaled(runs.back().steps);  // half-budget runs train half as long
  }
  double total_steps = 0, done = 0;
  for (const auto& r : runs) total_steps += static_cast<double>(r.steps * r.seeds);
  Outcome o;
  std::map<std::string, double> adjusted;
  nlohmann::json models = nlohmann::json::array();
  // Negative control of every adjusted-loss bound: predicting 0, scored by the same pipeline.
  const double zero_adjusted =
      score_layers(std::vector<double>(eval.size(), 0.0), 1, eval).final_adj.mean;
  for (const auto& r : runs) {
    TrainedModel best;
    double best_valid = std::numeric_limits<double>::infinity();
    std::vector<double> seed_eval;
    nlohmann::json seeds_json = nlohmann::json::array();
    for (int s = 0; s < r.seeds; ++s) {
      TrainSpec ts;
      ts.model = r.model;
      ts.layers = r.layers;
      ts.data = spec;
      ts.steps = r.steps;
      ts.batch = static_cast<std::size_t>(p.i("batch"));
      ts.lr = p.d("lr");
      ts.clip = p.d("clip");
      ts.init_scale = p.d("init_scale");
      const auto seed = stream_seed(ctx.seed, "icl.train." + r.key, static_cast<std::uint64_t>(s));
      auto m = train_model(ts, seed, [&](double f, std::string_view) {
        ctx.progress((done + f * static_cast<double>(r.steps)) / total_steps, r.key);
      });
      done += static_cast<double>(r.steps);
      const double v = score_layers(predict_layers(m, valid), r.layers, valid).final_adj.mean;
      const auto sc = score_layers(predict_layers(m, eval), r.layers, eval);
      seed_eval.push_back(sc.final_adj.mean);
      seeds_json.push_back({{"seed_index", s},
                            {"valid_adjusted", v},
                            {"eval_adjusted", sc.final_adj.mean},
                            {"final_train_loss", m.final_train_loss}});
      o.timing("train_seconds_" + r.key + "_seed" + std::to_string(s), m.seconds);
      if (v < best_valid) {
        best_valid = v;
        best = m;
      }
    }
    const auto sc = score_layers(predict_layers(best, eval), r.layers, eval);
    const double paper = table1(table_row(r), noise);
    adjusted[r.key] = sc.final_adj.mean;
    o.metric("adjusted_" + r.key, sc.final_adj.mean);
    o.metric("adjusted_" + r.key + "@zero", zero_adjusted);
    o.metric("se_" + r.key, sc.final_adj.se);
    if (r.seeds > 1) o.seeds("seed_adjusted_" + r.key, seed_eval, Aggregate::Min);
    if (!std::isnan(paper)) o.metric("dev_from_table_" + r.key, sc.final_adj.mean - paper);
    nlohmann::json mj = {
        {"key", r.key},
        {"model", r.model},
        {"layers", r.layers},
        {"steps", r.steps},
        {"seeds", seeds_json},
        {"adjusted", sc.final_adj.mean},
        {"se", sc.final_adj.se},
        {"paper", std::isnan(paper) ? nlohmann::json(nullptr) : nlohmann::json(paper)},
        {"per_layer_adjusted", sc.per_layer}};
    if (r.model != "full") {
      const auto om = diag_omegas(best.diag);
      mj["omegas"] = omegas_json(om);
      o.metric("omega_yx_last_" + r.key, om.back().yx);
      if (r.layers == 1) {
        const double opt = -one_step_optimal_eta(n, d, regression_mean_sigma2(spec));
        o.metric("omega_yx_rel_dev_" + r.key, std::abs(om.back().yx - opt) / std::abs(opt));
      }
      if (r.layers >= 2) {
        // Mechanism: some non-final layer with w_yy < 0 and w_xy < 0  <=>  this minimum < 0.
        double mech = std::numeric_limits<double>::infinity();
        for (std::size_t l = 0; l + 1 < om.size(); ++l)
          mech = std::min(mech, std::max(om[l].yy, om[l].xy));
        o.metric("nonfinal_max_wyy_wxy_" + r.key, mech);
      }
      if (p.b("ablation") && r.model == "diag") {
        auto ab = om;
        for (auto& w : ab) w.xy = w.yy = 0;
        const auto sa = score_layers(predict_layers_omegas(ab, eval), r.layers, eval);
        o.metric("ablation_increase_" + r.key, sa.final_adj.mean - sc.final_adj.mean);
        mj["ablation_adjusted"] = sa.final_adj.mean;
      }
    } else {
      mj["P"] = best.full.P;
      mj["Q"] = best.full.Q;
      mj["dim"] = best.full.dim;
    }
    models.push_back(mj);
  }
  for (const auto& [a, va] : adjusted)
    for (const auto& [b, vb] : adjusted)
      if (a != b) o.metric("gap_" + a + "_minus_" + b, va - vb);
  if (p.b("constrr")) {
    // CONSTRR on the same evaluation sequences, lambda tuned on the validation set.
    std::vector<RidgeContext> vc(valid.size()), ec(eval.size());
    const Eigen::Index N = n + 1;
    auto fill = [&](const EvalSet& set, std::vector<RidgeContext>& out) {
      parallel_for(
          set.size(),
          [&](std::size_t b0, std::size_t b1) {
            for (std::size_t b = b0; b < b1; ++b) {
              const auto Z = set.tokens.middleCols(static_cast<Eigen::Index>(b) * N, N);
              out[b] = ridge_context(Z.topLeftCorner(d, n), Z.row(d).head(n).transpose(),
                                     Z.col(n).head(d));
            }
          },
          64);
    };
    fill(valid, vc);
    fill(eval, ec);
    const double s2 = spec.law == NoiseLaw::Uniform ? spec.sigma_max * spec.sigma_max : 25.0;
    std::vector<double> grid;
    for (int i = 0; i <= 80; ++i) grid.push_back(s2 * i / 80.0);
    const std::vector<double> vt(valid.target.data(), valid.target.data() + valid.target.size());
    const std::vector<double> et(eval.target.data(), eval.target.data() + eval.target.size());
    const double lam = tune_constant_lambda(vc, vt, grid);
    const auto a = paired_difference(ridge_losses(ec, et, [lam](std::size_t) { return lam; }),
                                     eval.oracle_loss);
    o.metric("adjusted_constrr", a.mean);
    for (const auto& [k, v] : adjusted) o.metric("absdiff_" + k + "_constrr", std::abs(v - a.mean));
    o.data["constrr"] = {{"adjusted", a.mean}, {"se", a.se}, {"lambda", lam}};
  }
  o.data["models"] = models;
  o.data["noise"] = noise;
  return o;
}

}  // namespace

std::vector<ExperimentKind> train_experiments() {
  return {
      {"icl_train",
       "Train FULL / DIAG / GD++ models (spec §4.3 budget recipe) and evaluate the adjusted "
       "loss, learned omegas, per-layer readouts and the w_xy = w_yy = 0 ablation",
       {p_int("d", 1, 64).describe("d, dimension of the regression inputs x"),
        p_int("n", 2, 10000).describe("n, context examples per sequence"),
        p_string("noise", noise_names())
            .describe("Table 1 noise column of the training and evaluation data"),
        p_strings("models")
            .describe("diag3, gdpp2:20000 (steps), full3:20000:3 (steps, seeds)")
            .parse_with(model_spec_error),
        p_int("steps", 1, 10000000).describe("Adam steps per run, unless the model gives them"),
        p_int("seeds", 1, 100)
            .describe("runs per model unless it gives them; best on validation is scored"),
        p_int("batch", 1, 100000).describe("fresh training sequences per step"),
        p_real("lr", 0, 1).optional(1e-3).describe("base learning rate of Adam"),
        p_real("clip", 0, 1e10).optional(10.0).describe("global gradient-norm clip"),
        p_real("init_scale", 0, 10).optional(0.02).describe("std of the N(0, s^2) initial weights"),
        p_int("eval_count", 100, 10000000).describe("evaluation sequences"),
        p_int("valid_count", 100, 10000000)
            .describe("validation sequences: pick the best seed and tune CONSTRR"),
        p_bool("ablation")
            .optional(false)
            .describe("also score each DIAG with omega_xy = omega_yy = 0"),
        p_bool("constrr").optional(false).describe("also score CONSTRR on the same sequences")},
       run_train,
       {sequences_fit_memory({"eval_count", "valid_count"}, "batch"), distinct_model_keys()}}};
}

}  // namespace attnlab::icl

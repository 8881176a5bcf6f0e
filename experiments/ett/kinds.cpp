// The real-data experiment kind: models trained or fitted on ETTh1/ETTh2 forecast windows and
// scored on the same test targets (every lookback's test windows end on the same rows).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "core/error.h"
#include "core/resources.h"
#include "core/rng.h"
#include "experiments/ett/linear_baselines.h"
#include "experiments/ett/samovar_ett.h"
#include "experiments/registry.h"
#include "synth/ett.h"

namespace attnlab::ett {

namespace {

// data/ett/ of the source tree, or $ATTNLAB_DATA_DIR/ett.
std::filesystem::path ett_dir() {
  if (const char* env = std::getenv("ATTNLAB_DATA_DIR")) return std::filesystem::path(env) / "ett";
  return resource_dir() / "data" / "ett";
}

// Part of a kept NLinear/DLinear run's configuration: bump it when their training changes.
constexpr int kLtsfRevision = 1;

// samovar.sh: the lookback of SAMoVAR and LinTrans for each horizon; 0 for any other horizon.
int authors_lookback(int horizon) {
  switch (horizon) {
    case 96:
      return 1024;
    case 192:
    case 336:
      return 2048;
    case 720:
      return 4096;
    default:
      return 0;
  }
}

std::vector<ParamSpec> schema() {
  return {
      p_strings("datasets", {"ETTh1", "ETTh2"}).describe("ETT hourly datasets to forecast"),
      p_ints("horizons", 1, 720)
          .describe("forecast horizons H (patch length of the attention "
                    "models = H)"),
      p_int("lookback", 0, 4096)
          .optional(0)
          .describe("lookback of the attention models; 0: the authors' pair for the horizon "
                    "(96 -> 1024, 192 and 336 -> 2048, 720 -> 4096)"),
      p_int("linear_lookback", 2, 4096)
          .optional(336)
          .describe(
              "lookback of NLinear, DLinear and the residual linear model (their papers: 336)"),
      p_strings("models", {"samovar", "lintrans", "fixedvar"})
          .describe("attention models trained with the authors' recipe"),
      p_strings("baselines", {"repeat", "residual_linear", "nlinear", "dlinear"})
          .describe("non-attention baselines scored beside the models"),
      p_int("seeds", 1, 100)
          .describe("training seeds of every trained model (NLinear and DLinear too)"),
      p_int("epochs", 1, 100)
          .describe("at most this many epochs of the attention models (authors: 100)"),
      p_int("patience", 1, 100).describe("early stopping patience in epochs (authors: 12)"),
      p_int("width", 8, 512).optional(64).describe("D (authors: 64 for the 7 ETT channels)"),
      p_int("heads", 1, 64).optional(8).describe("h, attention heads (divides width; authors: 8)"),
      p_int("layers", 1, 8).optional(3).describe("MLP blocks and attention layers, each"),
      var::precision_param(),
  };
}

std::vector<Constraint> constraints() {
  Constraint paired;
  paired.text = "lookback 0 needs horizons in {96, 192, 336, 720}";
  paired.violation = [](const ParamValues& p) -> std::string {
    if (p.i32("lookback") != 0) return "";
    for (const auto h : p.ints("horizons"))
      if (authors_lookback(static_cast<int>(h)) == 0)
        return "horizons has " + std::to_string(h) +
               ": with lookback 0 (the authors' pairs) every horizon must be 96, 192, 336 or 720 "
               "(or give a lookback)";
    return "";
  };
  paired.counterexamples = [](const ParamValues&) {
    return std::vector<nlohmann::json>{{{"lookback", 0}, {"horizons", {97}}}};
  };
  return {divides("heads", "width"), paired};
}

Outcome run(const RunContext& ctx) {
  const ParamValues& prm = ctx.params;
  const auto datasets = prm.strings("datasets"), models = prm.strings("models"),
             baselines = prm.strings("baselines");
  const auto horizons = prm.ints("horizons");
  const int seeds = prm.i32("seeds"), LL = prm.i32("linear_lookback");
  EttRecipe recipe;
  recipe.epochs = ctx.scaled(prm.i32("epochs"));
  recipe.patience = prm.i32("patience");
  recipe.precision = var::parse_precision(prm.s("precision"));
  Outcome out;
  nlohmann::json rows = nlohmann::json::array();
  // A trained model's scores, kept in the cell store with everything it was trained from, so
  // that a plan split over datasets, horizons and models shares them with the merge run bit for
  // bit (JSON keeps doubles exactly).
  auto kept_or = [&](const std::string& key, const nlohmann::json& config,
                     const std::function<nlohmann::json()>& compute) {
    if (ctx.cells) {
      const auto j = ctx.cells->load(key);
      if (j && j->is_object() && j->value("config", nlohmann::json()) == config &&
          j->contains("scores"))
        return j->at("scores");
    }
    nlohmann::json scores = compute();
    if (ctx.cells) ctx.cells->save(key, {{"config", config}, {"scores", scores}});
    return scores;
  };
  const double units = static_cast<double>(datasets.size() * horizons.size() *
                                           (baselines.size() + models.size() * seeds));
  double done = 0;
  for (const auto& name : datasets) {
    const ett::Series raw = ett::load(ett_dir(), name);
    const Eigen::MatrixXd z = ett::standardise(raw.values, ett::fit_scaler(raw.values));
    for (const auto h64 : horizons) {
      const int H = static_cast<int>(h64);
      const int L = prm.i32("lookback") != 0 ? prm.i32("lookback") : authors_lookback(H);
      auto windows = [&](ett::Split s, int lookback) {
        return WindowSet{&z, ett::split_rows(s, lookback).begin, ett::window_count(s, lookback, H),
                         lookback, H};
      };
      const std::string where = name + ".h" + std::to_string(H) + ".";
      auto record = [&](const std::string& model, const std::vector<double>& mse,
                        const std::vector<double>& mae, int lookback) {
        out.seeds(where + model + ".test_mse", mse);
        out.seeds(where + model + ".test_mae", mae);
        rows.push_back({{"dataset", name},
                        {"horizon", H},
                        {"model", model},
                        {"lookback", lookback},
                        {"test_mse", mse},
                        {"test_mae", mae}});
      };
      const WindowSet ltrain = windows(ett::Split::Train, LL), lval = windows(ett::Split::Val, LL),
                      ltest = windows(ett::Split::Test, LL);
      for (const auto& b : baselines) {
        ctx.progress(done / units, name + " H=" + std::to_string(H) + " " + b);
        if (b == "repeat" || b == "residual_linear") {  // no seed: deterministic
          const ForecastErrors e = b == "repeat"
                                       ? score(ltest, repeat_last())
                                       : score(ltest, forecaster(fit_residual_linear(ltrain)));
          record(b, {e.mse}, {e.mae}, b == "repeat" ? 1 : LL);
        } else {
          const ltsf::Kind kind = b == "nlinear" ? ltsf::Kind::NLinear : ltsf::Kind::DLinear;
          std::vector<double> mse, mae;
          for (int k = 0; k < seeds; ++k) {
            const std::uint64_t seed = stream_seed(ctx.seed, b, static_cast<std::uint64_t>(k));
            const LtsfRecipe r = published_recipe(name);
            const nlohmann::json config = {{"revision", kLtsfRevision},
                                           {"model", b},
                                           {"dataset", name},
                                           {"horizon", H},
                                           {"lookback", LL},
                                           {"lr", r.lr},
                                           {"batch", r.batch},
                                           {"epochs", r.max_epochs},
                                           {"patience", r.patience},
                                           {"seed", seed}};
            const nlohmann::json sc =
                kept_or(name + "_h" + std::to_string(H) + "_" + b + "_seed" + std::to_string(k),
                        config, [&] {
                          const LtsfTrained t = train_ltsf(kind, ltrain, lval, r, seed);
                          const ForecastErrors e = score(ltest, forecaster(t.params));
                          return nlohmann::json{{"test_mse", e.mse}, {"test_mae", e.mae}};
                        });
            mse.push_back(sc.at("test_mse").get<double>());
            mae.push_back(sc.at("test_mae").get<double>());
          }
          record(b, mse, mae, LL);
        }
        done += 1;
      }
      const WindowSet train = windows(ett::Split::Train, L), val = windows(ett::Split::Val, L),
                      test = windows(ett::Split::Test, L);
      for (const auto& m : models) {
        const EttModel model = ett_model(m, ett::kColumns, L, H,
                                         {prm.i32("width"), prm.i32("heads"), prm.i32("layers")});
        const samovar::Config& cfg = model.cfg;
        std::vector<double> mse, mae, best;
        nlohmann::json curves = nlohmann::json::array();
        for (int k = 0; k < seeds; ++k) {
          const std::string label =
              name + " H=" + std::to_string(H) + " " + m + " seed " + std::to_string(k);
          const std::uint64_t seed =
              stream_seed(ctx.seed, "ett." + m, static_cast<std::uint64_t>(k));
          const nlohmann::json config = {{"trainer_revision", var::kTrainerRevision},
                                         {"model", m},
                                         {"dataset", name},
                                         {"horizon", H},
                                         {"lookback", L},
                                         {"width", cfg.width},
                                         {"heads", cfg.heads},
                                         {"layers", cfg.attn_layers},
                                         {"epochs", recipe.epochs},
                                         {"patience", recipe.patience},
                                         {"precision", prm.s("precision")},
                                         {"seed", seed}};
          const nlohmann::json sc = kept_or(
              name + "_h" + std::to_string(H) + "_" + m + "_seed" + std::to_string(k), config, [&] {
                const EttTrained t = train_ett(model, recipe, train, val, seed, [&](double f) {
                  ctx.progress((done + f) / units, label);
                });
                const ForecastErrors e = score_model(t.params, cfg, test);
                return nlohmann::json{{"test_mse", e.mse},
                                      {"test_mae", e.mae},
                                      {"best_epoch", t.best_epoch},
                                      {"val_mse", t.val_mse}};
              });
          mse.push_back(sc.at("test_mse").get<double>());
          mae.push_back(sc.at("test_mae").get<double>());
          best.push_back(sc.at("best_epoch").get<double>());
          curves.push_back(sc.at("val_mse"));
          done += 1;
        }
        record(m, mse, mae, L);
        out.seeds(where + m + ".best_epoch", best);
        rows.back()["val_curves"] = curves;
      }
    }
  }
  out.data["rows"] = rows;
  out.data["epochs"] = recipe.epochs;
  return out;
}

}  // namespace

}  // namespace attnlab::ett

namespace attnlab {

std::vector<ExperimentKind> ett_experiments() {
  ExperimentKind k(
      "ett_forecast",
      "SAMoVAR, LinTrans and FixedVAR (the authors' real-data recipe) beside Repeat, the "
      "residual linear model (least squares), NLinear and DLinear (their published recipe) on "
      "ETTh1/ETTh2: test MSE and MAE on standardised data per dataset, horizon and model",
      ett::schema(), ett::run, ett::constraints());
  // One plan unit per dataset, horizon and attention model (every seed of it, and the linear
  // baselines of that dataset and horizon); units keep their trained models' scores as cells.
  k.split_over = {"datasets", "horizons", "models"};
  return {k};
}

// The metrics of ett_forecast: DATASET.hH.MODEL.test_mse | test_mae (every model and baseline,
// mean over seeds with per-seed values) and DATASET.hH.MODEL.best_epoch (attention models).
const std::map<std::string, KindDeclaration>& ett_declarations() {
  static const std::map<std::string, KindDeclaration> table = {
      {"ett_forecast", {{"*.test_mse", "*.test_mae", "*.best_epoch"}, /*trained=*/true}}};
  return table;
}

}  // namespace attnlab

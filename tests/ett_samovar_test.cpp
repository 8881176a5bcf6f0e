// SAMoVAR on forecast windows of a real-data-shaped series (experiments/ett/samovar_ett.h): the
// batched scoring against the per-sample reference, the authors' recipe mechanics (partial last
// batch, early stopping with the best epoch kept, OneCycle steps), and the same bits at any
// thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/random_matrix.h"
#include "core/thread_pool.h"
#include "experiments/ett/samovar_ett.h"
#include "models/samovar/samovar.h"

namespace attnlab::ett {
namespace {

namespace sv = samovar;

// Three channels of noisy sines of periods 12, 8 and 24 (a series with something to learn).
Eigen::MatrixXd series(int rows, std::uint64_t seed) {
  Rng rng = make_stream(seed, "ett_samovar_series");
  Eigen::MatrixXd s = 0.2 * gaussian_matrix(rows, 3, rng);
  for (int t = 0; t < rows; ++t) {
    s(t, 0) += std::sin(2 * M_PI * t / 12.0);
    s(t, 1) += std::cos(2 * M_PI * t / 8.0);
    s(t, 2) += 0.5 * std::sin(2 * M_PI * t / 24.0) + 0.3 * std::sin(2 * M_PI * t / 12.0);
  }
  return s;
}

EttModel small_model(const std::string& model) { return ett_model(model, 3, 24, 4, {16, 2, 2}); }
sv::Config small_config(const std::string& model) { return small_model(model).cfg; }

TEST(EttSamovar, BatchedScoreEqualsThePerSampleReference) {
  const Eigen::MatrixXd s = series(200, 1);
  for (const char* model : {"samovar", "lintrans", "fixedvar"}) {
    const sv::Config cfg = small_config(model);
    Rng init = make_stream(2, "init");
    const sv::Params p = sv::init_params(cfg, init);
    const WindowSet w{&s, 10, 37, cfg.input_len, cfg.patch};  // 37: chunks of 16 and a rest
    const ForecastErrors e = score_model(p, cfg, w);
    double se = 0, ae = 0;
    for (int i = 0; i < w.count; ++i) {
      sv::SampleCache cache;
      const Eigen::MatrixXd f = sv::forward(p, cfg, s.middleRows(10 + i, 24), cache, nullptr);
      const auto err = (f - s.middleRows(10 + i + 24, 4)).array();
      se += err.square().sum();
      ae += err.abs().sum();
    }
    const double n = 37.0 * 4 * 3;
    EXPECT_NEAR(e.mse, se / n, 1e-10 * se / n) << model;
    EXPECT_NEAR(e.mae, ae / n, 1e-10 * ae / n) << model;
  }
}

TEST(EttSamovar, RecipeKeepsThePartialBatchAndTheBestEpoch) {
  const Eigen::MatrixXd s = series(400, 3);
  const EttModel model = small_model("samovar");
  const sv::Config& cfg = model.cfg;
  const WindowSet train{&s, 0, 250, 24, 4}, val{&s, 250, 100, 24, 4};
  EttRecipe r;
  r.epochs = 6;
  r.patience = 2;
  r.lr = 3e-3;
  const EttTrained t = train_ett(model, r, train, val, 5);
  ASSERT_FALSE(t.val_mse.empty());
  const int run = static_cast<int>(t.val_mse.size());
  EXPECT_EQ(t.steps, static_cast<std::int64_t>(run) * 8);  // ceil(250 / 32): the partial batch kept
  const double best = *std::min_element(t.val_mse.begin(), t.val_mse.end());
  EXPECT_EQ(t.val_mse[static_cast<std::size_t>(t.best_epoch - 1)], best);
  EXPECT_EQ(score_model(t.params, cfg, val).mse, best);  // the best epoch's weights
  EXPECT_LE(run - t.best_epoch, r.patience);
  EXPECT_TRUE(run == r.epochs || run - t.best_epoch == r.patience);
  // It learned something: better than its untrained self and than repeating the last value.
  Rng init = make_stream(5, "init");
  const sv::Params untrained = sv::init_params(cfg, init);
  EXPECT_LT(best, 0.8 * score_model(untrained, cfg, val).mse);
  EXPECT_LT(best, score(val, repeat_last()).mse);
}

TEST(EttSamovar, SameSeedSameBitsAtOneAndTwoThreads) {
  const Eigen::MatrixXd s = series(300, 4);
  const EttModel model = small_model("samovar");
  const WindowSet train{&s, 0, 150, 24, 4}, val{&s, 150, 60, 24, 4};
  EttRecipe r;
  r.epochs = 2;
  r.precision = var::Precision::Float32;
  const int before = num_threads();
  set_num_threads(1);
  const EttTrained one = train_ett(model, r, train, val, 8);
  set_num_threads(2);
  const EttTrained two = train_ett(model, r, train, val, 8);
  set_num_threads(before);
  EXPECT_EQ(one.val_mse, two.val_mse);
  sv::Params::visit_blocks(one.params, &two.params, [](const char* f, int i, auto& a, auto* b) {
    EXPECT_TRUE(a == *b) << f << "#" << i;
  });
}

TEST(EttSamovar, APartialStepIsTheStepOfASmallerBatch) {
  // Step 0 on 5 samples of a batch-8 stepper = step 0 of a batch-5 stepper (same dropout streams
  // at step 0, same channel drop): the loss is the mean over the samples present.
  const Eigen::MatrixXd s = series(120, 6);
  const sv::Config cfg = small_config("samovar");
  std::vector<var::Example> ex(5);
  for (int i = 0; i < 5; ++i) {
    ex[static_cast<std::size_t>(i)].window = s.middleRows(i, 24);
    ex[static_cast<std::size_t>(i)].target = s.middleRows(i + 24, 4);
  }
  std::vector<std::size_t> order(5);
  std::iota(order.begin(), order.end(), std::size_t{0});
  var::Hyper h8;
  h8.batch = 8;
  var::Hyper h5 = h8;
  h5.batch = 5;
  auto s8 = var::make_stepper(cfg, h8, 11);
  auto s5 = var::make_stepper(cfg, h5, 11);
  Adam<double> o8(AdamConfig{0.9, 0.95, 1e-8, 0.1}), o5(AdamConfig{0.9, 0.95, 1e-8, 0.1});
  const double l8 = var::train_step(s8, o8, ex, order, 0, 1e-3, 5);
  const double l5 = var::train_step(s5, o5, ex, order, 0, 1e-3);
  EXPECT_EQ(l8, l5);
  sv::Params::visit_blocks(s8.params, &s5.params, [](const char* f, int i, auto& a, auto* b) {
    EXPECT_TRUE(a == *b) << f << "#" << i;
  });
}

}  // namespace
}  // namespace attnlab::ett

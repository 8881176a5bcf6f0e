// NLinear and DLinear (models/baselines/ltsf_linear.h): the gradient against finite differences
// in double, the trend against a padded-series reference, and the forms both models reduce to.
#include "models/baselines/ltsf_linear.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "core/gradcheck.h"
#include "core/random_matrix.h"
#include "core/rng.h"
#include "experiments/ett/linear_baselines.h"
#include "tests/tolerances.h"

namespace attnlab::ltsf {
namespace {

TEST(LtsfLinear, GradientMatchesFiniteDifferencesInDouble) {
  for (const Kind kind : {Kind::NLinear, Kind::DLinear}) {
    Rng rng = make_stream(1, "ltsf_grad");
    Params p = init(kind, 30, 7, rng);  // L = 30 > kernel: the padding reaches both ends
    const Eigen::MatrixXd X = gaussian_matrix(30, 5, rng), Y = gaussian_matrix(7, 5, rng);
    Params g = zeros_like(p);
    mse_and_grad(p, X, Y, g);
    std::vector<GradBlock> gb;
    for (const auto& b : blocks(p, g)) gb.push_back({b.name, b.value, b.grad, b.size});
    Params scratch = zeros_like(p);
    const auto r = check_gradient([&] { return mse_and_grad(p, X, Y, scratch); }, gb);
    EXPECT_LT(r.max_rel_error(), tol::kGradCheck) << kind_name(kind) << ": " << r.worst();
    EXPECT_EQ(gb.size(), kind == Kind::NLinear ? 2u : 4u);
  }
}

TEST(LtsfLinear, TrendIsTheCentredMeanOfTheReplicatePaddedSeries) {
  Rng rng = make_stream(2, "ltsf_trend");
  for (const int L : {5, 24, 25, 26, 100}) {
    const Eigen::MatrixXd X = gaussian_matrix(L, 3, rng);
    const Eigen::MatrixXd T = moving_average(X);
    // Reference: pad explicitly by 12 copies of the first and last rows, then average 25 rows.
    Eigen::MatrixXd padded(L + 24, 3);
    padded.topRows(12).rowwise() = X.row(0);
    padded.middleRows(12, L) = X;
    padded.bottomRows(12).rowwise() = X.row(L - 1);
    for (int t = 0; t < L; ++t)
      for (int j = 0; j < 3; ++j)
        EXPECT_NEAR(T(t, j), padded.col(j).segment(t, 25).mean(), tol::kExactDouble) << L;
  }
  // A constant series is its own trend; a line is its own trend away from the ends.
  const Eigen::MatrixXd c = Eigen::MatrixXd::Constant(40, 2, 3.5);
  EXPECT_LT((moving_average(c) - c).cwiseAbs().maxCoeff(), tol::kExactDouble);
  const Eigen::MatrixXd line = Eigen::VectorXd::LinSpaced(60, 0, 59);
  EXPECT_LT((moving_average(line) - line).middleRows(12, 36).cwiseAbs().maxCoeff(),
            tol::kExactDouble);
}

TEST(LtsfLinear, ZeroNLinearRepeatsTheLastValueAndEqualDLinearLayersCancelTheTrend) {
  Rng rng = make_stream(3, "ltsf_forms");
  Params p = init(Kind::NLinear, 12, 4, rng);
  p.W.setZero();
  p.b.setZero();
  const Eigen::MatrixXd X = gaussian_matrix(12, 6, rng);
  const Eigen::MatrixXd Y = forward(p, X);
  for (int h = 0; h < 4; ++h)
    EXPECT_LT((Y.row(h) - X.row(11)).cwiseAbs().maxCoeff(), tol::kExactDouble);
  // DLinear with W = V computes W x + b + c: the decomposition cancels.
  Params d = init(Kind::DLinear, 12, 4, rng);
  d.V = d.W;
  Eigen::MatrixXd expect = d.W * X;
  expect.colwise() += d.b + d.c;
  EXPECT_LT((forward(d, X) - expect).cwiseAbs().maxCoeff(), tol::kExactDouble);
}

// x_{t+1} = x_t + <w*, x_{t-L+1..t} - x_t> + noise (std 0.05), four channels: a series NLinear can
// model exactly (its H = 1 layer is w*, bias 0).
Eigen::MatrixXd residual_rule_series(int N, std::uint64_t seed) {
  const Eigen::VectorXd w = (Eigen::VectorXd(8) << 0, 0, 0, 0, 0.2, -0.3, 0.7, 0).finished();
  Rng rng = make_stream(seed, "ltsf_series");
  Eigen::MatrixXd s(N, 4);
  for (int t = 0; t < 8; ++t)
    for (int c = 0; c < 4; ++c) s(t, c) = normal(rng);
  for (int t = 8; t < N; ++t)
    for (int c = 0; c < 4; ++c) {
      const double last = s(t - 1, c);
      s(t, c) =
          last + w.dot((s.col(c).segment(t - 8, 8).array() - last).matrix()) + 0.05 * normal(rng);
    }
  return s;
}

TEST(LtsfRecipe, LearnsARuleToTheNoiseFloorAndKeepsTheBestEpoch) {
  const Eigen::MatrixXd s = residual_rule_series(6000, 4);
  const WindowSet train{&s, 0, 4000, 8, 1}, val{&s, 4000, 900, 8, 1}, test{&s, 4900, 1000, 8, 1};
  for (const Kind kind : {Kind::NLinear, Kind::DLinear}) {
    ett::LtsfRecipe recipe;
    recipe.lr = 0.01;
    const auto tr = ett::train_ltsf(kind, train, val, recipe, 9);
    ASSERT_FALSE(tr.val_mse.empty());
    // The returned weights are the best epoch's: they score its validation MSE.
    const double best = *std::min_element(tr.val_mse.begin(), tr.val_mse.end());
    EXPECT_EQ(tr.val_mse[static_cast<std::size_t>(tr.best_epoch - 1)], best);
    EXPECT_EQ(score(val, ett::forecaster(tr.params)).mse, best);
    // Early stopping: training ran past the best epoch by at most the patience.
    EXPECT_LE(static_cast<int>(tr.val_mse.size()) - tr.best_epoch, recipe.patience);
    // The noise variance is 0.0025; the fitted model's excess over it is O(parameters / samples)
    // for NLinear (the rule is in its class) and what the decomposition costs DLinear (also in
    // its class: W = V gives back a plain linear layer). Repeating the last value is ~3x worse.
    const double mse = score(test, ett::forecaster(tr.params)).mse;
    const double repeat = score(test, repeat_last()).mse;
    EXPECT_LT(mse, 1.1 * 0.0025) << ltsf::kind_name(kind);
    EXPECT_LT(mse, 0.5 * repeat) << ltsf::kind_name(kind);
  }
}

TEST(LtsfRecipe, SameSeedSameBitsAndTheRecipeKnowsBothDatasets) {
  const Eigen::MatrixXd s = residual_rule_series(1500, 5);
  const WindowSet train{&s, 0, 900, 8, 2}, val{&s, 900, 300, 8, 2};
  ett::LtsfRecipe recipe;
  recipe.max_epochs = 3;
  const auto a = ett::train_ltsf(Kind::DLinear, train, val, recipe, 1);
  const auto b = ett::train_ltsf(Kind::DLinear, train, val, recipe, 1);
  const auto c = ett::train_ltsf(Kind::DLinear, train, val, recipe, 2);
  EXPECT_EQ(a.val_mse, b.val_mse);
  EXPECT_TRUE(a.params.W == b.params.W && a.params.V == b.params.V);
  EXPECT_NE(a.val_mse, c.val_mse);
  EXPECT_EQ(ett::published_recipe("ETTh1").lr, 0.005);
  EXPECT_EQ(ett::published_recipe("ETTh2").lr, 0.05);
  EXPECT_THROW(ett::published_recipe("ETTm1"), InputError);
}

}  // namespace
}  // namespace attnlab::ltsf

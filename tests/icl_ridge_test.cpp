// Protects the icl ridge baselines: the spectral form agrees with a direct solve for any lambda,
// sigma_hat^2 is the OLS residual variance, and the one-step GD closed form.
#include "analysis/icl_ridge.h"

#include <gtest/gtest.h>

#include "analysis/stats.h"
#include "core/rng.h"
#include "tests/tolerances.h"

namespace attnlab::icl {
namespace {

TEST(IclRidge, SpectralPredictionMatchesDirectSolve) {
  Rng rng = make_stream(1, "test.ridge");
  const int d = 10, n = 20;
  Eigen::MatrixXd X(d, n);
  Eigen::VectorXd y(n), xt(d);
  for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = normal(rng);
  for (int i = 0; i < n; ++i) y(i) = normal(rng);
  for (int i = 0; i < d; ++i) xt(i) = normal(rng);
  const auto c = ridge_context(X, y, xt);
  for (double lam : {0.0, 0.3, 2.0, 25.0, 1e4})
    EXPECT_NEAR(c.predict(lam), ridge_predict_reference(X, y, xt, lam), 1e-10)
        << "seed 1 lambda " << lam;
  const Eigen::VectorXd w = (X * X.transpose()).ldlt().solve(X * y);
  EXPECT_NEAR(c.sigma_hat2(), (y - X.transpose() * w).squaredNorm() / (n - d), 1e-12);
  EXPECT_NEAR(gd_step_predict(X, y, xt, 0.1), 0.1 * (X * y).dot(xt), 1e-12);
}

TEST(IclRidge, OneStepOptimumClosedForm) {
  // spec §3: sigma_max = 0 gives 1/2 * 10 * (1 - 20/31) = 1.7742; eta* = 1/31.
  EXPECT_NEAR(one_step_optimal_loss(20, 10, 0.0), 0.5 * 110.0 / 31.0, 1e-15);
  EXPECT_NEAR(one_step_optimal_eta(20, 10, 25.0 / 3.0), 1.0 / (31.0 + 25.0 / 3.0), 1e-15);
}

TEST(IclRidge, PairedDifferenceMeanAndStandardError) {
  const auto p = paired_difference({1, 2, 3, 4}, {0, 0, 0, 0});
  EXPECT_DOUBLE_EQ(p.mean, 2.5);
  EXPECT_NEAR(p.se, std::sqrt((1.5 * 1.5 * 2 + 0.5 * 0.5 * 2) / 3.0 / 4.0), 1e-15);
}

}  // namespace
}  // namespace attnlab::icl

// Protects the VAR least-squares fit, AIC order choice, the Lyapunov solvers and the
// theoretical / sample autocovariances (analysis/var_fit.h, analysis/var_stats.h).
#include "analysis/var_fit.h"

#include <gtest/gtest.h>

#include <cmath>

#include "analysis/var_stats.h"
#include "core/error.h"
#include "core/rng.h"
#include "tests/tolerances.h"

namespace attnlab {
namespace {

constexpr std::uint64_t kSeed = 99;

// A fixed stable VAR(2) in k = 2 and a simulator local to the test (analysis must not depend on
// synth, and this keeps the fit test independent of the generator).
std::vector<Eigen::MatrixXd> fixed_A() {
  Eigen::MatrixXd A1(2, 2), A2(2, 2);
  A1 << 0.5, 0.1, -0.2, 0.3;
  A2 << -0.2, 0.05, 0.1, 0.15;
  return {A1, A2};
}

Eigen::MatrixXd simulate(const std::vector<Eigen::MatrixXd>& A, const Eigen::VectorXd& c, int T,
                         double sd, std::uint64_t stream) {
  Rng rng = make_stream(kSeed, "test.varfit", stream);
  const Eigen::Index k = A[0].rows();
  const int p = static_cast<int>(A.size()), burn = 200;
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(T + burn, k);
  for (int t = p; t < T + burn; ++t) {
    Eigen::VectorXd v = c;
    for (Eigen::Index i = 0; i < k; ++i) v(i) += sd * normal(rng);
    for (int j = 1; j <= p; ++j) v += A[static_cast<std::size_t>(j - 1)] * x.row(t - j).transpose();
    x.row(t) = v.transpose();
  }
  return x.bottomRows(T);
}

TEST(VarFit, RecoversCoefficientsAndNoiseCovariance) {
  const auto A = fixed_A();
  const Eigen::MatrixXd x = simulate(A, Eigen::VectorXd::Zero(2), 20000, 0.5, 0);
  const VarFit fit = fit_var_ls(x, 2);
  ASSERT_EQ(fit.A.size(), 2u);
  // OLS SE of each coefficient ~ sd / (sqrt(T) sd_x) < 0.01 here; 0.03 is > 3 SE
  for (int j = 0; j < 2; ++j)
    EXPECT_LE(
        (fit.A[static_cast<std::size_t>(j)] - A[static_cast<std::size_t>(j)]).cwiseAbs().maxCoeff(),
        0.03);
  EXPECT_NEAR(fit.noise_cov(0, 0), 0.25, 0.02);
  EXPECT_NEAR(fit.noise_cov(0, 1), 0.0, 0.02);
  EXPECT_EQ(fit.residuals.rows(), 20000 - 2);
  EXPECT_TRUE(fit.c.isZero());
}

TEST(VarFit, InterceptIsEstimated) {
  const auto A = fixed_A();
  Eigen::VectorXd c(2);
  c << 1.0, -2.0;
  const Eigen::MatrixXd x = simulate(A, c, 20000, 0.5, 1);
  const VarFit fit = fit_var_ls(x, 2, true);
  EXPECT_NEAR(fit.c(0), 1.0, 0.05);
  EXPECT_NEAR(fit.c(1), -2.0, 0.05);
  EXPECT_LE((fit.A[0] - A[0]).cwiseAbs().maxCoeff(), 0.03);
}

TEST(VarFit, QrFitAgreesWithNormalEquationsReference) {
  const Eigen::MatrixXd x = simulate(fixed_A(), Eigen::VectorXd::Zero(2), 500, 1.0, 2);
  for (bool intercept : {false, true})
    for (int p : {1, 3}) {
      const VarFit a = fit_var_ls(x, p, intercept), b = fit_var_ls_reference(x, p, intercept);
      for (int j = 0; j < p; ++j)
        EXPECT_LE((a.A[static_cast<std::size_t>(j)] - b.A[static_cast<std::size_t>(j)])
                      .cwiseAbs()
                      .maxCoeff(),
                  tol::kSolverAgreement);
      EXPECT_LE((a.noise_cov - b.noise_cov).cwiseAbs().maxCoeff(), tol::kSolverAgreement);
      EXPECT_LE((a.c - b.c).cwiseAbs().maxCoeff(), tol::kSolverAgreement);
    }
}

TEST(VarFit, NoiseFreeSeriesIsFittedExactly) {
  // deterministic VAR(1) started off zero: the LS solution reproduces A exactly
  Eigen::MatrixXd A(2, 2);
  A << 0.9, -0.3, 0.2, 0.7;
  Eigen::MatrixXd x(40, 2);
  x.row(0) << 1.0, 0.5;
  for (int t = 1; t < 40; ++t) x.row(t) = (A * x.row(t - 1).transpose()).transpose();
  const VarFit fit = fit_var_ls(x, 1);
  EXPECT_LE((fit.A[0] - A).cwiseAbs().maxCoeff(), 1e-10);
}

TEST(VarFit, AicChoosesTrueOrderOnLongSeries) {
  const Eigen::MatrixXd x = simulate(fixed_A(), Eigen::VectorXd::Zero(2), 5000, 1.0, 3);
  const VarOrderChoice choice = select_var_order_aic(x, 6);
  EXPECT_EQ(choice.order, 2);
  ASSERT_EQ(choice.aic.size(), 6u);
  EXPECT_LT(choice.aic[1], choice.aic[0]);  // order 1 underfits badly
}

TEST(VarFit, BadInputThrowsInputError) {
  const Eigen::MatrixXd x = Eigen::MatrixXd::Random(10, 3);
  EXPECT_THROW(fit_var_ls(x, 0), InputError);
  EXPECT_THROW(fit_var_ls(x, 3), InputError);  // 7 responses, 9 regressors
  EXPECT_THROW(select_var_order_aic(x, 0), InputError);
}

TEST(VarStats, LyapunovDoublingAgreesWithKroneckerReference) {
  const auto A = fixed_A();
  const Eigen::MatrixXd F = var_companion_form(A);
  Eigen::MatrixXd Q = Eigen::MatrixXd::Zero(4, 4);
  Q.topLeftCorner(2, 2) << 1.0, 0.3, 0.3, 2.0;
  const Eigen::MatrixXd X = solve_discrete_lyapunov(F, Q);
  const Eigen::MatrixXd R = solve_discrete_lyapunov_reference(F, Q);
  EXPECT_LE((X - R).cwiseAbs().maxCoeff(), tol::kSolverAgreement * R.cwiseAbs().maxCoeff());
  EXPECT_LE((X - F * X * F.transpose() - Q).cwiseAbs().maxCoeff(), 1e-12);
  Eigen::MatrixXd unstable = F * 10.0;
  EXPECT_THROW(solve_discrete_lyapunov(unstable, Q), InputError);
}

TEST(VarStats, TheoreticalAutocovMatchesScalarAr1AndYuleWalker) {
  // AR(1): gamma(h) = a^h s^2 / (1 - a^2)
  const double a = -0.6, s2 = 0.5;
  const auto g = var_theoretical_autocov({Eigen::MatrixXd::Constant(1, 1, a)},
                                         Eigen::MatrixXd::Constant(1, 1, s2), 5);
  for (int h = 0; h <= 5; ++h)
    EXPECT_NEAR(g[static_cast<std::size_t>(h)](0, 0), std::pow(a, h) * s2 / (1 - a * a), 1e-14);
  // VAR(2): Gamma(0) = A1 Gamma(1)^T + A2 Gamma(2)^T + Sigma (Yule-Walker at lag 0)
  const auto A = fixed_A();
  const Eigen::MatrixXd Sigma = Eigen::MatrixXd::Identity(2, 2);
  const auto G = var_theoretical_autocov(A, Sigma, 3);
  const Eigen::MatrixXd lhs = A[0] * G[1].transpose() + A[1] * G[2].transpose() + Sigma;
  EXPECT_LE((G[0] - lhs).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LE((G[1] - (A[0] * G[0] + A[1] * G[1].transpose())).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_TRUE(var_is_stable(A));
  EXPECT_FALSE(var_is_stable({Eigen::MatrixXd::Identity(2, 2) * 1.01}));
}

TEST(VarStats, SampleAutocovOfKnownSeries) {
  Eigen::MatrixXd x(4, 1);
  x << 1, 2, 3, 4;
  const auto g = sample_autocov(x, 1, {false, false});
  EXPECT_DOUBLE_EQ(g[0](0, 0), 30.0 / 4.0);
  EXPECT_DOUBLE_EQ(g[1](0, 0), (2 + 6 + 12) / 3.0);
  const auto gd = sample_autocov(x, 1, {true, true});  // mean 2.5
  EXPECT_DOUBLE_EQ(gd[0](0, 0), (2.25 + 0.25 + 0.25 + 2.25) / 4.0);
  EXPECT_DOUBLE_EQ(gd[1](0, 0), (-0.5 * -1.5 + 0.5 * -0.5 + 1.5 * 0.5) / 4.0);
  Eigen::MatrixXd y(3, 2);
  y << 1, 0, 0, 1, 1, 1;
  const auto gy = sample_autocov(y, 1, {false, false});  // Gamma(1) = sum x_{t+1} x_t^T / 2
  Eigen::MatrixXd expect(2, 2);
  expect << 0, 1, 1, 1;  // (0,1)(1,0)^T + (1,1)(0,1)^T = [[0,0],[1,0]] + [[0,1],[0,1]]
  EXPECT_TRUE(gy[1].isApprox(expect / 2.0));
  EXPECT_THROW(sample_autocov(y, 3), InputError);
}

}  // namespace
}  // namespace attnlab

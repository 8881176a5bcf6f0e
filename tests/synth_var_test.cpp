// Protects the VAR generators: stability by construction (rescale and reject), the companion
// matrix, reproducibility, the SAMoVAR preset's protocol, and stationary second moments.
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/var_stats.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "synth/var.h"
#include "tests/tolerances.h"

namespace attnlab {
namespace {

constexpr std::uint64_t kSeed = 20251123;

TEST(SynthVar, CompanionMatrixHasCoefficientRowAndShiftedIdentity) {
  std::vector<Eigen::MatrixXd> A = {Eigen::MatrixXd::Constant(2, 2, 1.0),
                                    Eigen::MatrixXd::Constant(2, 2, 2.0),
                                    Eigen::MatrixXd::Constant(2, 2, 3.0)};
  const Eigen::MatrixXd F = var_companion(A);
  ASSERT_EQ(F.rows(), 6);
  EXPECT_EQ(F(0, 0), 1.0);
  EXPECT_EQ(F(1, 3), 2.0);
  EXPECT_EQ(F(0, 5), 3.0);
  EXPECT_TRUE(F.block(2, 0, 4, 4).isIdentity());
  EXPECT_TRUE(F.block(2, 4, 4, 2).isZero());
  // AR(1) scalar: radius = |a|
  EXPECT_NEAR(var_spectral_radius({Eigen::MatrixXd::Constant(1, 1, -0.7)}), 0.7, 1e-15);
}

TEST(SynthVar, RescaleBoundsSpectralRadiusAndHitsBoundExactlyWhenFired) {
  VarSpec spec;
  spec.dim = 3;
  spec.order = 3;
  spec.coef_scale = 0.6;  // most raw draws are explosive
  spec.radius_bound = 0.9;
  int fired = 0;
  for (std::uint64_t i = 0; i < 300; ++i) {
    Rng rng = make_stream(kSeed, "test.var", i);
    const VarProcess p = draw_var_process(spec, rng);
    const double r = var_spectral_radius(p.A);
    EXPECT_LE(r, spec.radius_bound + tol::kRadiusSlack) << "seed " << kSeed << " i " << i;
    if (p.rescaled) {
      ++fired;
      EXPECT_NEAR(r, spec.radius_bound, tol::kRadiusSlack) << "i " << i;
    }
  }
  EXPECT_GT(fired, 100) << "the test should exercise the rescaling path";
}

TEST(SynthVar, RejectBoundsSpectralRadiusAndCountsRejections) {
  VarSpec spec;
  spec.dim = 2;
  spec.order = 2;
  spec.coef_scale = 0.5;
  spec.radius_bound = 0.8;
  spec.stability = VarStability::Reject;
  int rejected = 0;
  for (std::uint64_t i = 0; i < 200; ++i) {
    Rng rng = make_stream(kSeed, "test.var.reject", i);
    const VarProcess p = draw_var_process(spec, rng);
    EXPECT_LE(var_spectral_radius(p.A), spec.radius_bound) << "i " << i;
    EXPECT_FALSE(p.rescaled);
    rejected += p.rejections;
  }
  EXPECT_GT(rejected, 0);
  spec.coef_scale = 50.0;
  spec.max_rejections = 20;
  Rng rng = make_stream(kSeed, "test.var.reject.fail");
  EXPECT_THROW(draw_var_process(spec, rng), InputError);
}

TEST(SynthVar, InvalidSpecIsRejectedWithInputError) {
  VarSpec s;
  s.dim = -1;
  EXPECT_THROW(validate(s), InputError);
  s = VarSpec{};
  s.order = 0;
  EXPECT_THROW(validate(s), InputError);
  s = VarSpec{};
  s.radius_bound = 1.0;
  EXPECT_THROW(validate(s), InputError);
}

TEST(SynthVar, SampleIsReproducibleAndIndexSpecific) {
  VarSpec spec;
  spec.dim = 3;
  spec.order = 2;
  const VarSample a = var_sample(spec, 100, kSeed, 5);
  const VarSample b = var_sample(spec, 100, kSeed, 5);
  const VarSample c = var_sample(spec, 100, kSeed, 6);
  EXPECT_TRUE(a.series == b.series);
  EXPECT_TRUE(a.process.A[1] == b.process.A[1]);
  EXPECT_FALSE(a.series == c.series);
  EXPECT_EQ(a.series.rows(), 100);
  EXPECT_EQ(a.series.cols(), 3);
}

// Sample autocovariances (known mean 0, divisor T-h: unbiased) of many independent stationary
// series agree with the Lyapunov solution within kMaxAbsZ standard errors (SE across series).
TEST(SynthVar, SimulatedAutocovariancesMatchLyapunovSolution) {
  VarSpec spec;
  spec.dim = 2;
  spec.order = 2;
  spec.radius_bound = 0.8;
  spec.noise_std = 0.3;
  spec.burn_in = 300;  // 0.8^600 ~ 1e-58: the start is forgotten
  Rng coef = make_stream(kSeed, "test.var.acov.coef");
  const VarProcess proc = draw_var_process(spec, coef);
  const int lags = 4, reps = 200, T = 400;
  const auto theory = var_theoretical_autocov(proc.A, proc.noise_cov, lags);
  std::vector<Eigen::MatrixXd> sum(lags + 1, Eigen::MatrixXd::Zero(2, 2)), sum2 = sum;
  for (int r = 0; r < reps; ++r) {
    Rng noise = make_stream(kSeed, "test.var.acov.noise", static_cast<std::uint64_t>(r));
    const Eigen::MatrixXd x = simulate_var(proc, T, spec.burn_in, noise);
    const auto g = sample_autocov(x, lags, {false, false});
    for (int h = 0; h <= lags; ++h) {
      sum[static_cast<std::size_t>(h)] += g[static_cast<std::size_t>(h)];
      sum2[static_cast<std::size_t>(h)] += g[static_cast<std::size_t>(h)].cwiseAbs2();
    }
  }
  for (int h = 0; h <= lags; ++h) {
    const auto hh = static_cast<std::size_t>(h);
    const Eigen::MatrixXd mean = sum[hh] / reps;
    const Eigen::MatrixXd var = (sum2[hh] / reps - mean.cwiseAbs2()) * (reps / (reps - 1.0));
    const Eigen::MatrixXd se = (var / reps).cwiseSqrt();
    const Eigen::MatrixXd z = (mean - theory[hh]).cwiseQuotient(se);
    EXPECT_LE(z.cwiseAbs().maxCoeff(), tol::kMaxAbsZ) << "lag " << h << " seed " << kSeed;
  }
}

TEST(SynthVar, SamovarPresetFollowsNotebookProtocol) {
  for (int split = 0; split < 2; ++split) {
    const auto sp = split == 0 ? SamovarSplit::Train : SamovarSplit::Validation;
    const double scale = split == 0 ? 0.5 : 0.25;
    const int pmin = split == 0 ? 1 : 3;
    int seen[5] = {0, 0, 0, 0, 0};
    for (std::uint64_t i = 0; i < 400; ++i) {
      const SamovarSample s = samovar_sample(sp, kSeed, i);
      const int p = s.process.order();
      ASSERT_GE(p, pmin);
      ASSERT_LE(p, pmin + 1);
      ++seen[p];
      ASSERT_EQ(s.series.rows(), kSamovarLength);
      ASSERT_EQ(s.series.cols(), kSamovarDim);
      EXPECT_LE(s.series.cwiseAbs().maxCoeff(), kSamovarClip);
      EXPECT_TRUE(s.series.allFinite());
      for (const auto& A : s.process.A) EXPECT_LT(A.cwiseAbs().maxCoeff(), scale);
      EXPECT_EQ(s.explosive, s.radius > 1.0);
      EXPECT_NEAR(s.process.noise_cov(0, 0), 0.0025, 1e-15);
      if (!s.clipped) {  // the recursion is reproducible from the stored coefficients
        for (int t = p; t < kSamovarLength; ++t) {
          Eigen::VectorXd pred = Eigen::VectorXd::Zero(2);
          for (int j = 1; j <= p; ++j)
            pred += s.process.A[static_cast<std::size_t>(j - 1)] * s.series.row(t - j).transpose();
          // residual is the innovation: |e| < 8 sd with overwhelming probability
          EXPECT_LT((s.series.row(t).transpose() - pred).cwiseAbs().maxCoeff(),
                    8 * kSamovarNoiseStd);
        }
      }
    }
    EXPECT_GT(seen[pmin], 150);  // both orders occur, roughly equally
    EXPECT_GT(seen[pmin + 1], 150);
  }
}

TEST(SynthVar, SamovarDatasetIsBitwiseIdenticalForOneAndTwoThreads) {
  const int before = num_threads();
  set_num_threads(1);
  const auto a = samovar_dataset(SamovarSplit::Train, kSeed, 10, 300);
  set_num_threads(2);
  const auto b = samovar_dataset(SamovarSplit::Train, kSeed, 10, 300);
  set_num_threads(before);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(a[i].series == b[i].series) << i;
    EXPECT_TRUE(a[i].series == samovar_sample(SamovarSplit::Train, kSeed, 10 + i).series);
  }
}

}  // namespace
}  // namespace attnlab

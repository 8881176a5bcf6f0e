// Protects analysis/ntk: the Gram matrix through the core GEMM, the discrete-time linearised
// predictor (against explicit iteration, with singular H), Gauss-Hermite quadrature and the
// infinite-width limit of the attention net's NTK.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "analysis/ntk.h"
#include "core/random_matrix.h"
#include "core/rng.h"
#include "models/curse/attention_net.h"
#include "tests/tolerances.h"

namespace attnlab {
namespace {

TEST(CurseNtk, GramMatchesReference) {
  Rng rng = make_stream(21, "test.curse.ntk");
  const Eigen::MatrixXd Jt = gaussian_matrix(300, 17, rng);
  const Eigen::MatrixXd H = ntk_gram(Jt), Hr = ntk_gram_reference(Jt);
  EXPECT_LT((H - Hr).cwiseAbs().maxCoeff() / Hr.cwiseAbs().maxCoeff(), 1e-13) << "seed 21";
  const Eigen::MatrixXd Jt2 = gaussian_matrix(300, 5, rng);
  EXPECT_LT((ntk_cross(Jt2, Jt) - Jt2.transpose() * Jt).cwiseAbs().maxCoeff(), 1e-11) << "seed 21";
}

// Paired init makes H(0) singular (rank <= m/2); the eigen formula must equal the recursion
//   F(t+1) = F(t) - eta H (F(t) - y),  f(t+1) = f(t) - eta K (F(t) - y).
TEST(CurseNtk, GdPredictorEqualsExplicitIterationForSingularKernel) {
  Rng rng = make_stream(22, "test.curse.ntk");
  const Eigen::MatrixXd X = gaussian_matrix(6, 20, rng), Xt = gaussian_matrix(6, 7, rng);
  const Eigen::VectorXd y = gaussian_matrix(20, 1, rng);
  const curse::AttnNetParams p = curse::init_paired(16, 1.0, rng);  // rank(H) <= 8 < n = 20
  const Eigen::MatrixXd Jt = curse::jacobian_t(p, X);
  const Eigen::MatrixXd H = ntk_gram(Jt), K = ntk_cross(curse::jacobian_t(p, Xt), Jt);
  const KernelEig e = ntk_eig(H);
  ASSERT_LT(e.values.minCoeff(), 1e-10 * e.values.maxCoeff());  // really singular
  const double eta = 0.5 / e.values.maxCoeff();
  Eigen::VectorXd F = Eigen::VectorXd::Zero(20), f = Eigen::VectorXd::Zero(7);
  const int T = 300;
  for (int t = 0; t < T; ++t) {
    const Eigen::VectorXd r = F - y;
    F -= eta * H * r;
    f -= eta * K * r;
  }
  const Eigen::VectorXd f_eig = ntk_gd_predict(e, K, y, eta, T);
  const Eigen::VectorXd res_eig = ntk_gd_train_residual(e, y, eta, T);
  EXPECT_LT((f_eig - f).cwiseAbs().maxCoeff(), tol::kLinearizedRecursion) << "seed 22";
  EXPECT_LT((res_eig - (F - y)).cwiseAbs().maxCoeff(), tol::kLinearizedRecursion) << "seed 22";
}

TEST(CurseNtk, GdFactorLimits) {
  EXPECT_EQ(gd_factor(0.0, 0.1, 50.0), 0.1 * 50.0);
  EXPECT_NEAR(gd_factor(1e-14, 0.1, 50.0), 5.0, 1e-12);     // -> eta t as lambda -> 0
  EXPECT_NEAR(gd_factor(2.0, 0.1, 1e6), 1.0 / 2.0, 1e-15);  // -> 1/lambda as t -> inf
  EXPECT_NEAR(gd_factor(2.0, 0.1, 3.0), (1 - std::pow(0.8, 3)) / 2.0, 1e-15);
}

TEST(CurseNtk, GaussHermiteIntegratesGaussianMoments) {
  Eigen::VectorXd z, w;
  gauss_hermite(16, z, w);
  double dfact = 1;  // (2k-1)!!
  for (int k = 0; k <= 15; ++k) {
    if (k > 0) dfact *= 2 * k - 1;
    double even = 0, odd = 0, odd_abs = 0;
    for (Eigen::Index q = 0; q < z.size(); ++q) {
      double zp = 1;
      for (int e = 0; e < 2 * k; ++e) zp *= z[q];
      even += w[q] * zp;
      odd += w[q] * zp * z[q];
      odd_abs += std::abs(w[q] * zp * z[q]);
    }
    EXPECT_NEAR(even / dfact, 1.0, tol::kQuadrature * 1e3) << "E z^" << 2 * k;
    // The rule is symmetric, so odd moments vanish up to the rounding of a sum of 16 terms of
    // either sign, each with 2k+1 roundings in its power: (16 + 2k + 1) eps sum |term|.
    const double eps = std::numeric_limits<double>::epsilon();
    EXPECT_LE(std::abs(odd), (16 + 2 * k + 1) * eps * odd_abs) << "odd " << 2 * k + 1;
  }
}

// Paired H(0) = (2/m) sum over m/2 iid N(0,1) weights: Monte Carlo of the Gauss-Hermite kernel.
TEST(CurseNtk, WideEmpiricalKernelApproachesInfiniteWidthKernel) {
  Rng rng = make_stream(23, "test.curse.ntk");
  const Eigen::MatrixXd X = gaussian_matrix(8, 12, rng);
  const Eigen::MatrixXd Hinf =
      ntk_infinite_width([&](double w) { return curse::ntk_feature(w, X); }, 64, 1.0);
  double prev = INFINITY;
  for (Eigen::Index m : {256, 65536}) {
    const curse::AttnNetParams p = curse::init_paired(m, 1.0, rng);
    const double err = (ntk_gram(curse::jacobian_t(p, X)) - Hinf).norm() / Hinf.norm();
    EXPECT_LT(err, 4.0 / std::sqrt(static_cast<double>(m / 2))) << "m " << m << " seed 23";
    EXPECT_LT(err, prev) << "m " << m;
    prev = err;
  }
}

TEST(CurseNtk, SpectrumCountsEffectiveRank) {
  Eigen::VectorXd v(5);
  v << 1e-20, 1e-9, 1e-5, 0.1, 1.0;
  const KernelSpectrum s = ntk_spectrum(v);
  EXPECT_EQ(s.effective_rank, 3);
  EXPECT_DOUBLE_EQ(s.ratio, 1e-20);
  EXPECT_DOUBLE_EQ(s.normalized[0], 1.0);
}

}  // namespace
}  // namespace attnlab

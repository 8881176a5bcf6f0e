// Protects the analytic gradients of the curse models (spec §2.2, §2.3, §4.2) against central
// finite differences, and the fast kernels against their loop-level references.
#include <gtest/gtest.h>

#include <cmath>

#include "core/gradcheck.h"
#include "core/random_matrix.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "models/curse/attention_net.h"
#include "models/curse/multidim_attention.h"
#include "models/curse/residual_linear.h"
#include "tests/tolerances.h"

namespace attnlab {
namespace {

TEST(CurseAttentionNet, GradientMatchesFiniteDifferences) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    Rng rng = make_stream(seed, "test.curse.grad");
    const Eigen::MatrixXd X = gaussian_matrix(8, 12, rng, 1.0);  // (d, n)
    const Eigen::VectorXd y = gaussian_matrix(12, 1, rng, 1.0);
    curse::AttnNetParams p = curse::init_unpaired(10, 1.5, rng);
    curse::AttnNetCache cache;
    const Eigen::VectorXd F = curse::forward(p, X, cache);
    curse::AttnNetGrads g{Eigen::VectorXd::Zero(10), Eigen::VectorXd::Zero(10)};
    curse::backward(p, cache, F - y, g);
    auto loss = [&] { return curse::half_sum_loss(curse::predict(p, X), y); };
    const GradCheckResult res = check_gradient(loss, {GradBlock{"w", p.w.data(), g.w.data(), 10},
                                                      GradBlock{"a", p.a.data(), g.a.data(), 10}});
    EXPECT_LT(res.max_rel_error(), tol::kGradCheck) << "seed " << seed << " " << res.worst();
  }
}

TEST(CurseAttentionNet, FastAgreesWithReference) {
  Rng rng = make_stream(7, "test.curse.ref");
  const Eigen::MatrixXd X = gaussian_matrix(8, 9, rng, 2.0);
  const Eigen::VectorXd d_out = gaussian_matrix(9, 1, rng, 1.0);
  curse::AttnNetParams p = curse::init_unpaired(300, 3.0, rng);  // > one 256-neuron block
  curse::AttnNetCache cache;
  const Eigen::VectorXd F = curse::forward(p, X, cache);
  const Eigen::VectorXd Fr = curse::forward_reference(p, X);
  EXPECT_LT((F - Fr).cwiseAbs().maxCoeff(), tol::kExactDouble) << "seed 7";
  curse::AttnNetGrads g{Eigen::VectorXd::Zero(300), Eigen::VectorXd::Zero(300)}, gr = g;
  curse::backward(p, cache, d_out, g);
  curse::backward_reference(p, X, d_out, gr);
  EXPECT_LT((g.w - gr.w).cwiseAbs().maxCoeff(), tol::kExactDouble) << "seed 7";
  EXPECT_LT((g.a - gr.a).cwiseAbs().maxCoeff(), tol::kExactDouble) << "seed 7";
}

TEST(CurseAttentionNet, PairedInitIsZeroEverywhere) {
  Rng rng = make_stream(8, "test.curse.paired");
  const curse::AttnNetParams p = curse::init_paired(64, 1.0, rng);
  const Eigen::MatrixXd X = gaussian_matrix(8, 50, rng, 1.0);
  EXPECT_LT(curse::predict(p, X).cwiseAbs().maxCoeff(), tol::kExactZero) << "seed 8";
}

TEST(CurseAttentionNet, ThreadCountDoesNotChangeBits) {
  Rng rng = make_stream(9, "test.curse.threads");
  const Eigen::MatrixXd X = gaussian_matrix(8, 37, rng, 1.0);
  const Eigen::VectorXd y = gaussian_matrix(37, 1, rng, 1.0);
  const curse::AttnNetParams p0 = curse::init_paired(520, 1.0, rng);
  Eigen::VectorXd w_by_threads[2];
  const int before = num_threads();
  for (int t : {1, 2}) {
    set_num_threads(t);
    curse::AttnNetParams p = p0;
    curse::train_gd(p, X, y, 0.05, 5, nullptr);
    w_by_threads[t - 1] = p.w;
  }
  set_num_threads(before);
  EXPECT_TRUE((w_by_threads[0].array() == w_by_threads[1].array()).all()) << "seed 9";
}

TEST(CurseResidualLinear, GradientMatchesFiniteDifferences) {
  Rng rng = make_stream(4, "test.curse.lin");
  const Eigen::MatrixXd X = gaussian_matrix(6, 20, rng, 1.0);
  const Eigen::VectorXd y = gaussian_matrix(20, 1, rng, 1.0);
  curse::LinearParams p{gaussian_matrix(6, 1, rng, 1.0)};
  curse::LinearGrads g{Eigen::VectorXd::Zero(6)};
  curse::linear_backward(p, X, curse::linear_forward(p, X) - y, g);
  auto loss = [&] { return 0.5 * (curse::linear_forward(p, X) - y).squaredNorm(); };
  const GradCheckResult res = check_gradient(loss, {GradBlock{"w", p.w.data(), g.w.data(), 6}});
  EXPECT_LT(res.max_rel_error(), tol::kGradCheck) << "seed 4 " << res.worst();
}

TEST(CurseResidualLinear, GradientDescentReachesLeastSquares) {
  Rng rng = make_stream(5, "test.curse.lin");
  const Eigen::MatrixXd X = gaussian_matrix(6, 200, rng, 1.0);
  const Eigen::VectorXd y = gaussian_matrix(200, 1, rng, 1.0);
  const curse::LinearParams ls = curse::linear_least_squares(X, y);
  const curse::LinearParams gd = curse::linear_gd(X, y, 1.0 / 800.0, 20000);
  EXPECT_LT((ls.w - gd.w).cwiseAbs().maxCoeff(), 1e-8) << "seed 5";
}

TEST(CurseMultiAttention, ClosedFormGradientMatchesFiniteDifferences) {
  for (std::uint64_t seed : {11u, 12u}) {
    Rng rng = make_stream(seed, "test.curse.multi");
    const Eigen::Index L = 7, d = 5;
    const Eigen::MatrixXd X = gaussian_matrix(L, d, rng, 1.0);
    const Eigen::MatrixXd G = gaussian_matrix(L, d, rng, 1.0);
    curse::MultiAttnParams p{gaussian_matrix(d, d, rng, 0.3), gaussian_matrix(d, d, rng, 1.0)};
    curse::MultiAttnCache cache;
    curse::multi_attn_forward(p, X, cache);
    curse::MultiAttnGrads g{Eigen::MatrixXd::Zero(d, d), Eigen::MatrixXd::Zero(d, d)}, gr = g;
    curse::multi_attn_backward(p, cache, G, g);
    curse::multi_attn_backward_reference(p, cache, G, gr);
    EXPECT_LT((g.W - gr.W).cwiseAbs().maxCoeff(), tol::kExactDouble);
    EXPECT_LT((g.Wv - gr.Wv).cwiseAbs().maxCoeff(), tol::kExactDouble);
    auto loss = [&] {
      curse::MultiAttnCache c;
      return curse::multi_attn_forward(p, X, c).cwiseProduct(G).sum();  // dLoss/dAttn = G
    };
    const auto sz = static_cast<std::size_t>(d * d);
    const GradCheckResult res =
        check_gradient(loss, {GradBlock{"W", p.W.data(), g.W.data(), sz},
                              GradBlock{"Wv", p.Wv.data(), g.Wv.data(), sz}});
    EXPECT_LT(res.max_rel_error(), tol::kGradCheck) << "seed " << seed << " " << res.worst();
  }
}

}  // namespace
}  // namespace attnlab

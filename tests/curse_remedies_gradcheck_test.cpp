// Protects the hand-written gradients of the E10 remedy toys (differential attention, positional
// logit bias, patching) against central finite differences in double, for every parameter block.
#include <gtest/gtest.h>

#include <cmath>

#include "core/gradcheck.h"
#include "core/random_matrix.h"
#include "core/rng.h"
#include "models/curse/diff_attention.h"
#include "models/curse/patch_attention.h"
#include "models/curse/posbias_attention.h"
#include "tests/tolerances.h"

namespace attnlab {
namespace {

// A generic point: unpaired signs and non-zero extra parameters, so no gradient block vanishes.
curse::AttnNetParams base_point(Eigen::Index m, Rng& rng) {
  return curse::init_unpaired(m, 1.5, rng);
}

template <class T>
std::size_t size_of(const T& v) {
  return static_cast<std::size_t>(v.size());
}

TEST(CurseDiffAttention, GradientMatchesFiniteDifferences) {
  for (std::uint64_t seed : {21u, 22u, 23u}) {
    Rng rng = make_stream(seed, "test.curse.diff.grad");
    const Eigen::MatrixXd X = gaussian_matrix(8, 12, rng, 1.0);  // (d, n)
    const Eigen::VectorXd y = gaussian_matrix(12, 1, rng, 1.0);
    const curse::AttnNetParams base = base_point(10, rng);
    curse::DiffAttnParams p{base.w, gaussian_matrix(10, 1, rng, 1.5),
                            Eigen::VectorXd::Constant(1, 0.4), base.a};
    curse::DiffAttnCache cache;
    const Eigen::VectorXd F = curse::diff_attn_forward(p, X, cache);
    curse::DiffAttnGrads g = curse::diff_attn_zero_grads(p);
    curse::diff_attn_backward(p, cache, F - y, g);
    auto loss = [&] { return 0.5 * (curse::diff_attn_predict(p, X) - y).squaredNorm(); };
    const GradCheckResult res =
        check_gradient(loss, {GradBlock{"w", p.w.data(), g.w.data(), size_of(p.w)},
                              GradBlock{"w2", p.w2.data(), g.w2.data(), size_of(p.w2)},
                              GradBlock{"theta", p.theta.data(), g.theta.data(), 1},
                              GradBlock{"a", p.a.data(), g.a.data(), size_of(p.a)}});
    EXPECT_LT(res.max_rel_error(), tol::kGradCheck) << "seed " << seed << " " << res.worst();
  }
}

TEST(CursePosBiasAttention, GradientMatchesFiniteDifferences) {
  for (std::uint64_t seed : {31u, 32u, 33u}) {
    Rng rng = make_stream(seed, "test.curse.posbias.grad");
    const Eigen::MatrixXd X = gaussian_matrix(8, 12, rng, 1.0);
    const Eigen::VectorXd y = gaussian_matrix(12, 1, rng, 1.0);
    const curse::AttnNetParams base = base_point(10, rng);
    curse::PosBiasParams p{base.w, gaussian_matrix(10, 8, rng, 1.0), base.a};
    curse::PosBiasCache cache;
    const Eigen::VectorXd F = curse::posbias_forward(p, X, cache);
    curse::PosBiasGrads g = curse::posbias_zero_grads(p);
    curse::posbias_backward(p, cache, F - y, g);
    auto loss = [&] { return 0.5 * (curse::posbias_predict(p, X) - y).squaredNorm(); };
    const GradCheckResult res =
        check_gradient(loss,
                       {GradBlock{"w", p.w.data(), g.w.data(), size_of(p.w)},
                        GradBlock{"B", p.B.data(), g.B.data(), size_of(p.B)},
                        GradBlock{"a", p.a.data(), g.a.data(), size_of(p.a)}},
                       GradCheckOptions{.max_coords_per_block = 80});
    EXPECT_LT(res.max_rel_error(), tol::kGradCheck) << "seed " << seed << " " << res.worst();
  }
}

TEST(CursePatchAttention, GradientMatchesFiniteDifferences) {
  for (Eigen::Index patch : {1, 2, 4}) {
    const auto seed = static_cast<std::uint64_t>(40 + patch);
    Rng rng = make_stream(seed, "test.curse.patch.grad");
    const Eigen::MatrixXd X = gaussian_matrix(8, 12, rng, 1.0);
    const Eigen::VectorXd y = gaussian_matrix(12, 1, rng, 1.0);
    const curse::AttnNetParams base = base_point(10, rng);
    curse::PatchAttnParams p{base.w, gaussian_matrix(10, patch, rng, 1.0), base.a};
    curse::PatchAttnCache cache;
    const Eigen::VectorXd F = curse::patch_attn_forward(p, X, cache);
    curse::PatchAttnGrads g = curse::patch_attn_zero_grads(p);
    curse::patch_attn_backward(p, cache, F - y, g);
    auto loss = [&] { return 0.5 * (curse::patch_attn_predict(p, X) - y).squaredNorm(); };
    const GradCheckResult res =
        check_gradient(loss, {GradBlock{"w", p.w.data(), g.w.data(), size_of(p.w)},
                              GradBlock{"U", p.U.data(), g.U.data(), size_of(p.U)},
                              GradBlock{"a", p.a.data(), g.a.data(), size_of(p.a)}});
    EXPECT_LT(res.max_rel_error(), tol::kGradCheck)
        << "seed " << seed << " patch " << patch << " " << res.worst();
  }
}

}  // namespace
}  // namespace attnlab

// Protects: the synthetic protocols of the trained var.* claims (the stable protocol's innovation
// std is the authors' 0.05, not VarSpec's unit default; orders {1,2,3} -> {3,4,5}), and the
// linearity of the aligned stack in its observations with q, v frozen (the VAR reading used by
// var.misaligned_stack_not_var), which LinTrans blocks do not have.
#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.h"
#include "experiments/var/training.h"
#include "synth/var.h"

namespace attnlab::var {
namespace {

constexpr std::uint64_t kSeed = 20250211;

// Innovation residuals x_t - sum_k A_k x_{t-k} over every window of a split.
double innovation_rms(const std::vector<Example>& split) {
  double s = 0;
  double n = 0;
  for (const auto& ex : split) {
    const Eigen::Index L = ex.window.rows(), p = static_cast<Eigen::Index>(ex.A.size());
    for (Eigen::Index t = p; t < L; ++t) {
      Eigen::VectorXd r = ex.window.row(t).transpose();
      for (Eigen::Index k = 1; k <= p; ++k)
        r -= ex.A[static_cast<std::size_t>(k - 1)] * ex.window.row(t - k).transpose();
      s += r.squaredNorm();
      n += static_cast<double>(r.size());
    }
  }
  return std::sqrt(s / n);
}

TEST(SamovarProtocol, StableProtocolUsesTheAuthorsNoiseStd) {
  for (bool train : {true, false}) {
    const auto split = make_split("stable", train, kSeed, 200, 32);
    // ~5000 residuals of std 0.05: the sample RMS is within 3% with overwhelming probability.
    EXPECT_NEAR(innovation_rms(split), kSamovarNoiseStd, 0.03 * kSamovarNoiseStd)
        << "seed " << kSeed << " train " << train;
  }
}

TEST(SamovarProtocol, StableProtocolOrders) {
  const auto tr = make_split("stable", true, kSeed, 300, 16);
  const auto va = make_split("stable", false, kSeed, 300, 16);
  std::vector<int> seen_tr(6, 0), seen_va(6, 0);
  for (const auto& e : tr) ++seen_tr[e.A.size()];
  for (const auto& e : va) ++seen_va[e.A.size()];
  for (int p : {1, 2, 3}) EXPECT_GT(seen_tr[static_cast<std::size_t>(p)], 0) << "train p " << p;
  for (int p : {3, 4, 5}) EXPECT_GT(seen_va[static_cast<std::size_t>(p)], 0) << "val p " << p;
  EXPECT_EQ(seen_tr[4] + seen_tr[5], 0);
  EXPECT_EQ(seen_va[1] + seen_va[2], 0);
}

TEST(SamovarProtocol, AlignedStackIsLinearInObservationsWithFrozenQueriesAndValues) {
  samovar::Config cfg;
  cfg.width = 8;
  cfg.heads = 2;
  cfg.input_len = 10;
  Rng rng = make_stream(kSeed, "test.init");
  const samovar::Params p = samovar::init_params(cfg, rng);
  Rng data = make_stream(kSeed, "test.inputs");
  samovar::Matrix x(cfg.tokens(), cfg.width), z(cfg.tokens(), cfg.width);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    x.data()[i] = normal(data);
    z.data()[i] = normal(data);
  }
  samovar::StackCache frozen, a, b, c;
  samovar::stack_forward(p, cfg, x, 0, frozen, nullptr);
  const auto f = [&](const samovar::Matrix& k, samovar::StackCache& cache) {
    return samovar::stack_forward(p, cfg, k, 0, cache, nullptr, &frozen);
  };
  // f(2 x + 3 z) = 2 f(x) + 3 f(z) for a map linear in the observations.
  const samovar::Matrix lhs = f(2 * x + 3 * z, a);
  const samovar::Matrix rhs = 2 * f(x, b) + 3 * f(z, c);
  EXPECT_LE((lhs - rhs).cwiseAbs().maxCoeff(), 1e-12 * rhs.cwiseAbs().maxCoeff())
      << "seed " << kSeed;
  // The same superposition fails for a LinTrans block (normalised, biased keys; residual MLP).
  samovar::LinBlock blk = samovar::init_lin_block(cfg.width, 3, rng);
  blk.bk.setConstant(0.1);
  samovar::LinBlockCache fz, c1, c2, c3;
  samovar::lin_block_forward(blk, cfg.heads, 0.0, x, fz, nullptr);
  const auto g = [&](const samovar::Matrix& k, samovar::LinBlockCache& cache) {
    return samovar::lin_block_forward(blk, cfg.heads, 0.0, k, cache, nullptr, &fz);
  };
  const samovar::Matrix l2 = g(2 * x + 3 * z, c1), r2 = 2 * g(x, c2) + 3 * g(z, c3);
  EXPECT_GT((l2 - r2).cwiseAbs().maxCoeff(), 1e-6 * r2.cwiseAbs().maxCoeff()) << "seed " << kSeed;
}

}  // namespace
}  // namespace attnlab::var

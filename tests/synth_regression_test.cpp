// Protects the in-context regression generator (icl.md §2): token layout, noise-free query,
// noise laws, closed-form moments, batch = concatenation of single tasks, thread independence.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/thread_pool.h"
#include "synth/regression.h"
#include "tests/tolerances.h"

namespace attnlab {
namespace {

constexpr std::uint64_t kSeed = 777;

RegressionSpec uniform_spec(double sigma_max) {
  RegressionSpec s;
  s.d = 5;
  s.n = 12;
  s.sigma_max = sigma_max;
  return s;
}

struct Batch {
  Eigen::MatrixXd tokens, w;
  Eigen::VectorXd target, sigma;
};

Batch make_batch(const RegressionSpec& spec, std::uint64_t first, Eigen::Index B) {
  Batch b;
  b.tokens.resize(spec.d + 1, B * (spec.n + 1));
  b.target.resize(B);
  regression_batch(spec, kSeed, first, {b.tokens, b.target, &b.w, &b.sigma});
  return b;
}

TEST(SynthRegression, QueryIsNoiseFreeAndContextNoiseHasDrawnStd) {
  const RegressionSpec spec = uniform_spec(2.0);
  const Eigen::Index B = 4000, L = spec.n + 1, d = spec.d;
  const Batch b = make_batch(spec, 0, B);
  double sum_z2 = 0;
  long count = 0;
  for (Eigen::Index j = 0; j < B; ++j) {
    const auto Z = b.tokens.middleCols(j * L, L);
    EXPECT_EQ(Z(d, spec.n), 0.0) << "query label slot must be 0";
    EXPECT_NEAR(b.target(j), b.w.col(j).dot(Z.col(spec.n).head(d)), tol::kExactDouble);
    EXPECT_GE(b.sigma(j), 0.0);
    EXPECT_LT(b.sigma(j), 2.0);
    for (int i = 0; i < spec.n; ++i) {
      const double r = Z(d, i) - b.w.col(j).dot(Z.col(i).head(d));
      sum_z2 += (r / b.sigma(j)) * (r / b.sigma(j));
      ++count;
    }
  }
  // (r/sigma)^2 ~ chi^2_1: mean 1, variance 2
  const double mean = sum_z2 / static_cast<double>(count);
  EXPECT_LE(std::abs(mean - 1.0) / std::sqrt(2.0 / static_cast<double>(count)), tol::kMaxAbsZ);
}

TEST(SynthRegression, MomentsMatchClosedFormsForBothNoiseLaws) {
  RegressionSpec set = uniform_spec(0);
  set.law = NoiseLaw::Categorical;
  set.sigma_set = {1.0, 3.0};
  for (const RegressionSpec& spec : {uniform_spec(3.0), set}) {
    const Eigen::Index B = 20000, L = spec.n + 1, d = spec.d;
    const Batch b = make_batch(spec, 0, B);
    // per-task statistics (tasks are iid; positions within a task share w and sigma)
    Eigen::ArrayXd y2(B), yq2(B), s2(B), w2(B);
    for (Eigen::Index j = 0; j < B; ++j) {
      const auto Z = b.tokens.middleCols(j * L, L);
      y2(j) = Z.row(d).head(spec.n).squaredNorm() / spec.n;
      yq2(j) = b.target(j) * b.target(j);
      s2(j) = b.sigma(j) * b.sigma(j);
      w2(j) = b.w.col(j).squaredNorm();
    }
    auto z = [&](const Eigen::ArrayXd& f, double truth) {
      const double m = f.mean();
      return (m - truth) / std::sqrt((f - m).square().sum() / (B - 1.0) / static_cast<double>(B));
    };
    const double law = spec.law == NoiseLaw::Uniform ? 0 : 1;
    EXPECT_LE(std::abs(z(y2, regression_context_y2(spec))), tol::kMaxAbsZ) << "law " << law;
    EXPECT_LE(std::abs(z(yq2, regression_query_y2(spec))), tol::kMaxAbsZ) << "law " << law;
    EXPECT_LE(std::abs(z(s2, regression_mean_sigma2(spec))), tol::kMaxAbsZ) << "law " << law;
    EXPECT_LE(std::abs(z(w2, static_cast<double>(d))), tol::kMaxAbsZ) << "law " << law;
  }
  EXPECT_NEAR(regression_mean_sigma2(set), 5.0, 1e-15);
  EXPECT_NEAR(regression_mean_sigma2(uniform_spec(3.0)), 3.0, 1e-15);
}

TEST(SynthRegression, CategoricalLawOnlyDrawsFromTheSet) {
  RegressionSpec spec = uniform_spec(0);
  spec.law = NoiseLaw::Categorical;
  spec.sigma_set = {1.0, 3.0, 5.0};
  const Batch b = make_batch(spec, 0, 3000);
  int counts[3] = {0, 0, 0};
  for (Eigen::Index j = 0; j < 3000; ++j) {
    const double s = b.sigma(j);
    ASSERT_TRUE(s == 1.0 || s == 3.0 || s == 5.0) << s;
    ++counts[static_cast<int>(s) / 2];
  }
  for (int c : counts) EXPECT_NEAR(c, 1000, 4.5 * std::sqrt(3000 * (1.0 / 3) * (2.0 / 3)));
}

TEST(SynthRegression, SigmaMaxZeroIsNoiseFree) {
  const RegressionSpec spec = uniform_spec(0.0);
  const Batch b = make_batch(spec, 0, 50);
  EXPECT_TRUE(b.sigma.isZero());
  for (Eigen::Index j = 0; j < 50; ++j) {
    const auto Z = b.tokens.middleCols(j * 13, 13);
    for (int i = 0; i < spec.n; ++i)
      EXPECT_NEAR(Z(5, i), b.w.col(j).dot(Z.col(i).head(5)), tol::kExactDouble);
  }
}

TEST(SynthRegression, BatchEqualsSingleTasksForAnyThreadCountAndSplit) {
  const RegressionSpec spec = uniform_spec(1.0);
  const int before = num_threads();
  set_num_threads(1);
  const Batch a = make_batch(spec, 100, 64);
  set_num_threads(2);
  const Batch b = make_batch(spec, 100, 64);
  const Batch tail = make_batch(spec, 140, 24);
  set_num_threads(before);
  EXPECT_TRUE(a.tokens == b.tokens);
  EXPECT_TRUE(a.target == b.target);
  EXPECT_TRUE(a.tokens.rightCols(24 * 13) == tail.tokens);
  const RegressionTask t = regression_task(spec, kSeed, 117);
  EXPECT_TRUE(t.Z == a.tokens.middleCols(17 * 13, 13));
  EXPECT_EQ(t.target, a.target(17));
  EXPECT_EQ(t.sigma, a.sigma(17));
}

TEST(SynthRegression, InvalidSpecOrBufferThrowsInputError) {
  RegressionSpec s = uniform_spec(-1.0);
  EXPECT_THROW(validate(s), InputError);
  s = uniform_spec(1.0);
  s.law = NoiseLaw::Categorical;
  EXPECT_THROW(validate(s), InputError);  // empty set
  s = uniform_spec(1.0);
  s.d = 0;
  EXPECT_THROW(validate(s), InputError);
}

}  // namespace
}  // namespace attnlab

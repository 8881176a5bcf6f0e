// Protects analysis/stats: the statistics every claim's metrics and intervals are made of, on
// inputs whose answers are known in closed form.
#include "analysis/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace attnlab {
namespace {

TEST(Stats, MeansAndMedians) {
  EXPECT_EQ(mean({1, 2, 6}), 3.0);
  EXPECT_EQ(median({5, 1, 3}), 3.0);
  EXPECT_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_EQ(upper_median({4, 1, 3, 2}), 3.0);
  EXPECT_EQ(upper_median({5, 1, 3}), 3.0);
}

TEST(Stats, ErrorsSlopesAgreementCorrelation) {
  Eigen::VectorXd f(3), y(3);
  f << 1, 2, 3;
  y << 1, 0, 5;
  EXPECT_DOUBLE_EQ(mse(f, y), (0.0 + 4.0 + 4.0) / 3.0);
  // y = 3 x^-1.5 has log-log slope -1.5 exactly.
  std::vector<double> x = {1, 2, 4, 8, 16}, p;
  for (double v : x) p.push_back(3.0 * std::pow(v, -1.5));
  EXPECT_NEAR(loglog_slope(x, p), -1.5, 1e-12);
  Eigen::VectorXd a(4), b(4);
  a << 1, -2, 0, 3;
  b << 2, 5, 0, -1;
  EXPECT_EQ(sign_agreement(a, b), 0.5);  // +/+ agree, 0/0 agree, -/+ and +/- do not
  // An affine image correlates +1 or -1; both overloads agree with each other.
  Eigen::VectorXd u(5), v(5);
  u << 0.3, -1.2, 2.5, 0.7, 1.1;
  v = -2.0 * u.array() + 1.0;
  EXPECT_NEAR(correlation(u, v), -1.0, 1e-14);
  const std::vector<double> us(u.data(), u.data() + 5), vs = {1, 0, 2, 1, 3};
  const Eigen::VectorXd ve = Eigen::Map<const Eigen::VectorXd>(vs.data(), 5);
  EXPECT_NEAR(correlation(us, vs), correlation(u, ve), 1e-14);
  EXPECT_GT(std::abs(correlation(us, vs)), 0.3);  // not degenerate
}

TEST(Stats, SeedSummaryUsesStudentsT) {
  // 1, 2, 3: mean 2, sd 1. With 2 degrees of freedom Student's t has the closed-form quantile
  // t_p = (2p - 1) / sqrt(2 p (1 - p)): t_0.975 = 0.95 / sqrt(0.04875) = 4.3026527...
  const SeedSummary s = summarize_seeds({3, 1, 2});
  EXPECT_EQ(s.mean, 2.0);
  EXPECT_EQ(s.median, 2.0);
  EXPECT_EQ(s.min, 1.0);
  EXPECT_EQ(s.max, 3.0);
  ASSERT_TRUE(s.sd && s.ci95);
  EXPECT_DOUBLE_EQ(*s.sd, 1.0);
  const double half = 0.95 / std::sqrt(2 * 0.975 * 0.025) / std::sqrt(3.0);
  EXPECT_NEAR(s.ci95->first, 2.0 - half, 1e-12);
  EXPECT_NEAR(s.ci95->second, 2.0 + half, 1e-12);
  const SeedSummary one = summarize_seeds({0.5});
  EXPECT_FALSE(one.sd.has_value());
  EXPECT_FALSE(one.ci95.has_value());
}

TEST(Stats, PairedDifference) {
  // differences 1, 2, 3: mean 2, sd 1, standard error 1 / sqrt(3)
  const PairedDiff d = paired_difference({2, 4, 6}, {1, 2, 3});
  EXPECT_DOUBLE_EQ(d.mean, 2.0);
  EXPECT_NEAR(d.se, 1.0 / std::sqrt(3.0), 1e-15);
}

}  // namespace
}  // namespace attnlab

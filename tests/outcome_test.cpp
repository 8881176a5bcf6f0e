// Outcome: per-seed summaries (mean, median, 95% t-interval) and the NaN guard on metrics.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "experiments/experiment.h"

namespace attnlab {
namespace {

TEST(Outcome, SeedSummaryUsesStudentT) {
  Outcome o;
  o.seeds("m", {0.0, 2.0});
  EXPECT_DOUBLE_EQ(o.get("m"), 1.0);
  const auto& rec = o.per_seed()["m"];
  // n = 2: sd = sqrt(2), t(0.975, 1 dof) = 12.7062047, half-width = t * sd / sqrt(2) = t.
  EXPECT_NEAR(rec["ci95"][0].get<double>(), 1.0 - 12.7062047, 1e-6);
  EXPECT_NEAR(rec["ci95"][1].get<double>(), 1.0 + 12.7062047, 1e-6);
  EXPECT_DOUBLE_EQ(rec["std"].get<double>(), std::sqrt(2.0));
}

TEST(Outcome, AggregatesAreSelectable) {
  Outcome o;
  o.seeds("med", {5.0, 1.0, 3.0, 100.0}, Aggregate::Median);
  o.seeds("min", {5.0, 1.0, 3.0}, Aggregate::Min);
  o.seeds("max", {5.0, 1.0, 3.0}, Aggregate::Max);
  EXPECT_DOUBLE_EQ(o.get("med"), 4.0);
  EXPECT_DOUBLE_EQ(o.get("min"), 1.0);
  EXPECT_DOUBLE_EQ(o.get("max"), 5.0);
  EXPECT_EQ(o.per_seed()["med"]["aggregate"], "median");
}

TEST(Outcome, NonFiniteMetricIsNumericErrorNamingIt) {
  Outcome o;
  try {
    o.metric("loss", std::numeric_limits<double>::quiet_NaN());
    FAIL() << "NaN accepted";
  } catch (const NumericError& e) {
    EXPECT_NE(std::string(e.what()).find("loss"), std::string::npos);
  }
  EXPECT_THROW(o.seeds("x", {1.0, std::numeric_limits<double>::infinity()}), NumericError);
  EXPECT_THROW(o.get("missing"), std::out_of_range);
}

}  // namespace
}  // namespace attnlab

#pragma once
// The statistics every paper's experiments use: means and medians, errors, slopes, agreement,
// correlation, and the summary over seeds with its 95 % interval.
#include <Eigen/Dense>
#include <optional>
#include <utility>
#include <vector>

namespace attnlab {

double mean(const std::vector<double>& v);   // sum in order, then / size
double median(std::vector<double> v);        // mean of the two middle values when size is even
double upper_median(std::vector<double> v);  // the value at rank size / 2 (0-based, sorted)
double mse(const Eigen::VectorXd& f, const Eigen::VectorXd& y);
// Least-squares slope of log(y) on log(x).
double loglog_slope(const std::vector<double>& x, const std::vector<double>& y);
// Fraction of entries with sign(a_i) == sign(b_i) (zero counts as its own sign).
double sign_agreement(const Eigen::VectorXd& a, const Eigen::VectorXd& b);
// Pearson correlation. The two overloads keep their own order of operations (means by one
// division at the end / by a division per term), so existing metrics keep their bits.
double correlation(const Eigen::VectorXd& a, const Eigen::VectorXd& b);
double correlation(const std::vector<double>& a, const std::vector<double>& b);

// Mean of a - b and its standard error, paired over the same items (size >= 2).
struct PairedDiff {
  double mean = 0, se = 0;
};
PairedDiff paired_difference(const std::vector<double>& a, const std::vector<double>& b);

// Values over seeds: mean, median, range, and with two or more values the sample standard
// deviation and the 95 % interval for the mean from Student's t with n - 1 degrees of freedom.
struct SeedSummary {
  double mean = 0, median = 0, min = 0, max = 0;
  std::optional<double> sd;
  std::optional<std::pair<double, double>> ci95;
};
SeedSummary summarize_seeds(const std::vector<double>& values);  // values not empty

}  // namespace attnlab

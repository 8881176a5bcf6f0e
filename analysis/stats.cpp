#include "analysis/stats.h"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cassert>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace attnlab {

double mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t k = v.size();
  return k % 2 == 1 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

double upper_median(std::vector<double> v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

double mse(const Eigen::VectorXd& f, const Eigen::VectorXd& y) {
  return (f - y).squaredNorm() / static_cast<double>(y.size());
}

double loglog_slope(const std::vector<double>& x, const std::vector<double>& y) {
  const auto k = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double lx = std::log(x[i]), ly = std::log(y[i]);
    sx += lx;
    sy += ly;
    sxx += lx * lx;
    sxy += lx * ly;
  }
  return (k * sxy - sx * sy) / (k * sxx - sx * sx);
}

double sign_agreement(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  auto sgn = [](double v) { return (v > 0) - (v < 0); };
  Eigen::Index agree = 0;
  for (Eigen::Index i = 0; i < a.size(); ++i) agree += sgn(a[i]) == sgn(b[i]) ? 1 : 0;
  return static_cast<double>(agree) / static_cast<double>(a.size());
}

double correlation(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const Eigen::ArrayXd ca = a.array() - a.mean(), cb = b.array() - b.mean();
  return (ca * cb).sum() / std::sqrt(ca.square().sum() * cb.square().sum());
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

PairedDiff paired_difference(const std::vector<double>& a, const std::vector<double>& b) {
  assert(a.size() == b.size() && a.size() > 1);
  const double m = static_cast<double>(a.size());
  double mean = 0;
  for (std::size_t i = 0; i < a.size(); ++i) mean += a[i] - b[i];
  mean /= m;
  double var = 0;
  for (std::size_t i = 0; i < a.size(); ++i) var += (a[i] - b[i] - mean) * (a[i] - b[i] - mean);
  var /= (m - 1);
  return {mean, std::sqrt(var / m)};
}

SeedSummary summarize_seeds(const std::vector<double>& values) {
  if (values.empty()) throw std::invalid_argument("summarize_seeds: no values");
  SeedSummary s;
  const double n = static_cast<double>(values.size());
  s.mean = mean(values);
  s.median = median(values);
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  s.min = *lo;
  s.max = *hi;
  if (values.size() >= 2) {
    double ss = 0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    const double sd = std::sqrt(ss / (n - 1));
    const boost::math::students_t t(n - 1);
    const double half =
        boost::math::quantile(boost::math::complement(t, 0.025)) * sd / std::sqrt(n);
    s.sd = sd;
    s.ci95 = std::make_pair(s.mean - half, s.mean + half);
  }
  return s;
}

}  // namespace attnlab

#pragma once
// Monte Carlo moment bookkeeping for the generator claims: running sums of per-unit statistics
// (one unit = one independent task / series / sample), their means, standard errors and z-scores
// against closed forms.
#include <Eigen/Dense>
#include <cmath>

namespace attnlab {

// Sums of m statistics over independent units; combine partials in a fixed order.
struct MomentSums {
  Eigen::VectorXd s1, s2;  // (m): sum f, sum f^2
  double count = 0;

  explicit MomentSums(Eigen::Index m = 0)
      : s1(Eigen::VectorXd::Zero(m)), s2(Eigen::VectorXd::Zero(m)) {}
  void add(const Eigen::VectorXd& f) {
    s1 += f;
    s2 += f.cwiseAbs2();
    count += 1;
  }
  void merge(const MomentSums& o) {
    s1 += o.s1;
    s2 += o.s2;
    count += o.count;
  }
  Eigen::VectorXd mean() const { return s1 / count; }
  // Standard error of the mean: sample std / sqrt(count).
  Eigen::VectorXd se() const {
    const Eigen::VectorXd m = mean();
    const Eigen::VectorXd var =
        ((s2 / count - m.cwiseAbs2()) * (count / (count - 1.0))).cwiseMax(0.0);
    return (var / count).cwiseSqrt();
  }
  // z_i = (mean_i - truth_i) / se_i.
  Eigen::VectorXd z(const Eigen::VectorXd& truth) const {
    const Eigen::VectorXd diff = mean() - truth, s = se();
    Eigen::VectorXd out(diff.size());
    for (Eigen::Index i = 0; i < diff.size(); ++i)  // zero spread: exact match or "infinitely" off
      out(i) = s(i) > 0 ? diff(i) / s(i) : (diff(i) == 0 ? 0.0 : std::copysign(1e300, diff(i)));
    return out;
  }
};

inline double binomial_se(double p, double n) { return std::sqrt(p * (1.0 - p) / n); }

}  // namespace attnlab

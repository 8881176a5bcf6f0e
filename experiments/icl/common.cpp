#include "experiments/icl/common.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "analysis/icl_ridge.h"
#include "core/error.h"
#include "core/thread_pool.h"

namespace attnlab::icl {

const std::vector<std::string>& noise_names() {
  static const std::vector<std::string> names = {"u0", "u1", "u2", "u3",  "u4",
                                                 "u5", "u6", "u7", "c13", "c135"};
  return names;
}

RegressionSpec noise_spec(const std::string& name, int d, int n) {
  RegressionSpec s;
  s.d = d;
  s.n = n;
  if (name == "c13" || name == "c135") {
    s.law = NoiseLaw::Categorical;
    s.sigma_set = name == "c13" ? std::vector<double>{1, 3} : std::vector<double>{1, 3, 5};
  } else if (name.size() == 2 && name[0] == 'u' && name[1] >= '0' && name[1] <= '7') {
    s.law = NoiseLaw::Uniform;
    s.sigma_max = name[1] - '0';
  } else {
    throw InputError("icl: unknown noise setting '" + name + "' (u0..u7, c13, c135)");
  }
  return s;
}

Constraint sequences_fit_memory(std::vector<std::string> sets, std::string batch) {
  std::vector<std::string> sizes = sets;
  if (!batch.empty()) sizes.push_back(batch);
  sizes.push_back("n");
  sizes.push_back("d");
  return fits_memory(sizes, [sets, batch](const ParamValues& p) {
    double count = batch.empty() ? 0.0 : 32 * p.number(batch);
    for (const auto& s : sets) count += p.number(s);
    return 8.0 * count * (p.number("n") + 1) * (p.number("d") + 1);
  });
}

EvalSet make_eval_set(const RegressionSpec& spec, std::uint64_t seed, std::size_t count) {
  EvalSet e;
  e.spec = spec;
  const Eigen::Index D = spec.d + 1, N = spec.n + 1, B = static_cast<Eigen::Index>(count);
  e.tokens.resize(D, B * N);
  e.target.resize(B);
  regression_batch(spec, seed, 0, {e.tokens, e.target, nullptr, &e.sigma});
  e.oracle_loss.assign(count, 0.0);
  parallel_for(
      count,
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t b = begin; b < end; ++b) {
          const auto Z = e.tokens.middleCols(static_cast<Eigen::Index>(b) * N, N);
          const double s = e.sigma(static_cast<Eigen::Index>(b));
          const double p = ridge_predict_reference(Z.topLeftCorner(spec.d, spec.n),
                                                   Z.row(spec.d).head(spec.n).transpose(),
                                                   Z.col(spec.n).head(spec.d), s * s);
          const double err = e.target(static_cast<Eigen::Index>(b)) - p;
          e.oracle_loss[b] = 0.5 * err * err;
        }
      },
      64);
  return e;
}

std::vector<double> half_sq_errors(const EvalSet& set, const std::vector<double>& predictions) {
  std::vector<double> out(predictions.size());
  for (std::size_t b = 0; b < predictions.size(); ++b) {
    const double e = set.target(static_cast<Eigen::Index>(b)) - predictions[b];
    out[b] = 0.5 * e * e;
  }
  return out;
}

double table1(const std::string& row, const std::string& noise) {
  // Paper appendix B, Table 1 (adjusted evaluation loss, 1/2 MSE scale), spec §5.2.
  static const std::map<std::string, std::vector<double>> t = {
      {"GD++1", {1.768, 1.639, 1.396, 1.175, 1.015, 0.907, 0.841, 0.806, 1.007, 0.819}},
      {"DIAG1", {1.767, 1.639, 1.396, 1.175, 1.015, 0.906, 0.841, 0.806, 1.007, 0.819}},
      {"FULL1", {1.768, 1.640, 1.397, 1.176, 1.016, 0.907, 0.842, 0.806, 1.008, 0.820}},
      {"GD++2", {0.341, 0.295, 0.243, 0.265, 0.347, 0.366, 0.440, 0.530, 0.305, 0.427}},
      {"DIAG2", {0.265, 0.214, 0.173, 0.188, 0.219, 0.242, 0.254, 0.259, 0.201, 0.246}},
      {"FULL2", {0.264, 0.215, 0.173, 0.188, 0.220, 0.245, 0.259, 0.263, 0.202, 0.276}},
      {"GD++3", {0.019, 0.021, 0.071, 0.161, 0.259, 0.344, 0.454, 0.530, 0.222, 0.422}},
      {"DIAG3", {0.013, 0.015, 0.048, 0.087, 0.109, 0.118, 0.121, 0.123, 0.098, 0.119}},
      {"FULL3", {0.012, 0.015, 0.049, 0.075, 0.101, 0.117, 0.124, 0.127, 0.076, 0.113}},
      {"GD++4", {9.91e-05, 0.014, 0.066, 0.160, 0.258, 0.344, 0.454, 0.530, 0.222, 0.422}},
      {"DIAG4", {1.19e-04, 0.006, 0.024, 0.041, 0.050, 0.059, 0.065, 0.073, 0.043, 0.062}},
      {"FULL4", {1.63e-04, 0.005, 0.021, 0.038, 0.052, 0.065, 0.068, 0.076, 0.032, 0.061}},
      {"GD++5", {1.14e-07, 0.014, 0.066, 0.161, 0.265, 0.344, 0.454, 0.530, 0.222, 0.422}},
      {"DIAG5", {1.81e-07, 0.004, 0.016, 0.029, 0.041, 0.051, 0.058, 0.062, 0.026, 0.051}},
      {"FULL5", {1.79e-07, 0.002, 0.015, 0.026, 0.038, 0.048, 0.059, 0.065, 0.016, 0.048}},
      {"GD++6", {2.37e-10, 0.009, 0.066, 0.161, 0.265, 0.344, 0.454, 0.530, 0.222, 0.422}},
      {"DIAG6", {2.57e-10, 0.003, 0.014, 0.028, 0.040, 0.048, 0.054, 0.059, 0.020, 0.047}},
      {"FULL6", {2.71e-10, 0.002, 0.014, 0.025, 0.036, 0.044, 0.052, 0.059, 0.011, 0.043}},
      {"GD++7", {2.65e-12, 0.009, 0.066, 0.161, 0.265, 0.344, 0.454, 0.530, 0.222, 0.422}},
      {"DIAG7", {2.50e-12, 0.002, 0.014, 0.027, 0.040, 0.047, 0.052, 0.059, 0.018, 0.046}},
      {"FULL7", {2.50e-12, 0.002, 0.010, 0.025, 0.035, 0.047, 0.050, 0.057, 0.010, 0.035}},
      {"CONSTRR", {0, 0.009, 0.066, 0.161, 0.265, 0.365, 0.454, 0.530, 0.222, 0.422}},
      {"ADARR", {0, 0.003, 0.016, 0.034, 0.053, 0.068, 0.081, 0.092, 0.051, 0.084}},
      {"TUNEDRR", {0, 0.002, 0.010, 0.023, 0.037, 0.049, 0.060, 0.068, 0.021, 0.054}},
  };
  const auto it = t.find(row);
  const auto& names = noise_names();
  for (std::size_t c = 0; c < names.size(); ++c)
    if (names[c] == noise && it != t.end()) return it->second[c];
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace attnlab::icl

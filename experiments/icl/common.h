#pragma once
// Shared pieces of the icl experiments: noise settings by name, evaluation sets with the
// per-sequence oracle, and the paper's Table 1 (appendix B, verbatim from spec §5.2).
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/params.h"
#include "synth/regression.h"

namespace attnlab::icl {

// Noise setting names: "u0".."u7" (sigma ~ U(0, sigma_max)), "c13" ({1, 3}), "c135" ({1, 3, 5}).
const std::vector<std::string>& noise_names();
RegressionSpec noise_spec(const std::string& name, int d, int n);

// An evaluation set in double: tokens (D, B N), noise-free targets, true sigma, and the oracle
// ridge (lambda = sigma^2) half squared error per sequence.
struct EvalSet {
  RegressionSpec spec;
  Eigen::MatrixXd tokens;
  Eigen::VectorXd target, sigma;
  std::vector<double> oracle_loss;
  std::size_t size() const { return static_cast<std::size_t>(target.size()); }
  const double* seq(std::size_t b) const {
    return tokens.data() + b * static_cast<std::size_t>(tokens.rows() * (spec.n + 1));
  }
};
EvalSet make_eval_set(const RegressionSpec& spec, std::uint64_t seed, std::size_t count);

// The sequences a kind holds at once fit in memory: every set named in `sets` (eval_count,
// valid_count, ...: kept whole, tokens and targets) and, when `batch` is not empty, that many
// training sequences with the forward caches of up to 8 layers (estimated 32 copies), each
// sequence (n + 1) x (d + 1) doubles.
Constraint sequences_fit_memory(std::vector<std::string> sets, std::string batch = "");

// Half squared errors of predictions against the set's targets.
std::vector<double> half_sq_errors(const EvalSet& set, const std::vector<double>& predictions);

// Table 1 of the paper. Rows: "GD++1".."GD++7", "DIAG1".., "FULL1".., "CONSTRR", "ADARR",
// "TUNEDRR"; columns in noise_names() order. Returns NaN for unknown rows.
double table1(const std::string& row, const std::string& noise);

}  // namespace attnlab::icl

#pragma once
// Second-order structure of a VAR(p) x_t = sum_j A_j x_{t-j} + e_t, e_t ~ (0, Sigma):
//   * companion form F: (k p, k p) and its spectral radius (stable iff < 1);
//   * the stationary state covariance S = E[s_t s_t^T] of s_t = (x_t, ..., x_{t-p+1}), the
//     solution of the discrete Lyapunov equation S = F S F^T + Q, Q = diag(Sigma, 0, ..., 0);
//   * theoretical autocovariances Gamma(h) = E[x_{t+h} x_t^T]: Gamma(h) = S_{0,h} for h < p (the
//     first block row of S), then the Yule-Walker recursion Gamma(h) = sum_j A_j Gamma(h-j);
//   * sample autocovariances.
// Kept separate from synth/var.h on purpose (analysis never includes synth).
#include <Eigen/Dense>
#include <vector>

namespace attnlab {

// First block row [A_1 ... A_p], identity below: (k p, k p).
Eigen::MatrixXd var_companion_form(const std::vector<Eigen::MatrixXd>& A);
double companion_spectral_radius(const std::vector<Eigen::MatrixXd>& A);
// True iff the companion spectral radius is < bound (bound = 1: covariance stationary).
bool var_is_stable(const std::vector<Eigen::MatrixXd>& A, double bound = 1.0);

// Solves X = F X F^T + Q for spectral radius(F) < 1 (throws InputError otherwise).
// Fast: the doubling iteration X <- X + F_j X F_j^T, F_j <- F_j^2 (quadratic convergence).
// Reference: the vectorised linear system (I - F (x) F) vec X = vec Q, O(n^6); n <= ~40.
Eigen::MatrixXd solve_discrete_lyapunov(const Eigen::MatrixXd& F, const Eigen::MatrixXd& Q);
Eigen::MatrixXd solve_discrete_lyapunov_reference(const Eigen::MatrixXd& F,
                                                  const Eigen::MatrixXd& Q);

// Gamma(0..max_lag), each (k, k), of the stationary VAR with innovation covariance Sigma.
std::vector<Eigen::MatrixXd> var_theoretical_autocov(const std::vector<Eigen::MatrixXd>& A,
                                                     const Eigen::MatrixXd& Sigma, int max_lag);

struct AutocovOptions {
  bool demean = true;       // subtract the sample mean (false: the mean is known to be 0)
  bool divide_by_T = true;  // 1/T (positive semidefinite) or 1/(T-h) (unbiased for known mean)
};
// series: (T, k). Returns Gamma_hat(0..max_lag), Gamma_hat(h) = sum_t x_{t+h} x_t^T / divisor.
std::vector<Eigen::MatrixXd> sample_autocov(const Eigen::MatrixXd& series, int max_lag,
                                            AutocovOptions options = {});

}  // namespace attnlab

#pragma once
// Ridge-regression baselines for in-context linear regression (spec §3, §5.1).
// Every baseline predicts <(Sigma + lambda I)^{-1} alpha, x_t> with Sigma = X X^T and
// alpha = X y over the n context points (un-normalised); they differ only in lambda:
//   Oracle lambda = sigma_tau^2; CONSTRR one tuned lambda; ADARR lambda = sigma_hat^2 (unbiased,
//   RSS / (n - d)); TUNEDRR lambda = min(c sigma_hat^2, tau); OLS lambda = 0.
// A context is diagonalised once (Sigma = V diag(s) V^T) so any lambda costs O(d).
#include <Eigen/Dense>
#include <vector>

namespace attnlab::icl {

struct RidgeContext {
  Eigen::VectorXd s;  // eigenvalues of Sigma
  Eigen::VectorXd a;  // V^T alpha
  Eigen::VectorXd b;  // V^T x_t
  double rss = 0;     // OLS residual sum of squares
  int n = 0, d = 0;
  double predict(double lambda) const;  // <(Sigma + lambda I)^{-1} alpha, x_t>
  double sigma_hat2() const;            // RSS / (n - d)  (needs n > d)
};

// X: (d, n) context inputs as columns, y: (n), xt: (d).
RidgeContext ridge_context(const Eigen::Ref<const Eigen::MatrixXd>& X,
                           const Eigen::Ref<const Eigen::VectorXd>& y,
                           const Eigen::Ref<const Eigen::VectorXd>& xt);

// Direct solve, the reference for RidgeContext::predict.
double ridge_predict_reference(const Eigen::Ref<const Eigen::MatrixXd>& X,
                               const Eigen::Ref<const Eigen::VectorXd>& y,
                               const Eigen::Ref<const Eigen::VectorXd>& xt, double lambda);

// One gradient-descent step from w = 0: eta <alpha, x_t>.
double gd_step_predict(const Eigen::Ref<const Eigen::MatrixXd>& X,
                       const Eigen::Ref<const Eigen::VectorXd>& y,
                       const Eigen::Ref<const Eigen::VectorXd>& xt, double eta);

// The optimal one-step GD (= optimal 1-layer LSA, spec §3): eta* = 1/(n + d + 1 + E[sigma^2]),
// 1/2 MSE = 1/2 d (1 - n / (n + d + 1 + E[sigma^2])).
double one_step_optimal_eta(int n, int d, double mean_sigma2);
double one_step_optimal_loss(int n, int d, double mean_sigma2);

// Half squared errors 1/2 (y - prediction)^2 of a lambda rule over a set of contexts.
template <class LambdaFn>
std::vector<double> ridge_losses(const std::vector<RidgeContext>& ctx,
                                 const std::vector<double>& targets, LambdaFn lambda_of) {
  std::vector<double> out(ctx.size());
  for (std::size_t i = 0; i < ctx.size(); ++i) {
    const double e = targets[i] - ctx[i].predict(lambda_of(i));
    out[i] = 0.5 * e * e;
  }
  return out;
}

// CONSTRR: the lambda of `grid` with the lowest mean loss on the (tuning) contexts.
double tune_constant_lambda(const std::vector<RidgeContext>& ctx,
                            const std::vector<double>& targets, const std::vector<double>& grid);

// TUNEDRR: (c, tau) on a 2-D grid, lambda = min(c sigma_hat^2, tau), lowest mean loss.
struct TunedRR {
  double c = 1, tau = 0;
  double lambda(double sigma_hat2) const { return std::min(c * sigma_hat2, tau); }
};
TunedRR tune_tunedrr(const std::vector<RidgeContext>& ctx, const std::vector<double>& targets,
                     const std::vector<double>& c_grid, const std::vector<double>& tau_grid);

}  // namespace attnlab::icl

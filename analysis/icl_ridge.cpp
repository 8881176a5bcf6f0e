#include "analysis/icl_ridge.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "analysis/stats.h"

namespace attnlab::icl {

double RidgeContext::predict(double lambda) const {
  double p = 0;
  for (Eigen::Index k = 0; k < s.size(); ++k) p += a(k) * b(k) / (s(k) + lambda);
  return p;
}

double RidgeContext::sigma_hat2() const {
  assert(n > d);
  return rss / static_cast<double>(n - d);
}

RidgeContext ridge_context(const Eigen::Ref<const Eigen::MatrixXd>& X,
                           const Eigen::Ref<const Eigen::VectorXd>& y,
                           const Eigen::Ref<const Eigen::VectorXd>& xt) {
  const Eigen::MatrixXd Sigma = X * X.transpose();
  const Eigen::VectorXd alpha = X * y;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(Sigma);
  RidgeContext c;
  c.s = es.eigenvalues();
  c.a = es.eigenvectors().transpose() * alpha;
  c.b = es.eigenvectors().transpose() * xt;
  c.d = static_cast<int>(X.rows());
  c.n = static_cast<int>(X.cols());
  // RSS = |y|^2 - alpha^T Sigma^{-1} alpha, computed from the OLS residual for accuracy.
  const Eigen::VectorXd w = Sigma.ldlt().solve(alpha);
  c.rss = (y - X.transpose() * w).squaredNorm();
  return c;
}

double ridge_predict_reference(const Eigen::Ref<const Eigen::MatrixXd>& X,
                               const Eigen::Ref<const Eigen::VectorXd>& y,
                               const Eigen::Ref<const Eigen::VectorXd>& xt, double lambda) {
  const Eigen::Index d = X.rows();
  const Eigen::MatrixXd A = X * X.transpose() + lambda * Eigen::MatrixXd::Identity(d, d);
  return A.ldlt().solve(X * y).dot(xt);
}

double gd_step_predict(const Eigen::Ref<const Eigen::MatrixXd>& X,
                       const Eigen::Ref<const Eigen::VectorXd>& y,
                       const Eigen::Ref<const Eigen::VectorXd>& xt, double eta) {
  return eta * (X * y).dot(xt);
}

double one_step_optimal_eta(int n, int d, double mean_sigma2) {
  return 1.0 / (n + d + 1 + mean_sigma2);
}

double one_step_optimal_loss(int n, int d, double mean_sigma2) {
  return 0.5 * d * (1.0 - n / (n + d + 1 + mean_sigma2));
}

double tune_constant_lambda(const std::vector<RidgeContext>& ctx,
                            const std::vector<double>& targets, const std::vector<double>& grid) {
  double best = grid.front(), best_loss = std::numeric_limits<double>::infinity();
  for (double lam : grid) {
    const double l = mean(ridge_losses(ctx, targets, [lam](std::size_t) { return lam; }));
    if (l < best_loss) {
      best_loss = l;
      best = lam;
    }
  }
  return best;
}

TunedRR tune_tunedrr(const std::vector<RidgeContext>& ctx, const std::vector<double>& targets,
                     const std::vector<double>& c_grid, const std::vector<double>& tau_grid) {
  std::vector<double> sh(ctx.size());
  for (std::size_t i = 0; i < ctx.size(); ++i) sh[i] = ctx[i].sigma_hat2();
  TunedRR best;
  double best_loss = std::numeric_limits<double>::infinity();
  for (double c : c_grid)
    for (double tau : tau_grid) {
      const TunedRR t{c, tau};
      const double l =
          mean(ridge_losses(ctx, targets, [&](std::size_t i) { return t.lambda(sh[i]); }));
      if (l < best_loss) {
        best_loss = l;
        best = t;
      }
    }
  return best;
}

}  // namespace attnlab::icl

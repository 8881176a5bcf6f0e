#include "analysis/var_stats.h"

#include <Eigen/Eigenvalues>
#include <string>

#include "core/error.h"

namespace attnlab {

Eigen::MatrixXd var_companion_form(const std::vector<Eigen::MatrixXd>& A) {
  const Eigen::Index p = static_cast<Eigen::Index>(A.size());
  const Eigen::Index k = A.empty() ? 0 : A[0].rows();
  Eigen::MatrixXd F = Eigen::MatrixXd::Zero(k * p, k * p);
  for (Eigen::Index j = 0; j < p; ++j) F.block(0, j * k, k, k) = A[static_cast<std::size_t>(j)];
  if (p > 1) F.block(k, 0, k * (p - 1), k * (p - 1)).setIdentity();
  return F;
}

double companion_spectral_radius(const std::vector<Eigen::MatrixXd>& A) {
  const Eigen::MatrixXd F = var_companion_form(A);
  if (F.size() == 0) return 0.0;
  Eigen::EigenSolver<Eigen::MatrixXd> solver(F, false);
  return solver.eigenvalues().cwiseAbs().maxCoeff();
}

bool var_is_stable(const std::vector<Eigen::MatrixXd>& A, double bound) {
  return companion_spectral_radius(A) < bound;
}

namespace {

void require_stable(const Eigen::MatrixXd& F) {
  Eigen::EigenSolver<Eigen::MatrixXd> solver(F, false);
  const double r = F.size() ? solver.eigenvalues().cwiseAbs().maxCoeff() : 0.0;
  if (!(r < 1.0))
    throw InputError("discrete Lyapunov equation: spectral radius " + std::to_string(r) +
                     " >= 1 has no stationary solution");
}

constexpr int kMaxDoublings = 200;         // 2^200 terms: enough for radius 1 - 1e-12
constexpr double kDoublingRelTol = 1e-17;  // stop when the increment is below double eps

}  // namespace

Eigen::MatrixXd solve_discrete_lyapunov(const Eigen::MatrixXd& F, const Eigen::MatrixXd& Q) {
  require_stable(F);
  Eigen::MatrixXd X = Q, Fj = F;
  for (int it = 0; it < kMaxDoublings; ++it) {
    const Eigen::MatrixXd inc = Fj * X * Fj.transpose();  // sum_{i in [2^j, 2^{j+1})} F^i Q F^iT
    X += inc;
    if (inc.cwiseAbs().maxCoeff() <= kDoublingRelTol * X.cwiseAbs().maxCoeff()) break;
    Fj = (Fj * Fj).eval();
  }
  return 0.5 * (X + X.transpose());
}

Eigen::MatrixXd solve_discrete_lyapunov_reference(const Eigen::MatrixXd& F,
                                                  const Eigen::MatrixXd& Q) {
  require_stable(F);
  const Eigen::Index n = F.rows();
  // vec(F X F^T) = (F (x) F) vec X with column-major vec: entry (i + n j, a + n b) = F(i,a) F(j,b)
  Eigen::MatrixXd M = Eigen::MatrixXd::Identity(n * n, n * n);
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index b = 0; b < n; ++b)
        for (Eigen::Index a = 0; a < n; ++a) M(i + n * j, a + n * b) -= F(i, a) * F(j, b);
  const Eigen::VectorXd q = Eigen::Map<const Eigen::VectorXd>(Q.data(), n * n);
  const Eigen::VectorXd x = M.partialPivLu().solve(q);
  return Eigen::Map<const Eigen::MatrixXd>(x.data(), n, n);
}

std::vector<Eigen::MatrixXd> var_theoretical_autocov(const std::vector<Eigen::MatrixXd>& A,
                                                     const Eigen::MatrixXd& Sigma, int max_lag) {
  if (A.empty()) throw InputError("var_theoretical_autocov: need order >= 1");
  if (max_lag < 0) throw InputError("var_theoretical_autocov: max_lag must be >= 0");
  const int p = static_cast<int>(A.size());
  const Eigen::Index k = Sigma.rows();
  const Eigen::MatrixXd F = var_companion_form(A);
  Eigen::MatrixXd Q = Eigen::MatrixXd::Zero(k * p, k * p);
  Q.topLeftCorner(k, k) = Sigma;
  const Eigen::MatrixXd S = solve_discrete_lyapunov(F, Q);  // (k p, k p)
  std::vector<Eigen::MatrixXd> G(static_cast<std::size_t>(max_lag + 1));
  for (int h = 0; h <= max_lag; ++h) {
    if (h < p) {
      G[static_cast<std::size_t>(h)] = S.block(0, h * k, k, k);  // E[x_t x_{t-h}^T]
      continue;
    }
    Eigen::MatrixXd g = Eigen::MatrixXd::Zero(k, k);
    for (int j = 1; j <= p; ++j)
      g.noalias() += A[static_cast<std::size_t>(j - 1)] * G[static_cast<std::size_t>(h - j)];
    G[static_cast<std::size_t>(h)] = g;
  }
  return G;
}

std::vector<Eigen::MatrixXd> sample_autocov(const Eigen::MatrixXd& series, int max_lag,
                                            AutocovOptions options) {
  const Eigen::Index T = series.rows();
  if (max_lag < 0 || max_lag >= T)
    throw InputError("sample_autocov: max_lag must be in [0, T-1], got " + std::to_string(max_lag));
  Eigen::MatrixXd X = series;
  if (options.demean) X.rowwise() -= X.colwise().mean();
  std::vector<Eigen::MatrixXd> G(static_cast<std::size_t>(max_lag + 1));
  for (int h = 0; h <= max_lag; ++h) {
    const Eigen::Index m = T - h;
    // sum_t x_{t+h} x_t^T = X[h:]^T X[:T-h]
    const Eigen::MatrixXd sum = X.bottomRows(m).transpose() * X.topRows(m);
    const double div = options.divide_by_T ? static_cast<double>(T) : static_cast<double>(m);
    G[static_cast<std::size_t>(h)] = sum / div;
  }
  return G;
}

}  // namespace attnlab

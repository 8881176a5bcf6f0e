#include "analysis/var_fit.h"

#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"

namespace attnlab {

namespace {

void check_fit_input(const Eigen::MatrixXd& series, int p, bool intercept, int first_response) {
  const Eigen::Index T = series.rows(), k = series.cols();
  if (p < 1) throw InputError("fit_var_ls: order must be >= 1, got " + std::to_string(p));
  if (k < 1) throw InputError("fit_var_ls: series needs at least one column");
  if (first_response < p) throw InputError("fit_var_ls: first_response must be >= order");
  const Eigen::Index teff = T - first_response;
  const Eigen::Index m = k * p + (intercept ? 1 : 0);
  if (teff <= m)
    throw InputError("fit_var_ls: need more than " + std::to_string(m) + " responses, have " +
                     std::to_string(teff) + " (series length " + std::to_string(T) + ")");
  if (!series.allFinite()) throw InputError("fit_var_ls: series has non-finite values");
}

// Z: (T_eff, m) regressors, row r = (1?, x_{t-1}, ..., x_{t-p}) for t = first + r.
Eigen::MatrixXd regressors(const Eigen::MatrixXd& series, int p, bool intercept, int first) {
  const Eigen::Index T = series.rows(), k = series.cols();
  const Eigen::Index teff = T - first, off = intercept ? 1 : 0;
  Eigen::MatrixXd Z(teff, k * p + off);
  if (intercept) Z.col(0).setOnes();
  for (int j = 1; j <= p; ++j)
    Z.middleCols(off + (j - 1) * k, k) = series.middleRows(first - j, teff);
  return Z;
}

// Unpacks the (m, k) coefficient matrix Beta (x_t^T = z_t^T Beta) into the fit.
void unpack(const Eigen::MatrixXd& Beta, const Eigen::MatrixXd& series, const Eigen::MatrixXd& Z,
            int p, bool intercept, int first, VarFit& fit) {
  const Eigen::Index T = series.rows(), k = series.cols();
  const Eigen::Index teff = T - first, off = intercept ? 1 : 0;
  fit.order = p;
  fit.intercept = intercept;
  fit.first_response = first;
  fit.c = intercept ? Eigen::VectorXd(Beta.row(0).transpose()) : Eigen::VectorXd::Zero(k);
  fit.A.assign(static_cast<std::size_t>(p), Eigen::MatrixXd());
  for (int j = 1; j <= p; ++j)
    fit.A[static_cast<std::size_t>(j - 1)] = Beta.middleRows(off + (j - 1) * k, k).transpose();
  fit.residuals = series.bottomRows(teff) - Z * Beta;
  const Eigen::MatrixXd S = fit.residuals.transpose() * fit.residuals;  // (k, k)
  fit.noise_cov_ml = S / static_cast<double>(teff);
  fit.noise_cov = S / static_cast<double>(teff - Z.cols());
}

}  // namespace

VarFit fit_var_ls_from(const Eigen::MatrixXd& series, int p, bool intercept, int first_response) {
  check_fit_input(series, p, intercept, first_response);
  const Eigen::MatrixXd Z = regressors(series, p, intercept, first_response);
  const Eigen::Index teff = series.rows() - first_response;
  const Eigen::MatrixXd Beta = Z.colPivHouseholderQr().solve(series.bottomRows(teff));  // (m, k)
  VarFit fit;
  unpack(Beta, series, Z, p, intercept, first_response, fit);
  return fit;
}

VarFit fit_var_ls(const Eigen::MatrixXd& series, int p, bool intercept) {
  return fit_var_ls_from(series, p, intercept, p);
}

VarFit fit_var_ls_reference(const Eigen::MatrixXd& series, int p, bool intercept) {
  check_fit_input(series, p, intercept, p);
  const Eigen::Index T = series.rows(), k = series.cols();
  const Eigen::Index off = intercept ? 1 : 0, m = k * p + off;
  auto z = [&](Eigen::Index t, Eigen::Index col) -> double {  // regressor col of response t
    if (intercept && col == 0) return 1.0;
    const Eigen::Index lag = (col - off) / k + 1, var = (col - off) % k;
    return series(t - lag, var);
  };
  Eigen::MatrixXd ZtZ = Eigen::MatrixXd::Zero(m, m), ZtX = Eigen::MatrixXd::Zero(m, k);
  for (Eigen::Index t = p; t < T; ++t)
    for (Eigen::Index a = 0; a < m; ++a) {
      for (Eigen::Index b = 0; b < m; ++b) ZtZ(a, b) += z(t, a) * z(t, b);
      for (Eigen::Index v = 0; v < k; ++v) ZtX(a, v) += z(t, a) * series(t, v);
    }
  const Eigen::MatrixXd Beta = ZtZ.ldlt().solve(ZtX);
  VarFit fit;
  unpack(Beta, series, regressors(series, p, intercept, p), p, intercept, p, fit);
  return fit;
}

double var_aic(const VarFit& fit) {
  const double teff = static_cast<double>(fit.residuals.rows());
  const double k = static_cast<double>(fit.c.size());
  const double n_params = static_cast<double>(fit.order) * k * k + (fit.intercept ? k : 0.0);
  const double logdet = std::log(fit.noise_cov_ml.determinant());
  return logdet + 2.0 * n_params / teff;
}

VarOrderChoice select_var_order_aic(const Eigen::MatrixXd& series, int max_order, bool intercept) {
  if (max_order < 1) throw InputError("select_var_order_aic: max_order must be >= 1");
  VarOrderChoice out;
  double best = std::numeric_limits<double>::infinity();
  for (int p = 1; p <= max_order; ++p) {
    const double aic = var_aic(fit_var_ls_from(series, p, intercept, max_order));
    out.aic.push_back(aic);
    if (aic < best) {
      best = aic;
      out.order = p;
    }
  }
  return out;
}

}  // namespace attnlab

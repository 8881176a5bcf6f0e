#pragma once
// Least-squares (conditional maximum-likelihood) fit of a VAR(p):
//   x_t = c + sum_{j=1..p} A_j x_{t-j} + e_t,   t = p+1..T  (c optional),
// equation by equation OLS = multivariate LS (Lütkepohl 2005, §3.2). The responses are rows
// p..T-1 of the series (0-based); the regressor row for x_t is (1?, x_{t-1}^T, ..., x_{t-p}^T).
//
//   fit_var_ls            Householder QR of the regressor matrix (fast, well conditioned)
//   fit_var_ls_reference  normal equations built with explicit loops (the naive twin; a test
//                         says they agree)
//   select_var_order_aic  AIC(p) = ln det(Sigma_ml(p)) + 2 (p k^2 + k [intercept]) / T_eff, all
//                         orders fitted on the same T_eff = T - max_order responses.
#include <Eigen/Dense>
#include <vector>

namespace attnlab {

struct VarFit {
  int order = 0;
  bool intercept = false;
  std::vector<Eigen::MatrixXd> A;  // p matrices (k, k); A[j-1] multiplies x_{t-j}
  Eigen::VectorXd c;               // (k): intercept, zero when intercept == false
  Eigen::MatrixXd noise_cov;       // (k, k): residual cross-product / (T_eff - n_params_per_eq)
  Eigen::MatrixXd noise_cov_ml;    // (k, k): residual cross-product / T_eff (used by AIC)
  Eigen::MatrixXd residuals;       // (T_eff, k): row r is the residual of x_{first_response + r}
  int first_response = 0;          // 0-based row of the series that residual row 0 belongs to
  int params_per_equation() const {
    return order * static_cast<int>(c.size()) + (intercept ? 1 : 0);
  }
};

// series: (T, k), row t = x_t. Requires p >= 1 and T - p > k p + intercept (throws InputError).
VarFit fit_var_ls(const Eigen::MatrixXd& series, int p, bool intercept = false);
VarFit fit_var_ls_reference(const Eigen::MatrixXd& series, int p, bool intercept = false);

// Same as fit_var_ls but using only responses from row `first_response` (>= p) on.
VarFit fit_var_ls_from(const Eigen::MatrixXd& series, int p, bool intercept, int first_response);

// AIC of a fit: ln det(noise_cov_ml) + 2 * (p k^2 + k [intercept]) / T_eff.
double var_aic(const VarFit& fit);

struct VarOrderChoice {
  int order = 0;            // argmin AIC
  std::vector<double> aic;  // aic[p-1] for p = 1..max_order
};
// Fits p = 1..max_order on the common sample of T - max_order responses; smallest AIC wins.
VarOrderChoice select_var_order_aic(const Eigen::MatrixXd& series, int max_order,
                                    bool intercept = false);

}  // namespace attnlab

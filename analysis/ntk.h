#pragma once
// Empirical neural tangent kernel tools (curse spec §3), model-agnostic: they take transposed
// Jacobians Jt (p parameters, n samples), Jt(r, i) = dF_i/dtheta_r, or a feature map.
//
//   Gram H = J J^T (n, n);  test-train kernel K = J_test J_train^T (n_test, n).
//   Discrete GD on the linearised model with the 1/2-sum loss and step eta (spec §3.2):
//     F(t) - y = (I - eta H)^t (F(0) - y),
//     f_t(x)   = f_0(x) + K Q diag(phi_t(lambda)) Q^T (y - F(0)),
//     phi_t(l) = (1 - (1 - eta l)^t) / l   (-> eta t as l -> 0: safe for singular H),
//   with H = Q diag(lambda) Q^T. t = infinity: phi(l) = 1 / (max(l, 0) + ridge), a stated ridge.
//   (neural-tangents' gradient_descent_mse uses continuous time and a loss normalised by n, so
//   its learning_rate * t equals n * eta * t here.)
#include <Eigen/Dense>
#include <functional>

namespace attnlab {

// Jt: (p, n). Returns H = Jt^T Jt: (n, n), computed with the core's bgemm.
Eigen::MatrixXd ntk_gram(const Eigen::MatrixXd& Jt);
// Plain triple loop, the reference for the test.
Eigen::MatrixXd ntk_gram_reference(const Eigen::MatrixXd& Jt);
// Jt_test: (p, n_test), Jt_train: (p, n). Returns K: (n_test, n).
Eigen::MatrixXd ntk_cross(const Eigen::MatrixXd& Jt_test, const Eigen::MatrixXd& Jt_train);

struct KernelEig {
  Eigen::VectorXd values;   // (n) ascending
  Eigen::MatrixXd vectors;  // (n, n) orthonormal columns
};
KernelEig ntk_eig(const Eigen::MatrixXd& H);

// (1 - (1 - eta l)^t) / l, evaluated through expm1/log1p; eta t when l == 0. Requires eta l < 1.
double gd_factor(double lambda, double eta, double t);

// Predictions change f_t(x) - f_0(x) on the test points of K (n_test, n) after t GD steps from
// residual r0 = y - F(0) (n).
Eigen::VectorXd ntk_gd_predict(const KernelEig& e, const Eigen::MatrixXd& K,
                               const Eigen::VectorXd& r0, double eta, double t);
// Training residual F(t) - y = (I - eta H)^t (F(0) - y) given r0 = y - F(0) (returns F(t) - y).
Eigen::VectorXd ntk_gd_train_residual(const KernelEig& e, const Eigen::VectorXd& r0, double eta,
                                      double t);
// t = infinity with ridge: K Q diag(1/(max(l,0) + ridge)) Q^T r0.
Eigen::VectorXd ntk_ridge_predict(const KernelEig& e, const Eigen::MatrixXd& K,
                                  const Eigen::VectorXd& r0, double ridge);
// The ridge used for the t = infinity limit: 1e-10 * trace(H) / n (spec §5 E4).
double ntk_default_ridge(const Eigen::MatrixXd& H);

// Probabilists' Gauss-Hermite rule: sum_q weights_q g(nodes_q) ~ E_{z~N(0,1)} g(z), exact for
// polynomials of degree <= 2q - 1 (Golub-Welsch).
void gauss_hermite(int q, Eigen::VectorXd& nodes, Eigen::VectorXd& weights);
// Infinite-width kernel H_inf = E_{w ~ N(0, scale^2)} phi(w) phi(w)^T, phi(w): (n), by q-node
// Gauss-Hermite quadrature.
Eigen::MatrixXd ntk_infinite_width(const std::function<Eigen::VectorXd(double)>& feature, int q,
                                   double scale);

struct KernelSpectrum {
  Eigen::VectorXd normalized;  // (n) eigenvalues / lambda_max, descending
  double lambda_min = 0, lambda_max = 0;
  double ratio = 0;        // lambda_min / lambda_max
  int effective_rank = 0;  // eigenvalues > rel_cutoff * lambda_max
};
KernelSpectrum ntk_spectrum(const Eigen::VectorXd& ascending_values, double rel_cutoff = 1e-6);

// |H_t - H_0|_F / |H_0|_F.
double ntk_relative_change(const Eigen::MatrixXd& Ht, const Eigen::MatrixXd& H0);

}  // namespace attnlab

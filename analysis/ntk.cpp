#include "analysis/ntk.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "core/bgemm.h"

namespace attnlab {

Eigen::MatrixXd ntk_gram(const Eigen::MatrixXd& Jt) {
  const int p = static_cast<int>(Jt.rows()), n = static_cast<int>(Jt.cols());
  Eigen::MatrixXd H(n, n);
  bgemm<double>(Trans::Yes, Trans::No, n, n, p, 1.0, Jt.data(), std::max(1, p), 0, Jt.data(),
                std::max(1, p), 0, 0.0, H.data(), std::max(1, n), 0, 1);
  return 0.5 * (H + H.transpose());  // exact symmetry for the eigensolver
}

Eigen::MatrixXd ntk_gram_reference(const Eigen::MatrixXd& Jt) {
  const Eigen::Index n = Jt.cols();
  Eigen::MatrixXd H(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) {
      double s = 0;
      for (Eigen::Index r = 0; r < Jt.rows(); ++r) s += Jt(r, i) * Jt(r, j);
      H(i, j) = s;
    }
  return H;
}

Eigen::MatrixXd ntk_cross(const Eigen::MatrixXd& Jt_test, const Eigen::MatrixXd& Jt_train) {
  assert(Jt_test.rows() == Jt_train.rows());
  const int p = static_cast<int>(Jt_test.rows());
  const int nt = static_cast<int>(Jt_test.cols()), n = static_cast<int>(Jt_train.cols());
  Eigen::MatrixXd K(nt, n);
  bgemm<double>(Trans::Yes, Trans::No, nt, n, p, 1.0, Jt_test.data(), std::max(1, p), 0,
                Jt_train.data(), std::max(1, p), 0, 0.0, K.data(), std::max(1, nt), 0, 1);
  return K;
}

KernelEig ntk_eig(const Eigen::MatrixXd& H) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(H);
  return {es.eigenvalues(), es.eigenvectors()};
}

double gd_factor(double lambda, double eta, double t) {
  if (lambda == 0.0) return eta * t;
  // (1 - (1 - eta l)^t) / l = -expm1(t log1p(-eta l)) / l, accurate for tiny |eta l|.
  return -std::expm1(t * std::log1p(-eta * lambda)) / lambda;
}

Eigen::VectorXd ntk_gd_predict(const KernelEig& e, const Eigen::MatrixXd& K,
                               const Eigen::VectorXd& r0, double eta, double t) {
  Eigen::VectorXd coef = e.vectors.transpose() * r0;
  for (Eigen::Index j = 0; j < coef.size(); ++j) coef[j] *= gd_factor(e.values[j], eta, t);
  return K * (e.vectors * coef);
}

Eigen::VectorXd ntk_gd_train_residual(const KernelEig& e, const Eigen::VectorXd& r0, double eta,
                                      double t) {
  Eigen::VectorXd coef = e.vectors.transpose() * r0;
  for (Eigen::Index j = 0; j < coef.size(); ++j)
    coef[j] *= std::exp(t * std::log1p(-eta * e.values[j]));  // (1 - eta l)^t
  return -(e.vectors * coef);
}

Eigen::VectorXd ntk_ridge_predict(const KernelEig& e, const Eigen::MatrixXd& K,
                                  const Eigen::VectorXd& r0, double ridge) {
  Eigen::VectorXd coef = e.vectors.transpose() * r0;
  for (Eigen::Index j = 0; j < coef.size(); ++j) coef[j] /= std::max(e.values[j], 0.0) + ridge;
  return K * (e.vectors * coef);
}

double ntk_default_ridge(const Eigen::MatrixXd& H) {
  return 1e-10 * H.trace() / static_cast<double>(H.rows());
}

void gauss_hermite(int q, Eigen::VectorXd& nodes, Eigen::VectorXd& weights) {
  // Jacobi matrix of the probabilists' Hermite polynomials: off-diagonal sqrt(k), k = 1..q-1.
  Eigen::MatrixXd Jm = Eigen::MatrixXd::Zero(q, q);
  for (int k = 1; k < q; ++k) {
    Jm(k, k - 1) = std::sqrt(static_cast<double>(k));
    Jm(k - 1, k) = Jm(k, k - 1);
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(Jm);
  nodes = es.eigenvalues();
  weights = es.eigenvectors().row(0).transpose().array().square();  // mu_0 = 1 for N(0, 1)
  // The exact rule is symmetric (z_j = -z_{q-1-j}, equal weights); the eigensolver's round-off
  // is not. Symmetrise, so odd moments vanish up to the rounding of the final sum.
  for (int j = 0; j < q / 2; ++j) {
    const int k = q - 1 - j;
    const double z = 0.5 * (nodes[k] - nodes[j]), w = 0.5 * (weights[j] + weights[k]);
    nodes[j] = -z;
    nodes[k] = z;
    weights[j] = weights[k] = w;
  }
  if (q % 2 == 1) nodes[q / 2] = 0;
}

Eigen::MatrixXd ntk_infinite_width(const std::function<Eigen::VectorXd(double)>& feature, int q,
                                   double scale) {
  Eigen::VectorXd z, wq;
  gauss_hermite(q, z, wq);
  Eigen::MatrixXd H;
  for (int j = 0; j < q; ++j) {
    const Eigen::VectorXd phi = feature(scale * z[j]);
    if (j == 0) H = Eigen::MatrixXd::Zero(phi.size(), phi.size());
    H.noalias() += wq[j] * phi * phi.transpose();
  }
  return H;
}

KernelSpectrum ntk_spectrum(const Eigen::VectorXd& ascending_values, double rel_cutoff) {
  KernelSpectrum s;
  const Eigen::Index n = ascending_values.size();
  s.lambda_max = ascending_values[n - 1];
  s.lambda_min = ascending_values[0];
  s.ratio = s.lambda_min / s.lambda_max;
  s.normalized = ascending_values.reverse() / s.lambda_max;
  s.effective_rank = static_cast<int>((s.normalized.array() > rel_cutoff).count());
  return s;
}

double ntk_relative_change(const Eigen::MatrixXd& Ht, const Eigen::MatrixXd& H0) {
  return (Ht - H0).norm() / H0.norm();
}

}  // namespace attnlab

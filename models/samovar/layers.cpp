#include "models/samovar/layers.h"

#include <cassert>
#include <cmath>
#include <numbers>

namespace attnlab::samovar {

Matrix rmsnorm(const Matrix& X, const Vector& gain, double eps, int groups, Matrix& inv_rms) {
  assert(X.cols() == gain.size() && X.cols() % groups == 0);
  const Eigen::Index T = X.rows(), g = X.cols() / groups;
  inv_rms.resize(T, groups);
  Matrix Y(T, X.cols());
  for (int h = 0; h < groups; ++h) {
    const Eigen::Index c = h * g;
    for (Eigen::Index t = 0; t < T; ++t) {
      const double ms = X.row(t).segment(c, g).squaredNorm() / static_cast<double>(g);
      const double r = 1.0 / std::sqrt(ms + eps);
      inv_rms(t, h) = r;
      Y.row(t).segment(c, g) =
          r * X.row(t).segment(c, g).cwiseProduct(gain.segment(c, g).transpose());
    }
  }
  return Y;
}

void rmsnorm_backward(const Matrix& X, const Vector& gain, const Matrix& inv_rms, int groups,
                      const Matrix& dY, Matrix& dX, Vector& dgain) {
  const Eigen::Index T = X.rows(), g = X.cols() / groups;
  for (int h = 0; h < groups; ++h) {
    const Eigen::Index c = h * g;
    for (Eigen::Index t = 0; t < T; ++t) {
      const double r = inv_rms(t, h);
      const Eigen::RowVectorXd n = r * X.row(t).segment(c, g);  // normalised row
      dgain.segment(c, g) += dY.row(t).segment(c, g).cwiseProduct(n).transpose();
      const Eigen::RowVectorXd dn =
          dY.row(t).segment(c, g).cwiseProduct(gain.segment(c, g).transpose());
      // d/dx of x r(x): r (dn - n mean(dn .* n)).
      const double m = dn.dot(n) / static_cast<double>(g);
      dX.row(t).segment(c, g) += r * (dn - m * n);
    }
  }
}

Matrix gelu(const Matrix& X) {
  return X.unaryExpr([](double x) { return 0.5 * x * (1.0 + std::erf(x / std::numbers::sqrt2)); });
}

Matrix gelu_backward(const Matrix& X, const Matrix& dY) {
  const double inv_sqrt_2pi = 1.0 / std::sqrt(2.0 * std::numbers::pi);
  const Matrix dgelu = X.unaryExpr([inv_sqrt_2pi](double x) {
    return 0.5 * (1.0 + std::erf(x / std::numbers::sqrt2)) +
           x * inv_sqrt_2pi * std::exp(-0.5 * x * x);
  });
  return dY.cwiseProduct(dgelu);
}

double softplus(double x) {
  // log(1 + e^x) without overflow for large x and without cancellation for very negative x.
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

double sigmoid(double x) {
  return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
}

Matrix lu_lower(const Matrix& theta) {
  Matrix L = theta.triangularView<Eigen::StrictlyLower>();
  L.diagonal().setOnes();
  return L;
}

Matrix lu_upper(const Matrix& theta) {
  Matrix U = theta.triangularView<Eigen::StrictlyUpper>();
  for (Eigen::Index i = 0; i < theta.rows(); ++i) U(i, i) = softplus(theta(i, i));
  return U;
}

Matrix lu_matrix(const Matrix& theta) { return lu_lower(theta) * lu_upper(theta); }

void lu_matrix_backward(const Matrix& theta, const Matrix& dW, Matrix& dtheta) {
  const Matrix L = lu_lower(theta), U = lu_upper(theta);
  const Matrix dL = dW * U.transpose();  // from W = L U
  const Matrix dU = L.transpose() * dW;
  const Eigen::Index d = theta.rows();
  for (Eigen::Index j = 0; j < d; ++j)
    for (Eigen::Index i = 0; i < d; ++i) {
      if (i > j)
        dtheta(i, j) += dL(i, j);
      else if (i < j)
        dtheta(i, j) += dU(i, j);
      else
        dtheta(i, i) += dU(i, i) * sigmoid(theta(i, i));  // softplus' = sigmoid
    }
}

double lu_log_det(const Matrix& theta) {
  double s = 0;
  for (Eigen::Index i = 0; i < theta.rows(); ++i) s += std::log(softplus(theta(i, i)));
  return s;
}

Matrix apply_lu_blocks(const Matrix& X, const Matrix& thetas, int heads) {
  const Eigen::Index d = thetas.cols();
  assert(X.cols() == heads * d && thetas.rows() == heads * d);
  Matrix Y(X.rows(), X.cols());
  for (int h = 0; h < heads; ++h)
    Y.middleCols(h * d, d).noalias() =
        X.middleCols(h * d, d) * lu_matrix(thetas.middleRows(h * d, d));
  return Y;
}

void apply_lu_blocks_backward(const Matrix& X, const Matrix& thetas, int heads, const Matrix& dY,
                              Matrix& dX, Matrix& dthetas) {
  const Eigen::Index d = thetas.cols();
  for (int h = 0; h < heads; ++h) {
    const Matrix theta = thetas.middleRows(h * d, d);
    const Matrix W = lu_matrix(theta);
    dX.middleCols(h * d, d).noalias() += dY.middleCols(h * d, d) * W.transpose();  // Y = X W
    const Matrix dW = X.middleCols(h * d, d).transpose() * dY.middleCols(h * d, d);
    Matrix dth = Matrix::Zero(d, d);
    lu_matrix_backward(theta, dW, dth);
    dthetas.middleRows(h * d, d) += dth;
  }
}

Matrix dropout_mask(Eigen::Index r, Eigen::Index c, double p, Rng* rng) {
  if (rng == nullptr || p <= 0) return Matrix();
  const double keep = 1.0 - p;
  Matrix m(r, c);
  for (Eigen::Index j = 0; j < c; ++j)
    for (Eigen::Index i = 0; i < r; ++i)
      m(i, j) = uniform(*rng, 0.0, 1.0) < keep ? 1.0 / keep : 0.0;
  return m;
}

Matrix apply_mask(const Matrix& X, const Matrix& mask) {
  return mask.size() == 0 ? X : Matrix(X.cwiseProduct(mask));
}

Matrix add_bias(const Matrix& X, const Vector& b) { return X.rowwise() + b.transpose(); }

}  // namespace attnlab::samovar

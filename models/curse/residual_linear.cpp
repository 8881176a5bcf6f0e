#include "models/curse/residual_linear.h"

namespace attnlab::curse {

Eigen::VectorXd linear_forward(const LinearParams& p, const Eigen::MatrixXd& X) {
  const Eigen::Index d = X.rows();
  const Eigen::RowVectorXd xd = X.row(d - 1);
  // F_i = sum_k w_k (x_ik - x_id) + x_id
  return ((p.w.transpose() * X).array() - p.w.sum() * xd.array() + xd.array()).transpose();
}

void linear_backward(const LinearParams& p, const Eigen::MatrixXd& X, const Eigen::VectorXd& d_out,
                     LinearGrads& grads) {
  (void)p;
  const Eigen::Index d = X.rows();
  // dF_i/dw_k = x_ik - x_id
  grads.w += X * d_out - Eigen::VectorXd::Constant(d, X.row(d - 1).dot(d_out));
}

LinearParams linear_least_squares(const Eigen::MatrixXd& X, const Eigen::VectorXd& y) {
  const Eigen::Index d = X.rows();
  const Eigen::RowVectorXd xd = X.row(d - 1);
  const Eigen::MatrixXd Z = (X.topRows(d - 1).rowwise() - xd).transpose();  // (n, d-1)
  const Eigen::VectorXd target = y - xd.transpose();
  LinearParams p;
  p.w = Eigen::VectorXd::Zero(d);
  p.w.head(d - 1) = Z.colPivHouseholderQr().solve(target);
  return p;
}

LinearParams linear_gd(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, double eta, int steps) {
  LinearParams p{Eigen::VectorXd::Zero(X.rows())};
  for (int t = 0; t < steps; ++t) {
    LinearGrads g{Eigen::VectorXd::Zero(X.rows())};
    linear_backward(p, X, linear_forward(p, X) - y, g);
    p.w -= eta * g.w;
  }
  return p;
}

}  // namespace attnlab::curse

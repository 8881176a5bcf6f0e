#pragma once
// Residual linear network "NLinear" (spec §2.3, Def 6.2 = J.2):
//   f_lin(x) = <w, x - x_d 1_d> + x_d,   x in R^d,  w in R^d (w_d multiplies 0).
// Trained by least squares (closed form) or by full-batch GD on the 1/2-sum loss.
// Samples are columns: X is (d, n).
#include <Eigen/Dense>

namespace attnlab::curse {

struct LinearParams {
  Eigen::VectorXd w;  // (d)
  void set_zero() { w.setZero(); }
};
using LinearGrads = LinearParams;

// F: (n).
Eigen::VectorXd linear_forward(const LinearParams& p, const Eigen::MatrixXd& X);
// d_out: (n) dL/dF. grads.w += (X - 1 x_d^T) d_out.
void linear_backward(const LinearParams& p, const Eigen::MatrixXd& X, const Eigen::VectorXd& d_out,
                     LinearGrads& grads);
// Least squares: regress y - x_d on (x_k - x_d)_{k<d} (column-pivoted QR); w_d = 0.
LinearParams linear_least_squares(const Eigen::MatrixXd& X, const Eigen::VectorXd& y);
// GD from w = 0 with step eta for `steps` steps on the 1/2-sum loss.
LinearParams linear_gd(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, double eta, int steps);

}  // namespace attnlab::curse

#include "models/icl/implicit.h"

#include <cassert>

namespace attnlab::icl {

std::vector<ImplicitState> implicit_recursion(const std::vector<Eigen::MatrixXd>& G, int d) {
  std::vector<ImplicitState> out;
  ImplicitState s{Eigen::MatrixXd::Identity(d, d), Eigen::VectorXd::Zero(d), 1.0,
                  Eigen::VectorXd::Zero(d)};
  out.push_back(s);
  for (const auto& g : G) {
    assert(g.rows() == d + 1 && g.cols() == d + 1);
    const Eigen::MatrixXd IA = Eigen::MatrixXd::Identity(d, d) + g.topLeftCorner(d, d);
    const Eigen::VectorXd b = g.topRightCorner(d, 1);
    const Eigen::VectorXd c = g.bottomLeftCorner(1, d).transpose();
    const double dd = g(d, d);
    ImplicitState n;
    n.M = IA * s.M - b * s.w.transpose();
    n.u = IA * s.u + s.a * b;
    n.a = (1 + dd) * s.a + c.dot(s.u);
    n.w = (1 + dd) * s.w - s.M.transpose() * c;
    s = n;
    out.push_back(s);
  }
  return out;
}

Eigen::MatrixXd implicit_tokens(const ImplicitState& s, const Eigen::MatrixXd& Z0) {
  const Eigen::Index d = Z0.rows() - 1;
  Eigen::MatrixXd Z(Z0.rows(), Z0.cols());
  const Eigen::MatrixXd X = Z0.topRows(d);
  const Eigen::RowVectorXd y = Z0.row(d);
  Z.topRows(d) = s.M * X + s.u * y;
  Z.row(d) = s.a * y - s.w.transpose() * X;
  return Z;
}

ImplicitFit fit_implicit(const Eigen::MatrixXd& Z0, const Eigen::MatrixXd& Zl) {
  const Eigen::Index d = Z0.rows() - 1, n = Z0.cols() - 1;
  // Design (n, d+1): [x_i^T, y_i]
  Eigen::MatrixXd A(n, d + 1);
  A.leftCols(d) = Z0.topLeftCorner(d, n).transpose();
  A.col(d) = Z0.row(d).head(n).transpose();
  const auto qr = A.colPivHouseholderQr();
  // y^l = a y - <w, x>:  coefficients [-w; a]
  const Eigen::VectorXd cy = qr.solve(Eigen::VectorXd(Zl.row(d).head(n).transpose()));
  // x^l = M x + y u:  coefficients [M^T; u^T]
  const Eigen::MatrixXd cx = qr.solve(Eigen::MatrixXd(Zl.topLeftCorner(d, n).transpose()));
  ImplicitFit f;
  f.state.w = -cy.head(d);
  f.state.a = cy(d);
  f.state.M = cx.topRows(d).transpose();
  f.state.u = cx.row(d).transpose();
  const double ry = (A * cy - Zl.row(d).head(n).transpose()).cwiseAbs().maxCoeff();
  const double rx = (A * cx - Zl.topLeftCorner(d, n).transpose()).cwiseAbs().maxCoeff();
  f.residual = std::max(ry, rx);
  return f;
}

MomentumStep momentum_step(const ImplicitState& s, const Eigen::Vector4d& om,
                           const Eigen::MatrixXd& Sigma, const Eigen::VectorXd& w_star, double rho,
                           MomentumForm form) {
  const double wxx = om(0), wxy = om(1), wyx = om(2), wyy = om(3);
  const Eigen::Index d = Sigma.rows();
  const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(d, d);
  const Eigen::VectorXd g = Sigma * (s.a * w_star - s.w);  // Sigma (a w* - w)
  const Eigen::MatrixXd Mu = s.M + s.u * w_star.transpose();
  MomentumStep out;
  out.alpha = Mu * g + s.a * rho * s.u;
  out.lambda = (s.a * w_star - s.w).dot(g) + s.a * s.a * rho;
  // Sigma^l = sum x_i^l x_i^l^T from the implicit model: M Sigma M^T + M alpha u^T + u alpha^T M^T
  // + lam u u^T
  const Eigen::VectorXd alpha0 = Sigma * w_star;
  const double lambda0 = w_star.dot(alpha0) + rho;
  const Eigen::MatrixXd Sigma_l = s.M * Sigma * s.M.transpose() + s.M * alpha0 * s.u.transpose() +
                                  s.u * alpha0.transpose() * s.M.transpose() +
                                  lambda0 * s.u * s.u.transpose();
  const Eigen::MatrixXd Lambda = -wxy * s.a * s.a * rho * I - wxx * Sigma_l;
  const Eigen::MatrixXd Mu_form =
      form == MomentumForm::Corrected ? Mu : Eigen::MatrixXd(s.M + s.a * s.u * w_star.transpose());
  const Eigen::MatrixXd Gamma = s.a * wxy * Mu_form;
  const double sl = wyy * out.lambda;
  const Eigen::MatrixXd Pi = wyx * s.M.transpose() * Mu_form;
  const Eigen::MatrixXd Phi = s.a * rho * wyx * s.M.transpose();
  out.u_next = (I - Lambda) * s.u + Gamma * g;
  out.w_next = (1 + sl) * s.w - Pi * g - Phi * s.u;
  return out;
}

}  // namespace attnlab::icl

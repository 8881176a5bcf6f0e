#pragma once
// The implicit linear model every linear transformer keeps (Theorem 4.1, Lemma 4.3; spec §6.1):
//   x_i^l = M^l x_i + y_i u^l,   y_i^l = a^l y_i - <w^l, x_i>,   (query: y_t = 0)
// with the recursion, for G^l = [[A, b], [c^T, d]] the layer's (D, D) update matrix,
//   M' = (I + A) M - b w^T,  u' = (I + A) u + a b,  a' = (1 + d) a + <c, u>,  w' = (1 + d) w - M^T
//   c
// from M^0 = I, u^0 = 0, a^0 = 1, w^0 = 0.
// And the diagonal momentum form (Lemma 4.4 / A.1) of the same recursion, in its corrected form
// (Gamma, Pi with M + u w*^T) and as printed (M + a u w*^T).
#include <Eigen/Dense>
#include <vector>

namespace attnlab::icl {

struct ImplicitState {
  Eigen::MatrixXd M;  // (d, d)
  Eigen::VectorXd u;  // (d)
  double a = 1;
  Eigen::VectorXd w;  // (d)
};

// G: one (D, D) matrix per layer, D = d + 1. Returns states 0..L.
std::vector<ImplicitState> implicit_recursion(const std::vector<Eigen::MatrixXd>& G, int d);

// Token states predicted by the implicit model from the raw sequence Z0 (D, N): (D, N).
Eigen::MatrixXd implicit_tokens(const ImplicitState& s, const Eigen::MatrixXd& Z0);

// Least-squares fit of the implicit model to the states of one layer: regress y_i^l on
// [y_i, x_i] and x_i^l on [x_i, y_i] over the n context tokens.
struct ImplicitFit {
  ImplicitState state;
  double residual = 0;  // max abs residual of both regressions
};
ImplicitFit fit_implicit(const Eigen::MatrixXd& Z0, const Eigen::MatrixXd& Zl);

enum class MomentumForm { Corrected, Printed };

// One step of Lemma A.1 for a diagonal layer with omegas (xx, xy, yx, yy): predicts
// (alpha^l, lambda^l, u^{l+1}, w^{l+1}) from the state at l and the raw statistics
// Sigma, w* = Sigma^{-1} alpha, rho = sum_i r_i^2.
struct MomentumStep {
  Eigen::VectorXd alpha;
  double lambda = 0;
  Eigen::VectorXd u_next, w_next;
};
MomentumStep momentum_step(const ImplicitState& s, const Eigen::Vector4d& omega,
                           const Eigen::MatrixXd& Sigma, const Eigen::VectorXd& w_star, double rho,
                           MomentumForm form);

}  // namespace attnlab::icl

#pragma once
// Two-layer scalar-token attention network of "Curse of Attention" (spec §2.1-2.2, Defs D.1-D.5):
//
//   f(x; w, a) = (1/sqrt m) sum_r a_r <softmax(x_d w_r x), x>,   x in R^d,
//
// trained w in R^m, fixed a in {+-1}^m. Logits of neuron r on sample x: z_{r,k} = w_r x_d x_k
// (softmax with max subtraction). Loss: L = 1/2 sum_i (f(x_i) - y_i)^2, full-batch GD.
// Derivatives (Lemma E.5): df/dw_r = (1/sqrt m) a_r x_d Var_{S_r(x)}(x),
//                          df/da_r = (1/sqrt m) <S_r(x), x>.
// Samples are columns: X is (d, n).
#include <Eigen/Dense>
#include <functional>
#include <vector>

#include "core/rng.h"

namespace attnlab::curse {

struct AttnNetParams {
  Eigen::VectorXd w;  // (m) trained
  Eigen::VectorXd a;  // (m) fixed +-1 output signs (its gradient is computed but never applied)
  void set_zero() {
    w.setZero();
    a.setZero();
  }
  Eigen::Index width() const { return w.size(); }
};
using AttnNetGrads = AttnNetParams;

// Paired init (spec §2.1): w_r ~ N(0, scale^2) for r < m/2, w_{r+m/2} = w_r, a = +1 on the first
// half and -1 on the second, so f(., w(0), a) == 0 for every input (Assumption D.7). m even.
AttnNetParams init_paired(Eigen::Index m, double scale, Rng& rng);
// Paper's Def D.2 without pairing: w_r ~ N(0, scale^2), a_r uniform on {-1, +1}.
AttnNetParams init_unpaired(Eigen::Index m, double scale, Rng& rng);

struct AttnNetCache {
  Eigen::MatrixXd mean;  // (m, n) <S_ir, x_i>
  Eigen::MatrixXd var;   // (m, n) Var_{S_ir}(x_i) = <S_ir, x_i^2> - <S_ir, x_i>^2
  Eigen::VectorXd xd;    // (n) last input value x_{i,d}
};

// Kernel: softmax moments of one sample x (d) for neurons w[0..len): mean, var and (if non-null)
// the last-position mass S_{r,d}. Max-subtracted; vectorised over neurons.
void softmax_moments(const double* x, Eigen::Index d, const double* w, Eigen::Index len,
                     double* mean, double* var, double* last);

// F: (n) = f(x_i) for the columns of X (d, n). Fills the cache for backward.
Eigen::VectorXd forward(const AttnNetParams& p, const Eigen::MatrixXd& X, AttnNetCache& cache);
// Same without a cache (evaluation on large test sets).
Eigen::VectorXd predict(const AttnNetParams& p, const Eigen::MatrixXd& X);
// Backward of forward: d_out (n) = dL/dF. grads.w += dL/dw, grads.a += dL/da.
void backward(const AttnNetParams& p, const AttnNetCache& cache, const Eigen::VectorXd& d_out,
              AttnNetGrads& grads);

// Loop-level versions (one neuron, one sample, one position at a time) for the agreement test.
Eigen::VectorXd forward_reference(const AttnNetParams& p, const Eigen::MatrixXd& X);
void backward_reference(const AttnNetParams& p, const Eigen::MatrixXd& X,
                        const Eigen::VectorXd& d_out, AttnNetGrads& grads);

// Transposed Jacobian of F w.r.t. w: Jt (m, n), Jt(r, i) = a_r x_{i,d} Var_{S_ir}(x_i) / sqrt m.
Eigen::MatrixXd jacobian_t(const AttnNetParams& p, const Eigen::MatrixXd& X);
Eigen::MatrixXd jacobian_t(const AttnNetParams& p, const AttnNetCache& cache);
// NTK feature of one scalar weight (the a_r^2 = 1 factor dropped): phi(w; x_i) = x_{i,d} Var.
// Returns (n). Used by the infinite-width kernel (Gauss-Hermite over w).
Eigen::VectorXd ntk_feature(double w, const Eigen::MatrixXd& X);
// The same feature in any real type T (e.g. 150-digit Boost.Multiprecision), computed from the
// exact double inputs w and x (d): x_d Var_{S(w)}(x) with S = softmax(x_d w x), max-subtracted,
// two-pass variance. The vectorised double kernels above are its fast twin at machine precision.
template <class T>
T ntk_feature_exact(double w, const double* x, Eigen::Index d) {
  using std::exp;
  const T xd = x[d - 1], wt = w;
  std::vector<T> z(static_cast<std::size_t>(d));
  T zmax = wt * xd * T(x[0]);
  for (Eigen::Index k = 0; k < d; ++k) {
    z[static_cast<std::size_t>(k)] = wt * xd * T(x[k]);
    if (z[static_cast<std::size_t>(k)] > zmax) zmax = z[static_cast<std::size_t>(k)];
  }
  T s0 = 0, s1 = 0;
  for (Eigen::Index k = 0; k < d; ++k) {
    auto& e = z[static_cast<std::size_t>(k)];
    e = exp(e - zmax);
    s0 += e;
    s1 += e * T(x[k]);
  }
  const T mu = s1 / s0;
  T var = 0;
  for (Eigen::Index k = 0; k < d; ++k) {
    const T c = T(x[k]) - mu;
    var += z[static_cast<std::size_t>(k)] * c * c;
  }
  return xd * var / s0;
}

// Mean over the columns of X of the last-position attention mass S_{r,d}: (m).
Eigen::VectorXd last_position_mass(const AttnNetParams& p, const Eigen::MatrixXd& X);

// 1/2 sum (F - y)^2.
double half_sum_loss(const Eigen::VectorXd& F, const Eigen::VectorXd& y);

// Full-batch GD on the 1/2-sum loss: w -= eta * dL/dw for `steps` steps. Before every step t
// (t = 0..steps-1) and after the last (t = steps) calls on_step(t, params, F(t), dL/dw(t)) (the
// gradient is empty at t = steps). Throws NumericError on a non-finite loss.
using GdCallback =
    std::function<void(int, const AttnNetParams&, const Eigen::VectorXd&, const Eigen::VectorXd&)>;
void train_gd(AttnNetParams& p, const Eigen::MatrixXd& X, const Eigen::VectorXd& y, double eta,
              int steps, const GdCallback& on_step);

}  // namespace attnlab::curse

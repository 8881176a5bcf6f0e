#pragma once
// Differential-attention toy (spec §5 E10.1; paper Sec 7.2, Ye et al.'s DiffAttn) on the
// scalar-token network of §2.1:
//
//   f(x) = (1/sqrt m) sum_r a_r <softmax(x_d w_r x) - lambda softmax(x_d w'_r x), x>,
//   lambda = sigmoid(theta) in (0, 1);  trained w, w' in R^m and theta; fixed a in {+-1}^m.
//
// At x_d = 0 both softmaxes are uniform, so f(x) = (1 - lambda)(sum_r a_r / sqrt m) mean(x):
// the x_d-gating of §2.1 survives (f = 0 there with paired a).
// Derivatives (Lemma E.5 applied to each softmax):
//   df/dw_r  =  (1/sqrt m) a_r x_d Var_{S_r}(x),   df/dw'_r = -lambda (1/sqrt m) a_r x_d
//   Var_{S'_r}(x), df/dtheta = -lambda (1 - lambda) (1/sqrt m) sum_r a_r <S'_r, x>.
// Samples are columns: X is (d, n).
#include <Eigen/Dense>

#include "core/rng.h"
#include "models/curse/attention_net.h"

namespace attnlab::curse {

struct DiffAttnParams {
  Eigen::VectorXd w;      // (m) first softmax, trained
  Eigen::VectorXd w2;     // (m) subtracted softmax, trained
  Eigen::VectorXd theta;  // (1) lambda = sigmoid(theta[0]), trained
  Eigen::VectorXd a;      // (m) fixed +-1 (its gradient is computed but never applied)
  void set_zero() {
    w.setZero();
    w2.setZero();
    theta.setZero();
    a.setZero();
  }
  Eigen::Index width() const { return w.size(); }
  double lambda() const;
};
using DiffAttnGrads = DiffAttnParams;

// Zero gradients shaped like p.
DiffAttnGrads diff_attn_zero_grads(const DiffAttnParams& p);

// w and a copied from `base` (paired init of §2.1), w' paired the same way (w'_r ~ N(0, scale^2)
// for r < m/2, w'_{r+m/2} = w'_r), lambda = lambda0. With paired a, f == 0 at init.
DiffAttnParams diff_attn_init(const AttnNetParams& base, double scale, double lambda0, Rng& rng);

struct DiffAttnCache {
  Eigen::MatrixXd mean1, var1;  // (m, n) moments of softmax(x_d w_r x)
  Eigen::MatrixXd mean2, var2;  // (m, n) moments of softmax(x_d w'_r x)
  Eigen::VectorXd xd;           // (n)
};

// F: (n). Fills the cache for backward.
Eigen::VectorXd diff_attn_forward(const DiffAttnParams& p, const Eigen::MatrixXd& X,
                                  DiffAttnCache& cache);
Eigen::VectorXd diff_attn_predict(const DiffAttnParams& p, const Eigen::MatrixXd& X);
// d_out (n) = dL/dF. grads += dL/d(w, w2, theta, a).
void diff_attn_backward(const DiffAttnParams& p, const DiffAttnCache& cache,
                        const Eigen::VectorXd& d_out, DiffAttnGrads& grads);

}  // namespace attnlab::curse

#pragma once
// Positional-logit-bias toy (spec §5 E10.2; the paper's Sec 7.2 RoPE / "time-varying inductive
// bias" remedy) on the scalar-token network of §2.1: each head gets a trainable bias per position,
//
//   f(x) = (1/sqrt m) sum_r a_r <S_r(x), x>,   S_r(x) = softmax(x_d w_r x + b_r),  b_r in R^d,
//
// trained w in R^m and B = [b_r] (m, d); fixed a in {+-1}^m. With B = 0 this is exactly the §2.1
// net. The bias removes the x_d-gating: at x_d = 0 the softmax is softmax(b_r), not uniform.
// Derivatives of mu_r = <S_r, x>:  d mu_r / d w_r = x_d Var_{S_r}(x),
//                                  d mu_r / d b_{r,k} = S_{r,k} (x_k - mu_r).
// Samples are columns: X is (d, n).
#include <Eigen/Dense>

#include "models/curse/attention_net.h"

namespace attnlab::curse {

struct PosBiasParams {
  Eigen::VectorXd w;  // (m) trained
  Eigen::MatrixXd B;  // (m, d) trained; B(r, k) = logit bias of head r at position k
  Eigen::VectorXd a;  // (m) fixed +-1 (its gradient is computed but never applied)
  void set_zero() {
    w.setZero();
    B.setZero();
    a.setZero();
  }
  Eigen::Index width() const { return w.size(); }
};
using PosBiasGrads = PosBiasParams;

PosBiasGrads posbias_zero_grads(const PosBiasParams& p);
// w, a from `base` (the paired init of §2.1), B = 0: the same function as base (f == 0).
PosBiasParams posbias_init(const AttnNetParams& base, Eigen::Index d);

struct PosBiasCache {
  Eigen::MatrixXd S;     // (m, d n): S(r, k + d i) = softmax_k of head r on sample i
  Eigen::MatrixXd mean;  // (m, n) <S_ir, x_i>
  Eigen::MatrixXd var;   // (m, n) Var_{S_ir}(x_i)
  Eigen::MatrixXd X;     // (d, n) the inputs (x_k - mu appears in dL/dB)
};

// F: (n). Fills the cache for backward.
Eigen::VectorXd posbias_forward(const PosBiasParams& p, const Eigen::MatrixXd& X,
                                PosBiasCache& cache);
// Same without a cache (large test sets).
Eigen::VectorXd posbias_predict(const PosBiasParams& p, const Eigen::MatrixXd& X);
// d_out (n) = dL/dF. grads += dL/d(w, B, a).
void posbias_backward(const PosBiasParams& p, const PosBiasCache& cache,
                      const Eigen::VectorXd& d_out, PosBiasGrads& grads);

// Loop-level forward (one head, one sample, one position at a time) for the agreement test.
Eigen::VectorXd posbias_forward_reference(const PosBiasParams& p, const Eigen::MatrixXd& X);

}  // namespace attnlab::curse

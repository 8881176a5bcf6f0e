#pragma once
// Patching toy (spec §5 E10.3; the paper's Sec 7.2 patching remedy, PatchTST style) built on the
// scalar-token network of §2.1. The window x in R^d is cut into L = d/p patches
// P_j = x[(j-1)p + 1 .. jp] in R^p; the query is the last patch P_L; head r has one trained scalar
// w_r (standing for W_Q W_K^T = w_r I_p) and a trained linear value map u_r in R^p:
//
//   s_j = <P_L, P_j>,   S_r = softmax_j(w_r s_j),   v_{r,j} = <u_r, P_j>,
//   f(x) = (1/sqrt m) sum_r a_r sum_j S_{r,j} v_{r,j},        fixed a in {+-1}^m.
//
// With p = 1 and u_r = 1 this is exactly the §2.1 net. Derivatives of mu_r = sum_j S_rj v_rj:
//   d mu_r / d w_r = sum_j S_rj s_j (v_rj - mu_r)  (covariance of s and v under S_r),
//   d mu_r / d u_r = sum_j S_rj P_j.
// Samples are columns: X is (d, n), d divisible by p.
#include <Eigen/Dense>

#include "models/curse/attention_net.h"

namespace attnlab::curse {

struct PatchAttnParams {
  Eigen::VectorXd w;  // (m) trained
  Eigen::MatrixXd U;  // (m, p) trained; row r = value map u_r of head r
  Eigen::VectorXd a;  // (m) fixed +-1 (its gradient is computed but never applied)
  void set_zero() {
    w.setZero();
    U.setZero();
    a.setZero();
  }
  Eigen::Index width() const { return w.size(); }
  Eigen::Index patch() const { return U.cols(); }
};
using PatchAttnGrads = PatchAttnParams;

PatchAttnGrads patch_attn_zero_grads(const PatchAttnParams& p);
// w, a from `base` (paired init of §2.1), u_r = e_p (the value is the patch's last time step, so
// p = 1 reduces to the §2.1 net). f == 0 at init with paired a.
PatchAttnParams patch_attn_init(const AttnNetParams& base, Eigen::Index patch);

struct PatchAttnCache {
  Eigen::MatrixXd mean;    // (m, n) mu_ir
  Eigen::MatrixXd dmu_dw;  // (m, n) sum_j S_rj s_j (v_rj - mu_r) on sample i
  Eigen::MatrixXd pbar;    // (m, p n): pbar(r, q + p i) = sum_j S_{i,r,j} P_{i,j}[q]
};

// F: (n). Fills the cache for backward. Throws InputError unless p divides d.
Eigen::VectorXd patch_attn_forward(const PatchAttnParams& p, const Eigen::MatrixXd& X,
                                   PatchAttnCache& cache);
Eigen::VectorXd patch_attn_predict(const PatchAttnParams& p, const Eigen::MatrixXd& X);
// d_out (n) = dL/dF. grads += dL/d(w, U, a).
void patch_attn_backward(const PatchAttnParams& p, const PatchAttnCache& cache,
                         const Eigen::VectorXd& d_out, PatchAttnGrads& grads);

// Loop-level forward (explicit patches, scores, softmax and values) for the agreement test.
Eigen::VectorXd patch_attn_forward_reference(const PatchAttnParams& p, const Eigen::MatrixXd& X);

}  // namespace attnlab::curse

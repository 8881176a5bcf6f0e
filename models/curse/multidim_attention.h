#pragma once
// Multi-dimensional attention layer of Sec 7.1 (spec §4.2):
//   Attn(X, W) = S X W_V,  S = softmax_rowwise(X W X^T) (L, L),  X: (L, d),  W = W_Q W_K^T / sqrt
//   d.
// With G = dLoss/dAttn (L, d), the paper's closed form is
//   dL/dW = X^T ( S o ( G W_V^T X^T - (Attn o G) 1_{d x L} ) ) X,
// and dL/dW_V = (S X)^T G.
#include <Eigen/Dense>

namespace attnlab::curse {

struct MultiAttnParams {
  Eigen::MatrixXd W;   // (d, d)
  Eigen::MatrixXd Wv;  // (d, d)
  void set_zero() {
    W.setZero();
    Wv.setZero();
  }
};
using MultiAttnGrads = MultiAttnParams;

struct MultiAttnCache {
  Eigen::MatrixXd X;     // (L, d)
  Eigen::MatrixXd S;     // (L, L)
  Eigen::MatrixXd Attn;  // (L, d)
};

// Row-wise max-subtracted softmax of Z (L, L).
Eigen::MatrixXd softmax_rows(const Eigen::MatrixXd& Z);
// Attn: (L, d).
Eigen::MatrixXd multi_attn_forward(const MultiAttnParams& p, const Eigen::MatrixXd& X,
                                   MultiAttnCache& cache);
// The paper's closed form (above). grads.W += dL/dW, grads.Wv += dL/dW_V.
void multi_attn_backward(const MultiAttnParams& p, const MultiAttnCache& cache,
                         const Eigen::MatrixXd& G, MultiAttnGrads& grads);
// Element-wise chain rule (dS_ij/dZ_ik = S_ij (delta_jk - S_ik)), for the agreement test.
void multi_attn_backward_reference(const MultiAttnParams& p, const MultiAttnCache& cache,
                                   const Eigen::MatrixXd& G, MultiAttnGrads& grads);

}  // namespace attnlab::curse

#include "models/curse/multidim_attention.h"

namespace attnlab::curse {

Eigen::MatrixXd softmax_rows(const Eigen::MatrixXd& Z) {
  Eigen::MatrixXd S = Z.colwise() - Z.rowwise().maxCoeff();
  S = S.array().exp();
  S.array().colwise() /= S.rowwise().sum().array();
  return S;
}

Eigen::MatrixXd multi_attn_forward(const MultiAttnParams& p, const Eigen::MatrixXd& X,
                                   MultiAttnCache& cache) {
  cache.X = X;
  cache.S = softmax_rows(X * p.W * X.transpose());  // S = softmax(X W X^T)
  cache.Attn = cache.S * X * p.Wv;                  // Attn = S X W_V
  return cache.Attn;
}

void multi_attn_backward(const MultiAttnParams& p, const MultiAttnCache& cache,
                         const Eigen::MatrixXd& G, MultiAttnGrads& grads) {
  const Eigen::MatrixXd& X = cache.X;
  const Eigen::Index L = X.rows();
  // Attn = S X W_V  ->  dW_V = (S X)^T G
  grads.Wv += (cache.S * X).transpose() * G;
  // softmax + logits: dL/dW = X^T (S o (G W_V^T X^T - (Attn o G) 1_{d x L})) X
  const Eigen::VectorXd rowdot = cache.Attn.cwiseProduct(G).rowwise().sum();  // (L)
  const Eigen::MatrixXd inner =
      G * p.Wv.transpose() * X.transpose() - rowdot * Eigen::RowVectorXd::Ones(L);
  grads.W += X.transpose() * cache.S.cwiseProduct(inner) * X;
}

void multi_attn_backward_reference(const MultiAttnParams& p, const MultiAttnCache& cache,
                                   const Eigen::MatrixXd& G, MultiAttnGrads& grads) {
  const Eigen::MatrixXd& X = cache.X;
  const Eigen::MatrixXd& S = cache.S;
  const Eigen::Index L = X.rows(), d = X.cols();
  const Eigen::MatrixXd V = X * p.Wv;  // (L, d)
  // dL/dS_ij = sum_c G_ic V_jc;  dL/dV_jc = sum_i S_ij G_ic
  Eigen::MatrixXd dS = Eigen::MatrixXd::Zero(L, L), dV = Eigen::MatrixXd::Zero(L, d);
  for (Eigen::Index i = 0; i < L; ++i)
    for (Eigen::Index j = 0; j < L; ++j)
      for (Eigen::Index c = 0; c < d; ++c) {
        dS(i, j) += G(i, c) * V(j, c);
        dV(j, c) += S(i, j) * G(i, c);
      }
  // dL/dZ_ik = sum_j dS_ij S_ij (delta_jk - S_ik)
  Eigen::MatrixXd dZ = Eigen::MatrixXd::Zero(L, L);
  for (Eigen::Index i = 0; i < L; ++i)
    for (Eigen::Index k = 0; k < L; ++k)
      for (Eigen::Index j = 0; j < L; ++j)
        dZ(i, k) += dS(i, j) * S(i, j) * ((j == k ? 1.0 : 0.0) - S(i, k));
  // Z_ik = sum_ab X_ia W_ab X_kb;  V_jc = sum_a X_ja Wv_ac
  for (Eigen::Index a = 0; a < d; ++a)
    for (Eigen::Index b = 0; b < d; ++b)
      for (Eigen::Index i = 0; i < L; ++i)
        for (Eigen::Index k = 0; k < L; ++k) grads.W(a, b) += dZ(i, k) * X(i, a) * X(k, b);
  for (Eigen::Index a = 0; a < d; ++a)
    for (Eigen::Index c = 0; c < d; ++c)
      for (Eigen::Index j = 0; j < L; ++j) grads.Wv(a, c) += dV(j, c) * X(j, a);
}

}  // namespace attnlab::curse

#include "models/samovar/lintrans.h"

#include <cmath>

#include "core/random_matrix.h"

namespace attnlab::samovar {

namespace {

constexpr double kInitStd = 0.02;  // spec §1.11

}  // namespace

LinBlock init_lin_block(int width, int layers, Rng& rng) {
  const Eigen::Index D = width;
  const double proj_std = kInitStd / std::sqrt(2.0 * layers);  // c_proj rule
  LinBlock b;
  b.gain_attn = Vector::Ones(D);
  b.Wq = gaussian_matrix(D, D, rng, kInitStd);
  b.Wk = gaussian_matrix(D, D, rng, kInitStd);
  b.Wv = gaussian_matrix(D, D, rng, kInitStd);
  b.Wc = gaussian_matrix(D, D, rng, proj_std);
  b.bq = b.bk = b.bv = b.bc = Vector::Zero(D);
  b.gain_mlp = Vector::Ones(D);
  b.W1 = gaussian_matrix(D, 4 * D, rng, kInitStd);
  b.b1 = Vector::Zero(4 * D);
  b.W2 = gaussian_matrix(4 * D, D, rng, proj_std);
  b.b2 = Vector::Zero(D);
  return b;
}

Matrix lin_block_forward(const LinBlock& b, int heads, double dropout, const Matrix& X,
                         LinBlockCache& c, Rng* rng, const LinBlockCache* frozen_qv) {
  const Eigen::Index T = X.rows(), D = X.cols();
  c.X = X;
  c.xn = rmsnorm(X, b.gain_attn, kRmsEps, 1, c.inv_a);           // xn = RMSNorm(X)
  c.Q = frozen_qv ? frozen_qv->Q : add_bias(c.xn * b.Wq, b.bq);  // Q = xn W_q + b_q
  c.k_mask = dropout_mask(T, D, dropout, rng);
  c.K = add_bias(apply_mask(c.xn, c.k_mask) * b.Wk, b.bk);       // K = dropout(xn) W_k + b_k
  c.V = frozen_qv ? frozen_qv->V : add_bias(c.xn * b.Wv, b.bv);  // V = xn W_v + b_v
  c.attn = multihead_causal_linear_attention(c.Q, c.K, c.V, heads);
  c.out_mask = dropout_mask(T, D, dropout, rng);
  c.X_mid = X + apply_mask(add_bias(c.attn * b.Wc, b.bc), c.out_mask);  // residual
  c.xn_m = rmsnorm(c.X_mid, b.gain_mlp, kRmsEps, 1, c.inv_m);
  c.h = add_bias(c.xn_m * b.W1, b.b1);
  c.a = gelu(c.h);
  c.mlp_mask = dropout_mask(T, D, dropout, rng);
  return c.X_mid + apply_mask(add_bias(c.a * b.W2, b.b2), c.mlp_mask);  // residual
}

void lin_block_backward(const LinBlock& b, int heads, const LinBlockCache& c, const Matrix& dY,
                        LinBlock& g, Matrix& dX) {
  const Eigen::Index T = c.X.rows(), D = c.X.cols();
  // X_out = X_mid + mask_m .* (a W_2 + b_2)
  Matrix dX_mid = dY;
  const Matrix dm = apply_mask(dY, c.mlp_mask);
  g.W2.noalias() += c.a.transpose() * dm;
  g.b2 += dm.colwise().sum().transpose();
  const Matrix dh = gelu_backward(c.h, dm * b.W2.transpose());  // a = gelu(h)
  g.W1.noalias() += c.xn_m.transpose() * dh;                    // h = xn_m W_1 + b_1
  g.b1 += dh.colwise().sum().transpose();
  rmsnorm_backward(c.X_mid, b.gain_mlp, c.inv_m, 1, dh * b.W1.transpose(), dX_mid, g.gain_mlp);
  // X_mid = X + mask_a .* (attn W_c + b_c)
  dX += dX_mid;
  const Matrix dO = apply_mask(dX_mid, c.out_mask);
  g.Wc.noalias() += c.attn.transpose() * dO;
  g.bc += dO.colwise().sum().transpose();
  Matrix dQ = Matrix::Zero(T, D), dK = dQ, dV = dQ;
  multihead_causal_linear_attention_backward(c.Q, c.K, c.V, dO * b.Wc.transpose(), heads, dQ, dK,
                                             dV);
  // Q, K, V from xn (K through the key dropout)
  const Matrix xk = apply_mask(c.xn, c.k_mask);
  g.Wq.noalias() += c.xn.transpose() * dQ;
  g.bq += dQ.colwise().sum().transpose();
  g.Wk.noalias() += xk.transpose() * dK;
  g.bk += dK.colwise().sum().transpose();
  g.Wv.noalias() += c.xn.transpose() * dV;
  g.bv += dV.colwise().sum().transpose();
  const Matrix dxn =
      dQ * b.Wq.transpose() + dV * b.Wv.transpose() + apply_mask(dK * b.Wk.transpose(), c.k_mask);
  rmsnorm_backward(c.X, b.gain_attn, c.inv_a, 1, dxn, dX, g.gain_attn);  // xn = RMSNorm(X)
}

}  // namespace attnlab::samovar

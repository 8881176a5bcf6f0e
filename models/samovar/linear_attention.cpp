#include "models/samovar/linear_attention.h"

#include <cassert>

namespace attnlab::samovar {

template <class S>
Mat<S> causal_linear_attention(const Mat<S>& Q, const Mat<S>& K, const Mat<S>& V) {
  assert(Q.rows() == K.rows() && K.rows() == V.rows() && Q.cols() == K.cols());
  // Scores (T, T), masked to the lower triangle including the diagonal.
  const Mat<S> scores = (Q * K.transpose()).template triangularView<Eigen::Lower>();
  return scores * V;  // (T, d)
}

template <class S>
Mat<S> causal_linear_attention_recurrent(const Mat<S>& Q, const Mat<S>& K, const Mat<S>& V) {
  const Eigen::Index T = Q.rows();
  Mat<S> state = Mat<S>::Zero(K.cols(), V.cols());  // S_t: (d_k, d_v)
  Mat<S> O(T, V.cols());
  for (Eigen::Index t = 0; t < T; ++t) {
    state.noalias() += K.row(t).transpose() * V.row(t);  // S_t = S_{t-1} + k_t^T v_t
    O.row(t).noalias() = Q.row(t) * state;               // o_t = q_t S_t
  }
  return O;
}

template <class S>
Mat<S> causal_linear_attention_reference(const Mat<S>& Q, const Mat<S>& K, const Mat<S>& V) {
  const Eigen::Index T = Q.rows(), dk = Q.cols(), dv = V.cols();
  Mat<S> O = Mat<S>::Zero(T, dv);
  for (Eigen::Index t = 0; t < T; ++t)
    for (Eigen::Index i = 0; i <= t; ++i) {
      S score = 0;
      for (Eigen::Index a = 0; a < dk; ++a) score += Q(t, a) * K(i, a);
      for (Eigen::Index a = 0; a < dv; ++a) O(t, a) += score * V(i, a);
    }
  return O;
}

template Mat<double> causal_linear_attention(const Mat<double>&, const Mat<double>&,
                                             const Mat<double>&);
template Mat<float> causal_linear_attention(const Mat<float>&, const Mat<float>&,
                                            const Mat<float>&);
template Mat<double> causal_linear_attention_recurrent(const Mat<double>&, const Mat<double>&,
                                                       const Mat<double>&);
template Mat<float> causal_linear_attention_recurrent(const Mat<float>&, const Mat<float>&,
                                                      const Mat<float>&);
template Mat<double> causal_linear_attention_reference(const Mat<double>&, const Mat<double>&,
                                                       const Mat<double>&);
template Mat<float> causal_linear_attention_reference(const Mat<float>&, const Mat<float>&,
                                                      const Mat<float>&);

void causal_linear_attention_backward(const Mat<double>& Q, const Mat<double>& K,
                                      const Mat<double>& V, const Mat<double>& dO, Mat<double>& dQ,
                                      Mat<double>& dK, Mat<double>& dV) {
  // Forward: A = (Q K^T) .* M, O = A V.
  const Mat<double> A = (Q * K.transpose()).triangularView<Eigen::Lower>();
  dV.noalias() += A.transpose() * dO;                                          // from O = A V
  const Mat<double> dA = (dO * V.transpose()).triangularView<Eigen::Lower>();  // mask again
  dQ.noalias() += dA * K;                                                      // from A = Q K^T
  dK.noalias() += dA.transpose() * Q;
}

namespace {
Eigen::Index head_dim(const Mat<double>& X, int heads) {
  assert(heads > 0 && X.cols() % heads == 0);
  return X.cols() / heads;
}
}  // namespace

Mat<double> multihead_causal_linear_attention(const Mat<double>& Q, const Mat<double>& K,
                                              const Mat<double>& V, int heads) {
  const Eigen::Index d = head_dim(Q, heads);
  Mat<double> O(Q.rows(), Q.cols());
  for (int h = 0; h < heads; ++h) {
    const Eigen::Index c = h * d;
    O.middleCols(c, d) =
        causal_linear_attention<double>(Q.middleCols(c, d), K.middleCols(c, d), V.middleCols(c, d));
  }
  return O;
}

Mat<double> multihead_causal_linear_attention_recurrent(const Mat<double>& Q, const Mat<double>& K,
                                                        const Mat<double>& V, int heads) {
  const Eigen::Index d = head_dim(Q, heads);
  Mat<double> O(Q.rows(), Q.cols());
  for (int h = 0; h < heads; ++h) {
    const Eigen::Index c = h * d;
    O.middleCols(c, d) = causal_linear_attention_recurrent<double>(
        Q.middleCols(c, d), K.middleCols(c, d), V.middleCols(c, d));
  }
  return O;
}

void multihead_causal_linear_attention_backward(const Mat<double>& Q, const Mat<double>& K,
                                                const Mat<double>& V, const Mat<double>& dO,
                                                int heads, Mat<double>& dQ, Mat<double>& dK,
                                                Mat<double>& dV) {
  const Eigen::Index d = head_dim(Q, heads);
  for (int h = 0; h < heads; ++h) {
    const Eigen::Index c = h * d;
    Mat<double> dq = Mat<double>::Zero(Q.rows(), d), dk = dq, dv = dq;
    causal_linear_attention_backward(Q.middleCols(c, d), K.middleCols(c, d), V.middleCols(c, d),
                                     dO.middleCols(c, d), dq, dk, dv);
    dQ.middleCols(c, d) += dq;
    dK.middleCols(c, d) += dk;
    dV.middleCols(c, d) += dv;
  }
}

}  // namespace attnlab::samovar

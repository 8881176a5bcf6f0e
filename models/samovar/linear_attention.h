#pragma once
// Causal, unnormalised linear attention (spec §1.1): o_t = sum_{i<=t} (q_t . k_i) v_i.
// No softmax, no feature map, no denominator; the diagonal (i = t) is included.
//
// Three forms of the same map, one head at a time, with a test that they agree:
//   causal_linear_attention            quadratic form  O = ((Q K^T) .* M) V     O(T^2 d)
//   causal_linear_attention_recurrent  state form      S_t = S_{t-1} + k_t^T v_t, o_t = q_t S_t
//   causal_linear_attention_reference  loops over (t, i, a)
// Multi-head versions split the D columns into h contiguous blocks of width d = D / h; heads
// never mix.
#include <Eigen/Dense>

namespace attnlab::samovar {

template <class S>
using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S>
using VecT = Eigen::Matrix<S, Eigen::Dynamic, 1>;

// Q, K, V: (T, d). Returns O: (T, d).
template <class S>
Mat<S> causal_linear_attention(const Mat<S>& Q, const Mat<S>& K, const Mat<S>& V);
template <class S>
Mat<S> causal_linear_attention_recurrent(const Mat<S>& Q, const Mat<S>& K, const Mat<S>& V);
template <class S>
Mat<S> causal_linear_attention_reference(const Mat<S>& Q, const Mat<S>& K, const Mat<S>& V);

// Backward of the quadratic form; accumulates (+=) into dQ, dK, dV (each (T, d), pre-sized).
void causal_linear_attention_backward(const Mat<double>& Q, const Mat<double>& K,
                                      const Mat<double>& V, const Mat<double>& dO, Mat<double>& dQ,
                                      Mat<double>& dK, Mat<double>& dV);

// Q, K, V: (T, D) with D = heads * d. Returns O: (T, D).
Mat<double> multihead_causal_linear_attention(const Mat<double>& Q, const Mat<double>& K,
                                              const Mat<double>& V, int heads);
Mat<double> multihead_causal_linear_attention_recurrent(const Mat<double>& Q, const Mat<double>& K,
                                                        const Mat<double>& V, int heads);
void multihead_causal_linear_attention_backward(const Mat<double>& Q, const Mat<double>& K,
                                                const Mat<double>& V, const Mat<double>& dO,
                                                int heads, Mat<double>& dQ, Mat<double>& dK,
                                                Mat<double>& dV);

}  // namespace attnlab::samovar

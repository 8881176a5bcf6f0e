#pragma once
// Effective VAR weights of an aligned linear-attention stack (spec §1.1, §1.4).
//
// One head, layers l = 1..M, queries Q_l and values V_l: (T, d), keys of layer 1 = x~ (W_k = I),
// keys of layer l >= 2 = the output of layer l-1. Row-vector convention as in the paper:
//   A^(l)_{t,i} = v^(l)T_i q^(l)_t                        (d, d), rank 1
//   B^(1)_{t,j} = A^(1)_{t,j},  B^(l)_{t,j} = sum_{i=j..t} A^(l)_{t,i} B^(l-1)_{i,j}
//   C_{t,j}     = sum_l B^(l)_{t,j}                       mixture-of-VAR weights
//   o^(l)T_t    = sum_{j<=t} B^(l)_{t,j} x~T_j,  y_t^T = x~_t^T + W_o^T sum_j C_{t,j} x~_j^T
// Nothing here knows about the model; it takes matrices.
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

namespace attnlab::var_extract {

using Eigen::MatrixXd;

// Lower-triangular grid of (d, d) matrices W_{t,j}, j <= t < T; entries j > t are not stored.
struct LagGrid {
  int T = 0, d = 0;
  std::vector<MatrixXd> W;  // W[t (t+1)/2 + j]
  const MatrixXd& at(int t, int j) const { return W[index(t, j)]; }
  MatrixXd& at(int t, int j) { return W[index(t, j)]; }
  static std::size_t index(int t, int j) {
    return static_cast<std::size_t>(t) * static_cast<std::size_t>(t + 1) / 2 +
           static_cast<std::size_t>(j);
  }
};
LagGrid zero_grid(int T, int d);

// A_{t,i} = v_i^T q_t for one layer. Q, V: (T, d).
LagGrid single_layer_weights(const MatrixXd& Q, const MatrixXd& V);
// B^(l) for l = 1..M by the recursion above. Q[l], V[l]: (T, d).
std::vector<LagGrid> path_weights(const std::vector<MatrixXd>& Q, const std::vector<MatrixXd>& V);
// C = sum_l B^(l).
LagGrid mixture_weights(const std::vector<LagGrid>& B);
// out_t^T = sum_{j<=t} W_{t,j} k_j^T. K: (T, d). Returns (T, d).
MatrixXd apply_lag_grid(const LagGrid& W, const MatrixXd& K);
// Phi_{t,j} = Wo^T C_{t,j} + I [j == t] (with_shortcut): the coefficient on x~_j in y_t.
LagGrid effective_lag_matrices(const LagGrid& C, const MatrixXd& Wo, bool with_shortcut);

// Explicit sum over all temporal influence paths t >= i_1 >= ... >= i_{l-1} >= j of layer l
// (1-based), each weighted by A^(l)_{t,i_1} A^(l-1)_{i_1,i_2} ... A^(1)_{i_{l-1},j}.
struct PathSum {
  std::int64_t count = 0;
  MatrixXd sum;  // (d, d)
};
PathSum enumerate_paths(const std::vector<MatrixXd>& Q, const std::vector<MatrixXd>& V, int t,
                        int j, int layer);
// C(t - j + l - 1, l - 1): the number of layer-l paths from j to t.
std::int64_t path_count_closed_form(int lag, int layer);

// Numerical rank: singular values above rel_tol * sigma_max (0 for the zero matrix).
int numerical_rank(const MatrixXd& M, double rel_tol);

}  // namespace attnlab::var_extract

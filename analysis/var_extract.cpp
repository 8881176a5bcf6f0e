#include "analysis/var_extract.h"

#include <cassert>

namespace attnlab::var_extract {

LagGrid zero_grid(int T, int d) {
  LagGrid g;
  g.T = T;
  g.d = d;
  g.W.assign(LagGrid::index(T, 0), MatrixXd::Zero(d, d));
  return g;
}

LagGrid single_layer_weights(const MatrixXd& Q, const MatrixXd& V) {
  const int T = static_cast<int>(Q.rows()), d = static_cast<int>(Q.cols());
  LagGrid A = zero_grid(T, d);
  for (int t = 0; t < T; ++t)
    for (int i = 0; i <= t; ++i) A.at(t, i).noalias() = V.row(i).transpose() * Q.row(t);
  return A;
}

std::vector<LagGrid> path_weights(const std::vector<MatrixXd>& Q, const std::vector<MatrixXd>& V) {
  assert(Q.size() == V.size() && !Q.empty());
  std::vector<LagGrid> B;
  B.push_back(single_layer_weights(Q[0], V[0]));
  for (std::size_t l = 1; l < Q.size(); ++l) {
    const LagGrid A = single_layer_weights(Q[l], V[l]);
    const LagGrid& prev = B.back();
    LagGrid next = zero_grid(prev.T, prev.d);
    for (int t = 0; t < prev.T; ++t)
      for (int j = 0; j <= t; ++j)
        for (int i = j; i <= t; ++i) next.at(t, j).noalias() += A.at(t, i) * prev.at(i, j);
    B.push_back(std::move(next));
  }
  return B;
}

LagGrid mixture_weights(const std::vector<LagGrid>& B) {
  LagGrid C = zero_grid(B.front().T, B.front().d);
  for (const LagGrid& b : B)
    for (std::size_t k = 0; k < C.W.size(); ++k) C.W[k] += b.W[k];
  return C;
}

MatrixXd apply_lag_grid(const LagGrid& W, const MatrixXd& K) {
  MatrixXd out = MatrixXd::Zero(W.T, W.d);
  for (int t = 0; t < W.T; ++t)
    for (int j = 0; j <= t; ++j) out.row(t) += (W.at(t, j) * K.row(j).transpose()).transpose();
  return out;
}

LagGrid effective_lag_matrices(const LagGrid& C, const MatrixXd& Wo, bool with_shortcut) {
  LagGrid Phi = zero_grid(C.T, C.d);
  for (int t = 0; t < C.T; ++t)
    for (int j = 0; j <= t; ++j) {
      Phi.at(t, j).noalias() = Wo.transpose() * C.at(t, j);
      if (with_shortcut && j == t) Phi.at(t, j) += MatrixXd::Identity(C.d, C.d);
    }
  return Phi;
}

namespace {
// Adds every path from `from` (in layer `layer`, 1-based) down to j, left-multiplied by `prefix`.
void walk(const std::vector<MatrixXd>& Q, const std::vector<MatrixXd>& V, int from, int j,
          int layer, const MatrixXd& prefix, PathSum& out) {
  const auto l = static_cast<std::size_t>(layer - 1);
  if (layer == 1) {  // last factor A^(1)_{from, j}
    out.sum.noalias() += prefix * (V[0].row(j).transpose() * Q[0].row(from));
    ++out.count;
    return;
  }
  for (int i = j; i <= from; ++i) {
    const MatrixXd a = V[l].row(i).transpose() * Q[l].row(from);  // A^(layer)_{from, i}
    walk(Q, V, i, j, layer - 1, prefix * a, out);
  }
}
}  // namespace

PathSum enumerate_paths(const std::vector<MatrixXd>& Q, const std::vector<MatrixXd>& V, int t,
                        int j, int layer) {
  const auto d = Q.front().cols();
  PathSum out;
  out.sum = MatrixXd::Zero(d, d);
  walk(Q, V, t, j, layer, MatrixXd::Identity(d, d), out);
  return out;
}

std::int64_t path_count_closed_form(int lag, int layer) {
  // C(n, k) with n = lag + layer - 1, k = layer - 1, by the exact multiplicative formula.
  const std::int64_t n = lag + layer - 1, k = layer - 1;
  std::int64_t c = 1;
  for (std::int64_t i = 1; i <= k; ++i) c = c * (n - k + i) / i;
  return c;
}

int numerical_rank(const MatrixXd& M, double rel_tol) {
  const Eigen::VectorXd s = Eigen::JacobiSVD<MatrixXd>(M).singularValues();
  if (s.size() == 0 || s(0) == 0) return 0;
  int r = 0;
  for (Eigen::Index i = 0; i < s.size(); ++i) r += s(i) > rel_tol * s(0) ? 1 : 0;
  return r;
}

}  // namespace attnlab::var_extract

#pragma once
// DIAG linear transformer (spec §1.4) and GD++ (spec §1.5). Per layer l and head k four scalars
// (p_x, p_y, q_x, q_y) with P = diag(p_x I_d, p_y), Q = diag(q_x I_d, q_y), trained as products:
//   w_xx = sum_k p_x q_x,  w_xy = sum_k p_x q_y,  w_yx = sum_k p_y q_x,  w_yy = sum_k p_y q_y.
// One layer on every token i (context and query), with Sigma, alpha, lambda over the context:
//   x_i' = x_i + w_xx Sigma x_i + w_xy y_i alpha
//   y_i' = y_i + w_yx <alpha, x_i> + w_yy lambda y_i
// GD++ is DIAG with q_y = 0 (so w_xy = w_yy = 0); its q_y gradient is never accumulated.
// Layout as in full.h: Z (D, N) column-major, D = d + 1 (y in row d), N = n + 1 (query last).
#include <cstddef>
#include <vector>

namespace attnlab::icl {

template <class T>
struct Omega {
  T xx = 0, xy = 0, yx = 0, yy = 0;
};

template <class T>
struct DiagParams {
  int layers = 0, heads = 0;
  bool gdpp = false;              // q_y held at 0
  std::vector<T> px, py, qx, qy;  // [layer * heads + head]

  DiagParams() = default;
  DiagParams(int num_layers, int num_heads, bool is_gdpp);
  std::size_t at(int l, int h) const { return static_cast<std::size_t>(l * heads + h); }
  void set_zero();
  void add(const DiagParams& other);
};
template <class T>
using DiagGrads = DiagParams<T>;

template <class T>
std::vector<Omega<T>> diag_omegas(const DiagParams<T>& params);

template <class T>
struct DiagCache {
  int d = 0, n = 0;
  std::vector<T> Z;       // (L+1) blocks of (D, N)
  std::vector<T> Sigma;   // L blocks of (d, d)
  std::vector<T> alpha;   // L blocks of (d)
  std::vector<T> lambda;  // L
  std::vector<T> work;    // scratch
  const T* state(int l) const {
    return Z.data() + static_cast<std::size_t>(l) * static_cast<std::size_t>((d + 1) * (n + 1));
  }
};

// Forward with the per-layer omegas (one per layer). Z0: (d+1, n+1).
template <class T>
void diag_forward(const std::vector<Omega<T>>& omegas, int d, int n, const T* Z0,
                  DiagCache<T>& cache);

// -y of the query after layer l.
template <class T>
T diag_readout(const DiagCache<T>& cache, int l);

// Backward of the final readout (d_yhat = dLoss/dy_hat): accumulates d_omega per layer.
template <class T>
void diag_backward(const std::vector<Omega<T>>& omegas, const DiagCache<T>& cache, T d_yhat,
                   std::vector<Omega<T>>& d_omega);

// Scratch of the backward pass, reused across sequences.
template <class T>
struct DiagWork {
  std::vector<T> g, gp, SX, SG, gS, ga;
};
template <class T>
void diag_backward(const std::vector<Omega<T>>& omegas, const DiagCache<T>& cache, T d_yhat,
                   std::vector<Omega<T>>& d_omega, DiagWork<T>& work);

// Chain rule omega = sum_k p q  ->  (p, q). Accumulates into grads (q_y skipped for GD++).
template <class T>
void diag_chain(const DiagParams<T>& params, const std::vector<Omega<T>>& d_omega,
                DiagGrads<T>& grads);

// Mean over the batch of 1/2 (y_hat - y_t)^2 and its (p, q) gradient (accumulated).
// Deterministic fixed-chunk reduction as in full.h.
template <class T>
double diag_loss_grad(const DiagParams<T>& params, int d, int n, std::size_t batch, const T* Z0s,
                      const T* targets, DiagGrads<T>& grads);

// Readouts after every layer, out (batch, L) row-major. Takes omegas so ablations can edit them.
template <class T>
void diag_predict(const std::vector<Omega<T>>& omegas, int d, int n, std::size_t batch,
                  const T* Z0s, T* out);

}  // namespace attnlab::icl

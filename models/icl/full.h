#pragma once
// FULL linear self-attention (spec §1.2-1.3): L layers, H heads, a (D x D) pair (P, Q) per head
// and layer, D = d + 1. Keys and values come from the n context tokens only; every token, the
// query included, is updated; residual; no normalisation; readout y_hat = -y of the query.
//
// A sequence is Z: (D, N) column-major with N = n + 1; column j is token j = (x_j, y_j), the
// query is column n with label slot 0. One layer:
//   C = Z_ctx Z_ctx^T                 (D, D), context columns 0..n-1
//   G = sum_h P_h C Q_h               (D, D)
//   Z' = Z + G Z                      (D, N)
#include <cstddef>
#include <vector>

namespace attnlab::icl {

template <class T>
struct FullParams {
  int layers = 0, heads = 0, dim = 0;  // dim = D = d + 1
  std::vector<T> P, Q;                 // [layer][head] (D, D) column-major blocks

  FullParams() = default;
  FullParams(int num_layers, int num_heads, int D);
  std::size_t block() const {
    return static_cast<std::size_t>(dim) * static_cast<std::size_t>(dim);
  }
  std::size_t offset(int l, int h) const {
    return static_cast<std::size_t>(l * heads + h) * block();
  }
  T* p(int l, int h) { return P.data() + offset(l, h); }
  T* q(int l, int h) { return Q.data() + offset(l, h); }
  const T* p(int l, int h) const { return P.data() + offset(l, h); }
  const T* q(int l, int h) const { return Q.data() + offset(l, h); }
  void set_zero();
  void add(const FullParams& other);  // this += other (same shape)
};
template <class T>
using FullGrads = FullParams<T>;

// Every intermediate state, for the backward pass and the per-layer readouts.
template <class T>
struct FullCache {
  int n = 0;
  std::vector<T> Z;   // (L+1) blocks of (D, N): Z^0 .. Z^L
  std::vector<T> C;   // L blocks of (D, D)
  std::vector<T> G;   // L blocks of (D, D)
  std::vector<T> T1;  // scratch
  const T* state(int l, int D) const {
    return Z.data() + static_cast<std::size_t>(l) * static_cast<std::size_t>(D * (n + 1));
  }
};

// Z0: (D, n+1). Fills cache with all states.
template <class T>
void full_forward(const FullParams<T>& params, int n, const T* Z0, FullCache<T>& cache);

// -y of the query after layer l (l = 0 is the input, i.e. 0).
template <class T>
T full_readout(const FullParams<T>& params, const FullCache<T>& cache, int l);

// Backward of the final readout: d_yhat = dLoss/dy_hat. Accumulates (+=) into grads.
template <class T>
void full_backward(const FullParams<T>& params, const FullCache<T>& cache, T d_yhat,
                   FullGrads<T>& grads);

// Scratch of the backward pass, reused across sequences.
template <class T>
struct FullWork {
  std::vector<T> g, gprev, dG, dC, T1, T2, S;
};
template <class T>
void full_backward(const FullParams<T>& params, const FullCache<T>& cache, T d_yhat,
                   FullGrads<T>& grads, FullWork<T>& work);

// Token-by-token reference of the same forward: Delta e_i = sum_h P_h sum_{j<n} (e_j^T Q_h e_i)
// e_j. Returns Z^L (D, N) column-major.
std::vector<double> full_forward_reference(const FullParams<double>& params, int n,
                                           const double* Z0);

// Batched training objective: mean over the batch of 1/2 (y_hat - y_t)^2, gradients of that mean
// accumulated into grads. Z0s: batch blocks of (D, N); targets: batch. Parallel over fixed chunks
// of sequences, partial gradients summed in chunk order: identical bits for any thread count.
// Lane-interleaved kernels (16 float / 8 double sequences per SIMD vector, small_gemm.h); the
// last layer computes only the query's label. Agrees with the reference up to rounding.
template <class T>
double full_loss_grad(const FullParams<T>& params, int n, std::size_t batch, const T* Z0s,
                      const T* targets, FullGrads<T>& grads);

// The same objective sequence by sequence through full_forward / full_backward.
template <class T>
double full_loss_grad_reference(const FullParams<T>& params, int n, std::size_t batch, const T* Z0s,
                                const T* targets, FullGrads<T>& grads);

// Readouts after every layer: out is (batch, L) row-major, out[b*L + l-1] = y_hat after layer l.
template <class T>
void full_predict(const FullParams<T>& params, int n, std::size_t batch, const T* Z0s, T* out);

}  // namespace attnlab::icl

#include "models/icl/full.h"

#include <algorithm>
#include <cassert>

#include "core/thread_pool.h"
#include "models/icl/small_gemm.h"

namespace attnlab::icl {
namespace {
constexpr std::size_t kChunk = 32;  // sequences per deterministic reduction chunk
std::size_t zsize(int D, int n) { return static_cast<std::size_t>(D * (n + 1)); }
}  // namespace

template <class T>
FullParams<T>::FullParams(int num_layers, int num_heads, int D)
    : layers(num_layers), heads(num_heads), dim(D) {
  const std::size_t total = static_cast<std::size_t>(layers * heads) * block();
  P.assign(total, T(0));
  Q.assign(total, T(0));
}

template <class T>
void FullParams<T>::set_zero() {
  std::fill(P.begin(), P.end(), T(0));
  std::fill(Q.begin(), Q.end(), T(0));
}

template <class T>
void FullParams<T>::add(const FullParams& other) {
  assert(other.P.size() == P.size());
  for (std::size_t i = 0; i < P.size(); ++i) P[i] += other.P[i];
  for (std::size_t i = 0; i < Q.size(); ++i) Q[i] += other.Q[i];
}

// DF > 0 fixes D at compile time (the hot D = 11 case), so the tiny loops unroll and vectorise.
template <class T, int DF>
void full_forward_impl(const FullParams<T>& params, int n, const T* Z0, FullCache<T>& cache) {
  const int D = DF > 0 ? DF : params.dim, N = n + 1, L = params.layers;
  const std::size_t zs = zsize(D, n), bs = params.block();
  cache.n = n;
  cache.Z.resize(zs * static_cast<std::size_t>(L + 1));
  cache.C.resize(bs * static_cast<std::size_t>(L));
  cache.G.resize(bs * static_cast<std::size_t>(L));
  std::copy(Z0, Z0 + zs, cache.Z.begin());
  cache.T1.resize(bs);
  T* T1 = cache.T1.data();
  for (int l = 0; l < L; ++l) {
    const T* Z = cache.Z.data() + zs * static_cast<std::size_t>(l);
    T* Zn = cache.Z.data() + zs * static_cast<std::size_t>(l + 1);
    T* C = cache.C.data() + bs * static_cast<std::size_t>(l);
    T* G = cache.G.data() + bs * static_cast<std::size_t>(l);
    // C = Z_ctx Z_ctx^T
    std::fill(C, C + bs, T(0));
    gemm_nt(D, D, n, Z, D, Z, D, C, D);
    // G = sum_h P_h (C Q_h)
    std::fill(G, G + bs, T(0));
    for (int h = 0; h < params.heads; ++h) {
      std::fill(T1, T1 + bs, T(0));
      gemm_nn(D, D, D, C, D, params.q(l, h), D, T1, D);
      gemm_nn(D, D, D, params.p(l, h), D, T1, D, G, D);
    }
    // Z' = Z + G Z
    std::copy(Z, Z + zs, Zn);
    gemm_nn(D, N, D, G, D, Z, D, Zn, D);
  }
}

template <class T>
void full_forward(const FullParams<T>& params, int n, const T* Z0, FullCache<T>& cache) {
  if (params.dim == 11) full_forward_impl<T, 11>(params, n, Z0, cache);
  else full_forward_impl<T, 0>(params, n, Z0, cache);
}

template <class T>
T full_readout(const FullParams<T>& params, const FullCache<T>& cache, int l) {
  const int D = params.dim;
  return -cache.state(l, D)[(D - 1) + cache.n * D];
}

template <class T, int DF>
void full_backward_impl(const FullParams<T>& params, const FullCache<T>& cache, T d_yhat,
                        FullGrads<T>& grads, FullWork<T>& wk) {
  const int D = DF > 0 ? DF : params.dim, n = cache.n, N = n + 1;
  const std::size_t zs = zsize(D, n), bs = params.block();
  auto& g = wk.g;
  auto& gprev = wk.gprev;
  auto& dG = wk.dG;
  auto& dC = wk.dC;
  auto& T1 = wk.T1;
  auto& T2 = wk.T2;
  auto& S = wk.S;
  g.assign(zs, T(0));
  gprev.resize(zs);
  for (auto* v : {&dG, &dC, &T1, &T2, &S}) v->resize(bs);
  g[static_cast<std::size_t>((D - 1) + n * D)] = -d_yhat;  // y_hat = -Z^L(d, n)
  for (int l = params.layers - 1; l >= 0; --l) {
    const T* Z = cache.state(l, D);
    const T* C = cache.C.data() + bs * static_cast<std::size_t>(l);
    const T* G = cache.G.data() + bs * static_cast<std::size_t>(l);
    // Z' = Z + G Z:  dG = g Z^T
    std::fill(dG.begin(), dG.end(), T(0));
    gemm_nt(D, D, N, g.data(), D, Z, D, dG.data(), D);
    // G = sum_h P_h C Q_h:  dP_h = dG (C Q_h)^T, dQ_h = C P_h^T dG, dC = sum_h P_h^T dG Q_h^T
    std::fill(dC.begin(), dC.end(), T(0));
    for (int h = 0; h < params.heads; ++h) {
      std::fill(T1.begin(), T1.end(), T(0));
      gemm_nn(D, D, D, C, D, params.q(l, h), D, T1.data(), D);
      gemm_nt(D, D, D, dG.data(), D, T1.data(), D, grads.p(l, h), D);
      std::fill(T2.begin(), T2.end(), T(0));
      gemm_tn(D, D, D, params.p(l, h), D, dG.data(), D, T2.data(), D);
      gemm_nn(D, D, D, C, D, T2.data(), D, grads.q(l, h), D);
      gemm_nt(D, D, D, T2.data(), D, params.q(l, h), D, dC.data(), D);
    }
    // Z' = Z + G Z:  dZ = g + G^T g
    std::copy(g.begin(), g.end(), gprev.begin());
    gemm_tn(D, N, D, G, D, g.data(), D, gprev.data(), D);
    // C = Z_ctx Z_ctx^T:  dZ_ctx += (dC + dC^T) Z_ctx
    for (int j = 0; j < D; ++j)
      for (int i = 0; i < D; ++i) S[static_cast<std::size_t>(i + j * D)] = dC[static_cast<std::size_t>(i + j * D)] + dC[static_cast<std::size_t>(j + i * D)];
    gemm_nn(D, n, D, S.data(), D, Z, D, gprev.data(), D);
    std::swap(g, gprev);
  }
}

template <class T>
void full_backward(const FullParams<T>& params, const FullCache<T>& cache, T d_yhat,
                   FullGrads<T>& grads, FullWork<T>& work) {
  if (params.dim == 11) full_backward_impl<T, 11>(params, cache, d_yhat, grads, work);
  else full_backward_impl<T, 0>(params, cache, d_yhat, grads, work);
}

template <class T>
void full_backward(const FullParams<T>& params, const FullCache<T>& cache, T d_yhat,
                   FullGrads<T>& grads) {
  FullWork<T> work;
  full_backward(params, cache, d_yhat, grads, work);
}

std::vector<double> full_forward_reference(const FullParams<double>& params, int n,
                                           const double* Z0) {
  const int D = params.dim, N = n + 1;
  std::vector<double> Z(Z0, Z0 + zsize(D, n)), Zn(Z.size());
  auto at = [D](const std::vector<double>& M, int r, int c) {
    return M[static_cast<std::size_t>(r + c * D)];
  };
  for (int l = 0; l < params.layers; ++l) {
    Zn = Z;
    for (int i = 0; i < N; ++i) {
      for (int h = 0; h < params.heads; ++h) {
        const double* P = params.p(l, h);
        const double* Q = params.q(l, h);
        for (int j = 0; j < n; ++j) {
          double score = 0;  // e_j^T Q e_i
          for (int r = 0; r < D; ++r)
            for (int c = 0; c < D; ++c) score += at(Z, r, j) * Q[r + c * D] * at(Z, c, i);
          for (int r = 0; r < D; ++r) {
            double pe = 0;  // (P e_j)_r
            for (int c = 0; c < D; ++c) pe += P[r + c * D] * at(Z, c, j);
            Zn[static_cast<std::size_t>(r + i * D)] += score * pe;
          }
        }
      }
    }
    Z = Zn;
  }
  return Z;
}

template <class T>
double full_loss_grad(const FullParams<T>& params, int n, std::size_t batch, const T* Z0s,
                      const T* targets, FullGrads<T>& grads) {
  const std::size_t zs = zsize(params.dim, n);
  const std::size_t chunks = num_chunks(batch, kChunk);
  std::vector<FullGrads<T>> partial(chunks, FullGrads<T>(params.layers, params.heads, params.dim));
  std::vector<double> losses(chunks, 0.0);
  const T scale = T(1) / static_cast<T>(batch);
  parallel_chunks(batch, kChunk, [&](std::size_t c, std::size_t begin, std::size_t end) {
    FullCache<T> cache;
    FullWork<T> work;
    double loss = 0;
    for (std::size_t b = begin; b < end; ++b) {
      full_forward(params, n, Z0s + b * zs, cache);
      const T err = full_readout(params, cache, params.layers) - targets[b];
      loss += 0.5 * static_cast<double>(err) * static_cast<double>(err);
      full_backward(params, cache, err * scale, partial[c], work);
    }
    losses[c] = loss;
  });
  double loss = 0;
  for (std::size_t c = 0; c < chunks; ++c) {
    grads.add(partial[c]);
    loss += losses[c];
  }
  return loss / static_cast<double>(batch);
}

template <class T>
void full_predict(const FullParams<T>& params, int n, std::size_t batch, const T* Z0s, T* out) {
  const std::size_t zs = zsize(params.dim, n);
  const auto L = static_cast<std::size_t>(params.layers);
  parallel_for(batch, [&](std::size_t begin, std::size_t end) {
    FullCache<T> cache;
    for (std::size_t b = begin; b < end; ++b) {
      full_forward(params, n, Z0s + b * zs, cache);
      for (std::size_t l = 1; l <= L; ++l)
        out[b * L + l - 1] = full_readout(params, cache, static_cast<int>(l));
    }
  }, 16);
}

#define ATTNLAB_INSTANTIATE_FULL(T)                                                            \
  template struct FullParams<T>;                                                               \
  template void full_forward<T>(const FullParams<T>&, int, const T*, FullCache<T>&);           \
  template T full_readout<T>(const FullParams<T>&, const FullCache<T>&, int);                  \
  template void full_backward<T>(const FullParams<T>&, const FullCache<T>&, T, FullGrads<T>&); \
  template void full_backward<T>(const FullParams<T>&, const FullCache<T>&, T, FullGrads<T>&,   \
                                 FullWork<T>&);                                                \
  template double full_loss_grad<T>(const FullParams<T>&, int, std::size_t, const T*, const T*, \
                                    FullGrads<T>&);                                            \
  template void full_predict<T>(const FullParams<T>&, int, std::size_t, const T*, T*);
ATTNLAB_INSTANTIATE_FULL(float)
ATTNLAB_INSTANTIATE_FULL(double)

}  // namespace attnlab::icl

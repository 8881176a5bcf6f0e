#include "models/icl/full.h"

#include <algorithm>
#include <cassert>
#include <type_traits>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

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
  if (params.dim == 11)
    full_forward_impl<T, 11>(params, n, Z0, cache);
  else
    full_forward_impl<T, 0>(params, n, Z0, cache);
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
      for (int i = 0; i < D; ++i)
        S[static_cast<std::size_t>(i + j * D)] =
            dC[static_cast<std::size_t>(i + j * D)] + dC[static_cast<std::size_t>(j + i * D)];
    gemm_nn(D, n, D, S.data(), D, Z, D, gprev.data(), D);
    std::swap(g, gprev);
  }
}

template <class T>
void full_backward(const FullParams<T>& params, const FullCache<T>& cache, T d_yhat,
                   FullGrads<T>& grads, FullWork<T>& work) {
  if (params.dim == 11)
    full_backward_impl<T, 11>(params, cache, d_yhat, grads, work);
  else
    full_backward_impl<T, 0>(params, cache, d_yhat, grads, work);
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
double full_loss_grad_reference(const FullParams<T>& params, int n, std::size_t batch, const T* Z0s,
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

// ---- lane-interleaved training path ----------------------------------------------------------
// W sequences per group, one per SIMD lane (small_gemm.h, lanes::). Same math as full_forward /
// full_backward, with two savings that only change rounding: the last layer computes just the
// query's label (row D-1 of G), and the backward stops at layer 0 (no gradient for the input).
namespace {

using lanes::Idx;
using lanes::lane_mm;
using lanes::Lanes;

// Sequences per deterministic reduction chunk: a multiple of every lane count (16 floats, 8
// doubles), large enough that the per-chunk lane reduction of the gradients is cheap.
constexpr std::size_t kLaneChunk = 128;

template <class T>
struct LaneWork {
  using V = typename Lanes<T>::V;
  std::vector<V> Z;           // L blocks (D, N): Z^0 .. Z^{L-1}
  std::vector<V> C;           // L blocks (D, D)
  std::vector<V> G;           // L-1 blocks (D, D)
  std::vector<V> T1;          // (L-1) H blocks (D, D): C Q_h
  std::vector<V> u;           // H blocks (D): C p_h in the last layer, p_h = row D-1 of P_h
  std::vector<V> grow;        // (D): row D-1 of the last layer's G
  std::vector<V> dP, dQ;      // L H blocks (D, D): per-lane gradient sums over a chunk
  std::vector<V> g, gprev;    // (D, N): dLoss/dZ^l
  std::vector<V> dG, dC, T2;  // (D, D)
  std::vector<V> v, dgrow;    // H blocks (D), (D)
  std::vector<V> a, bvec;     // (n)
  void resize(int L, int H, int D, int n) {
    const auto zs = static_cast<std::size_t>(D * (n + 1)), bs = static_cast<std::size_t>(D * D);
    const auto l = static_cast<std::size_t>(L), h = static_cast<std::size_t>(H);
    const auto d = static_cast<std::size_t>(D);
    Z.resize(l * zs);
    C.resize(l * bs);
    G.resize((l - 1) * bs);
    T1.resize((l - 1) * h * bs);
    u.resize(h * d);
    grow.resize(d);
    dP.resize(l * h * bs);
    dQ.resize(l * h * bs);
    g.resize(zs);
    gprev.resize(zs);
    dG.resize(bs);
    dC.resize(bs);
    T2.resize(bs);
    v.resize(h * d);
    dgrow.resize(d);
    a.resize(static_cast<std::size_t>(n));
    bvec.resize(static_cast<std::size_t>(n));
  }
};

#if defined(__AVX512F__)
// out[j] lane v = row v element j, for 16 rows of 16 floats (in-register transpose).
inline void transpose16(const float* const (&rows)[16], std::size_t e0, __m512* out) {
  __m512 r[16], t[16];
  for (int v = 0; v < 16; ++v) r[v] = _mm512_loadu_ps(rows[v] + e0);
  for (int v = 0; v < 16; v += 2) {
    t[v] = _mm512_unpacklo_ps(r[v], r[v + 1]);
    t[v + 1] = _mm512_unpackhi_ps(r[v], r[v + 1]);
  }
  for (int v = 0; v < 16; v += 4) {
    r[v] = _mm512_shuffle_ps(t[v], t[v + 2], 0x44);
    r[v + 1] = _mm512_shuffle_ps(t[v], t[v + 2], 0xEE);
    r[v + 2] = _mm512_shuffle_ps(t[v + 1], t[v + 3], 0x44);
    r[v + 3] = _mm512_shuffle_ps(t[v + 1], t[v + 3], 0xEE);
  }
  for (int v = 0; v < 16; v += 8)
    for (int q = 0; q < 4; ++q) {
      t[v + q] = _mm512_shuffle_f32x4(r[v + q], r[v + q + 4], 0x88);
      t[v + q + 4] = _mm512_shuffle_f32x4(r[v + q], r[v + q + 4], 0xDD);
    }
  for (int q = 0; q < 8; ++q) {
    out[q] = _mm512_shuffle_f32x4(t[q], t[q + 8], 0x88);
    out[q + 8] = _mm512_shuffle_f32x4(t[q], t[q + 8], 0xDD);
  }
}
#endif

// Z^0 of sequences b0 .. b0+count-1 (count <= W) into lanes; missing lanes are zero sequences.
template <class T>
void lane_gather(const T* Z0s, std::size_t zs, std::size_t b0, std::size_t count,
                 typename Lanes<T>::V* Z) {
  using V = typename Lanes<T>::V;
  [[maybe_unused]] constexpr auto W = static_cast<std::size_t>(Lanes<T>::W);
  std::size_t e = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    if (count == W) {  // full groups: 16 x 16 blocks transposed in registers
      const float* rows[16];
      for (std::size_t v = 0; v < W; ++v) rows[v] = Z0s + (b0 + v) * zs;
      for (; e + 16 <= zs; e += 16) {
        __m512 cols[16];
        transpose16(rows, e, cols);
        for (std::size_t j = 0; j < 16; ++j) Z[e + j] = reinterpret_cast<V>(cols[j]);
      }
    }
  }
#endif
  for (; e < zs; ++e) {
    V x{};
    for (std::size_t v = 0; v < count; ++v) x[v] = Z0s[(b0 + v) * zs + e];
    Z[e] = x;
  }
}

// Forward of one group; returns y_hat per lane. Z^0 must be in w.Z.
// C [+]= A B on lane vectors: inlined with constant shapes when DF > 0 (D = DF, n = NF).
template <int DF, class V, class EA, class EB>
[[gnu::always_inline]] inline void mm(int m, int n, int k, const EA* a, Idx ars, Idx acs,
                                      const EB* b, Idx brs, Idx bcs, V* c, Idx crs, Idx ccs,
                                      bool add) {
  if constexpr (DF > 0) {
    lanes::lane_mm_fixed<V, EA, EB>(m, n, k, a, ars, acs, b, brs, bcs, c, crs, ccs, add);
  } else {
    lane_mm<V, EA, EB>(m, n, k, a, ars, acs, b, brs, bcs, c, crs, ccs, add);
  }
}

template <class T, int DF, int NF>
typename Lanes<T>::V lane_forward(const FullParams<T>& pr, int n_arg, LaneWork<T>& w) {
  using V = typename Lanes<T>::V;
  const int D = DF > 0 ? DF : pr.dim, n = NF > 0 ? NF : n_arg;
  const int N = n + 1, L = pr.layers, H = pr.heads;
  const Idx zs = Idx(D) * N, bs = Idx(D) * D;
  for (int l = 0; l + 1 < L; ++l) {
    const V* Z = w.Z.data() + l * zs;
    V* C = w.C.data() + l * bs;
    V* G = w.G.data() + l * bs;
    mm<DF, V, V, V>(D, D, n, Z, 1, D, Z, D, 1, C, 1, D, false);  // C = Z_ctx Z_ctx^T
    for (int h = 0; h < H; ++h) {
      V* T1 = w.T1.data() + (l * H + h) * bs;
      mm<DF, V, V, T>(D, D, D, C, 1, D, pr.q(l, h), 1, D, T1, 1, D, false);  // T1 = C Q_h
      mm<DF, V, T, V>(D, D, D, pr.p(l, h), 1, D, T1, 1, D, G, 1, D, h > 0);  // G += P_h T1
    }
    V* Zn = w.Z.data() + (l + 1) * zs;
    std::copy(Z, Z + zs, Zn);
    mm<DF, V, V, V>(D, N, D, G, 1, D, Z, 1, D, Zn, 1, D, true);  // Z' = Z + G Z
  }
  // Last layer: y_hat = -(Z(D-1, n) + G(D-1, :) z_n) needs only row D-1 of G,
  // G(D-1, :) = sum_h p_h^T C Q_h = sum_h (C p_h)^T Q_h (C is symmetric).
  const int l = L - 1;
  const V* Z = w.Z.data() + l * zs;
  V* C = w.C.data() + l * bs;
  mm<DF, V, V, V>(D, D, n, Z, 1, D, Z, D, 1, C, 1, D, false);  // C = Z_ctx Z_ctx^T
  for (int h = 0; h < H; ++h) {
    V* u = w.u.data() + h * D;
    mm<DF, V, V, T>(D, 1, D, C, 1, D, pr.p(l, h) + (D - 1), D, 0, u, 1, 0, false);  // u = C p_h
    mm<DF, V, V, T>(1, D, D, u, 0, 1, pr.q(l, h), 1, D, w.grow.data(), 0, 1, h > 0);
  }
  V y = Z[(D - 1) + n * D];
  for (int j = 0; j < D; ++j) y += w.grow[static_cast<std::size_t>(j)] * Z[j + n * D];
  return -y;
}

// Backward of one group for d_yhat = dy per lane; accumulates into w.dP, w.dQ.
template <class T, int DF, int NF>
void lane_backward(const FullParams<T>& pr, int n_arg, typename Lanes<T>::V dy, LaneWork<T>& w) {
  using V = typename Lanes<T>::V;
  const int D = DF > 0 ? DF : pr.dim, n = NF > 0 ? NF : n_arg;
  const int N = n + 1, L = pr.layers, H = pr.heads;
  const Idx zs = Idx(D) * N, bs = Idx(D) * D;
  // Last layer. g = dLoss/dZ^L = -dy e_{D-1} e_n^T, so dG = g Z^T has the single row
  // dgrow = -dy z_n^T, and with v_h = Q_h dgrow^T, u_h = C p_h:
  //   dP_h(D-1, :) += (C v_h)^T,  dQ_h += u_h dgrow,  dC = sum_h p_h v_h^T.
  int l = L - 1;
  const V* Z = w.Z.data() + l * zs;
  const V* C = w.C.data() + l * bs;
  V* dgrow = w.dgrow.data();
  for (int j = 0; j < D; ++j) dgrow[j] = -dy * Z[j + n * D];
  for (int h = 0; h < H; ++h) {
    V* vh = w.v.data() + h * D;
    V* dP = w.dP.data() + (l * H + h) * bs;
    V* dQ = w.dQ.data() + (l * H + h) * bs;
    mm<DF, V, T, V>(D, 1, D, pr.q(l, h), 1, D, dgrow, 1, 0, vh, 1, 0, false);  // v = Q dgrow^T
    mm<DF, V, V, V>(D, 1, D, C, 1, D, vh, 1, 0, dP + (D - 1), D, 0, true);
    mm<DF, V, V, V>(D, D, 1, w.u.data() + h * D, 1, 0, dgrow, 0, 1, dQ, 1, D, true);
  }
  if (l == 0) return;
  // dZ^{L-1} = g + G^T g + (dC + dC^T) Z_ctx: the query column is -dy (e_{D-1} + G(D-1, :)^T),
  // the context columns sum_h p_h (v_h^T Z_ctx) + v_h (p_h^T Z_ctx).
  V* g = w.g.data();
  for (int i = 0; i < D; ++i) g[i + n * D] = -dy * w.grow[static_cast<std::size_t>(i)];
  g[(D - 1) + n * D] -= dy;
  for (int h = 0; h < H; ++h) {
    const V* vh = w.v.data() + h * D;
    const T* ph = pr.p(l, h) + (D - 1);                                       // p_h(i) = ph[i * D]
    mm<DF, V, V, V>(1, n, D, vh, 0, 1, Z, 1, D, w.a.data(), 0, 1, false);     // v_h^T Z_ctx
    mm<DF, V, T, V>(1, n, D, ph, 0, D, Z, 1, D, w.bvec.data(), 0, 1, false);  // p_h^T Z_ctx
    mm<DF, V, T, V>(D, n, 1, ph, D, 0, w.a.data(), 0, 1, g, 1, D, h > 0);
    mm<DF, V, V, V>(D, n, 1, vh, 1, 0, w.bvec.data(), 0, 1, g, 1, D, true);
  }
  // Layers L-2 .. 0 walk full_backward_impl with g dense.
  for (l = L - 2; l >= 0; --l) {
    Z = w.Z.data() + l * zs;
    C = w.C.data() + l * bs;
    const V* G = w.G.data() + l * bs;
    V* dG = w.dG.data();
    V* dC = w.dC.data();
    V* T2 = w.T2.data();
    g = w.g.data();
    mm<DF, V, V, V>(D, D, N, g, 1, D, Z, D, 1, dG, 1, D, false);  // Z' = Z + G Z: dG = g Z^T
    for (int h = 0; h < H; ++h) {                                 // G = sum_h P_h C Q_h
      const V* T1 = w.T1.data() + (l * H + h) * bs;
      V* dP = w.dP.data() + (l * H + h) * bs;
      V* dQ = w.dQ.data() + (l * H + h) * bs;
      mm<DF, V, V, V>(D, D, D, dG, 1, D, T1, D, 1, dP, 1, D, true);           // dP += dG T1^T
      mm<DF, V, T, V>(D, D, D, pr.p(l, h), D, 1, dG, 1, D, T2, 1, D, false);  // T2 = P^T dG
      mm<DF, V, V, V>(D, D, D, C, 1, D, T2, 1, D, dQ, 1, D, true);            // dQ += C T2
      mm<DF, V, V, T>(D, D, D, T2, 1, D, pr.q(l, h), D, 1, dC, 1, D, h > 0);  // dC += T2 Q^T
    }
    if (l == 0) break;  // no gradient for the input tokens
    V* gp = w.gprev.data();
    std::copy(g, g + zs, gp);
    mm<DF, V, V, V>(D, N, D, G, D, 1, g, 1, D, gp, 1, D, true);  // dZ = g + G^T g
    for (int j = 0; j < D; ++j)                                  // C = Z_ctx Z_ctx^T:
      for (int i = 0; i < D; ++i) T2[i + j * D] = dC[i + j * D] + dC[j + i * D];
    mm<DF, V, V, V>(D, n, D, T2, 1, D, Z, 1, D, gp, 1, D, true);  // dZ_ctx += (dC + dC^T) Z_ctx
    std::swap(w.g, w.gprev);
  }
}

// Adds the lanes of the per-lane sums (in lane order) to dst.
template <class T>
void lane_reduce(const std::vector<typename Lanes<T>::V>& src, std::vector<T>& dst) {
  for (std::size_t e = 0; e < dst.size(); ++e) {
    T s = T(0);
    for (int v = 0; v < Lanes<T>::W; ++v) s += src[e][v];
    dst[e] += s;
  }
}

}  // namespace

template <class T>
double full_loss_grad(const FullParams<T>& params, int n, std::size_t batch, const T* Z0s,
                      const T* targets, FullGrads<T>& grads) {
  using V = typename Lanes<T>::V;
  constexpr auto W = static_cast<std::size_t>(Lanes<T>::W);
  const int D = params.dim;
  const std::size_t zs = zsize(D, n);
  const std::size_t chunks = num_chunks(batch, kLaneChunk);
  std::vector<FullGrads<T>> partial(chunks, FullGrads<T>(params.layers, params.heads, D));
  std::vector<double> losses(chunks, 0.0);
  const T scale = T(1) / static_cast<T>(batch);
  const bool hot = D == 11 && n == 20;  // the paper's d = 10, n = 20: shapes fixed at compile time
  parallel_chunks(batch, kLaneChunk, [&](std::size_t c, std::size_t begin, std::size_t end) {
    static thread_local LaneWork<T> w;
    w.resize(params.layers, params.heads, D, n);
    std::fill(w.dP.begin(), w.dP.end(), V{});
    std::fill(w.dQ.begin(), w.dQ.end(), V{});
    double loss = 0;
    for (std::size_t b0 = begin; b0 < end; b0 += W) {
      const std::size_t count = std::min(W, end - b0);
      lane_gather(Z0s, zs, b0, count, w.Z.data());
      const V yhat =
          hot ? lane_forward<T, 11, 20>(params, n, w) : lane_forward<T, 0, 0>(params, n, w);
      V dy{};
      for (std::size_t v = 0; v < count; ++v) {
        const T err = yhat[v] - targets[b0 + v];
        loss += 0.5 * static_cast<double>(err) * static_cast<double>(err);
        dy[v] = err * scale;
      }
      if (hot)
        lane_backward<T, 11, 20>(params, n, dy, w);
      else
        lane_backward<T, 0, 0>(params, n, dy, w);
    }
    lane_reduce<T>(w.dP, partial[c].P);
    lane_reduce<T>(w.dQ, partial[c].Q);
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
  parallel_for(
      batch,
      [&](std::size_t begin, std::size_t end) {
        FullCache<T> cache;
        for (std::size_t b = begin; b < end; ++b) {
          full_forward(params, n, Z0s + b * zs, cache);
          for (std::size_t l = 1; l <= L; ++l)
            out[b * L + l - 1] = full_readout(params, cache, static_cast<int>(l));
        }
      },
      16);
}

#define ATTNLAB_INSTANTIATE_FULL(T)                                                             \
  template struct FullParams<T>;                                                                \
  template void full_forward<T>(const FullParams<T>&, int, const T*, FullCache<T>&);            \
  template T full_readout<T>(const FullParams<T>&, const FullCache<T>&, int);                   \
  template void full_backward<T>(const FullParams<T>&, const FullCache<T>&, T, FullGrads<T>&);  \
  template void full_backward<T>(const FullParams<T>&, const FullCache<T>&, T, FullGrads<T>&,   \
                                 FullWork<T>&);                                                 \
  template double full_loss_grad<T>(const FullParams<T>&, int, std::size_t, const T*, const T*, \
                                    FullGrads<T>&);                                             \
  template double full_loss_grad_reference<T>(const FullParams<T>&, int, std::size_t, const T*, \
                                              const T*, FullGrads<T>&);                         \
  template void full_predict<T>(const FullParams<T>&, int, std::size_t, const T*, T*);
ATTNLAB_INSTANTIATE_FULL(float)
ATTNLAB_INSTANTIATE_FULL(double)

}  // namespace attnlab::icl

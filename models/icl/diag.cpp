#include "models/icl/diag.h"

#include <algorithm>
#include <cassert>

#include "core/thread_pool.h"
#include "models/icl/small_gemm.h"

namespace attnlab::icl {
namespace {
constexpr std::size_t kChunk = 32;  // sequences per deterministic reduction chunk
std::size_t us(int v) { return static_cast<std::size_t>(v); }
}  // namespace

template <class T>
DiagParams<T>::DiagParams(int num_layers, int num_heads, bool is_gdpp)
    : layers(num_layers), heads(num_heads), gdpp(is_gdpp) {
  const std::size_t s = us(layers * heads);
  px.assign(s, T(0));
  py.assign(s, T(0));
  qx.assign(s, T(0));
  qy.assign(s, T(0));
}

template <class T>
void DiagParams<T>::set_zero() {
  for (auto* v : {&px, &py, &qx, &qy}) std::fill(v->begin(), v->end(), T(0));
}

template <class T>
void DiagParams<T>::add(const DiagParams& o) {
  for (std::size_t i = 0; i < px.size(); ++i) {
    px[i] += o.px[i];
    py[i] += o.py[i];
    qx[i] += o.qx[i];
    qy[i] += o.qy[i];
  }
}

template <class T>
std::vector<Omega<T>> diag_omegas(const DiagParams<T>& p) {
  std::vector<Omega<T>> w(us(p.layers));
  for (int l = 0; l < p.layers; ++l)
    for (int h = 0; h < p.heads; ++h) {
      const std::size_t k = p.at(l, h);
      const T qy = p.gdpp ? T(0) : p.qy[k];
      w[us(l)].xx += p.px[k] * p.qx[k];
      w[us(l)].xy += p.px[k] * qy;
      w[us(l)].yx += p.py[k] * p.qx[k];
      w[us(l)].yy += p.py[k] * qy;
    }
  return w;
}

// DF > 0 fixes d at compile time (the hot d = 10 case), so the tiny loops unroll and vectorise.
template <class T, int DF>
void diag_forward_impl(const std::vector<Omega<T>>& omegas, int d_runtime, int n, const T* Z0,
                       DiagCache<T>& cache) {
  const int d = DF > 0 ? DF : d_runtime;
  const int D = d + 1, N = n + 1, L = static_cast<int>(omegas.size());
  const std::size_t zs = us(D * N);
  cache.d = d;
  cache.n = n;
  cache.Z.resize(zs * us(L + 1));
  cache.Sigma.resize(us(d * d * L));
  cache.alpha.resize(us(d * L));
  cache.lambda.resize(us(L));
  cache.work.resize(us(d * N));
  std::copy(Z0, Z0 + zs, cache.Z.begin());
  T* SX = cache.work.data();  // (d, N)
  for (int l = 0; l < L; ++l) {
    const Omega<T> w = omegas[us(l)];
    const T* Z = cache.Z.data() + zs * us(l);
    T* Zn = cache.Z.data() + zs * us(l + 1);
    T* S = cache.Sigma.data() + us(d * d * l);
    T* a = cache.alpha.data() + us(d * l);
    // Sigma = X_ctx X_ctx^T, alpha = X_ctx y_ctx, lambda = |y_ctx|^2
    std::fill(S, S + d * d, T(0));
    gemm_nt(d, d, n, Z, D, Z, D, S, d);
    std::fill(a, a + d, T(0));
    T lam = 0;
    for (int j = 0; j < n; ++j) {
      const T y = Z[d + j * D];
      for (int i = 0; i < d; ++i) a[i] += Z[i + j * D] * y;
      lam += y * y;
    }
    cache.lambda[us(l)] = lam;
    // x' = x + w_xx Sigma x + w_xy y alpha ;  y' = y + w_yx <alpha, x> + w_yy lambda y
    std::fill(SX, SX + d * N, T(0));
    gemm_nn(d, N, d, S, d, Z, D, SX, d);
    for (int j = 0; j < N; ++j) {
      const T* z = Z + j * D;
      T* zn = Zn + j * D;
      const T y = z[d];
      T ax = 0;
      for (int i = 0; i < d; ++i) {
        zn[i] = z[i] + w.xx * SX[i + j * d] + w.xy * y * a[i];
        ax += a[i] * z[i];
      }
      zn[d] = y + w.yx * ax + w.yy * lam * y;
    }
  }
}

template <class T>
void diag_forward(const std::vector<Omega<T>>& omegas, int d, int n, const T* Z0,
                  DiagCache<T>& cache) {
  if (d == 10)
    diag_forward_impl<T, 10>(omegas, d, n, Z0, cache);
  else
    diag_forward_impl<T, 0>(omegas, d, n, Z0, cache);
}

template <class T>
T diag_readout(const DiagCache<T>& cache, int l) {
  return -cache.state(l)[cache.d + cache.n * (cache.d + 1)];
}

template <class T, int DF>
void diag_backward_impl(const std::vector<Omega<T>>& omegas, const DiagCache<T>& cache, T d_yhat,
                        std::vector<Omega<T>>& d_omega, DiagWork<T>& wk) {
  const int d = DF > 0 ? DF : cache.d;
  const int n = cache.n, D = d + 1, N = n + 1, L = static_cast<int>(omegas.size());
  const std::size_t zs = us(D * N);
  auto& g = wk.g;
  auto& gp = wk.gp;
  auto& SX = wk.SX;
  auto& SG = wk.SG;
  auto& gS = wk.gS;
  auto& ga = wk.ga;
  g.assign(zs, T(0));
  gp.resize(zs);
  SX.resize(us(d * N));
  SG.resize(us(d * N));
  gS.resize(us(d * d));
  ga.resize(us(d));
  g[us(d + n * D)] = -d_yhat;  // y_hat = -y_query^L
  for (int l = L - 1; l >= 0; --l) {
    const Omega<T> w = omegas[us(l)];
    const T* Z = cache.state(l);
    const T* S = cache.Sigma.data() + us(d * d * l);
    const T* a = cache.alpha.data() + us(d * l);
    const T lam = cache.lambda[us(l)];
    std::fill(SX.begin(), SX.end(), T(0));
    gemm_nn(d, N, d, S, d, Z, D, SX.data(), d);  // Sigma X
    std::fill(SG.begin(), SG.end(), T(0));
    gemm_nn(d, N, d, S, d, g.data(), D, SG.data(), d);  // Sigma gX'
    // Token updates: omega gradients and dZ through the explicit dependence on each token.
    Omega<T> dw;
    T glam = 0;
    std::fill(ga.begin(), ga.end(), T(0));
    std::copy(g.begin(), g.end(), gp.begin());
    for (int j = 0; j < N; ++j) {
      const T* z = Z + j * D;
      const T* gz = g.data() + j * D;
      T* gpz = gp.data() + j * D;
      const T y = z[d], gy = gz[d];
      T a_gx = 0, a_x = 0, sx_gx = 0;
      for (int i = 0; i < d; ++i) {
        a_gx += a[i] * gz[i];
        a_x += a[i] * z[i];
        sx_gx += SX[us(i + j * d)] * gz[i];
      }
      dw.xx += sx_gx;
      dw.xy += y * a_gx;
      dw.yx += gy * a_x;
      dw.yy += lam * gy * y;
      glam += w.yy * gy * y;
      for (int i = 0; i < d; ++i) {
        gpz[i] += w.xx * SG[us(i + j * d)] + w.yx * gy * a[i];
        ga[us(i)] += w.xy * y * gz[i] + w.yx * gy * z[i];
      }
      gpz[d] += w.xy * a_gx + w.yy * lam * gy;
    }
    // dSigma = w_xx gX' X^T ; context: dX_ctx += (dSigma + dSigma^T) X_ctx
    std::fill(gS.begin(), gS.end(), T(0));
    gemm_nt(d, d, N, g.data(), D, Z, D, gS.data(), d);
    for (int c = 0; c < d; ++c)
      for (int r = 0; r <= c; ++r) {
        const T s = w.xx * (gS[us(r + c * d)] + gS[us(c + r * d)]);
        gS[us(r + c * d)] = s;
        gS[us(c + r * d)] = s;
      }
    gemm_nn(d, n, d, gS.data(), d, Z, D, gp.data(), D);
    // alpha = X_ctx y_ctx, lambda = |y_ctx|^2
    for (int j = 0; j < n; ++j) {
      const T* z = Z + j * D;
      T* gpz = gp.data() + j * D;
      T ga_x = 0;
      for (int i = 0; i < d; ++i) {
        gpz[i] += ga[us(i)] * z[d];
        ga_x += ga[us(i)] * z[i];
      }
      gpz[d] += ga_x + 2 * glam * z[d];
    }
    d_omega[us(l)].xx += dw.xx;
    d_omega[us(l)].xy += dw.xy;
    d_omega[us(l)].yx += dw.yx;
    d_omega[us(l)].yy += dw.yy;
    std::swap(g, gp);
  }
}

template <class T>
void diag_backward(const std::vector<Omega<T>>& omegas, const DiagCache<T>& cache, T d_yhat,
                   std::vector<Omega<T>>& d_omega) {
  DiagWork<T> wk;
  diag_backward(omegas, cache, d_yhat, d_omega, wk);
}

template <class T>
void diag_backward(const std::vector<Omega<T>>& omegas, const DiagCache<T>& cache, T d_yhat,
                   std::vector<Omega<T>>& d_omega, DiagWork<T>& wk) {
  if (cache.d == 10)
    diag_backward_impl<T, 10>(omegas, cache, d_yhat, d_omega, wk);
  else
    diag_backward_impl<T, 0>(omegas, cache, d_yhat, d_omega, wk);
}

template <class T>
void diag_chain(const DiagParams<T>& p, const std::vector<Omega<T>>& dw, DiagGrads<T>& g) {
  for (int l = 0; l < p.layers; ++l)
    for (int h = 0; h < p.heads; ++h) {
      const std::size_t k = p.at(l, h);
      const Omega<T> o = dw[us(l)];
      const T qy = p.gdpp ? T(0) : p.qy[k];
      g.px[k] += o.xx * p.qx[k] + o.xy * qy;
      g.py[k] += o.yx * p.qx[k] + o.yy * qy;
      g.qx[k] += o.xx * p.px[k] + o.yx * p.py[k];
      if (!p.gdpp) g.qy[k] += o.xy * p.px[k] + o.yy * p.py[k];
    }
}

template <class T>
double diag_loss_grad(const DiagParams<T>& params, int d, int n, std::size_t batch, const T* Z0s,
                      const T* targets, DiagGrads<T>& grads) {
  const std::size_t zs = us((d + 1) * (n + 1));
  const auto omegas = diag_omegas(params);
  const std::size_t chunks = num_chunks(batch, kChunk);
  std::vector<std::vector<Omega<T>>> partial(chunks, std::vector<Omega<T>>(omegas.size()));
  std::vector<double> losses(chunks, 0.0);
  const T scale = T(1) / static_cast<T>(batch);
  parallel_chunks(batch, kChunk, [&](std::size_t c, std::size_t begin, std::size_t end) {
    DiagCache<T> cache;
    DiagWork<T> wk;
    double loss = 0;
    for (std::size_t b = begin; b < end; ++b) {
      diag_forward(omegas, d, n, Z0s + b * zs, cache);
      const T err = diag_readout(cache, params.layers) - targets[b];
      loss += 0.5 * static_cast<double>(err) * static_cast<double>(err);
      diag_backward(omegas, cache, err * scale, partial[c], wk);
    }
    losses[c] = loss;
  });
  std::vector<Omega<T>> d_omega(omegas.size());
  double loss = 0;
  for (std::size_t c = 0; c < chunks; ++c) {
    for (std::size_t l = 0; l < omegas.size(); ++l) {
      d_omega[l].xx += partial[c][l].xx;
      d_omega[l].xy += partial[c][l].xy;
      d_omega[l].yx += partial[c][l].yx;
      d_omega[l].yy += partial[c][l].yy;
    }
    loss += losses[c];
  }
  diag_chain(params, d_omega, grads);
  return loss / static_cast<double>(batch);
}

template <class T>
void diag_predict(const std::vector<Omega<T>>& omegas, int d, int n, std::size_t batch,
                  const T* Z0s, T* out) {
  const std::size_t zs = us((d + 1) * (n + 1));
  const std::size_t L = omegas.size();
  parallel_for(
      batch,
      [&](std::size_t begin, std::size_t end) {
        DiagCache<T> cache;
        for (std::size_t b = begin; b < end; ++b) {
          diag_forward(omegas, d, n, Z0s + b * zs, cache);
          for (std::size_t l = 1; l <= L; ++l)
            out[b * L + l - 1] = diag_readout(cache, static_cast<int>(l));
        }
      },
      16);
}

#define ATTNLAB_INSTANTIATE_DIAG(T)                                                               \
  template struct DiagParams<T>;                                                                  \
  template std::vector<Omega<T>> diag_omegas<T>(const DiagParams<T>&);                            \
  template void diag_forward<T>(const std::vector<Omega<T>>&, int, int, const T*, DiagCache<T>&); \
  template T diag_readout<T>(const DiagCache<T>&, int);                                           \
  template void diag_backward<T>(const std::vector<Omega<T>>&, const DiagCache<T>&, T,            \
                                 std::vector<Omega<T>>&);                                         \
  template void diag_backward<T>(const std::vector<Omega<T>>&, const DiagCache<T>&, T,            \
                                 std::vector<Omega<T>>&, DiagWork<T>&);                           \
  template void diag_chain<T>(const DiagParams<T>&, const std::vector<Omega<T>>&, DiagGrads<T>&); \
  template double diag_loss_grad<T>(const DiagParams<T>&, int, int, std::size_t, const T*,        \
                                    const T*, DiagGrads<T>&);                                     \
  template void diag_predict<T>(const std::vector<Omega<T>>&, int, int, std::size_t, const T*, T*);
ATTNLAB_INSTANTIATE_DIAG(float)
ATTNLAB_INSTANTIATE_DIAG(double)

}  // namespace attnlab::icl

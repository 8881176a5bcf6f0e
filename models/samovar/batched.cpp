#include "models/samovar/batched.h"

#include <immintrin.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>
#include <type_traits>
#include <unsupported/Eigen/SpecialFunctions>

#include "core/bgemm.h"
#include "core/error.h"
#include "core/mt_lanes.h"

namespace attnlab::samovar {

namespace {

using Idx = Eigen::Index;

// ---- kernels on feature-major (F, cols) column-major arrays -----------------------------------

// C (m x n, ldc) = A op(B) + beta C on the batched core. A is never transposed (bgemm packs a
// transposed A into a fresh buffer); m and k are split at kBgemmSmallLimit so that every call
// takes the small-matrix kernels, which allocate nothing. The k pieces are added in order.
template <class S>
void gemm(Trans tb, int m, int n, int k, const S* A, int lda, const S* B, int ldb, S beta, S* C,
          int ldc) {
  for (int i0 = 0; i0 < m; i0 += kBgemmSmallLimit) {
    const int mb = std::min(kBgemmSmallLimit, m - i0);
    for (int p0 = 0; p0 < k; p0 += kBgemmSmallLimit) {
      const int kb = std::min(kBgemmSmallLimit, k - p0);
      const S* Ap = A + i0 + Idx(p0) * lda;
      const S* Bp = tb == Trans::No ? B + p0 : B + Idx(p0) * ldb;
      bgemm<S>(Trans::No, tb, mb, n, kb, S(1), Ap, lda, 0, Bp, ldb, 0, p0 == 0 ? beta : S(1),
               C + i0, ldc, 0, 1);
    }
  }
}

// Y (out, cols) = Wt X + b, Wt = W^T (out, in) stored, X (in, cols).
template <class S>
void linear(const Mat<S>& Wt, const VecT<S>& b, const S* X, int cols, S* Y) {
  const int out = static_cast<int>(Wt.rows()), in = static_cast<int>(Wt.cols());
  gemm<S>(Trans::No, out, cols, in, Wt.data(), out, X, in, S(0), Y, out);
  for (Idx j = 0; j < cols; ++j)
    for (int i = 0; i < out; ++i) Y[j * out + i] += b[i];
}

// Backward of linear: dW += X dY^T, db += row sums of dY, and (when dX) dX = W dY (+ dX with
// accumulate). W (in, out).
template <class S>
void linear_backward(const Mat<S>& W, const S* X, const S* dY, int cols, Mat<S>& dW, VecT<S>& db,
                     S* dX, bool accumulate) {
  const int in = static_cast<int>(W.rows()), out = static_cast<int>(W.cols());
  gemm<S>(Trans::Yes, in, out, cols, X, in, dY, out, S(1), dW.data(), in);
  for (Idx j = 0; j < cols; ++j)
    for (int i = 0; i < out; ++i) db[i] += dY[j * out + i];
  if (dX != nullptr)
    gemm<S>(Trans::No, in, cols, out, W.data(), in, dY, out, accumulate ? S(1) : S(0), dX, in);
}

// RMSNorm of each of `groups` contiguous blocks of every column: Y = X rsqrt(mean(x^2) + eps) g.
// X, Y (F, cols); inv (groups, cols). The blocks are units of gs = F / groups contiguous numbers,
// unit u at X + u gs with gain block u % groups. The sums are Eigen's vectorised reductions (a
// tree over SIMD lanes, not one latency-bound chain per unit).
template <class S>
void rmsnorm(const S* X, const VecT<S>& gain, double eps, int groups, int F, int cols, S* Y,
             S* inv) {
  using A = Eigen::Array<S, Eigen::Dynamic, 1>;
  const int gs = F / groups;
  const Idx units = Idx(cols) * groups;
  for (Idx u = 0; u < units; ++u) {
    const Eigen::Map<const A> x(X + u * gs, gs), g(gain.data() + (u % groups) * gs, gs);
    const S r = S(1) / std::sqrt(x.square().sum() / S(gs) + S(eps));
    inv[u] = r;
    Eigen::Map<A>(Y + u * gs, gs) = r * x * g;
  }
}

// dX (+)= d/dX, dgain += d/dgain of rmsnorm, given dY (F, cols).
template <class S>
void rmsnorm_backward(const S* X, const VecT<S>& gain, const S* inv, int groups, int F, int cols,
                      const S* dY, S* dX, bool accumulate, VecT<S>& dgain) {
  using A = Eigen::Array<S, Eigen::Dynamic, 1>;
  const int gs = F / groups;
  const Idx units = Idx(cols) * groups;
  for (Idx u = 0; u < units; ++u) {
    const Idx h = u % groups;
    const Eigen::Map<const A> x(X + u * gs, gs), dy(dY + u * gs, gs), g(gain.data() + h * gs, gs);
    Eigen::Map<A> dg(dgain.data() + h * gs, gs), dx(dX + u * gs, gs);
    const S r = inv[u];
    dg += dy * (r * x);                          // n = r x
    const S m = (dy * g * x).sum() * r / S(gs);  // mean(dn .* n), dn = dY .* g
    if (accumulate)
      dx += r * (dy * g - (m * r) * x);
    else
      dx = r * (dy * g - (m * r) * x);
  }
}

#if defined(__AVX512F__) && defined(ATTNLAB_HAVE_LIBMVEC)
// glibc's libmvec: erf of 8 doubles (GLIBC_2.35), within a few ulps of std::erf.
extern "C" __m512d _ZGVeN8v_erf(__m512d x);  // NOLINT(bugprone-reserved-identifier)
#endif

// Exact (erf) GELU: a = x Phi(x); Phi is kept for the backward. float uses Eigen's vectorised
// erf; double uses glibc's vector erf (libmvec) when built for AVX-512, else std::erf.
template <class S>
void gelu(const S* h, Idx n, S* phi, S* a) {
  using A = Eigen::Array<S, Eigen::Dynamic, 1>;
  Eigen::Map<const A> x(h, n);
  Eigen::Map<A> ph(phi, n), y(a, n);
  if constexpr (std::is_same_v<S, float>) {
    ph = S(0.5) * (S(1) + (x * (S(1) / std::numbers::sqrt2_v<S>)).erf());
  } else {
    Idx i = 0;
#if defined(__AVX512F__) && defined(ATTNLAB_HAVE_LIBMVEC)
    const __m512d c = _mm512_set1_pd(1.0 / std::numbers::sqrt2), half = _mm512_set1_pd(0.5);
    for (; i + 8 <= n; i += 8) {
      const __m512d e = _ZGVeN8v_erf(_mm512_mul_pd(_mm512_loadu_pd(h + i), c));
      _mm512_storeu_pd(phi + i, _mm512_fmadd_pd(half, e, half));  // 0.5 (1 + erf)
    }
#endif
    for (; i < n; ++i) phi[i] = S(0.5) * (S(1) + std::erf(h[i] / std::numbers::sqrt2_v<S>));
  }
  y = x * ph;
}

// dh = da .* (Phi(h) + h phi(h)), in place on da (vectorised exp).
template <class S>
void gelu_backward(const S* h, const S* phi, Idx n, S* da) {
  using A = Eigen::Array<S, Eigen::Dynamic, 1>;
  const S inv_sqrt_2pi = S(1) / std::sqrt(S(2) * std::numbers::pi_v<S>);
  Eigen::Map<const A> x(h, n), ph(phi, n);
  Eigen::Map<A> d(da, n);
  d *= ph + x * inv_sqrt_2pi * (S(-0.5) * x * x).exp();
}

// Causal linear attention of one (sequence, head) in the state form: q, k, v, o point at token
// 0's d features, tokens ld apart; state: 3 d^2 scratch (run-time d only).
//   S_t = S_{t-1} + k_t^T v_t,  o_t = q_t S_t.
// Kd > 0 fixes d at compile time: the states are Eigen fixed-size matrices in registers/L1,
// updated by rank-1 column updates and read by column-major matrix-vector products (no
// horizontal sums). Kd = 0 takes the run-time d with plain loops.
template <class S, int Kd>
void attention_d(const S* q, const S* k, const S* v, S* o, int T, int d_rt, int ld, S* state) {
  if constexpr (Kd > 0) {
    using Vk = Eigen::Matrix<S, Kd, 1>;
    Eigen::Matrix<S, Kd, Kd> st = Eigen::Matrix<S, Kd, Kd>::Zero();  // S^T: st(b, a) = S[a][b]
    for (int t = 0; t < T; ++t) {
      const Eigen::Map<const Vk> kt(k + Idx(t) * ld), vt(v + Idx(t) * ld), qt(q + Idx(t) * ld);
      st += vt.lazyProduct(kt.transpose());
      Eigen::Map<Vk>(o + Idx(t) * ld) = st.lazyProduct(qt);  // o_t = S_t^T q_t
    }
  } else {
    const int d = d_rt;
    std::fill(state, state + d * d, S(0));
    for (int t = 0; t < T; ++t) {
      const S* kt = k + Idx(t) * ld;
      const S* vt = v + Idx(t) * ld;
      const S* qt = q + Idx(t) * ld;
      S* ot = o + Idx(t) * ld;
      for (int a = 0; a < d; ++a)
        for (int b = 0; b < d; ++b) state[a * d + b] += kt[a] * vt[b];
      for (int b = 0; b < d; ++b) ot[b] = 0;
      for (int a = 0; a < d; ++a)
        for (int b = 0; b < d; ++b) ot[b] += qt[a] * state[a * d + b];
    }
  }
}

// Backward of attention; accumulates into dq, dk, dv. With R_t = sum_{tau >= t} q_tau^T do_tau:
//   dq_t = S_t do_t,  dk_t = R_t v_t,  dv_t = R_t^T k_t   (R and R^T both kept with Kd fixed).
template <class S, int Kd>
void attention_backward_d(const S* q, const S* k, const S* v, const S* dout, S* dq, S* dk, S* dv,
                          int T, int d_rt, int ld, S* state) {
  if constexpr (Kd > 0) {
    using Vk = Eigen::Matrix<S, Kd, 1>;
    using Mk = Eigen::Matrix<S, Kd, Kd>;
    Mk sm = Mk::Zero();  // S (a, b)
    for (int t = 0; t < T; ++t) {
      const Eigen::Map<const Vk> kt(k + Idx(t) * ld), vt(v + Idx(t) * ld), dt(dout + Idx(t) * ld);
      sm += kt.lazyProduct(vt.transpose());
      Eigen::Map<Vk>(dq + Idx(t) * ld) += sm.lazyProduct(dt);
    }
    Mk r = Mk::Zero(), rt = Mk::Zero();  // R (a, b) and R^T
    for (int t = T - 1; t >= 0; --t) {
      const Eigen::Map<const Vk> qt(q + Idx(t) * ld), kt(k + Idx(t) * ld), vt(v + Idx(t) * ld),
          dt(dout + Idx(t) * ld);
      r += qt.lazyProduct(dt.transpose());
      rt += dt.lazyProduct(qt.transpose());
      Eigen::Map<Vk>(dk + Idx(t) * ld) += r.lazyProduct(vt);
      Eigen::Map<Vk>(dv + Idx(t) * ld) += rt.lazyProduct(kt);
    }
  } else {
    const int d = d_rt;
    std::fill(state, state + d * d, S(0));
    for (int t = 0; t < T; ++t) {
      const S* kt = k + Idx(t) * ld;
      const S* vt = v + Idx(t) * ld;
      const S* dot = dout + Idx(t) * ld;
      S* dqt = dq + Idx(t) * ld;
      for (int a = 0; a < d; ++a) {
        S* row = state + a * d;
        S acc = 0;
        for (int b = 0; b < d; ++b) {
          row[b] += kt[a] * vt[b];
          acc += row[b] * dot[b];
        }
        dqt[a] += acc;
      }
    }
    std::fill(state, state + d * d, S(0));
    for (int t = T - 1; t >= 0; --t) {
      const S* qt = q + Idx(t) * ld;
      const S* kt = k + Idx(t) * ld;
      const S* vt = v + Idx(t) * ld;
      const S* dot = dout + Idx(t) * ld;
      S* dkt = dk + Idx(t) * ld;
      S* dvt = dv + Idx(t) * ld;
      for (int a = 0; a < d; ++a) {
        S* row = state + a * d;
        S acc = 0;
        for (int b = 0; b < d; ++b) {
          row[b] += qt[a] * dot[b];
          acc += row[b] * vt[b];
          dvt[b] += row[b] * kt[a];
        }
        dkt[a] += acc;
      }
    }
  }
}

template <class S>
void attention(const S* q, const S* k, const S* v, S* o, int T, int d, int ld, S* state) {
  switch (d) {
    case 4:
      return attention_d<S, 4>(q, k, v, o, T, d, ld, state);
    case 8:
      return attention_d<S, 8>(q, k, v, o, T, d, ld, state);
    case 16:
      return attention_d<S, 16>(q, k, v, o, T, d, ld, state);
    case 32:
      return attention_d<S, 32>(q, k, v, o, T, d, ld, state);
    default:
      return attention_d<S, 0>(q, k, v, o, T, d, ld, state);
  }
}

template <class S>
void attention_backward(const S* q, const S* k, const S* v, const S* dout, S* dq, S* dk, S* dv,
                        int T, int d, int ld, S* state) {
  switch (d) {
    case 4:
      return attention_backward_d<S, 4>(q, k, v, dout, dq, dk, dv, T, d, ld, state);
    case 8:
      return attention_backward_d<S, 8>(q, k, v, dout, dq, dk, dv, T, d, ld, state);
    case 16:
      return attention_backward_d<S, 16>(q, k, v, dout, dq, dk, dv, T, d, ld, state);
    case 32:
      return attention_backward_d<S, 32>(q, k, v, dout, dq, dk, dv, T, d, ld, state);
    default:
      return attention_backward_d<S, 0>(q, k, v, dout, dq, dk, dv, T, d, ld, state);
  }
}

template <class S>
void multiply(S* x, const S* mask, Idx n) {
  for (Idx i = 0; i < n; ++i) x[i] *= mask[i];
}

}  // namespace

// ---- buffers -----------------------------------------------------------------------------------

template <class S>
struct BatchModel<S>::Work {
  using M = Mat<S>;
  Config cfg;
  int C, P, s, T, D, h, d, Dh4;
  int cap = 0;  // samples the buffers hold
  int n = 0, N = 0, R = 0, NP = 0;
  bool drop = false;

  std::vector<double> mu, sigma;  // (N) RevIN statistics
  Vector xbuf;                    // (L) one channel of one window
  M Z, Mix, dMix;                 // (P s, N): RevIN units, left zero-padded; G z + g
  M ex_pre, en_pre, ex_inv, en_inv, tmpP, dtmpP, dex, den;  // (D, NP), inv (1, NP)
  M emb, demb;                                              // (D, C T)
  M tok_mask, X0, pre_inv;                                  // (D, R), (1, R)
  // SAMoVAR
  std::vector<M> mlp_in, mlp_inv, mlp_norm, mlp_h, mlp_phi, mlp_a, mlp_mask;
  M X_mlp, var_inv, xt, mix, y;
  std::vector<M> q_pre, q_inv, Q, v_pre, v_inv, V, K, att_mask, O;
  M lu_w, lu_wt;  // (d, D): head h's W_h, W_h^T in columns h d .. h d + d - 1
  // LinTrans, per block
  std::vector<M> lx, l_inv_a, l_xn, l_kmask, l_xk, lQ, lK, lV, l_attn, l_omask, l_mid, l_inv_m,
      l_xnm, l_h, l_phi, l_a, l_mmask;
  // readout
  M y_en, fin_inv, fin, pred, dpred;  // (D, NP), (1, NP), (D, NP), (s, NP)
  // backward scratch
  M dY, dX, dxt, dmix, dO, dOnext, dQ, dK, dV, dq_pre, dv_pre, dtmp, d4, dW;
  std::vector<S> state;
  std::unique_ptr<MtLanes8> lanes;  // dropout streams of 8 samples
  std::vector<S> stage;             // one mask of 8 sequences, word-major (8 lanes per word)
  // transposed weights for the forward GEMMs, filled in call order
  std::vector<M> wt;
  std::size_t wt_next = 0;

  explicit Work(const Config& c) : cfg(c) {
    C = c.channels;
    P = c.patches();
    s = c.patch;
    T = c.tokens();
    D = c.width;
    h = c.heads;
    d = c.head_dim();
    Dh4 = 4 * D;
    if (c.width % c.heads != 0) throw InputError("samovar: width must be a multiple of heads");
    state.resize(3 * static_cast<std::size_t>(D) * D);  // S, R, R^T of one head
    emb.resize(D, Idx(C) * T);
    demb.resize(D, Idx(C) * T);
    lu_w.resize(d, D);
    lu_wt.resize(d, D);
    dW.resize(d, d);
  }

  const M& transposed(const M& W) {
    if (wt_next == wt.size()) wt.emplace_back();
    M& t = wt[wt_next++];
    t = W.transpose();
    return t;
  }

  void reserve(int samples) {
    if (samples <= cap) return;
    cap = samples;
    const Idx Nc = Idx(cap) * C, Rc = Nc * T, NPc = Nc * P;
    auto sz = [](M& m, Idx r, Idx c) { m.resize(r, c); };
    mu.resize(static_cast<std::size_t>(Nc));
    sigma.resize(static_cast<std::size_t>(Nc));
    sz(Z, Idx(P) * s, Nc);
    sz(Mix, Idx(P) * s, Nc);
    sz(dMix, Idx(P) * s, Nc);
    for (M* m : {&ex_pre, &en_pre, &tmpP, &dtmpP, &dex, &den, &y_en, &fin}) sz(*m, D, NPc);
    for (M* m : {&ex_inv, &en_inv, &fin_inv}) sz(*m, 1, NPc);
    sz(pred, s, NPc);
    sz(dpred, s, NPc);
    for (M* m : {&tok_mask, &X0, &X_mlp, &xt, &mix, &y, &dY, &dX, &dxt, &dmix, &dO, &dOnext, &dQ,
                 &dK, &dV, &dq_pre, &dv_pre, &dtmp})
      sz(*m, D, Rc);
    for (M* m : {&pre_inv, &var_inv}) sz(*m, 1, Rc);
    sz(d4, Dh4, Rc);
    const auto B = static_cast<std::size_t>(cfg.mlp_layers);
    const auto L = static_cast<std::size_t>(cfg.attn_layers);
    const bool lin = cfg.arch == Arch::LinTrans;
    auto vec = [&](std::vector<M>& v, std::size_t count, Idx rows, Idx cols) {
      v.resize(count);
      for (M& m : v) m.resize(rows, cols);
    };
    vec(mlp_in, lin ? 0 : B, D, Rc);
    vec(mlp_inv, lin ? 0 : B, 1, Rc);
    vec(mlp_norm, lin ? 0 : B, D, Rc);
    vec(mlp_h, lin ? 0 : B, Dh4, Rc);
    vec(mlp_phi, lin ? 0 : B, Dh4, Rc);
    vec(mlp_a, lin ? 0 : B, Dh4, Rc);
    vec(mlp_mask, lin ? 0 : B, D, Rc);
    const bool qv = !lin && !cfg.fixed_qv;
    vec(q_pre, qv ? L : 0, D, Rc);
    vec(q_inv, qv ? L : 0, h, Rc);
    vec(v_pre, qv ? L : 0, D, Rc);
    vec(v_inv, qv ? L : 0, h, Rc);
    vec(Q, lin ? 0 : L, D, Rc);
    vec(V, lin ? 0 : L, D, Rc);
    vec(K, !lin && cfg.learned_keys ? L : 0, D, Rc);
    vec(att_mask, lin ? 0 : L, D, Rc);
    vec(O, lin ? 0 : L, D, Rc);
    const std::size_t nl = lin ? L : 0;
    for (auto* v :
         {&lx, &l_xn, &l_kmask, &l_xk, &lQ, &lK, &lV, &l_attn, &l_omask, &l_mid, &l_xnm, &l_mmask})
      vec(*v, nl, D, Rc);
    vec(l_inv_a, nl, 1, Rc);
    vec(l_inv_m, nl, 1, Rc);
    vec(l_h, nl, Dh4, Rc);
    vec(l_phi, nl, Dh4, Rc);
    vec(l_a, nl, Dh4, Rc);
  }
};

// ---- forward ----------------------------------------------------------------------------------

namespace {

template <class S, class W>
void prepare_inputs(W& w, const BatchView& b) {
  const int L = w.cfg.input_len;
  const Idx Ps = Idx(w.P) * w.s;
  for (int i = 0; i < w.n; ++i) {
    const Matrix& win = *b.windows[static_cast<std::size_t>(i)];
    if (win.rows() != L || win.cols() != w.C)
      throw InputError("samovar batch: window " + std::to_string(i) + " must be (input_len, " +
                       "channels) = (" + std::to_string(L) + ", " + std::to_string(w.C) + ")");
    for (int c = 0; c < w.C; ++c) {
      const Idx q = Idx(i) * w.C + c;
      const double keep = b.keep.empty() ? 1.0 : b.keep[static_cast<std::size_t>(c)];
      w.xbuf = win.col(c) * keep;
      const Revin r = revin_stats(w.xbuf, w.s);
      w.mu[static_cast<std::size_t>(q)] = r.mu;
      w.sigma[static_cast<std::size_t>(q)] = r.sigma;
      S* z = w.Z.data() + q * Ps;
      for (Idx t = 0; t < Ps - L; ++t) z[t] = 0;  // left zero-padding by P s - L
      for (Idx t = 0; t < L; ++t) z[Ps - L + t] = S((w.xbuf[t] - r.mu) / r.sigma);
    }
  }
}

}  // namespace

template <class S>
BatchModel<S>::BatchModel(const Config& cfg) : w_(std::make_unique<Work>(cfg)) {}
template <class S>
BatchModel<S>::~BatchModel() = default;
template <class S>
BatchModel<S>::BatchModel(BatchModel&&) noexcept = default;
template <class S>
BatchModel<S>& BatchModel<S>::operator=(BatchModel&&) noexcept = default;
template <class S>
const Config& BatchModel<S>::config() const {
  return w_->cfg;
}

namespace {

// The whole forward over w.n samples (inputs prepared, masks drawn); fills w.pred (s, NP).
template <class S, class W>
void forward_all(W& w, const ParamsT<S>& p) {
  using M = Mat<S>;
  const Config& cfg = w.cfg;
  const int D = w.D, T = w.T, P = w.P, s = w.s, C = w.C, R = w.R, NP = w.NP, N = w.N;
  const bool lin = cfg.arch == Arch::LinTrans;
  w.wt_next = 0;
  // Channel mixing of the Ex tokens: Mix(:, i C + c) = sum_c' G(c, c') Z(:, i C + c') + g(c).
  const Idx Ps = Idx(P) * s;
  for (int i = 0; i < w.n; ++i)
    for (int c = 0; c < C; ++c) {
      S* mix = w.Mix.data() + (Idx(i) * C + c) * Ps;
      for (Idx t = 0; t < Ps; ++t) {
        S acc = 0;
        for (int c2 = 0; c2 < C; ++c2) acc += w.Z(t, Idx(i) * C + c2) * p.G(c, c2);
        mix[t] = acc + p.g[c];
      }
    }
  // Tokenisers on the patches (s, N P): u = RMSNorm_ex(Mix W_ex + b_ex), e = RMSNorm_en(z W_en +
  // b_en), interleaved [u_0, e_0, u_1, e_1, ...] into X0.
  linear<S>(w.transposed(p.W_ex), p.b_ex, w.Mix.data(), NP, w.ex_pre.data());
  rmsnorm<S>(w.ex_pre.data(), p.gain_ex, kRmsEps, 1, D, NP, w.tmpP.data(), w.ex_inv.data());
  for (Idx q = 0; q < N; ++q)
    for (int n = 0; n < P; ++n) w.X0.col(q * T + 2 * n) = w.tmpP.col(q * P + n);
  linear<S>(w.transposed(p.W_en), p.b_en, w.Z.data(), NP, w.en_pre.data());
  rmsnorm<S>(w.en_pre.data(), p.gain_en, kRmsEps, 1, D, NP, w.tmpP.data(), w.en_inv.data());
  for (Idx q = 0; q < N; ++q)
    for (int n = 0; n < P; ++n) w.X0.col(q * T + 2 * n + 1) = w.tmpP.col(q * P + n);
  // dropout(tokens) + embeddings; emb column c T + tau holds the sum for (channel c, token tau).
  if (w.drop) multiply(w.X0.data(), w.tok_mask.data(), Idx(D) * R);
  for (int c = 0; c < C; ++c)
    for (int tau = 0; tau < T; ++tau) {
      auto e = w.emb.col(Idx(c) * T + tau);
      if (lin) {
        e = p.E_pos.row(tau).transpose() + p.E_ch.row(Idx(c) * T + tau).transpose();
      } else {
        e = p.E_pos.row(tau / 2).transpose() + p.E_ch.row(Idx(c) * T + tau).transpose() +
            p.E_type.row(tau % 2).transpose() + p.E_chtype.row(2 * c + tau % 2).transpose();
      }
    }
  for (Idx q = 0; q < N; ++q) w.X0.middleCols(q * T, T) += w.emb.middleCols((q % C) * T, T);
  // Pre-norm.
  const std::size_t B = lin ? 0 : static_cast<std::size_t>(cfg.mlp_layers);
  const std::size_t L = static_cast<std::size_t>(cfg.attn_layers);
  M& X = lin ? w.lx[0] : (B > 0 ? w.mlp_in[0] : w.X_mlp);
  rmsnorm<S>(w.X0.data(), p.gain_pre, kRmsEps, 1, D, R, X.data(), w.pre_inv.data());
  const Idx DR = Idx(D) * R, D4R = Idx(w.Dh4) * R;
  if (lin) {
    for (std::size_t l = 0; l < L; ++l) {  // the LinTrans block of models/samovar/lintrans.h
      const LinBlockT<S>& b = p.lin[l];
      M& out = l + 1 < L ? w.lx[l + 1] : w.y;
      rmsnorm<S>(w.lx[l].data(), b.gain_attn, kRmsEps, 1, D, R, w.l_xn[l].data(),
                 w.l_inv_a[l].data());                                           // xn
      linear<S>(w.transposed(b.Wq), b.bq, w.l_xn[l].data(), R, w.lQ[l].data());  // Q
      const S* xk = w.l_xn[l].data();
      if (w.drop) {  // K = dropout(xn) W_k + b_k
        w.l_xk[l].leftCols(R) = w.l_xn[l].leftCols(R);
        multiply(w.l_xk[l].data(), w.l_kmask[l].data(), DR);
        xk = w.l_xk[l].data();
      }
      linear<S>(w.transposed(b.Wk), b.bk, xk, R, w.lK[l].data());
      linear<S>(w.transposed(b.Wv), b.bv, w.l_xn[l].data(), R, w.lV[l].data());  // V
      for (Idx q = 0; q < N; ++q)
        for (int hh = 0; hh < w.h; ++hh) {
          const Idx o = q * T * D + hh * w.d;
          attention<S>(w.lQ[l].data() + o, w.lK[l].data() + o, w.lV[l].data() + o,
                       w.l_attn[l].data() + o, T, w.d, D, w.state.data());
        }
      linear<S>(w.transposed(b.Wc), b.bc, w.l_attn[l].data(), R, w.dtmp.data());
      if (w.drop) multiply(w.dtmp.data(), w.l_omask[l].data(), DR);
      w.l_mid[l].leftCols(R) =
          w.lx[l].leftCols(R) + w.dtmp.leftCols(R);  // X_mid = X + dropout(attn W_c + b_c)
      rmsnorm<S>(w.l_mid[l].data(), b.gain_mlp, kRmsEps, 1, D, R, w.l_xnm[l].data(),
                 w.l_inv_m[l].data());
      linear<S>(w.transposed(b.W1), b.b1, w.l_xnm[l].data(), R, w.l_h[l].data());
      gelu<S>(w.l_h[l].data(), D4R, w.l_phi[l].data(), w.l_a[l].data());
      linear<S>(w.transposed(b.W2), b.b2, w.l_a[l].data(), R, w.dtmp.data());
      if (w.drop) multiply(w.dtmp.data(), w.l_mmask[l].data(), DR);
      out.leftCols(R) =
          w.l_mid[l].leftCols(R) + w.dtmp.leftCols(R);  // X_out = X_mid + dropout(MLP)
    }
  } else {
    for (std::size_t b = 0; b < B; ++b) {  // x <- x + dropout(W2 gelu(W1 RMSNorm(x) + b1) + b2)
      const MlpBlockT<S>& m = p.mlp[b];
      M& out = b + 1 < B ? w.mlp_in[b + 1] : w.X_mlp;
      rmsnorm<S>(w.mlp_in[b].data(), m.gain, kRmsEps, 1, D, R, w.mlp_norm[b].data(),
                 w.mlp_inv[b].data());
      linear<S>(w.transposed(m.W1), m.b1, w.mlp_norm[b].data(), R, w.mlp_h[b].data());
      gelu<S>(w.mlp_h[b].data(), D4R, w.mlp_phi[b].data(), w.mlp_a[b].data());
      linear<S>(w.transposed(m.W2), m.b2, w.mlp_a[b].data(), R, w.dtmp.data());
      if (w.drop) multiply(w.dtmp.data(), w.mlp_mask[b].data(), DR);
      out.leftCols(R) = w.mlp_in[b].leftCols(R) + w.dtmp.leftCols(R);
    }
    rmsnorm<S>(w.X_mlp.data(), p.gain_var, kRmsEps, 1, D, R, w.xt.data(), w.var_inv.data());
    // The aligned stack: q, v from x~; keys = x~, then each layer's output.
    w.mix.leftCols(R).setZero();
    const S* k_in = w.xt.data();
    for (std::size_t l = 0; l < L; ++l) {
      const AttnLayerT<S>& a = p.attn[l];
      if (cfg.fixed_qv) {
        for (Idx q = 0; q < N; ++q)
          for (int tau = 0; tau < T; ++tau) {
            const Idx row = (q % C) * T + tau;
            w.Q[l].col(q * T + tau) = a.Qfix.row(row).transpose();
            w.V[l].col(q * T + tau) = a.Vfix.row(row).transpose();
          }
      } else {
        linear<S>(w.transposed(a.Wq), a.bq, w.xt.data(), R, w.q_pre[l].data());
        rmsnorm<S>(w.q_pre[l].data(), a.gq, kHeadRmsEps, w.h, D, R, w.Q[l].data(),
                   w.q_inv[l].data());
        linear<S>(w.transposed(a.Wv), a.bv, w.xt.data(), R, w.v_pre[l].data());
        rmsnorm<S>(w.v_pre[l].data(), a.gv, kHeadRmsEps, w.h, D, R, w.V[l].data(),
                   w.v_inv[l].data());
      }
      const S* k = k_in;
      if (cfg.learned_keys) {
        linear<S>(w.transposed(a.Wk), a.bk, k_in, R, w.K[l].data());
        k = w.K[l].data();
      }
      for (Idx q = 0; q < N; ++q)
        for (int hh = 0; hh < w.h; ++hh) {
          const Idx o = q * T * D + hh * w.d;
          attention<S>(w.Q[l].data() + o, k + o, w.V[l].data() + o, w.O[l].data() + o, T, w.d, D,
                       w.state.data());
        }
      if (w.drop) multiply(w.O[l].data(), w.att_mask[l].data(), DR);  // o = dropout(attention)
      w.mix.leftCols(R) += w.O[l].leftCols(R);
      k_in = w.O[l].data();
    }
    // y = (sum_l o^(l)) W_o (+ x~): W_o = blockdiag(L_h U_h).
    for (int hh = 0; hh < w.h; ++hh) {
      const int d = w.d;
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) {
          double acc = 0;  // sum_k L(i, k) U(k, j), k <= min(i, j)
          for (int k = 0; k <= std::min(i, j); ++k) {
            const double Lik = k == i ? 1.0 : double(p.theta(Idx(hh) * d + i, k));
            const double Ukj = k == j ? softplus(double(p.theta(Idx(hh) * d + k, k)))
                                      : double(p.theta(Idx(hh) * d + k, j));
            acc += Lik * Ukj;
          }
          w.lu_w(i, Idx(hh) * d + j) = S(acc);
          w.lu_wt(j, Idx(hh) * d + i) = S(acc);
        }
      gemm<S>(Trans::No, d, R, d, w.lu_wt.data() + Idx(hh) * d * d, d, w.mix.data() + hh * d, D,
              S(0), w.y.data() + hh * d, D);
    }
    if (cfg.key_shortcut) w.y.leftCols(R) += w.xt.leftCols(R);
  }
  // Read out at the En tokens: pred = RMSNorm(y_en) W_out + b_out, (s, N P).
  for (Idx q = 0; q < N; ++q)
    for (int n = 0; n < P; ++n) w.y_en.col(q * P + n) = w.y.col(q * T + 2 * n + 1);
  rmsnorm<S>(w.y_en.data(), p.gain_final, kRmsEps, 1, D, NP, w.fin.data(), w.fin_inv.data());
  linear<S>(w.transposed(p.W_out), p.b_out, w.fin.data(), NP, w.pred.data());
}

// The masks of one sequence in the reference's order: the token mask, then (SAMoVAR) the MLP
// masks and the attention masks, or (LinTrans) per block the key, output and MLP masks.
template <class W>
auto sequence_masks(W& w) {
  std::vector<decltype(w.tok_mask.data())> m{w.tok_mask.data()};
  if (w.cfg.arch == Arch::LinTrans) {
    for (std::size_t l = 0; l < w.l_kmask.size(); ++l)
      for (auto* x : {&w.l_kmask[l], &w.l_omask[l], &w.l_mmask[l]}) m.push_back(x->data());
  } else {
    for (auto& x : w.mlp_mask) m.push_back(x.data());
    for (auto& x : w.att_mask) m.push_back(x.data());
  }
  return m;
}

// The smallest 64-bit word u with static_cast<double>(u) / 2^64 >= x (2^64 - 1 if none): the
// conversion is monotone, so uniform01's "r < x" is exactly "u < first_word_at_least(x)".
std::uint64_t first_word_at_least(double x) {
  auto at_least = [x](std::uint64_t u) {
    return static_cast<double>(u) / 18446744073709551616.0 >= x;
  };
  std::uint64_t lo = 0, hi = ~std::uint64_t{0};
  if (!at_least(hi)) return hi;
  while (lo < hi) {  // invariant: at_least(hi)
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (at_least(mid))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

// out[v] = scale where word[v] < drop_from (kept), else 0, for the 8 lanes.
template <class S>
void store_kept(const U64x8& word, std::uint64_t drop_from, S scale, S* out) {
#if defined(__AVX512F__)
  const __mmask8 kept = _mm512_cmplt_epu64_mask(
      reinterpret_cast<__m512i>(word), _mm512_set1_epi64(static_cast<long long>(drop_from)));
  if constexpr (std::is_same_v<S, float>)
    _mm256_storeu_ps(out, _mm256_maskz_mov_ps(kept, _mm256_set1_ps(scale)));
  else
    _mm512_storeu_pd(out, _mm512_maskz_mov_pd(kept, _mm512_set1_pd(scale)));
#else
  for (int v = 0; v < kMtLanes; ++v) out[v] = word[v] < drop_from ? scale : S(0);
#endif
}

// Every mask of the batch: sample i's from Rng(seeds[i]), per channel in sequence_masks order,
// each (T, D) matrix column-major as dropout_mask draws it. Groups of 8 samples draw from
// MtLanes8 (keep test on the integer word, see first_word_at_least), staged word-major and then
// transposed into each sequence's feature-major block. uniform01's redraw (a word that rounds to
// 1.0, probability 2^-54 per word) would put the lanes out of step, so a group where it happens
// is drawn again one sample at a time with the scalar engine.
template <class S, class W>
void draw_masks(W& w, const std::vector<std::uint64_t>& seeds) {
  const double keep = 1.0 - w.cfg.dropout;
  const S scale = S(1.0 / keep);
  const std::uint64_t drop_from = first_word_at_least(keep), redraw_from = first_word_at_least(1.0);
  const auto masks = sequence_masks(w);
  const int T = w.T, D = w.D, C = w.C, TD = T * D;
  if (!w.lanes) w.lanes = std::make_unique<MtLanes8>();
  w.stage.resize(static_cast<std::size_t>(TD) * kMtLanes);
  for (int g0 = 0; g0 < w.n; g0 += kMtLanes) {
    const int lanes = std::min(kMtLanes, w.n - g0);
    std::uint64_t s[kMtLanes];
    for (int v = 0; v < kMtLanes; ++v)
      s[v] = seeds[static_cast<std::size_t>(g0 + std::min(v, lanes - 1))];
    w.lanes->seed(s);
    U64x8 redraw = {};
    for (int c = 0; c < C; ++c)
      for (S* m : masks) {
        for (int kk = 0; kk < TD; ++kk) {  // word kk of this mask: token kk % T, feature kk / T
          const U64x8 word = w.lanes->next();
          redraw |= static_cast<U64x8>(word >= redraw_from);
          store_kept<S>(word, drop_from, scale, w.stage.data() + Idx(kk) * kMtLanes);
        }
        using Strided = Eigen::Map<const Mat<S>, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
        for (int v = 0; v < lanes; ++v)  // lane v's (T, D) mask into its (D, T) block
          Eigen::Map<Mat<S>>(m + (Idx(g0 + v) * C + c) * TD, D, T) =
              Strided(w.stage.data() + v, T, D,
                      Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(Idx(T) * kMtLanes, kMtLanes))
                  .transpose();
      }
    bool any = false;
    for (int v = 0; v < kMtLanes; ++v) any = any || redraw[v] != 0;
    if (!any) continue;
    for (int v = 0; v < lanes; ++v) {
      Rng rng(seeds[static_cast<std::size_t>(g0 + v)]);
      for (int c = 0; c < C; ++c)
        for (S* m : masks)
          for (int j = 0; j < D; ++j)
            for (int i = 0; i < T; ++i)
              m[((Idx(g0 + v) * C + c) * T + i) * D + j] = uniform01(rng) < keep ? scale : S(0);
    }
  }
}

template <class S, class W>
void begin(W& w, const BatchView& b, bool training) {
  const int n = static_cast<int>(b.windows.size());
  if (n == 0) throw InputError("samovar batch: no windows");
  if (!b.keep.empty() && static_cast<int>(b.keep.size()) != w.C)
    throw InputError("samovar batch: keep must have one factor per channel");
  w.reserve(n);
  w.n = n;
  w.N = n * w.C;
  w.R = w.N * w.T;
  w.NP = w.N * w.P;
  w.drop = training && !b.dropout_seeds.empty() && w.cfg.dropout > 0;
  if (w.drop) {
    if (static_cast<int>(b.dropout_seeds.size()) != n)
      throw InputError("samovar batch: one dropout stream per sample is needed");
    draw_masks<S>(w, b.dropout_seeds);
  }
  w.xbuf.resize(w.cfg.input_len);
  prepare_inputs<S>(w, b);
}

// ---- backward ---------------------------------------------------------------------------------

// The aligned stack, from dY = w.dY (D, R) to w.dxt.
template <class S, class W>
void stack_backward(W& w, const ParamsT<S>& p, ParamsT<S>& g) {
  const Config& cfg = w.cfg;
  const int D = w.D, T = w.T, R = w.R, N = w.N, C = w.C, d = w.d;
  const Idx DR = Idx(D) * R;
  const std::size_t L = static_cast<std::size_t>(cfg.attn_layers);
  if (cfg.key_shortcut)
    w.dxt.leftCols(R) = w.dY.leftCols(R);  // y = x~ + ...
  else
    w.dxt.leftCols(R).setZero();
  for (int hh = 0; hh < w.h; ++hh) {  // y_h = W_h^T mix_h
    gemm<S>(Trans::No, d, R, d, w.lu_w.data() + Idx(hh) * d * d, d, w.dY.data() + hh * d, D, S(0),
            w.dmix.data() + hh * d, D);
    gemm<S>(Trans::Yes, d, d, R, w.mix.data() + hh * d, D, w.dY.data() + hh * d, D, S(0),
            w.dW.data(), d);  // dW_h = mix_h dY_h^T
    // W = L U: dL = dW U^T, dU = L^T dW; theta's diagonal through softplus.
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) {
        const Idx ti = Idx(hh) * d + i;
        double acc = 0;
        if (i > j) {  // dL(i, j) = sum_k dW(i, k) U(j, k), k >= j
          for (int k = j; k < d; ++k) {
            const double Ujk = k == j ? softplus(double(p.theta(Idx(hh) * d + j, j)))
                                      : double(p.theta(Idx(hh) * d + j, k));
            acc += double(w.dW(i, k)) * Ujk;
          }
        } else {  // dU(i, j) = sum_k L(k, i) dW(k, j), k >= i
          for (int k = i; k < d; ++k) {
            const double Lki = k == i ? 1.0 : double(p.theta(Idx(hh) * d + k, i));
            acc += Lki * double(w.dW(k, j));
          }
          if (i == j) acc *= sigmoid(double(p.theta(ti, i)));
        }
        g.theta(ti, j) += S(acc);
      }
  }
  for (std::size_t l = L; l-- > 0;) {
    const AttnLayerT<S>& a = p.attn[l];
    AttnLayerT<S>& ga = g.attn[l];
    if (l + 1 < L)
      w.dO.leftCols(R) = w.dmix.leftCols(R) + w.dOnext.leftCols(R);
    else
      w.dO.leftCols(R) = w.dmix.leftCols(R);
    if (w.drop) multiply(w.dO.data(), w.att_mask[l].data(), DR);  // o = dropout(attn)
    w.dQ.leftCols(R).setZero();
    w.dK.leftCols(R).setZero();
    w.dV.leftCols(R).setZero();
    const S* k = cfg.learned_keys ? w.K[l].data() : (l == 0 ? w.xt.data() : w.O[l - 1].data());
    for (Idx q = 0; q < N; ++q)
      for (int hh = 0; hh < w.h; ++hh) {
        const Idx o = q * T * D + hh * d;
        attention_backward<S>(w.Q[l].data() + o, k + o, w.V[l].data() + o, w.dO.data() + o,
                              w.dQ.data() + o, w.dK.data() + o, w.dV.data() + o, T, d, D,
                              w.state.data());
      }
    // k = k_in (W_k = I), or k = k_in W_k + b_k; k_in = x~ (l = 0) or o^(l-1).
    S* dk_in = w.dK.data();
    if (cfg.learned_keys) {
      const S* k_in = l == 0 ? w.xt.data() : w.O[l - 1].data();
      linear_backward<S>(a.Wk, k_in, w.dK.data(), R, ga.Wk, ga.bk, w.dtmp.data(), false);
      dk_in = w.dtmp.data();
    }
    if (l > 0)
      std::copy(dk_in, dk_in + DR, w.dOnext.data());
    else
      for (Idx i = 0; i < DR; ++i) w.dxt.data()[i] += dk_in[i];
    if (cfg.fixed_qv) {
      for (Idx q = 0; q < N; ++q)
        for (int tau = 0; tau < T; ++tau) {
          const Idx row = (q % C) * T + tau;
          ga.Qfix.row(row) += w.dQ.col(q * T + tau).transpose();
          ga.Vfix.row(row) += w.dV.col(q * T + tau).transpose();
        }
      continue;
    }
    rmsnorm_backward<S>(w.q_pre[l].data(), a.gq, w.q_inv[l].data(), w.h, D, R, w.dQ.data(),
                        w.dq_pre.data(), false, ga.gq);
    rmsnorm_backward<S>(w.v_pre[l].data(), a.gv, w.v_inv[l].data(), w.h, D, R, w.dV.data(),
                        w.dv_pre.data(), false, ga.gv);
    linear_backward<S>(a.Wq, w.xt.data(), w.dq_pre.data(), R, ga.Wq, ga.bq, w.dxt.data(), true);
    linear_backward<S>(a.Wv, w.xt.data(), w.dv_pre.data(), R, ga.Wv, ga.bv, w.dxt.data(), true);
  }
}

// One LinTrans block backward: dY = w.dY (D, R) at its output -> w.dY at its input.
template <class S, class W>
void lin_block_backward(W& w, std::size_t l, const LinBlockT<S>& b, LinBlockT<S>& g) {
  const int D = w.D, T = w.T, R = w.R, N = w.N, d = w.d;
  const Idx DR = Idx(D) * R, D4R = Idx(w.Dh4) * R;
  // X_out = X_mid + mask_m .* (a W_2 + b_2): dX_mid = dY + the MLP branch.
  w.dtmp.leftCols(R) = w.dY.leftCols(R);
  if (w.drop) multiply(w.dtmp.data(), w.l_mmask[l].data(), DR);
  linear_backward<S>(b.W2, w.l_a[l].data(), w.dtmp.data(), R, g.W2, g.b2, w.d4.data(), false);
  gelu_backward<S>(w.l_h[l].data(), w.l_phi[l].data(), D4R, w.d4.data());
  linear_backward<S>(b.W1, w.l_xnm[l].data(), w.d4.data(), R, g.W1, g.b1, w.dtmp.data(), false);
  rmsnorm_backward<S>(w.l_mid[l].data(), b.gain_mlp, w.l_inv_m[l].data(), 1, D, R, w.dtmp.data(),
                      w.dY.data(), true, g.gain_mlp);  // dY is now dX_mid
  // X_mid = X + mask_a .* (attn W_c + b_c): dX = dX_mid + the attention branch.
  w.dtmp.leftCols(R) = w.dY.leftCols(R);
  if (w.drop) multiply(w.dtmp.data(), w.l_omask[l].data(), DR);
  linear_backward<S>(b.Wc, w.l_attn[l].data(), w.dtmp.data(), R, g.Wc, g.bc, w.dO.data(), false);
  w.dQ.leftCols(R).setZero();
  w.dK.leftCols(R).setZero();
  w.dV.leftCols(R).setZero();
  for (Idx q = 0; q < N; ++q)
    for (int hh = 0; hh < w.h; ++hh) {
      const Idx o = q * T * D + hh * d;
      attention_backward<S>(w.lQ[l].data() + o, w.lK[l].data() + o, w.lV[l].data() + o,
                            w.dO.data() + o, w.dQ.data() + o, w.dK.data() + o, w.dV.data() + o, T,
                            d, D, w.state.data());
    }
  // Q, V from xn; K from dropout(xn).
  const S* xk = w.drop ? w.l_xk[l].data() : w.l_xn[l].data();
  linear_backward<S>(b.Wk, xk, w.dK.data(), R, g.Wk, g.bk, w.dtmp.data(), false);
  if (w.drop) multiply(w.dtmp.data(), w.l_kmask[l].data(), DR);
  linear_backward<S>(b.Wq, w.l_xn[l].data(), w.dQ.data(), R, g.Wq, g.bq, w.dtmp.data(), true);
  linear_backward<S>(b.Wv, w.l_xn[l].data(), w.dV.data(), R, g.Wv, g.bv, w.dtmp.data(), true);
  rmsnorm_backward<S>(w.lx[l].data(), b.gain_attn, w.l_inv_a[l].data(), 1, D, R, w.dtmp.data(),
                      w.dY.data(), true, g.gain_attn);
}

// From w.dpred (s, NP) to every parameter gradient.
template <class S, class W>
void backward_all(W& w, const ParamsT<S>& p, ParamsT<S>& g) {
  const Config& cfg = w.cfg;
  const int D = w.D, T = w.T, P = w.P, s = w.s, C = w.C, R = w.R, NP = w.NP, N = w.N;
  const bool lin = cfg.arch == Arch::LinTrans;
  const Idx DR = Idx(D) * R;
  // pred = fin W_out + b_out; fin = RMSNorm(y_en).
  linear_backward<S>(p.W_out, w.fin.data(), w.dpred.data(), NP, g.W_out, g.b_out, w.dtmpP.data(),
                     false);
  rmsnorm_backward<S>(w.y_en.data(), p.gain_final, w.fin_inv.data(), 1, D, NP, w.dtmpP.data(),
                      w.dex.data(), false, g.gain_final);  // dex holds d y_en for now
  w.dY.leftCols(R).setZero();
  for (Idx q = 0; q < N; ++q)
    for (int n = 0; n < P; ++n) w.dY.col(q * T + 2 * n + 1) = w.dex.col(q * P + n);
  const std::size_t L = static_cast<std::size_t>(cfg.attn_layers);
  const std::size_t B = lin ? 0 : static_cast<std::size_t>(cfg.mlp_layers);
  if (lin) {
    for (std::size_t l = L; l-- > 0;) lin_block_backward<S>(w, l, p.lin[l], g.lin[l]);
    w.dX.leftCols(R) = w.dY.leftCols(R);
  } else {
    stack_backward<S>(w, p, g);
    rmsnorm_backward<S>(w.X_mlp.data(), p.gain_var, w.var_inv.data(), 1, D, R, w.dxt.data(),
                        w.dX.data(), false, g.gain_var);  // x~ = RMSNorm_VAR(x)
    for (std::size_t b = B; b-- > 0;) {                   // x_out = x_in + mask .* (a W2 + b2)
      const MlpBlockT<S>& m = p.mlp[b];
      MlpBlockT<S>& gm = g.mlp[b];
      w.dtmp.leftCols(R) = w.dX.leftCols(R);
      if (w.drop) multiply(w.dtmp.data(), w.mlp_mask[b].data(), DR);
      linear_backward<S>(m.W2, w.mlp_a[b].data(), w.dtmp.data(), R, gm.W2, gm.b2, w.d4.data(),
                         false);
      gelu_backward<S>(w.mlp_h[b].data(), w.mlp_phi[b].data(), Idx(w.Dh4) * R, w.d4.data());
      linear_backward<S>(m.W1, w.mlp_norm[b].data(), w.d4.data(), R, gm.W1, gm.b1, w.dtmp.data(),
                         false);
      rmsnorm_backward<S>(w.mlp_in[b].data(), m.gain, w.mlp_inv[b].data(), 1, D, R, w.dtmp.data(),
                          w.dX.data(), true, gm.gain);
    }
  }
  // Pre-norm, embeddings, token dropout.
  rmsnorm_backward<S>(w.X0.data(), p.gain_pre, w.pre_inv.data(), 1, D, R, w.dX.data(),
                      w.dtmp.data(), false, g.gain_pre);
  w.demb.setZero();
  for (Idx q = 0; q < N; ++q) w.demb.middleCols((q % C) * T, T) += w.dtmp.middleCols(q * T, T);
  for (int c = 0; c < C; ++c)
    for (int tau = 0; tau < T; ++tau) {
      const auto e = w.demb.col(Idx(c) * T + tau).transpose();
      g.E_ch.row(Idx(c) * T + tau) += e;
      if (lin) {
        g.E_pos.row(tau) += e;
      } else {
        g.E_pos.row(tau / 2) += e;
        g.E_type.row(tau % 2) += e;
        g.E_chtype.row(2 * c + tau % 2) += e;
      }
    }
  if (w.drop) multiply(w.dtmp.data(), w.tok_mask.data(), DR);
  // Tokenisers.
  for (Idx q = 0; q < N; ++q)
    for (int n = 0; n < P; ++n) w.tmpP.col(q * P + n) = w.dtmp.col(q * T + 2 * n);
  rmsnorm_backward<S>(w.ex_pre.data(), p.gain_ex, w.ex_inv.data(), 1, D, NP, w.tmpP.data(),
                      w.dex.data(), false, g.gain_ex);
  for (Idx q = 0; q < N; ++q)
    for (int n = 0; n < P; ++n) w.tmpP.col(q * P + n) = w.dtmp.col(q * T + 2 * n + 1);
  rmsnorm_backward<S>(w.en_pre.data(), p.gain_en, w.en_inv.data(), 1, D, NP, w.tmpP.data(),
                      w.den.data(), false, g.gain_en);
  linear_backward<S>(p.W_ex, w.Mix.data(), w.dex.data(), NP, g.W_ex, g.b_ex, w.dMix.data(), false);
  linear_backward<S>(p.W_en, w.Z.data(), w.den.data(), NP, g.W_en, g.b_en, nullptr, false);
  // Mix = Z G^T + g per sample.
  const Idx Ps = Idx(P) * s;
  for (int i = 0; i < w.n; ++i)
    for (int c = 0; c < C; ++c) {
      const S* dm = w.dMix.data() + (Idx(i) * C + c) * Ps;
      S sum = 0;
      for (Idx t = 0; t < Ps; ++t) sum += dm[t];
      g.g[c] += sum;
      for (int c2 = 0; c2 < C; ++c2) {
        const S* z = w.Z.data() + (Idx(i) * C + c2) * Ps;
        S acc = 0;
        for (Idx t = 0; t < Ps; ++t) acc += dm[t] * z[t];
        g.G(c, c2) += acc;
      }
    }
}

}  // namespace

template <class S>
double BatchModel<S>::loss(const ParamsT<S>& p, const BatchView& b, double weight_fc,
                           double weight_aux, ParamsT<S>* grads) {
  Work& w = *w_;
  begin<S>(w, b, true);
  if (static_cast<int>(b.targets.size()) != w.n)
    throw InputError("samovar batch: one target per window is needed");
  forward_all<S>(w, p);
  const int P = w.P, s = w.s, C = w.C;
  double loss = 0;
  for (int i = 0; i < w.n; ++i) {
    const Matrix& target = *b.targets[static_cast<std::size_t>(i)];
    if (target.rows() != s || target.cols() != C)
      throw InputError("samovar batch: target must be (patch, channels) = (" + std::to_string(s) +
                       ", " + std::to_string(C) + ")");
    for (int c = 0; c < C; ++c) {
      const Idx q = Idx(i) * C + c;
      const double keep = b.keep.empty() ? 1.0 : b.keep[static_cast<std::size_t>(c)];
      const double mu = w.mu[static_cast<std::size_t>(q)],
                   sg = w.sigma[static_cast<std::size_t>(q)];
      for (int k = 0; k < s; ++k) {  // forecast = pred_{P-1} sigma + mu
        const double r = double(w.pred(k, q * P + P - 1)) * sg + mu - target(k, c) * keep;
        loss += weight_fc * r * r;
        w.dpred(k, q * P + P - 1) = S(2.0 * weight_fc * r * sg);
      }
      for (int n = 0; n + 1 < P; ++n)  // auxiliary next-patch loss in RevIN units
        for (int k = 0; k < s; ++k) {
          const double r = double(w.pred(k, q * P + n)) - double(w.Z((n + 1) * s + k, q));
          loss += weight_aux * r * r;
          w.dpred(k, q * P + n) = S(2.0 * weight_aux * r);
        }
    }
  }
  if (grads != nullptr) backward_all<S>(w, p, *grads);
  return loss;
}

template <class S>
void BatchModel<S>::forecast(const ParamsT<S>& p, const BatchView& b, std::vector<Matrix>& out) {
  Work& w = *w_;
  begin<S>(w, b, false);
  forward_all<S>(w, p);
  out.resize(static_cast<std::size_t>(w.n));
  for (int i = 0; i < w.n; ++i) {
    Matrix& f = out[static_cast<std::size_t>(i)];
    f.resize(w.s, w.C);
    for (int c = 0; c < w.C; ++c) {
      const Idx q = Idx(i) * w.C + c;
      for (int k = 0; k < w.s; ++k)
        f(k, c) = double(w.pred(k, q * w.P + w.P - 1)) * w.sigma[static_cast<std::size_t>(q)] +
                  w.mu[static_cast<std::size_t>(q)];
    }
  }
}

double train_step_flops(const Config& cfg, int batch) {
  const double T = cfg.tokens(), D = cfg.width, P = cfg.patches(), s = cfg.patch;
  const double d = cfg.head_dim(), M = cfg.attn_layers;
  const double attention = 4 * T * D * d;  // per layer: S update and readout, 2 d^2 each per head
  double f = 2 * (2 * P * s * D) + 2 * P * D * s;  // tokenisers, readout
  if (cfg.arch == Arch::LinTrans) {
    f += M * (8 * T * D * D + 16 * T * D * D + attention);  // Q, K, V, W_c; MLP; attention
  } else {
    f += cfg.mlp_layers * 16 * T * D * D;
    const double qv = cfg.fixed_qv ? 0 : 4 * T * D * D;
    const double keys = cfg.learned_keys ? 2 * T * D * D : 0;
    f += M * (qv + keys + attention) + 2 * T * D * d;  // + the output matrix
  }
  return 3 * f * cfg.channels * batch;
}

template class BatchModel<double>;
template class BatchModel<float>;

}  // namespace attnlab::samovar

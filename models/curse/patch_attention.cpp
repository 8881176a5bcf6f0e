#include "models/curse/patch_attention.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/thread_pool.h"

namespace attnlab::curse {
namespace {

// Neurons per block: per-block arrays stay in L1 and need no heap.
constexpr Eigen::Index kBlock = 256;
using BlockArray = Eigen::Array<double, Eigen::Dynamic, 1, 0, kBlock, 1>;

std::size_t sample_grain(Eigen::Index m, Eigen::Index L) {
  constexpr std::size_t kMinTaskElements = 1 << 16;  // below this, waking threads costs more
  return std::max<std::size_t>(1, kMinTaskElements / static_cast<std::size_t>(m * L));
}

// One sample x (d) cut into L = d/p patches; heads [0, len) of w (len) and U (column q at
// U + q ldU). Writes mu_r, d mu_r/dw_r and pbar_{r,q} (to pbar + q ldP + r). Max-subtracted:
// the max over j of w_r s_j is w_r max(s) for w_r >= 0 and w_r min(s) otherwise.
void patch_moments(const double* x, Eigen::Index d, Eigen::Index p, const double* w,
                   const double* U, Eigen::Index ldU, Eigen::Index len, double* mean,
                   double* dmu_dw, double* pbar, Eigen::Index ldP) {
  const Eigen::Index L = d / p;
  const double* last = x + (L - 1) * p;
  Eigen::VectorXd s(L);  // s_j = <P_L, P_j>
  for (Eigen::Index j = 0; j < L; ++j) {
    s[j] = 0;
    for (Eigen::Index q = 0; q < p; ++q) s[j] += last[q] * x[j * p + q];
  }
  const double smax = s.maxCoeff(), smin = s.minCoeff();
  for (Eigen::Index r0 = 0; r0 < len; r0 += kBlock) {
    const Eigen::Index nb = std::min(kBlock, len - r0);
    const Eigen::Map<const Eigen::ArrayXd> wb(w + r0, nb);
    const BlockArray shift = (wb >= 0.0).select(wb * smax, wb * smin);
    BlockArray s0 = BlockArray::Zero(nb), s1 = s0, t1 = s0, t2 = s0, e(nb), v(nb);
    for (Eigen::Index q = 0; q < p; ++q)
      Eigen::Map<Eigen::ArrayXd>(pbar + q * ldP + r0, nb).setZero();
    for (Eigen::Index j = 0; j < L; ++j) {
      const double* Pj = x + j * p;
      e = (wb * s[j] - shift).exp();
      v.setZero();
      for (Eigen::Index q = 0; q < p; ++q) {
        v += Eigen::Map<const Eigen::ArrayXd>(U + q * ldU + r0, nb) * Pj[q];  // v_rj = <u_r, P_j>
        Eigen::Map<Eigen::ArrayXd>(pbar + q * ldP + r0, nb) += e * Pj[q];
      }
      s0 += e;
      s1 += e * v;
      t1 += e * (s[j] * v);
      t2 += e * s[j];
    }
    const BlockArray mu = s1 / s0;
    Eigen::Map<Eigen::ArrayXd>(mean + r0, nb) = mu;
    Eigen::Map<Eigen::ArrayXd>(dmu_dw + r0, nb) = t1 / s0 - mu * (t2 / s0);
    for (Eigen::Index q = 0; q < p; ++q) Eigen::Map<Eigen::ArrayXd>(pbar + q * ldP + r0, nb) /= s0;
  }
}

void check_patch(Eigen::Index d, Eigen::Index p) {
  if (p < 1 || d % p != 0)
    throw InputError("patch attention: patch size " + std::to_string(p) +
                     " must divide the window d = " + std::to_string(d));
}

}  // namespace

PatchAttnGrads patch_attn_zero_grads(const PatchAttnParams& p) {
  return {Eigen::VectorXd::Zero(p.width()), Eigen::MatrixXd::Zero(p.U.rows(), p.U.cols()),
          Eigen::VectorXd::Zero(p.width())};
}

PatchAttnParams patch_attn_init(const AttnNetParams& base, Eigen::Index patch) {
  PatchAttnParams p{base.w, Eigen::MatrixXd::Zero(base.width(), patch), base.a};
  p.U.col(patch - 1).setOnes();
  return p;
}

Eigen::VectorXd patch_attn_forward(const PatchAttnParams& p, const Eigen::MatrixXd& X,
                                   PatchAttnCache& cache) {
  const Eigen::Index m = p.width(), d = X.rows(), n = X.cols(), ps = p.patch();
  check_patch(d, ps);
  cache.mean.resize(m, n);
  cache.dmu_dw.resize(m, n);
  cache.pbar.resize(m, ps * n);
  Eigen::VectorXd F(n);
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(m));
  parallel_for(
      static_cast<std::size_t>(n),
      [&](std::size_t b, std::size_t e) {
        for (auto i = static_cast<Eigen::Index>(b); i < static_cast<Eigen::Index>(e); ++i) {
          patch_moments(X.col(i).data(), d, ps, p.w.data(), p.U.data(), m, m,
                        cache.mean.col(i).data(), cache.dmu_dw.col(i).data(),
                        cache.pbar.col(ps * i).data(), m);
          F[i] = inv_sqrt_m * p.a.dot(cache.mean.col(i));  // f(x_i) = sum_r a_r mu_ir / sqrt m
        }
      },
      sample_grain(m, d / ps));
  return F;
}

Eigen::VectorXd patch_attn_predict(const PatchAttnParams& p, const Eigen::MatrixXd& X) {
  const Eigen::Index m = p.width(), d = X.rows(), n = X.cols(), ps = p.patch();
  check_patch(d, ps);
  Eigen::VectorXd F(n);
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(m));
  parallel_for(
      static_cast<std::size_t>(n),
      [&](std::size_t b, std::size_t e) {
        Eigen::VectorXd mean(m), dmu(m);
        Eigen::MatrixXd pbar(m, ps);
        for (auto i = static_cast<Eigen::Index>(b); i < static_cast<Eigen::Index>(e); ++i) {
          patch_moments(X.col(i).data(), d, ps, p.w.data(), p.U.data(), m, m, mean.data(),
                        dmu.data(), pbar.data(), m);
          F[i] = inv_sqrt_m * p.a.dot(mean);
        }
      },
      sample_grain(m, d / ps));
  return F;
}

// Walks forward in reverse. F_i = inv sum_r a_r mu_ir (inv = 1/sqrt m) gives
//   dL/da_r      = inv sum_i d_i mu_ir,
//   dL/dw_r      = inv a_r sum_i d_i dmu_dw_ir         (d mu / dw = Cov_S(s, v)),
//   dL/du_{r,q}  = inv a_r sum_i d_i pbar_{i,r,q}       (d mu / du_q = sum_j S_j P_j[q]).
// Parallel over neurons; every sum over i runs in sample order (thread-count invariant).
void patch_attn_backward(const PatchAttnParams& p, const PatchAttnCache& cache,
                         const Eigen::VectorXd& d_out, PatchAttnGrads& grads) {
  const Eigen::Index m = p.width(), n = cache.mean.cols(), ps = p.patch();
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(m));
  parallel_for(
      static_cast<std::size_t>(m),
      [&](std::size_t b, std::size_t e) {
        const auto r0 = static_cast<Eigen::Index>(b);
        const auto len = static_cast<Eigen::Index>(e - b);
        Eigen::ArrayXd gw = Eigen::ArrayXd::Zero(len), ga = gw;
        Eigen::ArrayXXd gU = Eigen::ArrayXXd::Zero(len, ps);
        for (Eigen::Index i = 0; i < n; ++i) {
          gw += cache.dmu_dw.col(i).segment(r0, len).array() * d_out[i];
          ga += cache.mean.col(i).segment(r0, len).array() * d_out[i];
          for (Eigen::Index q = 0; q < ps; ++q)
            gU.col(q) += cache.pbar.col(q + ps * i).segment(r0, len).array() * d_out[i];
        }
        const Eigen::ArrayXd as = inv_sqrt_m * p.a.segment(r0, len).array();
        grads.w.segment(r0, len).array() += as * gw;
        grads.U.middleRows(r0, len).array() += gU.colwise() * as;
        grads.a.segment(r0, len).array() += inv_sqrt_m * ga;
      },
      16);
}

Eigen::VectorXd patch_attn_forward_reference(const PatchAttnParams& p, const Eigen::MatrixXd& X) {
  const Eigen::Index m = p.width(), d = X.rows(), n = X.cols(), ps = p.patch();
  check_patch(d, ps);
  const Eigen::Index L = d / ps;
  Eigen::VectorXd F = Eigen::VectorXd::Zero(n), z(L), v(L);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Eigen::MatrixXd P = X.col(i).reshaped(ps, L);  // column j = patch P_j
    for (Eigen::Index r = 0; r < m; ++r) {
      for (Eigen::Index j = 0; j < L; ++j) {
        z[j] = p.w[r] * P.col(L - 1).dot(P.col(j));
        v[j] = p.U.row(r).dot(P.col(j).transpose());
      }
      const Eigen::ArrayXd e = (z.array() - z.maxCoeff()).exp();
      F[i] += p.a[r] * (e * v.array()).sum() / e.sum() / std::sqrt(static_cast<double>(m));
    }
  }
  return F;
}

}  // namespace attnlab::curse

#include "models/curse/posbias_attention.h"

#include <algorithm>
#include <cmath>

#include "core/thread_pool.h"

namespace attnlab::curse {
namespace {

// Neurons per block: per-block arrays stay in L1 and need no heap.
constexpr Eigen::Index kBlock = 256;
using BlockArray = Eigen::Array<double, Eigen::Dynamic, 1, 0, kBlock, 1>;

std::size_t sample_grain(Eigen::Index m, Eigen::Index d) {
  constexpr std::size_t kMinTaskElements = 1 << 16;  // below this, waking threads costs more
  return std::max<std::size_t>(1, kMinTaskElements / static_cast<std::size_t>(m * d));
}

// One sample x (d), heads [0, len) of w (len) and B (column k at B + k ldB). Writes the softmax
// S_{r,k} to S + k ldS + r, and <S_r, x>, Var_{S_r}(x) to mean, var. Max-subtracted.
void posbias_softmax(const double* x, Eigen::Index d, const double* w, const double* B,
                     Eigen::Index ldB, Eigen::Index len, double* S, Eigen::Index ldS, double* mean,
                     double* var) {
  const double xd = x[d - 1];
  for (Eigen::Index r0 = 0; r0 < len; r0 += kBlock) {
    const Eigen::Index nb = std::min(kBlock, len - r0);
    const Eigen::Map<const Eigen::ArrayXd> wb(w + r0, nb);
    auto logit = [&](Eigen::Index k) {  // z_{r,k} = w_r x_d x_k + b_{r,k}
      return wb * (xd * x[k]) + Eigen::Map<const Eigen::ArrayXd>(B + k * ldB + r0, nb);
    };
    BlockArray shift = logit(0);
    for (Eigen::Index k = 1; k < d; ++k) shift = shift.max(logit(k));
    BlockArray s0 = BlockArray::Zero(nb);
    for (Eigen::Index k = 0; k < d; ++k) {
      Eigen::Map<Eigen::ArrayXd> e(S + k * ldS + r0, nb);
      e = (logit(k) - shift).exp();
      s0 += e;
    }
    BlockArray mu = BlockArray::Zero(nb), m2 = BlockArray::Zero(nb);
    for (Eigen::Index k = 0; k < d; ++k) {
      Eigen::Map<Eigen::ArrayXd> s(S + k * ldS + r0, nb);
      s /= s0;
      mu += s * x[k];
      m2 += s * (x[k] * x[k]);
    }
    Eigen::Map<Eigen::ArrayXd>(mean + r0, nb) = mu;
    Eigen::Map<Eigen::ArrayXd>(var + r0, nb) = (m2 - mu * mu).max(0.0);
  }
}

}  // namespace

PosBiasGrads posbias_zero_grads(const PosBiasParams& p) {
  return {Eigen::VectorXd::Zero(p.width()), Eigen::MatrixXd::Zero(p.B.rows(), p.B.cols()),
          Eigen::VectorXd::Zero(p.width())};
}

PosBiasParams posbias_init(const AttnNetParams& base, Eigen::Index d) {
  return {base.w, Eigen::MatrixXd::Zero(base.width(), d), base.a};
}

Eigen::VectorXd posbias_forward(const PosBiasParams& p, const Eigen::MatrixXd& X,
                                PosBiasCache& cache) {
  const Eigen::Index m = p.width(), d = X.rows(), n = X.cols();
  cache.S.resize(m, d * n);
  cache.mean.resize(m, n);
  cache.var.resize(m, n);
  cache.X = X;
  Eigen::VectorXd F(n);
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(m));
  parallel_for(
      static_cast<std::size_t>(n),
      [&](std::size_t b, std::size_t e) {
        for (auto i = static_cast<Eigen::Index>(b); i < static_cast<Eigen::Index>(e); ++i) {
          posbias_softmax(X.col(i).data(), d, p.w.data(), p.B.data(), m, m,
                          cache.S.col(d * i).data(), m, cache.mean.col(i).data(),
                          cache.var.col(i).data());
          F[i] = inv_sqrt_m * p.a.dot(cache.mean.col(i));  // f(x_i) = sum_r a_r mu_ir / sqrt m
        }
      },
      sample_grain(m, d));
  return F;
}

Eigen::VectorXd posbias_predict(const PosBiasParams& p, const Eigen::MatrixXd& X) {
  const Eigen::Index m = p.width(), d = X.rows(), n = X.cols();
  Eigen::VectorXd F(n);
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(m));
  parallel_for(
      static_cast<std::size_t>(n),
      [&](std::size_t b, std::size_t e) {
        Eigen::MatrixXd S(m, d);
        Eigen::VectorXd mean(m), var(m);
        for (auto i = static_cast<Eigen::Index>(b); i < static_cast<Eigen::Index>(e); ++i) {
          posbias_softmax(X.col(i).data(), d, p.w.data(), p.B.data(), m, m, S.data(), m,
                          mean.data(), var.data());
          F[i] = inv_sqrt_m * p.a.dot(mean);
        }
      },
      sample_grain(m, d));
  return F;
}

// Walks forward in reverse. F_i = inv sum_r a_r mu_ir (inv = 1/sqrt m) gives
//   dL/da_r      = inv sum_i d_i mu_ir,
//   dL/dw_r      = inv a_r sum_i d_i x_{i,d} var_ir                (d mu / dw = x_d Var_S(x)),
//   dL/db_{r,k}  = inv a_r sum_i d_i S_{i,r,k} (x_{i,k} - mu_ir)    (d mu / db_k = S_k (x_k - mu)).
// Parallel over neurons; every sum over i runs in sample order (thread-count invariant).
void posbias_backward(const PosBiasParams& p, const PosBiasCache& cache,
                      const Eigen::VectorXd& d_out, PosBiasGrads& grads) {
  const Eigen::Index m = p.width(), d = cache.X.rows(), n = cache.X.cols();
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(m));
  parallel_for(
      static_cast<std::size_t>(m),
      [&](std::size_t b, std::size_t e) {
        const auto r0 = static_cast<Eigen::Index>(b);
        const auto len = static_cast<Eigen::Index>(e - b);
        Eigen::ArrayXd gw = Eigen::ArrayXd::Zero(len), ga = gw;
        Eigen::ArrayXXd gB = Eigen::ArrayXXd::Zero(len, d);
        for (Eigen::Index i = 0; i < n; ++i) {
          const auto mu = cache.mean.col(i).segment(r0, len).array();
          gw += cache.var.col(i).segment(r0, len).array() * (d_out[i] * cache.X(d - 1, i));
          ga += mu * d_out[i];
          for (Eigen::Index k = 0; k < d; ++k)
            gB.col(k) +=
                cache.S.col(k + d * i).segment(r0, len).array() * (cache.X(k, i) - mu) * d_out[i];
        }
        const Eigen::ArrayXd as = inv_sqrt_m * p.a.segment(r0, len).array();
        grads.w.segment(r0, len).array() += as * gw;
        grads.B.middleRows(r0, len).array() += gB.colwise() * as;
        grads.a.segment(r0, len).array() += inv_sqrt_m * ga;
      },
      16);
}

Eigen::VectorXd posbias_forward_reference(const PosBiasParams& p, const Eigen::MatrixXd& X) {
  const Eigen::Index m = p.width(), d = X.rows(), n = X.cols();
  Eigen::VectorXd F = Eigen::VectorXd::Zero(n), z(d);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index r = 0; r < m; ++r) {
      for (Eigen::Index k = 0; k < d; ++k) z[k] = p.w[r] * X(d - 1, i) * X(k, i) + p.B(r, k);
      const double zmax = z.maxCoeff();
      double s0 = 0, s1 = 0;
      for (Eigen::Index k = 0; k < d; ++k) {
        const double e = std::exp(z[k] - zmax);
        s0 += e;
        s1 += e * X(k, i);
      }
      F[i] += p.a[r] * (s1 / s0) / std::sqrt(static_cast<double>(m));
    }
  return F;
}

}  // namespace attnlab::curse

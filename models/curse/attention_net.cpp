#include "models/curse/attention_net.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"

namespace attnlab::curse {
namespace {

// Neurons are processed in blocks of this size so the per-block arrays stay in L1 and need no heap.
constexpr Eigen::Index kBlock = 256;
// Minimum softmax elements (neurons x positions) per parallel task: below this, waking threads
// costs more than the work (tiny-n runs of E7 would be dominated by synchronisation).
constexpr std::size_t kMinTaskElements = 1 << 16;

std::size_t sample_grain(Eigen::Index m, Eigen::Index d) {
  return std::max<std::size_t>(1, kMinTaskElements / static_cast<std::size_t>(m * d));
}
using BlockArray = Eigen::Array<double, Eigen::Dynamic, 1, 0, kBlock, 1>;

}  // namespace

AttnNetParams init_paired(Eigen::Index m, double scale, Rng& rng) {
  assert(m % 2 == 0);
  AttnNetParams p;
  p.w.resize(m);
  p.a.resize(m);
  const Eigen::Index half = m / 2;
  for (Eigen::Index r = 0; r < half; ++r) {
    p.w[r] = scale * normal(rng);
    p.w[r + half] = p.w[r];
    p.a[r] = 1.0;
    p.a[r + half] = -1.0;
  }
  return p;
}

AttnNetParams init_unpaired(Eigen::Index m, double scale, Rng& rng) {
  AttnNetParams p;
  p.w.resize(m);
  p.a.resize(m);
  for (Eigen::Index r = 0; r < m; ++r) p.w[r] = scale * normal(rng);
  for (Eigen::Index r = 0; r < m; ++r) p.a[r] = bernoulli(rng, 0.5) ? 1.0 : -1.0;
  return p;
}

// x: (d), w: (len). Logits z_{r,k} = w_r b_k with b_k = x_d x_k; the max over k of w_r b_k is
// w_r max(b) for w_r >= 0 and w_r min(b) otherwise, so no extra pass is needed.
void softmax_moments(const double* x, Eigen::Index d, const double* w, Eigen::Index len,
                     double* mean, double* var, double* last) {
  const double xd = x[d - 1];
  double bmax = xd * x[0], bmin = bmax;
  for (Eigen::Index k = 1; k < d; ++k) {
    bmax = std::max(bmax, xd * x[k]);
    bmin = std::min(bmin, xd * x[k]);
  }
  for (Eigen::Index r0 = 0; r0 < len; r0 += kBlock) {
    const Eigen::Index nb = std::min(kBlock, len - r0);
    const Eigen::Map<const Eigen::ArrayXd> wb(w + r0, nb);
    const BlockArray shift = (wb >= 0.0).select(wb * bmax, wb * bmin);
    BlockArray s0 = BlockArray::Zero(nb), s1 = BlockArray::Zero(nb), s2 = BlockArray::Zero(nb);
    BlockArray e(nb);
    for (Eigen::Index k = 0; k < d; ++k) {
      const double xk = x[k];
      e = (wb * (xd * xk) - shift).exp();
      s0 += e;
      s1 += e * xk;
      s2 += e * (xk * xk);
    }
    const BlockArray mu = s1 / s0;
    Eigen::Map<Eigen::ArrayXd>(mean + r0, nb) = mu;
    Eigen::Map<Eigen::ArrayXd>(var + r0, nb) = (s2 / s0 - mu * mu).max(0.0);
    if (last != nullptr) Eigen::Map<Eigen::ArrayXd>(last + r0, nb) = e / s0;
  }
}

Eigen::VectorXd forward(const AttnNetParams& p, const Eigen::MatrixXd& X, AttnNetCache& cache) {
  const Eigen::Index m = p.width(), d = X.rows(), n = X.cols();
  cache.mean.resize(m, n);
  cache.var.resize(m, n);
  cache.xd = X.row(d - 1).transpose();
  Eigen::VectorXd F(n);
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(m));
  parallel_for(
      static_cast<std::size_t>(n),
      [&](std::size_t b, std::size_t e) {
        for (auto i = static_cast<Eigen::Index>(b); i < static_cast<Eigen::Index>(e); ++i) {
          softmax_moments(X.col(i).data(), d, p.w.data(), m, cache.mean.col(i).data(),
                          cache.var.col(i).data(), nullptr);
          F[i] = inv_sqrt_m * p.a.dot(cache.mean.col(i));  // f(x_i) = sum_r a_r <S_ir, x_i>/sqrt m
        }
      },
      sample_grain(m, d));
  return F;
}

Eigen::VectorXd predict(const AttnNetParams& p, const Eigen::MatrixXd& X) {
  const Eigen::Index m = p.width(), d = X.rows(), n = X.cols();
  Eigen::VectorXd F(n);
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(m));
  parallel_for(
      static_cast<std::size_t>(n),
      [&](std::size_t b, std::size_t e) {
        Eigen::VectorXd mean(m), var(m);
        for (auto i = static_cast<Eigen::Index>(b); i < static_cast<Eigen::Index>(e); ++i) {
          softmax_moments(X.col(i).data(), d, p.w.data(), m, mean.data(), var.data(), nullptr);
          F[i] = inv_sqrt_m * p.a.dot(mean);
        }
      },
      sample_grain(m, d));
  return F;
}

// Walks forward in reverse. F_i = sum_r a_r mean_ir / sqrt m gives
//   dL/da_r = sum_i d_i mean_ir / sqrt m,
// and d mean_ir / d w_r = x_{i,d} var_ir (Lemma E.5 Part 4-5) gives
//   dL/dw_r = a_r / sqrt m * sum_i d_i x_{i,d} var_ir.
// Parallel over neurons; each neuron's sum over i runs in sample order (thread-count invariant).
void backward(const AttnNetParams& p, const AttnNetCache& cache, const Eigen::VectorXd& d_out,
              AttnNetGrads& grads) {
  const Eigen::Index m = p.width(), n = cache.var.cols();
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(m));
  const Eigen::VectorXd coef = d_out.cwiseProduct(cache.xd);  // (n) d_i x_{i,d}
  parallel_for(
      static_cast<std::size_t>(m),
      [&](std::size_t b, std::size_t e) {
        const auto r0 = static_cast<Eigen::Index>(b);
        const auto len = static_cast<Eigen::Index>(e - b);
        Eigen::ArrayXd gw = Eigen::ArrayXd::Zero(len), ga = Eigen::ArrayXd::Zero(len);
        for (Eigen::Index i = 0; i < n; ++i) {
          gw += cache.var.col(i).segment(r0, len).array() * coef[i];
          ga += cache.mean.col(i).segment(r0, len).array() * d_out[i];
        }
        grads.w.segment(r0, len).array() += inv_sqrt_m * p.a.segment(r0, len).array() * gw;
        grads.a.segment(r0, len).array() += inv_sqrt_m * ga;
      },
      std::max<std::size_t>(
          64, kMinTaskElements / static_cast<std::size_t>(std::max<Eigen::Index>(n, 1))));
}

Eigen::VectorXd forward_reference(const AttnNetParams& p, const Eigen::MatrixXd& X) {
  const Eigen::Index m = p.width(), d = X.rows(), n = X.cols();
  Eigen::VectorXd F = Eigen::VectorXd::Zero(n);
  std::vector<double> z(static_cast<std::size_t>(d));
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index r = 0; r < m; ++r) {
      double zmax = -INFINITY;
      for (Eigen::Index k = 0; k < d; ++k) {
        z[static_cast<std::size_t>(k)] = X(d - 1, i) * p.w[r] * X(k, i);
        zmax = std::max(zmax, z[static_cast<std::size_t>(k)]);
      }
      double s0 = 0, s1 = 0;
      for (Eigen::Index k = 0; k < d; ++k) {
        const double ek = std::exp(z[static_cast<std::size_t>(k)] - zmax);
        s0 += ek;
        s1 += ek * X(k, i);
      }
      F[i] += p.a[r] * (s1 / s0) / std::sqrt(static_cast<double>(m));
    }
  }
  return F;
}

// Chain rule written out per position: dS_k/dw = S_k x_d (x_k - <S,x>) (Lemma E.5 Part 4), so
// d<S,x>/dw = sum_k x_k S_k x_d (x_k - <S,x>).
void backward_reference(const AttnNetParams& p, const Eigen::MatrixXd& X,
                        const Eigen::VectorXd& d_out, AttnNetGrads& grads) {
  const Eigen::Index m = p.width(), d = X.rows(), n = X.cols();
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(m));
  std::vector<double> S(static_cast<std::size_t>(d));
  for (Eigen::Index r = 0; r < m; ++r) {
    for (Eigen::Index i = 0; i < n; ++i) {
      const double xd = X(d - 1, i);
      double zmax = -INFINITY;
      for (Eigen::Index k = 0; k < d; ++k) zmax = std::max(zmax, xd * p.w[r] * X(k, i));
      double s0 = 0;
      for (Eigen::Index k = 0; k < d; ++k) {
        S[static_cast<std::size_t>(k)] = std::exp(xd * p.w[r] * X(k, i) - zmax);
        s0 += S[static_cast<std::size_t>(k)];
      }
      double mu = 0;
      for (Eigen::Index k = 0; k < d; ++k) {
        S[static_cast<std::size_t>(k)] /= s0;
        mu += S[static_cast<std::size_t>(k)] * X(k, i);
      }
      double dmu_dw = 0;
      for (Eigen::Index k = 0; k < d; ++k)
        dmu_dw += X(k, i) * S[static_cast<std::size_t>(k)] * xd * (X(k, i) - mu);
      grads.w[r] += d_out[i] * p.a[r] * inv_sqrt_m * dmu_dw;
      grads.a[r] += d_out[i] * inv_sqrt_m * mu;
    }
  }
}

Eigen::MatrixXd jacobian_t(const AttnNetParams& p, const AttnNetCache& cache) {
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(p.width()));
  Eigen::MatrixXd Jt = cache.var;
  Jt.array().colwise() *= p.a.array() * inv_sqrt_m;
  Jt.array().rowwise() *= cache.xd.transpose().array();
  return Jt;
}

Eigen::MatrixXd jacobian_t(const AttnNetParams& p, const Eigen::MatrixXd& X) {
  AttnNetCache cache;
  forward(p, X, cache);
  return jacobian_t(p, cache);
}

Eigen::VectorXd ntk_feature(double w, const Eigen::MatrixXd& X) {
  const Eigen::Index d = X.rows(), n = X.cols();
  Eigen::VectorXd phi(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    double mean = 0, var = 0;
    softmax_moments(X.col(i).data(), d, &w, 1, &mean, &var, nullptr);
    phi[i] = X(d - 1, i) * var;
  }
  return phi;
}

Eigen::VectorXd last_position_mass(const AttnNetParams& p, const Eigen::MatrixXd& X) {
  const Eigen::Index m = p.width(), d = X.rows(), n = X.cols();
  // One partial per fixed chunk of samples, summed in chunk order (deterministic).
  constexpr std::size_t kChunk = 64;
  const std::size_t chunks = num_chunks(static_cast<std::size_t>(n), kChunk);
  std::vector<Eigen::VectorXd> partial(chunks, Eigen::VectorXd::Zero(m));
  parallel_chunks(
      static_cast<std::size_t>(n), kChunk, [&](std::size_t c, std::size_t b, std::size_t e) {
        Eigen::VectorXd mean(m), var(m), last(m);
        for (auto i = static_cast<Eigen::Index>(b); i < static_cast<Eigen::Index>(e); ++i) {
          softmax_moments(X.col(i).data(), d, p.w.data(), m, mean.data(), var.data(), last.data());
          partial[c] += last;
        }
      });
  Eigen::VectorXd total = Eigen::VectorXd::Zero(m);
  for (const auto& part : partial) total += part;
  return total / static_cast<double>(n);
}

double half_sum_loss(const Eigen::VectorXd& F, const Eigen::VectorXd& y) {
  return 0.5 * (F - y).squaredNorm();
}

void train_gd(AttnNetParams& p, const Eigen::MatrixXd& X, const Eigen::VectorXd& y, double eta,
              int steps, const GdCallback& on_step) {
  AttnNetCache cache;
  AttnNetGrads g;
  for (int t = 0; t <= steps; ++t) {
    const Eigen::VectorXd F = forward(p, X, cache);
    const double loss = half_sum_loss(F, y);
    if (!std::isfinite(loss))
      throw NumericError("curse attention GD step " + std::to_string(t) + ": loss is not finite");
    if (t == steps) {
      if (on_step) on_step(t, p, F, Eigen::VectorXd());
      break;
    }
    g.w = Eigen::VectorXd::Zero(p.width());
    g.a = Eigen::VectorXd::Zero(p.width());
    backward(p, cache, F - y, g);  // dL/dF = F - y for the 1/2-sum loss
    if (on_step) on_step(t, p, F, g.w);
    p.w -= eta * g.w;
  }
}

}  // namespace attnlab::curse

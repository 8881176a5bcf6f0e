#include "models/curse/diff_attention.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "core/thread_pool.h"

namespace attnlab::curse {
namespace {

// Samples per parallel task: two softmaxes of m x d elements each per sample.
std::size_t sample_grain(Eigen::Index m, Eigen::Index d) {
  constexpr std::size_t kMinTaskElements = 1 << 16;  // below this, waking threads costs more
  return std::max<std::size_t>(1, kMinTaskElements / static_cast<std::size_t>(2 * m * d));
}

double sigmoid(double t) { return 1.0 / (1.0 + std::exp(-t)); }

}  // namespace

double DiffAttnParams::lambda() const { return sigmoid(theta[0]); }

DiffAttnGrads diff_attn_zero_grads(const DiffAttnParams& p) {
  const Eigen::Index m = p.width();
  return {Eigen::VectorXd::Zero(m), Eigen::VectorXd::Zero(m), Eigen::VectorXd::Zero(1),
          Eigen::VectorXd::Zero(m)};
}

DiffAttnParams diff_attn_init(const AttnNetParams& base, double scale, double lambda0, Rng& rng) {
  assert(lambda0 > 0 && lambda0 < 1);
  const Eigen::Index m = base.width(), half = m / 2;
  assert(m % 2 == 0);
  DiffAttnParams p{base.w, Eigen::VectorXd(m),
                   Eigen::VectorXd::Constant(1, std::log(lambda0 / (1 - lambda0))), base.a};
  for (Eigen::Index r = 0; r < half; ++r) {
    p.w2[r] = scale * normal(rng);
    p.w2[r + half] = p.w2[r];
  }
  return p;
}

// F_i = (1/sqrt m) sum_r a_r (mean1_ir - lambda mean2_ir).
Eigen::VectorXd diff_attn_forward(const DiffAttnParams& p, const Eigen::MatrixXd& X,
                                  DiffAttnCache& cache) {
  const Eigen::Index m = p.width(), d = X.rows(), n = X.cols();
  for (auto* M : {&cache.mean1, &cache.var1, &cache.mean2, &cache.var2}) M->resize(m, n);
  cache.xd = X.row(d - 1).transpose();
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(m)), lambda = p.lambda();
  Eigen::VectorXd F(n);
  parallel_for(
      static_cast<std::size_t>(n),
      [&](std::size_t b, std::size_t e) {
        for (auto i = static_cast<Eigen::Index>(b); i < static_cast<Eigen::Index>(e); ++i) {
          softmax_moments(X.col(i).data(), d, p.w.data(), m, cache.mean1.col(i).data(),
                          cache.var1.col(i).data(), nullptr);
          softmax_moments(X.col(i).data(), d, p.w2.data(), m, cache.mean2.col(i).data(),
                          cache.var2.col(i).data(), nullptr);
          F[i] = inv_sqrt_m * p.a.dot(cache.mean1.col(i) - lambda * cache.mean2.col(i));
        }
      },
      sample_grain(m, d));
  return F;
}

Eigen::VectorXd diff_attn_predict(const DiffAttnParams& p, const Eigen::MatrixXd& X) {
  DiffAttnCache cache;  // (m, n) moments; evaluation sets here are <= a few thousand samples
  return diff_attn_forward(p, X, cache);
}

// Walks forward in reverse:
//   F_i = inv sum_r a_r (mean1_ir - lambda mean2_ir), inv = 1/sqrt m
//   => dL/da_r      = inv sum_i d_i (mean1_ir - lambda mean2_ir)
//      dL/dw_r      = inv a_r sum_i d_i x_{i,d} var1_ir            (d mean1 / dw = x_d var1)
//      dL/dw'_r     = -lambda inv a_r sum_i d_i x_{i,d} var2_ir    (d mean2 / dw' = x_d var2)
//      dL/dtheta    = lambda (1 - lambda) sum_i d_i (-inv sum_r a_r mean2_ir)
// Parallel over neurons; every sum over i runs in sample order (thread-count invariant).
void diff_attn_backward(const DiffAttnParams& p, const DiffAttnCache& cache,
                        const Eigen::VectorXd& d_out, DiffAttnGrads& grads) {
  const Eigen::Index m = p.width(), n = cache.var1.cols();
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(m)), lambda = p.lambda();
  const Eigen::VectorXd coef = d_out.cwiseProduct(cache.xd);  // (n) d_i x_{i,d}
  parallel_for(
      static_cast<std::size_t>(m),
      [&](std::size_t b, std::size_t e) {
        const auto r0 = static_cast<Eigen::Index>(b);
        const auto len = static_cast<Eigen::Index>(e - b);
        Eigen::ArrayXd gw = Eigen::ArrayXd::Zero(len), gw2 = gw, ga = gw;
        for (Eigen::Index i = 0; i < n; ++i) {
          gw += cache.var1.col(i).segment(r0, len).array() * coef[i];
          gw2 += cache.var2.col(i).segment(r0, len).array() * coef[i];
          ga += (cache.mean1.col(i).segment(r0, len).array() -
                 lambda * cache.mean2.col(i).segment(r0, len).array()) *
                d_out[i];
        }
        const Eigen::ArrayXd as = inv_sqrt_m * p.a.segment(r0, len).array();
        grads.w.segment(r0, len).array() += as * gw;
        grads.w2.segment(r0, len).array() -= lambda * as * gw2;
        grads.a.segment(r0, len).array() += inv_sqrt_m * ga;
      },
      64);
  double gtheta = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    gtheta += d_out[i] * (-inv_sqrt_m * p.a.dot(cache.mean2.col(i)));
  grads.theta[0] += lambda * (1 - lambda) * gtheta;
}

}  // namespace attnlab::curse

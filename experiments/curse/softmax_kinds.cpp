// E6: softmax last-position deficit (Thm 5.3 / I.2) by exact Monte Carlo over x ~ N(0, s^2 I_d).
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <string>

#include "core/rng.h"
#include "core/thread_pool.h"
#include "experiments/curse/kinds.h"

namespace attnlab::curse {
namespace {

struct Moments {
  Eigen::VectorXd mean;     // (d) E[s_k]
  Eigen::VectorXd se;       // (d) standard error of E[s_k]
  Eigen::VectorXd diff_se;  // (d) standard error of E[s_k - s_d]
};

// Monte Carlo of the softmax of logits w x_d x_k over `samples` draws; chunked for determinism
// (chunk c uses stream (seed, "curse.e6", c)).
Moments softmax_moments_mc(int d, double w, double s, long samples, std::uint64_t seed) {
  constexpr std::size_t kChunk = 8192;
  const auto n = static_cast<std::size_t>(samples);
  const std::size_t chunks = num_chunks(n, kChunk);
  struct Partial {
    Eigen::VectorXd s1, s2, ds1, ds2;
  };
  std::vector<Partial> part(chunks);
  parallel_chunks(n, kChunk, [&](std::size_t c, std::size_t b, std::size_t e) {
    Rng rng = make_stream(seed, "curse.e6", c);
    Partial p{Eigen::VectorXd::Zero(d), Eigen::VectorXd::Zero(d), Eigen::VectorXd::Zero(d),
              Eigen::VectorXd::Zero(d)};
    Eigen::VectorXd x(d), z(d);
    for (std::size_t i = b; i < e; ++i) {
      for (int k = 0; k < d; ++k) x[k] = s * normal(rng);
      z = w * x[d - 1] * x;
      z = (z.array() - z.maxCoeff()).exp();
      z /= z.sum();
      p.s1 += z;
      p.s2 += z.cwiseAbs2();
      const Eigen::VectorXd dz = z.array() - z[d - 1];
      p.ds1 += dz;
      p.ds2 += dz.cwiseAbs2();
    }
    part[c] = p;
  });
  Eigen::VectorXd s1 = Eigen::VectorXd::Zero(d), s2 = s1, ds1 = s1, ds2 = s1;
  for (const auto& p : part) {
    s1 += p.s1;
    s2 += p.s2;
    ds1 += p.ds1;
    ds2 += p.ds2;
  }
  const auto N = static_cast<double>(samples);
  Moments m;
  m.mean = s1 / N;
  m.se = ((s2 / N - m.mean.cwiseAbs2()) / (N - 1)).cwiseMax(0.0).cwiseSqrt();
  const Eigen::VectorXd dmean = ds1 / N;
  m.diff_se = ((ds2 / N - dmean.cwiseAbs2()) / (N - 1)).cwiseMax(0.0).cwiseSqrt();
  return m;
}

Outcome run_e6(const RunContext& ctx) {
  const ParamValues& P = ctx.params;
  const long samples = P.i("samples");
  Outcome out;
  double neg_margin = INFINITY, neg_vs_other = INFINITY, pos_margin = INFINITY, inv_z = 0;
  nlohmann::json curves = nlohmann::json::array();
  std::uint64_t cell = 0;
  const auto ds = P.ints("ds");
  const auto ss = P.reals("sigmas");
  const auto ws = P.reals("ws");
  const double total = static_cast<double>(ds.size() * ss.size() * ws.size());
  for (auto d64 : ds) {
    const int d = static_cast<int>(d64);
    for (double s : ss) {
      nlohmann::json curve = {{"d", d},
                              {"sigma", s},
                              {"w", ws},
                              {"mean_sd", nlohmann::json::array()},
                              {"se_sd", nlohmann::json::array()}};
      for (double w : ws) {
        ctx.progress(static_cast<double>(cell) / total, "d=" + std::to_string(d));
        const Moments m =
            softmax_moments_mc(d, w, s, samples, stream_seed(ctx.seed, "cell", cell++));
        const double sd = m.mean[d - 1], se = m.se[d - 1];
        curve["mean_sd"].push_back(sd);
        curve["se_sd"].push_back(se);
        if (w < 0) {
          neg_margin = std::min(neg_margin, (1.0 / d - sd) / se);
          double worst = INFINITY;
          for (int k = 0; k < d - 1; ++k) worst = std::min(worst, (m.mean[k] - sd) / m.diff_se[k]);
          neg_vs_other = std::min(neg_vs_other, worst);
        } else {
          pos_margin = std::min(pos_margin, (sd - 1.0 / d) / se);
        }
        // Invariance: (d, w, s) has the law of (d, w s^2, 1) (x = s z).
        if (s != 1.0) {
          const Moments u = softmax_moments_mc(d, w * s * s, 1.0, samples,
                                               stream_seed(ctx.seed, "invariance", cell));
          inv_z = std::max(inv_z, std::abs(sd - u.mean[d - 1]) / std::hypot(se, u.se[d - 1]));
        }
      }
      curves.push_back(curve);
    }
  }
  out.metric("neg_w_margin_below_uniform_se", neg_margin);
  out.metric("neg_w_margin_below_other_positions_se", neg_vs_other);
  out.metric("pos_w_margin_above_uniform_se", pos_margin);
  out.metric("invariance_max_z", inv_z);
  out.data["curves"] = curves;
  return out;
}

}  // namespace

std::vector<ExperimentKind> softmax_experiments() {
  return {{"curse_e6_softmax_last",
           "Monte Carlo E[softmax_d(x_d w x)] vs 1/d and the other positions, x ~ N(0, s^2 I)",
           {p_ints("ds", 2, 256).describe("dimensions d of x"),
            p_reals("sigmas", 1e-3, 100).describe("standard deviations s of x ~ N(0, s^2 I)"),
            p_reals("ws", -100, 100).describe("weights w in the logits w x_d x_k"),
            p_int("samples", 100, 100000000).describe("Monte Carlo draws of x per cell")},
           run_e6}};
}

}  // namespace attnlab::curse

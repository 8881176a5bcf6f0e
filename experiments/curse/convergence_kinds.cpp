// E7: Thm 5.2(a) / Lemma H.1 linear convergence in its own regime (tiny n, lambda_min > 0), and
// Assumption F.3 (lambda_min(H*) > 0) with L(T) <= eps at realistic n.
#include <algorithm>
#include <cmath>
#include <string>

#include "analysis/ntk.h"
#include "experiments/curse/common.h"
#include "experiments/curse/kinds.h"

namespace attnlab::curse {
namespace {

SsmSpec spec_of(const Params& P, const std::string& variant, int d) {
  SsmSpec s;
  s.variant = parse_ssm_variant(variant);
  s.d = d;
  s.gamma = P.d("gamma");
  s.sigma = P.d("sigma");
  return s;
}

// Logged steps: 0, then ~8 per decade up to T.
std::vector<int> log_grid(int T) {
  std::vector<int> g{0};
  for (double t = 1; t <= T; t *= 1.3335) {
    const int ti = static_cast<int>(std::lround(t));
    if (ti > g.back()) g.push_back(ti);
  }
  if (g.back() != T) g.push_back(T);
  return g;
}

Outcome run_convergence(const RunContext& ctx) {
  const Params& P = ctx.params;
  const int T = P.i32("steps");
  const std::vector<int> grid = log_grid(T);
  Outcome out;
  double violations = 0, lin_dev = 0, worst_gap = 0;
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& v : P.strings("variants"))
    for (auto d : P.ints("ds"))
      for (int k = 0; k < P.i32("seeds"); ++k) {
        const std::uint64_t seed =
            stream_seed(ctx.seed, "replicate", static_cast<std::uint64_t>(k));
        const SsmSpec spec = spec_of(P, v, static_cast<int>(d));
        const Data train =
            make_data(spec, false, seed, "train", static_cast<std::size_t>(P.i("n")));
        for (auto m : P.ints("ms")) {
          ctx.progress(0, v + " d=" + std::to_string(d) + " m=" + std::to_string(m));
          Rng rng = make_stream(seed, "curse.init");
          AttnNetParams p = init_paired(static_cast<Eigen::Index>(m), 1.0, rng);
          const Eigen::MatrixXd H0 = ntk_gram(jacobian_t(p, train.X));
          const KernelEig eig = ntk_eig(H0);
          const double lmax = eig.values.maxCoeff(), lmin = eig.values.minCoeff();
          const double eta = 0.5 / lmax;
          const Eigen::VectorXd F0 = predict(p, train.X);
          const double L0 = half_sum_loss(F0, train.y);
          std::vector<double> ts, loss, lin, bound;
          std::size_t next = 0;
          int t_eps = -1;
          train_gd(
              p, train.X, train.y, eta, T,
              [&](int t, const AttnNetParams&, const Eigen::VectorXd& F, const Eigen::VectorXd&) {
                const double L = half_sum_loss(F, train.y);
                if (t_eps < 0 && L <= 1e-6 * L0) t_eps = t;
                if (next >= grid.size() || grid[next] != t) return;
                ++next;
                const double tt = static_cast<double>(t);
                const double Llin =
                    0.5 * ntk_gd_train_residual(eig, train.y - F0, eta, tt).squaredNorm();
                const double B =
                    std::exp(tt * std::log1p(-eta * lmin / 2)) * L0;  // (1-eta lambda/2)^t L(0)
                ts.push_back(tt);
                loss.push_back(L / L0);
                lin.push_back(Llin / L0);
                bound.push_back(B / L0);
                if (L > B) violations += 1;
                worst_gap = std::max(worst_gap, L / B);
                if (m >= 1024) lin_dev = std::max(lin_dev, std::abs(L - Llin) / Llin);
              });
          const std::string key =
              v + "_d" + std::to_string(d) + "_m" + std::to_string(m) + "_s" + std::to_string(k);
          const double predicted = 2.0 / (eta * lmin) * std::log(1e6);
          runs.push_back({{"variant", v},
                          {"d", d},
                          {"m", m},
                          {"seed", k},
                          {"t", ts},
                          {"loss", loss},
                          {"linearized", lin},
                          {"bound", bound},
                          {"lambda_ratio", lmin / lmax},
                          {"t_eps", t_eps},
                          {"t_eps_bound", predicted}});
          if (k == 0) {
            out.metric("lambda_ratio_" + key, lmin / lmax);
            out.metric("final_loss_ratio_" + key, loss.back());
            out.metric("t_eps_" + key, t_eps);
            out.metric("t_eps_bound_" + key, predicted);
          }
        }
      }
  out.metric("bound_violations", violations);
  out.metric("max_loss_over_bound", worst_gap);
  out.metric("linearized_max_rel_dev_m_ge_1024", lin_dev);
  out.data["runs"] = runs;
  return out;
}

Outcome run_rank(const RunContext& ctx) {
  const Params& P = ctx.params;
  Outcome out;
  double ratio_max = -INFINITY, rank_max = 0, loss_min = INFINITY;
  nlohmann::json spectra = nlohmann::json::array();
  for (const auto& v : P.strings("variants")) {
    const SsmSpec spec = spec_of(P, v, P.i32("d"));
    for (auto n : P.ints("ns")) {
      std::vector<double> ratios, ranks;
      for (int k = 0; k < P.i32("seeds"); ++k) {
        const std::uint64_t seed =
            stream_seed(ctx.seed, "replicate", static_cast<std::uint64_t>(k));
        const Data train = make_data(spec, false, seed, "train", static_cast<std::size_t>(n));
        Rng rng = make_stream(seed, "curse.init");
        const AttnNetParams p = init_paired(P.i("m"), 1.0, rng);
        const KernelSpectrum s = ntk_spectrum(ntk_eig(ntk_gram(jacobian_t(p, train.X))).values);
        ratios.push_back(s.ratio);
        ranks.push_back(s.effective_rank);
        if (k == 0)
          spectra.push_back(
              {{"variant", v},
               {"n", n},
               {"normalized", std::vector<double>(s.normalized.data(),
                                                  s.normalized.data() + s.normalized.size())}});
      }
      const std::string key = v + "_n" + std::to_string(n);
      out.metric("lambda_ratio_" + key, median(ratios));
      out.metric("effective_rank_" + key, median(ranks));
      if (n >= P.i("n_realistic")) {
        ratio_max = std::max(ratio_max, *std::max_element(ratios.begin(), ratios.end()));
        rank_max = std::max(rank_max, *std::max_element(ranks.begin(), ranks.end()));
      }
    }
    // Training at realistic n: L(T)/L(0) after T GD steps (Thm 5.2(a) promises L(T) <= eps).
    RunConfig c;
    c.spec = spec;
    c.m = P.i32("m_train");
    c.n = P.i32("n_realistic");
    c.n_test = 100;
    c.checkpoints = {P.i32("steps")};
    c.ntk = false;
    for (int k = 0; k < P.i32("seeds_train"); ++k) {
      c.seed = stream_seed(ctx.seed, "replicate", static_cast<std::uint64_t>(k));
      const RunRecord r = run_attention(c);
      out.metric("train_loss_ratio_" + v + "_s" + std::to_string(k), r.last().train_loss_ratio);
      loss_min = std::min(loss_min, r.last().train_loss_ratio);
    }
  }
  out.metric("lambda_ratio_max_realistic_n", ratio_max);
  out.metric("effective_rank_max_realistic_n", rank_max);
  out.metric("train_loss_ratio_min", loss_min);
  out.data["spectra"] = spectra;
  return out;
}

}  // namespace

std::vector<ExperimentKind> convergence_experiments() {
  return {
      {"curse_e7_convergence",
       "GD loss vs (1 - eta lambda/2)^t L(0) and the linearised curve at tiny n",
       {p_strings("variants", {"A", "B"}), p_ints("ds", 2, 64), p_ints("ms", 2, 65536),
        p_int("n", 2, 64), p_int("steps", 1, 100000000), p_int("seeds", 1, 100),
        p_real("gamma", 0, 0.999).optional(0.5), p_real("sigma", 0, 10).optional(0.01)},
       run_convergence},
      {"curse_e7_rank",
       "Spectrum of H(0) (lambda_min/lambda_max, effective rank) vs n, and L(T)/L(0) at realistic "
       "n",
       {p_strings("variants", {"A", "B"}), p_ints("ns", 2, 100000), p_int("d", 2, 64),
        p_int("m", 2, 65536), p_int("seeds", 1, 100), p_int("n_realistic", 2, 100000),
        p_int("m_train", 2, 65536), p_int("steps", 1, 1000000), p_int("seeds_train", 1, 100),
        p_real("gamma", 0, 0.999).optional(0.5), p_real("sigma", 0, 10).optional(0.01)},
       run_rank},
  };
}

}  // namespace attnlab::curse

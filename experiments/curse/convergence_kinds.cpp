// E7: Thm 5.2(a) / Lemma H.1 linear convergence in its own regime (tiny n, lambda_min > 0), and
// Assumption F.3 (lambda_min(H*) > 0) decided in extended precision, with the size of what
// Thm 5.2(a) then requires (width ~ lambda^-3, steps ~ 1/(eta lambda)) at realistic n.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "analysis/ntk.h"
#include "analysis/ntk_extended.h"
#include "core/thread_pool.h"
#include "experiments/curse/common.h"
#include "experiments/curse/kinds.h"

namespace attnlab::curse {
namespace {

SsmSpec spec_of(const ParamValues& P, const std::string& variant, int d) {
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
  const ParamValues& P = ctx.params;
  const int T = ctx.scaled(P.i32("steps"));
  const std::vector<int> grid = log_grid(T);
  Outcome out;
  double violations = 0, worst_gap = 0;
  nlohmann::json runs = nlohmann::json::array();
  // Symmetric deviation of GD from the linearised curve, max over logged t >= 1:
  // |L - L_lin| / max(L, L_lin), in [0, 1] whichever curve is lower. By (variant, d, m) over seeds.
  std::map<std::string, std::map<std::int64_t, std::vector<double>>> sym_dev;
  const double jobs = static_cast<double>(P.strings("variants").size() * P.ints("ds").size() *
                                          P.ints("ms").size()) *
                      P.i32("seeds");
  double done = 0;
  for (const auto& v : P.strings("variants"))
    for (auto d : P.ints("ds"))
      for (int k = 0; k < P.i32("seeds"); ++k) {
        const std::uint64_t seed =
            stream_seed(ctx.seed, "replicate", static_cast<std::uint64_t>(k));
        const SsmSpec spec = spec_of(P, v, static_cast<int>(d));
        const Data train =
            make_data(spec, false, seed, "train", static_cast<std::size_t>(P.i("n")));
        for (auto m : P.ints("ms")) {
          ctx.progress(done++ / jobs, v + " d=" + std::to_string(d) + " m=" + std::to_string(m));
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
          double dev = 0;
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
                if (t >= 1) dev = std::max(dev, std::abs(L - Llin) / std::max(L, Llin));
              });
          sym_dev[v + "_d" + std::to_string(d)][m].push_back(dev);
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
                          {"sym_dev", dev},
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
  // NTK theory: the net's GD departs from its linearisation by terms that vanish as m grows, so
  // the median deviation must fall with width: log-log slope over the widths, per (variant, d).
  double slope_max = -INFINITY;
  nlohmann::json trend = nlohmann::json::array();
  for (const auto& [group, by_m] : sym_dev) {
    std::vector<double> ms, meds;
    for (const auto& [m, devs] : by_m) {
      ms.push_back(static_cast<double>(m));
      meds.push_back(median(devs));
      out.metric("sym_dev_median_" + group + "_m" + std::to_string(m), meds.back());
    }
    const double slope = loglog_slope(ms, meds);
    out.metric("sym_dev_slope_" + group, slope);
    slope_max = std::max(slope_max, slope);
    trend.push_back({{"group", group}, {"m", ms}, {"median_sym_dev", meds}, {"slope", slope}});
  }
  out.metric("sym_dev_slope_max", slope_max);
  out.data["sym_dev_trend"] = trend;
  out.data["runs"] = runs;
  return out;
}

// Assumption F.3 in 150-digit arithmetic: the same H(0) = (1/m) sum_r phi_r phi_r^T (paired
// init: the m/2 distinct weights, each twice) from the exact double inputs, its lambda_min /
// lambda_max with the rounding interval, and the same matrix in double (the negative control:
// double rounding cannot decide the sign). Positive control: a Gaussian feature matrix of the same
// shape through the same extended pipeline, whose ratio is ~ (1 - sqrt(n/p))^2 / (1 + ..)^2.
struct ExtendedRun {
  SpectrumBounds ext, dbl;
};
ExtendedRun extended_spectrum(const SsmSpec& spec, int n, int m, std::uint64_t seed) {
  const Data train = make_data(spec, false, seed, "train", static_cast<std::size_t>(n));
  Rng rng = make_stream(seed, "curse.init");
  const AttnNetParams p = init_paired(m, 1.0, rng);
  const Eigen::Index half = m / 2, d = train.X.rows();
  ExtendedMatrix Jt(half, n);
  parallel_for(static_cast<std::size_t>(half), [&](std::size_t b, std::size_t e) {
    for (auto r = static_cast<Eigen::Index>(b); r < static_cast<Eigen::Index>(e); ++r)
      for (Eigen::Index i = 0; i < n; ++i)
        Jt(r, i) = ntk_feature_exact<Extended>(p.w[r], train.X.col(i).data(), d);
  });
  ExtendedRun out;
  out.ext = spectrum_bounds(gram_extended(Jt, 0.5 * m), half);
  out.dbl = spectrum_bounds(ntk_gram(jacobian_t(p, train.X)), m);
  return out;
}

SpectrumBounds gaussian_control(int n, int p, std::uint64_t seed) {
  Rng rng = make_stream(seed, "curse.e7.gaussian_control");
  ExtendedMatrix Jt(p, n);
  for (Eigen::Index r = 0; r < p; ++r)
    for (Eigen::Index i = 0; i < n; ++i) Jt(r, i) = normal(rng);
  return spectrum_bounds(gram_extended(Jt, p), p);
}

Outcome run_kernel(const RunContext& ctx) {
  const ParamValues& P = ctx.params;
  Outcome out;
  double ratio_max = -INFINITY, rank_max = 0, loss_min = INFINITY;
  nlohmann::json spectra = nlohmann::json::array();
  const double variants = static_cast<double>(P.strings("variants").size());
  double variants_done = 0;
  // First half of the bar: per variant, each n's spectra and then the training (one share each).
  const double shares = static_cast<double>(P.ints("ns").size()) + 1;
  for (const auto& v : P.strings("variants")) {
    const SsmSpec spec = spec_of(P, v, P.i32("d"));
    double share = 0;
    for (auto n : P.ints("ns")) {
      ctx.progress(0.5 * (variants_done + share++ / shares) / variants,
                   v + ": double spectra n=" + std::to_string(n));
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
    c.checkpoints = {ctx.scaled(P.i32("steps"))};
    c.ntk = false;
    ctx.progress(0.5 * (variants_done + share / shares) / variants, v + ": training");
    for (int k = 0; k < P.i32("seeds_train"); ++k) {
      c.seed = stream_seed(ctx.seed, "replicate", static_cast<std::uint64_t>(k));
      const RunRecord r = run_attention(c);
      out.metric("train_loss_ratio_" + v + "_s" + std::to_string(k), r.last().train_loss_ratio);
      loss_min = std::min(loss_min, r.last().train_loss_ratio);
    }
    variants_done += 1;
  }
  // Extended precision: the smallest ratio over variants, n and seeds decides.
  SpectrumBounds worst_ext, worst_dbl;
  worst_ext.ratio = worst_dbl.ratio = INFINITY;
  double steps_log10 = 0, width_log10 = 0;
  nlohmann::json extended = nlohmann::json::array();
  const auto ns_ext = P.ints("ns_extended");
  const double jobs = static_cast<double>(ns_ext.size()) * P.i32("seeds_extended");
  double done = 0;
  // H(0) depends on the inputs only, whose law is the same in variants A and B (they differ in
  // the targets): one variant's matrices stand for both.
  for (const auto& v : {P.strings("variants").front()}) {
    const SsmSpec spec = spec_of(P, v, P.i32("d"));
    for (auto n : ns_ext) {
      std::vector<double> log_ratios;
      for (int k = 0; k < P.i32("seeds_extended"); ++k) {
        ctx.progress(0.5 + 0.5 * done++ / jobs, v + " n=" + std::to_string(n) + " (150 digits)");
        const std::uint64_t seed =
            stream_seed(ctx.seed, "replicate", static_cast<std::uint64_t>(k));
        const ExtendedRun r =
            extended_spectrum(spec, static_cast<int>(n), P.i32("m_extended"), seed);
        if (r.ext.ratio < worst_ext.ratio) worst_ext = r.ext;
        if (r.dbl.ratio < worst_dbl.ratio) worst_dbl = r.dbl;
        if (r.ext.lo > 0) {  // Thm 5.2(a)'s requirements at this lambda (eta = 0.5 / lambda_max)
          steps_log10 = std::max(steps_log10, std::log10(2.0) - std::log10(r.ext.ratio));
          width_log10 = std::max(width_log10, -3.0 * r.ext.log10_lambda_min);
        }
        log_ratios.push_back(r.ext.ratio > 0 ? std::log10(r.ext.ratio) : -400.0);
        extended.push_back({{"variant", v},
                            {"n", n},
                            {"seed", k},
                            {"ratio_extended", r.ext.ratio},
                            {"interval_extended", {r.ext.lo, r.ext.hi}},
                            {"ratio_double", r.dbl.ratio},
                            {"interval_double", {r.dbl.lo, r.dbl.hi}},
                            {"lambda_min_extended", r.ext.lambda_min},
                            {"lambda_max", r.ext.lambda_max}});
      }
      out.metric("log10_lambda_ratio_extended_" + v + "_n" + std::to_string(n), median(log_ratios));
    }
  }
  out.bounded("lambda_ratio_min_extended", worst_ext.ratio, worst_ext.lo, worst_ext.hi);
  out.bounded("lambda_ratio_min_extended@double", worst_dbl.ratio, worst_dbl.lo, worst_dbl.hi);
  const SpectrumBounds g =
      gaussian_control(static_cast<int>(*std::max_element(ns_ext.begin(), ns_ext.end())),
                       P.i32("m_extended") / 2, ctx.seed);
  out.bounded("lambda_ratio_min_extended@gaussian_features", g.ratio, g.lo, g.hi);
  out.metric("log10_steps_required_max", steps_log10);
  out.metric("log10_width_required_min_max", width_log10);
  out.data["extended"] = extended;
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
       {p_strings("variants", {"A", "B"}).describe("SSM data variants (docs/curse.md, Setting)"),
        p_ints("ds", 2, 64).describe("window lengths d = state dimensions"),
        p_ints("ms", 2, 65536).describe("widths m (even: paired init)"),
        p_int("n", 2, 64).describe("training points"),
        p_int("steps", 1, 100000000).describe("full-batch GD steps T"),
        p_int("seeds", 1, 100).describe("independent replicates"),
        p_real("gamma", 0, 0.999).optional(0.5).describe("variant B's <P_d, P_{d+1}>"),
        p_real("sigma", 0, 10).optional(0.01).describe("noise standard deviation")},
       run_convergence,
       {even("ms"), variant_b_dimension("ds")}},  // the paired init of models/curse/attention_net.h
      {"curse_e7_kernel",
       "Spectrum of H(0): lambda_min/lambda_max in 150-digit arithmetic with its rounding interval "
       "(and in double, the control), the width and steps Thm 5.2(a) then needs, the double "
       "spectrum and effective rank vs n, and L(T)/L(0) at realistic n",
       {p_strings("variants", {"A", "B"})
            .describe("SSM data variants; the first alone gives the 150-digit spectra"),
        p_ints("ns", 2, 100000).describe("n of the double-precision spectra"),
        p_int("d", 2, 64).describe("window length = state dimension"),
        p_int("m", 2, 65536).describe("width of the double-precision spectra (even)"),
        p_int("seeds", 1, 100).describe("replicates per n of the double-precision spectra"),
        p_ints("ns_extended", 2, 96).describe("n of the 150-digit spectra (cost ~ n m)"),
        p_int("m_extended", 2, 8192).describe("width of the 150-digit spectra (even)"),
        p_int("seeds_extended", 1, 20).describe("replicates per n of the 150-digit spectra"),
        p_int("n_realistic", 2, 100000)
            .describe("training points of the GD runs; spectra at n >= it count as realistic"),
        p_int("m_train", 2, 65536).describe("width of the GD runs (even)"),
        p_int("steps", 1, 1000000).describe("GD steps T of those runs"),
        p_int("seeds_train", 1, 100).describe("replicates of the GD runs per variant"),
        p_real("gamma", 0, 0.999).optional(0.5).describe("variant B's <P_d, P_{d+1}>"),
        p_real("sigma", 0, 10).optional(0.01).describe("noise standard deviation")},
       run_kernel,
       // Paired init; the double kernel matrices n x n (a few copies for the eigensolver) and
       // the width-m features of the largest n.
       {even("m"), even("m_extended"), even("m_train"), variant_b_dimension("d"),
        fits_memory({"ns", "n_realistic", "m", "m_train", "d"},
                    [](const ParamValues& P) {
                      double n = P.number("n_realistic");
                      for (const auto v : P.ints("ns")) n = std::max(n, static_cast<double>(v));
                      const double m = std::max(P.number("m"), P.number("m_train"));
                      return 8.0 * 4 * n * n + 8.0 * 4 * n * m * P.number("d");
                    })}},
  };
}

}  // namespace attnlab::curse

// E3 (OOD failure), E4 (lazy training / NTK), E5 (asymmetric learning), E8 (gating, sign test):
// sweeps of trained attention runs (experiments/curse/common.h), one kind per claim family.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "experiments/curse/common.h"
#include "experiments/curse/kinds.h"

namespace attnlab::curse {
namespace {

std::vector<ParamSpec> sweep_schema() {
  return {
      p_strings("variants", {"A", "B"})
          .describe("SSM task variants (synth/ssm.h): A, c_d = 7/8; B, abs(c) = 1"),
      p_ints("ms", 2, 65536).describe("widths m (even: paired init)"),
      p_int("n", 4, 100000).describe("training points"),
      p_ints("n_sweep", 4, 100000)
          .optional(nlohmann::json::array())
          .describe("extra training-set sizes, run at width n_sweep_m"),
      p_int("n_sweep_m", 2, 65536).optional(256).describe("width m of the n_sweep runs (even)"),
      p_ints("checkpoints", 1, 10000000).describe("GD steps at which to evaluate; last = T"),
      p_int("long_max_m", 2, 65536)
          .optional(65536)
          .describe("widths above this (and the n_sweep runs) stop at the first checkpoint"),
      p_int("seeds", 1, 100).describe("independent replicates per configuration"),
      p_int("d", 2, 64).optional(8).describe("window length = state dimension"),
      p_real("gamma", 0, 0.999).optional(0.5).describe("variant B's <P_d, P_{d+1}>"),
      p_real("sigma", 0, 10).optional(0.01).describe("noise standard deviation"),
      p_int("n_test", 10, 1000000).optional(4000).describe("ID and OOD test points, each"),
      p_real("eta_factor", 1e-6, 2).optional(0.5).describe("eta = eta_factor / lambda_max(H(0))"),
      p_reals("init_scales", 1e-6, 100)
          .optional(nlohmann::json::array({1.0}))
          .describe("w_r(0) ~ N(0, s^2)"),
      p_bool("ntk").optional(true).describe("also compute H(t) and the linearised (NTK) predictor"),
  };
}

struct Sweep {
  std::vector<RunRecord> runs;
};

Sweep run_sweep(const RunContext& ctx) {
  const ParamValues& P = ctx.params;
  struct Job {
    std::string variant;
    int m, n;
    double scale;
    int seed_index;
  };
  std::vector<Job> jobs;
  const auto seeds = P.i32("seeds");
  for (const auto& v : P.strings("variants"))
    for (double s : P.reals("init_scales"))
      for (int k = 0; k < seeds; ++k) {
        for (auto m : P.ints("ms")) jobs.push_back({v, static_cast<int>(m), P.i32("n"), s, k});
        for (auto n : P.ints("n_sweep"))
          jobs.push_back({v, P.i32("n_sweep_m"), static_cast<int>(n), s, k});
      }
  double total = 0, done = 0;
  for (const auto& j : jobs) total += static_cast<double>(j.m) * j.n;
  Sweep sw;
  for (const auto& j : jobs) {
    ctx.progress(done / total,
                 j.variant + " m=" + std::to_string(j.m) + " n=" + std::to_string(j.n));
    RunConfig c;
    c.spec.variant = parse_ssm_variant(j.variant);
    c.spec.d = P.i32("d");
    c.spec.gamma = P.d("gamma");
    c.spec.sigma = P.d("sigma");
    c.m = j.m;
    c.n = j.n;
    c.n_test = P.i32("n_test");
    // Wide runs and the n-sweep stop at the first checkpoint (time budget).
    const bool short_run = j.m > P.i32("long_max_m") || j.n != P.i32("n");
    c.checkpoints.clear();
    for (auto t : P.ints("checkpoints")) {
      c.checkpoints.push_back(ctx.scaled(static_cast<int>(t)));
      if (short_run) break;
    }
    c.eta_factor = P.d("eta_factor");
    c.init_scale = j.scale;
    c.ntk = P.b("ntk");
    c.seed = stream_seed(ctx.seed, "replicate", static_cast<std::uint64_t>(j.seed_index));
    sw.runs.push_back(run_attention(c));
    done += static_cast<double>(j.m) * j.n;
  }
  ctx.progress(1.0, "done");
  return sw;
}

// Runs grouped by configuration (variant, m, n, init scale) in sweep order.
struct Group {
  std::string variant;
  int m, n;
  double scale;
  std::vector<const RunRecord*> runs;
};
std::vector<Group> groups(const Sweep& sw) {
  std::vector<Group> out;
  for (const auto& r : sw.runs) {
    const std::string v = to_string(r.config.spec.variant);
    auto it = std::find_if(out.begin(), out.end(), [&](const Group& g) {
      return g.variant == v && g.m == r.config.m && g.n == r.config.n &&
             g.scale == r.config.init_scale;
    });
    if (it == out.end()) {
      out.push_back({v, r.config.m, r.config.n, r.config.init_scale, {}});
      it = out.end() - 1;
    }
    it->runs.push_back(&r);
  }
  return out;
}

template <class F>
std::vector<double> collect(const Group& g, F f) {
  std::vector<double> v;
  for (const auto* r : g.runs) v.push_back(f(*r));
  return v;
}

// The checkpoint at step t (throws if the run did not reach it).
const Checkpoint& at(const RunRecord& r, int t) {
  for (const auto& c : r.checkpoints)
    if (c.t == t) return c;
  throw std::out_of_range("no checkpoint at t=" + std::to_string(t));
}

nlohmann::json runs_json(const Sweep& sw) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : sw.runs) a.push_back(to_json(r));
  return a;
}

std::string tag(const Group& g) {
  return g.variant + "_m" + std::to_string(g.m) + "_n" + std::to_string(g.n);
}

// ---- E3: OOD failure of attention vs the residual linear model --------------------------------
Outcome run_e3(const RunContext& ctx) {
  const Sweep sw = run_sweep(ctx);
  Outcome out;
  double min_ratio = INFINITY, min_vs_zero = INFINITY;
  // Controls through the same ratios: the zero predictor in place of the attention net (must
  // fail ">= 10 x linear") and the residual linear model in place of it (must fail ">= half
  // the zero predictor").
  double zero_over_lin = INFINITY, lin_over_zero = INFINITY;
  for (const auto& g : groups(sw)) {
    zero_over_lin =
        std::min(zero_over_lin,
                 median(collect(g, [](const RunRecord& r) { return r.ood_zero / r.ood_lin; })));
    lin_over_zero =
        std::min(lin_over_zero,
                 median(collect(g, [](const RunRecord& r) { return r.ood_lin / r.ood_zero; })));
    for (const auto& ck : g.runs.front()->checkpoints) {
      const int t = ck.t;
      const double ratio =
          median(collect(g, [&](const RunRecord& r) { return at(r, t).ood_attn / r.ood_lin; }));
      const double vs_zero =
          median(collect(g, [&](const RunRecord& r) { return at(r, t).ood_attn / r.ood_zero; }));
      min_ratio = std::min(min_ratio, ratio);
      min_vs_zero = std::min(min_vs_zero, vs_zero);
    }
    const int T = g.runs.front()->last().t;
    const std::string k = tag(g);
    out.metric("ood_attn_" + k,
               median(collect(g, [](const RunRecord& r) { return r.last().ood_attn; })));
    out.metric("ood_lin_" + k, median(collect(g, [](const RunRecord& r) { return r.ood_lin; })));
    out.metric("ood_zero_" + k, median(collect(g, [](const RunRecord& r) { return r.ood_zero; })));
    out.metric("id_attn_" + k,
               median(collect(g, [](const RunRecord& r) { return r.last().id_attn; })));
    out.metric("id_lin_" + k, median(collect(g, [](const RunRecord& r) { return r.id_lin; })));
    out.metric("ood_ntk_inf_" + k,
               median(collect(g, [](const RunRecord& r) { return r.ood_ntk_inf; })));
    out.metric("ood_gap_" + k, median(collect(g, [](const RunRecord& r) {
                 return (r.last().ood_attn / r.ood_lin) / (r.last().id_attn / r.id_lin);
               })));
    out.seeds("ratio_" + k + "_T" + std::to_string(T),
              collect(g, [](const RunRecord& r) { return r.last().ood_attn / r.ood_lin; }),
              Aggregate::Median);
  }
  out.metric("min_ratio_attn_over_lin", min_ratio);
  out.metric("min_attn_over_zero", min_vs_zero);
  out.metric("min_ratio_attn_over_lin@zero", zero_over_lin);
  out.metric("min_attn_over_zero@linear", lin_over_zero);
  out.data["runs"] = runs_json(sw);
  return out;
}

// ---- E4: lazy training, kernel stability, net ~ NTK predictor ---------------------------------
Outcome run_e4(const RunContext& ctx) {
  const Sweep sw = run_sweep(ctx);
  Outcome out;
  const auto gs = groups(sw);
  double slope_min = INFINITY, slope_max = -INFINITY, kc1024 = 0, nvn1024 = 0, nvn4096 = 0,
         oodrel = 0;
  double violations = 0;
  for (const std::string v : {"A", "B"}) {
    std::vector<double> ms, R, kc, nvn;
    for (const auto& g : gs) {
      if (g.variant != v) continue;
      const int t = g.runs.front()->checkpoints.front().t;  // every width reaches it
      ms.push_back(g.m);
      R.push_back(median(collect(g, [&](const RunRecord& r) { return at(r, t).R; })));
      kc.push_back(median(collect(g, [&](const RunRecord& r) { return at(r, t).kernel_change; })));
      nvn.push_back(
          median(collect(g, [&](const RunRecord& r) { return at(r, t).net_vs_ntk_ood; })));
      const double rel = median(collect(g, [&](const RunRecord& r) {
        return std::abs(at(r, t).ood_attn - at(r, t).ood_ntk) / at(r, t).ood_ntk;
      }));
      const std::string k = v + "_m" + std::to_string(g.m);
      out.metric("R_" + k, R.back());
      out.metric("kernel_change_" + k, kc.back());
      out.metric("net_vs_ntk_" + k, nvn.back());
      out.metric("ood_rel_diff_" + k, rel);
      if (g.m >= 1024) {
        kc1024 = std::max(kc1024, kc.back());
        oodrel = std::max(oodrel, rel);
      }
      if (g.m == 1024) nvn1024 = std::max(nvn1024, nvn.back());
      if (g.m == gs.back().m) nvn4096 = std::max(nvn4096, nvn.back());  // widest width
      if (g.m == gs.back().m && g.variant == v)
        out.seeds("R_" + k, collect(g, [&](const RunRecord& r) { return at(r, t).R; }),
                  Aggregate::Median);
    }
    if (ms.empty()) continue;
    for (std::size_t j = 1; j < ms.size(); ++j)
      violations += (R[j] >= R[j - 1]) + (kc[j] >= kc[j - 1]) + (nvn[j] >= nvn[j - 1]);
    std::vector<double> m2, R2;
    for (std::size_t j = 0; j < ms.size(); ++j)
      if (ms[j] >= 256) {
        m2.push_back(ms[j]);
        R2.push_back(R[j]);
      }
    const double slope = loglog_slope(m2, R2);
    out.metric("slope_R_" + v, slope);
    out.metric("slope_kernel_change_" + v, loglog_slope(ms, kc));
    slope_min = std::min(slope_min, slope);
    slope_max = std::max(slope_max, slope);
  }
  out.metric("slope_R_min", slope_min);
  out.metric("slope_R_max", slope_max);
  out.metric("monotonicity_violations", violations);
  out.metric("kernel_change_max_m_ge_1024", kc1024);
  out.metric("net_vs_ntk_max_m1024", nvn1024);
  out.metric("net_vs_ntk_max_widest", nvn4096);
  out.metric("ood_rel_diff_max_m_ge_1024", oodrel);
  out.data["runs"] = runs_json(sw);
  return out;
}

// ---- E5: asymmetric learning (Thm 5.2(b), Lemma I.3) and the Thm 5.3 mass diagnostic ----------
double at_time(const RunRecord& r, const std::vector<double>& series, int t) {
  for (std::size_t j = 0; j < r.log_times.size(); ++j)
    if (r.log_times[j] == t) return series[j];
  throw std::out_of_range("no log time " + std::to_string(t));
}

Outcome run_e5(const RunContext& ctx) {
  const Sweep sw = run_sweep(ctx);
  Outcome out;
  double step0 = INFINITY, drift10 = INFINITY, sign_max = 0, sign_min = 1,
         mass_min_count = INFINITY;
  double sign_all = 0;
  for (const auto& g : groups(sw)) {
    const std::string k = tag(g) + "_s" + std::to_string(g.scale);
    const auto s0 = collect(g, [](const RunRecord& r) { return at_time(r, r.step_agree, 0); });
    const auto d10 = collect(g, [](const RunRecord& r) { return at_time(r, r.drift_agree, 10); });
    const auto sT = collect(g, [](const RunRecord& r) { return r.sign_agree_T; });
    const auto mass =
        collect(g, [](const RunRecord& r) { return r.mass_neg < r.mass_pos ? 1.0 : 0.0; });
    out.metric("step_agree0_" + k, *std::min_element(s0.begin(), s0.end()));
    out.metric("drift_agree10_" + k, *std::min_element(d10.begin(), d10.end()));
    out.metric("sign_agree_T_" + k, median(sT));
    out.metric("mass_deficit_seeds_" + k, std::accumulate(mass.begin(), mass.end(), 0.0));
    if (g.scale == 1.0) {
      step0 = std::min(step0, *std::min_element(s0.begin(), s0.end()));
      drift10 = std::min(drift10, *std::min_element(d10.begin(), d10.end()));
      mass_min_count = std::min(mass_min_count, std::accumulate(mass.begin(), mass.end(), 0.0));
    }
    if (g.scale == 1.0) {
      sign_max = std::max(sign_max, *std::max_element(sT.begin(), sT.end()));
      sign_min = std::min(sign_min, *std::min_element(sT.begin(), sT.end()));
    }
    sign_all = std::max(sign_all, *std::max_element(sT.begin(), sT.end()));
  }
  out.metric("step_agree0_min", step0);
  out.metric("drift_agree10_min", drift10);
  out.metric("sign_agree_T_max", sign_max);
  out.metric("sign_agree_T_min", sign_min);
  out.metric("sign_agree_T_max_all_scales", sign_all);
  out.metric("mass_deficit_seed_count_min", mass_min_count);
  out.data["runs"] = runs_json(sw);
  return out;
}

// ---- E8: gating identity (exact) and the sign test on trained nets -----------------------------
double gating_identity_error(std::uint64_t seed, bool paired) {
  Rng rng = make_stream(seed, "curse.e8.gating", paired ? 1 : 0);
  double worst = 0;
  for (double scale : {0.1, 1.0, 10.0, 100.0}) {
    const AttnNetParams p = paired ? init_paired(256, scale, rng) : init_unpaired(257, scale, rng);
    Eigen::MatrixXd X(8, 200);
    for (Eigen::Index j = 0; j < X.cols(); ++j)
      for (Eigen::Index i = 0; i < X.rows(); ++i) X(i, j) = 3.0 * normal(rng);
    X.row(7).setZero();  // x_d = 0: every logit is 0, softmax uniform
    const Eigen::VectorXd f = predict(p, X);
    const double coef = p.a.sum() / std::sqrt(static_cast<double>(p.width()));
    const Eigen::VectorXd expect = coef * X.colwise().mean().transpose();
    worst = std::max(worst, (f - expect).cwiseAbs().maxCoeff());
  }
  return worst;
}

Outcome run_e8(const RunContext& ctx) {
  Outcome out;
  out.metric("gating_paired_max_abs", gating_identity_error(ctx.seed, true));
  out.metric("gating_unpaired_max_err", gating_identity_error(ctx.seed, false));
  const Sweep sw = run_sweep(ctx);
  double p_xd_min = 1, p_y_max = 0;
  for (const auto& g : groups(sw)) {
    const std::string k = tag(g);
    const auto pxd = collect(g, [](const RunRecord& r) { return r.p_ood_sign_xd; });
    const auto py = collect(g, [](const RunRecord& r) { return r.p_ood_sign_y; });
    p_xd_min = std::min(p_xd_min, *std::min_element(pxd.begin(), pxd.end()));
    p_y_max = std::max(p_y_max, *std::max_element(py.begin(), py.end()));
    out.metric("p_ood_sign_xd_" + k, median(pxd));
    out.metric("p_ood_sign_y_" + k, median(py));
    out.metric("p_id_sign_y_" + k,
               median(collect(g, [](const RunRecord& r) { return r.p_id_sign_y; })));
    out.metric("corr_id_f_xd_" + k,
               median(collect(g, [](const RunRecord& r) { return r.corr_id_f_xd; })));
    out.metric("p_ood_lin_sign_y_" + k,
               median(collect(g, [](const RunRecord& r) { return r.p_ood_lin_sign_y; })));
    for (std::size_t q = 0; q < 4; ++q)
      out.metric("quartile" + std::to_string(q + 1) + "_ratio_" + k,
                 median(collect(g, [&](const RunRecord& r) { return r.quartile_ratio[q]; })));
  }
  out.metric("p_ood_sign_xd_min", p_xd_min);
  out.metric("p_ood_sign_y_max", p_y_max);
  out.data["runs"] = runs_json(sw);
  return out;
}

// Widths are even (the paired init of models/curse/attention_net.h), and the sweep fits in
// memory: per width, the (n + n_test) x m x d activations (a few copies), and with `ntk` the
// kernel matrices, n x (n + n_test).
std::vector<Constraint> sweep_constraints() {
  const auto bytes = [](const ParamValues& P) {
    const double n = P.number("n"), n_test = P.number("n_test"), d = P.number("d");
    double m = P.number("n_sweep_m");
    for (const auto w : P.ints("ms")) m = std::max(m, static_cast<double>(w));
    double n_max = n;
    for (const auto v : P.ints("n_sweep")) n_max = std::max(n_max, static_cast<double>(v));
    const double net = 8.0 * 4 * (n_max + n_test) * m * d;
    const double ntk = P.b("ntk") ? 8.0 * 3 * n_max * (n_max + n_test) : 0.0;
    return net + ntk;
  };
  return {even("ms"), even("n_sweep_m"), variant_b_dimension("d"),
          fits_memory({"n", "n_sweep", "n_test", "ms", "n_sweep_m", "d", "ntk"}, bytes)};
}

}  // namespace

std::vector<ExperimentKind> attention_experiments() {
  return {
      {"curse_e3_ood",
       "Trained attention vs residual linear vs zero predictor on sign-inconsistent OOD data",
       sweep_schema(), run_e3, sweep_constraints()},
      {"curse_e4_lazy", "Weight movement, kernel change and net-vs-NTK distance vs width",
       sweep_schema(), run_e4, sweep_constraints()},
      {"curse_e5_asymmetric", "Sign agreement of GD steps, drifts and weights with a_r",
       sweep_schema(), run_e5, sweep_constraints()},
      {"curse_e8_gating", "x_d gating identity and the sign-following of trained attention",
       sweep_schema(), run_e8, sweep_constraints()},
  };
}

}  // namespace attnlab::curse

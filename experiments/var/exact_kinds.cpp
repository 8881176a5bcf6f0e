#include <algorithm>
#include <cmath>
#include <limits>

#include "analysis/var_extract.h"
#include "core/random_matrix.h"
#include "core/rng.h"
#include "experiments/var/kinds.h"
#include "models/samovar/samovar.h"

namespace attnlab::var {

namespace sv = attnlab::samovar;
using Eigen::MatrixXd;

namespace {

double max_abs(const MatrixXd& m) { return m.size() == 0 ? 0.0 : m.cwiseAbs().maxCoeff(); }

// Stack weights at a visible scale: the default 0.02 init plus N(0, weight_std) on every entry
// (the claims are identities, so any weights will do; larger ones make every path count).
sv::Params random_params(const sv::Config& cfg, double weight_std, Rng& rng) {
  sv::Params p = sv::init_params(cfg, rng);
  sv::Grads g = sv::zero_grads(p);
  for (auto& b : sv::param_blocks(p, g, cfg))
    for (std::size_t i = 0; i < b.size; ++i) b.value[i] += weight_std * normal(rng);
  return p;
}

sv::Config stack_config(const ParamValues& prm, int layers) {
  sv::Config cfg;
  cfg.input_len = prm.i32("tokens") / 2;  // T = 2 P with s = 1
  cfg.patch = 1;
  cfg.width = prm.i32("width");
  cfg.heads = prm.i32("heads");
  cfg.attn_layers = layers;
  cfg.mlp_layers = 1;
  cfg.dropout = 0;
  return cfg;
}

// Per-head q and v of every layer from a stack cache: Q[l], V[l] of head h, (T, d).
void head_qv(const sv::StackCache& c, int h, int d, std::vector<MatrixXd>& Q,
             std::vector<MatrixXd>& V) {
  Q.clear();
  V.clear();
  for (std::size_t l = 0; l < c.Q.size(); ++l) {
    Q.push_back(c.Q[l].middleCols(h * d, d));
    V.push_back(c.V[l].middleCols(h * d, d));
  }
}

// ---- #1 one layer = dynamic VAR with rank-1 A_{t,i} -----------------------------------------
Outcome run_single_layer(const RunContext& ctx) {
  const int T = ctx.params.i32("tokens"), d = ctx.params.i32("head_dim");
  const int trials = ctx.params.i32("trials");
  double var_vs_quad = 0, rec_vs_quad = 0, loop_vs_quad = 0, float_rel = 0, scale = 0;
  int rank_max = 0, rank_min = std::numeric_limits<int>::max();
  for (int k = 0; k < trials; ++k) {
    Rng rng = make_stream(ctx.seed, "inputs", static_cast<std::uint64_t>(k));
    const MatrixXd Q = gaussian_matrix(T, d, rng), K = gaussian_matrix(T, d, rng),
                   V = gaussian_matrix(T, d, rng);
    const MatrixXd O = sv::causal_linear_attention<double>(Q, K, V);
    const var_extract::LagGrid A = var_extract::single_layer_weights(Q, V);  // A_{t,i} = v_i^T q_t
    var_vs_quad = std::max(var_vs_quad, max_abs(var_extract::apply_lag_grid(A, K) - O));
    rec_vs_quad =
        std::max(rec_vs_quad, max_abs(sv::causal_linear_attention_recurrent<double>(Q, K, V) - O));
    loop_vs_quad =
        std::max(loop_vs_quad, max_abs(sv::causal_linear_attention_reference<double>(Q, K, V) - O));
    scale = std::max(scale, max_abs(O));
    const Eigen::MatrixXf Qf = Q.cast<float>(), Kf = K.cast<float>(), Vf = V.cast<float>();
    const Eigen::MatrixXf Of = sv::causal_linear_attention<float>(Qf, Kf, Vf);
    const Eigen::MatrixXf Rf = sv::causal_linear_attention_recurrent<float>(Qf, Kf, Vf);
    float_rel =
        std::max(float_rel, static_cast<double>((Rf - Of).cwiseAbs().maxCoeff()) / max_abs(O));
    for (int t = 0; t < T; ++t)
      for (int i = 0; i <= t; ++i) {
        const int r = var_extract::numerical_rank(A.at(t, i), 1e-12);
        rank_max = std::max(rank_max, r);
        rank_min = std::min(rank_min, r);
      }
    ctx.progress(static_cast<double>(k + 1) / trials, "trials");
  }
  Outcome out;
  out.metric("max_abs_diff_var_vs_quadratic", var_vs_quad);
  out.metric("max_abs_diff_recurrent_vs_quadratic", rec_vs_quad);
  out.metric("max_abs_diff_loops_vs_quadratic", loop_vs_quad);
  out.metric("max_rel_diff_float_recurrent_vs_quadratic", float_rel);
  out.metric("max_abs_output", scale);
  out.metric("max_rank_A", rank_max);
  out.metric("min_rank_A", rank_min);
  return out;
}

// ---- #2 stack = mixture of VAR on x~ -----------------------------------------------------------
Outcome run_stack_mixture(const RunContext& ctx) {
  const sv::Config cfg = stack_config(ctx.params, ctx.params.i32("layers"));
  const int T = cfg.tokens(), D = cfg.width, d = cfg.head_dim(), trials = ctx.params.i32("trials");
  double out_rel = 0, out_abs = 0, layer_rel = 0, scale = 0;
  for (int k = 0; k < trials; ++k) {
    Rng rng = make_stream(ctx.seed, "init", static_cast<std::uint64_t>(k));
    const sv::Params p = random_params(cfg, ctx.params.d("weight_std"), rng);
    Rng in = make_stream(ctx.seed, "inputs", static_cast<std::uint64_t>(k));
    const MatrixXd xt = gaussian_matrix(T, D, in);
    sv::StackCache cache;
    const MatrixXd y = sv::stack_forward(p, cfg, xt, 0, cache, nullptr);  // layer by layer
    MatrixXd y_var(T, D);
    for (int h = 0; h < cfg.heads; ++h) {
      std::vector<MatrixXd> Q, V;
      head_qv(cache, h, d, Q, V);
      const auto B = var_extract::path_weights(Q, V);
      const MatrixXd x_h = xt.middleCols(h * d, d);
      for (std::size_t l = 0; l < B.size(); ++l) {  // o^(l) = sum_j B^(l)_{t,j} x~_j
        const MatrixXd o = var_extract::apply_lag_grid(B[l], x_h);
        const MatrixXd& o_ref = cache.O[l];
        layer_rel = std::max(layer_rel, max_abs(o - o_ref.middleCols(h * d, d)) /
                                            max_abs(o_ref.middleCols(h * d, d)));
      }
      const MatrixXd Wo = sv::lu_matrix(p.theta.middleRows(h * d, d));
      const auto Phi =
          var_extract::effective_lag_matrices(var_extract::mixture_weights(B), Wo, true);
      y_var.middleCols(h * d, d) =
          var_extract::apply_lag_grid(Phi, x_h);  // y = sum_j Phi_{t,j} x~_j
    }
    out_abs = std::max(out_abs, max_abs(y_var - y));
    out_rel = std::max(out_rel, max_abs(y_var - y) / max_abs(y));
    scale = std::max(scale, max_abs(y));
    ctx.progress(static_cast<double>(k + 1) / trials, "trials");
  }
  Outcome out;
  out.metric("max_rel_diff_output", out_rel);
  out.metric("max_abs_diff_output", out_abs);
  out.metric("max_rel_diff_layer_outputs", layer_rel);
  out.metric("max_abs_output", scale);
  return out;
}

// ---- #3 path expansion -----------------------------------------------------------------------
Outcome run_path_expansion(const RunContext& ctx) {
  const int max_lag = ctx.params.i32("max_lag"), layers = ctx.params.i32("layers");
  const int d = ctx.params.i32("head_dim"), trials = ctx.params.i32("trials");
  const int T = max_lag + 2;
  int count_mismatches = 0;
  double max_rel = 0;
  std::int64_t paths = 0;
  nlohmann::json counts = nlohmann::json::array();
  for (int k = 0; k < trials; ++k) {
    Rng rng = make_stream(ctx.seed, "inputs", static_cast<std::uint64_t>(k));
    std::vector<MatrixXd> Q, V;
    for (int l = 0; l < layers; ++l) {
      Q.push_back(gaussian_matrix(T, d, rng));
      V.push_back(gaussian_matrix(T, d, rng));
    }
    const auto B = var_extract::path_weights(Q, V);
    for (int l = 1; l <= layers; ++l)
      for (int t = 0; t < T; ++t)
        for (int j = std::max(0, t - max_lag); j <= t; ++j) {
          const var_extract::PathSum s = var_extract::enumerate_paths(Q, V, t, j, l);
          const std::int64_t closed = var_extract::path_count_closed_form(t - j, l);
          count_mismatches += s.count != closed ? 1 : 0;
          paths += s.count;
          const MatrixXd& b = B[static_cast<std::size_t>(l - 1)].at(t, j);
          max_rel = std::max(max_rel, max_abs(s.sum - b) / std::max(max_abs(b), 1e-300));
          if (k == 0 && t == T - 1)
            counts.push_back(
                {{"layer", l}, {"lag", t - j}, {"paths", s.count}, {"closed_form", closed}});
        }
  }
  Outcome out;
  out.metric("path_count_mismatches", count_mismatches);
  out.metric("max_rel_diff_path_sum_vs_recursion", max_rel);
  out.metric("paths_enumerated", static_cast<double>(paths));
  out.data["path_counts"] = counts;
  return out;
}

// ---- #4 LU output matrix is invertible -------------------------------------------------------
struct LuDraws {
  int positive = 0;
  double min_logdet = std::numeric_limits<double>::infinity(), max_residual = 0;
  double min_diag = std::numeric_limits<double>::infinity(), max_cond = 0;
};

// `trials` draws of theta (d, d) ~ N(0, std^2), diagonal ~ U(lo, hi).
LuDraws lu_draws(std::uint64_t seed, const char* stream, int d, int trials, double std, double lo,
                 double hi) {
  LuDraws r;
  for (int k = 0; k < trials; ++k) {
    Rng rng = make_stream(seed, stream, static_cast<std::uint64_t>(k));
    MatrixXd theta = gaussian_matrix(d, d, rng, std);
    for (int i = 0; i < d; ++i) theta(i, i) = uniform(rng, lo, hi);
    const MatrixXd L = sv::lu_lower(theta), U = sv::lu_upper(theta), W = L * U;
    const double logdet = sv::lu_log_det(theta);  // det W = prod softplus(theta_ii)
    r.positive += std::isfinite(logdet) ? 1 : 0;
    r.min_logdet = std::min(r.min_logdet, logdet);
    r.min_diag = std::min(r.min_diag, U.diagonal().minCoeff());
    // W^{-1} = U^{-1} L^{-1} by two triangular solves, as the authors' optional inverse.
    const MatrixXd Linv = L.triangularView<Eigen::UnitLower>().solve(MatrixXd::Identity(d, d));
    const MatrixXd Winv = U.triangularView<Eigen::Upper>().solve(Linv);
    r.max_residual = std::max(r.max_residual, max_abs(W * Winv - MatrixXd::Identity(d, d)));
    const Eigen::VectorXd s = Eigen::JacobiSVD<MatrixXd>(W).singularValues();
    r.max_cond = std::max(r.max_cond, s(0) / s(d - 1));
  }
  return r;
}

Outcome run_output_matrix(const RunContext& ctx) {
  const int d = ctx.params.i32("head_dim"), trials = ctx.params.i32("trials");
  const double std = ctx.params.d("theta_std"), hi = ctx.params.d("diag_max");
  // Wide range: is det > 0 for very negative diagonals? Moderate range: is the inverse usable?
  const LuDraws wide =
      lu_draws(ctx.seed, "theta.wide", d, trials, std, ctx.params.d("diag_min"), hi);
  const LuDraws mod =
      lu_draws(ctx.seed, "theta.moderate", d, trials, std, ctx.params.d("inverse_diag_min"), hi);
  // Where double precision ends: the largest integer theta with softplus(theta) == 0.
  double underflow = 0;
  while (sv::softplus(underflow) > 0) underflow -= 1;
  Outcome out;
  out.metric("fraction_det_positive", static_cast<double>(wide.positive) / trials);
  out.metric("min_log_det", wide.min_logdet);
  out.metric("min_u_diagonal", wide.min_diag);
  out.metric("max_inverse_residual", mod.max_residual);
  out.metric("max_condition_number", mod.max_cond);
  out.metric("max_inverse_residual_wide", wide.max_residual);
  out.metric("max_condition_number_wide", wide.max_cond);
  out.metric("softplus_underflow_theta", underflow);
  return out;
}

// ---- rank of the lag matrices vs depth -------------------------------------------------------
Outcome run_rank_depth(const RunContext& ctx) {
  const int max_layers = ctx.params.i32("max_layers"), trials = ctx.params.i32("trials");
  const int lag = ctx.params.i32("lag");
  const double tol = ctx.params.d("rank_tol");
  std::vector<double> mean_rank(static_cast<std::size_t>(max_layers), 0.0);
  std::vector<int> max_rank(static_cast<std::size_t>(max_layers), 0);
  nlohmann::json table = nlohmann::json::array();
  int d_used = 0;
  int max_excess = std::numeric_limits<int>::min();  // rank - min(d, t - j + 1)
  for (int M = 1; M <= max_layers; ++M) {
    const sv::Config cfg = stack_config(ctx.params, M);
    const int T = cfg.tokens(), D = cfg.width, d = cfg.head_dim();
    d_used = d;
    std::vector<double> by_lag(static_cast<std::size_t>(T), 0.0);
    std::vector<int> n_by_lag(static_cast<std::size_t>(T), 0);
    double sum_at_lag = 0;
    int n_at_lag = 0;
    for (int k = 0; k < trials; ++k) {
      Rng rng = make_stream(ctx.seed, "init", static_cast<std::uint64_t>(k));
      const sv::Params p = random_params(cfg, ctx.params.d("weight_std"), rng);
      Rng in = make_stream(ctx.seed, "inputs", static_cast<std::uint64_t>(k));
      const MatrixXd xt = gaussian_matrix(T, D, in);
      sv::StackCache cache;
      sv::stack_forward(p, cfg, xt, 0, cache, nullptr);
      for (int h = 0; h < cfg.heads; ++h) {
        std::vector<MatrixXd> Q, V;
        head_qv(cache, h, d, Q, V);
        const var_extract::LagGrid C =
            var_extract::mixture_weights(var_extract::path_weights(Q, V));
        for (int t = 0; t < T; ++t)
          for (int j = 0; j <= t; ++j) {
            const int r = var_extract::numerical_rank(C.at(t, j), tol);
            max_excess = std::max(max_excess, r - std::min(d, t - j + 1));
            const auto m = static_cast<std::size_t>(M - 1);
            max_rank[m] = std::max(max_rank[m], r);
            by_lag[static_cast<std::size_t>(t - j)] += r;
            n_by_lag[static_cast<std::size_t>(t - j)] += 1;
            if (t - j == lag) {
              sum_at_lag += r;
              ++n_at_lag;
            }
          }
      }
    }
    mean_rank[static_cast<std::size_t>(M - 1)] = sum_at_lag / std::max(n_at_lag, 1);
    for (int g = 0; g < T; ++g)
      table.push_back({{"depth", M},
                       {"lag", g},
                       {"mean_rank", by_lag[static_cast<std::size_t>(g)] /
                                         std::max(n_by_lag[static_cast<std::size_t>(g)], 1)}});
    ctx.progress(static_cast<double>(M) / max_layers, "depth");
  }
  Outcome out;
  out.metric("max_rank_depth1", max_rank[0]);
  for (int M = 1; M <= max_layers; ++M)
    out.metric("mean_rank_at_lag_depth" + std::to_string(M),
               mean_rank[static_cast<std::size_t>(M - 1)]);
  for (int M = 2; M <= max_layers; ++M)
    out.metric(
        "rank_gain_depth" + std::to_string(M - 1) + "_to_" + std::to_string(M),
        mean_rank[static_cast<std::size_t>(M - 1)] - mean_rank[static_cast<std::size_t>(M - 2)]);
  out.metric("head_dim", d_used);
  // Every path's right factor is q^(1)_i with j <= i <= t, so rank C_{t,j} <= min(d, t-j+1).
  out.metric("max_rank_excess_over_row_bound", max_excess);
  if (max_layers >= 2)  // how far depth 2 is below min(d, lag + 1) at the measured lag
    out.metric("rank_deficit_depth2_vs_bound",
               std::min(static_cast<double>(d_used), static_cast<double>(lag + 1)) - mean_rank[1]);
  out.data["rank_by_depth_and_lag"] = table;
  out.data["lag"] = lag;
  return out;
}

// ---- #5 ARX causality ------------------------------------------------------------------------
Outcome run_arx_causal(const RunContext& ctx) {
  sv::Config cfg;
  cfg.channels = ctx.params.i32("channels");
  cfg.input_len = ctx.params.i32("input_len");
  cfg.patch = ctx.params.i32("patch");
  cfg.width = ctx.params.i32("width");
  cfg.heads = ctx.params.i32("heads");
  cfg.mlp_layers = ctx.params.i32("layers");
  cfg.attn_layers = ctx.params.i32("layers");
  cfg.dropout = 0;
  const int P = cfg.patches(), s = cfg.patch, L = cfg.input_len, pad = P * s - L;
  const int trials = ctx.params.i32("trials");
  double past_fixed = 0, past_authors = 0, min_future = std::numeric_limits<double>::infinity();
  for (int k = 0; k < trials; ++k) {
    Rng rng = make_stream(ctx.seed, "init", static_cast<std::uint64_t>(k));
    const sv::Params p = random_params(cfg, ctx.params.d("weight_std"), rng);
    Rng in = make_stream(ctx.seed, "inputs", static_cast<std::uint64_t>(k));
    const MatrixXd window = gaussian_matrix(L, cfg.channels, in);
    const int n = static_cast<int>(uniform_int(in, 0, P - 2));  // perturb patch n + 1
    MatrixXd perturbed = window;
    for (int tau = (n + 1) * s; tau < (n + 2) * s; ++tau)
      if (tau - pad >= 0)
        for (int c = 0; c < cfg.channels; ++c) perturbed(tau - pad, c) += normal(in);
    sv::SampleCache a, b, b2;
    sv::forward(p, cfg, window, a, nullptr);
    sv::forward_with_revin(p, cfg, perturbed, a.revin, b, nullptr);  // RevIN stats held fixed
    sv::forward(p, cfg, perturbed, b2, nullptr);                     // authors' RevIN
    for (int c = 0; c < cfg.channels; ++c) {
      const auto cu = static_cast<std::size_t>(c);
      const MatrixXd d_fixed = b.seq[cu].pred - a.seq[cu].pred;
      const MatrixXd d_auth = b2.seq[cu].pred - a.seq[cu].pred;
      past_fixed = std::max(past_fixed, max_abs(d_fixed.topRows(n + 1)));
      past_authors = std::max(past_authors, max_abs(d_auth.topRows(n + 1)));
      min_future = std::min(min_future, max_abs(d_fixed.row(n + 1)));
    }
    ctx.progress(static_cast<double>(k + 1) / trials, "trials");
  }
  Outcome out;
  out.metric("max_change_past_predictions", past_fixed);
  out.metric("min_change_next_prediction", min_future);
  out.metric("max_change_past_predictions_authors_revin", past_authors);
  return out;
}

}  // namespace

std::vector<ExperimentKind> exact_experiments() {
  const auto stack_params = [](std::vector<ParamSpec> extra) {
    std::vector<ParamSpec> ps = {
        p_int("tokens", 2, 256).describe("T (even): tokens of the sequence"),
        p_int("width", 1, 512).describe("D"), p_int("heads", 1, 64).describe("h (divides D)"),
        p_int("trials", 1, 10000).describe("random draws"),
        p_real("weight_std", 0, 10).describe("std added to every parameter of the default init")};
    for (auto& e : extra) ps.push_back(std::move(e));
    return ps;
  };
  // T = 2P tokens with patch 1 (stack_config), h heads of width D / h.
  const auto stack_constraints = [] {
    return std::vector<Constraint>{even("tokens"), divides("heads", "width")};
  };
  auto rank_depth_constraints = stack_constraints();
  rank_depth_constraints.push_back(less("lag", "tokens"));
  return {
      {"samovar_single_layer_var",
       "one causal linear-attention layer = dynamic VAR with rank-1 A_{t,i} = v_i^T q_t",
       {p_int("tokens", 1, 512).describe("T, sequence length"),
        p_int("head_dim", 1, 256).describe("d, dimension of q, k and v"),
        p_int("trials", 1, 10000).describe("random draws of Q, K, V ~ N(0, 1)")},
       run_single_layer},
      {"samovar_stack_mixture",
       "aligned stack output = x~_t + W_o^T sum_j C_{t,j} x~_j^T with the B^(l) recursion",
       stack_params({p_int("layers", 1, 8).describe("attention layers of the aligned stack")}),
       run_stack_mixture, stack_constraints()},
      {"samovar_path_expansion",
       "B^(l)_{t,j} = sum over temporal influence paths; count C(t-j+l-1, l-1)",
       {p_int("max_lag", 0, 10).describe("largest lag t - j checked"),
        p_int("layers", 1, 4).describe("layers l = 1..layers checked"),
        p_int("head_dim", 1, 64).describe("d, dimension of q and v"),
        p_int("trials", 1, 1000).describe("random draws of Q, V ~ N(0, 1) per layer")},
       run_path_expansion},
      {"samovar_output_matrix",
       "the LU-parameterised W_o = L U is invertible with det = prod softplus(theta_ii) > 0",
       {p_int("head_dim", 1, 256).describe("d, size of the square W_o"),
        p_int("trials", 1, 100000).describe("random theta draws per diagonal range"),
        p_real("theta_std", 0, 100).describe("std of the off-diagonal theta entries"),
        p_real("diag_min", -700, 700)
            .describe("determinant draws: diagonal theta_ii ~ U(diag_min, diag_max)"),
        p_real("diag_max", -700, 700).describe("upper end of both diagonal ranges"),
        p_real("inverse_diag_min", -700, 700)
            .describe("inverse draws: theta_ii ~ U(inverse_diag_min, diag_max)")},
       run_output_matrix,
       {less("diag_min", "diag_max"), less("inverse_diag_min", "diag_max")}},
      {"samovar_rank_depth",
       "numerical rank of the mixture weights C_{t,j} per head vs the number of layers",
       stack_params(
           {p_int("max_layers", 1, 6).describe("depths 1..max_layers compared"),
            p_int("lag", 0, 255).describe("lag t - j of the reported mean ranks"),
            p_real("rank_tol", 0, 1).describe("rank counts singular values > rank_tol sigma_max")}),
       run_rank_depth, rank_depth_constraints},
      {"samovar_arx_causal",
       "perturbing patch n+1 leaves the model's predictions at En positions <= n unchanged",
       {p_int("channels", 1, 64).describe("C, series per window"),
        p_int("input_len", 2, 4096).describe("L, window length in steps"),
        p_int("patch", 1, 1024).describe("s, patch length"),
        p_int("width", 1, 512).describe("D, model width"),
        p_int("heads", 1, 64).describe("h, attention heads (divides width)"),
        p_int("layers", 1, 8).describe("MLP blocks and attention layers, each"),
        p_int("trials", 1, 10000).describe("random draws of weights, window and patch n"),
        p_real("weight_std", 0, 10).describe("std added to every parameter of the default init")},
       run_arx_causal,
       // patch < input_len: at least two patches, one to perturb and one before it
       {less("patch", "input_len"), divides("heads", "width")}},
  };
}

}  // namespace attnlab::var

// E9: the Sec 7.1 closed-form gradient of the multi-dimensional attention layer, and the
// Case 1/2 heuristic for the diagonal attention update after one GD step.
#include <algorithm>
#include <cmath>
#include <string>

#include "core/gradcheck.h"
#include "core/random_matrix.h"
#include "core/rng.h"
#include "experiments/curse/kinds.h"
#include "models/curse/multidim_attention.h"

namespace attnlab::curse {
namespace {

struct Problem {
  Eigen::MatrixXd X, G;
  MultiAttnParams p;
};
// Spec E9(b): X ~ N(0, (4/d) I), W ~ 0.1 N(0,1), W_V, G ~ N(0,1). X: (L, d).
Problem draw(Eigen::Index L, Eigen::Index d, Rng& rng) {
  Problem pr;
  pr.X = gaussian_matrix(L, d, rng, std::sqrt(4.0 / static_cast<double>(d)));
  pr.p.W = gaussian_matrix(d, d, rng, 0.1);
  pr.p.Wv = gaussian_matrix(d, d, rng, 1.0);
  pr.G = gaussian_matrix(L, d, rng, 1.0);
  return pr;
}

Outcome run_gradient(const RunContext& ctx) {
  const ParamValues& P = ctx.params;
  const auto d = static_cast<Eigen::Index>(P.i("d"));
  Outcome out;
  double worst = 0;
  for (auto L : P.ints("Ls")) {
    double worst_L = 0;
    for (int trial = 0; trial < P.i32("trials"); ++trial) {
      Rng rng = make_stream(ctx.seed, "curse.e9.grad." + std::to_string(L),
                            static_cast<std::uint64_t>(trial));
      Problem pr = draw(static_cast<Eigen::Index>(L), d, rng);
      MultiAttnCache cache;
      multi_attn_forward(pr.p, pr.X, cache);
      MultiAttnGrads g{Eigen::MatrixXd::Zero(d, d), Eigen::MatrixXd::Zero(d, d)};
      multi_attn_backward(pr.p, cache, pr.G, g);
      auto loss = [&] {
        MultiAttnCache c;
        return multi_attn_forward(pr.p, pr.X, c).cwiseProduct(pr.G).sum();  // dLoss/dAttn = G
      };
      GradCheckOptions opt;
      opt.eps = 1e-6;
      opt.max_coords_per_block = static_cast<std::size_t>(d * d);
      const auto res = check_gradient(
          loss, {GradBlock{"W", pr.p.W.data(), g.W.data(), static_cast<std::size_t>(d * d)}}, opt);
      worst_L = std::max(worst_L, res.max_rel_error());
    }
    out.metric("max_rel_error_L" + std::to_string(L), worst_L);
    worst = std::max(worst, worst_L);
  }
  out.metric("max_rel_error", worst);
  return out;
}

Outcome run_case(const RunContext& ctx) {
  const ParamValues& P = ctx.params;
  const auto d = static_cast<Eigen::Index>(P.i("d"));
  const double eta = P.d("eta");
  Outcome out;
  double worst = 1;
  nlohmann::json rows = nlohmann::json::array();
  for (auto L64 : P.ints("Ls")) {
    const auto L = static_cast<Eigen::Index>(L64);
    double agree = 0, agree_c = 0, count = 0;
    for (int trial = 0; trial < P.i32("trials"); ++trial) {
      Rng rng = make_stream(ctx.seed, "curse.e9.case." + std::to_string(L),
                            static_cast<std::uint64_t>(trial));
      Problem pr = draw(L, d, rng);
      MultiAttnCache c0, c1;
      multi_attn_forward(pr.p, pr.X, c0);
      MultiAttnGrads g{Eigen::MatrixXd::Zero(d, d), Eigen::MatrixXd::Zero(d, d)};
      multi_attn_backward(pr.p, c0, pr.G, g);
      MultiAttnParams p1 = pr.p;
      p1.W -= eta * g.W;  // one GD step on W
      multi_attn_forward(p1, pr.X, c1);
      const Eigen::MatrixXd V = pr.X * pr.p.Wv;  // row i = (W_V^T X_i)^T
      for (Eigen::Index i = 0; i < L; ++i) {
        const double dS = c1.S(i, i) - c0.S(i, i);
        const double score = pr.G.row(i).dot(V.row(i));                     // <G_i, W_V^T X_i>
        const double score_c = pr.G.row(i).dot(V.row(i) - c0.Attn.row(i));  // centred version
        agree += (dS > 0) == (score < 0) ? 1.0 : 0.0;
        agree_c += (dS > 0) == (score_c < 0) ? 1.0 : 0.0;
        count += 1;
      }
    }
    out.metric("agreement_L" + std::to_string(L), agree / count);
    out.metric("agreement_centred_L" + std::to_string(L), agree_c / count);
    rows.push_back(
        {{"L", L}, {"agreement", agree / count}, {"agreement_centred", agree_c / count}});
    worst = std::min(worst, agree / count);
  }
  out.metric("agreement_min", worst);
  out.data["rows"] = rows;
  return out;
}

}  // namespace

std::vector<ExperimentKind> sec71_experiments() {
  return {
      {"curse_e9_gradient",
       "Sec 7.1 closed-form dL/dW vs central finite differences",
       {p_ints("Ls", 1, 4096).describe("sequence lengths L (rows of X)"),
        p_int("d", 1, 256).describe("d, feature dimension (columns of X)"),
        p_int("trials", 1, 100000).describe("random draws of X, W, W_V, G per L")},
       run_gradient},
      {"curse_e9_case",
       "P[sign(Delta S_ii) = -sign(<G_i, W_V^T X_i>)] after one GD step",
       {p_ints("Ls", 1, 4096).describe("sequence lengths L (rows of X)"),
        p_int("d", 1, 256).describe("d, feature dimension (columns of X)"),
        p_int("trials", 1, 1000000).describe("random draws of X, W, W_V, G per L"),
        p_real("eta", 1e-12, 1).describe("step size of the one GD step on W")},
       run_case},
  };
}

}  // namespace attnlab::curse

// E2: the residual-linear (NLinear) model fitted by least squares reaches the noise floor
// sigma^2 (1 + |c|^2) on the OOD set (Prop 6.3 Part 2 / J.3, repaired per spec §1.5 item 3).
#include <algorithm>
#include <cmath>
#include <string>

#include "experiments/curse/common.h"
#include "experiments/curse/kinds.h"
#include "models/curse/residual_linear.h"

namespace attnlab::curse {
namespace {

Outcome run_e2(const RunContext& ctx) {
  const ParamValues& P = ctx.params;
  Outcome out;
  double coef_ratio = 0, coef_sigma0 = 0, ratio_min = INFINITY, ratio_max = 0, mse0 = 0;
  double slope_min = INFINITY, slope_max = -INFINITY, neg_floor_min = INFINITY, neg0 = INFINITY;
  nlohmann::json curves = nlohmann::json::array();
  const auto sigmas = P.reals("sigmas");
  for (const auto& v : P.strings("variants")) {
    for (auto n : P.ints("ns")) {
      std::vector<double> sig_pos, mse_pos;
      nlohmann::json curve = {{"variant", v},
                              {"n", n},
                              {"sigma", sigmas},
                              {"ood_mse", nlohmann::json::array()},
                              {"floor", nlohmann::json::array()}};
      for (double s : sigmas) {
        SsmSpec spec;
        spec.variant = parse_ssm_variant(v);
        spec.d = P.i32("d");
        spec.gamma = P.d("gamma");
        spec.sigma = s;
        const Eigen::VectorXd c = ssm_c(spec);
        const double floor = ssm_linear_solution_risk(c, s);
        std::vector<double> mses, coef, neg;
        for (int k = 0; k < P.i32("seeds"); ++k) {
          const std::uint64_t seed =
              stream_seed(ctx.seed, "replicate", static_cast<std::uint64_t>(k));
          const Data train = make_data(spec, false, seed, "train", static_cast<std::size_t>(n));
          const Data ood =
              make_data(spec, true, seed, "test_ood", static_cast<std::size_t>(P.i("n_test")));
          const LinearParams lin = linear_least_squares(train.X, train.y);
          mses.push_back(mse(linear_forward(lin, ood.X), ood.y));
          coef.push_back((lin.w.head(spec.d - 1) - c.head(spec.d - 1)).cwiseAbs().maxCoeff());
          // Negative control: target with sum(c') = 1 + delta (y' = y + delta x_1), same inputs.
          const double delta = P.d("control_delta");
          const Eigen::VectorXd y_tr = train.y + delta * train.X.row(0).transpose();
          const Eigen::VectorXd y_te = ood.y + delta * ood.X.row(0).transpose();
          const LinearParams bad = linear_least_squares(train.X, y_tr);
          neg.push_back(mse(linear_forward(bad, ood.X), y_te));
        }
        const double m = median(mses);
        curve["ood_mse"].push_back(m);
        curve["floor"].push_back(floor);
        const double cmax = *std::max_element(coef.begin(), coef.end());
        if (s > 0) {
          coef_ratio = std::max(coef_ratio, cmax / (10 * s + 1e-8));
          ratio_min = std::min(ratio_min, m / floor);
          ratio_max = std::max(ratio_max, m / floor);
          sig_pos.push_back(s);
          mse_pos.push_back(m);
          neg_floor_min = std::min(neg_floor_min, median(neg) / floor);
        } else {
          coef_sigma0 = std::max(coef_sigma0, cmax);
          mse0 = std::max(mse0, *std::max_element(mses.begin(), mses.end()));
          neg0 = std::min(neg0, *std::min_element(neg.begin(), neg.end()));
        }
        out.metric("ood_mse_" + v + "_n" + std::to_string(n) + "_sigma" + std::to_string(s), m);
      }
      const double slope = loglog_slope(sig_pos, mse_pos);
      out.metric("slope_" + v + "_n" + std::to_string(n), slope);
      slope_min = std::min(slope_min, slope);
      slope_max = std::max(slope_max, slope);
      curves.push_back(curve);
    }
  }
  out.metric("coef_err_over_10sigma_max", coef_ratio);
  out.metric("coef_err_sigma0_max", coef_sigma0);
  out.metric("ood_ratio_to_floor_min", ratio_min);
  out.metric("ood_ratio_to_floor_max", ratio_max);
  out.metric("ood_mse_sigma0_max", mse0);
  out.metric("slope_min", slope_min);
  out.metric("slope_max", slope_max);
  out.metric("negative_control_ratio_min", neg_floor_min);
  out.metric("negative_control_mse_sigma0_min", neg0);
  out.data["curves"] = curves;
  return out;
}

}  // namespace

std::vector<ExperimentKind> linear_experiments() {
  return {
      {"curse_e2_linear",
       "Least-squares residual linear model: coefficients vs c and OOD MSE vs sigma^2 (1+|c|^2)",
       {p_strings("variants", {"A", "B"}).describe("SSM data variants (docs/curse.md, Setting)"),
        p_ints("ns", 8, 1000000).describe("ID training-set sizes n"),
        p_reals("sigmas", 0, 10).describe("noise standard deviations sigma"),
        p_int("seeds", 1, 100).describe("independent replicates per (variant, n, sigma)"),
        p_int("d", 2, 64).optional(8).describe("window length = state dimension"),
        p_real("gamma", 0, 0.999).optional(0.5).describe("variant B's <P_d, P_{d+1}>"),
        p_int("n_test", 10, 10000000).optional(20000).describe("OOD test points"),
        p_real("control_delta", -10, 10)
            .optional(0.3)
            .describe("negative control: sum(c) = 1 + delta")},
       run_e2,
       {variant_b_dimension("d")}}};
}

}  // namespace attnlab::curse

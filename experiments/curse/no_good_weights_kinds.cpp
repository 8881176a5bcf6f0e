// E3b: the "no good w exists" part of Prop J.1: fit the attention net directly on OOD samples
// with a non-lazy optimizer (Adam) and evaluate on fresh OOD samples.
#include <algorithm>
#include <cmath>
#include <string>

#include "core/optim.h"
#include "experiments/curse/common.h"
#include "experiments/curse/kinds.h"

namespace attnlab::curse {
namespace {

Outcome run_oracle(const RunContext& ctx) {
  const ParamValues& P = ctx.params;
  Outcome out;
  double ratio_min = INFINITY;
  nlohmann::json rows = nlohmann::json::array();
  const auto variants = P.strings("variants");
  const int seeds = P.i32("seeds");
  const auto steps = ctx.scaled(P.i32("steps"));
  double runs_done = 0;  // finished (variant, seed) trainings
  const double runs = static_cast<double>(variants.size()) * seeds;
  for (const auto& v : variants) {
    SsmSpec spec;
    spec.variant = parse_ssm_variant(v);
    spec.gamma = P.d("gamma");
    spec.sigma = P.d("sigma");
    const double floor = ssm_linear_solution_risk(ssm_c(spec), spec.sigma);
    std::vector<double> ratios, mses, moves;
    for (int k = 0; k < seeds; ++k) {
      const std::string label = v + " seed " + std::to_string(k);
      const std::uint64_t seed = stream_seed(ctx.seed, "replicate", static_cast<std::uint64_t>(k));
      const Data train =
          make_data(spec, true, seed, "train_ood", static_cast<std::size_t>(P.i("n")));
      const Data test =
          make_data(spec, true, seed, "test_ood", static_cast<std::size_t>(P.i("n_test")));
      Rng rng = make_stream(seed, "curse.init");
      AttnNetParams p = init_paired(P.i("m"), 1.0, rng);
      const Eigen::VectorXd w0 = p.w;
      Adam<double> adam;
      AttnNetCache cache;
      for (std::int64_t t = 0; t < steps; ++t) {
        if (t % 64 == 0) ctx.progress((runs_done + static_cast<double>(t) / steps) / runs, label);
        const Eigen::VectorXd F = forward(p, train.X, cache);
        AttnNetGrads g{Eigen::VectorXd::Zero(p.width()), Eigen::VectorXd::Zero(p.width())};
        backward(p, cache, F - train.y, g);
        adam.step(
            {ParamBlock<double>{"w", p.w.data(), g.w.data(), static_cast<std::size_t>(p.width())}},
            P.d("lr"));
      }
      const double m = mse(predict(p, test.X), test.y);
      mses.push_back(m);
      ratios.push_back(m / floor);
      moves.push_back((p.w - w0).cwiseAbs().maxCoeff());
      runs_done += 1;
    }
    out.seeds("oracle_ood_mse_" + v, mses, Aggregate::Median);
    out.metric("oracle_over_floor_" + v, median(ratios));
    out.metric("oracle_R_" + v, median(moves));
    out.metric("zero_predictor_" + v, ssm_ood_expected_y2(ssm_c(spec), spec.sigma));
    ratio_min = std::min(ratio_min, *std::min_element(ratios.begin(), ratios.end()));
    rows.push_back({{"variant", v}, {"ood_mse", mses}, {"floor", floor}, {"R", moves}});
  }
  out.metric("oracle_over_floor_min", ratio_min);
  out.data["rows"] = rows;
  return out;
}

}  // namespace

std::vector<ExperimentKind> no_good_weights_experiments() {
  return {
      {"curse_e3b_oracle",
       "Attention fitted on OOD data with Adam, evaluated on fresh OOD data",
       {p_strings("variants", {"A", "B"}).describe("SSM data variants (docs/curse.md, Setting)"),
        p_int("m", 2, 65536).describe("width m (even: paired init)"),
        p_int("n", 4, 100000).describe("OOD training points"),
        p_int("n_test", 10, 1000000).describe("fresh OOD test points"),
        p_int("steps", 1, 1000000).describe("full-batch Adam steps"),
        p_real("lr", 1e-8, 10).describe("Adam learning rate"),
        p_int("seeds", 1, 100).describe("independent replicates per variant"),
        p_real("gamma", 0, 0.999).optional(0.5).describe("variant B's <P_d, P_{d+1}>"),
        p_real("sigma", 0, 10).optional(0.01).describe("noise standard deviation")},
       run_oracle,
       {even("m")}}};  // the paired init of models/curse/attention_net.h
}

}  // namespace attnlab::curse

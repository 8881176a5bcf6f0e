#pragma once
// Shared machinery of the curse experiments: data from synth/ssm.h as (d, n) column matrices,
// one trained attention run with every measurement of spec §5 (E3, E4, E5, E8).
#include <Eigen/Dense>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/stats.h"
#include "experiments/params.h"
#include "models/curse/attention_net.h"
#include "synth/ssm.h"

namespace attnlab::curse {

struct Data {
  Eigen::MatrixXd X;  // (d, n) samples as columns
  Eigen::VectorXd y;  // (n)
};
// Set `name` ("train" | "test_id" | "test_ood" | ...) of size n: ID or OOD rows from the stream
// family derived from (seed, name).
Data make_data(const SsmSpec& spec, bool ood, std::uint64_t seed, const std::string& name,
               std::size_t n);

// The rule of every kind with `variants` and a dimension `d_key` (d, or the list ds): variant B
// needs d >= 3 (synth/ssm.h).
Constraint variant_b_dimension(std::string d_key);

struct RunConfig {
  SsmSpec spec;
  int m = 256;
  int n = 256;
  int n_test = 4000;
  std::vector<int> checkpoints{1000};  // steps at which everything is evaluated; last = T
  double eta_factor = 0.5;             // eta = eta_factor / lambda_max(H(0))
  double init_scale = 1.0;             // w_r(0) ~ N(0, init_scale^2)
  bool ntk = true;                     // compute the linearised (NTK) predictor and H(t)
  std::vector<int> log_times{0, 1, 2, 5, 10, 30, 100, 300, 1000, 4000};  // asymmetry fractions
  std::uint64_t seed = 0;
};

struct Checkpoint {
  int t = 0;
  double ood_attn = 0, id_attn = 0;  // MSE of the trained net
  double ood_ntk = 0, id_ntk = 0;    // linearised predictor at the same t
  double net_vs_ntk_ood = 0;         // |f_net - f_ntk| / |f_ntk| on the OOD set
  double R = 0;                      // max_r |w_r(t) - w_r(0)|
  double kernel_change = 0;          // |H(t) - H(0)|_F / |H(0)|_F
  double train_loss_ratio = 0;       // L(t) / L(0)
};

struct RunRecord {
  RunConfig config;
  double eta = 0, lambda_max = 0, lambda_min = 0;
  int effective_rank = 0;
  std::vector<Checkpoint> checkpoints;
  double ood_lin = 0, id_lin = 0, ood_zero = 0, id_zero = 0;  // baselines
  double ood_ntk_inf = 0;                                     // ridge kernel regression
  double ood_zero_closed_form = 0, lin_closed_form = 0;       // synth closed forms
  std::vector<int> log_times;
  std::vector<double> step_agree, drift_agree;  // at log_times (if <= T)
  std::vector<double> loss_ratio_log;           // L(t)/L(0) at log_times
  double sign_agree_T = 0;                      // sign(w_r(T)) == a_r
  double mass_neg = 0, mass_pos = 0;            // mean last-position mass on OOD, heads a=-1 / a=+1
  double p_ood_sign_xd = 0, p_ood_sign_y = 0, p_id_sign_y = 0, corr_id_f_xd = 0;
  double p_ood_lin_sign_y = 0;
  std::vector<double> quartile_ratio;  // OOD MSE / E[y^2] per quartile of |x_d| (increasing)
  std::vector<double> xd_bin_edges, xd_bin_mse_attn, xd_bin_mse_lin, xd_bin_mse_zero;
  const Checkpoint& last() const { return checkpoints.back(); }
};

RunRecord run_attention(const RunConfig& config);
nlohmann::json to_json(const RunRecord& r);

}  // namespace attnlab::curse

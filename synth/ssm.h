#pragma once
// The "Curse of Attention" data model (curse.md §1): a state-space model whose d + 1 observations
// are fixed linear functionals of a Gaussian initial state, and its sign-inconsistent OOD set.
//
// Faithful reduction (curse.md §1.5): d = N, features P_k = e_k for k <= d and P_{d+1} = c with
// sum(c) = 1, so with h ~ N(0, I_d):
//   u = (h_1, ..., h_d, <c, h>),   x = u_{1:d} + sigma xi_{1:d},   y = u_{d+1} + sigma xi_{d+1},
// sigma = noise STANDARD DEVIATION (§1.5 item 1). OOD (Def 6.1): resample h until the NOISE-FREE
// u_d u_{d+1} < 0, then add noise.
//   Variant A ("Property 3 literal"): c_d = (d-1)/d, c_k = 1/(d(d-1)) for k < d  (gamma = c_d).
//   Variant B ("Properties 1+2 exact"): c_d = gamma, c_{1:d-1} = (1-gamma)/(d-1) 1 + s z, z the
//     unit zero-sum vector proportional to (1, ..., d-1) - mean, s = sqrt(1 - gamma^2 -
//     (1-gamma)^2/(d-1)); then |c| = 1. Needs d >= 3: at d = 2 the zero-sum direction is
//     empty and |c| = 1 is infeasible for gamma in (0, 1) (the spec's "every d >= 2" is off).
//
// Explicit SSM realisation (§1.5): B = 0, C = e_1, A^T = [e_2, ..., e_d, c] (shift + last column
// c), h_{k+1} = A h_k, u_k = C^T h_k; then P_k = (A^T)^{k-1} C reproduces the closed form.
//
// Randomness: sample i of a set uses the stream (seed, "ssm.id"|"ssm.ood", i): its h draws
// (all rejected proposals included), then its noise. Batches are thread-count independent.
#include <Eigen/Dense>
#include <cstdint>
#include <string>

#include "core/rng.h"

namespace attnlab {

enum class SsmVariant { A, B };
// Variant B needs d >= 3: at d = 2 there is no zero-sum direction, so |P_{d+1}| = 1 is
// infeasible.
inline constexpr int kSsmVariantBMinDim = 3;
inline constexpr const char* kSsmVariantBWhy =
    "at d = 2 there is no zero-sum direction, so |P_{d+1}| = 1 is infeasible";

struct SsmSpec {
  SsmVariant variant = SsmVariant::B;
  int d = 8;            // window length = state dimension N; >= 2 (A), >= 3 (B)
  double gamma = 0.5;   // <P_d, P_{d+1}> in variant B, in [0, 1); variant A fixes (d-1)/d
  double sigma = 0.01;  // noise std, >= 0
};

// Throws InputError naming the field and its allowed range.
void validate(const SsmSpec& spec);
std::string to_string(SsmVariant v);                 // "A" | "B"
SsmVariant parse_ssm_variant(const std::string& s);  // throws InputError

// ---- closed forms (curse.md §1.5) -------------------------------------------------------------

// c = P_{d+1} in the basis P_k = e_k: (d).
Eigen::VectorXd ssm_c(const SsmSpec& spec);
// rho = corr(u_d, u_{d+1}) = c_d / |c|.
double ssm_rho(const Eigen::VectorXd& c);
// P(u_d u_{d+1} < 0) = arccos(rho) / pi: the OOD acceptance probability.
double ssm_ood_acceptance(const Eigen::VectorXd& c);
// E[y^2 | OOD] = |c|^2 (1 - rho sqrt(1 - rho^2) / arccos(rho)) + sigma^2 (zero predictor's risk).
double ssm_ood_expected_y2(const Eigen::VectorXd& c, double sigma);
// OOD (and ID) risk of the exact residual-linear solution w* = c_{1:d-1}: sigma^2 (1 + |c|^2).
double ssm_linear_solution_risk(const Eigen::VectorXd& c, double sigma);
// E[x_d y] on the ID distribution = c_d (gamma in both variants' Property 2).
inline double ssm_id_cross_moment(const Eigen::VectorXd& c) { return c(c.size() - 1); }

// ---- explicit SSM realisation -----------------------------------------------------------------

struct SsmRealisation {
  Eigen::MatrixXd A;  // (d, d): rows e_2^T, ..., e_d^T, c^T
  Eigen::VectorXd B;  // (d): zero
  Eigen::VectorXd C;  // (d): e_1
};
SsmRealisation ssm_realisation(const Eigen::VectorXd& c);
// Features P_1..P_{d+1} via Claim 4.2's recursion P_k = G_k + sum_{kappa<k} K_{k-kappa} P_kappa
// with K_k = C^T A^{k-1} B, G_k = (A^{k-1})^T C: (d, d+1), column k-1 = P_k.
Eigen::MatrixXd ssm_features(const SsmRealisation& ssm);
// Runs the recursion h_{k+1} = A h_k + B u_k, u_k = C^T h_k from h_1 for d+1 steps: (d+1).
Eigen::VectorXd ssm_run(const SsmRealisation& ssm, const Eigen::VectorXd& h1);
// The closed form u = (h_1, <c, h_1>): (d+1).
Eigen::VectorXd ssm_closed_form(const Eigen::VectorXd& c, const Eigen::VectorXd& h1);

// ---- sampling ---------------------------------------------------------------------------------

struct SsmBatch {
  Eigen::MatrixXd X;      // (n, d): row i = x_i
  Eigen::VectorXd y;      // (n)
  Eigen::MatrixXd U;      // (n, d+1): noise-free u of each row
  Eigen::VectorXi tries;  // (n): proposals used by each row (1 for ID)
};

// Expected standard-normal draws for n OOD rows: n (d / acceptance + d + 1).
double ssm_ood_expected_draws(const SsmSpec& spec, std::size_t n);
// Largest ssm_ood_expected_draws an OOD set may need (about 10 s on one core); beyond it the
// acceptance is too small for the request (variant A at large d, variant B with gamma near 1).
constexpr double kSsmMaxOodDraws = 2e9;

// Rows first..first+n-1 of the ID (ood = false) or OOD (ood = true) set, in parallel.
// OOD: throws InputError before any draw when ssm_ood_expected_draws(spec, n) >
// kSsmMaxOodDraws, and when a row has no accepted proposal in min(max_tries,
// kSsmMaxOodDraws / d) tries (so one row costs at most kSsmMaxOodDraws draws).
SsmBatch ssm_batch(const SsmSpec& spec, bool ood, std::uint64_t seed, std::uint64_t first,
                   std::size_t n, int max_tries = 100000000);

}  // namespace attnlab

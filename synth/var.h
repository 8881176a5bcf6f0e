#pragma once
// Vector autoregressions VAR(p):  x_t = sum_{j=1..p} A_j x_{t-j} + eps_t,  eps_t ~ N(0, Sigma).
//
// Two generators:
//  * the configurable one (VarSpec): entries of A_j iid U(-coef_scale, coef_scale), then made
//    stable BY CONSTRUCTION, i.e. companion spectral radius <= radius_bound < 1, by one of
//      - Rescale (default): if the drawn radius r exceeds the bound, A_j <- lambda^j A_j with
//        lambda = radius_bound / r. This multiplies every companion eigenvalue by exactly lambda
//        (z is a root of det(z^p I - sum_j A_j z^{p-j}) iff lambda z is one for the scaled
//        coefficients), so the new radius equals the bound. Deterministic, one draw.
//      - Reject: redraw until r <= radius_bound (exact conditional distribution; throws
//        VarRejectError after var_reject_max_draws(spec) draws, at most max_rejections and
//        at most about two seconds of eigenvalue solves).
//    Series start at 0 and run burn_in steps before the first recorded one.
//  * the SAMoVAR notebook preset (samovar.md §3.1), reproduced as is, WITHOUT a stability
//    guarantee: k = 2, 65 steps, first p steps iid N(0,1), noise std 0.05, clip to [-15, 15],
//    non-finite -> 0. Train: p in {1,2}, entries U(-0.5,0.5); validation: p in {3,4},
//    U(-0.25,0.25). Each sample reports whether its process is explosive (radius > 1) and
//    whether clipping fired, so callers can count them instead of hiding them.
//
// Randomness: process i of a run uses streams (seed, "var.coef", i) for its coefficients and
// (seed, "var.noise", i) for its initial values and innovations, so every process is
// reproducible on its own and batches are thread-count independent.
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/rng.h"

namespace attnlab {

enum class VarStability { Rescale, Reject };

struct VarSpec {
  int dim = 2;                 // k
  int order = 1;               // p >= 1
  double coef_scale = 0.5;     // entries of A_j ~ U(-coef_scale, coef_scale)
  double radius_bound = 0.95;  // companion spectral radius bound, in (0, 1)
  double noise_std = 1.0;      // Sigma = noise_std^2 I
  int burn_in = 200;           // steps discarded before the first recorded one
  VarStability stability = VarStability::Rescale;
  int max_rejections = 100000;  // Reject only
};

struct VarProcess {
  std::vector<Eigen::MatrixXd> A;  // p matrices, each (k, k); A[j-1] multiplies x_{t-j}
  Eigen::MatrixXd noise_cov;       // Sigma: (k, k)
  int rejections = 0;              // draws rejected before this one (Reject only)
  bool rescaled = false;           // whether Rescale fired
  int dim() const { return static_cast<int>(noise_cov.rows()); }
  int order() const { return static_cast<int>(A.size()); }
};

// ---- closed forms -----------------------------------------------------------------------------

// Companion matrix F: (k p, k p) with first block row [A_1 ... A_p] and identity sub-diagonal,
// so the state s_t = (x_t, ..., x_{t-p+1}) follows s_t = F s_{t-1} + (eps_t, 0, ..., 0).
Eigen::MatrixXd var_companion(const std::vector<Eigen::MatrixXd>& A);
// Largest eigenvalue modulus of a square matrix.
double spectral_radius(const Eigen::MatrixXd& M);
// Spectral radius of the companion of A (the process is stable iff it is < 1).
double var_spectral_radius(const std::vector<Eigen::MatrixXd>& A);

// ---- configurable generator -------------------------------------------------------------------

// Throws InputError naming the field and allowed range when spec is invalid.
void validate(const VarSpec& spec);
// Draws the Reject sampler makes before giving up: min(max_rejections, a cost cap), where the
// cap keeps the companion eigenvalue solves of one process to about two seconds (>= 1 draw).
int var_reject_max_draws(const VarSpec& spec);
// The Reject sampler found no draw within the bound in var_reject_max_draws(spec) draws.
struct VarRejectError : InputError {
  using InputError::InputError;
};
// Draws the coefficients of one process (stable by construction, see top of file).
VarProcess draw_var_process(const VarSpec& spec, Rng& coef_rng);
// Simulates `length` recorded steps after spec.burn_in steps from x = 0.
// Returns (length, k), row t = x_t.
Eigen::MatrixXd simulate_var(const VarProcess& process, int length, int burn_in, Rng& noise_rng);

struct VarSample {
  VarProcess process;
  Eigen::MatrixXd series;  // (length, k)
  double radius = 0;       // companion spectral radius of process.A
};
// Process `index` of a run with base seed `seed` (streams "var.coef"/"var.noise", index).
VarSample var_sample(const VarSpec& spec, int length, std::uint64_t seed, std::uint64_t index);

// ---- SAMoVAR notebook preset (samovar.md §3.1) -----------------------------------------------

enum class SamovarSplit { Train, Validation };

constexpr int kSamovarDim = 2;
constexpr int kSamovarLength = 65;         // 64 input steps + 1 target step
constexpr double kSamovarNoiseStd = 0.05;  // oracle one-step MSE = 0.0025
constexpr double kSamovarClip = 15.0;

struct SamovarSample {
  VarProcess process;      // order 1..2 (train) or 3..4 (validation)
  Eigen::MatrixXd series;  // (65, 2), after clipping and the non-finite -> 0 rule
  double radius = 0;       // companion spectral radius
  bool explosive = false;  // radius > 1
  bool clipped = false;    // some value was clipped or non-finite
};

// Sample `index` of a split (streams "samovar.<split>", index).
SamovarSample samovar_sample(SamovarSplit split, std::uint64_t seed, std::uint64_t index);
// Samples first..first+count-1 in parallel (core/thread_pool.h); identical for any thread count.
std::vector<SamovarSample> samovar_dataset(SamovarSplit split, std::uint64_t seed,
                                           std::uint64_t first, std::size_t count);

}  // namespace attnlab

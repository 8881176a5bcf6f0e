#include "synth/var.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "core/error.h"
#include "core/thread_pool.h"

namespace attnlab {

Eigen::MatrixXd var_companion(const std::vector<Eigen::MatrixXd>& A) {
  const Eigen::Index p = static_cast<Eigen::Index>(A.size());
  const Eigen::Index k = A.empty() ? 0 : A[0].rows();
  Eigen::MatrixXd F = Eigen::MatrixXd::Zero(k * p, k * p);  // (k p, k p)
  for (Eigen::Index j = 0; j < p; ++j) F.block(0, j * k, k, k) = A[static_cast<std::size_t>(j)];
  if (p > 1) F.block(k, 0, k * (p - 1), k * (p - 1)).setIdentity();
  return F;
}

double spectral_radius(const Eigen::MatrixXd& M) {
  if (M.size() == 0) return 0.0;
  Eigen::EigenSolver<Eigen::MatrixXd> solver(M, /*computeEigenvectors=*/false);
  return solver.eigenvalues().cwiseAbs().maxCoeff();
}

double var_spectral_radius(const std::vector<Eigen::MatrixXd>& A) {
  return spectral_radius(var_companion(A));
}

void validate(const VarSpec& spec) {
  auto fail = [](const std::string& msg) { throw InputError("VAR generator: " + msg); };
  if (spec.dim < 1 || spec.dim > 1000)
    fail("dim must be in [1, 1000], got " + std::to_string(spec.dim));
  if (spec.order < 1 || spec.order > 100)
    fail("order must be in [1, 100], got " + std::to_string(spec.order));
  if (!(spec.coef_scale >= 0.0) || !std::isfinite(spec.coef_scale))
    fail("coef_scale must be finite and >= 0");
  if (!(spec.radius_bound > 0.0 && spec.radius_bound < 1.0)) fail("radius_bound must be in (0, 1)");
  if (!(spec.noise_std >= 0.0) || !std::isfinite(spec.noise_std))
    fail("noise_std must be finite and >= 0");
  if (spec.burn_in < 0) fail("burn_in must be >= 0");
  if (spec.max_rejections < 1) fail("max_rejections must be >= 1");
}

namespace {

// Cost of one Reject draw in units of n^2 (n + 30), n = k p the companion size: measured 1.3 to
// 3.1 ns per unit (Release, one core) from n = 6 to 1000, mostly the eigenvalue solve.
double draw_cost_units(const VarSpec& spec) {
  const double n = static_cast<double>(spec.dim) * static_cast<double>(spec.order);
  return n * n * (n + 30.0);
}
// About 1.5 to 3 s of draws. Leaves the cap at max_rejections = 100000 up to n = 14, so every
// setting the claims and tests use (n <= 6) keeps its draws and bits.
constexpr double kRejectCostBudget = 1e9;

std::vector<Eigen::MatrixXd> draw_uniform_coefficients(int k, int p, double scale, Rng& rng) {
  std::vector<Eigen::MatrixXd> A(static_cast<std::size_t>(p), Eigen::MatrixXd(k, k));
  for (auto& Aj : A)  // column-major fill order, fixed
    for (Eigen::Index c = 0; c < k; ++c)
      for (Eigen::Index r = 0; r < k; ++r) Aj(r, c) = uniform(rng, -scale, scale);
  return A;
}

}  // namespace

int var_reject_max_draws(const VarSpec& spec) {
  const double cap = std::max(1.0, std::floor(kRejectCostBudget / draw_cost_units(spec)));
  return static_cast<int>(std::min(static_cast<double>(spec.max_rejections), cap));
}

VarProcess draw_var_process(const VarSpec& spec, Rng& coef_rng) {
  validate(spec);
  const int max_draws = var_reject_max_draws(spec);
  VarProcess out;
  out.noise_cov = spec.noise_std * spec.noise_std * Eigen::MatrixXd::Identity(spec.dim, spec.dim);
  for (int attempt = 0;; ++attempt) {
    out.A = draw_uniform_coefficients(spec.dim, spec.order, spec.coef_scale, coef_rng);
    const double r = var_spectral_radius(out.A);
    if (r <= spec.radius_bound) return out;
    if (spec.stability == VarStability::Rescale) {
      const double lambda = spec.radius_bound / r;
      double power = 1.0;
      for (auto& Aj : out.A) {
        power *= lambda;  // A_j <- lambda^j A_j
        Aj *= power;
      }
      out.rescaled = true;
      return out;
    }
    out.rejections = attempt + 1;
    if (out.rejections >= max_draws) {
      std::ostringstream msg;
      msg << "VAR generator: could not draw a stationary VAR(" << spec.order << ") of dim "
          << spec.dim << " with coef_scale = " << spec.coef_scale
          << " and companion spectral radius <= " << spec.radius_bound << " in " << max_draws
          << " tries: lower coef_scale or use stability rescale";
      throw VarRejectError(msg.str());
    }
  }
}

Eigen::MatrixXd simulate_var(const VarProcess& process, int length, int burn_in, Rng& noise_rng) {
  const int k = process.dim(), p = process.order();
  const Eigen::LLT<Eigen::MatrixXd> llt(process.noise_cov);
  const Eigen::MatrixXd L = llt.matrixL();  // Sigma = L L^T
  const int total = burn_in + length;
  // history: (k, p + total), column p + t holds x_t; the first p columns are the zero start
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(k, p + total);
  Eigen::VectorXd z(k);
  for (int t = 0; t < total; ++t) {
    const Eigen::Index col = p + t;
    for (int i = 0; i < k; ++i) z(i) = normal(noise_rng);
    Eigen::VectorXd x = L * z;
    for (int j = 1; j <= p; ++j)
      x.noalias() += process.A[static_cast<std::size_t>(j - 1)] * h.col(col - j);
    h.col(col) = x;
  }
  return h.rightCols(length).transpose();  // (length, k)
}

VarSample var_sample(const VarSpec& spec, int length, std::uint64_t seed, std::uint64_t index) {
  if (length < 1) throw InputError("VAR generator: length must be >= 1");
  Rng coef_rng = make_stream(seed, "var.coef", index);
  Rng noise_rng = make_stream(seed, "var.noise", index);
  VarSample s;
  s.process = draw_var_process(spec, coef_rng);
  s.series = simulate_var(s.process, length, spec.burn_in, noise_rng);
  s.radius = var_spectral_radius(s.process.A);
  return s;
}

SamovarSample samovar_sample(SamovarSplit split, std::uint64_t seed, std::uint64_t index) {
  const bool train = split == SamovarSplit::Train;
  Rng rng = make_stream(seed, train ? "samovar.train" : "samovar.val", index);
  // numpy randint(1,3) -> {1,2}; randint(3,5) -> {3,4}; upper bounds exclusive (spec §3.1)
  const int p = static_cast<int>(train ? uniform_int(rng, 1, 2) : uniform_int(rng, 3, 4));
  const double scale = train ? 0.5 : 0.25;
  constexpr int k = kSamovarDim;
  SamovarSample s;
  s.process.A = draw_uniform_coefficients(k, p, scale, rng);
  s.process.noise_cov = kSamovarNoiseStd * kSamovarNoiseStd * Eigen::MatrixXd::Identity(k, k);
  s.radius = var_spectral_radius(s.process.A);
  s.explosive = s.radius > 1.0;
  // x: (k, 65); first p steps iid N(0,1), then the unclipped recursion; clipping and the
  // non-finite rule are applied afterwards, as in the notebook's generate_var_sample
  Eigen::MatrixXd x(k, kSamovarLength);
  for (int t = 0; t < kSamovarLength; ++t) {
    Eigen::VectorXd v(k);
    if (t < p) {
      for (int i = 0; i < k; ++i) v(i) = normal(rng);
    } else {
      for (int i = 0; i < k; ++i) v(i) = kSamovarNoiseStd * normal(rng);
      for (int j = 1; j <= p; ++j)
        v.noalias() += s.process.A[static_cast<std::size_t>(j - 1)] * x.col(t - j);
    }
    x.col(t) = v;
  }
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    double& xi = x.data()[i];
    if (std::abs(xi) > kSamovarClip) {  // also catches +-inf
      xi = std::copysign(kSamovarClip, xi);
      s.clipped = true;
    }
    if (!std::isfinite(xi)) {  // NaN
      xi = 0.0;
      s.clipped = true;
    }
  }
  s.series = x.transpose();  // (65, 2)
  return s;
}

std::vector<SamovarSample> samovar_dataset(SamovarSplit split, std::uint64_t seed,
                                           std::uint64_t first, std::size_t count) {
  std::vector<SamovarSample> out(count);
  parallel_for(
      count,
      [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) out[i] = samovar_sample(split, seed, first + i);
      },
      64);
  return out;
}

}  // namespace attnlab

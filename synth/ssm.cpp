#include "synth/ssm.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>
#include <string>

#include "core/error.h"
#include "core/thread_pool.h"

namespace attnlab {

void validate(const SsmSpec& spec) {
  if (spec.d < 2 || spec.d > 100000)
    throw InputError("SSM generator: d must be in [2, 100000], got " + std::to_string(spec.d));
  if (spec.variant == SsmVariant::B && spec.d < kSsmVariantBMinDim)
    throw InputError("SSM generator: variant B needs d >= " + std::to_string(kSsmVariantBMinDim) +
                     " (" + kSsmVariantBWhy + "), got d = " + std::to_string(spec.d));
  if (!(spec.gamma >= 0.0 && spec.gamma < 1.0))
    throw InputError("SSM generator: gamma must be in [0, 1), got " + std::to_string(spec.gamma));
  if (!(spec.sigma >= 0.0) || !std::isfinite(spec.sigma))
    throw InputError("SSM generator: sigma must be finite and >= 0");
}

std::string to_string(SsmVariant v) { return v == SsmVariant::A ? "A" : "B"; }

SsmVariant parse_ssm_variant(const std::string& s) {
  if (s == "A") return SsmVariant::A;
  if (s == "B") return SsmVariant::B;
  throw InputError("SSM variant must be A or B, got '" + s + "'");
}

Eigen::VectorXd ssm_c(const SsmSpec& spec) {
  validate(spec);
  const int d = spec.d;
  const double dd = static_cast<double>(d);
  Eigen::VectorXd c(d);
  if (spec.variant == SsmVariant::A) {
    c.head(d - 1).setConstant(1.0 / (dd * (dd - 1.0)));
    c(d - 1) = (dd - 1.0) / dd;
    return c;
  }
  const double g = spec.gamma;
  Eigen::VectorXd z = Eigen::VectorXd::LinSpaced(d - 1, 1.0, dd - 1.0);
  z.array() -= z.mean();
  z /= z.norm();  // d >= 3 (validated): a nonzero zero-sum direction exists
  const double s2 = 1.0 - g * g - (1.0 - g) * (1.0 - g) / (dd - 1.0);
  const double s = s2 > 0.0 ? std::sqrt(s2) : 0.0;
  c.head(d - 1) = Eigen::VectorXd::Constant(d - 1, (1.0 - g) / (dd - 1.0)) + s * z;
  c(d - 1) = g;
  return c;
}

double ssm_rho(const Eigen::VectorXd& c) { return c(c.size() - 1) / c.norm(); }

double ssm_ood_acceptance(const Eigen::VectorXd& c) {
  return std::acos(ssm_rho(c)) / std::numbers::pi;
}

double ssm_ood_expected_y2(const Eigen::VectorXd& c, double sigma) {
  const double rho = ssm_rho(c);
  return c.squaredNorm() * (1.0 - rho * std::sqrt(1.0 - rho * rho) / std::acos(rho)) +
         sigma * sigma;
}

double ssm_linear_solution_risk(const Eigen::VectorXd& c, double sigma) {
  return sigma * sigma * (1.0 + c.squaredNorm());
}

SsmRealisation ssm_realisation(const Eigen::VectorXd& c) {
  const Eigen::Index d = c.size();
  SsmRealisation s;
  s.A = Eigen::MatrixXd::Zero(d, d);
  for (Eigen::Index i = 0; i + 1 < d; ++i) s.A(i, i + 1) = 1.0;  // row i = e_{i+2}^T (0-based)
  s.A.row(d - 1) = c.transpose();
  s.B = Eigen::VectorXd::Zero(d);
  s.C = Eigen::VectorXd::Unit(d, 0);
  return s;
}

Eigen::MatrixXd ssm_features(const SsmRealisation& ssm) {
  const Eigen::Index N = ssm.A.rows();
  const Eigen::Index steps = N + 1;  // k = 1..d+1 with d = N
  Eigen::MatrixXd P(N, steps);
  Eigen::VectorXd K(steps);     // K_k = C^T A^{k-1} B, index k-1
  Eigen::VectorXd G = ssm.C;    // G_k^T = (A^{k-1})^T C
  Eigen::VectorXd AkB = ssm.B;  // A^{k-1} B
  for (Eigen::Index k = 0; k < steps; ++k) {
    K(k) = ssm.C.dot(AkB);
    Eigen::VectorXd Pk = G;
    for (Eigen::Index kap = 0; kap < k; ++kap) Pk += K(k - kap - 1) * P.col(kap);
    P.col(k) = Pk;
    G = ssm.A.transpose() * G;
    AkB = ssm.A * AkB;
  }
  return P;
}

Eigen::VectorXd ssm_run(const SsmRealisation& ssm, const Eigen::VectorXd& h1) {
  const Eigen::Index N = ssm.A.rows();
  Eigen::VectorXd u(N + 1);
  Eigen::VectorXd h = h1;
  for (Eigen::Index k = 0; k <= N; ++k) {
    u(k) = ssm.C.dot(h);                    // u_k = C^T h_k
    h = (ssm.A * h + ssm.B * u(k)).eval();  // h_{k+1} = A h_k + B u_k
  }
  return u;
}

Eigen::VectorXd ssm_closed_form(const Eigen::VectorXd& c, const Eigen::VectorXd& h1) {
  const Eigen::Index d = c.size();
  Eigen::VectorXd u(d + 1);
  u.head(d) = h1;
  u(d) = c.dot(h1);
  return u;
}

double ssm_ood_expected_draws(const SsmSpec& spec, std::size_t n) {
  const double d = static_cast<double>(spec.d);
  return static_cast<double>(n) * (d / ssm_ood_acceptance(ssm_c(spec)) + d + 1.0);
}

SsmBatch ssm_batch(const SsmSpec& spec, bool ood, std::uint64_t seed, std::uint64_t first,
                   std::size_t n, int max_tries) {
  const Eigen::VectorXd c = ssm_c(spec);  // validates
  const Eigen::Index d = spec.d;
  if (ood) {
    const double draws = ssm_ood_expected_draws(spec, n);
    if (!(draws <= kSsmMaxOodDraws)) {
      std::ostringstream msg;
      msg << "SSM OOD sampler: variant " << to_string(spec.variant) << " with d = " << spec.d;
      if (spec.variant == SsmVariant::B) msg << " and gamma = " << spec.gamma;
      msg << " accepts a proposal with probability " << ssm_ood_acceptance(c) << ", so " << n
          << " rows need ~" << draws << " normal draws (limit " << kSsmMaxOodDraws
          << "): lower d, gamma or the number of rows";
      throw InputError(msg.str());
    }
    // Bounds one row's cost; at d <= 20 it is max_tries. A row that needs more than
    // kSsmMaxOodDraws / d >= n / acceptance tries has probability about exp(-n).
    max_tries = static_cast<int>(std::min(static_cast<double>(max_tries),
                                          std::max(1.0, kSsmMaxOodDraws / static_cast<double>(d))));
  }
  const Eigen::Index rows = static_cast<Eigen::Index>(n);
  SsmBatch b;
  b.X.resize(rows, d);
  b.y.resize(rows);
  b.U.resize(rows, d + 1);
  b.tries.resize(rows);
  const char* stream = ood ? "ssm.ood" : "ssm.id";
  parallel_for(
      n,
      [&](std::size_t lo, std::size_t hi) {
        Eigen::VectorXd h(d);
        for (std::size_t i = lo; i < hi; ++i) {
          const Eigen::Index r = static_cast<Eigen::Index>(i);
          Rng rng = make_stream(seed, stream, first + i);
          int tries = 0;
          double ud = 0, ud1 = 0;
          do {
            if (++tries > max_tries)
              throw InputError("SSM OOD sampler: no accepted proposal in " +
                               std::to_string(max_tries) + " tries (row " +
                               std::to_string(first + i) + "): lower d or gamma");
            for (Eigen::Index k = 0; k < d; ++k) h(k) = normal(rng);
            ud = h(d - 1);
            ud1 = c.dot(h);
          } while (ood && !(ud * ud1 < 0.0));  // reject on the noise-free u (Def 6.1)
          b.U.row(r).head(d) = h.transpose();
          b.U(r, d) = ud1;
          for (Eigen::Index k = 0; k < d; ++k) b.X(r, k) = h(k) + spec.sigma * normal(rng);
          b.y(r) = ud1 + spec.sigma * normal(rng);
          b.tries(r) = tries;
        }
      },
      256);
  return b;
}

}  // namespace attnlab

// Protects the implicit-model code of Thm 4.1 / Lemma A.1: the recursion reproduces a FULL
// forward pass, and the momentum form (corrected) matches the recursion while the printed form
// does not (the erratum, spec §6.1).
#include <gtest/gtest.h>

#include "core/rng.h"
#include "models/icl/diag.h"
#include "models/icl/full.h"
#include "models/icl/implicit.h"
#include "tests/tolerances.h"

namespace attnlab::icl {
namespace {

Eigen::MatrixXd random_Z(int d, int n, std::uint64_t seed) {
  Rng rng = make_stream(seed, "test.data");
  Eigen::MatrixXd Z(d + 1, n + 1);
  for (Eigen::Index i = 0; i < Z.size(); ++i) Z.data()[i] = normal(rng);
  Z(d, n) = 0;
  return Z;
}

TEST(IclImplicit, RecursionReproducesFullForward) {
  const int d = 4, n = 7, D = d + 1, L = 3;
  FullParams<double> p(L, 2, D);
  Rng rng = make_stream(2, "test.init");
  for (auto& v : p.P) v = 0.1 * normal(rng);
  for (auto& v : p.Q) v = 0.1 * normal(rng);
  const auto Z0 = random_Z(d, n, 3);
  FullCache<double> c;
  full_forward(p, n, Z0.data(), c);
  std::vector<Eigen::MatrixXd> G;
  for (int l = 0; l < L; ++l)
    G.push_back(Eigen::Map<const Eigen::MatrixXd>(
        c.G.data() + static_cast<std::size_t>(l) * p.block(), D, D));
  const auto rec = implicit_recursion(G, d);
  for (int l = 0; l <= L; ++l) {
    const Eigen::Map<const Eigen::MatrixXd> Zl(c.state(l, D), D, n + 1);
    EXPECT_LT((implicit_tokens(rec[static_cast<std::size_t>(l)], Z0) - Zl).cwiseAbs().maxCoeff(),
              tol::kExactDouble)
        << "layer " << l;
  }
  const auto fit = fit_implicit(Z0, Eigen::Map<const Eigen::MatrixXd>(c.state(L, D), D, n + 1));
  EXPECT_LT(fit.residual, tol::kExactDouble);
  EXPECT_LT((fit.state.w - rec.back().w).cwiseAbs().maxCoeff(), 1e-10);
}

TEST(IclImplicit, MomentumFormCorrectedHoldsPrintedDoesNot) {
  const int d = 4, n = 9;
  const auto Z0 = random_Z(d, n, 4);
  const std::vector<Omega<double>> om = {{-0.01, -0.02, -0.03, -0.01}, {0.02, 0.01, -0.05, 0.005}};
  DiagCache<double> c;
  diag_forward(om, d, n, Z0.data(), c);
  std::vector<Eigen::MatrixXd> G;
  for (std::size_t l = 0; l < om.size(); ++l) {
    Eigen::MatrixXd g(d + 1, d + 1);
    const Eigen::Map<const Eigen::MatrixXd> S(c.Sigma.data() + l * static_cast<std::size_t>(d * d),
                                              d, d);
    const Eigen::Map<const Eigen::VectorXd> a(c.alpha.data() + l * static_cast<std::size_t>(d), d);
    g << om[l].xx * S, om[l].xy * a, om[l].yx * a.transpose(), om[l].yy * c.lambda[l];
    G.push_back(g);
  }
  const auto rec = implicit_recursion(G, d);
  const Eigen::MatrixXd X = Z0.topLeftCorner(d, n);
  const Eigen::VectorXd y = Z0.row(d).head(n).transpose();
  const Eigen::MatrixXd S = X * X.transpose();
  const Eigen::VectorXd ws = S.ldlt().solve(X * y);
  const double rho = (y - X.transpose() * ws).squaredNorm();
  const Eigen::Vector4d w1(om[1].xx, om[1].xy, om[1].yx, om[1].yy);
  const auto good = momentum_step(rec[1], w1, S, ws, rho, MomentumForm::Corrected);
  const auto bad = momentum_step(rec[1], w1, S, ws, rho, MomentumForm::Printed);
  EXPECT_LT((good.u_next - rec[2].u).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT((good.w_next - rec[2].w).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_GT((bad.u_next - rec[2].u).cwiseAbs().maxCoeff(), 1e-6);
}

}  // namespace
}  // namespace attnlab::icl

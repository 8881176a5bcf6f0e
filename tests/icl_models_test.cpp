// Protects the icl models: golden values of spec §1.8, the FULL token-loop reference, DIAG vs
// FULL with diagonal heads, gradients by central differences (double), float vs double, and
// bitwise determinism across thread counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/gradcheck.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "models/icl/diag.h"
#include "models/icl/full.h"
#include "tests/tolerances.h"

namespace attnlab::icl {
namespace {

// spec §1.8: d = 2, n = 3, Z (3, 4) column-major, query last with label 0.
std::vector<double> golden_Z() { return {1, 0.5, 0.9, -0.3, 2, -1.2, 0.7, -1.1, 0.4, 0.2, 0.4, 0}; }

FullParams<double> golden_full(int layers) {
  // Row-major as printed in the spec; stored column-major.
  const double P[3][3] = {{0.03, -0.104, 0.075}, {0.094, -0.195, -0.13}, {0.013, -0.032, -0.002}};
  const double Q[3][3] = {{-0.085, 0.088, 0.078}, {0.007, 0.113, 0.047}, {-0.086, 0.037, -0.096}};
  FullParams<double> p(layers, 1, 3);
  for (int l = 0; l < layers; ++l)
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) {
        p.p(l, 0)[r + 3 * c] = P[r][c];
        p.q(l, 0)[r + 3 * c] = Q[r][c];
      }
  return p;
}

std::vector<Omega<double>> golden_omegas() {
  return {{-0.05, 0.01, -0.2, -0.02}, {0.03, -0.01, -0.3, 0.005}};
}

// Two heads realising arbitrary omegas (spec §1.8).
FullParams<double> full_from_omegas(const std::vector<Omega<double>>& om, int d) {
  const int D = d + 1;
  FullParams<double> p(static_cast<int>(om.size()), 2, D);
  for (int l = 0; l < p.layers; ++l) {
    const auto& w = om[static_cast<std::size_t>(l)];
    for (int i = 0; i < D; ++i) {
      const bool y = i == d;
      p.p(l, 0)[i + D * i] = y ? w.yx : w.xx;
      p.q(l, 0)[i + D * i] = y ? 0.0 : 1.0;
      p.p(l, 1)[i + D * i] = y ? w.yy : w.xy;
      p.q(l, 1)[i + D * i] = y ? 1.0 : 0.0;
    }
  }
  return p;
}

TEST(IclModels, FullGoldenOneAndTwoLayers) {
  const auto Z = golden_Z();
  FullCache<double> cache;
  full_forward(golden_full(1), 3, Z.data(), cache);
  EXPECT_NEAR(full_readout(golden_full(1), cache, 1), 0.007841822, tol::kGoldenShort);
  const auto p2 = golden_full(2);
  full_forward(p2, 3, Z.data(), cache);
  EXPECT_NEAR(full_readout(p2, cache, 2), 0.014150922231358751, tol::kGolden);
  const double* z = cache.state(2, 3);
  const double query[3] = {0.140727955403, 0.333071040445, -0.014150922231};
  const double first[3] = {0.726393925085, 0.26333993391, 0.841276818399};
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(z[9 + i], query[i], 1e-11);
    EXPECT_NEAR(z[i], first[i], 1e-11);
  }
}

TEST(IclModels, DiagGoldenTwoLayersMatchesTwoHeadFull) {
  const auto Z = golden_Z();
  DiagCache<double> dc;
  diag_forward(golden_omegas(), 2, 3, Z.data(), dc);
  EXPECT_NEAR(diag_readout(dc, 1), -0.1296, tol::kGolden);
  EXPECT_NEAR(diag_readout(dc, 2), -0.05636085316508521, tol::kGolden);
  const auto fp = full_from_omegas(golden_omegas(), 2);
  FullCache<double> fc;
  full_forward(fp, 3, Z.data(), fc);
  for (int l = 0; l <= 2; ++l)
    for (int i = 0; i < 12; ++i) EXPECT_NEAR(fc.state(l, 3)[i], dc.state(l)[i], tol::kExactDouble);
}

FullParams<double> random_full(int L, int H, int D, double scale, std::uint64_t seed) {
  FullParams<double> p(L, H, D);
  Rng rng = make_stream(seed, "test.init");
  for (auto& v : p.P) v = scale * normal(rng);
  for (auto& v : p.Q) v = scale * normal(rng);
  return p;
}

std::vector<double> random_Z(int d, int n, std::uint64_t seed, std::size_t batch = 1) {
  Rng rng = make_stream(seed, "test.data");
  std::vector<double> Z(static_cast<std::size_t>((d + 1) * (n + 1)) * batch);
  for (auto& v : Z) v = normal(rng);
  for (std::size_t b = 0; b < batch; ++b)
    Z[(b + 1) * static_cast<std::size_t>((d + 1) * (n + 1)) - 1] = 0;  // query label slot
  return Z;
}

TEST(IclModels, FullMatchesTokenLoopReference) {
  const int d = 4, n = 6, D = d + 1;
  const auto p = random_full(3, 2, D, 0.1, 1);
  const auto Z = random_Z(d, n, 2);
  FullCache<double> cache;
  full_forward(p, n, Z.data(), cache);
  const auto ref = full_forward_reference(p, n, Z.data());
  for (std::size_t i = 0; i < ref.size(); ++i)
    EXPECT_NEAR(cache.state(3, D)[i], ref[i], tol::kExactDouble) << "seed 1/2 index " << i;
}

TEST(IclModels, FullLossGradientMatchesFiniteDifferences) {
  const int d = 3, n = 5, D = d + 1;
  const std::size_t B = 4;
  auto p = random_full(3, 2, D, 0.2, 3);
  const auto Z = random_Z(d, n, 4, B);
  const std::vector<double> y = {0.3, -1.0, 0.7, 2.0};
  FullGrads<double> g(3, 2, D);
  full_loss_grad(p, n, B, Z.data(), y.data(), g);
  auto loss = [&] {
    FullGrads<double> scratch(3, 2, D);
    return full_loss_grad(p, n, B, Z.data(), y.data(), scratch);
  };
  const auto r = check_gradient(
      loss, {{"P", p.P.data(), g.P.data(), p.P.size()}, {"Q", p.Q.data(), g.Q.data(), p.Q.size()}});
  EXPECT_LT(r.max_rel_error(), tol::kGradCheck) << r.worst() << " (seeds 3/4)";
}

// The lane-interleaved training path (full_loss_grad) against the per-sequence reference, in
// double, for depths that exercise the special last layer (L = 1, 2) and deep stacks, several
// heads, a batch that leaves padded lanes and spans several reduction chunks.
TEST(IclModels, FullLaneLossGradMatchesPerSequenceReference) {
  struct Case {
    int d, n, L, H;
    std::size_t B;
  };
  for (const Case& k : {Case{10, 20, 4, 1, 300}, Case{10, 20, 1, 1, 37}, Case{3, 5, 2, 2, 13},
                        Case{4, 7, 3, 2, 9}, Case{10, 20, 7, 1, 21}}) {
    const int D = k.d + 1;
    const std::uint64_t seed = static_cast<std::uint64_t>(k.L * 100 + k.H * 10 + k.d);
    const auto p = random_full(k.L, k.H, D, 0.05, seed);
    const auto Z = random_Z(k.d, k.n, seed + 1, k.B);
    std::vector<double> y(k.B);
    Rng rng = make_stream(seed, "test.target");
    for (auto& v : y) v = normal(rng);
    FullGrads<double> g(k.L, k.H, D), gr(k.L, k.H, D);
    const double loss = full_loss_grad(p, k.n, k.B, Z.data(), y.data(), g);
    const double loss_ref = full_loss_grad_reference(p, k.n, k.B, Z.data(), y.data(), gr);
    EXPECT_NEAR(loss, loss_ref, tol::kExactDouble * (1 + std::abs(loss_ref))) << "seed " << seed;
    double scale = 0;
    for (double v : gr.P) scale = std::max(scale, std::abs(v));
    for (double v : gr.Q) scale = std::max(scale, std::abs(v));
    for (std::size_t i = 0; i < g.P.size(); ++i) {
      EXPECT_NEAR(g.P[i], gr.P[i], tol::kExactDouble * (1 + scale))
          << "seed " << seed << " P " << i;
      EXPECT_NEAR(g.Q[i], gr.Q[i], tol::kExactDouble * (1 + scale))
          << "seed " << seed << " Q " << i;
    }
  }
}

// The float lane path (16 sequences per vector, in-register transposes) against the per-sequence
// float reference, for full and partial groups.
TEST(IclModels, FullLaneLossGradFloatMatchesReference) {
  const int d = 10, n = 20, D = d + 1, L = 4;
  const std::size_t B = 150;
  const auto pd = random_full(L, 1, D, 0.05, 12);
  FullParams<float> p(L, 1, D);
  for (std::size_t i = 0; i < pd.P.size(); ++i) {
    p.P[i] = static_cast<float>(pd.P[i]);
    p.Q[i] = static_cast<float>(pd.Q[i]);
  }
  const auto Zd = random_Z(d, n, 13, B);
  std::vector<float> Z(Zd.begin(), Zd.end()), y(B);
  Rng rng = make_stream(14, "test.target");
  for (auto& v : y) v = static_cast<float>(normal(rng));
  FullGrads<float> g(L, 1, D), gr(L, 1, D);
  const double loss = full_loss_grad(p, n, B, Z.data(), y.data(), g);
  const double loss_ref = full_loss_grad_reference(p, n, B, Z.data(), y.data(), gr);
  EXPECT_NEAR(loss, loss_ref, tol::kFloatVsDouble * (1 + std::abs(loss_ref))) << "seeds 12/13/14";
  double scale = 0;
  for (float v : gr.P) scale = std::max(scale, static_cast<double>(std::abs(v)));
  for (float v : gr.Q) scale = std::max(scale, static_cast<double>(std::abs(v)));
  for (std::size_t i = 0; i < g.P.size(); ++i) {
    EXPECT_NEAR(g.P[i], gr.P[i], tol::kFloatVsDouble * scale) << "seeds 12/13/14, P " << i;
    EXPECT_NEAR(g.Q[i], gr.Q[i], tol::kFloatVsDouble * scale) << "seeds 12/13/14, Q " << i;
  }
}

DiagParams<double> random_diag(int L, int H, bool gdpp, std::uint64_t seed) {
  DiagParams<double> p(L, H, gdpp);
  Rng rng = make_stream(seed, "test.init");
  for (auto* v : {&p.px, &p.py, &p.qx, &p.qy})
    for (auto& x : *v) x = 0.2 * normal(rng);
  if (gdpp) std::fill(p.qy.begin(), p.qy.end(), 0.0);
  return p;
}

TEST(IclModels, DiagLossGradientMatchesFiniteDifferences) {
  const int d = 3, n = 5;
  const std::size_t B = 4;
  const std::vector<double> y = {0.3, -1.0, 0.7, 2.0};
  for (bool gdpp : {false, true}) {
    auto p = random_diag(3, 2, gdpp, 5);
    const auto Z = random_Z(d, n, 6, B);
    DiagGrads<double> g(3, 2, gdpp);
    diag_loss_grad(p, d, n, B, Z.data(), y.data(), g);
    auto loss = [&] {
      DiagGrads<double> scratch(3, 2, gdpp);
      return diag_loss_grad(p, d, n, B, Z.data(), y.data(), scratch);
    };
    std::vector<GradBlock> blocks = {{"px", p.px.data(), g.px.data(), p.px.size()},
                                     {"py", p.py.data(), g.py.data(), p.py.size()},
                                     {"qx", p.qx.data(), g.qx.data(), p.qx.size()}};
    if (!gdpp) blocks.push_back({"qy", p.qy.data(), g.qy.data(), p.qy.size()});
    const auto r = check_gradient(loss, blocks);
    EXPECT_LT(r.max_rel_error(), tol::kGradCheck) << r.worst() << " gdpp " << gdpp;
    if (gdpp) {
      for (double v : g.qy) EXPECT_EQ(v, 0.0);
    }
  }
}

TEST(IclModels, DiagBackwardMatchesFullBackwardThroughOmegas) {
  // The DIAG omega gradient equals the FULL (P, Q) gradient pushed through the two-head
  // realisation: dw_xx = sum_i<d dP0_ii, dw_yx = dP0_dd, dw_xy = sum_i<d dP1_ii, dw_yy = dP1_dd.
  const int d = 3, n = 5, D = d + 1;
  const auto om = golden_omegas();
  const auto Z = random_Z(d, n, 7);
  DiagCache<double> dc;
  diag_forward(om, d, n, Z.data(), dc);
  std::vector<Omega<double>> dw(om.size());
  diag_backward(om, dc, 1.0, dw);
  const auto fp = full_from_omegas(om, d);
  FullCache<double> fc;
  full_forward(fp, n, Z.data(), fc);
  FullGrads<double> fg(fp.layers, 2, D);
  full_backward(fp, fc, 1.0, fg);
  for (int l = 0; l < 2; ++l) {
    double xx = 0, xy = 0;
    for (int i = 0; i < d; ++i) {
      xx += fg.p(l, 0)[i + D * i];
      xy += fg.p(l, 1)[i + D * i];
    }
    const auto& w = dw[static_cast<std::size_t>(l)];
    EXPECT_NEAR(w.xx, xx, 1e-10);
    EXPECT_NEAR(w.xy, xy, 1e-10);
    EXPECT_NEAR(w.yx, fg.p(l, 0)[d + D * d], 1e-10);
    EXPECT_NEAR(w.yy, fg.p(l, 1)[d + D * d], 1e-10);
  }
}

TEST(IclModels, FloatPathAgreesWithDouble) {
  const int d = 10, n = 20, D = d + 1;
  const std::size_t B = 8;
  const auto pd = random_full(3, 1, D, 0.02, 8);
  const auto Z = random_Z(d, n, 9, B);
  FullParams<float> pf(3, 1, D);
  for (std::size_t i = 0; i < pd.P.size(); ++i) {
    pf.P[i] = static_cast<float>(pd.P[i]);
    pf.Q[i] = static_cast<float>(pd.Q[i]);
  }
  std::vector<float> Zf(Z.begin(), Z.end());
  std::vector<double> outd(B * 3);
  std::vector<float> outf(B * 3);
  full_predict(pd, n, B, Z.data(), outd.data());
  full_predict(pf, n, B, Zf.data(), outf.data());
  for (std::size_t i = 0; i < outd.size(); ++i)
    EXPECT_NEAR(outf[i], outd[i], tol::kFloatVsDouble * (1 + std::abs(outd[i])));
}

TEST(IclModels, GradientsBitwiseIdenticalForAnyThreadCount) {
  const int d = 10, n = 20, D = d + 1;
  const std::size_t B = 200;
  FullParams<float> p(2, 1, D);
  Rng rng = make_stream(10, "test.init");
  for (auto& v : p.P) v = static_cast<float>(0.02 * normal(rng));
  for (auto& v : p.Q) v = static_cast<float>(0.02 * normal(rng));
  const auto Zd = random_Z(d, n, 11, B);
  std::vector<float> Z(Zd.begin(), Zd.end()), y(B, 0.5f);
  DiagParams<float> dp(3, 1, false);
  for (auto* v : {&dp.px, &dp.py, &dp.qx, &dp.qy})
    for (auto& x : *v) x = static_cast<float>(0.05 * normal(rng));
  const int saved = num_threads();
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    FullGrads<float> g(2, 1, D);
    full_loss_grad(p, n, B, Z.data(), y.data(), g);
    DiagGrads<float> dg(3, 1, false);
    diag_loss_grad(dp, d, n, B, Z.data(), y.data(), dg);
    std::vector<float> all = g.P;
    all.insert(all.end(), g.Q.begin(), g.Q.end());
    all.insert(all.end(), dg.px.begin(), dg.px.end());
    all.insert(all.end(), dg.qy.begin(), dg.qy.end());
    results.push_back(all);
  }
  set_num_threads(saved);
  EXPECT_EQ(results[0], results[1]);
}

}  // namespace
}  // namespace attnlab::icl

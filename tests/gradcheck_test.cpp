// Protects core/gradcheck: the shared finite-difference checker passes a correct gradient,
// catches a planted wrong one (naming block and index), restores the parameters, and samples
// large blocks deterministically.
#include "core/gradcheck.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/rng.h"
#include "tests/tolerances.h"

namespace attnlab {
namespace {

constexpr double kPassTol = tol::kGradCheck;

// L(a, B) = sum_i sin(a_i) * (1 + sum_j B_ij^2) + 0.5 * sum_ij B_ij * a_j,  a: (n), B: (n, n).
struct Toy {
  std::size_t n;
  std::vector<double> a, B, ga, gB;
  int calls = 0;
  explicit Toy(std::size_t size, std::uint64_t seed) : n(size), a(n), B(n * n), ga(n), gB(n * n) {
    Rng rng = make_stream(seed, "gradcheck_test");
    for (auto& x : a) x = normal(rng);
    for (auto& x : B) x = 0.5 * normal(rng);
  }
  double loss() {
    ++calls;
    double l = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double row = 1;
      for (std::size_t j = 0; j < n; ++j) row += B[i * n + j] * B[i * n + j];
      l += std::sin(a[i]) * row;
      for (std::size_t j = 0; j < n; ++j) l += 0.5 * B[i * n + j] * a[j];
    }
    return l;
  }
  void gradient() {
    std::fill(ga.begin(), ga.end(), 0.0);
    std::fill(gB.begin(), gB.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      double row = 1;
      for (std::size_t j = 0; j < n; ++j) row += B[i * n + j] * B[i * n + j];
      ga[i] += std::cos(a[i]) * row;
      for (std::size_t j = 0; j < n; ++j) {
        gB[i * n + j] += 2 * std::sin(a[i]) * B[i * n + j] + 0.5 * a[j];
        ga[j] += 0.5 * B[i * n + j];
      }
    }
  }
  std::vector<GradBlock> blocks() {
    return {{"a", a.data(), ga.data(), n}, {"B", B.data(), gB.data(), n * n}};
  }
};

TEST(GradCheck, PassesCorrectGradient) {
  Toy t(5, 1);
  t.gradient();
  const GradCheckResult r = check_gradient([&] { return t.loss(); }, t.blocks());
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.blocks[0].name, "a");
  EXPECT_LT(r.max_rel_error(), kPassTol) << r.worst();
}

TEST(GradCheck, CatchesPlantedWrongGradientAndNamesIt) {
  Toy t(5, 2);
  t.gradient();
  t.gB[7] *= 1.01;  // a 1% error in one coordinate
  const GradCheckResult r = check_gradient([&] { return t.loss(); }, t.blocks());
  EXPECT_LT(r.blocks[0].rel_error, kPassTol) << "block a is right";
  EXPECT_GT(r.blocks[1].rel_error, 100 * kPassTol) << "planted error missed";
  EXPECT_EQ(r.blocks[1].worst_index, 7u);
  EXPECT_EQ(r.worst().rfind("B[7]: analytic ", 0), 0u) << r.worst();

  Toy u(5, 3);
  u.gradient();
  u.ga[0] = -u.ga[0];  // a sign error
  EXPECT_GT(check_gradient([&] { return u.loss(); }, u.blocks()).blocks[0].rel_error, 0.1);
}

TEST(GradCheck, RestoresParametersBitwise) {
  Toy t(4, 4);
  t.gradient();
  const std::vector<double> a0 = t.a, B0 = t.B;
  check_gradient([&] { return t.loss(); }, t.blocks());
  EXPECT_EQ(std::memcmp(a0.data(), t.a.data(), a0.size() * sizeof(double)), 0);
  EXPECT_EQ(std::memcmp(B0.data(), t.B.data(), B0.size() * sizeof(double)), 0);
}

TEST(GradCheck, SamplesLargeBlocksDeterministically) {
  Toy t(12, 5);  // B has 144 coordinates > 64 sampled
  t.gradient();
  GradCheckOptions o;
  o.max_coords_per_block = 64;
  t.calls = 0;
  const GradCheckResult r1 = check_gradient([&] { return t.loss(); }, t.blocks(), o);
  EXPECT_EQ(t.calls, 2 * (12 + 64));  // two loss calls per checked coordinate
  EXPECT_LT(r1.max_rel_error(), kPassTol) << r1.worst();

  // A block-wide error (every coordinate 2x) is caught whatever the sample.
  for (auto& g : t.gB) g *= 2;
  const GradCheckResult r2 = check_gradient([&] { return t.loss(); }, t.blocks(), o);
  const GradCheckResult r3 = check_gradient([&] { return t.loss(); }, t.blocks(), o);
  EXPECT_GT(r2.blocks[1].rel_error, 0.3);
  EXPECT_EQ(r2.blocks[1].worst_index, r3.blocks[1].worst_index);  // same seed, same sample
  EXPECT_EQ(r2.blocks[1].rel_error, r3.blocks[1].rel_error);
}

}  // namespace
}  // namespace attnlab

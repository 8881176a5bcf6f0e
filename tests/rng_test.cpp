// Protects core/rng: the documented stream_seed rule, determinism of named streams, their
// independence, and the moments of the distributions.
#include "core/rng.h"

#include <gtest/gtest.h>

#include <boost/random/normal_distribution.hpp>
#include <boost/version.hpp>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "core/mt_lanes.h"
#include "core/normal_lanes.h"

namespace attnlab {
namespace {

// Monte Carlo checks allow 5 standard errors: with fixed seeds they are deterministic, and a
// broken generator or distribution misses by far more.
constexpr double kSigmas = 5;

// The rule written in core/rng.h, re-implemented here from its published definitions.
std::uint64_t ref_splitmix64(std::uint64_t x) {
  std::uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

TEST(Rng, HashesMatchPublishedTestVectors) {
  EXPECT_EQ(splitmix64(0), 0xe220a8397b1dcdafULL);  // first SplitMix64 output from state 0
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);    // FNV-1a 64 offset basis
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(Rng, StreamSeedFollowsDocumentedRule) {
  for (std::uint64_t seed : {0ULL, 1ULL, 42ULL, 0xffffffffffffffffULL}) {
    for (const char* name : {"task", "inputs", "noise", "init", "eval", ""}) {
      for (std::uint64_t index : {0ULL, 1ULL, 7ULL, 1000000ULL}) {
        EXPECT_EQ(stream_seed(seed, name, index),
                  ref_splitmix64(ref_splitmix64(seed ^ fnv1a64(name)) + index))
            << "seed " << seed << " name " << name << " index " << index;
      }
    }
  }
  EXPECT_EQ(stream_seed(42, "inputs", 3), 0xfa4c63c118585e9fULL);  // computed in Python
}

TEST(Rng, EngineIsStandardMt19937_64SeededWithStreamSeed) {
  // Boost's engine produces the standard MT19937-64 sequence, so streams are portable.
  Rng rng = make_stream(42, "inputs", 3);
  std::mt19937_64 ref(stream_seed(42, "inputs", 3));
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(rng(), ref()) << "draw " << i;
}

TEST(Rng, SameStreamSameSequence) {
  Rng a = make_stream(7, "noise", 5), b = make_stream(7, "noise", 5);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(normal(a), normal(b));
    ASSERT_EQ(uniform(a, -1, 2), uniform(b, -1, 2));
    ASSERT_EQ(uniform_int(a, 0, 9), uniform_int(b, 0, 9));
    ASSERT_EQ(bernoulli(a, 0.3), bernoulli(b, 0.3));
  }
}

TEST(Rng, DistinctNamesIndicesAndSeedsGiveDistinctStreams) {
  std::set<std::uint64_t> seeds, firsts;
  int count = 0;
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    for (const char* name : {"task", "inputs", "noise", "init", "eval"}) {
      for (std::uint64_t index = 0; index < 50; ++index) {
        seeds.insert(stream_seed(seed, name, index));
        Rng r = make_stream(seed, name, index);
        firsts.insert(r());
        ++count;
      }
    }
  }
  EXPECT_EQ(seeds.size(), static_cast<std::size_t>(count));
  EXPECT_EQ(firsts.size(), static_cast<std::size_t>(count));
  // Seed and index are not interchangeable.
  EXPECT_NE(stream_seed(1, "task", 0), stream_seed(0, "task", 1));
}

double correlation(const std::vector<double>& x, const std::vector<double>& y) {
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  const double n = static_cast<double>(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    syy += y[i] * y[i];
    sxy += x[i] * y[i];
  }
  const double cov = sxy / n - sx / n * sy / n;
  return cov / std::sqrt((sxx / n - sx / n * sx / n) * (syy / n - sy / n * sy / n));
}

TEST(Rng, NamedStreamsAreUncorrelated) {
  // Pairs that differ in one component: name, adjacent index, adjacent seed.
  const std::size_t n = 50000;
  const double limit = kSigmas / std::sqrt(static_cast<double>(n));  // sd of r is 1/sqrt(n)
  struct Pair {
    std::uint64_t s1;
    const char* n1;
    std::uint64_t i1;
    std::uint64_t s2;
    const char* n2;
    std::uint64_t i2;
  };
  for (const Pair& p : {Pair{1, "task", 0, 1, "noise", 0}, Pair{1, "inputs", 0, 1, "inputs", 1},
                        Pair{1, "init", 4, 2, "init", 4}}) {
    Rng a = make_stream(p.s1, p.n1, p.i1), b = make_stream(p.s2, p.n2, p.i2);
    std::vector<double> x(n), y(n);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = normal(a);
      y[i] = normal(b);
    }
    EXPECT_LT(std::abs(correlation(x, y)), limit) << p.n1 << p.i1 << " vs " << p.n2 << p.i2;
    // Lagged by one draw as well.
    std::vector<double> x1(x.begin() + 1, x.end()), y0(y.begin(), y.end() - 1);
    EXPECT_LT(std::abs(correlation(x1, y0)), limit);
  }
}

TEST(Rng, NormalMomentsMatchStandardNormal) {
  const std::size_t n = 200000;
  const double nn = static_cast<double>(n);
  Rng rng = make_stream(11, "moments");
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double z = normal(rng);
    m1 += z;
    m2 += z * z;
    m3 += z * z * z;
    m4 += z * z * z * z;
  }
  m1 /= nn;
  m2 /= nn;
  m3 /= nn;
  m4 /= nn;
  // Standard errors of the raw moments of N(0,1): sqrt(Var(z^k) / n) with Var = 1, 2, 15, 96.
  EXPECT_NEAR(m1, 0.0, kSigmas * std::sqrt(1 / nn));
  EXPECT_NEAR(m2, 1.0, kSigmas * std::sqrt(2 / nn));
  EXPECT_NEAR(m3, 0.0, kSigmas * std::sqrt(15 / nn));
  EXPECT_NEAR(m4, 3.0, kSigmas * std::sqrt(96 / nn));
}

TEST(Rng, UniformIntBernoulliRangesAndMeans) {
  const std::size_t n = 100000;
  const double nn = static_cast<double>(n);
  Rng rng = make_stream(12, "ranges");
  double su = 0, sb = 0;
  std::vector<int> hits(5, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = uniform(rng, -2.0, 3.0);
    ASSERT_GE(u, -2.0);
    ASSERT_LT(u, 3.0);
    su += u;
    const std::int64_t k = uniform_int(rng, 10, 14);
    ASSERT_GE(k, 10);
    ASSERT_LE(k, 14);
    ++hits[static_cast<std::size_t>(k - 10)];
    sb += bernoulli(rng, 0.3) ? 1 : 0;
  }
  EXPECT_NEAR(su / nn, 0.5, kSigmas * std::sqrt(25.0 / 12 / nn));
  for (int h : hits) {  // both ends inclusive, each value about n/5
    EXPECT_NEAR(h / nn, 0.2, kSigmas * std::sqrt(0.2 * 0.8 / nn));
  }
  EXPECT_NEAR(sb / nn, 0.3, kSigmas * std::sqrt(0.3 * 0.7 / nn));
}

TEST(Rng, InlineUniform01IsUniformBitForBit) {
  // The dropout masks of SAMoVAR draw with uniform01; the reference draws with uniform(0, 1).
  Rng a = make_stream(9, "test.u01"), b = make_stream(9, "test.u01");
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(uniform01(a), uniform(b, 0.0, 1.0)) << "draw " << i;
}

TEST(Rng, SimdLanesYieldBoostsWordsPerLane) {
  std::uint64_t seeds[kMtLanes];
  std::vector<Rng> ref;
  for (int v = 0; v < kMtLanes; ++v) {
    seeds[v] = stream_seed(17, "test.lanes", static_cast<std::uint64_t>(v));
    ref.emplace_back(seeds[v]);
  }
  auto lanes = std::make_unique<MtLanes8>();
  lanes->seed(seeds);
  for (int i = 0; i < 3 * kMtN + 5; ++i) {  // several twists
    const U64x8& w = lanes->next();
    for (int v = 0; v < kMtLanes; ++v) ASSERT_EQ(w[v], ref[static_cast<std::size_t>(v)]()) << i;
  }
}

TEST(Rng, NormalLanesDrawBoostsNormalsPerLane) {
  // The fast path of core/normal_lanes reads a private table of Boost's ziggurat and mirrors its
  // bit layout; this says so by name when a Boost upgrade breaks it (the library then falls
  // back to Boost's own code, slower but with the same numbers).
  ASSERT_TRUE(normal_lanes_match_boost())
      << "Boost " BOOST_LIB_VERSION
         " draws N(0, 1) differently from the ziggurat fast path in "
         "core/normal_lanes.cpp: update zig_fast to this Boost's normal_distribution";
  // Through the public path, streams of this project's seeds, past the first block.
  std::uint64_t seeds[kMtLanes];
  for (int v = 0; v < kMtLanes; ++v) seeds[v] = stream_seed(5, "test.normal_lanes", v);
  auto group = std::make_unique<NormalLanes>();
  group->seed(seeds, 200);
  for (int v = 0; v < kMtLanes; ++v) {
    LaneEngine eng(*group, v);
    Rng ref(seeds[v]);
    boost::random::normal_distribution<double> normal01(0.0, 1.0);
    std::vector<double> got(700);
    eng.normals(got.data(), 350);
    eng.normals(got.data() + 350, 350);
    for (std::size_t k = 0; k < got.size(); ++k) ASSERT_EQ(got[k], normal01(ref)) << v << " " << k;
  }
}

}  // namespace
}  // namespace attnlab

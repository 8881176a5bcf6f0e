// Protects the generator claims' experiment kinds: same seed, same metrics bit for bit with 1 and
// 2 threads (STYLE 10), and a different seed changes the Monte Carlo metrics.
#include <gtest/gtest.h>

#include "core/thread_pool.h"
#include "experiments/claim.h"

namespace attnlab {
namespace {

Outcome run_smoke(const Claim& c, std::uint64_t seed, int threads) {
  set_num_threads(threads);
  RunContext ctx{c.profiles.at("smoke"), seed, "smoke"};
  return c.kind().run(ctx);
}

TEST(SynthClaims, GeneratorKindsAreThreadCountIndependent) {
  const int before = num_threads();
  for (const char* id :
       {"curse.e1_generator", "var.generator_stationary", "icl.generator_moments"}) {
    const auto claims = select_claims(load_all_claims(), {id});
    ASSERT_EQ(claims.size(), 1u) << id;
    const Outcome a = run_smoke(claims[0], 11, 1), b = run_smoke(claims[0], 11, 2);
    const Outcome other = run_smoke(claims[0], 12, 2);
    ASSERT_EQ(a.metrics().size(), b.metrics().size()) << id;
    int differs = 0;
    for (const auto& [name, value] : a.metrics()) {
      EXPECT_EQ(value, b.get(name)) << id << " " << name << " seed 11";
      differs += other.get(name) != value;
    }
    EXPECT_GT(differs, 0) << id << ": the seed must reach the random streams";
  }
  set_num_threads(before);
}

}  // namespace
}  // namespace attnlab

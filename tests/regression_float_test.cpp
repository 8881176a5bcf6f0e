// Protects the fast float training batch (synth/regression.h regression_batch_float): it must
// hold exactly the numbers of synth's regression_batch rounded to float, for every noise law,
// for sequences that draw more than one mt19937_64 block, and for any thread count.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "synth/regression.h"

namespace attnlab {
namespace {

RegressionSpec spec_of(const std::string& noise, int d, int n) {
  RegressionSpec s;
  s.d = d;
  s.n = n;
  if (noise[0] == 'c') {
    s.law = NoiseLaw::Categorical;
    s.sigma_set = {1, 3, 5};
  } else {
    s.sigma_max = noise[1] - '0';
  }
  return s;
}

struct Case {
  std::string noise;
  int d, n;
  std::size_t batch;
  std::uint64_t first;
};

TEST(RegressionFloat, FloatBatchEqualsRegressionBatchBitwise) {
  // d = 10, n = 40 draws 10 + 41 * 10 + 40 = 460 normals: past the first 312-word block.
  const std::vector<Case> cases = {{"u5", 10, 20, 1000, 4096},
                                   {"u0", 10, 20, 9, 0},
                                   {"c135", 4, 7, 20, 77},
                                   {"u3", 10, 40, 11, 5}};
  const int saved = num_threads();
  for (const Case& k : cases) {
    const auto spec = spec_of(k.noise, k.d, k.n);
    const std::uint64_t seed = 20261123;
    const Eigen::Index D = k.d + 1, N = k.n + 1, B = static_cast<Eigen::Index>(k.batch);
    Eigen::MatrixXd tokens(D, B * N);
    Eigen::VectorXd target(B);
    regression_batch(spec, seed, k.first, {tokens, target, nullptr, nullptr});
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      std::vector<float> Zf(static_cast<std::size_t>(tokens.size())), yf(k.batch);
      regression_batch_float(spec, seed, k.first, k.batch, Zf.data(), yf.data());
      for (std::size_t i = 0; i < Zf.size(); ++i)
        ASSERT_EQ(Zf[i], static_cast<float>(tokens.data()[i]))
            << k.noise << " seed " << seed << " threads " << threads << " index " << i;
      for (std::size_t b = 0; b < k.batch; ++b)
        ASSERT_EQ(yf[b], static_cast<float>(target(static_cast<Eigen::Index>(b))))
            << k.noise << " seed " << seed << " threads " << threads << " target " << b;
    }
  }
  set_num_threads(saved);
}

}  // namespace
}  // namespace attnlab

#include "synth/regression.h"

#include <cassert>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/thread_pool.h"

namespace attnlab {

void validate(const RegressionSpec& spec) {
  auto fail = [](const std::string& m) { throw InputError("regression generator: " + m); };
  if (spec.d < 1 || spec.d > 100000)
    fail("d must be in [1, 100000], got " + std::to_string(spec.d));
  if (spec.n < 0 || spec.n > 1000000)
    fail("n must be in [0, 1000000], got " + std::to_string(spec.n));
  if (spec.law == NoiseLaw::Uniform) {
    if (!(spec.sigma_max >= 0.0) || !std::isfinite(spec.sigma_max))
      fail("sigma_max must be finite and >= 0");
  } else {
    if (spec.sigma_set.empty()) fail("sigma_set must hold at least one value");
    for (double s : spec.sigma_set)
      if (!(s >= 0.0) || !std::isfinite(s)) fail("sigma_set values must be finite and >= 0");
  }
}

double regression_mean_sigma(const RegressionSpec& spec) {
  if (spec.law == NoiseLaw::Uniform) return spec.sigma_max / 2.0;
  double s = 0;
  for (double v : spec.sigma_set) s += v;
  return s / static_cast<double>(spec.sigma_set.size());
}

double regression_mean_sigma2(const RegressionSpec& spec) {
  if (spec.law == NoiseLaw::Uniform) return spec.sigma_max * spec.sigma_max / 3.0;
  double s = 0;
  for (double v : spec.sigma_set) s += v * v;
  return s / static_cast<double>(spec.sigma_set.size());
}

double regression_context_y2(const RegressionSpec& spec) {
  return static_cast<double>(spec.d) + regression_mean_sigma2(spec);
}

double regression_query_y2(const RegressionSpec& spec) { return static_cast<double>(spec.d); }

namespace {

double draw_sigma(const RegressionSpec& spec, Rng& rng) {
  if (spec.law == NoiseLaw::Uniform)
    return spec.sigma_max > 0.0 ? uniform(rng, 0.0, spec.sigma_max) : 0.0;
  const auto last = static_cast<std::int64_t>(spec.sigma_set.size()) - 1;
  return spec.sigma_set[static_cast<std::size_t>(uniform_int(rng, 0, last))];
}

// Writes one sequence into Z: (d+1, n+1) and returns its target; w: (d).
template <typename ZType, typename WType>
double fill_sequence(const RegressionSpec& spec, Rng& rng, ZType&& Z, WType&& w, double& sigma) {
  const Eigen::Index d = spec.d, n = spec.n;
  sigma = draw_sigma(spec, rng);
  for (Eigen::Index k = 0; k < d; ++k) w(k) = normal(rng);
  for (Eigen::Index i = 0; i <= n; ++i)
    for (Eigen::Index k = 0; k < d; ++k) Z(k, i) = normal(rng);
  // y_i = <w, x_i> + sigma xi_i for the context; the query's label slot is 0
  Z.row(d).head(n).noalias() = w.transpose() * Z.topLeftCorner(d, n);
  for (Eigen::Index i = 0; i < n; ++i) Z(d, i) += sigma * normal(rng);
  Z(d, n) = 0.0;
  return w.dot(Z.col(n).head(d));  // noise-free query target
}

}  // namespace

void regression_batch(const RegressionSpec& spec, std::uint64_t seed, std::uint64_t first,
                      RegressionBatchView out) {
  validate(spec);
  const Eigen::Index d = spec.d, L = spec.n + 1;
  const Eigen::Index B = out.target.size();
  assert(out.tokens.rows() == d + 1 && out.tokens.cols() == B * L);
  if (out.tokens.rows() != d + 1 || out.tokens.cols() != B * L)
    throw InputError("regression_batch: tokens must be (d+1, B (n+1))");
  if (out.w) out.w->resize(d, B);
  if (out.sigma) out.sigma->resize(B);
  parallel_for(
      static_cast<std::size_t>(B),
      [&](std::size_t lo, std::size_t hi) {
        Eigen::VectorXd w(d);
        for (std::size_t j = lo; j < hi; ++j) {
          const Eigen::Index b = static_cast<Eigen::Index>(j);
          Rng rng = make_stream(seed, "icl.task", first + j);
          double sigma = 0;
          out.target(b) = fill_sequence(spec, rng, out.tokens.middleCols(b * L, L), w, sigma);
          if (out.w) out.w->col(b) = w;
          if (out.sigma) (*out.sigma)(b) = sigma;
        }
      },
      16);
}

RegressionTask regression_task(const RegressionSpec& spec, std::uint64_t seed,
                               std::uint64_t index) {
  validate(spec);
  RegressionTask t;
  t.Z.resize(spec.d + 1, spec.n + 1);
  t.w.resize(spec.d);
  Rng rng = make_stream(seed, "icl.task", index);
  t.target = fill_sequence(spec, rng, t.Z, t.w, t.sigma);
  return t;
}

}  // namespace attnlab

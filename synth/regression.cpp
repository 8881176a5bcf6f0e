#include "synth/regression.h"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cassert>
#include <cmath>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/normal_lanes.h"
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

// sigma, then d + (n+1) d + n standard normals, through `normals(out, count)`: both engines
// below draw the same words in the same order.
template <typename Engine>
double draw_sigma(const RegressionSpec& spec, Engine& eng) {
  if (spec.law == NoiseLaw::Uniform)
    return spec.sigma_max > 0.0
               ? boost::random::uniform_real_distribution<double>(0.0, spec.sigma_max)(eng)
               : 0.0;
  const auto last = static_cast<std::int64_t>(spec.sigma_set.size()) - 1;
  return spec.sigma_set[static_cast<std::size_t>(
      boost::random::uniform_int_distribution<std::int64_t>(0, last)(eng))];
}

void draw_normals(Rng& rng, double* out, int count) {
  for (int k = 0; k < count; ++k) out[k] = normal(rng);
}
void draw_normals(LaneEngine& eng, double* out, int count) { eng.normals(out, count); }

// Writes one sequence into Z: (d+1, n+1) and returns its target; w: (d), draws: scratch.
template <typename Engine, typename ZType, typename WType>
double fill_sequence(const RegressionSpec& spec, Engine& eng, ZType&& Z, WType&& w, double& sigma,
                     std::vector<double>& draws) {
  const Eigen::Index d = spec.d, n = spec.n;
  sigma = draw_sigma(spec, eng);
  draws.resize(static_cast<std::size_t>(d + (n + 1) * d + n));
  draw_normals(eng, draws.data(), static_cast<int>(draws.size()));
  const double* g = draws.data();
  for (Eigen::Index k = 0; k < d; ++k) w(k) = *g++;
  for (Eigen::Index i = 0; i <= n; ++i)
    for (Eigen::Index k = 0; k < d; ++k) Z(k, i) = *g++;
  // y_i = <w, x_i> + sigma xi_i for the context; the query's label slot is 0
  Z.row(d).head(n).noalias() = w.transpose() * Z.topLeftCorner(d, n);
  for (Eigen::Index i = 0; i < n; ++i) Z(d, i) += sigma * *g++;
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
        std::vector<double> draws;
        for (std::size_t j = lo; j < hi; ++j) {
          const Eigen::Index b = static_cast<Eigen::Index>(j);
          Rng rng = make_stream(seed, "icl.task", first + j);
          double sigma = 0;
          out.target(b) =
              fill_sequence(spec, rng, out.tokens.middleCols(b * L, L), w, sigma, draws);
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
  std::vector<double> draws;
  t.target = fill_sequence(spec, rng, t.Z, t.w, t.sigma, draws);
  return t;
}

void regression_batch_float(const RegressionSpec& spec, std::uint64_t seed, std::uint64_t first,
                            std::size_t batch, float* Zf, float* yf) {
  validate(spec);
  const auto zs = static_cast<std::size_t>((spec.d + 1) * (spec.n + 1));
  const std::size_t lanes = static_cast<std::size_t>(kMtLanes);
  const std::size_t groups = (batch + lanes - 1) / lanes;
  // words a sequence draws: sigma, d + (n+1) d + n normals, and a few rejections (1.2 % each)
  const int expected_words = 1 + spec.d + (spec.n + 1) * spec.d + spec.n + 16;
  parallel_for(groups, [&](std::size_t g0, std::size_t g1) {
    auto group = std::make_unique<NormalLanes>();
    Eigen::MatrixXd Z(spec.d + 1, spec.n + 1);
    Eigen::VectorXd w(spec.d);
    std::vector<double> draws;
    for (std::size_t g = g0; g < g1; ++g) {
      const std::size_t b0 = g * lanes, count = std::min(lanes, batch - b0);
      std::uint64_t seeds[kMtLanes] = {};
      for (std::size_t v = 0; v < count; ++v)
        seeds[v] = stream_seed(seed, "icl.task", first + b0 + v);
      group->seed(seeds, expected_words);
      for (std::size_t v = 0; v < count; ++v) {
        LaneEngine eng(*group, static_cast<int>(v));
        double sigma = 0;
        const double target = fill_sequence(spec, eng, Z, w, sigma, draws);
        float* out = Zf + (b0 + v) * zs;
        for (std::size_t e = 0; e < zs; ++e) out[e] = static_cast<float>(Z.data()[e]);
        yf[b0 + v] = static_cast<float>(target);
      }
    }
  });
}

}  // namespace attnlab

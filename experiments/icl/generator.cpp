// Kind `synth_icl_moments` (claim icl.generator_moments): first and second moments of x, w, y and
// sigma produced by the in-context regression generator agree with their closed forms, for the
// uniform and the categorical noise law. Tasks are the independent units: every statistic is
// averaged within a task first, so SEs are valid although positions of a task share w, sigma.
#include "experiments/icl/generator.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "analysis/moments.h"
#include "core/thread_pool.h"
#include "synth/regression.h"

namespace attnlab::icl {
namespace {

// Statistic layout for one task (d features): groups and their closed forms.
struct Layout {
  Eigen::Index d, x_mean, x_second, w_mean, w_second, y, sigma, cross, noise, total;
  explicit Layout(Eigen::Index d_) : d(d_) {
    const Eigen::Index tri = d * (d + 1) / 2;
    x_mean = 0;
    x_second = x_mean + d;
    w_mean = x_second + tri;
    w_second = w_mean + d;
    y = w_second + tri;     // context mean, context second, query mean, query second
    sigma = y + 4;          // E sigma, E sigma^2
    cross = sigma + 2;      // mean_i y_i x_i (d), mean_i y_i <x_i, w> (1)
    noise = cross + d + 1;  // mean_i (y_i - <w, x_i>)^2
    total = noise + 1;
  }
};

Eigen::VectorXd closed_forms(const Layout& L, const RegressionSpec& spec) {
  Eigen::VectorXd t = Eigen::VectorXd::Zero(L.total);
  Eigen::Index idx = 0;
  for (Eigen::Index a = 0; a < L.d; ++a)
    for (Eigen::Index b = a; b < L.d; ++b, ++idx) {
      t(L.x_second + idx) = a == b ? 1.0 : 0.0;  // E[x x^T] = I
      t(L.w_second + idx) = a == b ? 1.0 : 0.0;  // E[w w^T] = I
    }
  t(L.y + 1) = regression_context_y2(spec);  // d + E sigma^2
  t(L.y + 3) = regression_query_y2(spec);    // d: noise-free query
  t(L.sigma) = regression_mean_sigma(spec);
  t(L.sigma + 1) = regression_mean_sigma2(spec);
  t(L.cross + L.d) = static_cast<double>(L.d);  // E[y <x, w>] = E|w|^2
  t(L.noise) = regression_mean_sigma2(spec);
  return t;
}

// Per-task statistics. Z: (d+1, n+1) with the query label slot 0.
Eigen::VectorXd task_stats(const Layout& L, int n, const Eigen::Ref<const Eigen::MatrixXd>& Z,
                           double target, const Eigen::Ref<const Eigen::VectorXd>& w,
                           double sigma) {
  const Eigen::Index d = L.d;
  Eigen::VectorXd f(L.total);
  const auto X = Z.topRows(d);      // (d, n+1): context and query inputs
  const auto y = Z.row(d).head(n);  // (n)
  const double np1 = static_cast<double>(n + 1), nn = std::max(1.0, static_cast<double>(n));
  f.segment(L.x_mean, d) = X.rowwise().sum() / np1;
  const Eigen::MatrixXd XX = X * X.transpose() / np1;
  Eigen::Index idx = 0;
  for (Eigen::Index a = 0; a < d; ++a)
    for (Eigen::Index b = a; b < d; ++b, ++idx) {
      f(L.x_second + idx) = XX(a, b);
      f(L.w_second + idx) = w(a) * w(b);
    }
  f.segment(L.w_mean, d) = w;
  f(L.y) = y.sum() / nn;
  f(L.y + 1) = y.squaredNorm() / nn;
  f(L.y + 2) = target;
  f(L.y + 3) = target * target;
  f(L.sigma) = sigma;
  f(L.sigma + 1) = sigma * sigma;
  const Eigen::RowVectorXd wx = w.transpose() * X.leftCols(n);  // (n) noise-free labels
  f.segment(L.cross, d) = X.leftCols(n) * y.transpose() / nn;
  f(L.cross + d) = y.dot(wx) / nn;
  f(L.noise) = (y - wx).squaredNorm() / nn;
  return f;
}

double group_max(const Eigen::VectorXd& z, Eigen::Index start, Eigen::Index len) {
  return z.segment(start, len).cwiseAbs().maxCoeff();
}

void run_law(const std::string& name, const RegressionSpec& spec, std::int64_t tasks,
             std::uint64_t seed, Outcome& out) {
  const Layout L(spec.d);
  constexpr std::int64_t kChunk = 2048;  // tasks per deterministic partial
  const std::size_t chunks = num_chunks(static_cast<std::size_t>(tasks), kChunk);
  std::vector<MomentSums> part(chunks, MomentSums(L.total));
  double query_err = 0;
  std::vector<double> query_err_part(chunks, 0.0);
  const Eigen::Index len = spec.n + 1;
  parallel_chunks(
      static_cast<std::size_t>(tasks), kChunk, [&](std::size_t c, std::size_t b, std::size_t e) {
        const Eigen::Index B = static_cast<Eigen::Index>(e - b);
        Eigen::MatrixXd tokens(spec.d + 1, B * len), w;
        Eigen::VectorXd target(B), sigma;
        regression_batch(spec, seed, b, {tokens, target, &w, &sigma});  // nested: runs serially
        for (Eigen::Index j = 0; j < B; ++j) {
          const auto Z = tokens.middleCols(j * len, len);
          part[c].add(task_stats(L, spec.n, Z, target(j), w.col(j), sigma(j)));
          query_err_part[c] = std::max(
              query_err_part[c], std::abs(target(j) - w.col(j).dot(Z.col(spec.n).head(spec.d))));
        }
      });
  MomentSums all(L.total);
  for (std::size_t c = 0; c < chunks; ++c) {
    all.merge(part[c]);
    query_err = std::max(query_err, query_err_part[c]);
  }
  const Eigen::VectorXd truth = closed_forms(L, spec);
  const Eigen::VectorXd z = all.z(truth), mean = all.mean();
  const Eigen::Index tri = L.d * (L.d + 1) / 2;
  out.metric(name + ".x_mean_max_abs_z", group_max(z, L.x_mean, L.d));
  out.metric(name + ".x_second_max_abs_z", group_max(z, L.x_second, tri));
  out.metric(name + ".w_mean_max_abs_z", group_max(z, L.w_mean, L.d));
  out.metric(name + ".w_second_max_abs_z", group_max(z, L.w_second, tri));
  out.metric(name + ".y_max_abs_z", group_max(z, L.y, 4));
  out.metric(name + ".sigma_max_abs_z", group_max(z, L.sigma, 2));
  out.metric(name + ".cross_max_abs_z", group_max(z, L.cross, L.d + 1));
  out.metric(name + ".noise_var_abs_z", std::abs(z(L.noise)));
  out.metric(name + ".query_target_max_abs_err", query_err);
  out.metric(name + ".sigma2_mean", mean(L.sigma + 1));
  out.metric(name + ".sigma2_closed_form", truth(L.sigma + 1));
  out.metric(name + ".context_y2_mean", mean(L.y + 1));
  out.metric(name + ".context_y2_closed_form", truth(L.y + 1));
  auto group = [&](Eigen::Index s, Eigen::Index n) {
    return std::vector<double>(z.data() + s, z.data() + s + n);
  };
  out.data[name] = {{"x_mean", group(L.x_mean, L.d)},
                    {"x_second", group(L.x_second, tri)},
                    {"w_mean", group(L.w_mean, L.d)},
                    {"w_second", group(L.w_second, tri)},
                    {"y", group(L.y, 4)},
                    {"sigma", group(L.sigma, 2)},
                    {"cross", group(L.cross, L.d + 1)},
                    {"noise", group(L.noise, 1)}};
}

Outcome run(const RunContext& ctx) {
  const ParamValues& p = ctx.params;
  RegressionSpec base;
  base.d = p.i32("d");
  base.n = p.i32("n");
  const std::int64_t tasks = p.i("tasks");
  Outcome out;
  RegressionSpec uni = base;
  uni.law = NoiseLaw::Uniform;
  uni.sigma_max = p.d("sigma_max");
  run_law("uniform", uni, tasks, stream_seed(ctx.seed, "icl.moments.uniform"), out);
  ctx.progress(0.5, "uniform law");
  RegressionSpec cat = base;
  cat.law = NoiseLaw::Categorical;
  cat.sigma_set = p.reals("sigma_set");
  run_law("set", cat, tasks, stream_seed(ctx.seed, "icl.moments.set"), out);
  ctx.progress(1.0, "categorical law");
  return out;
}

}  // namespace

ExperimentKind generator_kind() {
  return {"synth_icl_moments",
          "ICL regression generator: moments of x, w, y, sigma vs closed forms (uniform and set "
          "noise laws)",
          {p_int("d", 1, 1000).optional(10).describe("d, dimension of the inputs x and weights w"),
           p_int("n", 1, 10000).optional(20).describe("n, context examples per sequence"),
           p_int("tasks", 10, 1e8).describe("independent tasks per noise law"),
           p_real("sigma_max", 0, 100).optional(3.0).describe("uniform law: sigma ~ U(0, max)"),
           p_reals("sigma_set", 0, 100)
               .optional(nlohmann::json::array({1.0, 3.0}))
               .describe("categorical law: sigma uniform over the set")},
          run};
}

}  // namespace attnlab::icl

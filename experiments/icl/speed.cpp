#include "experiments/icl/speed.h"

#include <algorithm>
#include <chrono>

#include "analysis/stats.h"
#include "core/optim.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "experiments/icl/common.h"
#include "models/icl/full.h"

namespace attnlab::icl {
namespace {

Outcome run_step_timing(const RunContext& ctx) {
  const auto& p = ctx.params;
  const int d = p.i32("d"), n = p.i32("n"), L = p.i32("layers"), D = d + 1, N = n + 1;
  const auto B = static_cast<std::size_t>(p.i("batch"));
  const auto spec = noise_spec("u5", d, n);
  FullParams<float> fp(L, 1, D);
  FullGrads<float> fg(L, 1, D);
  Rng init = make_stream(ctx.seed, "icl.speed.init");
  for (auto& v : fp.P) v = static_cast<float>(0.02 * normal(init));
  for (auto& v : fp.Q) v = static_cast<float>(0.02 * normal(init));
  const std::vector<ParamBlock<float>> blocks = {{"P", fp.P.data(), fg.P.data(), fp.P.size()},
                                                 {"Q", fp.Q.data(), fg.Q.data(), fp.Q.size()}};
  Adam<float> adam;
  std::vector<float> Zf(B * static_cast<std::size_t>(D * N)), yf(B);
  const std::uint64_t data_seed = stream_seed(ctx.seed, "icl.speed.data");
  auto step = [&](std::int64_t s) {
    // the same batch as regression_batch (synth/regression.h), straight to float
    regression_batch_float(spec, data_seed, static_cast<std::uint64_t>(s) * B, B, Zf.data(),
                           yf.data());
    fg.set_zero();
    const double loss = full_loss_grad(fp, n, B, Zf.data(), yf.data(), fg);
    clip_global_norm(blocks, 10.0);
    adam.step(blocks, 1e-4);
    return loss;
  };
  const int warmup = p.i32("warmup"), reps = p.i32("reps"), per = p.i32("steps_per_rep");
  std::int64_t s = 0;
  for (int w = 0; w < warmup; ++w) step(s++);
  std::vector<double> times;
  double last = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < per; ++k) last = step(s++);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                    per);
  }
  // Wall-clock numbers are timings (reported, never gated, outside the same-bits contract);
  // the loss after the timed steps is a metric and identical for any thread count.
  const double median_time = upper_median(times);
  Outcome o;
  o.timing("seconds_per_step", median_time);
  o.timing("seconds_per_step_min", *std::min_element(times.begin(), times.end()));
  o.metric("last_loss", last);
  return o;
}

}  // namespace

std::vector<ExperimentKind> speed_experiments() {
  return {{"icl_step_timing",
           "Seconds per training step of FULL (Adam, data generation included), median of reps",
           {p_int("d", 1, 64).describe("d, dimension of the regression inputs x"),
            p_int("n", 2, 10000).describe("n, context examples per sequence"),
            p_int("layers", 1, 16).describe("L, layers of the FULL model"),
            p_int("batch", 1, 100000).describe("sequences per training step"),
            p_int("warmup", 0, 1000).describe("untimed steps before timing"),
            p_int("reps", 1, 1000).describe("timed repetitions (the median is reported)"),
            p_int("steps_per_rep", 1, 1000).describe("training steps per timed repetition")},
           run_step_timing,
           {sequences_fit_memory({}, "batch")}}};
}

}  // namespace attnlab::icl

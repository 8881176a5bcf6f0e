#pragma once
// A small training loop over named parameter blocks, with a NaN guard and exact checkpoint/resume.
//
// Per step s = start .. steps-1:
//   1. zero every gradient, then loss = step_fn(s)  (step_fn ACCUMULATES (+=) gradients of the
//      loss into the blocks; draw its batch from a stream keyed by s, e.g.
//      make_stream(seed, "batch", s), so a resumed run sees the same data)
//   2. NaN guard: a non-finite loss or any non-finite value/gradient throws NumericError naming
//      the step (and the block)
//   3. clip_global_norm(blocks, clip_norm) if clip_norm > 0
//   4. Adam (or SGD) update with lr = schedule.lr(s)
//   5. every log_every steps and after the last: progress((s+1)/steps, "step s+1/N loss x")
//   6. every checkpoint_every steps and after the last (if `checkpoint` is set): write all block
//      values, the optimizer state, the step count and the loss history atomically.
// If `checkpoint` exists when the loop starts (and resume is true), the loop restores it and
// continues; the continuation is bitwise identical to an uninterrupted run. The checkpoint
// checks block names/sizes, scalar type, optimizer and AdamConfig; the schedule and clip_norm are
// not stored, so keep them fixed across a resume.
//
// Example:
//   TrainLoopOptions opt;  opt.steps = 2000;  opt.schedule.base_lr = 1e-3;
//   auto r = train_loop<double>(params.blocks(), opt, [&](std::int64_t s) {
//     Rng rng = make_stream(seed, "batch", static_cast<std::uint64_t>(s));
//     return loss_and_grads(params, sample_batch(rng), grads);
//   }, ctx.progress);
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>
#include <vector>

#include "core/optim.h"

namespace attnlab {

struct TrainLoopOptions {
  enum class Optimizer { Adam, Sgd } optimizer = Optimizer::Adam;
  std::int64_t steps = 0;  // total number of updates (including any done before a resume)
  AdamConfig adam;
  Schedule schedule;                 // lr(s) for s = 0 .. steps-1; set schedule.total_steps = steps
  double clip_norm = 0;              // > 0: clip the global gradient norm to this
  std::int64_t log_every = 0;        // > 0: report progress every this many steps
  std::filesystem::path checkpoint;  // empty: no checkpoints
  std::int64_t checkpoint_every = 0;  // > 0: also checkpoint every this many steps
  bool resume = true;                 // restore `checkpoint` if it exists
};

struct TrainResult {
  std::int64_t resumed_from = 0;   // step count restored from a checkpoint (0: fresh start)
  std::vector<double> losses;      // loss of every step 0 .. steps-1, including resumed ones
  std::vector<double> grad_norms;  // global gradient norm (before clipping) per step, if clipping
};

using TrainStepFn = std::function<double(std::int64_t step)>;
using TrainProgressFn = std::function<void(double fraction, std::string_view label)>;

// blocks: the model's parameters (value, grad). Throws NumericError from the NaN guard and
// InputError when a checkpoint does not match the blocks or options.
template <class T>
TrainResult train_loop(const std::vector<ParamBlock<T>>& blocks, const TrainLoopOptions& options,
                       const TrainStepFn& step_fn, const TrainProgressFn& progress = {});

}  // namespace attnlab

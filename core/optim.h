#pragma once
// Optimizers and schedules. A model exposes its parameters as named blocks (value and gradient
// of the same size); optimizers update the values in place from the gradients.
// Instantiated for T = float and T = double. All arithmetic of an update is done in double and
// rounded to T once per stored number, in a fixed order, so a run is bit-reproducible (same
// binary, same inputs -> same bits, any thread count: nothing here is parallel).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnlab {

template <class T>
struct ParamBlock {
  std::string name;
  T* value;
  T* grad;  // non-const: clipping rescales it
  std::size_t size;
};

struct AdamConfig {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0;  // AdamW: decoupled, value -= lr * weight_decay * value
};

// Adam / AdamW with bias correction, the same update as torch.optim.Adam / AdamW (eps outside
// the square root). With t = steps() after the increment, per coordinate:
//   value *= 1 - lr * weight_decay                     (AdamW, before the moment update)
//   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
//   value -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// State (moments, step count) is per block, allocated on the first step; step() throws
// InputError if the blocks' count or sizes differ from the state's. state()/load_state()
// serialise it exactly (moments as hex bit patterns, see encode_exact) for checkpoint/resume;
// load_state throws InputError if the state was written with another config or scalar type.
template <class T>
class Adam {
 public:
  explicit Adam(AdamConfig config = {}) : config_(config) {}
  void step(const std::vector<ParamBlock<T>>& blocks, double lr);
  std::int64_t steps() const { return t_; }
  const AdamConfig& config() const { return config_; }
  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

 private:
  AdamConfig config_;
  std::int64_t t_ = 0;
  std::vector<std::vector<T>> m_, v_;
};

// Plain gradient descent: value -= lr * grad.
template <class T>
void sgd_step(const std::vector<ParamBlock<T>>& blocks, double lr);

// Rescales all gradients so their global L2 norm is at most max_norm; returns the norm before.
// The norm is sum of squares in double over blocks in order. Gradients are multiplied by
// max_norm / norm only when norm > max_norm; a NaN/Inf norm leaves them unchanged (check_finite
// reports it). Throws InputError unless max_norm > 0.
template <class T>
double clip_global_norm(const std::vector<ParamBlock<T>>& blocks, double max_norm);

// Throws NumericError("step S: parameter block 'NAME' has a NaN/Inf value|gradient at index I")
// if any value or gradient is not finite. Values are checked before gradients, blocks in order.
template <class T>
void check_finite(const std::vector<ParamBlock<T>>& blocks, std::int64_t step);

// Learning rate at 0-based step s (the s-th update, s = 0 .. total_steps - 1). lr() calls
// validate(), which throws InputError on an inconsistent schedule.
//  Constant:     lr = base_lr.
//  StepDecay:    lr = base_lr * factors[k] for the largest k with s >= round(milestones[k] *
//                total_steps), else base_lr. Milestones are fractions in [0, 1], non-decreasing,
//                one factor each. E.g. milestones {0.6, 0.9}, factors {0.1, 0.01}, total 100:
//                steps 0..59 base_lr, 60..89 base_lr*0.1, 90..99 base_lr*0.01. (Factors are
//                absolute, not cumulative: torch MultiStepLR with gamma 0.1 is factors {0.1,
//                0.01}.)
//  WarmupLinear: W = warmup_steps, N = total_steps (0 <= W < N).
//                s < W:  lr = base_lr * (warmup_start + (1 - warmup_start) * s / W)
//                s >= W: lr = base_lr + (final_lr - base_lr) * min(1, (s - W) / (N - W))
//                i.e. linear warm-up from warmup_start*base_lr (at s = 0) reaching base_lr at
//                s = W, then linear decay reaching final_lr at s = N (the last update, s = N-1,
//                is one decrement above final_lr). With warmup_start = 0 and final_lr = 0 this is
//                exactly transformers.get_linear_schedule_with_warmup (a torch LambdaLR with
//                lambda(s) = s/W for s < W, else (N - s)/(N - W)).
//  OneCycleLinear: torch.optim.lr_scheduler.OneCycleLR with anneal_strategy = 'linear' (two
//                phases), N = total_steps, E = pct_start * N - 1 (a real number):
//                s <= E: lr = i + (base_lr - i) * s / E,          i = base_lr / div_factor
//                s >  E: lr = base_lr + (m - base_lr) * (s - E) / (N - 1 - E),
//                        m = i / final_div_factor (reached at the last step, s = N - 1);
//                E < 0 (fewer than 1 / pct_start steps): no warm-up, as in torch.
struct Schedule {
  enum class Kind { Constant, StepDecay, WarmupLinear, OneCycleLinear } kind = Kind::Constant;
  double base_lr = 1e-3;
  // StepDecay: lr = base * factors[k] after fraction milestones[k] of total steps.
  std::vector<double> milestones, factors;
  // WarmupLinear: linear from warmup_start*base to base over warmup_steps, then linear to
  // final_lr at total_steps.
  std::int64_t warmup_steps = 0;
  double warmup_start = 0, final_lr = 0;
  // OneCycleLinear (torch's defaults): base_lr is the peak.
  double pct_start = 0.3, div_factor = 25, final_div_factor = 1e4;
  std::int64_t total_steps = 1;
  double lr(std::int64_t step) const;
  void validate() const;
};

// Exact, compact text encoding of floating-point arrays for checkpoints: the IEEE bit pattern of
// each number as fixed-width lower-case hex (8 digits per float, 16 per double), concatenated.
// Round-trips every value bit for bit, including -0, subnormals, Inf and NaN payloads.
// decode_exact throws InputError if the text is not n numbers of type T.
template <class T>
std::string encode_exact(const T* data, std::size_t n);
template <class T>
void decode_exact(const std::string& hex, T* out, std::size_t n);

}  // namespace attnlab

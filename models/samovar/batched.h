#pragma once
// SAMoVAR, FixedVAR and LinTrans over many samples at once: the training loss, its gradient and
// the forecast on the batched core (core/bgemm.h), in double or float, with every buffer
// allocated once and reused (no allocation per step once the largest batch has been seen).
//
// A batch of n samples of C channels is N = n C token sequences of T tokens. Activations are
// stored feature-major, (F, N T) column-major: column q T + tau is token tau of sequence
// q = i C + c (sample i, channel c), so every linear map of the model is one GEMM over all N T
// tokens, and the patches of a channel are contiguous columns of its RevIN-normalised series.
// The causal linear attention runs per (sequence, head) in its state form
//   S_t = S_{t-1} + k_t^T v_t,  o_t = q_t S_t                      O(T d^2) per head
// (the quadratic form of models/samovar/linear_attention.h costs O(T^2 d); T >> d here).
//
// The per-sample code of models/samovar/samovar.h (sample_loss_reference, forward) is the
// reference twin: the same model, the same dropout masks drawn from the same per-sample streams
// in the same order, the same loss. tests/samovar_batched_test.cpp checks that losses,
// forecasts and every gradient agree, checks this path's gradient against finite differences in
// double, and bounds the page faults of a steady-state step.
//
// Not covered here (reference only): frozen query/value paths (the VAR reading of
// var.misaligned_stack_not_var) and forward_with_revin with given RevIN statistics.
#include <memory>
#include <mutex>
#include <vector>

#include "core/rng.h"
#include "models/samovar/samovar.h"

namespace attnlab::samovar {

// One batch, as views of the caller's data (data units).
struct BatchView {
  std::vector<const Matrix*> windows;  // n windows, each (L, C)
  std::vector<const Matrix*> targets;  // n targets, each (s, C); unused by forecast
  // (C) factors on channel c of every window and target (random channel drop); empty = all 1.
  std::vector<double> keep;
  // n dropout stream seeds, one per sample: sample i's masks are drawn from
  // Rng(dropout_seeds[i]) exactly as the reference draws them from that engine (8 samples'
  // streams advance together in SIMD lanes, core/mt_lanes.h). Empty: no dropout (evaluation).
  std::vector<std::uint64_t> dropout_seeds;
};

template <class S>
class BatchModel {
 public:
  explicit BatchModel(const Config& cfg);
  ~BatchModel();
  BatchModel(BatchModel&&) noexcept;
  BatchModel& operator=(BatchModel&&) noexcept;

  // Sum over the batch of sample_loss_reference (weight_fc * sum (forecast - target)^2 +
  // weight_aux * sum_{n < P-1} (pred_n - z_{n+1})^2, after channel drop). Adds the gradient
  // into *grads (shaped like p) when grads is not null.
  double loss(const ParamsT<S>& p, const BatchView& batch, double weight_fc, double weight_aux,
              ParamsT<S>* grads);
  // out[i] = forecast (s, C) of windows[i] in data units, without dropout.
  void forecast(const ParamsT<S>& p, const BatchView& batch, std::vector<Matrix>& out);

  const Config& config() const;

 private:
  struct Work;
  std::unique_ptr<Work> w_;
};

extern template class BatchModel<double>;
extern template class BatchModel<float>;

// Floating-point operations of one training step on `batch` samples, by the usual convention:
// 3 x the multiply-adds (2 flops each) of the forward's matrix products (tokenisers, MLPs,
// projections, the attention in the state form this path computes, the output matrix, the
// readout), i.e. forward + a backward of twice the forward. Element-wise work (norms, GELU,
// masks) is not counted. For GFLOP/s against a machine's peak.
double train_step_flops(const Config& cfg, int batch);

// Workspaces for chunks that run concurrently: acquire() hands out a free model (creating one
// when all are taken, so at most one per thread ever exists), release() takes it back. A model's
// results never depend on its previous batches, so neither do they on which one a chunk gets.
template <class S>
class BatchModelPool {
 public:
  explicit BatchModelPool(const Config& cfg) : cfg_(cfg) {}
  std::unique_ptr<BatchModel<S>> acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return std::make_unique<BatchModel<S>>(cfg_);
    auto m = std::move(free_.back());
    free_.pop_back();
    return m;
  }
  void release(std::unique_ptr<BatchModel<S>> m) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(m));
  }

 private:
  Config cfg_;
  std::mutex mu_;
  std::vector<std::unique_ptr<BatchModel<S>>> free_;
};

}  // namespace attnlab::samovar

#pragma once
// Training on the synthetic VAR protocol (spec §3), shared by every trained var.* claim:
// data splits (the authors' generator and a stable-generator protocol), the model variants
// (SAMoVAR, FixedVAR, LinTrans, SAMoVAR with a learned W_k), the AdamW training loop with the
// authors' schedule and random channel drop, and evaluation.
#include <Eigen/Dense>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/optim.h"
#include "experiments/experiment.h"
#include "models/samovar/batched.h"
#include "models/samovar/samovar.h"

namespace attnlab::var {

struct Example {
  Eigen::MatrixXd window;          // (L, C)
  Eigen::MatrixXd target;          // (1, C): the next step
  std::vector<Eigen::MatrixXd> A;  // true lag matrices
};

// protocol "authors": spec §3.1 generator (train p in {1,2}, validation p in {3,4});
// "stable": stable-by-construction generator with the paper's stated orders (train p in {1,2,3},
// U(-0.5,0.5); validation p in {3,4,5}, U(-0.25,0.25)), noise std 0.05, started in stationarity.
std::vector<Example> make_split(const std::string& protocol, bool train, std::uint64_t seed,
                                int count, int L);

// The training and validation splits of a trained kind's parameters (protocol, train_size,
// val_size, input_len), drawn from `seed`.
struct Splits {
  std::vector<Example> train, val;
};
Splits make_splits(const ParamValues& prm, std::uint64_t seed);

// Arithmetic of the training step: float64, or float32 activations, gradients and GEMMs with
// float64 master weights, optimizer state and gradient sums (evaluation is always float64).
enum class Precision { Float64, Float32 };
Precision parse_precision(const std::string& name);  // "float64" | "float32"

struct Hyper {
  int epochs = 1, batch = 32, warmup_epochs = 0;
  double lr = 1e-3, aux_weight = 1.0;
  bool channel_drop = true;
  Precision precision = Precision::Float64;
  double clip_norm = 0;  // > 0: the global gradient norm is clipped to it before each update
};

// Model variants by name: "samovar", "fixedvar" (1 head, no auxiliary loss, as the authors'
// notebook), "lintrans" (the standard pre-norm stack), "lintrans_w8" (LinTrans fed only the last
// kAuthorsLinTransWindow steps of each window, as in the authors' notebook), "samovar_wk"
// (SAMoVAR with a learned key projection W_k).
inline const std::vector<std::string> kModelNames = {"samovar", "fixedvar", "lintrans",
                                                     "lintrans_w8", "samovar_wk"};
constexpr int kAuthorsLinTransWindow = 8;
void configure_model(const std::string& model, samovar::Config& cfg, Hyper& hp);

// Shared model/data schema entries and their reading.
std::vector<ParamSpec> model_schema();
ParamSpec precision_param();  // "precision": float64 (default) | float32
// heads divides width; the caches of one sample per thread and the data fit in memory.
std::vector<Constraint> model_constraints();
samovar::Config base_config(const ParamValues& prm);
Hyper base_hyper(const RunContext& ctx);  // epochs and warm-up scaled by ctx.budget

// Part of every kept model's configuration: bump it whenever a change to the model or the
// training step alters trained weights, so that models kept by older code are retrained.
// 1: the batched path (models/samovar/batched.h) with libmvec's erf in double.
// 2: RMSNorm's sums as vectorised (tree) reductions.
constexpr int kTrainerRevision = 2;

struct Trained {
  samovar::Params params;
  std::vector<double> curve;  // validation MSE after each epoch (empty without val)
  bool diverged = false;      // a non-finite gradient or loss stopped training
  int diverged_step = -1;
  double max_grad_norm = 0;  // global gradient norm: max and mean over steps
  double mean_grad_norm = 0;
  double final_weight_norm = 0;  // global parameter norm after training
  double max_weight_norm = 0;    // max over epochs
};

// Mean one-step forecast MSE over samples and channels (data units).
double evaluate(const samovar::Params& p, const samovar::Config& cfg,
                const std::vector<Example>& data);

// Where an unfinished training run keeps its state (weights, AdamW moments, step and epoch
// counters, curve and gradient statistics) at the end of an epoch, so that a killed run (a
// session's end, a cluster's time limit) resumes there with the same bits as a run that was never
// stopped: every random stream of training is keyed by epoch or step, none is drawn in sequence.
struct Checkpoints {
  std::function<std::optional<nlohmann::json>()> load;  // the last saved state, if any
  std::function<void(const nlohmann::json&)> save;
  double every_seconds = 300;  // saves at the first epoch end this long after the last save
};

// Trains one model; never throws on divergence (the caller decides; see Trained::diverged).
// With checkpoints, starts from the saved state when there is one (a state that does not fit
// this model is ignored: training starts from the beginning).
Trained train_model(const samovar::Config& cfg, const Hyper& hp, const std::vector<Example>& train,
                    const std::vector<Example>& val, std::uint64_t seed,
                    const std::function<void(double)>& progress,
                    const Checkpoints* checkpoints = nullptr);

// One optimisation step on `batch` samples starting at `first` of `train` (no shuffling):
// gradients on the batched path (models/samovar/batched.h), chunks of kGradChunk samples summed
// in chunk order, AdamW update. Used by the step-speed claim. Returns the batch loss.
constexpr std::size_t kGradChunk = 8;  // samples per gradient partial (fixed: thread-independent)
struct Stepper {
  samovar::Config cfg;
  Hyper hp;
  samovar::Params params;
  samovar::Grads grads;
  std::vector<samovar::Grads> partial;             // float64: one per chunk
  samovar::ParamsT<float> params_f;                // float32: weights cast each step
  std::vector<samovar::ParamsT<float>> partial_f;  // float32: one per chunk
  std::unique_ptr<samovar::BatchModelPool<double>> pool;
  std::unique_ptr<samovar::BatchModelPool<float>> pool_f;
  std::int64_t step = 0;
  std::uint64_t seed = 0;
};
Stepper make_stepper(const samovar::Config& cfg, const Hyper& hp, std::uint64_t seed);
// count: the samples of this step, at most hp.batch (0: hp.batch); the loss is their mean.
double train_step(Stepper& st, Adam<double>& opt, const std::vector<Example>& train,
                  const std::vector<std::size_t>& order, std::size_t first, double lr,
                  std::size_t count = 0);

}  // namespace attnlab::var

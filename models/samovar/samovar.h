#pragma once
// SAMoVAR (spec §1.3-1.11) and its FixedVAR ablation (§1.12), forward and backward side by side.
//
// One sample is a window X: (L, C) of C channels. Per channel c the model builds 2P tokens
// [u_{c,0}, e_{c,0}, ..., u_{c,P-1}, e_{c,P-1}] (ARX tokenisation, patch length s), runs
//   pre-norm residual MLP blocks -> x~ = RMSNorm_VAR(x) -> aligned linear-attention stack
//   y_t = [x~_t] + (sum_l o^(l)_t) W_o          (key shortcut in brackets; W_o LU, block-diag)
// and reads the prediction of patch n+1 at the En token e_{c,n}: yhat_n = RMSNorm(y_{2n+1}) W_out.
// Channels share all weights except G (channel mixing) and the channel-indexed embeddings.
//
// arch = LinTrans (spec §1.12) keeps the tokeniser, RevIN, readout and loss and replaces
// "MLP blocks -> x~ -> aligned stack" by the standard pre-norm stack of models/samovar/lintrans.h
// (attn_layers blocks of linear attention + MLP, residuals); its embeddings are one per token
// position (E_pos: (T, D)) plus the per-channel/per-position E_ch, without type embeddings.
#include <cstdint>
#include <vector>

#include "core/optim.h"
#include "core/rng.h"
#include "models/samovar/layers.h"
#include "models/samovar/lintrans.h"

namespace attnlab::samovar {

enum class Arch { Samovar, LinTrans };

struct Config {
  Arch arch = Arch::Samovar;
  int channels = 2;     // C
  int input_len = 64;   // L
  int patch = 1;        // s (= horizon H)
  int width = 32;       // D
  int heads = 2;        // h, head dim d = D / h
  int mlp_layers = 3;   // MLP blocks before the stack (e_layers)
  int attn_layers = 3;  // M attention layers
  double dropout = 0.1;
  bool fixed_qv = false;      // FixedVAR: q, v are learned constants per channel/position/head
  bool key_shortcut = true;   // the "+ x~_t" term
  bool learned_keys = false;  // ablation: k^(l) = k_in W_k^(l) + b_k instead of W_k = I
  int patches() const { return (input_len + patch - 1) / patch; }  // P
  int tokens() const { return 2 * patches(); }                     // T = 2P
  int head_dim() const { return width / heads; }
};

// Parameters in precision S: double for claims and tests, float for the float32 training path
// (models/samovar/batched.h keeps double master weights and casts them each step).
template <class S>
struct MlpBlockT {
  VecT<S> gain;  // (D)
  Mat<S> W1;     // (D, 4D)
  VecT<S> b1;    // (4D)
  Mat<S> W2;     // (4D, D)
  VecT<S> b2;    // (D)
};
using MlpBlock = MlpBlockT<double>;

template <class S>
struct AttnLayerT {
  Mat<S> Wq, Wv;      // (D, D)
  VecT<S> bq, bv;     // (D)
  VecT<S> gq, gv;     // (D) per-head RMSNorm gains, (h, d) flattened
  Mat<S> Wk;          // (D, D), only with learned_keys
  VecT<S> bk;         // (D), only with learned_keys
  Mat<S> Qfix, Vfix;  // (C T, D), only with fixed_qv: rows c*T .. c*T+T-1 for channel c
};
using AttnLayer = AttnLayerT<double>;

template <class S>
struct ParamsT {
  Mat<S> G;                  // (C, C) channel mixing of the Ex tokens
  VecT<S> g;                 // (C)
  Mat<S> W_ex, W_en;         // (s, D)
  VecT<S> b_ex, b_en;        // (D)
  VecT<S> gain_ex, gain_en;  // (D)
  Mat<S> E_pos;              // (P, D); LinTrans: (T, D)
  Mat<S> E_ch;               // (C T, D)
  Mat<S> E_type;             // (2, D), SAMoVAR only
  Mat<S> E_chtype;           // (2 C, D), SAMoVAR only
  VecT<S> gain_pre;          // (D)
  std::vector<MlpBlockT<S>> mlp;
  VecT<S> gain_var;  // (D)
  std::vector<AttnLayerT<S>> attn;
  Mat<S> theta;                   // (D, d): head h's LU parameter in rows h d .. h d + d - 1
  std::vector<LinBlockT<S>> lin;  // LinTrans only: attn_layers blocks
  VecT<S> gain_final;             // (D)
  Mat<S> W_out;                   // (D, s)
  VecT<S> b_out;                  // (s)

  void set_zero() {
    visit_blocks(*this, static_cast<ParamsT*>(nullptr),
                 [](const char*, int, auto& v, auto*) { v.setZero(); });
  }

  // Calls f(name, index, block of a, same block of *b or nullptr) for every parameter block in
  // a fixed order (index: the MLP block / attention layer / LinTrans block, else -1). a and b
  // may differ in precision (casting master weights, summing float gradients into double).
  template <class PA, class PB, class F>
  static void visit_blocks(PA& a, PB* b, F&& f);
};
using Params = ParamsT<double>;
using Grads = Params;

template <class S>
template <class PA, class PB, class F>
void ParamsT<S>::visit_blocks(PA& a, PB* b, F&& f) {
  auto v = [&](const char* name, int i, auto& av, auto* bv) { f(name, i, av, bv); };
#define ATTNLAB_V(field) v(#field, -1, a.field, b ? &b->field : nullptr)
  ATTNLAB_V(G);
  ATTNLAB_V(g);
  ATTNLAB_V(W_ex);
  ATTNLAB_V(b_ex);
  ATTNLAB_V(gain_ex);
  ATTNLAB_V(W_en);
  ATTNLAB_V(b_en);
  ATTNLAB_V(gain_en);
  ATTNLAB_V(E_pos);
  ATTNLAB_V(E_ch);
  ATTNLAB_V(E_type);
  ATTNLAB_V(E_chtype);
  ATTNLAB_V(gain_pre);
#undef ATTNLAB_V
  for (std::size_t k = 0; k < a.mlp.size(); ++k) {
    const int i = static_cast<int>(k);
#define ATTNLAB_V(field) v("mlp." #field, i, a.mlp[k].field, b ? &b->mlp[k].field : nullptr)
    ATTNLAB_V(gain);
    ATTNLAB_V(W1);
    ATTNLAB_V(b1);
    ATTNLAB_V(W2);
    ATTNLAB_V(b2);
#undef ATTNLAB_V
  }
  v("gain_var", -1, a.gain_var, b ? &b->gain_var : nullptr);
  for (std::size_t k = 0; k < a.attn.size(); ++k) {
    const int i = static_cast<int>(k);
#define ATTNLAB_V(field) v("attn." #field, i, a.attn[k].field, b ? &b->attn[k].field : nullptr)
    ATTNLAB_V(Wq);
    ATTNLAB_V(bq);
    ATTNLAB_V(gq);
    ATTNLAB_V(Wv);
    ATTNLAB_V(bv);
    ATTNLAB_V(gv);
    ATTNLAB_V(Wk);
    ATTNLAB_V(bk);
    ATTNLAB_V(Qfix);
    ATTNLAB_V(Vfix);
#undef ATTNLAB_V
  }
  for (std::size_t k = 0; k < a.lin.size(); ++k) {
    const int i = static_cast<int>(k);
#define ATTNLAB_V(field) v("lin." #field, i, a.lin[k].field, b ? &b->lin[k].field : nullptr)
    ATTNLAB_V(gain_attn);
    ATTNLAB_V(Wq);
    ATTNLAB_V(bq);
    ATTNLAB_V(Wk);
    ATTNLAB_V(bk);
    ATTNLAB_V(Wv);
    ATTNLAB_V(bv);
    ATTNLAB_V(Wc);
    ATTNLAB_V(bc);
    ATTNLAB_V(gain_mlp);
    ATTNLAB_V(W1);
    ATTNLAB_V(b1);
    ATTNLAB_V(W2);
    ATTNLAB_V(b2);
#undef ATTNLAB_V
  }
  v("theta", -1, a.theta, b ? &b->theta : nullptr);
  v("gain_final", -1, a.gain_final, b ? &b->gain_final : nullptr);
  v("W_out", -1, a.W_out, b ? &b->W_out : nullptr);
  v("b_out", -1, a.b_out, b ? &b->b_out : nullptr);
}

// to = from in precision S2 (sizes taken from `from`; no allocation when they already match).
template <class S2, class S1>
void cast_params(const ParamsT<S1>& from, ParamsT<S2>& to) {
  to.mlp.resize(from.mlp.size());
  to.attn.resize(from.attn.size());
  to.lin.resize(from.lin.size());
  ParamsT<S2>::visit_blocks(
      to, &from, [](const char*, int, auto& t, const auto* f) { t = f->template cast<S2>(); });
}

// Initialisation of spec §1.11 (std 0.02, MLP output layers 0.02/sqrt(2 M), LU theta
// N(0,1) sqrt(0.02/sqrt(d)), norms at one). Draws from `rng` in a fixed order.
Params init_params(const Config& cfg, Rng& rng);
Grads zero_grads(const Params& like);
// Every parameter as (name, value, grad, size), in a fixed order, for optimizers and gradchecks.
std::vector<ParamBlock<double>> param_blocks(Params& p, Grads& g, const Config& cfg);
std::size_t count_params(const Params& p, const Config& cfg);
// Parameters the authors' modules hold but their forward never reads, so that
// count_params + this = the count of their code (HEAD 4e2581f, instantiated in torch: 156,824
// and 180,190 at C = 7, lookback 1024, horizon 96, D = 64, 8 heads, 3 layers). SAMoVAR: the
// position embedding has 2P rows of which only 0..P-1 are indexed (P D), and one RMSNorm per
// layer (`pns`) is built for the non-aligned path (D each). LinTrans: `layer_attn`, a
// Linear(D, 2 layers) with bias, is never called. 0 for FixedVAR and the learned-key ablation,
// which the authors do not count.
std::size_t authors_unread_params(const Config& cfg);

// ---- the aligned attention stack on one token sequence ------------------------------------
struct StackCache {
  std::vector<Matrix> q_pre, q_inv, Q;  // per layer (T, D), (T, h), (T, D)
  std::vector<Matrix> v_pre, v_inv, V;
  std::vector<Matrix> K_in, K;        // input of the key map and the keys, (T, D)
  std::vector<Matrix> attn, mask, O;  // raw attention output, dropout mask (empty = none), o
  Matrix mix;                         // sum_l O_l, (T, D)
};
// xt: (T, D) = x~ of one channel. Returns y: (T, D) at every position. With frozen_qv, the
// queries and values are taken from that cache instead of being computed from xt (the VAR
// reading: weights held fixed, observations varied; used by var.misaligned_stack_not_var).
Matrix stack_forward(const Params& p, const Config& cfg, const Matrix& xt, int channel,
                     StackCache& cache, Rng* dropout_rng, const StackCache* frozen_qv = nullptr);
// dY: (T, D). Accumulates into grads and into dxt.
void stack_backward(const Params& p, const Config& cfg, const Matrix& xt, int channel,
                    const StackCache& cache, const Matrix& dY, Grads& grads, Matrix& dxt);

// ---- the LinTrans block stack on one token sequence -----------------------------------------
// X: (T, D) = pre-normed tokens of one channel. Returns the residual stream after all blocks.
// With frozen_qv, every block takes Q and V from that cache (see stack_forward).
Matrix lin_stack_forward(const Params& p, const Config& cfg, const Matrix& X,
                         std::vector<LinBlockCache>& cache, Rng* dropout_rng,
                         const std::vector<LinBlockCache>* frozen_qv = nullptr);

// ---- RevIN as the authors implement it (spec §1.8) -----------------------------------------
struct Revin {
  double mu = 0, sigma = 1;  // mean of the last s values; unbiased std of all L values + 1e-8
};
Revin revin_stats(const Vector& x, int patch);

// ---- the whole model on one sample ---------------------------------------------------------
struct SeqCache {
  Matrix mix_patches;     // (P, s) Ex mixed values G z + g of this channel
  Matrix ex_pre, en_pre;  // (P, D) tokeniser outputs before RMSNorm
  Matrix ex_inv, en_inv;  // (P, 1)
  Matrix tok_mask;        // (T, D) dropout mask on tokens (empty = none)
  Matrix X0, pre_inv;     // (T, D) tokens + embeddings, (T, 1)
  std::vector<Matrix> mlp_in, mlp_inv, mlp_norm, mlp_h, mlp_a, mlp_mask;
  Matrix X_mlp, var_inv, xt;  // after the MLP blocks, (T, 1), x~
  StackCache stack;
  Matrix stack_in;                 // LinTrans: the tokens entering the block stack, (T, D)
  std::vector<LinBlockCache> lin;  // LinTrans: per block
  Matrix y;                        // output of the stack at every position, (T, D)
  Matrix y_en, fin_inv, fin;       // (P, D), (P, 1), (P, D)
  Matrix pred;                     // (P, s): row n predicts patch n+1, RevIN units
};

struct SampleCache {
  Matrix Z;                   // (P s, C) RevIN-normalised, left-padded window
  std::vector<Revin> revin;   // per channel
  std::vector<SeqCache> seq;  // per channel
};

// window: (L, C). Fills cache; returns the forecast (s, C) in data units.
Matrix forward(const Params& p, const Config& cfg, const Matrix& window, SampleCache& cache,
               Rng* dropout_rng);
// The same with RevIN statistics given (used to separate tokeniser causality from RevIN).
Matrix forward_with_revin(const Params& p, const Config& cfg, const Matrix& window,
                          const std::vector<Revin>& revin, SampleCache& cache, Rng* dropout_rng);
// d_forecast: (s, C); d_pred: per channel (P, s) gradient w.r.t. cache.seq[c].pred.
void backward(const Params& p, const Config& cfg, const SampleCache& cache,
              const Matrix& d_forecast, const std::vector<Matrix>& d_pred, Grads& grads);

// Loss of spec §1.10 on one sample: weight_fc * sum (forecast - target)^2
// + weight_aux * sum_{n < P-1} (pred_n - z_{n+1})^2; accumulates the gradient when grads given.
double sample_loss_reference(const Params& p, const Config& cfg, const Matrix& window,
                             const Matrix& target, double weight_fc, double weight_aux,
                             Rng* dropout_rng, Grads* grads);

}  // namespace attnlab::samovar

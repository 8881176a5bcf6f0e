#pragma once
// LinTrans block (spec §1.12): the standard pre-norm decoder block with causal, unnormalised
// linear attention, the misaligned baseline of the paper. Forward and backward side by side.
//
// One block on a token sequence X: (T, D), heads h of width d = D / h:
//   xn    = RMSNorm(X) g_a
//   Q     = xn W_q + b_q,  K = dropout(xn) W_k + b_k,  V = xn W_v + b_v        (T, D)
//   X_mid = X + dropout(LinAttn(Q, K, V) W_c + b_c)                             residual
//   X_out = X_mid + dropout(GELU(RMSNorm(X_mid) g_m W_1 + b_1) W_2 + b_2)         residual
// Unlike SAMoVAR's aligned stack, q, k and v all come from the drifting residual stream, heads
// are mixed by W_c, and MLPs sit between attention layers. The tokeniser, embeddings, readout
// and loss are shared with SAMoVAR (models/samovar/samovar.h, Config::arch = LinTrans).
#include "models/samovar/layers.h"

namespace attnlab::samovar {

template <class S>
struct LinBlockT {
  VecT<S> gain_attn;       // (D)
  Mat<S> Wq, Wk, Wv, Wc;   // (D, D)
  VecT<S> bq, bk, bv, bc;  // (D)
  VecT<S> gain_mlp;        // (D)
  Mat<S> W1;               // (D, 4D)
  VecT<S> b1;              // (4D)
  Mat<S> W2;               // (4D, D)
  VecT<S> b2;              // (D)
};
using LinBlock = LinBlockT<double>;

struct LinBlockCache {
  Matrix X, inv_a, xn, k_mask, Q, K, V, attn, out_mask;  // attention half
  Matrix X_mid, inv_m, xn_m, h, a, mlp_mask;             // MLP half
};

// Spec §1.11: Linear weights N(0, 0.02^2), c_proj (W_c, W_2) N(0, (0.02/sqrt(2 layers))^2),
// biases 0, gains 1. Draws in a fixed order.
LinBlock init_lin_block(int width, int layers, Rng& rng);

// X: (T, D). Returns X_out: (T, D). With frozen_qv, Q and V are copied from that cache instead
// of computed from X (the VAR reading: weights held fixed; no backward for this mode).
Matrix lin_block_forward(const LinBlock& b, int heads, double dropout, const Matrix& X,
                         LinBlockCache& cache, Rng* dropout_rng,
                         const LinBlockCache* frozen_qv = nullptr);
// dY: (T, D). Accumulates into g and dX (pre-sized (T, D)).
void lin_block_backward(const LinBlock& b, int heads, const LinBlockCache& cache, const Matrix& dY,
                        LinBlock& g, Matrix& dX);

}  // namespace attnlab::samovar

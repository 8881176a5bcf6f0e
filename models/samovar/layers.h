#pragma once
// Building blocks of SAMoVAR (spec §1.3-1.7), each forward beside its backward. Token matrices
// are (T, D): one row per token. Backward functions accumulate (+=) into parameter gradients and
// into the input gradient.
#include <Eigen/Dense>

#include "core/rng.h"
#include "models/samovar/linear_attention.h"

namespace attnlab::samovar {

using Matrix = Mat<double>;
using Vector = Eigen::VectorXd;

// Epsilons of the authors' code (spec §1.7).
inline constexpr double kRmsEps = 1e-5;      // token RMSNorm
inline constexpr double kHeadRmsEps = 1e-8;  // per-head RMSNorm on q and v

// RMSNorm over each row (groups = 1) or over each of `groups` contiguous column blocks of every
// row (per-head). X: (T, D), gain: (D). Returns Y = X * rsqrt(mean(x^2) + eps) * gain.
// `inv_rms` (T, groups) is stored for the backward.
Matrix rmsnorm(const Matrix& X, const Vector& gain, double eps, int groups, Matrix& inv_rms);
void rmsnorm_backward(const Matrix& X, const Vector& gain, const Matrix& inv_rms, int groups,
                      const Matrix& dY, Matrix& dX, Vector& dgain);

// Exact (erf) GELU, as torch.nn.GELU().
Matrix gelu(const Matrix& X);
Matrix gelu_backward(const Matrix& X, const Matrix& dY);  // returns dX

// LU-parameterised invertible matrix (spec §1.5). theta: (d, d) for one head.
//   L = strict_lower(theta) + I, U = strict_upper(theta) + diag(softplus(diag theta)), W = L U.
double softplus(double x);
double sigmoid(double x);  // softplus' (without overflow for large |x|)
Matrix lu_matrix(const Matrix& theta);
Matrix lu_lower(const Matrix& theta);
Matrix lu_upper(const Matrix& theta);
void lu_matrix_backward(const Matrix& theta, const Matrix& dW, Matrix& dtheta);
// log det W = sum_i log softplus(theta_ii), computed without forming W.
double lu_log_det(const Matrix& theta);

// Block-diagonal product: Y = X blockdiag(W_0, ..., W_{h-1}), X: (T, h d), thetas: (h d, d)
// stacked by head (rows h*d .. h*d+d-1 hold head h's theta).
Matrix apply_lu_blocks(const Matrix& X, const Matrix& thetas, int heads);
void apply_lu_blocks_backward(const Matrix& X, const Matrix& thetas, int heads, const Matrix& dY,
                              Matrix& dX, Matrix& dthetas);

// Inverted dropout mask (r, c) with entries 0 or 1/(1-p), drawn column-major from *rng; empty
// when rng is null (evaluation) or p <= 0. apply_mask(X, empty) returns X.
Matrix dropout_mask(Eigen::Index r, Eigen::Index c, double p, Rng* rng);
Matrix apply_mask(const Matrix& X, const Matrix& mask);
// X: (T, D), b: (D). Returns X + 1 b^T.
Matrix add_bias(const Matrix& X, const Vector& b);

}  // namespace attnlab::samovar

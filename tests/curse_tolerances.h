#pragma once
// Tolerances of the curse tests, each with the reason for its value.
namespace attnlab::curse_tol {

// Central differences with eps = 1e-6 in double: truncation ~eps^2 |f'''| plus rounding
// ~1e-16/eps; measured ~1e-9..1e-10 relative on these smooth models.
inline constexpr double kGradcheck = 1e-6;
// Fast (blocked, vectorised exp) vs loop-level reference: the same math in another order.
inline constexpr double kReferenceAgreement = 1e-12;
// Paired init output and the x_d = 0 gating identity: exact cancellation up to rounding.
inline constexpr double kExactZero = 1e-12;
// Gauss-Hermite integrates polynomials of degree <= 2q-1 exactly: rounding only.
inline constexpr double kQuadrature = 1e-12;
// NTK GD predictor vs explicit iteration of the linear recursion for a few hundred steps.
inline constexpr double kLinearizedRecursion = 1e-9;

}  // namespace attnlab::curse_tol

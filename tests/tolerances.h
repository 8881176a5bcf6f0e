#pragma once
// Shared tolerances of the test suite, each with the reason for its value.
namespace attnlab::tol {

// Two computations of the same double-precision quantity by different but exact algorithms
// (e.g. GEMM vs loops, recurrent vs quadratic form) on O(1) data of size <= 100: round-off only.
inline constexpr double kExactDouble = 1e-12;
// The same, in float.
inline constexpr double kExactFloat = 1e-5;
// Central differences in double with eps = 1e-6 have truncation error O(eps^2 * f''') and
// cancellation error O(1e-16 / eps) ~ 1e-10; a correct gradient stays well below 1e-6.
inline constexpr double kGradCheck = 1e-6;

}  // namespace attnlab::tol

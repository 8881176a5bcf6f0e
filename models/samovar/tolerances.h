#pragma once
// Tolerances of the SAMoVAR tests and exact claims, in one place, each with its reason.
namespace attnlab::samovar::tol {

// Two evaluations of the same double-precision sum in different orders (T <= 64 terms of
// O(1)..O(100) magnitude): a few ulps of the largest partial sum.
inline constexpr double kSameMapDouble = 1e-10;
// The same in float, relative to the output scale (spec §5 #1: 1e-4 relative).
inline constexpr double kSameMapFloatRel = 1e-4;
// Central differences with eps = 1e-6 in double: truncation O(eps^2) and round-off
// O(1e-16 / eps); observed errors are 1e-9..1e-7 on these small, smooth models.
inline constexpr double kGradCheck = 1e-6;

}  // namespace attnlab::samovar::tol

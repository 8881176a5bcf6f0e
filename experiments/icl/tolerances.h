#pragma once
// Tolerances of the icl unit tests and exact checks, in one place (each with its reason).
namespace attnlab::icl::tol {

// Golden values of spec §1.8 are printed to 10-17 significant digits; float64 forward.
inline constexpr double kGolden = 1e-12;
// Golden values printed with fewer digits (0.007841822: 9 digits).
inline constexpr double kGoldenShort = 5e-10;
// Central-difference gradient check in double (eps 1e-6): truncation ~eps^2, rounding ~1e-16/eps.
inline constexpr double kGradCheck = 1e-6;
// Two double implementations of the same forward (summation order differs).
inline constexpr double kSameMath = 1e-12;
// Float training path vs double path on the same small model (relative).
inline constexpr double kFloatVsDouble = 1e-4;

}  // namespace attnlab::icl::tol

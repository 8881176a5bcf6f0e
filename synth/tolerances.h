#pragma once
// Tolerances for the generator and VAR-fit unit tests (tests/synth_*_test.cpp,
// tests/var_fit_test.cpp), in one place. Each has a one-line reason.

namespace attnlab::synth_tol {

// Exact identities computed two ways in double (SSM recursion vs closed form, features):
// O(d) flops of O(1) numbers, so a few ulps; the spec asks for 1e-12.
constexpr double kExact = 1e-12;
// Two linear solvers on the same well-conditioned problem (QR vs normal equations, doubling vs
// Kronecker Lyapunov): condition numbers in the tests are < 1e3, so 1e-9 relative is ample.
constexpr double kSolverAgreement = 1e-9;
// Monte Carlo comparisons use z-scores |estimate - truth| / SE. With a fixed seed a test is
// deterministic; 4.5 keeps the chance that a correct generator fails any of the few hundred
// z-scores in these tests below ~1e-3 (two-sided tail at 4.5 is 6.8e-6 per score).
constexpr double kMaxAbsZ = 4.5;
// Spectral radius after rescaling equals the bound up to the eigen-solver's relative accuracy.
constexpr double kRadiusSlack = 1e-10;

}  // namespace attnlab::synth_tol

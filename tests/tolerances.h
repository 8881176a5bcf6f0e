#pragma once
// The tolerances of the whole test suite, in one place, each with the reason for its value.
namespace attnlab::tol {

// ---- round-off only ---------------------------------------------------------------------------

// Two computations of the same double-precision quantity by different but exact algorithms
// (GEMM vs loops, recurrent vs quadratic form, blocked and vectorised vs loop-level reference,
// an identity computed two ways) on O(1) data of size <= a few hundred: round-off only.
inline constexpr double kExactDouble = 1e-12;
// The same, in float.
inline constexpr double kExactFloat = 1e-5;
// Quantities that cancel exactly in exact arithmetic (paired-init output, the x_d = 0 gating
// identity): rounding only.
inline constexpr double kExactZero = 1e-12;
// Gauss-Hermite integrates polynomials of degree <= 2q - 1 exactly: rounding only.
inline constexpr double kQuadrature = 1e-12;
// Golden values printed to 10-17 significant digits (icl spec §1.8); float64 forward.
inline constexpr double kGolden = 1e-12;
// Golden values printed with fewer digits (0.007841822: 9 digits).
inline constexpr double kGoldenShort = 5e-10;
// Two evaluations of the same double-precision sum in different orders (T <= 64 terms of
// O(1)..O(100) magnitude): a few ulps of the largest partial sum.
inline constexpr double kSameMapDouble = 1e-10;
// The same in float, relative to the output scale (samovar spec §5 #1: 1e-4 relative).
inline constexpr double kSameMapFloatRel = 1e-4;
// A batched path against its per-sample reference, relative to the largest loss or gradient
// entry: the same double-precision model summed in other orders (GEMM k-blocks, the state form
// of the attention, gradient sums over the batch): observed ~1e-14; 1e-10 leaves room for
// deeper stacks without hiding a wrong term (those show at 1e-3 or more).
inline constexpr double kBatchedVsReference = 1e-10;

// ---- gradients --------------------------------------------------------------------------------

// Central differences in double with eps = 1e-6 have truncation error O(eps^2 * f''') and
// cancellation error O(1e-16 / eps) ~ 1e-10; observed errors are 1e-10..1e-7 on these small,
// smooth models, so a correct gradient stays below 1e-6 and a wrong term shows far above it.
inline constexpr double kGradCheck = 1e-6;

// ---- float against double ---------------------------------------------------------------------

// float32 against float64 for one loss and gradient (or one forward), relative to the largest
// entry: float's 6e-8 unit round-off grown over ~20 layers and sums of a few hundred terms.
inline constexpr double kFloatVsDouble = 1e-4;
// float32 against float64 training, validation MSE after each of 12 AdamW steps: per-step
// gradient differences of ~1e-6 relative move the weights by ~lr 1e-6 per step, which changes
// the MSE by well under 1e-5 relative (measured: 8e-8 at seed 7); a wrong float path (a
// missing term, a cast that loses a gradient block) moves it by percents.
inline constexpr double kFloatTrainingRel = 1e-5;

// ---- solvers, recursions, Monte Carlo ---------------------------------------------------------

// Two linear solvers on the same well-conditioned problem (QR vs normal equations, doubling vs
// Kronecker Lyapunov): condition numbers in the tests are < 1e3, so 1e-9 relative is ample.
inline constexpr double kSolverAgreement = 1e-9;
// NTK GD predictor vs explicit iteration of the linear recursion for a few hundred steps.
inline constexpr double kLinearizedRecursion = 1e-9;
// Spectral radius after rescaling equals the bound up to the eigen-solver's relative accuracy.
inline constexpr double kRadiusSlack = 1e-10;
// Monte Carlo comparisons use z-scores |estimate - truth| / SE. With a fixed seed a test is
// deterministic; 4.5 keeps the chance that a correct generator fails any of the few hundred
// z-scores in these tests below ~1e-3 (two-sided tail at 4.5 is 6.8e-6 per score).
inline constexpr double kMaxAbsZ = 4.5;

}  // namespace attnlab::tol

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

// The batched path against the per-sample reference, relative to the largest loss or gradient
// entry: the same double-precision model summed in other orders (GEMM k-blocks, the state form
// of the attention, gradient sums over the batch): observed ~1e-14; 1e-10 leaves room for
// deeper stacks without hiding a wrong term (those show at 1e-3 or more).
inline constexpr double kBatchedVsReference = 1e-10;
// float32 against float64 for one loss and gradient, relative to the largest entry: float's
// 6e-8 unit round-off grown over ~20 layers and sums of a few hundred terms.
inline constexpr double kFloatVsDoubleRel = 1e-4;

// float32 against float64 training, validation MSE after each of 12 AdamW steps: per-step
// gradient differences of ~1e-6 relative move the weights by ~lr 1e-6 per step, which changes
// the MSE by well under 1e-5 relative (measured: 8e-8 at seed 7); a wrong float path (a
// missing term, a cast that loses a gradient block) moves it by percents.
inline constexpr double kFloatTrainingRel = 1e-5;

}  // namespace attnlab::samovar::tol

#pragma once
// Noisy in-context linear regression (icl.md §2). Per sequence (task) tau:
//   w ~ N(0, I_d);  x_i, x_t ~ N(0, I_d);  y_i = <w, x_i> + sigma_tau xi_i,  xi_i ~ N(0, 1);
//   query target y_t = <w, x_t>, NOISE-FREE.  sigma_tau is the noise STANDARD DEVIATION, drawn
//   sigma_tau ~ U(0, sigma_max) (Uniform; sigma_max = 0 is noise-free) or uniformly from a set S
//   (Categorical; the paper does not state the weights, icl.md §2 argues for uniform).
//
// Token layout (icl.md §1.1): a sequence is Z: (d+1, n+1); column i < n is (x_i, y_i), the last
// column is the query (x_t, 0). A batch of B sequences is stored side by side: (d+1, B (n+1)),
// sequence b in columns [b (n+1), (b+1)(n+1)).
//
// Randomness: sequence index j (global, not batch-relative) uses the stream
// (seed, "icl.task", j): sigma, then w, then x_1..x_n, x_t, then xi_1..xi_n. A batch starting at
// `first` therefore equals the concatenation of any split of it, for any thread count.
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace attnlab {

enum class NoiseLaw { Uniform, Categorical };

struct RegressionSpec {
  int d = 10;  // feature dimension
  int n = 20;  // context examples
  NoiseLaw law = NoiseLaw::Uniform;
  double sigma_max = 0.0;         // Uniform: sigma ~ U(0, sigma_max)
  std::vector<double> sigma_set;  // Categorical: sigma uniform over this set
};

// Throws InputError naming the field and its allowed range.
void validate(const RegressionSpec& spec);

// ---- closed forms -----------------------------------------------------------------------------

// E[sigma] and E[sigma^2] under the spec's noise law.
double regression_mean_sigma(const RegressionSpec& spec);
double regression_mean_sigma2(const RegressionSpec& spec);
// E[y_i^2] = E|w|^2 + E[sigma^2] = d + E[sigma^2]; E[y_t^2] = d (noise-free query).
double regression_context_y2(const RegressionSpec& spec);
double regression_query_y2(const RegressionSpec& spec);

// ---- sampling ---------------------------------------------------------------------------------

struct RegressionBatchView {
  Eigen::Ref<Eigen::MatrixXd> tokens;  // (d+1, B (n+1)); query label slot set to 0
  Eigen::Ref<Eigen::VectorXd> target;  // (B): noise-free y_t
  Eigen::MatrixXd* w = nullptr;        // optional (d, B)
  Eigen::VectorXd* sigma = nullptr;    // optional (B)
};

// Fills sequences first..first+B-1 (B = target.size()) into caller-provided buffers, in
// parallel with core/thread_pool.h. Sizes must match (asserted); w/sigma are resized if given.
void regression_batch(const RegressionSpec& spec, std::uint64_t seed, std::uint64_t first,
                      RegressionBatchView out);

// Convenience: one sequence. Z: (d+1, n+1).
struct RegressionTask {
  Eigen::MatrixXd Z;
  double target = 0;
  Eigen::VectorXd w;
  double sigma = 0;
};
RegressionTask regression_task(const RegressionSpec& spec, std::uint64_t seed, std::uint64_t index);

// The batch of regression_batch (same streams, same draws, same double arithmetic, so the same
// numbers) rounded to float, for float training: Zf: batch blocks of (d+1, n+1) column-major,
// yf: batch noise-free targets. Faster: 8 sequences' streams are seeded, twisted and tempered
// together in SIMD lanes, with Boost's normal fast path evaluated per lane (core/normal_lanes.h).
void regression_batch_float(const RegressionSpec& spec, std::uint64_t seed, std::uint64_t first,
                            std::size_t batch, float* Zf, float* yf);

}  // namespace attnlab

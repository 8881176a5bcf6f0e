#pragma once
// One finite-difference gradient checker for every backward pass in attnlab.
//
// For each named parameter block it compares the analytic gradient g with central differences
// g_fd[i] = (L(p + eps e_i) - L(p - eps e_i)) / (2 eps), in double, and reports
//   rel_error(block) = max_i |g_i - g_fd_i| / max(max_i (|g_i| + |g_fd_i|), tiny).
// Large blocks are checked on a random sample of coordinates (fixed by `seed`). A NaN or Inf in
// either gradient gives rel_error = +inf. The error is relative to the block's largest gradient,
// so a block whose gradient is exactly zero everywhere compares finite-difference noise with
// itself: check such blocks at a point where the gradient is not zero.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace attnlab {

struct GradBlock {
  std::string name;
  double* value;       // parameters, perturbed in place and restored
  const double* grad;  // analytic gradient, same size
  std::size_t size;
};

struct GradCheckOptions {
  double eps = 1e-6;
  std::size_t max_coords_per_block = 64;  // sample this many coordinates in larger blocks
  std::uint64_t seed = 0;
  double tiny = 1e-300;
};

struct BlockError {
  std::string name;
  double rel_error = 0;
  std::size_t worst_index = 0;
  double analytic = 0, numeric = 0;  // at the worst index
};

struct GradCheckResult {
  std::vector<BlockError> blocks;
  double max_rel_error() const;
  std::string worst() const;  // "block[index]: analytic a vs numeric b (rel err e)"
};

GradCheckResult check_gradient(const std::function<double()>& loss,
                               const std::vector<GradBlock>& blocks,
                               const GradCheckOptions& options = {});

}  // namespace attnlab

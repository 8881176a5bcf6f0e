#include "core/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "core/rng.h"

namespace attnlab {

double GradCheckResult::max_rel_error() const {
  double m = 0;
  for (const auto& b : blocks) m = std::max(m, b.rel_error);
  return m;
}

std::string GradCheckResult::worst() const {
  const BlockError* w = nullptr;
  for (const auto& b : blocks) {
    if (!w || b.rel_error > w->rel_error) w = &b;
  }
  if (!w) return "no blocks";
  std::ostringstream s;
  s << w->name << "[" << w->worst_index << "]: analytic " << w->analytic << " vs numeric "
    << w->numeric << " (rel err " << w->rel_error << ")";
  return s.str();
}

GradCheckResult check_gradient(const std::function<double()>& loss,
                               const std::vector<GradBlock>& blocks,
                               const GradCheckOptions& options) {
  GradCheckResult result;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const GradBlock& block = blocks[b];
    std::vector<std::size_t> coords(block.size);
    std::iota(coords.begin(), coords.end(), std::size_t{0});
    if (block.size > options.max_coords_per_block) {
      Rng rng = make_stream(options.seed, "gradcheck", b);
      for (std::size_t k = 0; k < options.max_coords_per_block; ++k) {  // partial Fisher-Yates
        const auto j = static_cast<std::size_t>(uniform_int(
            rng, static_cast<std::int64_t>(k), static_cast<std::int64_t>(block.size - 1)));
        std::swap(coords[k], coords[j]);
      }
      coords.resize(options.max_coords_per_block);
    }
    BlockError err{block.name, 0, 0, 0, 0};
    double max_diff = 0, scale = 0;
    for (std::size_t i : coords) {
      const double saved = block.value[i];
      block.value[i] = saved + options.eps;
      const double up = loss();
      block.value[i] = saved - options.eps;
      const double down = loss();
      block.value[i] = saved;
      const double fd = (up - down) / (2 * options.eps);
      const double diff = std::abs(block.grad[i] - fd);
      if (!std::isfinite(diff)) {  // a NaN or Inf must fail, not vanish in max()
        max_diff = std::numeric_limits<double>::infinity();
        err.worst_index = i;
        err.analytic = block.grad[i];
        err.numeric = fd;
        continue;
      }
      scale = std::max(scale, std::abs(block.grad[i]) + std::abs(fd));
      if (diff >= max_diff) {
        max_diff = diff;
        err.worst_index = i;
        err.analytic = block.grad[i];
        err.numeric = fd;
      }
    }
    err.rel_error = max_diff / std::max(scale, options.tiny);
    if (!std::isfinite(err.rel_error) || !std::isfinite(scale)) {
      err.rel_error = std::numeric_limits<double>::infinity();  // NaN/Inf gradient or loss
    }
    result.blocks.push_back(err);
  }
  return result;
}

}  // namespace attnlab

#pragma once
// The model specs of the icl_train kind's `models` list: "diag3", "gdpp2:20000" (steps),
// "full3:20000:3" (steps, seeds). One strict parser, used when a claim is loaded and when
// `--set models=...` is applied, so a bad spec is an error naming it before any work.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace attnlab::icl {

inline constexpr int kMaxModelLayers = 32;
inline constexpr std::int64_t kMaxModelSteps = 10000000;  // the kind's `steps` range
inline constexpr int kMaxModelSeeds = 100;                // the kind's `seeds` range

struct ModelSpec {
  std::string key;    // "diag3": model and layers, the name of its metrics
  std::string model;  // full | diag | gdpp
  int layers = 1;
  std::optional<std::int64_t> steps;  // overrides the kind's `steps`
  std::optional<int> seeds;           // overrides the kind's `seeds`
};

// "" when `text` is a valid spec, else what is wrong and what is allowed (one line, without the
// text itself: ParamSpec::parse_with's contract).
std::string model_spec_error(std::string_view text);
// Parses a valid spec; throws InputError with model_spec_error's text otherwise.
ModelSpec parse_model_spec(std::string_view text);

}  // namespace attnlab::icl

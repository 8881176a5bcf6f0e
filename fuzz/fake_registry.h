#pragma once
// The fuzz-only experiment registry (fake_registry.cpp): it defines the functions
// experiments/registry.cpp collects kinds from, with three small kinds instead of the real ones
// (which take minutes to compile). Their schemas use every ParamType, a grammar (the ICL model
// spec), optional values and every Constraint of experiments/params.h, and they declare metrics
// with '*' patterns and controls, so that a fuzzed claim can be valid. Their `run` is never
// called.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnlab::fuzz {

// The fake kinds' names: fuzz_train (icl), fuzz_exact (samovar), fuzz_lists (curse).
const std::vector<std::string>& fake_kind_names();
// A valid profile of a fake kind, without its optional keys; fuzz_set starts from it.
const nlohmann::json& fake_profile(const std::string& kind);

}  // namespace attnlab::fuzz

#pragma once
// The contract between the runner and an experiment kind.
//
// An experiment kind is a name, a parameter schema and a function
//   Outcome run(const RunContext&)
// that computes metrics (numbers the claim's checks compare with thresholds), per-seed values,
// and free-form `data` for the figure scripts. It never decides the verdict: the claim's checks
// do, in the runner. It must not write files, print to stdout, or read global state; all
// randomness comes from streams derived from ctx.seed (core/rng.h).
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/params.h"

namespace attnlab {

struct RunContext {
  const Params& params;
  std::uint64_t seed = 0;
  std::string profile;
  // Reports progress as a fraction in [0, 1] with a short label; cheap, call it freely.
  std::function<void(double, std::string_view)> progress = [](double, std::string_view) {};
};

enum class Aggregate { Mean, Median, Min, Max };

class Outcome {
 public:
  // A scalar metric. NaN or Inf is an error (NumericError naming the metric).
  void metric(const std::string& name, double value);
  // Per-seed values of a metric: records them with mean, median, sample std and a 95% t-interval
  // for the mean, and sets metric(name) to the chosen aggregate.
  void seeds(const std::string& name, const std::vector<double>& values,
             Aggregate aggregate = Aggregate::Mean);

  // A wall-clock measurement (seconds). Kept apart from metrics: timings differ between runs
  // and machines, so they are reported but never gated and not part of the same-bits contract.
  void timing(const std::string& name, double seconds) { timings_[name] = seconds; }
  const nlohmann::json& timings() const { return timings_; }

  bool has(const std::string& name) const { return metrics_.count(name) != 0; }
  double get(const std::string& name) const;  // throws std::out_of_range naming the metric
  const std::map<std::string, double>& metrics() const { return metrics_; }
  const nlohmann::json& per_seed() const { return per_seed_; }

  // Figure and table data for analysis/plots; any JSON (keep it under a few MB).
  nlohmann::json data = nlohmann::json::object();

 private:
  std::map<std::string, double> metrics_;
  nlohmann::json per_seed_ = nlohmann::json::object();
  nlohmann::json timings_ = nlohmann::json::object();
};

struct ExperimentKind {
  std::string name;
  std::string summary;
  std::vector<ParamSpec> params;
  std::function<Outcome(const RunContext&)> run;
};

}  // namespace attnlab

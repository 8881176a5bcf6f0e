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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/params.h"

namespace attnlab {

// Finished pieces of a long experiment (one training run per Table 1 cell, say), kept so that an
// interrupted or partial run resumes without redoing them. The runner owns the storage (files
// under results/<profile>/<claim>/cells/, written atomically); experiments only load and save.
// A stored piece must carry the configuration it was computed from, and the experiment must
// recompute it when that differs from the current one.
class CellStore {
 public:
  virtual ~CellStore() = default;
  virtual std::optional<nlohmann::json> load(const std::string& key) const = 0;
  virtual void save(const std::string& key, const nlohmann::json& value) = 0;
};

struct RunContext {
  const Params& params;
  std::uint64_t seed = 0;
  std::string profile;
  // Reports progress as a fraction in [0, 1] with a short label; cheap, call it freely.
  std::function<void(double, std::string_view)> progress = [](double, std::string_view) {};
  CellStore* cells = nullptr;  // null: nothing is kept between runs
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

  // The run computed only part of what the claim's checks need (a subset of cells chosen with
  // `--set`): checks whose metric is missing are reported as not computed and the verdict is
  // "incomplete" instead of an error.
  void incomplete(std::string why) { incomplete_ = std::move(why); }
  const std::string& incomplete_reason() const { return incomplete_; }

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
  std::string incomplete_;
};

struct ExperimentKind {
  std::string name;
  std::string summary;
  std::vector<ParamSpec> params;
  std::function<Outcome(const RunContext&)> run;
};

}  // namespace attnlab

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
  const ParamValues& params;
  std::uint64_t seed = 0;
  std::string profile;
  // Reports progress as a fraction in [0, 1] with a short label; cheap, call it freely.
  std::function<void(double, std::string_view)> progress = [](double, std::string_view) {};
  CellStore* cells = nullptr;  // null: nothing is kept between runs
  // The fraction of the profile's training budget to spend (kinds marked `trained` honour it).
  // The runner runs trained claims at 1/2 and at the whole budget, and a verdict that differs
  // between them is not decided at that profile.
  double budget = 1.0;
  // `steps` (iterations, epochs) scaled by the budget, at least 1.
  std::int64_t scaled(std::int64_t steps) const;
  int scaled(int steps) const { return static_cast<int>(scaled(static_cast<std::int64_t>(steps))); }
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

  // A metric known only within [lo, hi] (e.g. an eigenvalue within its rounding-error bound):
  // a check on it decides like one on a mean over seeds, on the whole interval.
  void bounded(const std::string& name, double value, double lo, double hi);
  const nlohmann::json& intervals() const { return intervals_; }

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
  nlohmann::json intervals_ = nlohmann::json::object();
  std::string incomplete_;
};

struct ExperimentKind {
  ExperimentKind(std::string name_, std::string summary_, std::vector<ParamSpec> params_,
                 std::function<Outcome(const RunContext&)> run_,
                 std::vector<Constraint> constraints_ = {})
      : name(std::move(name_)),
        summary(std::move(summary_)),
        params(std::move(params_)),
        run(std::move(run_)),
        constraints(std::move(constraints_)) {}

  std::string name;
  std::string summary;
  std::vector<ParamSpec> params;
  std::function<Outcome(const RunContext&)> run;
  // Conditions between parameters (params.h), checked with the schema before any work.
  std::vector<Constraint> constraints;
  // The metric names the kind emits ('*' matches any run of characters), declared in its
  // folder's metric_names.cpp. Checks may only name these; the runner rejects any other.
  std::vector<std::string> metrics;
  // The kind trains a model and scales its training by RunContext::budget.
  bool trained = false;
  // List parameters a plan may split this kind over, one element of each per unit of work; the
  // kind must keep finished pieces in the cell store (so a run of the whole reuses them). Empty:
  // a claim of this kind is one unit.
  std::vector<std::string> split_over;
};

// ParamValues of `kind` that satisfy its schema and every constraint (the machine's too, unless
// `machine_rules` is false: loading a claim file); InputError prefixed by `where`
// ("file.json: profiles.smoke", "--set on claim 'x'") naming the parameters otherwise.
ParamValues validated_params(const ExperimentKind& kind, const nlohmann::json& raw,
                             const std::string& where, bool machine_rules = true);
// Throws InputError prefixed by `where` when `params` break a machine rule (Constraint::machine).
void check_machine_rules(const ExperimentKind& kind, const ParamValues& params,
                         const std::string& where);

// Declarations by kind name: metric patterns, and whether the kind is trained.
struct KindDeclaration {
  std::vector<std::string> metrics;
  bool trained = false;
};
// Attaches each kind's declaration; std::logic_error for a kind without one (or a declaration
// naming no kind), so that no kind can emit undeclared metrics.
void declare_kinds(std::vector<ExperimentKind>& kinds,
                   const std::map<std::string, KindDeclaration>& table);

}  // namespace attnlab

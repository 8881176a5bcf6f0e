#include "experiments/experiment.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "analysis/stats.h"
#include "core/error.h"

namespace attnlab {

void Outcome::metric(const std::string& name, double value) {
  if (!std::isfinite(value)) {
    throw NumericError("metric '" + name + "' is " + std::to_string(value) +
                       " (NaN or Inf): the experiment diverged");
  }
  metrics_[name] = value;
}

void Outcome::seeds(const std::string& name, const std::vector<double>& values,
                    Aggregate aggregate) {
  if (values.empty()) throw std::invalid_argument("Outcome::seeds: no values for " + name);
  const SeedSummary s = summarize_seeds(values);
  nlohmann::json rec = {
      {"values", values}, {"mean", s.mean}, {"median", s.median}, {"min", s.min}, {"max", s.max}};
  if (s.sd) rec["std"] = *s.sd;
  if (s.ci95) rec["ci95"] = {s.ci95->first, s.ci95->second};
  switch (aggregate) {
    case Aggregate::Mean:
      metric(name, s.mean);
      break;
    case Aggregate::Median:
      metric(name, s.median);
      break;
    case Aggregate::Min:
      metric(name, s.min);
      break;
    case Aggregate::Max:
      metric(name, s.max);
      break;
  }
  rec["aggregate"] = aggregate == Aggregate::Mean     ? "mean"
                     : aggregate == Aggregate::Median ? "median"
                     : aggregate == Aggregate::Min    ? "min"
                                                      : "max";
  per_seed_[name] = rec;
}

void Outcome::bounded(const std::string& name, double value, double lo, double hi) {
  if (!(lo <= value && value <= hi))
    throw std::logic_error("metric '" + name + "': value outside its interval");
  metric(name, value);
  intervals_[name] = {lo, hi};
}

std::int64_t RunContext::scaled(std::int64_t steps) const {
  return std::max<std::int64_t>(1, std::llround(static_cast<double>(steps) * budget));
}

ParamValues validated_params(const ExperimentKind& kind, const nlohmann::json& raw,
                             const std::string& where, bool machine_rules) {
  ParamValues params(raw, kind.params, where);
  for (const auto& c : kind.constraints) {
    if (c.machine) continue;
    const std::string err = c.violation(params);
    if (!err.empty()) throw InputError(where + ": " + err);
  }
  if (machine_rules) check_machine_rules(kind, params, where);
  return params;
}

void check_machine_rules(const ExperimentKind& kind, const ParamValues& params,
                         const std::string& where) {
  for (const auto& c : kind.constraints) {
    if (!c.machine) continue;
    const std::string err = c.violation(params);
    if (!err.empty()) throw InputError(where + ": " + err);
  }
}

void declare_kinds(std::vector<ExperimentKind>& kinds,
                   const std::map<std::string, KindDeclaration>& table) {
  std::size_t used = 0;
  for (auto& k : kinds) {
    const auto it = table.find(k.name);
    if (it == table.end() || it->second.metrics.empty())
      throw std::logic_error("experiment kind '" + k.name + "' declares no metrics");
    k.metrics = it->second.metrics;
    k.trained = it->second.trained;
    ++used;
  }
  if (used != table.size())
    throw std::logic_error("a metric declaration names an experiment kind that does not exist");
}

double Outcome::get(const std::string& name) const {
  auto it = metrics_.find(name);
  if (it == metrics_.end()) throw std::out_of_range("metric '" + name + "' was not computed");
  return it->second;
}

}  // namespace attnlab

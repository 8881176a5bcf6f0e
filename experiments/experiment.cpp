#include "experiments/experiment.h"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <numeric>
#include <stdexcept>

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
  const double n = static_cast<double>(values.size());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t mid = sorted.size() / 2;
  const double median = sorted.size() % 2 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
  nlohmann::json rec = {{"values", values},
                        {"mean", mean},
                        {"median", median},
                        {"min", sorted.front()},
                        {"max", sorted.back()}};
  if (values.size() >= 2) {
    double ss = 0;
    for (double v : values) ss += (v - mean) * (v - mean);
    const double sd = std::sqrt(ss / (n - 1));
    // 95% interval for the mean from Student's t with n - 1 degrees of freedom.
    const boost::math::students_t t(n - 1);
    const double half =
        boost::math::quantile(boost::math::complement(t, 0.025)) * sd / std::sqrt(n);
    rec["std"] = sd;
    rec["ci95"] = {mean - half, mean + half};
  }
  switch (aggregate) {
    case Aggregate::Mean:
      metric(name, mean);
      break;
    case Aggregate::Median:
      metric(name, median);
      break;
    case Aggregate::Min:
      metric(name, sorted.front());
      break;
    case Aggregate::Max:
      metric(name, sorted.back());
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

Params validated_params(const ExperimentKind& kind, const nlohmann::json& raw,
                        const std::string& where, bool machine_rules) {
  Params params(raw, kind.params, where);
  for (const auto& c : kind.constraints) {
    if (c.machine) continue;
    const std::string err = c.violation(params);
    if (!err.empty()) throw InputError(where + ": " + err);
  }
  if (machine_rules) check_machine_rules(kind, params, where);
  return params;
}

void check_machine_rules(const ExperimentKind& kind, const Params& params,
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

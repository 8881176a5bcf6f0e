#include "experiments/runner.h"

#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <boost/version.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/thread_pool.h"
#include "experiments/build_info.h"
#include "experiments/verdict.h"

namespace attnlab {
namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// The instruction-set extensions the binary was compiled for (-march=native: the build
// machine's): they decide vectorisation and FMA contraction, hence the last bits of results, and
// whether core/bgemm.h runs its AVX-512 kernels. Results are bit-comparable only between builds
// with the same set (README, "Seeding contract").
std::string instruction_set() {
  std::string s = "x86-64";
#ifdef __SSE4_2__
  s += " sse4.2";
#endif
#ifdef __AVX__
  s += " avx";
#endif
#ifdef __AVX2__
  s += " avx2";
#endif
#ifdef __FMA__
  s += " fma";
#endif
#ifdef __AVX512F__
  s += " avx512f";
#endif
#ifdef __AVX512BW__
  s += " avx512bw";
#endif
#ifdef __AVX512VL__
  s += " avx512vl";
#endif
#ifdef __AVX512DQ__
  s += " avx512dq";
#endif
  return s;
}

// Progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise.
class ProgressSink {
 public:
  ProgressSink(std::string id, bool enabled)
      : id_(std::move(id)),
        enabled_(enabled),
        tty_(::isatty(2) != 0),
        start_(std::chrono::steady_clock::now()),
        last_(start_) {}
  void update(double fraction, std::string_view what) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_).count();
    if (since < (tty_ ? 0.1 : 10.0)) return;
    last_ = now;
    fraction = std::clamp(fraction, 0.0, 1.0);
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    char buf[96];
    const int n = std::snprintf(buf, sizeof buf, "%5.1f%% %6.1fs", 100 * fraction, elapsed);
    if (fraction >= 0.01 && fraction < 1 && elapsed >= 5) {  // remaining at the average pace
      const auto left = static_cast<long>(elapsed * (1 - fraction) / fraction);
      if (left >= 3600)
        std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "  ETA %ldh%02ldm",
                      left / 3600, left % 3600 / 60);
      else
        std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "  ETA %ldm%02lds",
                      left / 60, left % 60);
    }
    if (tty_) {
      const int width = 24, filled = static_cast<int>(fraction * width);
      std::cerr << "\r" << id_ << " [" << std::string(static_cast<std::size_t>(filled), '#')
                << std::string(static_cast<std::size_t>(width - filled), '.') << "] " << buf << " "
                << what << "\033[K" << std::flush;
      drawn_ = true;
    } else {
      std::cerr << id_ << ": " << buf << " " << what << "\n";
    }
  }
  ~ProgressSink() {
    if (drawn_) std::cerr << "\r\033[K" << std::flush;
  }

 private:
  std::string id_;
  bool enabled_, tty_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace

nlohmann::json provenance() {
  const std::string commit = build_commit();
  const bool dirty = build_dirty();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return {
      {"git_commit", commit.empty() ? "unknown" : commit},
      {"git_dirty", !commit.empty() && dirty},
      {"compiler", std::string("g++ ") + __VERSION__},
      {"build_type", ATTNLAB_BUILD_TYPE},
      {"eigen", std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
                    "." + std::to_string(EIGEN_MINOR_VERSION)},
      {"boost", std::to_string(BOOST_VERSION / 100000) + "." +
                    std::to_string(BOOST_VERSION / 100 % 1000) + "." +
                    std::to_string(BOOST_VERSION % 100)},
      {"nlohmann_json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                            std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                            std::to_string(NLOHMANN_JSON_VERSION_PATCH)},
      {"cpu", cpu_model()},
      {"instruction_set", instruction_set()},
      {"threads", num_threads()},
      {"host", host},
  };
}

namespace {

// Cells kept as one JSON file each under `dir`; in memory only when results are not written.
// Each kept cell is stamped with the code that computed it (git commit, "-dirty" when the tree
// had changes) and is only handed back to the same code: a fixed bug or a changed model never
// mixes with results of the old one.
class FileCellStore : public CellStore {
 public:
  FileCellStore(std::filesystem::path dir, bool write, std::string code)
      : dir_(std::move(dir)), write_(write), code_(std::move(code)) {
    if (write_) remove_stale_temps(dir_);  // cells a killed run was writing
  }
  std::optional<nlohmann::json> load(const std::string& key) const override {
    if (auto it = memory_.find(key); it != memory_.end()) return it->second;
    const auto path = file(key);
    if (!write_ || !std::filesystem::exists(path)) return std::nullopt;
    nlohmann::json kept = read_json_file(path);
    if (!kept.is_object() || kept.value("attnlab_code", "") != code_) return std::nullopt;
    kept.erase("attnlab_code");
    return kept;
  }
  void save(const std::string& key, const nlohmann::json& value) override {
    if (!write_) {
      memory_[key] = value;
      return;
    }
    nlohmann::json kept = value;
    kept["attnlab_code"] = code_;
    ensure_writable_dir(dir_);
    write_json_atomic(file(key), kept);
  }

 private:
  std::filesystem::path file(const std::string& key) const {
    for (char ch : key) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-' && ch != '+')
        throw std::logic_error("cell key '" + key + "' has a character not allowed in a file name");
    }
    return dir_ / (key + ".json");
  }
  std::filesystem::path dir_;
  bool write_;
  std::string code_;
  std::map<std::string, nlohmann::json> memory_;
};

}  // namespace

ParamValues resolve_params(const Claim& claim, const std::string& profile,
                           const std::vector<std::string>& overrides) {
  const ParamValues& base = claim.profiles.at(profile);
  if (overrides.empty()) {  // the file's values: valid everywhere, but do they fit this machine?
    check_machine_rules(claim.kind(), base,
                        claim.file.string() + ": profiles." + profile + " on this machine");
    return base;
  }
  const auto& schema = claim.kind().params;
  nlohmann::json raw = base.json();
  for (const auto& spec : schema)  // defaults are filled in again by ParamValues
    if (!spec.required && raw.contains(spec.name) && raw[spec.name] == spec.fallback)
      raw.erase(spec.name);
  std::set<std::string> seen;
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    const std::string key = o.substr(0, eq);
    const std::string where = "--set " + o;
    if (eq == std::string::npos || key.empty())
      throw InputError(where + ": expected KEY=VALUE (e.g. --set depths=1,2,3)");
    if (!seen.insert(key).second)
      throw InputError(where + ": '" + key +
                       "' is set twice; give each key once (lists are comma-separated)");
    const auto spec = std::find_if(schema.begin(), schema.end(),
                                   [&](const ParamSpec& p) { return p.name == key; });
    if (spec == schema.end()) {
      std::string allowed;
      for (const auto& p : schema) allowed += (allowed.empty() ? "" : ", ") + p.name;
      throw InputError(where + ": experiment '" + claim.experiment + "' of claim '" + claim.id +
                       "' has no parameter '" + key + "' (allowed: " + allowed + ")");
    }
    raw[key] = parse_override(*spec, o.substr(eq + 1), where);
  }
  return validated_params(claim.kind(), raw, "--set on claim '" + claim.id + "'");
}

namespace {

// The interval a check on metric m decides on: the 95% interval of a mean over seeds, or an
// interval the experiment stated (Outcome::bounded); none for other metrics.
std::optional<std::pair<double, double>> mean_interval(const Outcome& o, const std::string& m) {
  if (o.intervals().contains(m))
    return std::make_pair(o.intervals().at(m)[0].get<double>(),
                          o.intervals().at(m)[1].get<double>());
  const auto& ps = o.per_seed();
  if (!ps.contains(m)) return std::nullopt;
  const auto& rec = ps.at(m);
  if (rec.value("aggregate", "") != "mean" || !rec.contains("ci95")) return std::nullopt;
  return std::make_pair(rec.at("ci95")[0].get<double>(), rec.at("ci95")[1].get<double>());
}

// Metrics the kind emitted without declaring them (a defect of the kind's declaration, which the
// smoke tests catch; a long run is not thrown away for it).
std::vector<std::string> undeclared(const Claim& claim, const Outcome& o) {
  std::vector<std::string> out;
  for (const auto& [name, value] : o.metrics())
    if (!kind_declares(claim.kind(), name)) out.push_back(name);
  return out;
}

struct Evaluation {
  nlohmann::json checks = nlohmann::json::array();
  std::vector<Decision> decisions, power;
  bool computed_all = true;
  bool controls_ok = true;
};

// A metric the claim names that its kind declares (a pattern such as adjusted_*) but this run
// did not compute, because the parameters select other models or layers: the claim's parameters
// and its checks disagree, a user error that only the run can reveal.
InputError not_computed(const Claim& claim, const std::string& what, const Outcome& o) {
  std::string computed;
  int shown = 0;
  for (const auto& [name, value] : o.metrics()) {
    if (name.find('@') != std::string::npos) continue;
    if (++shown > 8) {
      computed += ", ...";
      break;
    }
    computed += (computed.empty() ? "" : ", ") + name;
  }
  return InputError(claim.file.string() + ": " + what + " was not computed by experiment '" +
                    claim.experiment + "' with these parameters (it computed: " + computed +
                    "); change the profile's parameters or --set so that it is");
}

// The claim's checks on one outcome. `half`, when given, is the same run at half the budget.
// A piece of a planned sweep (one unit's models or cells) may lack metrics its claim checks:
// those are left undecided there; the merge run of the whole decides.
Evaluation evaluate(const Claim& claim, const std::string& profile, const Outcome& o,
                    const Outcome* half, bool piece) {
  Evaluation e;
  for (const auto& c : claim.checks) {
    if (!c.applies(profile)) continue;
    nlohmann::json rec = {{"metric", c.metric},
                          {"op", c.op},
                          {"threshold", c.threshold.at(profile)},
                          {"origin", c.origin},
                          {"why", c.why}};
    if (!o.has(c.metric)) {
      if (o.incomplete_reason().empty() && !piece)
        throw not_computed(claim, "check metric '" + c.metric + "'", o);
      e.computed_all = false;
      rec["value"] = nullptr;
      rec["pass"] = nullptr;
      rec["decision"] = nullptr;
      e.checks.push_back(rec);
      continue;
    }
    const double v = o.get(c.metric);
    const auto interval = mean_interval(o, c.metric);
    const Decision d = decide(c, profile, v, interval);
    (c.power ? e.power : e.decisions).push_back(d);
    if (c.power) rec["power"] = true;
    rec["value"] = v;
    rec["decided_on"] = interval ? "interval" : "value";
    if (interval) rec["interval"] = {interval->first, interval->second};
    rec["decision"] = decision_name(d);
    rec["pass"] =
        d == Decision::Undecided ? nlohmann::json(nullptr) : nlohmann::json(d == Decision::Pass);
    if (half && half->has(c.metric)) {
      const Decision dh = decide(c, profile, half->get(c.metric), mean_interval(*half, c.metric));
      rec["value_half_budget"] = half->get(c.metric);
      rec["decision_half_budget"] = decision_name(dh);
    }
    // Controls: the same metric on a control that must fail (negative) or pass (positive).
    nlohmann::json controls = nlohmann::json::array();
    auto control = [&](const std::string& name, bool negative) {
      const std::string m = c.metric + "@" + name;
      if (!o.has(m)) {
        if (piece) return;
        throw not_computed(claim, "control metric '" + m + "'", o);
      }
      const double cv = o.get(m);
      // A control "passes" only when the check decides pass on it (on its interval if it has
      // one): a control the check cannot decide on does not make the check vacuous.
      const bool passes = decide(c, profile, cv, mean_interval(o, m)) == Decision::Pass;
      const bool ok = negative ? !passes : passes;
      e.controls_ok = e.controls_ok && ok;
      controls.push_back({{"control", name},
                          {"kind", negative ? "negative" : "positive"},
                          {"value", cv},
                          {"passes_check", passes},
                          {"ok", ok}});
    };
    for (const auto& n : c.negative_controls) control(n, true);
    for (const auto& n : c.positive_controls) control(n, false);
    if (!controls.empty()) rec["controls"] = controls;
    e.checks.push_back(rec);
  }
  return e;
}

}  // namespace

ClaimResult run_claim(const Claim& claim, const RunOptions& options) {
  if (!claim.has_profile(options.profile)) {
    throw InputError("claim '" + claim.id + "' has no profile '" + options.profile +
                     "' (it has: smoke, default" + (claim.has_profile("full") ? ", full" : "") +
                     ")");
  }
  const ParamValues params = resolve_params(claim, options.profile, options.overrides);
  // The cell store is the results folder's, shared by every run of the claim (cells are keyed by
  // configuration and commit); the result file goes to the run's own folder when it has one.
  const std::filesystem::path store = options.out_dir / options.profile / claim.id;
  const std::filesystem::path path =
      (options.result_dir.empty() ? options.out_dir : options.result_dir) / options.profile /
      claim.id / "result.json";
  if (options.write) {
    for (const auto& dir : {store, path.parent_path()}) {
      ensure_writable_dir(dir);
      remove_stale_temps(dir);  // left by a killed run of this claim
    }
  }

  ProgressSink sink(claim.id, options.progress);
  nlohmann::json prov = provenance();
  const std::string code =
      prov.at("git_commit").get<std::string>() + (prov.at("git_dirty").get<bool>() ? "-dirty" : "");
  // A trained claim with a verdict to decide runs first at half its budget (about a third of
  // the time), then at the whole budget; each keeps its own cells.
  const std::string& expected = claim.expected_at(options.profile);
  const bool two_budgets = claim.kind().trained && expected != "measured";
  const double half_share = two_budgets ? 1.0 / 3.0 : 0.0;
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<Outcome> half;
  if (two_budgets) {
    FileCellStore cells(store / "cells-half-budget", options.write, code);
    RunContext ctx{params, options.seed, options.profile,
                   [&](double f, std::string_view what) {
                     sink.update(half_share * f, "half budget: " + std::string(what));
                   },
                   &cells};
    ctx.budget = 0.5;
    half = claim.kind().run(ctx);
  }
  FileCellStore cells(store / "cells", options.write, code);
  RunContext ctx{params, options.seed, options.profile,
                 [&](double f, std::string_view what) {
                   sink.update(half_share + (1 - half_share) * f, what);
                 },
                 &cells};
  Outcome outcome = claim.kind().run(ctx);
  const std::vector<std::string> not_declared = undeclared(claim, outcome);
  if (!not_declared.empty())
    std::cerr << "attnlab: warning: experiment '" << claim.experiment << "' emitted "
              << not_declared.size() << " undeclared metric(s), e.g. '" << not_declared.front()
              << "' (declare them in its metric_names.cpp)\n";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const bool piece = !options.write_result;
  const Evaluation e = evaluate(claim, options.profile, outcome, half ? &*half : nullptr, piece);
  std::string verdict_half;
  if (half) {
    const Evaluation eh = evaluate(claim, options.profile, *half, nullptr, piece);
    verdict_half = eh.computed_all ? combine(eh.decisions, eh.power) : "incomplete";
  }
  ClaimResult r;
  r.id = claim.id;
  r.expected = expected;
  const std::string whole = combine(e.decisions, e.power);
  r.verdict = expected == "measured" ? "measured"
              : !e.computed_all      ? "incomplete"
              : half                 ? stable_verdict(verdict_half, whole)
                                     : whole;
  r.controls_ok = e.controls_ok;
  r.ok = r.verdict == r.expected && r.controls_ok;
  r.seconds = seconds;
  r.headline = claim.headline;
  r.headline_computed = !r.headline.empty() && outcome.has(r.headline);
  if (r.headline_computed) r.headline_value = outcome.get(r.headline);

  prov["seed"] = options.seed;
  prov["wall_seconds"] = seconds;
  std::string command = "attnlab run " + claim.id + " --profile " + options.profile + " --seed " +
                        std::to_string(options.seed);
  for (const auto& o : options.overrides) command += " --set " + o;
  prov["command"] = command;
  nlohmann::json budget = nullptr;
  if (half) {
    budget = {{"verdict_half_budget", verdict_half},
              {"verdict_whole_budget", whole},
              {"stable", verdict_half == whole}};
  }
  r.json = {
      {"claim",
       {{"id", claim.id},
        {"paper", claim.paper},
        {"statement", claim.statement},
        {"basis", claim.basis},
        {"source", claim.source},
        {"quote", claim.quote},
        {"experiment", claim.experiment},
        {"code", claim.code},
        {"expected", expected},
        {"reason", claim.reason},
        {"headline", claim.headline}}},
      {"profile", options.profile},
      {"verdict", r.verdict},
      {"ok", r.ok},
      {"controls_ok", r.controls_ok},
      {"budget", budget},
      {"seconds", seconds},
      {"config", params.json()},
      {"metrics", outcome.metrics()},
      {"checks", e.checks},
      {"per_seed", outcome.per_seed()},
      {"intervals", outcome.intervals()},
      {"undeclared_metrics", not_declared},
      {"timings", outcome.timings()},
      {"data", outcome.data},
      {"incomplete", outcome.incomplete_reason().empty()
                         ? nlohmann::json(nullptr)
                         : nlohmann::json(outcome.incomplete_reason())},
      {"provenance", prov},
  };
  if (options.write && options.write_result) {
    write_json_atomic(path, r.json);
    r.path = path;
  }
  return r;
}

}  // namespace attnlab

// `attnlab list`, `attnlab run`, `attnlab verify`.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "core/error.h"
#include "core/io.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "experiments/cli/args.h"
#include "experiments/cli/commands.h"
#include "experiments/plan.h"
#include "experiments/registry.h"
#include "experiments/runner.h"

namespace attnlab {
namespace {

namespace fs = std::filesystem;

struct RunArgs {
  std::vector<std::string> claims;
  std::string profile = "default";
  std::string seed = "0";  // checked by seed_option: digits only, [0, 2^64 - 1]
  int threads = 0;         // 0: default
  std::string out = "results";
  bool out_given = false;
  std::string name;  // --name: the run's folder under <out>/runs/
  std::string json;
  bool json_given = false;
  std::vector<std::string> overrides;
};

void add_run_options(CLI::App* cmd, RunArgs& a) {
  cmd->add_option("--profile", a.profile, "smoke (seconds), default (minutes), full (paper scale)")
      ->check(CLI::IsMember({"smoke", "default", "full"}));
  cmd->add_option("--seed", a.seed, "base seed of every random stream");
  cmd->add_option("--threads", a.threads, "worker threads (default $ATTNLAB_THREADS or all cores)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--out", a.out, "results folder (writes <out>/<profile>/<claim>/result.json)");
  cmd->add_option("--set", a.overrides,
                  "KEY=VALUE: replace a parameter of the profile (lists comma-separated), e.g. "
                  "--set models=full --set depths=3,4 to run part of a sweep")
      ->allow_extra_args(false);
  cmd->add_option("--name", a.name,
                  "keep this run in <out>/runs/NAME (runs with --set or another --seed get a "
                  "folder there anyway, named by time and configuration)");
}

std::string format_value(double v) {
  std::ostringstream s;
  s << std::setprecision(4) << v;
  return s.str();
}

// What is wrong with a result, for the verdict line: a verdict other than the expected one,
// and checks that cannot decide (passing on a negative control or failing on a positive one).
std::string mismatch(const ClaimResult& r) {
  std::string out;
  if (r.verdict != r.expected) out += "  MISMATCH";
  if (!r.controls_ok) {
    out += "  VACUOUS:";
    for (const auto& c : r.json.at("checks")) {
      if (!c.contains("controls")) continue;
      for (const auto& k : c.at("controls"))
        if (!k.at("ok").get<bool>())
          out += " " + c.at("metric").get<std::string>() + " " +
                 (k.at("kind") == "negative" ? "passes on negative control '"
                                             : "fails on positive control '") +
                 k.at("control").get<std::string>() + "'";
    }
  }
  return out;
}

// Before a verify: how many claims, which profile, and roughly how long, from the wall times of
// the last results of the same claims and profile under --out (when there are any).
void announce(const std::vector<Claim>& claims, const RunArgs& a) {
  double seconds = 0;
  std::size_t known = 0;
  for (const auto& c : claims) {
    const fs::path file = fs::path(a.out) / a.profile / c.id / "result.json";
    try {
      if (!fs::exists(file)) continue;
      seconds += read_json_file(file).at("seconds").get<double>();
      ++known;
    } catch (const std::exception&) {  // an unreadable old result only loses the estimate
    }
  }
  std::string estimate = "no earlier run under " + a.out + " to estimate the time from";
  if (known > 0) {
    std::ostringstream m;
    m << "about " << std::max(1L, std::lround(seconds / 60)) << " min (the last run of " << known
      << " of them";
    if (known < claims.size()) m << "; " << claims.size() - known << " not timed yet";
    estimate = m.str() + ")";
  }
  std::fprintf(stderr, "verify: %zu claims, profile %s, %s\n", claims.size(), a.profile.c_str(),
               estimate.c_str());
}

// Runs the selected claims; prints one line per claim, or a table (verify). Returns results.
// --name: a folder name of letters, digits, '.', '_' and '-'; "committed" means the plain results.
void check_run_name(const std::string& name) {
  const bool ok =
      !name.empty() && name.size() <= 64 && name.front() != '.' &&
      std::all_of(name.begin(), name.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
      });
  if (!ok || name == "committed")
    throw InputError("--name '" + name +
                     "': expected 1 to 64 letters, digits, '.', '_' or '-' "
                     "(not starting with '.', not 'committed')");
}

// A run that is not the plain one (--set, a seed other than 0, or --name) keeps its results in a
// folder of its own, <out>/runs/<id>, so that it never replaces the results of the plain run (the
// committed ones, when <out> is the default results/). With an explicit --out and no --name, the
// results go where --out says. Returns the folder ("" for none) after writing its run.json.
fs::path prepare_run_dir(const RunArgs& a, std::uint64_t seed, const std::vector<Claim>& claims) {
  const bool varied = !a.overrides.empty() || seed != 0;
  if (a.name.empty() && (a.out_given || !varied)) return {};
  std::vector<std::string> ids;
  for (const auto& c : claims) ids.push_back(c.id);
  std::string id = a.name;
  if (id.empty()) {
    const nlohmann::json what = {ids, a.profile, seed, a.overrides};
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::gmtime(&now));
    char hash[16];
    std::snprintf(hash, sizeof hash, "%06llx",
                  static_cast<unsigned long long>(fnv1a64(what.dump()) & 0xffffffULL));
    id = std::string(stamp) + "-" + hash;
  }
  const fs::path dir = fs::path(a.out) / "runs" / id;
  const fs::path meta = dir / "run.json";
  nlohmann::json run = fs::exists(meta) ? read_json_file(meta) : nlohmann::json::object();
  if (run.contains("claims")) {  // a named run continued: add to it
    for (const auto& c : run.at("claims")) {
      const auto cid = c.get<std::string>();
      if (std::find(ids.begin(), ids.end(), cid) == ids.end()) ids.push_back(cid);
    }
    std::sort(ids.begin(), ids.end());
  }
  run["id"] = id;
  run["named"] = !a.name.empty();
  run["profile"] = a.profile;
  run["seed"] = seed;
  run["overrides"] = a.overrides;
  run["claims"] = ids;
  run["commit"] = provenance().at("git_commit");
  write_json_atomic(meta, run);
  std::fprintf(stderr, "attnlab: run %s -> %s (attnlab runs lists runs; attnlab compare %s %s)\n",
               id.c_str(), dir.string().c_str(), id.c_str(), a.out_given ? "ANOTHER" : "committed");
  return dir;
}

std::vector<ClaimResult> run_selected(const RunArgs& a, bool table) {
  if (a.threads > 0) set_num_threads(a.threads);
  const auto claims = select_claims(load_all_claims(), a.claims);
  RunOptions opt;
  opt.profile = a.profile;
  opt.seed = seed_option(a.seed);
  opt.out_dir = a.out;
  opt.overrides = a.overrides;
  check_output_dir(a.out, "--out");
  if (!a.name.empty()) check_run_name(a.name);
  for (const auto& c : claims) {  // fail before running anything on a bad profile or --set
    if (!c.has_profile(a.profile)) {
      throw InputError("claim '" + c.id + "' has no profile '" + a.profile + "'");
    }
    resolve_params(c, a.profile, a.overrides);
  }
  opt.result_dir = prepare_run_dir(a, opt.seed, claims);
  std::vector<ClaimResult> results;
  if (table) {
    announce(claims, a);
    std::printf("%-40s %-12s %-12s %-44s %8s\n", "claim", "verdict", "expected", "headline metric",
                "seconds");
  }
  for (const auto& c : claims) {
    ClaimResult r = run_claim(c, opt);
    const std::string head = r.headline.empty() ? "-"
                             : r.headline_computed
                                 ? r.headline + " = " + format_value(r.headline_value)
                                 : r.headline + " not computed";
    if (table) {
      std::printf("%-40s %-12s %-12s %-44s %8.1f%s\n", r.id.c_str(), r.verdict.c_str(),
                  r.expected.c_str(), head.c_str(), r.seconds, mismatch(r).c_str());
    } else {
      std::printf("%s: %s (expected %s)%s %s [%.1fs] -> %s\n", r.id.c_str(), r.verdict.c_str(),
                  r.expected.c_str(), mismatch(r).c_str(), head.c_str(), r.seconds,
                  r.path.string().c_str());
    }
    std::fflush(stdout);
    results.push_back(std::move(r));
  }
  return results;
}

bool all_ok(const std::vector<ClaimResult>& results) {
  for (const auto& r : results) {
    if (!r.ok) return false;
  }
  return true;
}

// `list --params`: per claim, its kind's schema with each profile's values, then the rules.
void print_params(const std::vector<Claim>& claims) {
  for (const auto& c : claims) {
    const ExperimentKind& kind = c.kind();
    std::cout << c.id << " (experiment " << kind.name << ")\n";
    for (const auto& p : kind.params) {
      std::cout << "  " << p.name << ": " << allowed_text(p);
      if (!p.required) std::cout << "; if absent " << p.fallback.dump();
      for (const auto& [profile, values] : c.profiles)
        std::cout << "; " << profile << " " << values.json().at(p.name).dump();
      if (!p.help.empty()) std::cout << " -- " << p.help;
      std::cout << "\n";
    }
    for (const auto& rule : kind.constraints) std::cout << "  rule: " << rule.text << "\n";
  }
}

// `describe KIND`: what the kind computes, accepts and emits, and the claims built on it.
void describe_kind(const ExperimentKind& kind, const std::vector<Claim>& claims) {
  std::cout << "experiment kind " << kind.name << ": " << kind.summary << "\n";
  std::cout << "  trains a model: "
            << (kind.trained ? "yes (every claim on it also runs at half its training budget)"
                             : "no")
            << "\n";
  if (!kind.split_over.empty()) {
    std::cout << "  plan units: one per element of";
    for (const auto& n : kind.split_over) std::cout << " " << n;
    std::cout << "\n";
  }
  std::cout << "  parameters (what a profile and --set give):\n";
  for (const auto& p : kind.params) {
    std::cout << "    " << p.name << ": " << allowed_text(p)
              << (p.required ? "; required" : "; if absent " + p.fallback.dump());
    if (!p.help.empty()) std::cout << " -- " << p.help;
    std::cout << "\n";
  }
  for (const auto& rule : kind.constraints) std::cout << "  rule: " << rule.text << "\n";
  std::cout << "  metrics it emits ('*' stands for a parameter value; 'm@c' is metric m computed "
               "on control c):\n";
  for (const auto& m : kind.metrics) std::cout << "    " << m << "\n";
  std::cout << "  claims on it:";
  bool any = false;
  for (const auto& c : claims)
    if (c.experiment == kind.name) {
      std::cout << " " << c.id;
      any = true;
    }
  std::cout << (any ? "" : " none") << "\n";
}

// `describe CLAIM`: the claim as its file states it, then its kind.
void describe_claim(const Claim& c, const std::vector<Claim>& claims) {
  std::cout << c.id << " (paper " << c.paper;
  if (!c.citation.empty()) std::cout << ": " << c.citation;
  for (const auto& p : papers())
    if (p.key == c.paper) std::cout << ": " << p.citation;
  std::cout << "; basis " << c.basis << ")\n";
  std::cout << "  file: " << c.file.string() << "\n";
  std::cout << "  statement: " << c.statement << "\n";
  std::cout << "  source: " << c.source << "\n";
  if (!c.quote.empty()) std::cout << "  quote: \"" << c.quote << "\"\n";
  if (!c.code.empty()) std::cout << "  code: " << c.code << "\n";
  std::cout << "  expected:";
  for (const auto& [profile, values] : c.profiles)
    std::cout << " " << profile << " " << c.expected_at(profile) << ";";
  std::cout << "\n";
  if (!c.reason.empty()) std::cout << "  reason: " << c.reason << "\n";
  for (const auto& [profile, values] : c.profiles)
    std::cout << "  profile " << profile << ": " << values.json().dump() << "\n";
  std::cout << "  checks:\n";
  for (const auto& k : c.checks) {
    std::cout << "    " << k.metric << " " << k.op;
    for (const auto& [profile, t] : k.threshold) std::cout << " " << t << " (" << profile << ")";
    std::cout << "; origin " << k.origin << (k.power ? "; a power condition" : "") << "\n";
    for (const auto& n : k.negative_controls)
      std::cout << "      negative control " << n << ": must fail on " << k.metric << "@" << n
                << "\n";
    for (const auto& n : k.positive_controls)
      std::cout << "      positive control " << n << ": must pass on " << k.metric << "@" << n
                << "\n";
    std::cout << "      why: " << k.why << "\n";
  }
  describe_kind(c.kind(), claims);
}

}  // namespace

void add_describe_commands(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "describe",
      "a claim (statement, source, profiles, checks) or an experiment kind (parameters with type, "
      "range and default, rules, metrics, claims on it); no name: every kind");
  cmd->add_option("name", *name, "a claim id or an experiment kind");
  cmd->callback([name] {
    const auto claims = load_all_claims();
    if (name->empty()) {
      for (const auto& k : experiment_kinds())
        std::cout << std::left << std::setw(36) << k.name << " " << k.summary << "\n";
      return;
    }
    for (const auto& c : claims)
      if (c.id == *name) return describe_claim(c, claims);
    if (const ExperimentKind* k = find_experiment(*name)) return describe_kind(*k, claims);
    throw InputError("describe: no claim or experiment kind named '" + *name +
                     "' (claims: attnlab list; kinds: attnlab describe)");
  });

  auto kind = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto* nc = app.add_subcommand(
      "new-claim", "write a valid claim file on KIND to start your own from (docs/own-claims.md)");
  nc->add_option("kind", *kind, "an experiment kind (attnlab describe lists them)")->required();
  nc->add_option("--out", *out, "claim file to write (fails if it exists)")->required();
  nc->add_option("--id", *id, "the claim's id, <paper>.<name> (default mine.<kind>)");
  nc->callback([kind, out, id] {
    const ExperimentKind* k = find_experiment(*kind);
    if (k == nullptr)
      throw InputError("new-claim: no experiment kind named '" + *kind +
                       "' (attnlab describe lists them)");
    if (std::filesystem::exists(*out))
      throw InputError("new-claim: '" + *out + "' exists; give a new file");
    check_output_file(*out, "--out");
    // The profiles and checks of the first built-in claim on the kind: valid values to edit.
    const auto claims = load_all_claims();
    const auto base = std::find_if(claims.begin(), claims.end(),
                                   [&](const Claim& c) { return c.experiment == k->name; });
    if (base == claims.end())
      throw InputError("new-claim: no claim uses kind '" + k->name + "' to start from");
    nlohmann::json j = read_json_file(base->file);
    const std::string cid = id->empty() ? "mine." + k->name : *id;
    const std::string paper = cid.substr(0, cid.find('.'));
    j["id"] = cid;
    j["paper"] = paper;
    j["citation"] = "Where the statement comes from (authors, title, year)";
    j["basis"] = "project";
    j["statement"] = "What this claim says, in one or two sentences (copied from " + base->id +
                     ": edit it, and the checks below)";
    j["source"] = "Started from " + base->id + " (" + base->file.filename().string() + ")";
    j.erase("quote");
    j.erase("headline");
    // Parsed as a user claim would be, so that the file written is one attnlab accepts.
    parse_claim(j, *out, true);
    write_json_atomic(*out, j);
    std::cout << "new-claim: wrote " << *out << " from " << base->id
              << "; edit statement, citation and checks, then: attnlab --claims-dir "
              << std::filesystem::path(*out).parent_path().string() << " verify " << cid
              << " --profile smoke\n";
  });
}

void add_list_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("list", "list every claim with its paper, statement and verdict");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "print JSON instead of a table");
  auto params_of = std::make_shared<std::string>();
  auto* params_opt = cmd->add_option(
      "--params", *params_of,
      "show CLAIM's parameters (type, range, default, profile values) and the rules "
      "between them: what --set accepts");
  cmd->callback([json, params_of, params_opt] {
    const auto claims = load_all_claims();
    if (params_opt->count() > 0) {
      if (params_of->empty()) throw InputError("list --params: empty value (expected a claim id)");
      print_params(select_claims(claims, {*params_of}));
      return;
    }
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& c : claims) {
        nlohmann::json profiles = nlohmann::json::array();
        for (const auto& [p, params] : c.profiles) profiles.push_back(p);
        nlohmann::json checks = nlohmann::json::array();
        for (const auto& k : c.checks) {
          nlohmann::json applies = nlohmann::json::object();
          for (const auto& [p, t] : k.threshold) applies[p] = t;
          checks.push_back({{"metric", k.metric},
                            {"op", k.op},
                            {"threshold", applies},
                            {"origin", k.origin},
                            {"why", k.why},
                            {"negative_controls", k.negative_controls},
                            {"positive_controls", k.positive_controls}});
        }
        out.push_back({{"id", c.id},
                       {"paper", c.paper},
                       {"statement", c.statement},
                       {"basis", c.basis},
                       {"source", c.source},
                       {"quote", c.quote},
                       {"experiment", c.experiment},
                       {"expected", c.expected},
                       {"reason", c.reason},
                       {"profiles", profiles},
                       {"checks", checks}});
      }
      std::cout << out.dump(2) << "\n";
      return;
    }
    for (const auto& c : claims) {
      std::string profiles;
      for (const auto& p : {"smoke", "default", "full"}) {
        if (c.has_profile(p)) profiles += std::string(profiles.empty() ? "" : ",") + p;
      }
      std::printf("%-40s %-8s %-8s %-12s %-20s %s\n", c.id.c_str(), c.paper.c_str(),
                  c.basis.c_str(), c.expected.c_str(), profiles.c_str(), c.statement.c_str());
    }
  });
}

void add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto plan = std::make_shared<std::string>();
  auto index = std::make_shared<std::size_t>(0);
  auto count = std::make_shared<std::size_t>(1);
  auto* cmd = app.add_subcommand("run", "run claims and write their result files");
  cmd->add_option("claims", a->claims, "claim ids or prefixes (e.g. icl, curse.e3)");
  add_run_options(cmd, *a);
  auto* plan_opt = cmd->add_option("--plan", *plan, "run units of a plan (attnlab plan) instead");
  cmd->add_option("--index", *index, "first unit of the plan to run (from 0)")->needs(plan_opt);
  cmd->add_option("--count", *count, "number of units to run from --index")
      ->needs(plan_opt)
      ->check(CLI::Range(static_cast<std::size_t>(1), static_cast<std::size_t>(1) << 40));
  cmd->callback([a, plan, index, count, cmd] {
    a->out_given = cmd->count("--out") > 0;
    if (!plan->empty()) {
      if (!a->claims.empty())
        throw InputError("run: give claims or --plan, not both (the plan names its claims)");
      if (a->threads > 0) set_num_threads(a->threads);
      run_plan_units(read_plan(*plan), *index, *count, true);
      return;
    }
    if (a->claims.empty())
      throw InputError("run: name at least one claim (see `attnlab list`) or give --plan");
    if (!all_ok(run_selected(*a, false))) throw CLI::RuntimeError(1);
  });
}

void add_verify_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "verify", "run claims, print the verdict table; exit 0 only if every verdict is as expected");
  cmd->add_option("claims", a->claims, "claim ids or prefixes (default: all)");
  add_run_options(cmd, *a);
  cmd->add_option("--json", a->json, "also write the table as JSON to this file");
  cmd->callback([a, cmd] {
    a->out_given = cmd->count("--out") > 0;
    a->json_given = cmd->count("--json") > 0;
    if (a->json_given) check_output_file(a->json, "--json");  // before hours of work
    const auto results = run_selected(*a, true);
    const bool ok = all_ok(results);
    std::size_t matched = 0;
    for (const auto& r : results) matched += r.ok ? 1 : 0;
    std::printf("%zu of %zu claims at their expected verdict (profile %s)\n", matched,
                results.size(), a->profile.c_str());
    if (a->json_given) {
      nlohmann::json claims = nlohmann::json::array();
      for (const auto& r : results) {
        claims.push_back({{"id", r.id},
                          {"verdict", r.verdict},
                          {"expected", r.expected},
                          {"ok", r.ok},
                          {"controls_ok", r.controls_ok},
                          {"seconds", r.seconds},
                          {"metrics", r.json["metrics"]},
                          {"checks", r.json["checks"]},
                          {"provenance", r.json["provenance"]}});
      }
      write_json_atomic(a->json, {{"profile", a->profile}, {"ok", ok}, {"claims", claims}});
    }
    if (!ok) throw CLI::RuntimeError(1);
  });
}

}  // namespace attnlab

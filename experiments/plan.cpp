#include "experiments/plan.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/io.h"
#include "core/rng.h"

namespace attnlab {
namespace fs = std::filesystem;
namespace {

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string code_version() {
  const nlohmann::json p = provenance();
  return p.at("git_commit").get<std::string>() + (p.at("git_dirty").get<bool>() ? "-dirty" : "");
}

// "key=v" for one element of a list parameter.
std::string element_text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// The user's overrides with a unit's own (`models=gdpp`, one element of the user's list) in place
// of the user's value for the same key: each key is given once (resolve_params rejects repeats).
std::vector<std::string> joined(const std::vector<std::string>& user,
                                const std::vector<std::string>& unit) {
  const auto key = [](const std::string& o) { return o.substr(0, o.find('=')); };
  std::vector<std::string> out;
  for (const auto& o : user) {
    const bool replaced = std::any_of(unit.begin(), unit.end(),
                                      [&](const std::string& u) { return key(u) == key(o); });
    if (!replaced) out.push_back(o);
  }
  out.insert(out.end(), unit.begin(), unit.end());
  return out;
}

const Claim& find_claim(const std::vector<Claim>& all, const std::string& id) {
  for (const auto& c : all)
    if (c.id == id) return c;
  throw InputError("plan names claim '" + id + "', which does not exist (see `attnlab list`)");
}

}  // namespace

nlohmann::json PlanUnit::json() const {
  return {{"id", id},
          {"claim", claim},
          {"profile", profile},
          {"seed", seed},
          {"overrides", overrides},
          {"unit", unit},
          {"out", out.string()},
          {"code", code}};
}

fs::path PlanUnit::done_file() const { return out / profile / claim / "units" / (id + ".json"); }

std::vector<PlanUnit> make_plan(const std::vector<Claim>& claims, const std::string& profile,
                                std::uint64_t seed, const std::vector<std::string>& overrides,
                                const fs::path& out) {
  const std::string code = code_version();
  const fs::path out_abs = fs::absolute(out).lexically_normal();
  std::vector<PlanUnit> units;
  for (const Claim& c : claims) {
    if (!c.has_profile(profile))
      throw InputError("claim '" + c.id + "' has no profile '" + profile + "'");
    const ParamValues base = resolve_params(c, profile, overrides);
    // The cartesian product of the split parameters' elements, in the order they are listed.
    std::vector<std::vector<std::string>> pieces = {{}};
    for (const auto& name : c.kind().split_over) {
      std::vector<std::vector<std::string>> next;
      for (const auto& prefix : pieces)
        for (const auto& v : base.json().at(name)) {
          auto p = prefix;
          p.push_back(name + "=" + element_text(v));
          next.push_back(std::move(p));
        }
      pieces = std::move(next);
    }
    for (const auto& piece : pieces) {
      PlanUnit u;
      u.claim = c.id;
      u.profile = profile;
      u.seed = seed;
      u.overrides = overrides;
      u.unit = piece;
      u.out = out_abs;
      u.code = code;
      const nlohmann::json identity = {
          {"claim", c.id},
          {"profile", profile},
          {"seed", seed},
          {"config", resolve_params(c, profile, joined(overrides, piece)).json()},
          {"whole", piece.empty()},
          {"code", code}};
      u.id = hex64(fnv1a64(identity.dump()));
      units.push_back(std::move(u));
    }
  }
  return units;
}

void write_plan(const fs::path& path, const std::vector<PlanUnit>& units) {
  std::string text;
  for (const auto& u : units) text += u.json().dump() + "\n";
  write_file_atomic(path, text);
}

std::vector<PlanUnit> read_plan(const fs::path& path) {
  std::istringstream in(read_file(path));
  std::vector<PlanUnit> units;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const std::string where = path.string() + ":" + std::to_string(number);
    try {
      const auto j = nlohmann::json::parse(line);
      PlanUnit u;
      u.id = j.at("id").get<std::string>();
      u.claim = j.at("claim").get<std::string>();
      u.profile = j.at("profile").get<std::string>();
      u.seed = j.at("seed").get<std::uint64_t>();
      u.overrides = j.at("overrides").get<std::vector<std::string>>();
      u.unit = j.at("unit").get<std::vector<std::string>>();
      u.out = j.at("out").get<std::string>();
      u.code = j.at("code").get<std::string>();
      units.push_back(std::move(u));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(where + ": not a plan unit (" + std::string(e.what()) +
                       "); write plans with `attnlab plan`");
    }
  }
  if (units.empty()) throw InputError(path.string() + ": the plan has no units");
  return units;
}

namespace {

// Options of a claim run for a plan unit: its profile, seed, results folder and user overrides.
RunOptions unit_options(const PlanUnit& u, bool progress) {
  RunOptions opt;
  opt.profile = u.profile;
  opt.seed = u.seed;
  opt.out_dir = u.out;
  opt.progress = progress;
  opt.overrides = u.overrides;
  return opt;
}

void check_code(const PlanUnit& u, const std::string& code) {
  if (u.code != code)
    throw InputError("plan unit " + u.id + " was planned by code " + u.code + ", this is " + code +
                     ": cells of other code are never mixed; make the plan again");
}

}  // namespace

int run_plan_units(const std::vector<PlanUnit>& units, std::size_t first, std::size_t count,
                   bool progress) {
  if (first >= units.size())
    throw InputError("--index " + std::to_string(first) + " is past the plan's last unit (" +
                     std::to_string(units.size() - 1) + ")");
  const std::vector<Claim> all = load_all_claims();
  const std::string code = code_version();
  const std::size_t end = std::min(units.size(), first + count);
  int ran = 0;
  for (std::size_t i = first; i < end; ++i) {
    const PlanUnit& u = units[i];
    check_code(u, code);
    if (fs::exists(u.done_file())) {
      std::printf("unit %zu %s: done already\n", i, u.id.c_str());
      continue;
    }
    RunOptions opt = unit_options(u, progress);
    opt.overrides = joined(u.overrides, u.unit);
    opt.write_result = u.unit.empty();  // a piece of a sweep keeps cells, not a partial result
    const auto t0 = std::chrono::steady_clock::now();
    const ClaimResult r = run_claim(find_claim(all, u.claim), opt);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    write_json_atomic(u.done_file(), {{"unit", u.json()},
                                      {"verdict", u.unit.empty() ? r.verdict : "piece"},
                                      {"seconds", seconds},
                                      {"host", host}});
    std::printf("unit %zu %s: %s %s [%.1fs]\n", i, u.id.c_str(), u.claim.c_str(),
                u.unit.empty() ? r.verdict.c_str() : "piece done", seconds);
    std::fflush(stdout);
    ++ran;
  }
  return ran;
}

MergeResult merge_plan(const std::vector<PlanUnit>& units, bool progress) {
  const std::vector<Claim> all = load_all_claims();
  const std::string code = code_version();
  // Units of one claim run: same claim, profile, seed and user overrides, in plan order.
  std::vector<std::vector<const PlanUnit*>> groups;
  std::map<std::string, std::size_t> index;
  for (const auto& u : units) {
    check_code(u, code);
    const std::string key =
        nlohmann::json({u.claim, u.profile, u.seed, u.overrides, u.out.string()}).dump();
    if (!index.count(key)) {
      index[key] = groups.size();
      groups.emplace_back();
    }
    groups[index[key]].push_back(&u);
  }
  MergeResult m;
  for (const auto& g : groups) {
    const PlanUnit& u0 = *g.front();
    std::string missing;
    for (const auto* u : g)
      if (!fs::exists(u->done_file())) {
        if (!missing.empty()) missing.append(", ");
        missing.append(u->id);
        for (std::size_t k = 0; k < u->unit.size(); ++k)
          missing.append(k == 0 ? " (--set " : " --set ").append(u->unit[k]);
        if (!u->unit.empty()) missing.append(")");
      }
    if (!missing.empty()) {
      m.incomplete.push_back(u0.claim + ": incomplete, missing units " + missing);
      continue;
    }
    const RunOptions opt = unit_options(u0, progress);
    if (g.size() == 1 && u0.unit.empty()) {  // a whole claim: its unit wrote the result
      const fs::path path = u0.out / u0.profile / u0.claim / "result.json";
      const nlohmann::json j = read_json_file(path);
      ClaimResult r;
      r.id = u0.claim;
      r.verdict = j.at("verdict").get<std::string>();
      r.expected = j.at("claim").at("expected").get<std::string>();
      r.ok = j.at("ok").get<bool>();
      r.controls_ok = j.value("controls_ok", true);
      r.seconds = j.at("seconds").get<double>();
      r.headline = j.at("claim").value("headline", "");
      r.headline_computed = !r.headline.empty() && j.at("metrics").contains(r.headline);
      if (r.headline_computed) r.headline_value = j.at("metrics").at(r.headline).get<double>();
      r.json = j;
      r.path = path;
      m.results.push_back(std::move(r));
      continue;
    }
    m.results.push_back(run_claim(find_claim(all, u0.claim), opt));  // every cell is kept
  }
  return m;
}

SbatchScript slurm_script(const fs::path& plan, std::size_t units, int per_task, int max_parallel,
                          const std::string& time, const std::string& partition,
                          const fs::path& exe, int max_array) {
  if (per_task < 1) throw InputError("--per-task must be at least 1");
  if (max_parallel < 0) throw InputError("--max-parallel must be 0 (no limit) or more");
  const fs::path plan_abs = fs::absolute(plan).lexically_normal();
  const fs::path logs = plan_abs.parent_path() / "logs";
  const std::size_t tasks =
      (units + static_cast<std::size_t>(per_task) - 1) / static_cast<std::size_t>(per_task);
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# attnlab job array: " << units << " units of " << plan_abs.string() << ", " << per_task
    << " per task, " << tasks << " tasks. Resubmitting runs only the units not yet done.\n"
    << "#SBATCH --job-name=attnlab\n"
    << "#SBATCH --output=" << logs.string() << "/%A_%a.out\n"
    << "#SBATCH --cpus-per-task=1\n";
  if (!time.empty()) s << "#SBATCH --time=" << time << "\n";
  if (!partition.empty()) s << "#SBATCH --partition=" << partition << "\n";
  s << "set -euo pipefail\n"
    << "task=$(( ${ATTNLAB_ARRAY_OFFSET:-0} + SLURM_ARRAY_TASK_ID ))\n"
    << "exec '" << fs::absolute(exe).string() << "'";
  for (const auto& d : user_claims_dirs()) s << " --claims-dir '" << d.string() << "'";
  s << " run --plan '" << plan_abs.string() << "' --index $(( task * " << per_task << " )) --count "
    << per_task << " --threads \"${SLURM_CPUS_PER_TASK:-1}\"\n";
  SbatchScript out;
  out.script = s.str();
  for (std::size_t start = 0; start < tasks; start += static_cast<std::size_t>(max_array)) {
    const std::size_t n = std::min(tasks - start, static_cast<std::size_t>(max_array));
    std::ostringstream line;
    line << "sbatch --array=0-" << n - 1;
    if (max_parallel > 0) line << "%" << max_parallel;
    line << " --export=ALL,ATTNLAB_ARRAY_OFFSET=" << start;
    out.submit.push_back(line.str());
  }
  return out;
}

}  // namespace attnlab

// `attnlab runs`, `attnlab compare`, `attnlab export`: the runs kept under <out>/runs/ (see
// prepare_run_dir in cmd_claims.cpp) beside the plain results <out>/<profile>/, listed, compared
// metric by metric, and exported as one CSV row per metric.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

#include "core/error.h"
#include "core/io.h"
#include "core/rng.h"
#include "experiments/cli/args.h"
#include "experiments/cli/commands.h"

namespace attnlab {
namespace {

namespace fs = std::filesystem;
const std::vector<std::string> kProfileDirs = {"smoke", "default", "full"};

// One side of a comparison or export: a folder of <profile>/<claim>/result.json.
struct Source {
  std::string name;     // "committed" or the run id
  fs::path dir;         // holds <profile>/<claim>/result.json
  std::string profile;  // the run's profile; "" for committed results (every profile)
};

std::vector<Source> runs_under(const fs::path& out) {
  std::vector<Source> runs;
  const fs::path root = out / "runs";
  if (!fs::is_directory(root)) return runs;
  for (const auto& e : fs::directory_iterator(root)) {
    const fs::path meta = e.path() / "run.json";
    if (!fs::is_regular_file(meta)) continue;
    const auto j = read_json_file(meta);
    runs.push_back({e.path().filename().string(), e.path(), j.value("profile", "")});
  }
  std::sort(runs.begin(), runs.end(),
            [](const Source& a, const Source& b) { return a.name < b.name; });
  return runs;
}

// claim id -> result file, for one profile of a source.
std::map<std::string, fs::path> results_of(const fs::path& dir, const std::string& profile) {
  std::map<std::string, fs::path> out;
  const fs::path pdir = dir / profile;
  if (!fs::is_directory(pdir)) return out;
  for (const auto& e : fs::directory_iterator(pdir)) {
    const fs::path f = e.path() / "result.json";
    if (fs::is_regular_file(f)) out[e.path().filename().string()] = f;
  }
  return out;
}

Source resolve_source(const std::string& what, const fs::path& out) {
  if (what == "committed") return {"committed", out, ""};
  for (const auto& r : runs_under(out))
    if (r.name == what) return r;
  if (fs::is_directory(what)) return {what, what, ""};
  throw InputError("'" + what + "' is neither 'committed', a run under " + (out / "runs").string() +
                   " (see attnlab runs) nor a results folder");
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void print_runs(const fs::path& out) {
  const auto runs = runs_under(out);
  if (runs.empty()) {
    std::printf("no runs under %s (a run with --set, another --seed or --name keeps one)\n",
                (out / "runs").string().c_str());
    return;
  }
  for (const auto& r : runs) {
    const auto j = read_json_file(r.dir / "run.json");
    std::string overrides;
    for (const auto& o : j.value("overrides", nlohmann::json::array()))
      overrides += " --set " + o.get<std::string>();
    std::printf("%s  profile %s  seed %s%s\n", r.name.c_str(), r.profile.c_str(),
                j.at("seed").dump().c_str(), overrides.c_str());
    const auto files = results_of(r.dir, r.profile);
    for (const auto& c : j.value("claims", nlohmann::json::array())) {
      const auto id = c.get<std::string>();
      const auto it = files.find(id);
      std::printf("    %-44s %s\n", id.c_str(),
                  it == files.end() ? "(no result)"
                                    : read_json_file(it->second).value("verdict", "?").c_str());
    }
  }
}

// Side by side: verdicts, then every metric that differs (all with `all`).
void compare(const Source& a, const Source& b, const std::string& profile_opt, bool all) {
  const std::string pa = !a.profile.empty()   ? a.profile
                         : !b.profile.empty() ? b.profile
                                              : "default";
  const std::string pb = !b.profile.empty() ? b.profile : pa;
  const std::string profile_a = profile_opt.empty() ? pa : profile_opt;
  const std::string profile_b = profile_opt.empty() ? pb : profile_opt;
  const auto ra = results_of(a.dir, profile_a), rb = results_of(b.dir, profile_b);
  std::printf("A = %s (%s, profile %s), B = %s (%s, profile %s)\n", a.name.c_str(),
              a.dir.string().c_str(), profile_a.c_str(), b.name.c_str(), b.dir.string().c_str(),
              profile_b.c_str());
  std::size_t shared = 0;
  for (const auto& [id, fa] : ra) {
    const auto it = rb.find(id);
    if (it == rb.end()) continue;
    ++shared;
    const auto ja = read_json_file(fa), jb = read_json_file(it->second);
    std::printf("\n%s: verdict %s (A) vs %s (B)\n", id.c_str(), ja.value("verdict", "?").c_str(),
                jb.value("verdict", "?").c_str());
    if (ja.at("config") != jb.at("config"))
      std::printf("  configurations differ: A %s\n                       B %s\n",
                  ja.at("config").dump().c_str(), jb.at("config").dump().c_str());
    const auto& ma = ja.at("metrics");
    const auto& mb = jb.at("metrics");
    std::map<std::string, std::pair<const nlohmann::json*, const nlohmann::json*>> names;
    for (auto m = ma.begin(); m != ma.end(); ++m) names[m.key()].first = &m.value();
    for (auto m = mb.begin(); m != mb.end(); ++m) names[m.key()].second = &m.value();
    std::size_t same = 0;
    for (const auto& [name, v] : names) {
      const bool both = v.first != nullptr && v.second != nullptr;
      if (both && *v.first == *v.second && !all) {
        ++same;
        continue;
      }
      const std::string sa = v.first ? number(v.first->get<double>()) : "-";
      const std::string sb = v.second ? number(v.second->get<double>()) : "-";
      std::string diff = "-";
      if (both) diff = number(v.second->get<double>() - v.first->get<double>());
      std::printf("  %-48s A %-14s B %-14s B-A %s\n", name.c_str(), sa.c_str(), sb.c_str(),
                  diff.c_str());
    }
    if (same > 0) std::printf("  (%zu metrics identical)\n", same);
  }
  std::vector<std::string> only;
  for (const auto& [id, f] : ra)
    if (!rb.count(id)) only.push_back(id + " (A only)");
  for (const auto& [id, f] : rb)
    if (!ra.count(id)) only.push_back(id + " (B only)");
  if (shared == 0) std::printf("\nno claim has a result on both sides\n");
  if (!only.empty()) {
    std::printf("\nnot compared:");
    for (const auto& o : only) std::printf(" %s", o.c_str());
    std::printf("\n");
  }
}

// A CSV field: quoted when it holds a comma, a quote or a line break.
std::string csv(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

void export_csv(const fs::path& out, const std::string& file) {
  std::vector<Source> sources = {{"committed", out, ""}};
  for (auto& r : runs_under(out)) sources.push_back(std::move(r));
  std::ostringstream s;
  s << "source,claim,profile,seed,commit,dirty,config_hash,command,verdict,metric,value\n";
  std::size_t rows = 0;
  for (const auto& src : sources) {
    const std::vector<std::string> profiles =
        src.profile.empty() ? kProfileDirs : std::vector<std::string>{src.profile};
    for (const auto& profile : profiles)
      for (const auto& [id, f] : results_of(src.dir, profile)) {
        const auto j = read_json_file(f);
        const auto& prov = j.at("provenance");
        char hash[20];
        std::snprintf(hash, sizeof hash, "%016llx",
                      static_cast<unsigned long long>(fnv1a64(j.at("config").dump())));
        const std::string head =
            csv(src.name) + "," + csv(id) + "," + profile + "," + prov.at("seed").dump() + "," +
            prov.at("git_commit").get<std::string>() + "," +
            (prov.at("git_dirty").get<bool>() ? "true" : "false") + "," + hash + "," +
            csv(prov.value("command", "")) + "," + csv(j.value("verdict", "")) + ",";
        const auto& m = j.at("metrics");
        for (auto it = m.begin(); it != m.end(); ++it) {
          char v[32];
          std::snprintf(v, sizeof v, "%.17g", it.value().get<double>());
          s << head << csv(it.key()) << "," << v << "\n";
          ++rows;
        }
      }
  }
  write_file_atomic(file, s.str());
  std::printf("export: %zu rows (one per metric) from %zu sources -> %s\n", rows, sources.size(),
              file.c_str());
}

}  // namespace

void add_runs_commands(CLI::App& app) {
  auto out = std::make_shared<std::string>("results");
  auto* runs =
      app.add_subcommand("runs", "list the runs kept under <out>/runs/ and their verdicts");
  runs->add_option("--out", *out, "results folder (default results)");
  runs->callback([out] { print_runs(*out); });

  auto a = std::make_shared<std::string>(), b = std::make_shared<std::string>();
  auto profile = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  auto* cmp = app.add_subcommand(
      "compare", "two runs side by side: verdicts and every metric that differs, with B - A");
  cmp->add_option("A", *a, "a run id (attnlab runs), 'committed' or a results folder")->required();
  cmp->add_option("B", *b, "the same for the other side")->required();
  cmp->add_option("--out", *out, "results folder holding runs/ (default results)");
  cmp->add_option("--profile", *profile,
                  "profile to compare (default: the runs' own; committed results: default)")
      ->check(CLI::IsMember({"smoke", "default", "full"}));
  cmp->add_flag("--all", *all, "also print the metrics that are identical");
  cmp->callback([a, b, out, profile, all] {
    compare(resolve_source(*a, *out), resolve_source(*b, *out), *profile, *all);
  });

  auto file = std::make_shared<std::string>();
  auto* exp = app.add_subcommand(
      "export", "every metric of the committed results and of every run as CSV (one row each)");
  exp->add_option("--csv", *file, "CSV file to write")->required();
  exp->add_option("--out", *out, "results folder (default results)");
  exp->callback([out, file] {
    check_output_file(*file, "--csv");
    export_csv(*out, *file);
  });
}

}  // namespace attnlab

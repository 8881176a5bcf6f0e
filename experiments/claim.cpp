#include "experiments/claim.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/resources.h"
#include "core/strict_json.h"
#include "experiments/registry.h"

namespace attnlab {
namespace fs = std::filesystem;
namespace {

const std::vector<std::string> kProfiles = {"smoke", "default", "full"};
const std::vector<std::string> kOps = {"<", "<=", ">", ">="};
const std::vector<std::string> kBases = {"paper", "reading", "project"};
const std::vector<std::string> kOrigins = {"paper", "derived", "proposed"};
const std::vector<std::string> kExpected = {"holds", "fails", "inconclusive", "measured"};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Strict key set: every key in `required` present, nothing outside required + optional.
void check_keys(const nlohmann::json& j, const std::vector<std::string>& required,
                const std::vector<std::string>& optional, const std::string& where) {
  if (!j.is_object()) throw InputError(where + ": must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    const bool known = std::count(required.begin(), required.end(), key) ||
                       std::count(optional.begin(), optional.end(), key);
    if (!known) {
      std::vector<std::string> all = required;
      all.insert(all.end(), optional.begin(), optional.end());
      throw InputError(where + ": unknown key '" + key + "' (allowed: " + join(all) + ")");
    }
  }
  for (const auto& key : required) {
    if (!j.contains(key)) throw InputError(where + ": missing key '" + key + "'");
  }
}

std::string get_string(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const auto& v = j.at(key);
  if (!v.is_string() || v.get<std::string>().empty()) {
    throw InputError(where + ": key '" + key + "' must be a non-empty string");
  }
  return v.get<std::string>();
}

std::string get_choice(const nlohmann::json& j, const std::string& key,
                       const std::vector<std::string>& allowed, const std::string& where) {
  const std::string v = get_string(j, key, where);
  if (!std::count(allowed.begin(), allowed.end(), v))
    throw InputError(where + ": key '" + key + "' is \"" + v + "\", allowed: " + join(allowed));
  return v;
}

std::vector<std::string> get_names(const nlohmann::json& j, const std::string& key,
                                   const std::string& where) {
  const auto& v = j.at(key);
  if (!v.is_array() || v.empty())
    throw InputError(where + ": key '" + key + "' must be a non-empty list of control names");
  std::vector<std::string> out;
  for (const auto& x : v) {
    if (!x.is_string() || x.get<std::string>().empty() ||
        x.get<std::string>().find_first_of("@* ") != std::string::npos)
      throw InputError(where + ": key '" + key + "' has " + x.dump() +
                       ", not a control name (letters, digits, '_', '.')");
    out.push_back(x.get<std::string>());
  }
  return out;
}

Check parse_check(const nlohmann::json& j, const std::string& where,
                  const std::vector<std::string>& profiles) {
  check_keys(j, {"metric", "op", "threshold", "origin", "why"}, {"profiles", "controls", "power"},
             where);
  Check c;
  std::vector<std::string> applies = profiles;
  if (j.contains("profiles")) {  // a check that states something only a bigger run can measure
    const auto& ps = j.at("profiles");
    if (!ps.is_array() || ps.empty())
      throw InputError(where + ": key 'profiles' must be a non-empty array of profile names");
    applies.clear();
    for (const auto& v : ps) {
      if (!v.is_string() || !std::count(profiles.begin(), profiles.end(), v.get<std::string>()))
        throw InputError(where + ": 'profiles' names " + v.dump() +
                         ", which the claim does not define (defined: " + join(profiles) + ")");
      applies.push_back(v.get<std::string>());
    }
  }
  c.metric = get_string(j, "metric", where);
  c.op = get_string(j, "op", where);
  c.why = get_string(j, "why", where);
  c.origin = get_choice(j, "origin", kOrigins, where);
  if (j.contains("power")) {
    if (!j.at("power").is_boolean())
      throw InputError(where + ": key 'power' must be true or false");
    c.power = j.at("power").get<bool>();
  }
  if (j.contains("controls")) {
    const auto& ctl = j.at("controls");
    check_keys(ctl, {}, {"negative", "positive"}, where + ": controls");
    if (ctl.contains("negative")) c.negative_controls = get_names(ctl, "negative", where);
    if (ctl.contains("positive")) c.positive_controls = get_names(ctl, "positive", where);
  }
  if (!std::count(kOps.begin(), kOps.end(), c.op)) {
    throw InputError(where + ": key 'op' is \"" + c.op + "\", allowed: " + join(kOps));
  }
  const auto& t = j.at("threshold");
  if (t.is_number()) {
    for (const auto& p : applies) c.threshold[p] = t.get<double>();
  } else if (t.is_object()) {
    for (const auto& [p, v] : t.items()) {
      if (!std::count(applies.begin(), applies.end(), p)) {
        throw InputError(where + ": threshold for profile '" + p +
                         "', to which the check does not apply (it applies to: " + join(applies) +
                         ")");
      }
      if (!v.is_number()) throw InputError(where + ": threshold." + p + " must be a number");
      c.threshold[p] = v.get<double>();
    }
    for (const auto& p : applies) {
      if (!c.threshold.count(p))
        throw InputError(where + ": missing threshold for profile '" + p + "'");
    }
  } else {
    throw InputError(where + ": key 'threshold' must be a number or an object by profile");
  }
  return c;
}

}  // namespace

bool Check::passes(double value, const std::string& profile) const {
  const double t = threshold.at(profile);
  if (op == "<") return value < t;
  if (op == "<=") return value <= t;
  if (op == ">") return value > t;
  return value >= t;
}

bool metric_matches(const std::string& pattern, const std::string& name) {
  // Iterative glob with '*' only: the last star absorbs as much as needed.
  std::size_t p = 0, n = 0, star = std::string::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool kind_declares(const ExperimentKind& kind, const std::string& metric) {
  return std::any_of(kind.metrics.begin(), kind.metrics.end(),
                     [&](const std::string& p) { return metric_matches(p, metric); });
}

const ExperimentKind& Claim::kind() const {
  const ExperimentKind* k = find_experiment(experiment);
  if (!k) throw InputError(file.string() + ": unknown experiment '" + experiment + "'");
  return *k;
}

const std::vector<Paper>& papers() {
  static const std::vector<Paper> list = {
      {"icl", "icl",
       "Vladymyrov, von Oswald, Sandler, Ge. Linear Transformers are Versatile In-Context "
       "Learners. NeurIPS 2024",
       "docs/icl.md"},
      {"samovar", "var",
       "Lu, Yang. Linear Transformers as VAR Models: Aligning Autoregressive Attention "
       "Mechanisms with Autoregressive Forecasting (SAMoVAR). ICML 2025",
       "docs/samovar.md"},
      {"curse", "curse",
       "Ke, Liang, Shi, Song, Yang. Curse of Attention: A Kernel-Based Perspective for Why "
       "Transformers Fail to Generalize on Time Series Forecasting and Beyond. CPAL 2025",
       "docs/curse.md"},
  };
  return list;
}

Claim parse_claim(const nlohmann::json& j, const fs::path& file, bool user) {
  const std::string where = file.string();
  check_keys(j,
             {"id", "paper", "statement", "basis", "source", "experiment", "expected", "profiles",
              "checks"},
             {"reason", "headline", "quote", "code", "citation"}, where);
  Claim c;
  c.file = file;
  c.user = user;
  c.id = get_string(j, "id", where);
  c.paper = get_string(j, "paper", where);
  c.statement = get_string(j, "statement", where);
  c.basis = get_choice(j, "basis", kBases, where);
  c.source = get_string(j, "source", where);
  if (j.contains("quote")) c.quote = get_string(j, "quote", where);
  if (c.basis != "project" && c.quote.empty()) {
    throw InputError(where + ": basis \"" + c.basis +
                     "\" needs a key 'quote' with the paper's own words");
  }
  c.experiment = get_string(j, "experiment", where);
  if (j.contains("code")) {
    c.code = get_string(j, "code", where);
    const auto colon = c.code.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == c.code.size())
      throw InputError(where + ": key 'code' is \"" + c.code +
                       "\"; expected \"<source file>:<function>\", e.g. "
                       "\"experiments/icl/table1.cpp:run_table1\"");
  }

  if (j.contains("citation")) c.citation = get_string(j, "citation", where);
  const auto paper = std::find_if(papers().begin(), papers().end(),
                                  [&](const Paper& p) { return p.key == c.paper; });
  std::string prefix;
  if (paper != papers().end()) {
    prefix = paper->prefix;
  } else if (!user) {
    throw InputError(where + ": key 'paper' is \"" + c.paper +
                     "\", allowed: icl, samovar, curse (a claim of your own paper goes in a "
                     "folder given with --claims-dir, with a 'citation')");
  } else {
    // A user's own paper: a name usable as an id prefix, and where it comes from.
    const bool word = !c.paper.empty() && std::all_of(c.paper.begin(), c.paper.end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    });
    if (!word)
      throw InputError(where + ": key 'paper' is \"" + c.paper +
                       "\"; a paper of your own is named with a-z, 0-9, '_' or '-'");
    if (c.citation.empty())
      throw InputError(where + ": key 'citation' is missing or empty; a claim of paper '" +
                       c.paper + "' (not icl, samovar or curse) must say where it comes from");
    prefix = c.paper;
  }
  if (c.id.rfind(prefix + ".", 0) != 0 || c.id.size() <= prefix.size() + 1) {
    throw InputError(where + ": key 'id' is \"" + c.id + "\"; ids of paper '" + c.paper +
                     "' must start with '" + prefix + ".'");
  }

  const ExperimentKind& kind = c.kind();
  const auto& profiles = j.at("profiles");
  check_keys(profiles, {"smoke", "default"}, {"full"}, where + ": profiles");
  std::vector<std::string> names;
  for (const auto& p : kProfiles) {
    if (!profiles.contains(p)) continue;
    names.push_back(p);
    c.profiles.emplace(p, validated_params(kind, profiles.at(p), where + ": profiles." + p,
                                           /*machine_rules=*/false));
  }

  // Expected verdict: one for every profile, or one per profile.
  const auto& e = j.at("expected");
  if (e.is_object()) {
    check_keys(e, names, {}, where + ": expected");
    for (const auto& p : names)
      c.expected_by_profile[p] = get_choice(e, p, kExpected, where + ": expected");
  } else {
    const std::string v = get_choice(j, "expected", kExpected, where);
    for (const auto& p : names) c.expected_by_profile[p] = v;
  }
  c.expected = c.expected_by_profile.at("default");
  bool measured = false, decided = false;
  if (j.contains("reason")) c.reason = get_string(j, "reason", where);
  for (const auto& [p, v] : c.expected_by_profile) {
    (v == "measured" ? measured : decided) = true;
    if ((v == "fails" || v == "inconclusive") && c.reason.empty())
      throw InputError(where + ": expected \"" + v + "\" (profile " + p +
                       ") needs a key 'reason' with the measured evidence");
  }
  if (measured && decided)
    throw InputError(where + ": expected \"measured\" must be the same in every profile");

  const auto& checks = j.at("checks");
  if (!checks.is_array()) throw InputError(where + ": key 'checks' must be a list");
  if (checks.empty() && c.expected != "measured") {
    throw InputError(where + ": a claim expected to hold or fail needs at least one check");
  }
  for (std::size_t i = 0; i < checks.size(); ++i) {
    c.checks.push_back(
        parse_check(checks[i], where + ": checks[" + std::to_string(i) + "]", names));
  }
  if (j.contains("headline")) {
    c.headline = get_string(j, "headline", where);
  } else if (!c.checks.empty()) {
    c.headline = c.checks.front().metric;
  }
  // Every metric named here must be one the kind emits: a misspelt metric is an error now, not
  // after hours of training.
  auto declared = [&](const std::string& metric, const std::string& what) {
    if (!kind_declares(kind, metric))
      throw InputError(where + ": " + what + " names metric '" + metric + "', which experiment '" +
                       c.experiment +
                       "' does not compute (its metrics are declared in "
                       "experiments/<paper>/metric_names.cpp)");
  };
  for (std::size_t i = 0; i < c.checks.size(); ++i) {
    const Check& k = c.checks[i];
    const std::string what = "checks[" + std::to_string(i) + "]";
    declared(k.metric, what);
    for (const auto& n : k.negative_controls) declared(k.metric + "@" + n, what + ".controls");
    for (const auto& n : k.positive_controls) declared(k.metric + "@" + n, what + ".controls");
  }
  if (!c.headline.empty()) declared(c.headline, "headline");
  return c;
}

Claim load_claim(const fs::path& file, bool user) {
  return parse_claim(parse_json_strict(read_file(file), file.string()), file, user);
}

fs::path claims_dir() {
  if (const char* env = std::getenv("ATTNLAB_CLAIMS_DIR")) return env;
  return resource_dir() / "experiments" / "claims";
}

namespace {
std::vector<fs::path>& user_dirs() {
  static std::vector<fs::path> dirs;
  return dirs;
}

// Every *.json below dir, in a fixed order.
std::vector<fs::path> json_files(const fs::path& dir, const std::string& what) {
  if (!fs::is_directory(dir)) throw InputError(what + " '" + dir.string() + "' not found");
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}
}  // namespace

void add_user_claims_dir(const fs::path& dir) {
  if (!fs::is_directory(dir))
    throw InputError("--claims-dir '" + dir.string() +
                     "' is not a folder (expected a folder of "
                     "claim files, *.json)");
  user_dirs().push_back(fs::absolute(dir).lexically_normal());
}

const std::vector<fs::path>& user_claims_dirs() { return user_dirs(); }

std::vector<Claim> load_all_claims(const fs::path& dir) {
  std::vector<Claim> claims;
  std::map<std::string, fs::path> ids;
  const auto add = [&](Claim c) {
    const auto [it, fresh] = ids.emplace(c.id, c.file);
    if (!fresh)
      throw InputError(c.file.string() + ": duplicate claim id '" + c.id + "' (also in " +
                       it->second.string() + ")");
    claims.push_back(std::move(c));
  };
  for (const auto& f : json_files(dir, "claims directory")) {
    Claim c = load_claim(f);
    // The folder is the claims' id prefix ("var" for the SAMoVAR paper's var.* claims).
    const std::string prefix = c.id.substr(0, c.id.find('.'));
    if (f.parent_path().filename() != prefix) {
      throw InputError(f.string() + ": claims with ids " + prefix + ".* belong in claims/" +
                       prefix);
    }
    add(std::move(c));
  }
  for (const auto& d : user_dirs())
    for (const auto& f : json_files(d, "--claims-dir")) add(load_claim(f, true));
  std::sort(claims.begin(), claims.end(),
            [](const Claim& a, const Claim& b) { return a.id < b.id; });
  return claims;
}

std::vector<Claim> select_claims(const std::vector<Claim>& all,
                                 const std::vector<std::string>& selectors) {
  if (selectors.empty()) return all;
  std::vector<Claim> out;
  std::set<std::string> taken;
  for (const auto& sel : selectors) {
    bool any = false;
    // A full id selects that claim only, even when other ids extend it ("..._stable").
    const bool exact =
        std::any_of(all.begin(), all.end(), [&](const Claim& c) { return c.id == sel; });
    for (const auto& c : all) {
      if (c.id == sel ||
          (!exact && (c.id.rfind(sel + ".", 0) == 0 || c.id.rfind(sel + "_", 0) == 0))) {
        any = true;
        if (taken.insert(c.id).second) out.push_back(c);
      }
    }
    if (!any) {
      throw InputError("no claim matches '" + sel +
                       "' (see `attnlab list`; prefixes like 'icl' or "
                       "'curse.e3' select every claim under them)");
    }
  }
  std::sort(out.begin(), out.end(), [](const Claim& a, const Claim& b) { return a.id < b.id; });
  return out;
}

}  // namespace attnlab

// Walks the schema of every experiment kind that a claim uses and tries each boundary of each
// parameter through `--set` (min, max, just outside, 0, -1, NaN, inf, huge, empty, garbage) and
// each declared cross-parameter constraint: the answer is a valid ParamValues or an InputError
// naming the parameter, never another exception. A second pass runs the executable with every
// number at its minimum, one claim per kind: exit 0, 1 or 2 within a minute, never a crash, a
// hang or a partial file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "experiments/claim.h"
#include "experiments/registry.h"
#include "experiments/runner.h"
#include "tests/cli_util.h"

namespace attnlab {
namespace {
namespace fs = std::filesystem;

// One claim per kind (the first by id): its smoke profile is the valid base point.
std::map<std::string, Claim> claim_per_kind() {
  std::map<std::string, Claim> out;
  for (const auto& c : load_all_claims()) out.emplace(c.experiment, c);
  return out;
}

std::string num(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// A JSON value as `--set` writes it: lists comma-separated, strings bare.
std::string set_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_array()) return v.dump();
  std::string out;
  for (const auto& e : v) out += (out.empty() ? "" : ",") + set_text(e);
  return out;
}

// `--set` texts at and around the boundaries of one parameter.
std::vector<std::string> boundary_texts(const ParamSpec& p) {
  std::vector<std::string> t = {"", "0", "-1", "nan", "inf", "-inf", "1e999", "abc", " 1", "1 "};
  const bool ints = p.type == ParamType::Int || p.type == ParamType::IntList;
  const bool reals = p.type == ParamType::Real || p.type == ParamType::RealList;
  if (ints || reals) {
    for (double b : {p.min, p.max}) {
      if (!std::isfinite(b)) continue;
      t.push_back(num(b));
      t.push_back(num(ints ? b - 1 : std::nextafter(b, -INFINITY)));
      t.push_back(num(ints ? b + 1 : std::nextafter(b, INFINITY)));
    }
    t.insert(t.end(), {"1.5", "9223372036854775807", "9223372036854775808", "1e300", "-1e300"});
  }
  if (p.type == ParamType::Bool) t.insert(t.end(), {"true", "false", "1", "TRUE"});
  for (const auto& c : p.choices) t.push_back(c);
  if (p.type == ParamType::IntList || p.type == ParamType::RealList ||
      p.type == ParamType::StringList)
    t.insert(t.end(), {",", "1,", ",1", "1,,2"});
  return t;
}

// A valid ParamValues, or an InputError that names the parameter; anything else fails the test.
void expect_valid_or_named(const Claim& c, const std::vector<std::string>& sets,
                           const std::string& name) {
  try {
    const ParamValues p = resolve_params(c, "smoke", sets);
    const auto& spec = *std::find_if(c.kind().params.begin(), c.kind().params.end(),
                                     [&](const ParamSpec& s) { return s.name == name; });
    const auto& v = p.json().at(name);
    if (v.is_number()) {  // accepted: inside the declared range
      EXPECT_TRUE(std::isfinite(v.get<double>()) && v.get<double>() >= spec.min &&
                  v.get<double>() <= spec.max)
          << c.id << " " << sets.back();
    }
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << c.id << ": " << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << c.id << " --set " << sets.back() << ": not an InputError: " << e.what();
  }
}

TEST(SchemaProperty, EveryBoundaryOfEveryParameterIsValidOrANamedError) {
  std::size_t tried = 0;
  for (const auto& [kind, claim] : claim_per_kind()) {
    for (const auto& p : claim.kind().params) {
      for (const auto& text : boundary_texts(p)) {
        expect_valid_or_named(claim, {p.name + "=" + text}, p.name);
        ++tried;
      }
    }
  }
  EXPECT_GT(tried, 1000u);
}

TEST(SchemaProperty, EveryConstraintRejectsItsCounterexamples) {
  std::size_t checked = 0;
  for (const auto& [kind, claim] : claim_per_kind()) {
    const ParamValues base = claim.profiles.at("smoke");
    for (const auto& rule : claim.kind().constraints) {
      EXPECT_EQ(rule.violation(base), "") << claim.id << " smoke breaks " << rule.text;
      if (!rule.counterexamples) continue;  // fits_memory: see InputContract tests
      bool reached = false;
      for (const auto& change : rule.counterexamples(base)) {
        std::vector<std::string> sets;
        for (const auto& [k, v] : change.items()) sets.push_back(k + "=" + set_text(v));
        // Only a change inside every parameter's own range tests the rule itself.
        nlohmann::json raw = base.json();
        for (const auto& [k, v] : change.items()) raw[k] = v;
        try {
          ParamValues(raw, claim.kind().params, "range");
        } catch (const InputError&) {
          continue;
        }
        reached = true;
        ++checked;
        try {
          resolve_params(claim, "smoke", sets);
          ADD_FAILURE() << claim.id << ": " << rule.text << " accepted " << change.dump();
        } catch (const InputError& e) {  // the rule's own message, naming what changed
          for (const auto& [k, v] : change.items())
            EXPECT_NE(std::string(e.what()).find(k), std::string::npos) << e.what();
        }
      }
      EXPECT_TRUE(reached) << claim.id << ": no counterexample of '" << rule.text
                           << "' inside the ranges";
    }
  }
  EXPECT_GT(checked, 5u);
}

// Every number of the kind at its minimum, through the executable.
void run_minimums(const std::string& paper) {
  for (const auto& [kind, claim] : claim_per_kind()) {
    if (claim.paper != paper) continue;
    std::string sets;
    for (const auto& p : claim.kind().params) {
      if ((p.type == ParamType::Int || p.type == ParamType::Real) && std::isfinite(p.min))
        sets += " --set " + p.name + "=" + num(p.min);
    }
    const fs::path out = testutil::fresh_dir("minimums");
    const auto r = testutil::run_cli(
        "run " + claim.id + " --profile smoke --out '" + out.string() + "'" + sets, "", 60);
    EXPECT_TRUE(r.status == 0 || r.status == 1 || r.status == 2)
        << claim.id << sets << ": status " << r.status << "\n"
        << r.err;
    const fs::path result = out / "smoke" / claim.id / "result.json";
    if (r.status == 2) {
      EXPECT_EQ(testutil::lines(r.err), 1u) << claim.id << "\n" << r.err;
      EXPECT_FALSE(fs::exists(result)) << claim.id;
    }
    if (fs::exists(result)) {
      EXPECT_NO_THROW(read_json_file(result)) << claim.id;
    }
    for (const auto& e : fs::recursive_directory_iterator(out))
      EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  }
}

TEST(SchemaProperty, MinimumsRunOrFailCleanlyIcl) { run_minimums("icl"); }
TEST(SchemaProperty, MinimumsRunOrFailCleanlySamovar) { run_minimums("samovar"); }
TEST(SchemaProperty, MinimumsRunOrFailCleanlyCurse) { run_minimums("curse"); }

}  // namespace
}  // namespace attnlab

#pragma once
// Typed, strictly validated experiment parameters. Each experiment kind declares a schema; a
// claim profile's parameters are checked against it when the claim is loaded: unknown keys,
// missing required keys, wrong types and out-of-range values are errors naming the file and key.
#include <cstdint>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnlab {

enum class ParamType { Int, Real, Bool, String, IntList, RealList, StringList };

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::Int;
  double min = -std::numeric_limits<double>::infinity();  // for numbers and list elements
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;  // for strings and string lists; empty = any
  bool required = true;
  nlohmann::json fallback;  // used when not required and absent
  std::string help;
  // For strings and string-list elements with a grammar (model specs such as "diag3:5000:3"):
  // returns "" when the text is valid, else what is wrong and what is allowed.
  std::function<std::string(const std::string&)> grammar;

  ParamSpec& optional(nlohmann::json value) {
    required = false;
    fallback = std::move(value);
    return *this;
  }
  ParamSpec& describe(std::string text) {
    help = std::move(text);
    return *this;
  }
  ParamSpec& parse_with(std::function<std::string(const std::string&)> check) {
    grammar = std::move(check);
    return *this;
  }
};

// Schema builders: p_int("n", 1, 100000).describe("training points")
ParamSpec p_int(std::string name, double min, double max);
ParamSpec p_real(std::string name, double min, double max);
ParamSpec p_bool(std::string name);
ParamSpec p_string(std::string name, std::vector<std::string> choices = {});
ParamSpec p_ints(std::string name, double min, double max);
ParamSpec p_reals(std::string name, double min, double max);
ParamSpec p_strings(std::string name, std::vector<std::string> choices = {});

// A condition between parameters of one kind, checked with the schema (when a claim is loaded
// and when `--set` is applied), before any work: h divides D, lo < hi, an even count, the memory
// a run needs. `violation` returns "" when the condition holds, else what is wrong, with values.
class ParamValues;
struct Constraint {
  std::string text;  // the rule, e.g. "heads divides width"
  std::function<std::string(const ParamValues&)> violation;
  // Changes to valid parameters that break the rule (e.g. {"width": width + 1}), for the schema
  // property test; each may fall outside the schema's ranges. Empty for fits_memory.
  std::function<std::vector<nlohmann::json>(const ParamValues&)> counterexamples;
  // Depends on this machine (fits_memory): checked for the profile about to run, not when a
  // claim file is loaded, so a claim file valid on one machine is valid on every machine.
  bool machine = false;
};
// divides and even take an Int or an IntList `a` (then every element must satisfy the rule).
Constraint divides(std::string a, std::string b);     // b % a == 0
Constraint less(std::string a, std::string b);        // a < b
Constraint less_equal(std::string a, std::string b);  // a <= b
Constraint even(std::string a);
// a (an Int or every element of an IntList) >= min when the string list `list` holds `element`;
// `why` says the reason, e.g. "variant B has no zero-sum direction at d = 2".
Constraint at_least_when(std::string a, std::int64_t min, std::string list, std::string element,
                         std::string why);
// The bytes a run needs (an estimate from the sizes named in `sizes`) must fit the machine's
// memory budget (core/memory.h); the error names each size with its value.
Constraint fits_memory(std::vector<std::string> sizes,
                       std::function<double(const ParamValues&)> bytes);

// What a parameter allows, e.g. "an integer in [1, 64]" or "a list of strings, one of 'A' 'B'".
std::string allowed_text(const ParamSpec& spec);

// Converts one `--set` value to the JSON type of its parameter; lists are comma-separated.
// Empty values and elements are errors; the range is checked by ParamValues.
nlohmann::json parse_override(const ParamSpec& spec, const std::string& text,
                              const std::string& where);

// A seed as the CLI takes it: decimal digits only, in [0, 2^64 - 1]; InputError naming `what`.
std::uint64_t parse_seed(const std::string& text, const std::string& what);

class ParamValues {
 public:
  ParamValues() = default;
  // Validates `raw` against `schema`; `where` prefixes every error ("file.json: profiles.smoke").
  ParamValues(const nlohmann::json& raw, const std::vector<ParamSpec>& schema,
              const std::string& where);

  std::int64_t i(const std::string& key) const;
  int i32(const std::string& key) const;
  double d(const std::string& key) const;
  bool b(const std::string& key) const;
  std::string s(const std::string& key) const;
  std::vector<std::int64_t> ints(const std::string& key) const;
  std::vector<double> reals(const std::string& key) const;
  std::vector<std::string> strings(const std::string& key) const;
  bool has(const std::string& key) const { return values_.contains(key); }
  // A number as a double, whatever its JSON type (for constraints over ints and reals).
  double number(const std::string& key) const;

  // The resolved parameters, defaults filled in: what a result file records.
  const nlohmann::json& json() const { return values_; }

 private:
  const nlohmann::json& at(const std::string& key) const;
  nlohmann::json values_ = nlohmann::json::object();
};

}  // namespace attnlab

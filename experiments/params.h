#pragma once
// Typed, strictly validated experiment parameters. Each experiment kind declares a schema; a
// claim profile's parameters are checked against it when the claim is loaded: unknown keys,
// missing required keys, wrong types and out-of-range values are errors naming the file and key.
#include <cstdint>
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

  ParamSpec& optional(nlohmann::json value) {
    required = false;
    fallback = std::move(value);
    return *this;
  }
  ParamSpec& describe(std::string text) {
    help = std::move(text);
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

class Params {
 public:
  Params() = default;
  // Validates `raw` against `schema`; `where` prefixes every error ("file.json: profiles.smoke").
  Params(const nlohmann::json& raw, const std::vector<ParamSpec>& schema, const std::string& where);

  std::int64_t i(const std::string& key) const;
  int i32(const std::string& key) const;
  double d(const std::string& key) const;
  bool b(const std::string& key) const;
  std::string s(const std::string& key) const;
  std::vector<std::int64_t> ints(const std::string& key) const;
  std::vector<double> reals(const std::string& key) const;
  std::vector<std::string> strings(const std::string& key) const;
  bool has(const std::string& key) const { return values_.contains(key); }

  // The resolved parameters, defaults filled in: what a result file records.
  const nlohmann::json& json() const { return values_; }

 private:
  const nlohmann::json& at(const std::string& key) const;
  nlohmann::json values_ = nlohmann::json::object();
};

}  // namespace attnlab

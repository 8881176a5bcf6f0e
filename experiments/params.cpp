#include "experiments/params.h"

#include <cmath>
#include <set>
#include <sstream>

#include "core/error.h"

namespace attnlab {
namespace {

ParamSpec make(std::string name, ParamType type, double min, double max) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = type;
  p.min = min;
  p.max = max;
  return p;
}

std::string type_name(ParamType t) {
  switch (t) {
    case ParamType::Int:
      return "an integer";
    case ParamType::Real:
      return "a number";
    case ParamType::Bool:
      return "true or false";
    case ParamType::String:
      return "a string";
    case ParamType::IntList:
      return "a list of integers";
    case ParamType::RealList:
      return "a list of numbers";
    case ParamType::StringList:
      return "a list of strings";
  }
  return "?";
}

std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string range_text(const ParamSpec& p) {
  if (!p.choices.empty()) {
    std::string s = "one of";
    for (const auto& c : p.choices) s += " '" + c + "'";
    return s;
  }
  if (std::isinf(p.min) && std::isinf(p.max)) return "any value";
  return "in [" + fmt(p.min) + ", " + fmt(p.max) + "]";
}

// Checks one scalar element; returns an error text or "".
std::string check_scalar(const nlohmann::json& v, const ParamSpec& p, bool integer) {
  if (integer) {
    if (!v.is_number_integer()) return "must be an integer";
  } else if (!v.is_number()) {
    return "must be a number";
  }
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < p.min || x > p.max) {
    return "is " + v.dump() + ", allowed " + range_text(p);
  }
  return "";
}

std::string check_string(const nlohmann::json& v, const ParamSpec& p) {
  if (!v.is_string()) return "must be a string";
  if (p.choices.empty()) return "";
  for (const auto& c : p.choices) {
    if (v.get<std::string>() == c) return "";
  }
  return "is " + v.dump() + ", allowed " + range_text(p);
}

std::string check_value(const nlohmann::json& v, const ParamSpec& p) {
  switch (p.type) {
    case ParamType::Int:
      return check_scalar(v, p, true);
    case ParamType::Real:
      return check_scalar(v, p, false);
    case ParamType::Bool:
      return v.is_boolean() ? "" : "must be true or false";
    case ParamType::String:
      return check_string(v, p);
    case ParamType::IntList:
    case ParamType::RealList:
    case ParamType::StringList: {
      if (!v.is_array() || v.empty()) return "must be a non-empty list";
      for (const auto& e : v) {
        std::string err = p.type == ParamType::StringList
                              ? check_string(e, p)
                              : check_scalar(e, p, p.type == ParamType::IntList);
        if (!err.empty()) return "element " + err;
      }
      return "";
    }
  }
  return "has an unknown type";
}

}  // namespace

ParamSpec p_int(std::string name, double min, double max) {
  return make(std::move(name), ParamType::Int, min, max);
}
ParamSpec p_real(std::string name, double min, double max) {
  return make(std::move(name), ParamType::Real, min, max);
}
ParamSpec p_bool(std::string name) { return make(std::move(name), ParamType::Bool, 0, 1); }
ParamSpec p_string(std::string name, std::vector<std::string> choices) {
  ParamSpec p = make(std::move(name), ParamType::String, 0, 0);
  p.choices = std::move(choices);
  return p;
}
ParamSpec p_ints(std::string name, double min, double max) {
  return make(std::move(name), ParamType::IntList, min, max);
}
ParamSpec p_reals(std::string name, double min, double max) {
  return make(std::move(name), ParamType::RealList, min, max);
}
ParamSpec p_strings(std::string name, std::vector<std::string> choices) {
  ParamSpec p = make(std::move(name), ParamType::StringList, 0, 0);
  p.choices = std::move(choices);
  return p;
}

Params::Params(const nlohmann::json& raw, const std::vector<ParamSpec>& schema,
               const std::string& where) {
  if (!raw.is_object()) throw InputError(where + ": must be an object of parameters");
  std::set<std::string> known;
  for (const auto& p : schema) known.insert(p.name);
  for (const auto& [key, value] : raw.items()) {
    if (!known.count(key)) {
      std::string allowed;
      for (const auto& k : known) allowed += (allowed.empty() ? "" : ", ") + k;
      throw InputError(where + ": unknown key '" + key + "' (allowed: " + allowed + ")");
    }
  }
  for (const auto& p : schema) {
    if (!raw.contains(p.name)) {
      if (p.required) {
        throw InputError(where + ": missing key '" + p.name + "' (" + type_name(p.type) + ", " +
                         range_text(p) + ")");
      }
      values_[p.name] = p.fallback;
      continue;
    }
    const std::string err = check_value(raw.at(p.name), p);
    if (!err.empty()) throw InputError(where + ": key '" + p.name + "' " + err);
    values_[p.name] = raw.at(p.name);
  }
}

const nlohmann::json& Params::at(const std::string& key) const {
  if (!values_.contains(key)) throw std::out_of_range("parameter '" + key + "' not in schema");
  return values_.at(key);
}

std::int64_t Params::i(const std::string& key) const { return at(key).get<std::int64_t>(); }
int Params::i32(const std::string& key) const { return at(key).get<int>(); }
double Params::d(const std::string& key) const { return at(key).get<double>(); }
bool Params::b(const std::string& key) const { return at(key).get<bool>(); }
std::string Params::s(const std::string& key) const { return at(key).get<std::string>(); }
std::vector<std::int64_t> Params::ints(const std::string& key) const {
  return at(key).get<std::vector<std::int64_t>>();
}
std::vector<double> Params::reals(const std::string& key) const {
  return at(key).get<std::vector<double>>();
}
std::vector<std::string> Params::strings(const std::string& key) const {
  return at(key).get<std::vector<std::string>>();
}

}  // namespace attnlab

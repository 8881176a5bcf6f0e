#include "experiments/params.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/memory.h"

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
  s.precision(15);
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
  if (v.get<std::string>().empty()) return "must not be empty";
  if (p.grammar) {
    const std::string err = p.grammar(v.get<std::string>());
    if (!err.empty()) return "is " + v.dump() + ": " + err;
  }
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
      // Empty only as an optional list's own default (e.g. no extra sweep points).
      if (!v.is_array() || (v.empty() && (p.required || v != p.fallback)))
        return "must be a non-empty list";
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

std::string fmt_param(const ParamValues& p, const std::string& key) {
  return key + " = " + p.json().at(key).dump();
}

}  // namespace

namespace {

// The integers of an Int or IntList parameter.
std::vector<std::int64_t> int_values(const ParamValues& p, const std::string& key) {
  return p.json().at(key).is_array() ? p.ints(key) : std::vector<std::int64_t>{p.i(key)};
}

// `key` with its first element (or its value) replaced by v.
nlohmann::json with_first(const ParamValues& p, const std::string& key, std::int64_t v) {
  if (!p.json().at(key).is_array()) return {{key, v}};
  nlohmann::json list = p.json().at(key);
  list[0] = v;
  return {{key, list}};
}

}  // namespace

Constraint divides(std::string a, std::string b) {
  Constraint c;
  c.text = a + " divides " + b;
  c.violation = [a, b](const ParamValues& p) -> std::string {
    const std::int64_t y = p.i(b);
    for (const std::int64_t x : int_values(p, a))
      if (x == 0 || y % x != 0)
        return a + " must divide " + b + " (" + fmt_param(p, a) + ", " + fmt_param(p, b) + ")";
    return "";
  };
  c.counterexamples = [a, b](const ParamValues& p) {
    std::vector<nlohmann::json> out = {with_first(p, a, p.i(b) + 1)};
    if (int_values(p, a).front() >= 2) out.push_back({{b, p.i(b) + 1}});
    return out;
  };
  return c;
}

Constraint less(std::string a, std::string b) {
  Constraint c;
  c.text = a + " < " + b;
  c.violation = [a, b](const ParamValues& p) -> std::string {
    if (p.number(a) < p.number(b)) return "";
    return a + " must be less than " + b + " (" + fmt_param(p, a) + ", " + fmt_param(p, b) + ")";
  };
  c.counterexamples = [a, b](const ParamValues& p) {
    return std::vector<nlohmann::json>{{{a, p.json().at(b)}}, {{b, p.json().at(a)}}};
  };
  return c;
}

Constraint less_equal(std::string a, std::string b) {
  Constraint c;
  c.text = a + " <= " + b;
  c.violation = [a, b](const ParamValues& p) -> std::string {
    if (p.number(a) <= p.number(b)) return "";
    return a + " must be at most " + b + " (" + fmt_param(p, a) + ", " + fmt_param(p, b) + ")";
  };
  c.counterexamples = [a, b](const ParamValues& p) {
    const auto& vb = p.json().at(b);
    return std::vector<nlohmann::json>{
        {{a, vb.is_number_integer() ? nlohmann::json(p.i(b) + 1) : nlohmann::json(p.d(b) + 1)}}};
  };
  return c;
}

Constraint even(std::string a) {
  Constraint c;
  c.text = a + " is even";
  c.violation = [a](const ParamValues& p) -> std::string {
    for (const std::int64_t x : int_values(p, a))
      if (x % 2 != 0) return a + " must be even (" + fmt_param(p, a) + ")";
    return "";
  };
  c.counterexamples = [a](const ParamValues& p) {
    const std::int64_t x = int_values(p, a).front();
    return std::vector<nlohmann::json>{with_first(p, a, x + 1), with_first(p, a, x - 1)};
  };
  return c;
}

Constraint at_least_when(std::string a, std::int64_t min, std::string list, std::string element,
                         std::string why) {
  Constraint c;
  c.text = a + " >= " + std::to_string(min) + " when " + list + " includes '" + element + "'";
  const auto listed = [list, element](const ParamValues& p) {
    const auto v = p.strings(list);
    return std::find(v.begin(), v.end(), element) != v.end();
  };
  c.violation = [=](const ParamValues& p) -> std::string {
    if (!listed(p)) return "";
    for (const std::int64_t x : int_values(p, a))
      if (x < min)
        return a + " must be at least " + std::to_string(min) + " when " + list + " includes '" +
               element + "': " + why + " (" + fmt_param(p, a) + ", " + fmt_param(p, list) + ")";
    return "";
  };
  c.counterexamples = [=](const ParamValues& p) {
    nlohmann::json change = with_first(p, a, min - 1);
    if (!listed(p)) change[list] = {element};
    return std::vector<nlohmann::json>{change};
  };
  return c;
}

Constraint fits_memory(std::vector<std::string> sizes,
                       std::function<double(const ParamValues&)> bytes) {
  Constraint c;
  for (const auto& k : sizes) c.text += (c.text.empty() ? "" : ", ") + k;
  c.text += " fit in memory";
  c.machine = true;
  c.violation = [sizes, bytes](const ParamValues& p) -> std::string {
    const double need = bytes(p), budget = static_cast<double>(memory_budget_bytes());
    if (need <= budget) return "";
    std::string values;
    for (const auto& k : sizes)  // a shared rule may name sizes some kinds do not have
      if (p.has(k)) values += (values.empty() ? "" : ", ") + fmt_param(p, k);
    return values + " need about " + format_gb(need) + " of memory, more than this machine " +
           "allows (" + format_gb(budget) + ", half its RAM): lower them";
  };
  return c;
}

std::string allowed_text(const ParamSpec& spec) {
  std::string s = type_name(spec.type);
  if (spec.type == ParamType::Bool) return s;
  const std::string r = range_text(spec);
  if (r != "any value") s += (spec.choices.empty() ? " " : ", ") + r;
  if (spec.grammar) s += " (grammar: " + spec.help + ")";
  return s;
}

nlohmann::json parse_override(const ParamSpec& spec, const std::string& text,
                              const std::string& where) {
  auto scalar = [&](ParamType t, const std::string& v) -> nlohmann::json {
    if (v.empty()) throw InputError(where + ": empty value (expected " + type_name(t) + ")");
    const std::string bad = where + ": '" + v + "' is not ";
    switch (t) {
      case ParamType::Int: {
        std::int64_t x = 0;
        const char* first = v.data() + (v[0] == '+' && v.size() > 1 && v[1] != '-' ? 1 : 0);
        const auto [end, ec] = std::from_chars(first, v.data() + v.size(), x);
        if (ec == std::errc::result_out_of_range)
          throw InputError(bad + "an integer in range (" + range_text(spec) + ")");
        if (ec != std::errc() || end != v.data() + v.size()) throw InputError(bad + "an integer");
        return x;
      }
      case ParamType::Real: {
        double x = 0;
        const char* first = v.data() + (v[0] == '+' && v.size() > 1 && v[1] != '-' ? 1 : 0);
        const auto [end, ec] = std::from_chars(first, v.data() + v.size(), x);
        if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(x))
          throw InputError(bad + "a finite number (" + range_text(spec) + ")");
        return x;
      }
      case ParamType::Bool:
        if (v == "true") return true;
        if (v == "false") return false;
        throw InputError(bad + "true or false");
      default:
        try {  // a result file records it, and nlohmann::json::dump throws on invalid UTF-8
          (void)nlohmann::json(v).dump();
        } catch (const nlohmann::json::type_error&) {
          throw InputError(bad + "valid UTF-8 text");
        }
        return v;
    }
  };
  const bool list = spec.type == ParamType::IntList || spec.type == ParamType::RealList ||
                    spec.type == ParamType::StringList;
  if (!list) return scalar(spec.type, text);
  const ParamType element = spec.type == ParamType::IntList    ? ParamType::Int
                            : spec.type == ParamType::RealList ? ParamType::Real
                                                               : ParamType::String;
  nlohmann::json out = nlohmann::json::array();
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    out.push_back(scalar(element, text.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::uint64_t parse_seed(const std::string& text, const std::string& what) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    throw InputError(what + " is '" + text + "', allowed: an integer in [0, 18446744073709551615]");
  return v;
}

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

ParamValues::ParamValues(const nlohmann::json& raw, const std::vector<ParamSpec>& schema,
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

const nlohmann::json& ParamValues::at(const std::string& key) const {
  if (!values_.contains(key)) throw std::out_of_range("parameter '" + key + "' not in schema");
  return values_.at(key);
}

std::int64_t ParamValues::i(const std::string& key) const { return at(key).get<std::int64_t>(); }
double ParamValues::number(const std::string& key) const { return at(key).get<double>(); }
int ParamValues::i32(const std::string& key) const { return at(key).get<int>(); }
double ParamValues::d(const std::string& key) const { return at(key).get<double>(); }
bool ParamValues::b(const std::string& key) const { return at(key).get<bool>(); }
std::string ParamValues::s(const std::string& key) const { return at(key).get<std::string>(); }
std::vector<std::int64_t> ParamValues::ints(const std::string& key) const {
  return at(key).get<std::vector<std::int64_t>>();
}
std::vector<double> ParamValues::reals(const std::string& key) const {
  return at(key).get<std::vector<double>>();
}
std::vector<std::string> ParamValues::strings(const std::string& key) const {
  return at(key).get<std::vector<std::string>>();
}

}  // namespace attnlab

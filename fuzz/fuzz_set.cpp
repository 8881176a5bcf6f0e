// Fuzzes the `--set key=value` path of `attnlab run` and the ICL model-spec grammar.
//
// Input: a first line naming what to fuzz, then its text.
//  - "spec": the rest of the input is one model spec (experiments/icl/model_spec.h):
//    model_spec_error(t) == "" exactly when parse_model_spec(t) returns, its errors are one
//    line, and a parsed spec formats back to t; through the fuzz_train kind's `models` schema
//    the spec validates exactly when the grammar accepts it.
//  - a fake kind's name (fake_registry.h): every further line is one `--set KEY=VALUE`, applied
//    to the kind's profile as experiments/runner.cpp resolve_params does: parse_override per
//    value (checked against an independent reading of the text), then validated_params (schema
//    and constraints). Accepted parameters satisfy every constraint, can be written (dump) and
//    validate again to the same values.
// Only InputError may escape, with a one-line message that names where it comes from.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/strict_json.h"
#include "experiments/icl/model_spec.h"
#include "experiments/registry.h"
#include "fuzz/fake_registry.h"
#include "fuzz/fuzz_check.h"

namespace {

using attnlab::ParamType;
using attnlab::fuzz::expect;
using attnlab::fuzz::finding;
using nlohmann::json;

constexpr const char* kWhere = "--set on claim 'icl.fuzz'";

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto end = text.find(sep, start);
    out.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

void expect_error(const attnlab::InputError& e, const std::string& prefix,
                  const std::string& context) {
  const std::string message = e.what();
  attnlab::fuzz::note_rejection(message);
  // Up to its first control character: a message may show those escaped.
  const auto control = std::find_if(prefix.begin(), prefix.end(),
                                    [](char c) { return static_cast<unsigned char>(c) < 0x20; });
  expect(message.rfind(std::string(prefix.begin(), control), 0) == 0,
         context + ": error without '" + prefix + "': " + message);
  attnlab::fuzz::expect_one_line(message, context);
}

// ---- model specs --------------------------------------------------------------------------------

std::string format_spec(const attnlab::icl::ModelSpec& s) {
  std::string t = s.model + std::to_string(s.layers);
  if (s.steps) t += ":" + std::to_string(*s.steps);
  if (s.seeds) t += ":" + std::to_string(*s.seeds);
  return t;
}

void fuzz_model_spec(const std::string& text) {
  std::string error;
  try {
    error = attnlab::icl::model_spec_error(text);
  } catch (...) {
    finding("model_spec_error threw " + attnlab::fuzz::current_exception_text());
  }
  attnlab::fuzz::expect_one_line(error, "model_spec_error");
  try {
    const attnlab::icl::ModelSpec s = attnlab::icl::parse_model_spec(text);
    expect(error.empty(), "parse_model_spec accepted what model_spec_error rejects: " + error);
    expect(s.model == "full" || s.model == "diag" || s.model == "gdpp", "model " + s.model);
    expect(s.layers >= 1 && s.layers <= attnlab::icl::kMaxModelLayers, "layers out of range");
    expect(!s.steps || (*s.steps >= 1 && *s.steps <= attnlab::icl::kMaxModelSteps), "steps");
    expect(!s.seeds || (*s.seeds >= 1 && *s.seeds <= attnlab::icl::kMaxModelSeeds), "seeds");
    expect(!s.seeds || s.steps, "seeds without steps");
    expect(s.key == s.model + std::to_string(s.layers), "key " + s.key);
    expect(format_spec(s) == text, "spec does not format back: " + format_spec(s));
  } catch (const attnlab::InputError& e) {
    expect(!error.empty(), "parse_model_spec rejected what model_spec_error accepts");
    const std::string expected = "bad model spec '" + text + "': " + error;
    // With control characters (NUL included) what() may differ: escaped, or cut at the NUL.
    const bool control = std::any_of(expected.begin(), expected.end(),
                                     [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    expect(control || e.what() == expected,
           "parse_model_spec's error is not model_spec_error's: " + std::string(e.what()));
    attnlab::fuzz::expect_one_line(e.what(), "parse_model_spec");
  } catch (...) {
    finding("parse_model_spec threw " + attnlab::fuzz::current_exception_text());
  }
  // The same text as an element of `--set models=diag1,<text>` (fuzz_train's schema).
  if (text.find(',') != std::string::npos) return;
  const attnlab::ExperimentKind& kind = *attnlab::find_experiment("fuzz_train");
  const auto& models =
      *std::find_if(kind.params.begin(), kind.params.end(),
                    [](const attnlab::ParamSpec& p) { return p.name == "models"; });
  json raw = attnlab::fuzz::fake_profile("fuzz_train");
  try {
    raw["models"] = attnlab::parse_override(models, "diag1," + text, "--set models");
    attnlab::validated_params(kind, raw, kWhere);
    expect(error.empty(), "schema accepted a spec the grammar rejects: " + error);
  } catch (const attnlab::InputError& e) {
    expect(!error.empty(), "schema rejected a valid spec: " + std::string(e.what()));
    attnlab::fuzz::expect_one_line(e.what(), "--set models");
  } catch (...) {
    finding("--set models threw " + attnlab::fuzz::current_exception_text());
  }
}

// ---- --set --------------------------------------------------------------------------------------

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// What parse_override accepted, read again without it.
void check_scalar(ParamType type, const std::string& text, const json& v) {
  const std::string context = "parse_override('" + text + "')";
  switch (type) {
    case ParamType::Int: {
      const std::string_view body = std::string_view(text).substr(text[0] == '+' ? 1 : 0);
      expect(v.is_number_integer() && (digits(body) || (text[0] == '-' && digits(body.substr(1)))),
             context + " accepted as an integer");
      expect(std::strtoll(text.c_str(), nullptr, 10) == v.get<std::int64_t>(), context + " value");
      return;
    }
    case ParamType::Real: {
      expect(v.is_number_float() && std::isfinite(v.get<double>()), context + " not finite");
      char* end = nullptr;
      const double x = std::strtod(text.c_str(), &end);
      expect(end == text.c_str() + text.size() && x == v.get<double>(),
             context + " accepted as a number, strtod reads it otherwise");
      expect(text.rfind("+-", 0) != 0 && text.rfind("++", 0) != 0, context + " two signs");
      return;
    }
    case ParamType::Bool:
      expect(v.is_boolean() && text == (v.get<bool>() ? "true" : "false"), context + " as bool");
      return;
    default:
      expect(v.is_string() && v.get<std::string>() == text, context + " changed the string");
  }
}

void check_override(const attnlab::ParamSpec& spec, const std::string& text, const json& v) {
  switch (spec.type) {
    case ParamType::IntList:
    case ParamType::RealList:
    case ParamType::StringList: {
      const auto items = split(text, ',');
      expect(v.is_array() && v.size() == items.size(), "list '" + text + "' has another size");
      const ParamType element = spec.type == ParamType::IntList    ? ParamType::Int
                                : spec.type == ParamType::RealList ? ParamType::Real
                                                                   : ParamType::String;
      for (std::size_t i = 0; i < items.size(); ++i) check_scalar(element, items[i], v[i]);
      return;
    }
    default:
      check_scalar(spec.type, text, v);
  }
}

void fuzz_overrides(const attnlab::ExperimentKind& kind, const std::vector<std::string>& lines) {
  json raw = attnlab::fuzz::fake_profile(kind.name);
  std::set<std::string> seen;
  for (const auto& o : lines) {  // as resolve_params (experiments/runner.cpp)
    const auto eq = o.find('=');
    const std::string key = o.substr(0, eq);
    if (eq == std::string::npos || key.empty() || !seen.insert(key).second) continue;
    const auto spec = std::find_if(kind.params.begin(), kind.params.end(),
                                   [&](const attnlab::ParamSpec& p) { return p.name == key; });
    if (spec == kind.params.end()) continue;
    const std::string where = "--set " + o, text = o.substr(eq + 1);
    try {
      raw[key] = attnlab::parse_override(*spec, text, where);
    } catch (const attnlab::InputError& e) {
      expect_error(e, where + ": ", "parse_override");
      return;
    } catch (...) {
      finding("parse_override threw " + attnlab::fuzz::current_exception_text());
    }
    check_override(*spec, text, raw[key]);
  }
  attnlab::ParamValues params;
  try {
    params = attnlab::validated_params(kind, raw, kWhere);
  } catch (const attnlab::InputError& e) {
    expect_error(e, std::string(kWhere) + ": ", "validated_params");
    return;
  } catch (...) {
    finding("validated_params threw " + attnlab::fuzz::current_exception_text());
  }
  for (const auto& c : kind.constraints)
    expect(c.violation(params).empty(), "accepted parameters violate " + c.text);
  std::string recorded;
  try {
    recorded = params.json().dump();  // what the result file records
  } catch (...) {
    finding("accepted parameters cannot be written: " + attnlab::fuzz::current_exception_text());
  }
  try {
    const attnlab::ParamValues again = attnlab::validated_params(
        kind, attnlab::parse_json_strict(recorded, "recorded"), "recorded");
    expect(again.json() == params.json(), "parameters changed through the result file");
  } catch (...) {
    finding("recorded parameters do not validate again: " +
            attnlab::fuzz::current_exception_text());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  const std::string_view head = input.substr(0, newline), rest = input.substr(newline + 1);
  if (head == "spec") {
    fuzz_model_spec(std::string(rest));
    return 0;
  }
  const attnlab::ExperimentKind* kind = attnlab::find_experiment(head);
  if (kind == nullptr) return 0;
  fuzz_overrides(*kind, split(rest, '\n'));
  return 0;
}

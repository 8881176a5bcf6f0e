#include "experiments/icl/model_spec.h"

#include <charconv>

#include "core/error.h"

namespace attnlab::icl {
namespace {

constexpr const char* kGrammar =
    "allowed: MODEL LAYERS[:STEPS[:SEEDS]] with MODEL in {full, diag, gdpp}, LAYERS in [1, 32], "
    "STEPS in [1, 10000000], SEEDS in [1, 100], e.g. diag3, gdpp2:20000, full3:20000:3";

// A field of the text as an error may show it: bytes outside printable ASCII as \xNN, so the
// error stays one line.
std::string shown(std::string_view field) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : field) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f)
      out += c;
    else
      out += {'\\', 'x', kHex[u >> 4], kHex[u & 15]};
  }
  return out;
}

// A decimal integer in [lo, hi]: digits only, no sign, no leading zero.
bool parse_field(std::string_view s, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
  if (s.empty() || s.size() > 18 || (s.size() > 1 && s.front() == '0')) return false;
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= lo && out <= hi;
}

// Parses into `out`; returns "" or what is wrong.
std::string parse(std::string_view text, ModelSpec& out) {
  const auto fail = [&](const std::string& what) { return what + " (" + kGrammar + ")"; };
  std::string_view fields[3];
  int n = 0;
  std::size_t start = 0;
  for (;;) {
    const auto colon = text.find(':', start);
    if (n == 3) return fail("more than three ':'-separated fields");
    fields[n++] = text.substr(start, colon == std::string_view::npos ? colon : colon - start);
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  const std::string_view key = fields[0];
  std::size_t i = 0;
  while (i < key.size() && key[i] >= 'a' && key[i] <= 'z') ++i;
  const std::string_view model = key.substr(0, i);
  if (model != "full" && model != "diag" && model != "gdpp")
    return fail("unknown model '" + shown(model) + "'");
  std::int64_t v = 0;
  if (!parse_field(key.substr(i), 1, kMaxModelLayers, v))
    return fail("layers '" + shown(key.substr(i)) + "' is not an integer in [1, 32]");
  out.key = std::string(key);
  out.model = std::string(model);
  out.layers = static_cast<int>(v);
  out.steps.reset();
  out.seeds.reset();
  if (n >= 2) {
    if (!parse_field(fields[1], 1, kMaxModelSteps, v))
      return fail("steps '" + shown(fields[1]) + "' is not an integer in [1, 10000000]");
    out.steps = v;
  }
  if (n == 3) {
    if (!parse_field(fields[2], 1, kMaxModelSeeds, v))
      return fail("seeds '" + shown(fields[2]) + "' is not an integer in [1, 100]");
    out.seeds = static_cast<int>(v);
  }
  return "";
}

}  // namespace

std::string model_spec_error(std::string_view text) {
  ModelSpec s;
  return parse(text, s);
}

ModelSpec parse_model_spec(std::string_view text) {
  ModelSpec s;
  if (auto why = parse(text, s); !why.empty())
    throw InputError("bad model spec '" + std::string(text) + "': " + why);
  return s;
}

}  // namespace attnlab::icl

// Fuzzes the claim-file parser the way load_claim (experiments/claim.h) runs it:
// parse_json_strict, then parse_claim against the fuzz-only registry (fake_registry.h).
//  - Only InputError escapes; its message names the file and is one line.
//  - An accepted claim is consistent: a known kind, profiles smoke and default (full optional)
//    whose parameters validate again to the same values and can be written (dump), an expected
//    verdict per profile, a reason where the verdict is not holds/measured, every check
//    applying to defined profiles with a threshold for each, and every metric it names
//    (checks, controls, headline) declared by the kind.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/strict_json.h"
#include "experiments/claim.h"
#include "experiments/registry.h"
#include "fuzz/fuzz_check.h"

namespace {

using attnlab::fuzz::expect;
using attnlab::fuzz::finding;

constexpr const char* kFile = "claims/fuzz/input.json";

bool one_of(const std::string& v, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return v == a; });
}

void check_profiles(const attnlab::Claim& c, const attnlab::ExperimentKind& kind) {
  expect(c.has_profile("smoke") && c.has_profile("default"), "claim without smoke or default");
  std::set<std::string> names;
  for (const auto& [name, params] : c.profiles) {
    expect(one_of(name, {"smoke", "default", "full"}), "unknown profile " + name);
    names.insert(name);
    std::string text;
    try {
      text = params.json().dump();  // what a result file records
    } catch (...) {
      finding("profile " + name + " cannot be written: " + attnlab::fuzz::current_exception_text());
    }
    try {  // the recorded parameters reproduce the run: they validate to the same values
      const attnlab::ParamValues again =
          attnlab::validated_params(kind, attnlab::parse_json_strict(text, "recorded"), "recorded",
                                    /*machine_rules=*/false);  // as load_claim validates
      expect(again.json() == params.json(), "profile " + name + " changed on re-validation");
    } catch (...) {
      finding("recorded profile " + name +
              " does not validate again: " + attnlab::fuzz::current_exception_text());
    }
  }
  std::set<std::string> expected_names;
  for (const auto& [name, verdict] : c.expected_by_profile) {
    expected_names.insert(name);
    expect(one_of(verdict, {"holds", "fails", "inconclusive", "measured"}), "verdict " + verdict);
    expect(!one_of(verdict, {"fails", "inconclusive"}) || !c.reason.empty(),
           "verdict " + verdict + " without a reason");
    expect((verdict == "measured") == (c.expected == "measured"), "measured in some profiles only");
  }
  expect(expected_names == names, "expected verdicts and profiles differ");
  expect(c.expected == c.expected_at("default"), "expected is not the default profile's");
}

// metric_matches by dynamic programming over (pattern, name) prefixes, '*' matching any run.
bool glob_reference(const std::string& pattern, const std::string& name) {
  std::vector<bool> row(name.size() + 1, false), next(name.size() + 1);
  row[0] = true;  // the empty pattern matches the empty name
  for (const char p : pattern) {
    next.assign(name.size() + 1, false);
    for (std::size_t n = 0; n <= name.size(); ++n) {
      if (p == '*')
        next[n] = row[n] || (n > 0 && next[n - 1]);
      else
        next[n] = n > 0 && row[n - 1] && name[n - 1] == p;
    }
    row.swap(next);
  }
  return row[name.size()];
}

void check_glob(const attnlab::ExperimentKind& kind, const std::string& metric) {
  for (const auto& pattern : kind.metrics)
    expect(attnlab::metric_matches(pattern, metric) == glob_reference(pattern, metric),
           "metric_matches('" + pattern + "', '" + metric + "') disagrees with the reference");
}

void check_metrics(const attnlab::Claim& c, const attnlab::ExperimentKind& kind) {
  expect(!c.checks.empty() || c.expected == "measured", "a decided claim without checks");
  for (const auto& k : c.checks) {
    expect(one_of(k.op, {"<", "<=", ">", ">="}), "op " + k.op);
    expect(one_of(k.origin, {"paper", "derived", "proposed"}), "origin " + k.origin);
    expect(!k.threshold.empty() && !k.metric.empty() && !k.why.empty(), "incomplete check");
    for (const auto& [profile, value] : k.threshold) {
      expect(c.has_profile(profile), "threshold for undefined profile " + profile);
      (void)k.passes(value, profile);
    }
    expect(attnlab::kind_declares(kind, k.metric), "undeclared metric " + k.metric);
    check_glob(kind, k.metric);
    for (const auto* controls : {&k.negative_controls, &k.positive_controls})
      for (const auto& n : *controls)
        expect(attnlab::kind_declares(kind, k.metric + "@" + n), "undeclared control " + n);
  }
  expect(!c.headline.empty() || c.checks.empty(), "checks without a headline");
  if (!c.headline.empty()) {
    expect(attnlab::kind_declares(kind, c.headline), "undeclared headline " + c.headline);
    check_glob(kind, c.headline);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  attnlab::Claim claim;
  try {
    claim = attnlab::parse_claim(attnlab::parse_json_strict(text, kFile), kFile);
  } catch (const attnlab::InputError& e) {
    const std::string message = e.what();
    attnlab::fuzz::note_rejection(message);
    expect(message.rfind(std::string(kFile) + ": ", 0) == 0, "error without the file: " + message);
    attnlab::fuzz::expect_one_line(message, "parse_claim");
    return 0;
  } catch (...) {
    finding("parse_claim threw " + attnlab::fuzz::current_exception_text());
  }
  const attnlab::ExperimentKind* kind = attnlab::find_experiment(claim.experiment);
  expect(kind != nullptr && &claim.kind() == kind, "accepted unknown kind " + claim.experiment);
  const auto paper = std::find_if(attnlab::papers().begin(), attnlab::papers().end(),
                                  [&](const attnlab::Paper& p) { return p.key == claim.paper; });
  expect(paper != attnlab::papers().end() && claim.id.rfind(paper->prefix + ".", 0) == 0 &&
             claim.id.size() > paper->prefix.size() + 1,
         "id " + claim.id + " outside paper " + claim.paper);
  expect(claim.basis == "project" || !claim.quote.empty(), "basis without quote");
  check_profiles(claim, *kind);
  check_metrics(claim, *kind);
  return 0;
}

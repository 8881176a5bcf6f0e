// The registry's sources of kinds and declarations (experiments/registry.h), for the fuzz
// targets only: three kinds shaped like real ones (fake_registry.h).
#include "fuzz/fake_registry.h"

#include <cstdlib>
#include <map>

#include "experiments/icl/model_spec.h"
#include "experiments/registry.h"

namespace attnlab {
namespace {

Outcome never_run(const RunContext&) { std::abort(); }

// Like icl_train: a grammar on string-list elements, choices, optional values of every scalar
// type, and a memory estimate that large sizes exceed.
ExperimentKind train_kind() {
  return {"fuzz_train",
          "ICL-like training kind",
          {p_int("d", 1, 64), p_int("n", 2, 10000), p_string("noise", {"u0", "u5", "c13", "c135"}),
           p_strings("models").parse_with(icl::model_spec_error), p_int("steps", 1, 10000000),
           p_int("seeds", 1, 100), p_int("batch", 1, 100000), p_real("lr", 0, 1).optional(1e-3),
           p_real("clip", 0, 1e10).optional(10.0), p_bool("ablation").optional(false),
           p_string("tag").optional("run")},
          never_run,
          {less_equal("d", "n"), fits_memory({"batch", "n", "d"}, [](const ParamValues& p) {
             return p.number("batch") * (p.number("n") + 1) * (p.number("d") + 1) * 8.0 * 4;
           })}};
}

// Like the SAMoVAR exact kinds: divides and even on ints and int lists, less on ints and reals.
ExperimentKind exact_kind() {
  return {"fuzz_exact",
          "SAMoVAR-like exact kind",
          {p_int("width", 1, 512), p_int("heads", 1, 64), p_int("tokens", 2, 4096),
           p_int("lag", 0, 4096), p_real("diag_min", -700, 700), p_real("diag_max", -700, 700),
           p_ints("depths", 1, 16).optional(nlohmann::json::array({1, 2})),
           p_reals("scales", 1e-6, 1e6).optional(nlohmann::json::array({1.0})),
           p_ints("patches", 1, 64).optional(nlohmann::json::array({2, 4}))},
          never_run,
          {even("tokens"), divides("heads", "width"), less("lag", "tokens"),
           less("diag_min", "diag_max"), even("patches"), divides("patches", "tokens")}};
}

// Like the curse kinds: lists of every type, string lists with choices.
ExperimentKind lists_kind() {
  return {"fuzz_lists",
          "curse-like sweep kind",
          {p_strings("variants", {"A", "B"}), p_ints("ns", 8, 1000000), p_reals("sigmas", 0, 10),
           p_int("m", 2, 65536), p_int("n", 4, 100000),
           p_strings("labels").optional(nlohmann::json::array({"x"}))},
          never_run,
          {even("m"), fits_memory({"m", "n"}, [](const ParamValues& p) {
             return p.number("m") * p.number("n") * 8.0 * 16;
           })}};
}

}  // namespace

std::vector<ExperimentKind> icl_experiments() { return {train_kind()}; }
std::vector<ExperimentKind> var_experiments() { return {exact_kind()}; }
std::vector<ExperimentKind> curse_experiments() { return {lists_kind()}; }
std::vector<ExperimentKind> ett_experiments() { return {}; }

const std::map<std::string, KindDeclaration>& icl_declarations() {
  static const std::map<std::string, KindDeclaration> table = {
      {"fuzz_train", {{"adjusted_*", "adjusted_*@zero", "absdiff_*_constrr", "last_loss"}, true}}};
  return table;
}
const std::map<std::string, KindDeclaration>& var_declarations() {
  static const std::map<std::string, KindDeclaration> table = {
      {"fuzz_exact",
       {{"max_change_*", "min_change_next_prediction", "rank_depth*", "rank_depth*@random"},
        false}}};
  return table;
}
const std::map<std::string, KindDeclaration>& curse_declarations() {
  static const std::map<std::string, KindDeclaration> table = {
      {"fuzz_lists", {{"ood_risk_*", "ood_risk_*@zero", "ood_risk_*@oracle", "*_slope"}, false}}};
  return table;
}
const std::map<std::string, KindDeclaration>& ett_declarations() {
  static const std::map<std::string, KindDeclaration> table;
  return table;
}

namespace fuzz {

const std::vector<std::string>& fake_kind_names() {
  static const std::vector<std::string> names = {"fuzz_train", "fuzz_exact", "fuzz_lists"};
  return names;
}

const nlohmann::json& fake_profile(const std::string& kind) {
  static const std::map<std::string, nlohmann::json> profiles = {
      {"fuzz_train",
       {{"d", 10},
        {"n", 20},
        {"noise", "u5"},
        {"models", {"diag3", "gdpp2:20000", "full3:20000:3"}},
        {"steps", 5000},
        {"seeds", 1},
        {"batch", 64}}},
      {"fuzz_exact",
       {{"width", 16},
        {"heads", 2},
        {"tokens", 64},
        {"lag", 3},
        {"diag_min", -2.5},
        {"diag_max", 0.5}}},
      {"fuzz_lists",
       {{"variants", {"A", "B"}}, {"ns", {8, 64}}, {"sigmas", {0, 0.1}}, {"m", 256}, {"n", 64}}}};
  return profiles.at(kind);
}

}  // namespace fuzz
}  // namespace attnlab

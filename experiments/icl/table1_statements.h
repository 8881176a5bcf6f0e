#pragma once
// The paper's statements about Table 1 (icl spec §7.4 #14-#29), each a small named function from
// the table of cells and ridge baselines to metrics. A statement is recorded only when every cell
// it needs ran; the sweep that fills the table is experiments/icl/table1.cpp.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "experiments/experiment.h"
#include "experiments/icl/baselines.h"

namespace attnlab::icl {

std::string row_name(const std::string& model, int L);  // "GD++3", "DIAG1", "FULL7"
std::string cell_key(const std::string& model, int L, const std::string& column);  // "diag3_u5"

// The cells and baselines of one run, and lookups that say when something is missing.
struct Table1 {
  std::map<std::string, nlohmann::json> cells;      // cell_key -> cell
  std::map<std::string, RidgeBaselines> baselines;  // column -> baselines
  std::vector<double> profile_sigmas;

  const nlohmann::json* cell(const std::string& m, int L, const std::string& c) const {
    const auto it = cells.find(cell_key(m, L, c));
    return it == cells.end() ? nullptr : &it->second;
  }
  std::optional<double> adj(const std::string& m, int L, const std::string& c) const {
    const auto* x = cell(m, L, c);
    if (!x) return std::nullopt;
    return x->at("adjusted").get<double>();
  }
  std::optional<double> base(const std::string& c, const std::string& which) const {
    const auto it = baselines.find(c);
    if (it == baselines.end()) return std::nullopt;
    const auto& b = it->second;
    return which == "constrr" ? b.constrr.mean : which == "adarr" ? b.adarr.mean : b.tunedrr.mean;
  }
  // The per-variance profile value of a cell at sigma (field "profile"), or its standard error
  // over the profile's sequences ("profile_se"; absent in cells kept before it was recorded).
  std::optional<double> profile(const std::string& m, int L, const std::string& c, double sigma,
                                const char* field = "profile") const {
    const auto* x = cell(m, L, c);
    if (!x || !x->contains(field)) return std::nullopt;
    for (std::size_t k = 0; k < profile_sigmas.size(); ++k)
      if (std::abs(profile_sigmas[k] - sigma) < 1e-12) return x->at(field)[k].get<double>();
    return std::nullopt;
  }
};

// #14's tolerance, from the claim file (spec §7.4 #14): |ours - paper| <= max(abs, rel paper)
// for paper >= judged_from; at sigma_max = 0 and L >= noise_free_from_depth,
// ours <= max(noise_free_factor paper, noise_free_floor). Other cells are not judged.
struct Table1Tolerance {
  double abs = 0, rel = 0, judged_from = 0, noise_free_factor = 0, noise_free_floor = 0;
  int noise_free_from_depth = 0;
};
Table1Tolerance table1_tolerance(const ParamValues& p);  // the kind's tol_* parameters
// How far `ours` lies outside the tolerance around the paper's value (<= 0: within); nothing for
// cells without a rule.
std::optional<double> table1_excess(const Table1Tolerance& tol, const std::string& model, int L,
                                    const std::string& column, double ours);

// #14 over the cells that ran (writes each cell's "excess"), then #15-#29.
void table1_reproduced(Table1& t, const Table1Tolerance& tol, Outcome& o);
void table1_statements(const Table1& t, Outcome& o);

}  // namespace attnlab::icl

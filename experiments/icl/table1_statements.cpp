#include "experiments/icl/table1_statements.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "experiments/icl/common.h"

namespace attnlab::icl {

std::string row_name(const std::string& model, int L) {
  return (model == "gdpp" ? "GD++" : model == "diag" ? "DIAG" : "FULL") + std::to_string(L);
}

std::string cell_key(const std::string& model, int L, const std::string& column) {
  return model + std::to_string(L) + "_" + column;
}

Table1Tolerance table1_tolerance(const ParamValues& p) {
  Table1Tolerance tol;
  tol.abs = p.d("tol_abs");
  tol.rel = p.d("tol_rel");
  tol.judged_from = p.d("tol_judged_from");
  tol.noise_free_factor = p.d("tol_noise_free_factor");
  tol.noise_free_floor = p.d("tol_noise_free_floor");
  tol.noise_free_from_depth = p.i32("tol_noise_free_from_depth");
  return tol;
}

std::optional<double> table1_excess(const Table1Tolerance& tol, const std::string& model, int L,
                                    const std::string& column, double ours) {
  const double paper = table1(row_name(model, L), column);
  if (std::isnan(paper)) return std::nullopt;
  if (column == "u0" && L >= tol.noise_free_from_depth)
    return ours - std::max(tol.noise_free_factor * paper, tol.noise_free_floor);
  if (paper < tol.judged_from) return std::nullopt;
  return std::abs(ours - paper) - std::max(tol.abs, tol.rel * paper);
}

void table1_reproduced(Table1& t, const Table1Tolerance& tol, Outcome& o) {
  double max_excess = -std::numeric_limits<double>::infinity();
  int judged = 0, within = 0;
  for (auto& [key, cell] : t.cells) {
    const auto e = table1_excess(tol, cell.at("model"), cell.at("layers"), cell.at("column"),
                                 cell.at("adjusted"));
    cell["excess"] = e ? nlohmann::json(*e) : nlohmann::json(nullptr);
    if (!e) continue;
    ++judged;
    within += *e <= 0;
    max_excess = std::max(max_excess, *e);
  }
  if (judged > 0) o.metric("table1_max_excess", max_excess);
  o.metric("table1_cells_judged", judged);
  o.metric("table1_cells_within", within);
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Folds values into a max (or min); stays empty as soon as one input is missing.
class Fold {
 public:
  explicit Fold(bool take_max = true) : max_(take_max) {}
  void add(std::optional<double> v) {
    if (!v) {
      missing_ = true;
      return;
    }
    if (!value_ || (max_ ? *v > *value_ : *v < *value_)) value_ = v;
  }
  std::optional<double> get() const { return missing_ ? std::nullopt : value_; }

 private:
  bool max_;
  bool missing_ = false;
  std::optional<double> value_;
};

std::optional<double> minus(std::optional<double> a, std::optional<double> b) {
  if (!a || !b) return std::nullopt;
  return *a - *b;
}

const std::vector<std::string> kUniform1to7 = {"u1", "u2", "u3", "u4", "u5", "u6", "u7"};
const std::vector<std::string> kLinear = {"diag", "full"};
const std::vector<std::string> kModels = {"gdpp", "diag", "full"};

void put(Outcome& o, const std::string& name, std::optional<double> v) {
  if (v) o.metric(name, *v);
}

// Share of the squared Frobenius norm on the diagonal, minimum over the (D, D) blocks of v.
double min_diagonal_energy(const std::vector<double>& v, int D) {
  const auto block = static_cast<std::size_t>(D) * static_cast<std::size_t>(D);
  double worst = kInf;
  for (std::size_t off = 0; off + block <= v.size(); off += block) {
    double diag = 0, all = 0;
    for (int c = 0; c < D; ++c)
      for (int r = 0; r < D; ++r) {
        const double x = v[off + static_cast<std::size_t>(c * D + r)];
        all += x * x;
        if (r == c) diag += x * x;
      }
    worst = std::min(worst, all > 0 ? diag / all : 0.0);
  }
  return worst;
}

// #15: |DIAG - FULL| for L >= 2, sigma_max >= 1
void diag_matches_full(const Table1& t, Outcome& o) {
  Fold f;
  for (int L = 2; L <= 7; ++L)
    for (const auto& c : kUniform1to7) {
      const auto g = minus(t.adj("diag", L, c), t.adj("full", L, c));
      f.add(g ? std::optional<double>(std::abs(*g)) : std::nullopt);
    }
  put(o, "diag_full_max_gap", f.get());
}

// #16: |GD++ - CONSTRR| for L >= 3, sigma_max >= 3 and the categorical columns
void gdpp_matches_constrr(const Table1& t, Outcome& o) {
  Fold f;
  for (int L = 3; L <= 7; ++L)
    for (const auto& c : {"u3", "u4", "u5", "u6", "u7", "c13", "c135"}) {
      const auto g = minus(t.adj("gdpp", L, c), t.base(c, "constrr"));
      f.add(g ? std::optional<double>(std::abs(*g)) : std::nullopt);
    }
  put(o, "gdpp_constrr_max_gap", f.get());
}

// #17: GD++ stops improving after L = 3 when sigma_max >= 3
void gdpp_plateaus(const Table1& t, Outcome& o) {
  Fold f;
  for (const auto& c : {"u3", "u4", "u5", "u6", "u7"})
    for (int L = 4; L <= 7; ++L) {
      const auto g = minus(t.adj("gdpp", L, c), t.adj("gdpp", 3, c));
      f.add(g ? std::optional<double>(std::abs(*g)) : std::nullopt);
    }
  put(o, "gdpp_plateau_max_change", f.get());
}

// #18 and #27a: FULL and DIAG improve with depth, every column
void depth_helps(const Table1& t, Outcome& o) {
  Fold f;
  for (const auto& m : kLinear)
    for (const auto& c : noise_names())
      for (int L = 1; L <= 6; ++L) f.add(minus(t.adj(m, L + 1, c), t.adj(m, L, c)));
  put(o, "depth_max_rise", f.get());
}

// #19: four layers beat ADARR for sigma_max >= 4
void four_layers_beat_adarr(const Table1& t, Outcome& o) {
  Fold strict, at4;
  for (const auto& m : kLinear) {
    for (const auto& c : {"u5", "u6", "u7"}) strict.add(minus(t.adj(m, 4, c), t.base(c, "adarr")));
    at4.add(minus(t.adj(m, 4, "u4"), t.base("u4", "adarr")));
  }
  put(o, "lt4_minus_adarr_max_u567", strict.get());
  put(o, "lt4_minus_adarr_max_u4", at4.get());
}

// #20: five or more layers match TUNEDRR; seven layers beat it at sigma_max = 7
void five_layers_match_tunedrr(const Table1& t, Outcome& o) {
  Fold f, at7;
  for (const auto& m : kLinear) {
    for (const auto& c : kUniform1to7)
      for (int L = 5; L <= 7; ++L) f.add(minus(t.adj(m, L, c), t.base(c, "tunedrr")));
    at7.add(minus(t.adj(m, 7, "u7"), t.base("u7", "tunedrr")));
  }
  put(o, "lt5plus_minus_tunedrr_max", f.get());
  put(o, "lt7_minus_tunedrr_u7", at7.get());
}

// #21: the best LT is at least as good as every baseline for sigma_max >= 4
void best_lt_beats_baselines(const Table1& t, Outcome& o) {
  Fold worst;
  for (const auto& c : {"u4", "u5", "u6", "u7"}) {
    Fold best(false);
    for (const auto& m : kModels)
      for (int L = 1; L <= 7; ++L) best.add(t.adj(m, L, c));
    const auto a = t.base(c, "adarr"), tu = t.base(c, "tunedrr");
    worst.add(minus(best.get(), a && tu ? std::optional<double>(std::min(*a, *tu)) : std::nullopt));
  }
  put(o, "best_lt_minus_best_baseline_max", worst.get());
}

// #22: noise-free, second-order-like convergence
void noise_free_second_order(const Table1& t, Outcome& o) {
  for (int L = 3; L <= 6; ++L) {
    Fold f;
    for (const auto& m : kModels) f.add(t.adj(m, L, "u0"));
    put(o, "u0_L" + std::to_string(L) + "_max", f.get());
  }
  Fold drop(false);
  for (const auto& m : kModels)
    for (int L = 3; L <= 5; ++L) {
      const auto a = t.adj(m, L, "u0"), b = t.adj(m, L + 1, "u0");
      drop.add(a && b ? std::optional<double>(std::log10(std::max(*a, 1e-300)) -
                                              std::log10(std::max(*b, 1e-300)))
                      : std::nullopt);
    }
  put(o, "u0_min_log10_drop", drop.get());
}

// #23: on {1, 3} FULL beats DIAG in distribution, L = 3..7
void full_beats_diag_on_c13(const Table1& t, Outcome& o) {
  std::optional<double> count = 0.0;
  for (int L = 3; L <= 7 && count; ++L) {
    const auto g = minus(t.adj("full", L, "c13"), t.adj("diag", L, "c13"));
    if (!g)
      count.reset();
    else if (*g <= -0.004)
      *count += 1;
  }
  put(o, "c13_full_beats_diag_depths", count);
}

// #24: on {1, 3} DIAG extrapolates better than FULL (7 layers, sigma outside S)
void diag_extrapolates_on_c13(const Table1& t, Outcome& o) {
  std::optional<double> sum = 0.0;
  for (double s : {0.0, 2.0, 4.0, 5.0, 6.0}) {
    const auto g = minus(t.profile("diag", 7, "c13", s), t.profile("full", 7, "c13", s));
    if (!g || !sum)
      sum.reset();
    else
      *sum += *g / 5;
  }
  put(o, "c13_extrapolation_diag_minus_full", sum);
}

// #25: 7-layer LTs beat TUNEDRR on categorical noise
void seven_layers_on_categorical(const Table1& t, Outcome& o) {
  put(o, "full7_c13", t.adj("full", 7, "c13"));
  put(o, "full7_c135", t.adj("full", 7, "c135"));
  Fold f;
  for (const auto& c : {"c13", "c135"}) f.add(minus(t.adj("diag", 7, c), t.base(c, "tunedrr")));
  put(o, "diag7_minus_tunedrr_categorical_max", f.get());
}

// #26: 2-layer LTs model a single noise level (U-shaped per-variance profile at sigma_max 5)
void two_layers_fit_one_noise_level(const Table1& t, Outcome& o) {
  // L3 - L2 per sigma with a 95% interval (independent evaluations of two cells on the same
  // sequences; se combined as independent, which is conservative): one rare blow-up widens the
  // interval instead of deciding the statement.
  Fold arg_lo(false), arg_hi, edge(false), l3, l3_lo, l3_hi;
  for (const auto& m : kLinear) {
    std::vector<double> prof2;
    bool have = !t.profile_sigmas.empty();
    for (double s : t.profile_sigmas) {
      const auto v = t.profile(m, 2, "u5", s);
      if (!v)
        have = false;
      else
        prof2.push_back(*v);
    }
    if (!have) {
      arg_lo.add(std::nullopt);
      continue;
    }
    const auto k =
        static_cast<std::size_t>(std::min_element(prof2.begin(), prof2.end()) - prof2.begin());
    arg_lo.add(t.profile_sigmas[k]);
    arg_hi.add(t.profile_sigmas[k]);
    const auto at0 = t.profile(m, 2, "u5", 0.0), at6 = t.profile(m, 2, "u5", 6.0);
    edge.add(at0 && at6 ? std::optional<double>(std::min(*at0, *at6) / prof2[k]) : std::nullopt);
    for (double s : t.profile_sigmas) {
      if (s > 5) continue;
      const auto diff = minus(t.profile(m, 3, "u5", s), t.profile(m, 2, "u5", s));
      const auto se3 = t.profile(m, 3, "u5", s, "profile_se"),
                 se2 = t.profile(m, 2, "u5", s, "profile_se");
      l3.add(diff);
      const auto half =
          diff && se3 && se2 ? std::optional<double>(1.96 * std::hypot(*se3, *se2)) : std::nullopt;
      l3_lo.add(half ? std::optional<double>(*diff - *half) : std::nullopt);
      l3_hi.add(half ? std::optional<double>(*diff + *half) : std::nullopt);
    }
  }
  put(o, "l2_profile_argmin_sigma_min", arg_lo.get());
  put(o, "l2_profile_argmin_sigma_max", arg_lo.get() ? arg_hi.get() : std::nullopt);
  put(o, "l2_profile_edge_ratio_min", arg_lo.get() ? edge.get() : std::nullopt);
  if (arg_lo.get() && l3.get()) {
    if (l3_lo.get() && l3_hi.get())
      o.bounded("l3_minus_l2_profile_max", *l3.get(), *l3_lo.get(), *l3_hi.get());
    else
      o.metric("l3_minus_l2_profile_max", *l3.get());
  }
}

// #27b: the final readout is the best of a model's intermediate readouts (sigma_max 5)
void final_readout_is_best(const Table1& t, Outcome& o) {
  Fold f;
  for (const auto& m : kModels)
    for (int L = 1; L <= 7; ++L) {
      const auto* x = t.cell(m, L, "u5");
      if (!x) {
        f.add(std::nullopt);
        continue;
      }
      const auto per = x->at("per_layer").get<std::vector<double>>();
      f.add(per.back() - *std::min_element(per.begin(), per.end()));
    }
  put(o, "final_minus_best_readout_max", f.get());
}

// #28: learned mechanisms of trained DIAG (sigma_max 5)
void diag_mechanisms(const Table1& t, Outcome& o) {
  Fold mech, last, ablation(false);
  for (int L = 2; L <= 7; ++L) {
    const auto* x = t.cell("diag", L, "u5");
    if (!x) {
      mech.add(std::nullopt);
      continue;
    }
    const auto& om = x->at("omegas");
    double best = kInf;
    for (std::size_t l = 0; l + 1 < om.size(); ++l)
      best = std::min(best, std::max(om[l].at("yy").get<double>(), om[l].at("xy").get<double>()));
    mech.add(best);
    last.add(om.back().at("yx").get<double>());
    if (L >= 3) ablation.add(x->at("ablation_increase").get<double>());
  }
  put(o, "diag_nonfinal_max_wyy_wxy", mech.get());
  put(o, "diag_last_wyx_max", mech.get() ? last.get() : std::nullopt);
  put(o, "diag_ablation_increase_min", mech.get() ? ablation.get() : std::nullopt);
}

// #29: FULL weights are diagonal-heavy (4 layers, {1, 3})
void full_weights_diagonal_heavy(const Table1& t, Outcome& o) {
  const auto* x = t.cell("full", 4, "c13");
  if (x && x->contains("P"))
    o.metric("full4_c13_min_diagonal_energy",
             std::min(min_diagonal_energy(x->at("P").get<std::vector<double>>(), x->at("dim")),
                      min_diagonal_energy(x->at("Q").get<std::vector<double>>(), x->at("dim"))));
}

}  // namespace

void table1_statements(const Table1& t, Outcome& o) {
  diag_matches_full(t, o);
  gdpp_matches_constrr(t, o);
  gdpp_plateaus(t, o);
  depth_helps(t, o);
  four_layers_beat_adarr(t, o);
  five_layers_match_tunedrr(t, o);
  best_lt_beats_baselines(t, o);
  noise_free_second_order(t, o);
  full_beats_diag_on_c13(t, o);
  diag_extrapolates_on_c13(t, o);
  seven_layers_on_categorical(t, o);
  two_layers_fit_one_noise_level(t, o);
  final_readout_is_best(t, o);
  diag_mechanisms(t, o);
  full_weights_diagonal_heavy(t, o);
}

}  // namespace attnlab::icl

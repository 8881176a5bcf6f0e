// `attnlab synth var|ssm|regression`: the three generators of synth/ as a command.
// Options are read as text and converted here so every bad value is an InputError naming the
// option and its allowed range (CLI11's own validators would raise ParseErrors instead).
#include "experiments/cli/cmd_synth.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/io.h"
#include "synth/regression.h"
#include "synth/ssm.h"
#include "synth/var.h"

namespace attnlab {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- option text -> typed value ---------------------------------------------------------------

struct Options {
  std::string command;                      // "synth var"
  std::map<std::string, std::string> text;  // option name -> raw text
  std::map<std::string, CLI::Option*> opt;
  bool given(const std::string& name) const { return opt.at(name)->count() > 0; }
};

[[noreturn]] void bad(const Options& o, const std::string& name, const std::string& range) {
  throw InputError(o.command + ": " + name + " must be " + range + ", got '" + o.text.at(name) +
                   "'");
}

std::int64_t get_int(const Options& o, const std::string& name, std::int64_t lo, std::int64_t hi) {
  const std::string& s = o.text.at(name);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  const std::string range =
      "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) bad(o, name, range);
  return v;
}

std::uint64_t get_seed(const Options& o) {
  const std::string& s = o.text.at("--seed");
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty())
    bad(o, "--seed", "an integer in [0, 18446744073709551615]");
  return v;
}

double to_real(const std::string& s, bool& ok) {
  std::istringstream in(s);
  double v = 0;
  in >> v;
  ok = !in.fail() && in.eof() && std::isfinite(v);
  return v;
}

// Real in [lo, hi] (hi_open: [lo, hi)).
double get_real(const Options& o, const std::string& name, double lo, double hi,
                bool hi_open = false, bool lo_open = false) {
  bool ok = false;
  const double v = to_real(o.text.at(name), ok);
  std::ostringstream range;
  range << "a number in " << (lo_open ? "(" : "[") << lo << ", " << hi << (hi_open ? ")" : "]");
  if (!ok || v < lo || v > hi || (hi_open && v == hi) || (lo_open && v == lo))
    bad(o, name, range.str());
  return v;
}

std::string get_choice(const Options& o, const std::string& name,
                       const std::vector<std::string>& choices) {
  const std::string& s = o.text.at(name);
  for (const auto& c : choices)
    if (s == c) return s;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : "|") + c;
  bad(o, name, "one of " + list);
}

void add(CLI::App* cmd, Options& o, const std::string& name, const std::string& fallback,
         const std::string& help) {
  o.text[name] = fallback;
  o.opt[name] = cmd->add_option(name, o.text[name], help + " (default " + fallback + ")");
}

// ---- output -------------------------------------------------------------------------------------

void append_number(std::string& s, double v) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  s.append(buf, static_cast<std::size_t>(n));
}

json matrix_json(const Eigen::MatrixXd& M) {
  json rows = json::array();
  for (Eigen::Index r = 0; r < M.rows(); ++r) {
    json row = json::array();
    for (Eigen::Index c = 0; c < M.cols(); ++c) row.push_back(M(r, c));
    rows.push_back(row);
  }
  return rows;
}

json vector_json(const Eigen::VectorXd& v) {
  json a = json::array();
  for (Eigen::Index i = 0; i < v.size(); ++i) a.push_back(v(i));
  return a;
}

// The CSV path from --out and its JSON sidecar; nothing is written here.
std::pair<fs::path, fs::path> out_paths(const Options& o) {
  const std::string& s = o.text.at("--out");
  const fs::path csv(s);
  if (s.empty() || csv.extension() != ".csv") bad(o, "--out", "a path ending in .csv");
  fs::path sidecar = csv;
  sidecar.replace_extension(".json");
  return {csv, sidecar};
}

void write_outputs(const Options& o, const std::string& csv_text, json truth) {
  const auto [csv, sidecar] = out_paths(o);
  truth["csv"] = csv.filename().string();
  try {
    write_file_atomic(csv, csv_text);
    write_json_atomic(sidecar, truth);
  } catch (const InputError& e) {
    throw InputError(o.command + ": --out must be a writable path: " + e.what());
  }
}

void reject_extras(const Options& o, const CLI::App* cmd) {
  const auto extra = cmd->remaining();
  if (extra.empty()) return;
  std::string allowed;
  for (const auto& [name, _] : o.opt) allowed += (allowed.empty() ? "" : " ") + name;
  throw InputError(o.command + ": unknown option or argument '" + extra.front() +
                   "' (allowed: " + allowed + ")");
}

// ---- synth var ----------------------------------------------------------------------------------

void run_var(const Options& o) {
  out_paths(o);  // validate --out before generating
  const std::uint64_t seed = get_seed(o);
  const auto series = static_cast<std::size_t>(get_int(o, "--series", 1, 1000000));
  const bool preset = o.given("--preset");
  json truth = {{"generator", "var"}, {"seed", seed}, {"series", series}};
  std::vector<Eigen::MatrixXd> data;
  json processes = json::array();
  if (preset) {
    const std::string name = get_choice(o, "--preset", {"samovar-train", "samovar-val"});
    for (const char* fixed : {"--dim", "--order", "--length", "--burn-in", "--coef-scale",
                              "--radius-bound", "--noise-std", "--stability"})
      if (o.given(fixed))
        throw InputError(o.command + ": " + fixed + " cannot be combined with --preset (the " +
                         "preset fixes it; see docs/generators.md)");
    const auto split = name == "samovar-train" ? SamovarSplit::Train : SamovarSplit::Validation;
    const auto samples = samovar_dataset(split, seed, 0, series);
    int explosive = 0, clipped = 0;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const auto& s = samples[i];
      json A = json::array();
      for (const auto& Aj : s.process.A) A.push_back(matrix_json(Aj));
      processes.push_back({{"series", i},
                           {"order", s.process.order()},
                           {"A", A},
                           {"noise_cov", matrix_json(s.process.noise_cov)},
                           {"spectral_radius", s.radius},
                           {"explosive", s.explosive},
                           {"clipped", s.clipped}});
      explosive += s.explosive;
      clipped += s.clipped;
      data.push_back(s.series);
    }
    truth["preset"] = name;
    truth["dim"] = kSamovarDim;
    truth["length"] = kSamovarLength;
    truth["explosive_count"] = explosive;
    truth["clipped_count"] = clipped;
  } else {
    VarSpec spec;
    spec.dim = static_cast<int>(get_int(o, "--dim", 1, 100));
    spec.order = static_cast<int>(get_int(o, "--order", 1, 50));
    spec.burn_in = static_cast<int>(get_int(o, "--burn-in", 0, 1000000));
    spec.coef_scale = get_real(o, "--coef-scale", 0.0, 100.0);
    spec.radius_bound = get_real(o, "--radius-bound", 0.0, 1.0, true, true);
    spec.noise_std = get_real(o, "--noise-std", 0.0, 1e6);
    spec.stability = get_choice(o, "--stability", {"rescale", "reject"}) == "reject"
                         ? VarStability::Reject
                         : VarStability::Rescale;
    const int length = static_cast<int>(get_int(o, "--length", 1, 100000000));
    if (static_cast<double>(length) * static_cast<double>(series) * spec.dim > 1e9)
      throw InputError(o.command + ": --length x --series x --dim must be <= 1e9 values");
    for (std::size_t i = 0; i < series; ++i) {
      VarSample s = var_sample(spec, length, seed, i);
      json A = json::array();
      for (const auto& Aj : s.process.A) A.push_back(matrix_json(Aj));
      processes.push_back({{"series", i},
                           {"order", spec.order},
                           {"A", A},
                           {"noise_cov", matrix_json(s.process.noise_cov)},
                           {"spectral_radius", s.radius},
                           {"rescaled", s.process.rescaled},
                           {"rejections", s.process.rejections}});
      data.push_back(std::move(s.series));
    }
    truth["dim"] = spec.dim;
    truth["order"] = spec.order;
    truth["length"] = length;
    truth["burn_in"] = spec.burn_in;
    truth["coef_scale"] = spec.coef_scale;
    truth["radius_bound"] = spec.radius_bound;
    truth["noise_std"] = spec.noise_std;
    truth["stability"] = o.text.at("--stability");
  }
  truth["processes"] = processes;
  const Eigen::Index k = data.front().cols();
  std::string csv = "series,t";
  for (Eigen::Index j = 0; j < k; ++j) csv += ",x" + std::to_string(j + 1);
  csv += '\n';
  for (std::size_t i = 0; i < data.size(); ++i)
    for (Eigen::Index t = 0; t < data[i].rows(); ++t) {
      csv += std::to_string(i) + ',' + std::to_string(t);
      for (Eigen::Index j = 0; j < k; ++j) {
        csv += ',';
        append_number(csv, data[i](t, j));
      }
      csv += '\n';
    }
  write_outputs(o, csv, truth);
}

// ---- synth ssm ----------------------------------------------------------------------------------

void run_ssm(const Options& o, bool ood) {
  out_paths(o);
  SsmSpec spec;
  spec.variant = parse_ssm_variant(get_choice(o, "--variant", {"A", "B"}));
  spec.d = static_cast<int>(get_int(o, "--dim", 2, 10000));
  spec.gamma = get_real(o, "--gamma", 0.0, 1.0, true);
  spec.sigma = get_real(o, "--sigma", 0.0, 1e6);
  const auto n = static_cast<std::size_t>(get_int(o, "--n", 1, 10000000));
  const std::uint64_t seed = get_seed(o);
  if (spec.variant == SsmVariant::A && o.given("--gamma"))
    throw InputError(o.command + ": --gamma applies to variant B only (variant A fixes (d-1)/d)");
  const Eigen::VectorXd c = ssm_c(spec);
  const SsmBatch b = ssm_batch(spec, ood, seed, 0, n);
  std::string csv = "i";
  for (int k = 0; k < spec.d; ++k) csv += ",x" + std::to_string(k + 1);
  csv += ",y\n";
  for (Eigen::Index i = 0; i < b.X.rows(); ++i) {
    csv += std::to_string(i);
    for (Eigen::Index k = 0; k < b.X.cols(); ++k) {
      csv += ',';
      append_number(csv, b.X(i, k));
    }
    csv += ',';
    append_number(csv, b.y(i));
    csv += '\n';
  }
  json truth = {{"generator", "ssm"},
                {"seed", seed},
                {"variant", to_string(spec.variant)},
                {"ood", ood},
                {"d", spec.d},
                {"n", n},
                {"gamma", ssm_id_cross_moment(c)},
                {"sigma", spec.sigma},
                {"c", vector_json(c)},
                {"rho", ssm_rho(c)},
                {"ood_acceptance_probability", ssm_ood_acceptance(c)},
                {"ood_expected_y2", ssm_ood_expected_y2(c, spec.sigma)},
                {"linear_solution_risk", ssm_linear_solution_risk(c, spec.sigma)},
                {"proposals", b.tries.cast<double>().sum()}};
  write_outputs(o, csv, truth);
}

// ---- synth regression ---------------------------------------------------------------------------

std::vector<double> parse_sigma_set(const Options& o) {
  std::vector<double> out;
  std::stringstream ss(o.text.at("--sigma-set"));
  std::string item;
  while (std::getline(ss, item, ',')) {
    bool ok = false;
    const double v = to_real(item, ok);
    if (!ok || v < 0) bad(o, "--sigma-set", "a comma-separated list of numbers >= 0, e.g. 1,3");
    out.push_back(v);
  }
  if (out.empty()) bad(o, "--sigma-set", "a comma-separated list of numbers >= 0, e.g. 1,3");
  return out;
}

void run_regression(const Options& o) {
  out_paths(o);
  RegressionSpec spec;
  spec.d = static_cast<int>(get_int(o, "--dim", 1, 10000));
  spec.n = static_cast<int>(get_int(o, "--n", 0, 100000));
  const auto tasks = get_int(o, "--tasks", 1, 10000000);
  const std::uint64_t seed = get_seed(o);
  if (o.given("--sigma-set")) {
    if (o.given("--sigma-max"))
      throw InputError(o.command + ": give either --sigma-max or --sigma-set, not both");
    spec.law = NoiseLaw::Categorical;
    spec.sigma_set = parse_sigma_set(o);
  } else {
    spec.sigma_max = get_real(o, "--sigma-max", 0.0, 1e6);
  }
  if (static_cast<double>(tasks) * (spec.n + 1) * (spec.d + 1) > 1e9)
    throw InputError(o.command + ": --tasks x (--n + 1) x (--dim + 1) must be <= 1e9 values");
  const Eigen::Index L = spec.n + 1;
  Eigen::MatrixXd tokens(spec.d + 1, tasks * L), w;
  Eigen::VectorXd target(tasks), sigma;
  regression_batch(spec, seed, 0, {tokens, target, &w, &sigma});
  std::string csv = "task,i,is_query";
  for (int k = 0; k < spec.d; ++k) csv += ",x" + std::to_string(k + 1);
  csv += ",y\n";
  json task_truth = json::array();
  for (Eigen::Index j = 0; j < tasks; ++j) {
    for (Eigen::Index i = 0; i < L; ++i) {
      const bool query = i == spec.n;
      csv += std::to_string(j) + ',' + std::to_string(i) + (query ? ",1" : ",0");
      for (int k = 0; k < spec.d; ++k) {
        csv += ',';
        append_number(csv, tokens(k, j * L + i));
      }
      csv += ',';
      append_number(csv, query ? target(j) : tokens(spec.d, j * L + i));  // query: noise-free
      csv += '\n';
    }
    task_truth.push_back({{"task", j}, {"sigma", sigma(j)}, {"w", vector_json(w.col(j))}});
  }
  json truth = {{"generator", "regression"},
                {"seed", seed},
                {"d", spec.d},
                {"n", spec.n},
                {"tasks", tasks},
                {"noise_law", spec.law == NoiseLaw::Uniform ? "uniform" : "categorical"},
                {"mean_sigma2", regression_mean_sigma2(spec)},
                {"query_target", "noise-free <w, x_query> in the y column of the is_query row"},
                {"task_truth", task_truth}};
  if (spec.law == NoiseLaw::Uniform)
    truth["sigma_max"] = spec.sigma_max;
  else
    truth["sigma_set"] = spec.sigma_set;
  write_outputs(o, csv, truth);
}

// Adds the options every generator shares and the callback that checks leftovers first.
CLI::App* make_generator(CLI::App* synth, const std::string& name, const std::string& help,
                         std::shared_ptr<Options> o) {
  CLI::App* cmd = synth->add_subcommand(name, help);
  cmd->allow_extras();
  o->command = "synth " + name;
  add(cmd, *o, "--seed", "0", "base seed of the generator's random streams");
  add(cmd, *o, "--out", "", "output CSV path; the ground truth goes to the same path with .json");
  return cmd;
}

}  // namespace

void add_synth_command(CLI::App& app) {
  CLI::App* synth =
      app.add_subcommand("synth", "write synthetic data (CSV) and its ground truth (JSON)");
  synth->require_subcommand(1);

  auto var = std::make_shared<Options>();
  CLI::App* v = make_generator(synth, "var",
                               "VAR(p) series, stable by construction, or a SAMoVAR preset", var);
  add(v, *var, "--dim", "2", "dimension k, [1, 100]");
  add(v, *var, "--order", "1", "order p, [1, 50]");
  add(v, *var, "--length", "1000", "recorded steps per series, [1, 1e8]");
  add(v, *var, "--burn-in", "200", "discarded steps before the first recorded one, [0, 1e6]");
  add(v, *var, "--coef-scale", "0.5", "entries of A_j ~ U(-s, s), [0, 100]");
  add(v, *var, "--radius-bound", "0.95", "companion spectral radius bound, (0, 1)");
  add(v, *var, "--noise-std", "1", "innovation std, [0, 1e6]");
  add(v, *var, "--stability", "rescale", "rescale|reject: how the radius bound is enforced");
  add(v, *var, "--series", "1", "independent series (each with its own coefficients), [1, 1e6]");
  add(v, *var, "--preset", "", "samovar-train|samovar-val: the SAMoVAR notebook protocol");
  v->callback([var, v] {
    reject_extras(*var, v);
    run_var(*var);
  });

  auto ssm = std::make_shared<Options>();
  auto ood = std::make_shared<bool>(false);
  CLI::App* s = make_generator(synth, "ssm",
                               "Curse-of-Attention SSM windows (ID or sign-inconsistent OOD)", ssm);
  add(s, *ssm, "--variant", "B", "A (Property 3 literal) or B (Properties 1+2 exact)");
  add(s, *ssm, "--gamma", "0.5", "<P_d, P_{d+1}> for variant B, [0, 1)");
  add(s, *ssm, "--dim", "8", "window length d = state dimension N, [2, 10000]");
  add(s, *ssm, "--n", "1000", "rows, [1, 1e7]");
  add(s, *ssm, "--sigma", "0.01", "noise standard deviation, [0, 1e6]");
  ssm->opt["--ood"] = s->add_flag("--ood", *ood, "OOD set: resample until u_d u_{d+1} < 0");
  s->callback([ssm, ood, s] {
    reject_extras(*ssm, s);
    run_ssm(*ssm, *ood);
  });

  auto reg = std::make_shared<Options>();
  CLI::App* r =
      make_generator(synth, "regression", "noisy in-context linear regression tasks", reg);
  add(r, *reg, "--dim", "10", "feature dimension d, [1, 10000]");
  add(r, *reg, "--n", "20", "context examples per task, [0, 1e5]");
  add(r, *reg, "--tasks", "100", "tasks (sequences), [1, 1e7]");
  add(r, *reg, "--sigma-max", "0", "noise std ~ U(0, sigma_max), [0, 1e6]");
  add(r, *reg, "--sigma-set", "", "noise std uniform over a set, e.g. 1,3");
  r->callback([reg, r] {
    reject_extras(*reg, r);
    run_regression(*reg);
  });
}

void run_synth_command_line(const std::string& command_line) {
  CLI::App app{"attnlab"};
  app.require_subcommand(1);
  add_synth_command(app);
  app.parse(command_line, false);
}

}  // namespace attnlab

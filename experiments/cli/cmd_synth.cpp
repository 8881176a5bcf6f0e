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
#include <new>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/io.h"
#include "core/memory.h"
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
  try {  // the ground truth names the CSV, and JSON text is UTF-8
    (void)json(csv.filename().string()).dump();
  } catch (const json::type_error&) {
    bad(o, "--out", "a path whose file name is UTF-8 text");
  }
  fs::path sidecar = csv;
  sidecar.replace_extension(".json");
  return {csv, sidecar};
}

// Checks, before any generation work, that both outputs can be written.
void check_out_paths(const Options& o) {
  const auto [csv, sidecar] = out_paths(o);
  try {
    check_writable_file(csv);
    check_writable_file(sidecar);
  } catch (const InputError& e) {
    throw InputError(o.command + ": --out must be a writable path: " + e.what());
  }
}

// Refuses a request whose estimated peak memory exceeds memory_budget_bytes(), naming the
// options that drive it (`sizes`, e.g. "--length 100 x --dim 2") and those to lower.
void check_memory(const Options& o, double bytes, const std::string& sizes,
                  const std::string& lower) {
  const auto budget = static_cast<double>(memory_budget_bytes());
  if (bytes > budget)
    throw InputError(o.command + ": " + sizes + " needs ~" + format_gb(bytes) +
                     " of memory, this machine allows " + format_gb(budget) +
                     " (half of its RAM): lower " + lower);
}

std::string opt_text(const Options& o, const std::string& name) {
  return name + " " + o.text.at(name);
}

// Writes the CSV and its JSON ground truth as a unit (core/io.h write_file_pair_atomic), after
// removing temp files that killed runs left beside them.
void write_outputs(const Options& o, const std::string& csv_text, json truth) {
  const auto [csv, sidecar] = out_paths(o);
  truth["csv"] = csv.filename().string();
  std::string truth_text = truth.dump(2) + "\n";
  truth = json();  // free the tree before writing
  try {
    remove_stale_temps(csv.parent_path());
    write_file_pair_atomic(csv, csv_text, sidecar, truth_text);
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

// ---- memory estimates ---------------------------------------------------------------------------
// Upper bounds on peak bytes, checked against peak RSS (GNU time) of runs with 1e6 to 1e7 values:
// estimates were 1.1 to 1.5 times the measured peaks.

// One CSV cell: ',' plus at most 24 characters of %.17g ("-1.2345678901234567e-308").
constexpr double kCsvBytesPerValue = 25;
// One CSV row's index columns and newline ("999999,99999999" at most).
constexpr double kCsvBytesPerRow = 20;
// One number of the JSON ground truth: tree node, array overhead and dumped text (measured ~190
// for 4x4 coefficient matrices).
constexpr double kJsonBytesPerNumber = 250;
// One SAMoVAR preset series: samples, data, CSV (65 rows of 2) and JSON (measured ~10.5 KB).
constexpr double kPresetBytesPerSeries = 12000;

// ---- work estimates -----------------------------------------------------------------------------
// Orders of magnitude of the operations a request costs (SynthJob::work), fixed costs included,
// so that a caller can keep to small requests without generating them.

// One number written to the CSV: a %.17g conversion and its append.
constexpr double kCsvWorkPerValue = 300;
// One simulated step or row beyond its arithmetic: vector allocations and loop set-up.
constexpr double kRowWork = 100;
// One VAR coefficient draw: its companion eigenvalue solve of size n (about 10 n^3 operations,
// Hessenberg + QR steps) and a fixed cost (allocations, set-up).
constexpr double kEigenWorkPerCube = 10;
constexpr double kDrawWork = 1000;
// One SAMoVAR preset series: 65 steps in 2 dimensions, an eigen-solve of size <= 8, 130 values.
constexpr double kPresetWorkPerSeries = 50000;

// ---- synth var ----------------------------------------------------------------------------------

// The CSV and its ground truth of VAR series `data` (each (length, k)) and their `truth`.
void write_var(const Options& o, std::vector<Eigen::MatrixXd> data, json truth, json processes) {
  truth["processes"] = std::move(processes);
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
  data.clear();
  write_outputs(o, csv, std::move(truth));
}

// `synth var --preset`: its checks, then its generation as the job's closure.
SynthJob plan_var_preset(const Options& o, std::uint64_t seed, std::size_t series) {
  const std::string name = get_choice(o, "--preset", {"samovar-train", "samovar-val"});
  for (const char* fixed : {"--dim", "--order", "--length", "--burn-in", "--coef-scale",
                            "--radius-bound", "--noise-std", "--stability"})
    if (o.given(fixed))
      throw InputError(o.command + ": " + fixed + " cannot be combined with --preset (the " +
                       "preset fixes it; see docs/generators.md)");
  check_memory(o, static_cast<double>(series) * kPresetBytesPerSeries,
               "--preset " + name + " with " + opt_text(o, "--series"), "--series");
  check_out_paths(o);
  auto generate = [o, name, seed, series] {
    json truth = {{"generator", "var"}, {"seed", seed}, {"series", series}};
    std::vector<Eigen::MatrixXd> data;
    json processes = json::array();
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
    write_var(o, std::move(data), std::move(truth), std::move(processes));
  };
  return {o.command, static_cast<double>(series) * kPresetWorkPerSeries, generate};
}

// `synth var`: every check before any work, then the generation as the job's closure.
SynthJob plan_var(const Options& o) {
  out_paths(o);  // validate --out before generating
  const std::uint64_t seed = get_seed(o);
  const auto series = static_cast<std::size_t>(get_int(o, "--series", 1, 1000000));
  if (o.given("--preset")) return plan_var_preset(o, seed, series);
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
  const double k = spec.dim, p = spec.order, S = static_cast<double>(series);
  {
    const double rows = S * length, kp = k * p;
    const double bytes = rows * k * 8 + rows * (kCsvBytesPerRow + k * kCsvBytesPerValue) +
                         16 * k * (p + spec.burn_in + length) +  // one series' history
                         48 * kp * kp +                          // companion eigen-solve
                         S * (p * k * k + k * k + 8) * kJsonBytesPerNumber;
    check_memory(o, bytes,
                 opt_text(o, "--length") + " x " + opt_text(o, "--dim") + " x " +
                     opt_text(o, "--series") + " (" + opt_text(o, "--order") + ", " +
                     opt_text(o, "--burn-in") + ")",
                 "--length, --dim or --series");
  }
  check_out_paths(o);
  const double draws = spec.stability == VarStability::Reject ? var_reject_max_draws(spec) : 1;
  const double work = S * (draws * (kEigenWorkPerCube * std::pow(k * p, 3) + kDrawWork) +
                           (spec.burn_in + static_cast<double>(length)) * (k * k * p + kRowWork) +
                           length * k * kCsvWorkPerValue);
  auto generate = [o, spec, length, seed, series] {
    json truth = {{"generator", "var"}, {"seed", seed}, {"series", series}};
    std::vector<Eigen::MatrixXd> data;
    json processes = json::array();
    for (std::size_t i = 0; i < series; ++i) {
      VarSample s;
      try {
        s = var_sample(spec, length, seed, i);
      } catch (const VarRejectError&) {
        throw InputError(o.command + ": --stability reject found no VAR(" +
                         std::to_string(spec.order) + ") with companion spectral radius <= " +
                         o.text.at("--radius-bound") + " at " + opt_text(o, "--coef-scale") +
                         " in " + std::to_string(var_reject_max_draws(spec)) + " tries (series " +
                         std::to_string(i) + "): lower --coef-scale or use --stability rescale");
      }
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
    write_var(o, std::move(data), std::move(truth), std::move(processes));
  };
  return {o.command, work, generate};
}

// ---- synth ssm ----------------------------------------------------------------------------------

// `synth ssm`: every check before any work, then the generation as the job's closure.
SynthJob plan_ssm(const Options& o, bool ood) {
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
  if (spec.variant == SsmVariant::B && spec.d < kSsmVariantBMinDim)
    throw InputError(o.command +
                     ": --variant B needs --dim >= " + std::to_string(kSsmVariantBMinDim) + " (" +
                     kSsmVariantBWhy + "), got " + opt_text(o, "--dim"));
  const Eigen::VectorXd c = ssm_c(spec);
  const double d = spec.d, rows = static_cast<double>(n);
  check_memory(o, rows * (8 * d + 8 * (d + 1) + 16 + kCsvBytesPerRow + (d + 1) * kCsvBytesPerValue),
               opt_text(o, "--n") + " x " + opt_text(o, "--dim"), "--n or --dim");
  if (ood && !(ssm_ood_expected_draws(spec, n) <= kSsmMaxOodDraws)) {
    std::ostringstream msg;
    msg << o.command << ": --ood with --variant " << to_string(spec.variant) << " --dim " << spec.d;
    if (spec.variant == SsmVariant::B) msg << " --gamma " << o.text.at("--gamma");
    msg << " accepts a proposal with probability " << ssm_ood_acceptance(c) << ", so --n " << n
        << " rows need ~" << ssm_ood_expected_draws(spec, n) << " normal draws (limit "
        << kSsmMaxOodDraws << "): lower --dim, --gamma or --n";
    throw InputError(msg.str());
  }
  check_out_paths(o);
  const double work = (ood ? ssm_ood_expected_draws(spec, n) : rows * d) +
                      rows * (kRowWork + (d + 1) * kCsvWorkPerValue);
  auto generate = [o, spec, ood, seed, n, c] {
    SsmBatch b;
    try {
      b = ssm_batch(spec, ood, seed, 0, n);
    } catch (const InputError& e) {
      throw InputError(o.command + ": " + e.what());
    }
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
    write_outputs(o, csv, std::move(truth));
  };
  return {o.command, work, generate};
}

// ---- synth regression ---------------------------------------------------------------------------

std::vector<double> parse_sigma_set(const Options& o) {
  std::vector<double> out;
  const std::string& text = o.text.at("--sigma-set");
  if (!text.empty() && text.back() == ',')  // getline would drop the empty last item
    bad(o, "--sigma-set", "a comma-separated list of numbers >= 0, e.g. 1,3");
  std::stringstream ss(text);
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

// `synth regression`: every check before any work, then the generation as the job's closure.
SynthJob plan_regression(const Options& o) {
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
  const double T = static_cast<double>(tasks), d = spec.d, rows = T * (spec.n + 1);
  check_memory(o,
               rows * (d + 1) * 8 + T * d * 8 +
                   rows * (kCsvBytesPerRow + 5 + (d + 1) * kCsvBytesPerValue) +
                   T * (d + 2) * kJsonBytesPerNumber,
               opt_text(o, "--tasks") + " x " + opt_text(o, "--n") + " x " + opt_text(o, "--dim"),
               "--tasks, --n or --dim");
  check_out_paths(o);
  auto generate = [o, spec, tasks, seed] {
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
    write_outputs(o, csv, std::move(truth));
  };
  return {o.command, rows * (kRowWork + (d + 1) * (2 + kCsvWorkPerValue)), generate};
}

// Backstop for a memory estimate that falls short: bad_alloc is a one-line error (exit 2), not
// an internal error.
template <typename Run>
void run_guarded(const Options& o, Run&& run) {
  try {
    run();
  } catch (const std::bad_alloc&) {
    throw InputError(o.command + ": out of memory; lower the sizes (--length, --series, --n, " +
                     "--tasks, --dim)");
  }
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
  add_synth_command(app, [](const SynthJob& job) { job.generate(); });
}

void add_synth_command(CLI::App& app, std::function<void(const SynthJob&)> run) {
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
  v->callback([var, v, run] {
    reject_extras(*var, v);
    run_guarded(*var, [&] { run(plan_var(*var)); });
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
  s->callback([ssm, ood, s, run] {
    reject_extras(*ssm, s);
    run_guarded(*ssm, [&] { run(plan_ssm(*ssm, *ood)); });
  });

  auto reg = std::make_shared<Options>();
  CLI::App* r =
      make_generator(synth, "regression", "noisy in-context linear regression tasks", reg);
  add(r, *reg, "--dim", "10", "feature dimension d, [1, 10000]");
  add(r, *reg, "--n", "20", "context examples per task, [0, 1e5]");
  add(r, *reg, "--tasks", "100", "tasks (sequences), [1, 1e7]");
  add(r, *reg, "--sigma-max", "0", "noise std ~ U(0, sigma_max), [0, 1e6]");
  add(r, *reg, "--sigma-set", "", "noise std uniform over a set, e.g. 1,3");
  r->callback([reg, r, run] {
    reject_extras(*reg, r);
    run_guarded(*reg, [&] { run(plan_regression(*reg)); });
  });
}

void run_synth_command_line(const std::string& command_line) {
  CLI::App app{"attnlab"};
  app.require_subcommand(1);
  add_synth_command(app);
  app.parse(command_line, false);
}

}  // namespace attnlab

// The `attnlab` Python module (pybind11): the same C++ as the `attnlab` executable, for
// researchers who work in numpy. Claims run to the same result (a dict of the result file's
// JSON); the VAR generator and the least-squares VAR fit return numpy arrays.
//   import attnlab
//   attnlab.run_claim("var.path_expansion", profile="smoke")["verdict"]      # 'holds'
//   s = attnlab.var_sample(dim=3, order=2, length=500, seed=11)              # = synth var
//   attnlab.fit_var(s["series"], order=2)["A"]
// Bad input raises attnlab.InputError (a ValueError) with the CLI's one-line message.
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "analysis/icl_ridge.h"
#include "analysis/var_fit.h"
#include "core/error.h"
#include "experiments/claim.h"
#include "experiments/runner.h"
#include "synth/regression.h"
#include "synth/ssm.h"
#include "synth/var.h"

namespace py = pybind11;

namespace {

using attnlab::InputError;

// A JSON value as the Python object json.loads makes of it.
py::object to_python(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

py::dict claim_summary(const attnlab::Claim& c) {
  py::dict d;
  d["id"] = c.id;
  d["paper"] = c.paper;
  d["statement"] = c.statement;
  d["basis"] = c.basis;
  d["experiment"] = c.experiment;
  d["expected"] = c.expected;
  std::vector<std::string> profiles;
  for (const auto& [p, values] : c.profiles) profiles.push_back(p);
  d["profiles"] = profiles;
  return d;
}

// attnlab run CLAIM --profile P --seed S --set ..., without writing files.
py::object run_claim(const std::string& id, const std::string& profile, std::uint64_t seed,
                     const std::vector<std::string>& overrides) {
  const auto claims = attnlab::load_all_claims();
  for (const auto& c : claims) {
    if (c.id != id) continue;
    attnlab::RunOptions opt;
    opt.profile = profile;
    opt.seed = seed;
    opt.overrides = overrides;
    opt.write = false;
    opt.progress = false;
    attnlab::ClaimResult r;
    {
      py::gil_scoped_release unlocked;  // the run never calls into Python
      r = attnlab::run_claim(c, opt);
    }
    return to_python(r.json);
  }
  throw InputError("no claim '" + id + "' (attnlab.claims() lists them)");
}

// attnlab synth var --dim --order --length --seed ... : series `index` of that command.
py::dict var_sample(int dim, int order, int length, std::uint64_t seed, std::uint64_t index,
                    double coef_scale, double radius_bound, double noise_std, int burn_in,
                    const std::string& stability) {
  attnlab::VarSpec spec;
  spec.dim = dim;
  spec.order = order;
  spec.coef_scale = coef_scale;
  spec.radius_bound = radius_bound;
  spec.noise_std = noise_std;
  spec.burn_in = burn_in;
  if (stability != "rescale" && stability != "reject")
    throw InputError("stability '" + stability + "' (allowed: rescale, reject)");
  spec.stability =
      stability == "reject" ? attnlab::VarStability::Reject : attnlab::VarStability::Rescale;
  attnlab::validate(spec);
  if (length < 1) throw InputError("length " + std::to_string(length) + " (allowed: >= 1)");
  attnlab::VarSample s;
  {
    py::gil_scoped_release unlocked;
    s = attnlab::var_sample(spec, length, seed, index);
  }
  py::dict d;
  d["series"] = s.series;
  d["A"] = s.process.A;
  d["noise_cov"] = s.process.noise_cov;
  d["spectral_radius"] = s.radius;
  d["rescaled"] = s.process.rescaled;
  d["rejections"] = s.process.rejections;
  return d;
}

// attnlab synth ssm --variant --dim --n --gamma --sigma [--ood] --seed.
py::dict ssm_sample(std::size_t n, std::uint64_t seed, const std::string& variant, int dim,
                    std::optional<double> gamma, double sigma, bool ood) {
  attnlab::SsmSpec spec;
  spec.variant = attnlab::parse_ssm_variant(variant);
  spec.d = dim;
  spec.sigma = sigma;
  if (gamma) {
    if (spec.variant == attnlab::SsmVariant::A)
      throw InputError("gamma applies to variant B only (variant A fixes (d-1)/d)");
    spec.gamma = *gamma;
  }
  attnlab::validate(spec);
  if (n < 1) throw InputError("n 0 (allowed: >= 1)");
  attnlab::SsmBatch b;
  {
    py::gil_scoped_release unlocked;
    b = attnlab::ssm_batch(spec, ood, seed, 0, n);
  }
  const Eigen::VectorXd c = attnlab::ssm_c(spec);
  py::dict d;
  d["X"] = b.X;
  d["y"] = b.y;
  d["U"] = b.U;
  d["c"] = c;
  d["rho"] = attnlab::ssm_rho(c);
  d["ood_acceptance_probability"] = attnlab::ssm_ood_acceptance(c);
  d["linear_solution_risk"] = attnlab::ssm_linear_solution_risk(c, spec.sigma);
  return d;
}

// attnlab synth regression --dim --n --tasks (--sigma-max | --sigma-set) --seed.
py::dict regression_sample(int tasks, std::uint64_t seed, int dim, int n,
                           std::optional<double> sigma_max,
                           std::optional<std::vector<double>> sigma_set) {
  attnlab::RegressionSpec spec;
  spec.d = dim;
  spec.n = n;
  if (sigma_max && sigma_set) throw InputError("give either sigma_max or sigma_set, not both");
  if (sigma_set) {
    spec.law = attnlab::NoiseLaw::Categorical;
    spec.sigma_set = *sigma_set;
  } else {
    spec.sigma_max = sigma_max.value_or(0.0);
  }
  attnlab::validate(spec);
  if (tasks < 1) throw InputError("tasks " + std::to_string(tasks) + " (allowed: >= 1)");
  const Eigen::Index L = spec.n + 1;
  Eigen::MatrixXd tokens(spec.d + 1, tasks * L), w;
  Eigen::VectorXd target(tasks), sigma;
  {
    py::gil_scoped_release unlocked;
    attnlab::regression_batch(spec, seed, 0, {tokens, target, &w, &sigma});
  }
  py::dict d;
  d["tokens"] = tokens;  // (d+1, tasks (n+1)): column j (n+1) + i is (x_i, y_i) of task j
  d["target"] = target;  // noise-free <w, x_query> of each task (its query label slot is 0)
  d["w"] = w;            // (d, tasks)
  d["sigma"] = sigma;    // (tasks)
  return d;
}

// The ridge baselines of icl.baselines_table1: <(X X^T + lambda I)^{-1} X y, x_query> for each
// lambda (the oracle: sigma^2; OLS: 0), through the eigen-decomposition the claims use.
std::vector<double> ridge_predict(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                  const Eigen::VectorXd& x_query,
                                  const std::vector<double>& lambdas) {
  if (X.cols() != y.size() || X.rows() != x_query.size() || X.rows() < 1 || X.cols() < 1)
    throw InputError(
        "ridge_predict: X must be (d, n) with d, n >= 1, y (n) and x_query (d); got X (" +
        std::to_string(X.rows()) + ", " + std::to_string(X.cols()) + "), y (" +
        std::to_string(y.size()) + "), x_query (" + std::to_string(x_query.size()) + ")");
  const attnlab::icl::RidgeContext ctx = attnlab::icl::ridge_context(X, y, x_query);
  std::vector<double> out;
  for (double lambda : lambdas) {
    if (!(lambda >= 0)) throw InputError("ridge_predict: lambda must be >= 0");
    out.push_back(ctx.predict(lambda));
  }
  return out;
}

py::dict fit_var(const Eigen::MatrixXd& series, int order, bool intercept) {
  const attnlab::VarFit f = attnlab::fit_var_ls(series, order, intercept);
  py::dict d;
  d["A"] = f.A;
  d["c"] = Eigen::VectorXd(f.c);
  d["noise_cov"] = f.noise_cov;
  d["residuals"] = f.residuals;
  d["aic"] = attnlab::var_aic(f);
  return d;
}

}  // namespace

PYBIND11_MODULE(attnlab, m) {
  m.doc() = "attnlab: re-run the claims of attention papers; generators and closed forms";
  py::register_exception<attnlab::InputError>(m, "InputError", PyExc_ValueError);
  py::register_exception<attnlab::NumericError>(m, "NumericError", PyExc_ArithmeticError);

  m.def(
      "claims",
      [] {
        py::list out;
        for (const auto& c : attnlab::load_all_claims()) out.append(claim_summary(c));
        return out;
      },
      "Every claim: id, paper, statement, basis, experiment, expected, profiles.");
  m.def("run_claim", &run_claim, py::arg("id"), py::kw_only(), py::arg("profile") = "default",
        py::arg("seed") = 0, py::arg("overrides") = std::vector<std::string>{},
        "Runs a claim as `attnlab run` does (overrides: ['key=value', ...]) and returns its "
        "result (verdict, metrics, checks, config, provenance) as a dict; writes no file.");
  m.def("var_sample", &var_sample, py::arg("dim"), py::arg("order"), py::arg("length"),
        py::arg("seed"), py::kw_only(), py::arg("index") = 0, py::arg("coef_scale") = 0.5,
        py::arg("radius_bound") = 0.95, py::arg("noise_std") = 1.0, py::arg("burn_in") = 200,
        py::arg("stability") = "rescale",
        "A stable VAR(p) series and its ground truth, the same bits as series `index` of "
        "`attnlab synth var` with the same options: dict with series (length, dim), A (list of "
        "order (dim, dim) arrays, A[j-1] multiplies x_{t-j}), noise_cov, spectral_radius, "
        "rescaled, rejections.");
  m.def("ssm_sample", &ssm_sample, py::arg("n"), py::arg("seed"), py::kw_only(),
        py::arg("variant") = "B", py::arg("dim") = 8, py::arg("gamma") = std::nullopt,
        py::arg("sigma") = 0.01, py::arg("ood") = false,
        "The Curse-of-Attention SSM task, the same bits as `attnlab synth ssm`: dict with X (n, "
        "dim), y (n), U (n, dim + 1) noise-free, c, rho, ood_acceptance_probability, "
        "linear_solution_risk. ood=True: the sign-inconsistent set.");
  m.def("regression_sample", &regression_sample, py::arg("tasks"), py::arg("seed"), py::kw_only(),
        py::arg("dim") = 10, py::arg("n") = 20, py::arg("sigma_max") = std::nullopt,
        py::arg("sigma_set") = std::nullopt,
        "Noisy in-context linear regression tasks, the same bits as `attnlab synth regression`: "
        "dict with tokens (dim + 1, tasks (n + 1)), target (noise-free query labels), w (dim, "
        "tasks), sigma (tasks).");
  m.def("ridge_predict", &ridge_predict, py::arg("X"), py::arg("y"), py::arg("x_query"),
        py::arg("lambdas"),
        "Ridge predictions <(X X^T + lambda I)^{-1} X y, x_query> for each lambda, X (d, n) the "
        "context inputs as columns (the oracle of icl.baselines_table1: lambda = sigma^2; OLS: "
        "lambda = 0).");
  m.def("fit_var", &fit_var, py::arg("series"), py::arg("order"), py::kw_only(),
        py::arg("intercept") = false,
        "Least-squares VAR(p) fit of series (T, k): dict with A (list of p (k, k) arrays), c, "
        "noise_cov, residuals, aic.");
}

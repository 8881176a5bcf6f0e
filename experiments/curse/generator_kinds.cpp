// Kind `synth_curse_generator` (claim curse.e1_generator, curse.md §5 E1): the SSM generator's
// explicit realisation, the feature properties of each variant, the OOD rejection rule and the
// closed-form acceptance probability, E[y^2 | OOD] and E[x_d y].
#include <algorithm>
#include <cmath>
#include <string>

#include "analysis/moments.h"
#include "experiments/curse/kinds.h"
#include "synth/ssm.h"

namespace attnlab::curse {
namespace {

// Max |u_SSM - u_closed| and max |P^T h - u_closed| over `draws` initial states.
double realisation_error(const Eigen::VectorXd& c, int draws, std::uint64_t seed) {
  const SsmRealisation ssm = ssm_realisation(c);
  const Eigen::MatrixXd P = ssm_features(ssm);  // (d, d+1)
  Rng rng = make_stream(seed, "e1.h");
  double err = 0;
  Eigen::VectorXd h(c.size());
  for (int r = 0; r < draws; ++r) {
    for (Eigen::Index k = 0; k < h.size(); ++k) h(k) = normal(rng);
    const Eigen::VectorXd closed = ssm_closed_form(c, h);
    err = std::max(err, (ssm_run(ssm, h) - closed).cwiseAbs().maxCoeff());
    err = std::max(err, (P.transpose() * h - closed).cwiseAbs().maxCoeff());
  }
  return err;
}

// Feature properties of curse.md §1.2 read off the realisation's P_1..P_{d+1}.
void property_metrics(const std::string& v, const SsmSpec& spec, const Eigen::VectorXd& c,
                      Outcome& out) {
  const Eigen::MatrixXd P = ssm_features(ssm_realisation(c));
  const Eigen::Index d = spec.d;
  const double dd = static_cast<double>(d);
  const Eigen::VectorXd Pd = P.col(d - 1), Plast = P.col(d);
  double unit = 0, orth = 0;
  for (Eigen::Index k = 0; k < d; ++k) unit = std::max(unit, std::abs(P.col(k).norm() - 1.0));
  if (spec.variant == SsmVariant::B) unit = std::max(unit, std::abs(Plast.norm() - 1.0));
  for (Eigen::Index k = 0; k + 1 < d; ++k) orth = std::max(orth, std::abs(P.col(k).dot(Pd)));
  const double gamma = spec.variant == SsmVariant::A ? (dd - 1.0) / dd : spec.gamma;
  out.metric(v + ".unit_norm_err", unit);
  out.metric(v + ".gamma_err", std::abs(Pd.dot(Plast) - gamma));
  out.metric(v + ".core_bg_orth_err", orth);
  out.metric(v + ".sum_to_one_err", std::abs(c.sum() - 1.0));
  out.metric(v + ".p_last_norm", Plast.norm());  // 1 in B; < 1 in A (Property 1 fails there)
  if (spec.variant == SsmVariant::A) {
    const Eigen::VectorXd p3 =
        (dd - 1.0) / dd * Pd + P.leftCols(d - 1).rowwise().sum() / (dd * (dd - 1.0));
    out.metric(v + ".property3_err", (Plast - p3).cwiseAbs().maxCoeff());
  }
}

void sampling_metrics(const std::string& v, const SsmSpec& spec, const Eigen::VectorXd& c,
                      std::size_t n_id, std::size_t n_ood, std::uint64_t seed, Outcome& out) {
  const Eigen::Index d = spec.d;
  // OOD: every accepted row must be sign-inconsistent on the noise-free u
  const SsmBatch ood = ssm_batch(spec, true, seed, 0, n_ood);
  const Eigen::VectorXd prod = ood.U.col(d - 1).cwiseProduct(ood.U.col(d));
  out.metric(v + ".ood_max_ud_ud1", prod.maxCoeff());
  const double proposals = ood.tries.cast<double>().sum();
  const double p = ssm_ood_acceptance(c), rate = static_cast<double>(n_ood) / proposals;
  out.metric(v + ".acceptance_rate", rate);
  out.metric(v + ".acceptance_closed_form", p);
  out.metric(v + ".acceptance_abs_z", std::abs(rate - p) / binomial_se(p, proposals));
  MomentSums y2(1), lin(1);
  for (Eigen::Index i = 0; i < ood.y.size(); ++i) {
    y2.add(Eigen::VectorXd::Constant(1, ood.y(i) * ood.y(i)));
    const double e = c.dot(ood.X.row(i).transpose()) - ood.y(i);  // exact residual-linear solution
    lin.add(Eigen::VectorXd::Constant(1, e * e));
  }
  const double y2_closed = ssm_ood_expected_y2(c, spec.sigma);
  out.metric(v + ".ood_y2", y2.mean()(0));
  out.metric(v + ".ood_y2_closed_form", y2_closed);
  out.metric(v + ".ood_y2_rel_err", std::abs(y2.mean()(0) - y2_closed) / y2_closed);
  out.metric(v + ".ood_y2_rel_se", y2.se()(0) / y2_closed);
  out.metric(v + ".linear_solution_ood_risk", lin.mean()(0));
  out.metric(v + ".linear_solution_risk_closed_form", ssm_linear_solution_risk(c, spec.sigma));
  // ID: E[x_d y] = c_d = gamma (Lemma I.3)
  const SsmBatch id = ssm_batch(spec, false, seed, 0, n_id);
  MomentSums xy(1);
  for (Eigen::Index i = 0; i < id.y.size(); ++i)
    xy.add(Eigen::VectorXd::Constant(1, id.X(i, d - 1) * id.y(i)));
  const double gamma = ssm_id_cross_moment(c);
  out.metric(v + ".id_xd_y", xy.mean()(0));
  out.metric(v + ".id_xd_y_abs_z", std::abs(xy.z(Eigen::VectorXd::Constant(1, gamma))(0)));
  out.data[v] = {{"acceptance_rate", rate},
                 {"acceptance_closed_form", p},
                 {"acceptance_se", binomial_se(p, proposals)},
                 {"proposals", proposals},
                 {"ood_y2", y2.mean()(0)},
                 {"ood_y2_se", y2.se()(0)},
                 {"ood_y2_closed_form", y2_closed},
                 {"id_xd_y", xy.mean()(0)},
                 {"id_xd_y_se", xy.se()(0)},
                 {"gamma", gamma}};
  // a few hundred accepted (u_d, u_{d+1}) points for the figure
  const Eigen::Index keep = std::min<Eigen::Index>(400, ood.U.rows());
  std::vector<double> ud(static_cast<std::size_t>(keep)), ud1(static_cast<std::size_t>(keep));
  for (Eigen::Index i = 0; i < keep; ++i) {
    ud[static_cast<std::size_t>(i)] = ood.U(i, d - 1);
    ud1[static_cast<std::size_t>(i)] = ood.U(i, d);
  }
  out.data[v]["ood_ud"] = ud;
  out.data[v]["ood_ud1"] = ud1;
}

Outcome run(const RunContext& ctx) {
  const ParamValues& p = ctx.params;
  const auto n_id = static_cast<std::size_t>(p.i("n_id"));
  const auto n_ood = static_cast<std::size_t>(p.i("n_ood"));
  Outcome out;
  const auto variants = p.strings("variants");
  for (std::size_t vi = 0; vi < variants.size(); ++vi) {
    const std::string& v = variants[vi];
    SsmSpec spec;
    spec.variant = parse_ssm_variant(v);
    spec.d = p.i32("d");
    spec.gamma = p.d("gamma");
    spec.sigma = p.d("sigma");
    const Eigen::VectorXd c = ssm_c(spec);
    const std::uint64_t seed = stream_seed(ctx.seed, "curse.e1.variant" + v);
    out.metric(v + ".ssm_max_abs_err", realisation_error(c, p.i32("ssm_draws"), seed));
    property_metrics(v, spec, c, out);
    ctx.progress((static_cast<double>(vi) + 0.2) / static_cast<double>(variants.size()), v);
    sampling_metrics(v, spec, c, n_id, n_ood, seed, out);
  }
  return out;
}

}  // namespace

std::vector<ExperimentKind> generator_experiments() {
  return {{"synth_curse_generator",
           "Curse SSM generator: realisation vs closed form, feature properties, OOD rejection, "
           "acceptance arccos(rho)/pi, E[y^2|OOD], E[x_d y] = gamma",
           {p_strings("variants", {"A", "B"}).describe("c presets (curse.md §1.5)"),
            p_int("d", 2, 1000).optional(8).describe("window length = state dimension"),
            p_real("gamma", 0, 0.999).optional(0.5).describe("variant B's <P_d, P_{d+1}>"),
            p_real("sigma", 0, 10).optional(0.01).describe("noise standard deviation"),
            p_int("ssm_draws", 1, 1e6).optional(1000).describe("h draws for SSM vs closed form"),
            p_int("n_id", 2, 1e8).describe("ID samples for E[x_d y]"),
            p_int("n_ood", 2, 1e8).describe("accepted OOD samples")},
           run,
           {at_least_when("d", kSsmVariantBMinDim, "variants", "B", kSsmVariantBWhy),
            // both sample sets are held at once: n x (d + 1) doubles and per-row counts
            fits_memory({"n_id", "n_ood", "d"}, [](const ParamValues& p) {
              return 8.0 * (p.number("n_id") + p.number("n_ood")) * (p.number("d") + 3);
            })}}};
}

}  // namespace attnlab::curse

// E10 (spec §5 E10, paper Sec 7.2): exploratory remedy toys, each a modification of the §2.1
// attention net trained on the ID (sign-consistent) data exactly like E3 (paired init, full-batch
// GD on the 1/2-sum loss, eta = eta_factor / lambda_max of the model's own NTK at init), and
// evaluated on the sign-inconsistent OOD set against the plain attention net, the residual linear
// model (least squares) and the zero predictor:
//   attn_gd     the §2.1 net itself (the E3 baseline at this m, n, T)
//   attn_adam   the §2.1 net trained with Adam instead of GD (non-lazy)
//   diff        differential attention (models/curse/diff_attention.h)
//   posbias     trainable positional logit bias per head (models/curse/posbias_attention.h)
//   patch_p     patches of length p with a learned value map (models/curse/patch_attention.h)
// Reported, not gated (the paper has no quantitative claim here).
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "analysis/ntk.h"
#include "core/error.h"
#include "core/optim.h"
#include "experiments/curse/common.h"
#include "experiments/curse/kinds.h"
#include "models/curse/diff_attention.h"
#include "models/curse/patch_attention.h"
#include "models/curse/posbias_attention.h"
#include "models/curse/residual_linear.h"

namespace attnlab::curse {
namespace {

// A uniform view of one model for the generic trainer below.
template <class P, class C>
struct Ops {
  std::function<Eigen::VectorXd(const P&, const Eigen::MatrixXd&, C&)> forward;
  std::function<void(const P&, const C&, const Eigen::VectorXd&, P&)> backward;
  std::function<Eigen::VectorXd(const P&, const Eigen::MatrixXd&)> predict;
  std::function<P(const P&)> zero_grads;
  // The trained parameter blocks of (params, grads); the first one is w (its movement is R).
  std::function<std::vector<ParamBlock<double>>(P&, P&)> trained;
};

// A parameter block over a whole Eigen vector or matrix and its gradient.
template <class M>
ParamBlock<double> block(const char* name, M& value, M& grad) {
  return {name, value.data(), grad.data(), static_cast<std::size_t>(value.size())};
}

Ops<AttnNetParams, AttnNetCache> attn_ops() {
  return {
      [](const AttnNetParams& p, const Eigen::MatrixXd& X, AttnNetCache& c) {
        return forward(p, X, c);
      },
      [](const AttnNetParams& p, const AttnNetCache& c, const Eigen::VectorXd& d,
         AttnNetParams& g) { backward(p, c, d, g); },
      [](const AttnNetParams& p, const Eigen::MatrixXd& X) { return predict(p, X); },
      [](const AttnNetParams& p) {
        return AttnNetParams{Eigen::VectorXd::Zero(p.width()), Eigen::VectorXd::Zero(p.width())};
      },
      [](AttnNetParams& p, AttnNetParams& g) { return std::vector{block("w", p.w, g.w)}; }};
}

Ops<DiffAttnParams, DiffAttnCache> diff_ops() {
  return {diff_attn_forward, diff_attn_backward, diff_attn_predict, diff_attn_zero_grads,
          [](DiffAttnParams& p, DiffAttnParams& g) {
            return std::vector{block("w", p.w, g.w), block("w2", p.w2, g.w2),
                               block("theta", p.theta, g.theta)};
          }};
}

Ops<PosBiasParams, PosBiasCache> posbias_ops() {
  return {posbias_forward, posbias_backward, posbias_predict, posbias_zero_grads,
          [](PosBiasParams& p, PosBiasParams& g) {
            return std::vector{block("w", p.w, g.w), block("B", p.B, g.B)};
          }};
}

Ops<PatchAttnParams, PatchAttnCache> patch_ops() {
  return {patch_attn_forward, patch_attn_backward, patch_attn_predict, patch_attn_zero_grads,
          [](PatchAttnParams& p, PatchAttnParams& g) {
            return std::vector{block("w", p.w, g.w), block("U", p.U, g.U)};
          }};
}

// lambda_max of the empirical NTK H = J J^T over the trained blocks at p; J (n, #params) is
// assembled row by row from backward with d_out = e_i (n backward calls, once per run).
template <class P, class C>
double ntk_lambda_max(const Ops<P, C>& ops, P p, const Eigen::MatrixXd& X) {
  C cache;
  ops.forward(p, X, cache);
  const Eigen::Index n = X.cols();
  P g0 = ops.zero_grads(p);
  std::size_t count = 0;
  for (const auto& b : ops.trained(p, g0)) count += b.size;
  Eigen::MatrixXd Jt(static_cast<Eigen::Index>(count), n);  // (#params, n)
  for (Eigen::Index i = 0; i < n; ++i) {
    P g = ops.zero_grads(p);
    ops.backward(p, cache, Eigen::VectorXd::Unit(n, i), g);
    Eigen::Index row = 0;
    for (const auto& b : ops.trained(p, g)) {
      const auto len = static_cast<Eigen::Index>(b.size);
      Jt.col(i).segment(row, len) = Eigen::Map<const Eigen::VectorXd>(b.grad, len);
      row += len;
    }
  }
  return ntk_eig(ntk_gram(Jt)).values.maxCoeff();
}

struct Fit {
  double eta = 0;         // GD step (0 for Adam)
  double loss_ratio = 0;  // L(T) / L(0)
  double R = 0;           // max_r |w_r(T) - w_r(0)|
};

// Trains p on (X, y) for `steps` full-batch steps on the 1/2-sum loss: GD with
// eta = eta_factor / lambda_max(H(0)) when adam_lr == 0, else Adam with that learning rate.
template <class P, class C>
Fit train(const Ops<P, C>& ops, P& p, const Eigen::MatrixXd& X, const Eigen::VectorXd& y, int steps,
          double eta_factor, double adam_lr, const std::string& name) {
  Fit fit;
  if (adam_lr == 0) fit.eta = eta_factor / ntk_lambda_max(ops, p, X);
  P g0 = ops.zero_grads(p);
  const Eigen::VectorXd w0 = Eigen::Map<const Eigen::VectorXd>(
      ops.trained(p, g0).front().value, static_cast<Eigen::Index>(ops.trained(p, g0).front().size));
  Adam<double> adam;
  C cache;
  double L0 = 0;
  for (int t = 0; t <= steps; ++t) {
    const Eigen::VectorXd F = ops.forward(p, X, cache);
    const double loss = half_sum_loss(F, y);
    if (!std::isfinite(loss))
      throw NumericError("curse E10 " + name + " step " + std::to_string(t) +
                         ": loss is not finite");
    if (t == 0) L0 = loss;
    if (t == steps) {
      fit.loss_ratio = loss / L0;
      break;
    }
    P g = ops.zero_grads(p);
    ops.backward(p, cache, F - y, g);  // dL/dF = F - y
    const auto blocks = ops.trained(p, g);
    if (adam_lr == 0)
      sgd_step(blocks, fit.eta);
    else
      adam.step(blocks, adam_lr);
  }
  const auto w = ops.trained(p, g0).front();
  fit.R = (Eigen::Map<const Eigen::VectorXd>(w.value, static_cast<Eigen::Index>(w.size)) - w0)
              .cwiseAbs()
              .maxCoeff();
  return fit;
}

struct SeedData {
  Data train, id, ood;
  Eigen::MatrixXd ood_xd0;  // the OOD inputs with x_d set to 0 (gating probe)
};

// Per-seed measurements of one model.
struct Eval {
  double ood = 0, id = 0, p_sign_y = 0, p_sign_xd = 0, xd0_max_abs = 0;
  Fit fit;
  double lambda = NAN;  // diff only: final lambda
};

template <class P, class C>
Eval train_and_eval(const Ops<P, C>& ops, P p, const SeedData& s, int steps, double eta_factor,
                    double adam_lr, const std::string& name) {
  Eval ev;
  ev.fit = train(ops, p, s.train.X, s.train.y, steps, eta_factor, adam_lr, name);
  const Eigen::VectorXd f_ood = ops.predict(p, s.ood.X);
  const Eigen::Index d = s.ood.X.rows();
  ev.ood = mse(f_ood, s.ood.y);
  ev.id = mse(ops.predict(p, s.id.X), s.id.y);
  ev.p_sign_y = sign_agreement(f_ood, s.ood.y);
  ev.p_sign_xd = sign_agreement(f_ood, s.ood.X.row(d - 1).transpose());
  ev.xd0_max_abs = ops.predict(p, s.ood_xd0).cwiseAbs().maxCoeff();
  if constexpr (std::is_same_v<P, DiffAttnParams>) ev.lambda = p.lambda();
  return ev;
}

struct ModelSeries {
  explicit ModelSeries(std::string model) : name(std::move(model)) {}
  std::string name;
  std::vector<double> ood, id, ratio, p_sign_y, p_sign_xd, xd0, R, eta, loss_ratio, lambda;
  void add(const Eval& e, double ood_lin) {
    ood.push_back(e.ood);
    id.push_back(e.id);
    ratio.push_back(e.ood / ood_lin);
    p_sign_y.push_back(e.p_sign_y);
    p_sign_xd.push_back(e.p_sign_xd);
    xd0.push_back(e.xd0_max_abs);
    R.push_back(e.fit.R);
    eta.push_back(e.fit.eta);
    loss_ratio.push_back(e.fit.loss_ratio);
    lambda.push_back(e.lambda);
  }
};

// Records one model's per-seed series of one variant as metrics and figure data.
void report(const ModelSeries& s, const std::string& v, Outcome& out, nlohmann::json& rows) {
  const std::string k = s.name + "_" + v;
  out.seeds("ood_mse_" + k, s.ood, Aggregate::Mean);
  out.seeds("id_mse_" + k, s.id, Aggregate::Mean);
  out.seeds("ood_over_lin_" + k, s.ratio, Aggregate::Mean);
  out.metric("p_ood_sign_y_" + k, mean(s.p_sign_y));
  out.metric("p_ood_sign_xd_" + k, mean(s.p_sign_xd));
  out.metric("xd0_max_abs_" + k, *std::max_element(s.xd0.begin(), s.xd0.end()));
  out.metric("R_" + k, median(s.R));
  out.metric("train_loss_ratio_" + k, mean(s.loss_ratio));
  nlohmann::json row = {{"variant", v},
                        {"model", s.name},
                        {"ood", s.ood},
                        {"id", s.id},
                        {"ratio", s.ratio},
                        {"p_sign_y", s.p_sign_y},
                        {"p_sign_xd", s.p_sign_xd},
                        {"R", s.R},
                        {"eta", s.eta},
                        {"loss_ratio", s.loss_ratio}};
  if (s.name == "diff") {
    out.metric("lambda_final_" + v, mean(s.lambda));
    row["lambda"] = s.lambda;
  }
  rows.push_back(row);
}

Outcome run_e10(const RunContext& ctx) {
  const ParamValues& P = ctx.params;
  const int m = P.i32("m"), steps = P.i32("steps"), seeds = P.i32("seeds");
  const double ef = P.d("eta_factor");
  Outcome out;
  nlohmann::json rows = nlohmann::json::array(), baselines = nlohmann::json::array();
  const auto variants = P.strings("variants");
  const auto patches = P.ints("patch_sizes");
  double done = 0;
  const double total = static_cast<double>(variants.size()) * seeds;
  for (const auto& v : variants) {
    SsmSpec spec;
    spec.variant = parse_ssm_variant(v);
    spec.d = P.i32("d");
    spec.gamma = P.d("gamma");
    spec.sigma = P.d("sigma");
    std::vector<ModelSeries> series;
    for (const char* name : {"attn_gd", "attn_adam", "diff", "posbias"}) series.emplace_back(name);
    for (auto p : patches) series.emplace_back("patch" + std::to_string(p));
    std::vector<double> lin, zero;
    for (int k = 0; k < seeds; ++k) {
      ctx.progress(done++ / total, v + " seed " + std::to_string(k));
      const std::uint64_t seed = stream_seed(ctx.seed, "replicate", static_cast<std::uint64_t>(k));
      // Same data and init streams as E3, so attn_gd is the E3 run at this (m, n, T).
      SeedData s{make_data(spec, false, seed, "train", static_cast<std::size_t>(P.i("n"))),
                 make_data(spec, false, seed, "test_id", static_cast<std::size_t>(P.i("n_test"))),
                 make_data(spec, true, seed, "test_ood", static_cast<std::size_t>(P.i("n_test"))),
                 {}};
      s.ood_xd0 = s.ood.X;
      s.ood_xd0.row(spec.d - 1).setZero();
      Rng init_rng = make_stream(seed, "curse.init");
      const AttnNetParams base = init_paired(m, 1.0, init_rng);
      const LinearParams lp = linear_least_squares(s.train.X, s.train.y);
      lin.push_back(mse(linear_forward(lp, s.ood.X), s.ood.y));
      zero.push_back(s.ood.y.squaredNorm() / static_cast<double>(s.ood.y.size()));

      series[0].add(train_and_eval(attn_ops(), base, s, steps, ef, 0.0, "attn_gd"), lin.back());
      series[1].add(train_and_eval(attn_ops(), base, s, steps, ef, P.d("adam_lr"), "attn_adam"),
                    lin.back());
      Rng w2_rng = make_stream(seed, "curse.e10.init.w2");
      series[2].add(
          train_and_eval(diff_ops(), diff_attn_init(base, 1.0, P.d("diff_lambda0"), w2_rng), s,
                         steps, ef, 0.0, "diff"),
          lin.back());
      series[3].add(
          train_and_eval(posbias_ops(), posbias_init(base, spec.d), s, steps, ef, 0.0, "posbias"),
          lin.back());
      for (std::size_t j = 0; j < patches.size(); ++j)
        series[4 + j].add(train_and_eval(patch_ops(), patch_attn_init(base, patches[j]), s, steps,
                                         ef, 0.0, series[4 + j].name),
                          lin.back());
    }
    out.seeds("ood_mse_linear_" + v, lin, Aggregate::Mean);
    out.seeds("ood_mse_zero_" + v, zero, Aggregate::Mean);
    const Eigen::VectorXd c = ssm_c(spec);
    baselines.push_back({{"variant", v},
                         {"linear", lin},
                         {"zero", zero},
                         {"zero_closed_form", ssm_ood_expected_y2(c, spec.sigma)},
                         {"lin_closed_form", ssm_linear_solution_risk(c, spec.sigma)}});
    for (const auto& s : series) report(s, v, out, rows);
  }
  ctx.progress(1.0, "done");
  out.data["rows"] = rows;
  out.data["baselines"] = baselines;
  out.data["m"] = m;
  out.data["n"] = P.i32("n");
  out.data["steps"] = steps;
  return out;
}

}  // namespace

std::vector<ExperimentKind> remedy_experiments() {
  return {{"curse_e10_remedies",
           "Remedy toys (differential attention, positional bias, patching, Adam) on the OOD task",
           {p_strings("variants", {"A", "B"})
                .describe("SSM task variants (synth/ssm.h): A, c_d = 7/8; B, abs(c) = 1"),
            p_int("m", 2, 65536).describe("heads (even: paired init)"),
            p_int("n", 4, 100000).describe("ID training points"),
            p_int("n_test", 10, 1000000).describe("ID and OOD test points"),
            p_int("steps", 1, 1000000).describe("full-batch steps (GD and Adam)"),
            p_int("seeds", 1, 100).describe("independent replicates per variant"),
            p_ints("patch_sizes", 1, 64).describe("patch lengths p (must divide d)"),
            p_real("adam_lr", 1e-8, 10).optional(0.05).describe("Adam learning rate (E3b's)"),
            p_real("diff_lambda0", 1e-3, 0.999).optional(0.5).describe("initial lambda of diff"),
            p_real("eta_factor", 1e-6, 2)
                .optional(0.5)
                .describe("GD eta = eta_factor / lambda_max(H(0))"),
            p_int("d", 2, 64).optional(8).describe("window length = state dimension"),
            p_real("gamma", 0, 0.999).optional(0.5).describe("variant B's <P_d, P_{d+1}>"),
            p_real("sigma", 0, 10).optional(0.01).describe("noise standard deviation")},
           run_e10,
           {even("m"), divides("patch_sizes", "d"), variant_b_dimension("d")}}};
}

}  // namespace attnlab::curse

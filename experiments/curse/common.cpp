#include "experiments/curse/common.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "analysis/ntk.h"
#include "core/rng.h"
#include "models/curse/residual_linear.h"

namespace attnlab::curse {

Data make_data(const SsmSpec& spec, bool ood, std::uint64_t seed, const std::string& name,
               std::size_t n) {
  const SsmBatch b = ssm_batch(spec, ood, stream_seed(seed, "curse.data." + name), 0, n);
  return {b.X.transpose(), b.y};
}

Constraint variant_b_dimension(std::string d_key) {
  return at_least_when(std::move(d_key), kSsmVariantBMinDim, "variants", "B", kSsmVariantBWhy);
}

namespace {

struct TestSet {
  Data data;
  Eigen::MatrixXd K;   // (n_test, n) test-train kernel at w(0)
  Eigen::VectorXd f0;  // (n_test) f(x, w(0))
};

TestSet make_test(const RunConfig& c, const AttnNetParams& p0, const Eigen::MatrixXd& Jt_train,
                  bool ood, const std::string& name) {
  TestSet s{make_data(c.spec, ood, c.seed, name, static_cast<std::size_t>(c.n_test)), {}, {}};
  s.f0 = predict(p0, s.data.X);
  if (c.ntk) s.K = ntk_cross(jacobian_t(p0, s.data.X), Jt_train);
  return s;
}

// OOD MSE / E[y^2] per quartile of |x_d| (increasing), and the bin edges.
void quartiles(const Data& ood, const Eigen::VectorXd& f, const Eigen::VectorXd& f_lin,
               RunRecord& rec) {
  const Eigen::Index n = ood.y.size(), d = ood.X.rows();
  std::vector<Eigen::Index> idx(static_cast<std::size_t>(n));
  std::iota(idx.begin(), idx.end(), Eigen::Index{0});
  std::stable_sort(idx.begin(), idx.end(), [&](Eigen::Index a, Eigen::Index b) {
    return std::abs(ood.X(d - 1, a)) < std::abs(ood.X(d - 1, b));
  });
  constexpr int kBins = 4;
  for (int q = 0; q < kBins; ++q) {
    const std::size_t lo = static_cast<std::size_t>(n) * static_cast<std::size_t>(q) / kBins;
    const std::size_t hi = static_cast<std::size_t>(n) * static_cast<std::size_t>(q + 1) / kBins;
    double e_attn = 0, e_lin = 0, y2 = 0;
    for (std::size_t j = lo; j < hi; ++j) {
      const Eigen::Index i = idx[j];
      e_attn += (f[i] - ood.y[i]) * (f[i] - ood.y[i]);
      e_lin += (f_lin[i] - ood.y[i]) * (f_lin[i] - ood.y[i]);
      y2 += ood.y[i] * ood.y[i];
    }
    const auto cnt = static_cast<double>(hi - lo);
    rec.quartile_ratio.push_back(e_attn / y2);
    rec.xd_bin_edges.push_back(std::abs(ood.X(d - 1, idx[hi - 1])));
    rec.xd_bin_mse_attn.push_back(e_attn / cnt);
    rec.xd_bin_mse_lin.push_back(e_lin / cnt);
    rec.xd_bin_mse_zero.push_back(y2 / cnt);
  }
}

}  // namespace

RunRecord run_attention(const RunConfig& c) {
  RunRecord rec;
  rec.config = c;
  const Data train = make_data(c.spec, false, c.seed, "train", static_cast<std::size_t>(c.n));
  Rng init_rng = make_stream(c.seed, "curse.init");
  const AttnNetParams p0 = init_paired(c.m, c.init_scale, init_rng);
  const Eigen::MatrixXd Jt0 = jacobian_t(p0, train.X);  // (m, n)
  const Eigen::MatrixXd H0 = ntk_gram(Jt0);
  const KernelEig eig = ntk_eig(H0);
  const KernelSpectrum spec0 = ntk_spectrum(eig.values);
  rec.lambda_max = spec0.lambda_max;
  rec.lambda_min = spec0.lambda_min;
  rec.effective_rank = spec0.effective_rank;
  rec.eta = c.eta_factor / rec.lambda_max;

  const TestSet id = make_test(c, p0, Jt0, false, "test_id");
  const TestSet ood = make_test(c, p0, Jt0, true, "test_ood");
  const Eigen::VectorXd F0 = predict(p0, train.X);
  const Eigen::VectorXd r0 = train.y - F0;
  const double L0 = half_sum_loss(F0, train.y);

  // Baselines: residual linear (least squares), zero predictor, t = infinity kernel regression.
  const LinearParams lin = linear_least_squares(train.X, train.y);
  const Eigen::VectorXd f_lin_ood = linear_forward(lin, ood.data.X);
  rec.ood_lin = mse(f_lin_ood, ood.data.y);
  rec.id_lin = mse(linear_forward(lin, id.data.X), id.data.y);
  rec.ood_zero = ood.data.y.squaredNorm() / static_cast<double>(c.n_test);
  rec.id_zero = id.data.y.squaredNorm() / static_cast<double>(c.n_test);
  const Eigen::VectorXd cvec = ssm_c(c.spec);
  rec.ood_zero_closed_form = ssm_ood_expected_y2(cvec, c.spec.sigma);
  rec.lin_closed_form = ssm_linear_solution_risk(cvec, c.spec.sigma);
  if (c.ntk)
    rec.ood_ntk_inf =
        mse(ood.f0 + ntk_ridge_predict(eig, ood.K, r0, ntk_default_ridge(H0)), ood.data.y);
  rec.p_ood_lin_sign_y = sign_agreement(f_lin_ood, ood.data.y);

  const int T = c.checkpoints.back();
  for (int t : c.log_times)
    if (t <= T) rec.log_times.push_back(t);
  AttnNetParams p = p0;
  std::size_t next_ckpt = 0, next_log = 0;
  train_gd(
      p, train.X, train.y, rec.eta, T,
      [&](int t, const AttnNetParams& pt, const Eigen::VectorXd& F, const Eigen::VectorXd& g) {
        if (next_log < rec.log_times.size() && rec.log_times[next_log] == t) {
          ++next_log;
          rec.loss_ratio_log.push_back(half_sum_loss(F, train.y) / L0);
          rec.drift_agree.push_back(sign_agreement(pt.w - p0.w, pt.a));
          // At t = T no gradient is passed; evaluate it from the same state.
          if (g.size() > 0) {
            rec.step_agree.push_back(sign_agreement(-g, pt.a));
          } else {
            AttnNetCache cache;
            AttnNetGrads gg{Eigen::VectorXd::Zero(pt.width()), Eigen::VectorXd::Zero(pt.width())};
            const Eigen::VectorXd Ft = forward(pt, train.X, cache);
            backward(pt, cache, Ft - train.y, gg);
            rec.step_agree.push_back(sign_agreement(-gg.w, pt.a));
          }
        }
        if (next_ckpt >= c.checkpoints.size() || c.checkpoints[next_ckpt] != t) return;
        ++next_ckpt;
        Checkpoint ck;
        ck.t = t;
        const Eigen::VectorXd f_ood = predict(pt, ood.data.X);
        ck.ood_attn = mse(f_ood, ood.data.y);
        ck.id_attn = mse(predict(pt, id.data.X), id.data.y);
        ck.R = (pt.w - p0.w).cwiseAbs().maxCoeff();
        ck.train_loss_ratio = half_sum_loss(F, train.y) / L0;
        if (c.ntk) {
          const double tt = static_cast<double>(t);
          const Eigen::VectorXd f_ntk = ood.f0 + ntk_gd_predict(eig, ood.K, r0, rec.eta, tt);
          ck.ood_ntk = mse(f_ntk, ood.data.y);
          ck.id_ntk = mse(id.f0 + ntk_gd_predict(eig, id.K, r0, rec.eta, tt), id.data.y);
          ck.net_vs_ntk_ood = (f_ood - f_ntk).norm() / f_ntk.norm();
          ck.kernel_change = ntk_relative_change(ntk_gram(jacobian_t(pt, train.X)), H0);
        }
        rec.checkpoints.push_back(ck);
        if (t != T) return;
        // Final-state diagnostics (E5 literal, Thm 5.3 mass, E8 sign test and quartiles).
        rec.sign_agree_T = sign_agreement(pt.w, pt.a);
        const Eigen::VectorXd mass = last_position_mass(pt, ood.data.X);
        double mn = 0, mp = 0, cn = 0, cp = 0;
        for (Eigen::Index r = 0; r < pt.width(); ++r) {
          if (pt.a[r] < 0) {
            mn += mass[r];
            cn += 1;
          } else {
            mp += mass[r];
            cp += 1;
          }
        }
        rec.mass_neg = mn / cn;
        rec.mass_pos = mp / cp;
        const Eigen::Index d = ood.data.X.rows();
        rec.p_ood_sign_xd = sign_agreement(f_ood, ood.data.X.row(d - 1).transpose());
        rec.p_ood_sign_y = sign_agreement(f_ood, ood.data.y);
        const Eigen::VectorXd f_id = predict(pt, id.data.X);
        rec.p_id_sign_y = sign_agreement(f_id, id.data.y);
        rec.corr_id_f_xd = correlation(f_id, id.data.X.row(d - 1).transpose());
        quartiles(ood.data, f_ood, f_lin_ood, rec);
      });
  return rec;
}

nlohmann::json to_json(const RunRecord& r) {
  nlohmann::json ck = nlohmann::json::array();
  for (const auto& c : r.checkpoints)
    ck.push_back({{"t", c.t},
                  {"ood_attn", c.ood_attn},
                  {"id_attn", c.id_attn},
                  {"ood_ntk", c.ood_ntk},
                  {"id_ntk", c.id_ntk},
                  {"net_vs_ntk_ood", c.net_vs_ntk_ood},
                  {"R", c.R},
                  {"kernel_change", c.kernel_change},
                  {"train_loss_ratio", c.train_loss_ratio}});
  return {{"variant", to_string(r.config.spec.variant)},
          {"m", r.config.m},
          {"n", r.config.n},
          {"seed", r.config.seed},
          {"init_scale", r.config.init_scale},
          {"eta", r.eta},
          {"lambda_max", r.lambda_max},
          {"lambda_min", r.lambda_min},
          {"effective_rank", r.effective_rank},
          {"checkpoints", ck},
          {"ood_lin", r.ood_lin},
          {"id_lin", r.id_lin},
          {"ood_zero", r.ood_zero},
          {"id_zero", r.id_zero},
          {"ood_ntk_inf", r.ood_ntk_inf},
          {"ood_zero_closed_form", r.ood_zero_closed_form},
          {"lin_closed_form", r.lin_closed_form},
          {"log_times", r.log_times},
          {"step_agree", r.step_agree},
          {"drift_agree", r.drift_agree},
          {"loss_ratio", r.loss_ratio_log},
          {"sign_agree_T", r.sign_agree_T},
          {"mass_neg", r.mass_neg},
          {"mass_pos", r.mass_pos},
          {"p_ood_sign_xd", r.p_ood_sign_xd},
          {"p_ood_sign_y", r.p_ood_sign_y},
          {"p_id_sign_y", r.p_id_sign_y},
          {"corr_id_f_xd", r.corr_id_f_xd},
          {"p_ood_lin_sign_y", r.p_ood_lin_sign_y},
          {"quartile_ratio", r.quartile_ratio},
          {"xd_bin_edges", r.xd_bin_edges},
          {"xd_bin_mse_attn", r.xd_bin_mse_attn},
          {"xd_bin_mse_lin", r.xd_bin_mse_lin},
          {"xd_bin_mse_zero", r.xd_bin_mse_zero}};
}

}  // namespace attnlab::curse

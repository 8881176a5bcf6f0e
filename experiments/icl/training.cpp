#include "experiments/icl/training.h"

#include <chrono>

#include "core/error.h"
#include "core/rng.h"
#include "core/train_loop.h"

namespace attnlab::icl {
namespace {

template <class P>
void init_normal(std::vector<P>& v, Rng& rng, double scale) {
  for (auto& x : v) x = static_cast<P>(scale * normal(rng));
}

template <class P>
std::vector<double> to_double(const std::vector<P>& v) {
  return std::vector<double>(v.begin(), v.end());
}

}  // namespace

TrainedModel train_model(const TrainSpec& spec, std::uint64_t seed,
                         const std::function<void(double, std::string_view)>& progress) {
  if (spec.model != "full" && spec.model != "diag" && spec.model != "gdpp")
    throw InputError("icl: unknown model '" + spec.model + "' (full, diag, gdpp)");
  const auto t0 = std::chrono::steady_clock::now();
  const int d = spec.data.d, n = spec.data.n, D = d + 1, N = n + 1;
  const bool is_full = spec.model == "full";
  Rng init = make_stream(seed, "icl.init");
  FullParams<float> fp;
  FullGrads<float> fg;
  DiagParams<float> dp;
  DiagGrads<float> dg;
  std::vector<ParamBlock<float>> blocks;
  if (is_full) {
    fp = FullParams<float>(spec.layers, spec.heads, D);
    fg = FullGrads<float>(spec.layers, spec.heads, D);
    init_normal(fp.P, init, spec.init_scale);
    init_normal(fp.Q, init, spec.init_scale);
    blocks = {{"P", fp.P.data(), fg.P.data(), fp.P.size()},
              {"Q", fp.Q.data(), fg.Q.data(), fp.Q.size()}};
  } else {
    const bool gdpp = spec.model == "gdpp";
    dp = DiagParams<float>(spec.layers, spec.heads, gdpp);
    dg = DiagGrads<float>(spec.layers, spec.heads, gdpp);
    for (auto* v : {&dp.px, &dp.py, &dp.qx, &dp.qy}) init_normal(*v, init, spec.init_scale);
    if (gdpp) std::fill(dp.qy.begin(), dp.qy.end(), 0.0f);
    blocks = {{"px", dp.px.data(), dg.px.data(), dp.px.size()},
              {"py", dp.py.data(), dg.py.data(), dp.py.size()},
              {"qx", dp.qx.data(), dg.qx.data(), dp.qx.size()}};
    if (!gdpp) blocks.push_back({"qy", dp.qy.data(), dg.qy.data(), dp.qy.size()});
  }
  TrainLoopOptions opt;
  opt.steps = spec.steps;
  opt.schedule.kind = spec.decay ? Schedule::Kind::StepDecay : Schedule::Kind::Constant;
  opt.schedule.base_lr = spec.lr;
  opt.schedule.milestones = {0.6, 0.9};
  opt.schedule.factors = {0.1, 0.01};
  opt.schedule.total_steps = spec.steps;
  opt.clip_norm = spec.clip;
  opt.log_every = std::max<std::int64_t>(1, spec.steps / 50);
  std::vector<float> Zf(spec.batch * static_cast<std::size_t>(D * N)), yf(spec.batch);
  const std::uint64_t data_seed = stream_seed(seed, "icl.train.data");
  auto step_fn = [&](std::int64_t s) {
    // The same numbers as regression_batch rounded to float, drawn 8 streams at a time.
    regression_batch_float(spec.data, data_seed, static_cast<std::uint64_t>(s) * spec.batch,
                           spec.batch, Zf.data(), yf.data());
    return is_full ? full_loss_grad(fp, n, spec.batch, Zf.data(), yf.data(), fg)
                   : diag_loss_grad(dp, d, n, spec.batch, Zf.data(), yf.data(), dg);
  };
  const auto result = train_loop<float>(blocks, opt, step_fn, progress);
  TrainedModel m;
  m.spec = spec;
  if (is_full) {
    m.full = FullParams<double>(spec.layers, spec.heads, D);
    m.full.P = to_double(fp.P);
    m.full.Q = to_double(fp.Q);
  } else {
    m.diag = DiagParams<double>(spec.layers, spec.heads, dp.gdpp);
    m.diag.px = to_double(dp.px);
    m.diag.py = to_double(dp.py);
    m.diag.qx = to_double(dp.qx);
    m.diag.qy = to_double(dp.qy);
  }
  const std::size_t tail = std::max<std::size_t>(1, result.losses.size() / 100);
  double s = 0;
  for (std::size_t i = result.losses.size() - tail; i < result.losses.size(); ++i)
    s += result.losses[i];
  m.final_train_loss = s / static_cast<double>(tail);
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

nlohmann::json omegas_json(const std::vector<Omega<double>>& omegas) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& w : omegas)
    j.push_back({{"xx", w.xx}, {"xy", w.xy}, {"yx", w.yx}, {"yy", w.yy}});
  return j;
}

LayerScores score_layers(const std::vector<double>& readouts, int L, const EvalSet& set) {
  LayerScores s;
  std::vector<double> pred(set.size());
  for (int l = 0; l < L; ++l) {
    for (std::size_t b = 0; b < set.size(); ++b)
      pred[b] = readouts[b * static_cast<std::size_t>(L) + static_cast<std::size_t>(l)];
    const auto pd = paired_difference(half_sq_errors(set, pred), set.oracle_loss);
    s.per_layer.push_back(pd.mean);
    if (l == L - 1) s.final_adj = pd;
  }
  return s;
}

std::vector<double> predict_layers_omegas(const std::vector<Omega<double>>& omegas,
                                          const EvalSet& set) {
  std::vector<double> out(set.size() * omegas.size());
  diag_predict(omegas, set.spec.d, set.spec.n, set.size(), set.tokens.data(), out.data());
  return out;
}

std::vector<double> predict_layers(const TrainedModel& m, const EvalSet& set) {
  if (m.spec.model != "full") return predict_layers_omegas(diag_omegas(m.diag), set);
  std::vector<double> out(set.size() * static_cast<std::size_t>(m.spec.layers));
  full_predict(m.full, set.spec.n, set.size(), set.tokens.data(), out.data());
  return out;
}

}  // namespace attnlab::icl

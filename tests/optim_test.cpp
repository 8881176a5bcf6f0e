// Protects core/optim: Adam/AdamW/SGD updates against hand-computed and torch values, clipping,
// the NaN guard's message, the schedules' documented formulas, and exact state round-trips.
#include "core/optim.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"

namespace attnlab {
namespace {

// Hand formulas are evaluated in a different operation order than the optimizer: a few ulps.
constexpr double kHandTol = 1e-15;
// torch 1.13 CPU kernels (vectorised) may round differently by an ulp or two per step.
constexpr double kTorchTol = 1e-14;

template <class T>
std::vector<ParamBlock<T>> one_block(std::vector<T>& value, std::vector<T>& grad,
                                     const std::string& name = "w") {
  return {ParamBlock<T>{name, value.data(), grad.data(), value.size()}};
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

TEST(OptimAdam, FirstStepIsLrTimesGradOverAbsGradPlusEps) {
  // t = 1: m_hat = g, v_hat = g^2, so the update is lr * g / (|g| + eps).
  std::vector<double> p{0.5, -1.5, 2.0}, g{0.3, -2e-3, 0.0};
  const std::vector<double> p0 = p;
  Adam<double> adam;
  adam.step(one_block(p, g), 0.01);
  EXPECT_EQ(adam.steps(), 1);
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double expected = p0[i] - 0.01 * g[i] / (std::abs(g[i]) + 1e-8);
    EXPECT_NEAR(p[i], expected, kHandTol * std::abs(expected)) << "i=" << i;
  }
}

TEST(OptimAdam, ThreeStepsMatchHandRecursionAndTorch) {
  // Gradients g_t = (0.1 t, -0.2, 0.3 / t), lr 0.01, default betas/eps.
  std::vector<double> p{0.5, -1.5, 2.0}, g(3);
  std::vector<double> hp = p, m(3, 0.0), v(3, 0.0);
  Adam<double> adam;
  for (int t = 1; t <= 3; ++t) {
    g = {0.1 * t, -0.2, 0.3 / t};
    adam.step(one_block(p, g), 0.01);
    for (std::size_t i = 0; i < 3; ++i) {  // textbook form: m_hat / (sqrt(v_hat) + eps)
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      const double m_hat = m[i] / (1 - std::pow(0.9, t));
      const double v_hat = v[i] / (1 - std::pow(0.999, t));
      hp[i] -= 0.01 * m_hat / (std::sqrt(v_hat) + 1e-8);
    }
  }
  // torch.optim.Adam([p], lr=0.01) in float64, same gradients.
  const std::vector<double> torch{0.47076816955448425, -1.4700000015000001, 1.9719466194871647};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(p[i], hp[i], 1e-12 * std::abs(hp[i])) << "i=" << i;  // eps placement: ~1e-14
    EXPECT_NEAR(p[i], torch[i], kTorchTol * std::abs(torch[i])) << "i=" << i;
  }
}

TEST(OptimAdamW, ThreeStepsMatchTorchAdamW) {
  std::vector<double> p{0.5, -1.5, 2.0}, g(3);
  Adam<double> adam(AdamConfig{0.9, 0.999, 1e-8, 0.1});
  for (int t = 1; t <= 3; ++t) {
    g = {0.1 * t, -0.2, 0.3 / t};
    adam.step(one_block(p, g), 0.01);
  }
  // torch.optim.AdamW([p], lr=0.01, weight_decay=0.1) in float64.
  const std::vector<double> torch{0.46929931087213311, -1.4655344899985006, 1.9659819292824934};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(p[i], torch[i], kTorchTol * std::abs(torch[i])) << "i=" << i;
  }
}

TEST(OptimAdamW, ZeroGradientOnlyDecaysDecoupled) {
  // g = 0 keeps m = v = 0, so only the decoupled decay acts: value *= 1 - lr * wd, per step.
  std::vector<double> p{1.0, -4.0}, g{0.0, 0.0};
  Adam<double> adam(AdamConfig{0.9, 0.999, 1e-8, 0.5});
  adam.step(one_block(p, g), 0.1);
  adam.step(one_block(p, g), 0.1);
  EXPECT_DOUBLE_EQ(p[0], 0.95 * 0.95);
  EXPECT_DOUBLE_EQ(p[1], -4.0 * 0.95 * 0.95);
}

TEST(OptimAdam, FloatFollowsDoubleClosely) {
  std::vector<float> pf{0.5f, -1.5f, 2.0f}, gf(3);
  std::vector<double> pd{0.5, -1.5, 2.0}, gd(3);
  Adam<float> af;
  Adam<double> ad;
  for (int t = 1; t <= 20; ++t) {
    gd = {0.125 * t, -0.25, 0.5 / t};
    for (std::size_t i = 0; i < 3; ++i) gf[i] = static_cast<float>(gd[i]);
    af.step(one_block(pf, gf), 0.01);
    ad.step(one_block(pd, gd), 0.01);
  }
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(pf[i], pd[i], 1e-5) << "i=" << i;
}

template <class T>
void check_state_round_trip_continues_bitwise() {
  Rng rng = make_stream(7, "optim_test");
  std::vector<T> a(50), ga(50);
  for (auto& x : a) x = static_cast<T>(normal(rng));
  std::vector<T> b = a, gb(50);
  Adam<T> oa(AdamConfig{0.8, 0.99, 1e-6, 0.01});
  const auto draw = [&](int s) {
    Rng gr = make_stream(7, "grad", static_cast<std::uint64_t>(s));
    for (std::size_t i = 0; i < ga.size(); ++i) ga[i] = gb[i] = static_cast<T>(normal(gr));
  };
  for (int s = 0; s < 5; ++s) {
    draw(s);
    oa.step(one_block(a, ga), 1e-2);
  }
  // Serialise through text, as a checkpoint does.
  const nlohmann::json state = nlohmann::json::parse(oa.state().dump(2));
  Adam<T> ob(AdamConfig{0.8, 0.99, 1e-6, 0.01});
  ob.load_state(state);
  b = a;
  EXPECT_EQ(ob.steps(), 5);
  EXPECT_EQ(ob.state(), oa.state());
  for (int s = 5; s < 12; ++s) {
    draw(s);
    oa.step(one_block(a, ga), 1e-2);
    ob.step(one_block(b, gb), 1e-2);
  }
  EXPECT_TRUE(same_bits(a, b));
}

TEST(OptimAdam, StateRoundTripContinuesBitwiseDouble) {
  check_state_round_trip_continues_bitwise<double>();
}
TEST(OptimAdam, StateRoundTripContinuesBitwiseFloat) {
  check_state_round_trip_continues_bitwise<float>();
}

TEST(OptimAdam, LoadStateRejectsOtherConfigAndScalar) {
  std::vector<double> p{1.0}, g{1.0};
  Adam<double> a;
  a.step(one_block(p, g), 0.1);
  Adam<double> other(AdamConfig{0.9, 0.99, 1e-8, 0});
  EXPECT_THROW(other.load_state(a.state()), InputError);
  Adam<float> f;
  EXPECT_THROW(f.load_state(a.state()), InputError);
  nlohmann::json bad = a.state();
  bad["blocks"][0]["m"] = "zz";
  Adam<double> c;
  EXPECT_THROW(c.load_state(bad), InputError);
}

TEST(OptimAdam, StepRejectsBlocksThatDoNotMatchState) {
  std::vector<double> p{1.0, 2.0}, g{1.0, 1.0}, q{1.0}, h{1.0};
  Adam<double> a;
  a.step(one_block(p, g), 0.1);
  EXPECT_THROW(a.step(one_block(q, h), 0.1), InputError);
}

TEST(OptimExact, FloatAndDoubleBitPatternsRoundTrip) {
  const std::vector<float> f{0.1f,
                             -0.0f,
                             1e-45f,
                             std::numeric_limits<float>::denorm_min(),
                             std::numeric_limits<float>::max(),
                             std::numeric_limits<float>::infinity(),
                             std::numeric_limits<float>::quiet_NaN(),
                             3.14159274f};
  std::vector<float> f2(f.size());
  decode_exact(encode_exact(f.data(), f.size()), f2.data(), f2.size());
  EXPECT_TRUE(same_bits(f, f2));
  EXPECT_EQ(encode_exact(&f[0], 1), "3dcccccd");  // IEEE single 0.1f

  Rng rng = make_stream(3, "exact");
  std::vector<double> d(1000);
  for (auto& x : d) x = normal(rng) * std::pow(10.0, uniform(rng, -300, 300));
  d.push_back(-0.0);
  d.push_back(std::numeric_limits<double>::denorm_min());
  std::vector<double> d2(d.size());
  const nlohmann::json j =
      nlohmann::json::parse(nlohmann::json(encode_exact(d.data(), d.size())).dump());
  decode_exact(j.get<std::string>(), d2.data(), d2.size());
  EXPECT_TRUE(same_bits(d, d2));
  EXPECT_THROW(decode_exact(std::string("3dcccccd"), d2.data(), 1), InputError);  // wrong width
  EXPECT_THROW(decode_exact(std::string("3dcccccG"), f2.data(), 1), InputError);
}

TEST(OptimExact, FloatThroughJsonNumberIsExact) {
  // The other exact route (plain JSON numbers): float -> double is exact and nlohmann dumps
  // doubles with round-trip precision, so float -> json text -> float returns the same bits.
  Rng rng = make_stream(4, "float_json");
  std::vector<float> f(2000);
  for (auto& x : f) x = static_cast<float>(normal(rng) * std::pow(10.0, uniform(rng, -40, 38)));
  f.push_back(std::numeric_limits<float>::denorm_min());
  const nlohmann::json j = nlohmann::json::parse(nlohmann::json(f).dump());
  const auto back = j.get<std::vector<float>>();
  EXPECT_TRUE(same_bits(f, back));
}

TEST(OptimSgd, StepIsValueMinusLrGrad) {
  std::vector<double> p{1.0, -2.0}, g{0.5, -4.0};
  sgd_step(one_block(p, g), 0.25);
  EXPECT_EQ(p[0], 0.875);
  EXPECT_EQ(p[1], -1.0);
}

TEST(OptimClip, RescalesToMaxNormAndReturnsNormBefore) {
  std::vector<double> p1{0, 0}, g1{3.0, 0.0}, p2{0}, g2{4.0};
  std::vector<ParamBlock<double>> blocks{{"a", p1.data(), g1.data(), 2},
                                         {"b", p2.data(), g2.data(), 1}};
  EXPECT_DOUBLE_EQ(clip_global_norm(blocks, 1.0), 5.0);
  EXPECT_DOUBLE_EQ(g1[0], 0.6);
  EXPECT_DOUBLE_EQ(g2[0], 0.8);
  EXPECT_DOUBLE_EQ(clip_global_norm(blocks, 2.0), 1.0);  // under the limit: unchanged
  EXPECT_DOUBLE_EQ(g1[0], 0.6);
  g2[0] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(clip_global_norm(blocks, 1.0)));
  EXPECT_DOUBLE_EQ(g1[0], 0.6);  // NaN norm: left for check_finite
  EXPECT_THROW(clip_global_norm(blocks, 0.0), InputError);
}

TEST(OptimCheckFinite, NamesStepBlockAndKind) {
  std::vector<double> p1{1, 2}, g1{0, 0}, p2{1, 2, 3}, g2{0, 0, 0};
  std::vector<ParamBlock<double>> blocks{{"embed", p1.data(), g1.data(), 2},
                                         {"W_q", p2.data(), g2.data(), 3}};
  EXPECT_NO_THROW(check_finite(blocks, 0));
  g2[2] = std::numeric_limits<double>::quiet_NaN();
  try {
    check_finite(blocks, 12);
    FAIL() << "NaN gradient not detected";
  } catch (const NumericError& e) {
    EXPECT_EQ(std::string(e.what()),
              "step 12: parameter block 'W_q' has a NaN/Inf gradient at index 2");
  }
  g2[2] = 0;
  p1[0] = -std::numeric_limits<double>::infinity();
  try {
    check_finite(blocks, 3);
    FAIL() << "Inf value not detected";
  } catch (const NumericError& e) {
    EXPECT_EQ(std::string(e.what()),
              "step 3: parameter block 'embed' has a NaN/Inf value at index 0");
  }
}

TEST(OptimSchedule, ConstantAndStepDecay) {
  Schedule c;
  c.base_lr = 0.5;
  EXPECT_EQ(c.lr(0), 0.5);
  EXPECT_EQ(c.lr(1000), 0.5);

  Schedule s;
  s.kind = Schedule::Kind::StepDecay;
  s.base_lr = 1.0;
  s.milestones = {0.6, 0.9};
  s.factors = {0.1, 0.01};
  s.total_steps = 100;
  EXPECT_EQ(s.lr(0), 1.0);
  EXPECT_EQ(s.lr(59), 1.0);
  EXPECT_EQ(s.lr(60), 0.1);
  EXPECT_EQ(s.lr(89), 0.1);
  EXPECT_EQ(s.lr(90), 0.01);
  EXPECT_EQ(s.lr(99), 0.01);
  s.total_steps = 10;  // 0.7 * 10 is not exactly 7 in binary: rounding puts the milestone at 7
  s.milestones = {0.7, 0.9};
  EXPECT_EQ(s.lr(6), 1.0);
  EXPECT_EQ(s.lr(7), 0.1);
}

TEST(OptimSchedule, WarmupLinearMatchesTransformersLinearScheduleWithWarmup) {
  Schedule w;
  w.kind = Schedule::Kind::WarmupLinear;
  w.base_lr = 1.0;
  w.warmup_steps = 3;
  w.total_steps = 10;
  // transformers.get_linear_schedule_with_warmup(W=3, N=10) multipliers, from Python.
  const std::vector<double> hf{0,
                               0.33333333333333331,
                               0.66666666666666663,
                               1,
                               0.8571428571428571,
                               0.7142857142857143,
                               0.5714285714285714,
                               0.42857142857142855,
                               0.2857142857142857,
                               0.14285714285714285};
  for (std::int64_t s = 0; s < 10; ++s) {
    EXPECT_NEAR(w.lr(s), hf[static_cast<std::size_t>(s)], 1e-15) << "step " << s;
  }
  EXPECT_EQ(w.lr(10), 0.0);
  EXPECT_EQ(w.lr(50), 0.0);  // clamped at final_lr past the end

  w.base_lr = 2.0;
  w.warmup_start = 0.5;
  w.final_lr = 0.2;
  w.warmup_steps = 4;
  w.total_steps = 13;
  EXPECT_DOUBLE_EQ(w.lr(0), 1.0);   // warmup_start * base
  EXPECT_DOUBLE_EQ(w.lr(2), 1.5);   // halfway up
  EXPECT_DOUBLE_EQ(w.lr(4), 2.0);   // base at s = W
  EXPECT_DOUBLE_EQ(w.lr(7), 1.4);   // 2 + (0.2 - 2) * 3/9
  EXPECT_DOUBLE_EQ(w.lr(13), 0.2);  // final at s = N
}

TEST(OptimSchedule, OneCycleLinearMatchesTorch) {
  // torch 1.13 OneCycleLR(max_lr=6e-4, pct_start=0.05, div_factor=10, anneal_strategy='linear',
  // epochs=101, steps_per_epoch=7): the lr of the s-th optimizer step, printed from Python
  // (SAMoVAR's real-data schedule, at 7 batches per epoch).
  Schedule o;
  o.kind = Schedule::Kind::OneCycleLinear;
  o.base_lr = 6e-4;
  o.pct_start = 0.05;
  o.div_factor = 10;
  o.total_steps = 101 * 7;
  const std::pair<std::int64_t, double> torch[] = {
      {0, 5.9999999999999995e-05},  {1, 7.572052401746724e-05},  {17, 0.0003272489082969432},
      {33, 0.000578777292576419},   {34, 0.0005944978165938863}, {35, 0.0005994193462368792},
      {36, 0.0005985260327551552},  {100, 0.000541353969924812}, {400, 0.0002733599254075783},
      {705, 8.993134817241464e-07}, {706, 5.999999999986051e-09}};
  for (const auto& [step, lr] : torch) EXPECT_NEAR(o.lr(step), lr, 1e-18) << "step " << step;
  // Fewer steps than 1 / pct_start: torch has no warm-up step (OneCycleLR(max_lr=1,
  // pct_start=0.05, div_factor=10, epochs=3, steps_per_epoch=5), from Python).
  o.base_lr = 1;
  o.total_steps = 15;
  EXPECT_NEAR(o.lr(0), 0.9824563157894737, 1e-15);
  EXPECT_NEAR(o.lr(14), 9.99999999995449e-06, 1e-15);
  o.total_steps = 20;  // pct_start * N = 1: torch divides by zero
  EXPECT_THROW(o.lr(0), InputError);
}

TEST(OptimSchedule, RejectsInconsistentSchedules) {
  Schedule s;
  s.kind = Schedule::Kind::StepDecay;
  s.milestones = {0.5};
  EXPECT_THROW(s.lr(0), InputError);  // no factor
  s.factors = {0.1};
  EXPECT_NO_THROW(s.lr(0));
  s.milestones = {1.5};
  EXPECT_THROW(s.lr(0), InputError);
  Schedule w;
  w.kind = Schedule::Kind::WarmupLinear;
  w.warmup_steps = 10;
  w.total_steps = 10;
  EXPECT_THROW(w.lr(0), InputError);
  EXPECT_THROW(Schedule{}.lr(-1), InputError);
}

}  // namespace
}  // namespace attnlab
